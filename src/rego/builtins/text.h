// UTF-8 helpers shared by the string-handling builtin families. Go (and so OPA) treats a string
// as bytes and decodes runes on demand: an invalid byte decodes as U+FFFD with width 1, which
// is what these helpers do too, so rune indices match OPA's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cloister::rego::builtins::text {

inline constexpr char32_t kReplacement = 0xFFFD;

struct Decoded {
  char32_t rune;
  std::size_t width;
};

// Decodes the rune starting at s[i] (i < s.size()).
inline Decoded decode_rune(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return {c, 1};
  std::size_t n = 0;
  char32_t r = 0;
  char32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, r = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, r = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, r = c & 0x07, min = 0x10000;
  } else {
    return {kReplacement, 1};
  }
  if (i + n > s.size()) return {kReplacement, 1};
  for (std::size_t k = 1; k < n; ++k) {
    unsigned char cc = b(i + k);
    if ((cc & 0xC0) != 0x80) return {kReplacement, 1};
    r = (r << 6) | (cc & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return {kReplacement, 1};
  return {r, n};
}

inline void append_rune(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacement;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

inline std::vector<char32_t> runes(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto d = decode_rune(s, i);
    out.push_back(d.rune);
    i += d.width;
  }
  return out;
}

inline std::size_t rune_count(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) i += decode_rune(s, i).width;
  return n;
}

inline bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto d = decode_rune(s, i);
    if (d.rune == kReplacement && d.width == 1) return false;
    i += d.width;
  }
  return true;
}

// Go's strconv.Quote: printable runes as they are, the C escapes, other control bytes and
// invalid UTF-8 bytes as \xHH. OPA's sprintf %q and gqlparser's messages quote this way.
inline std::string go_quote(std::string_view s) {
  std::string out = "\"";
  static const char* hex = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size();) {
    auto d = decode_rune(s, i);
    char32_t r = d.rune;
    if (d.width == 1 && r == kReplacement) {
      out += "\\x";
      out.push_back(hex[static_cast<unsigned char>(s[i]) >> 4]);
      out.push_back(hex[static_cast<unsigned char>(s[i]) & 15]);
    } else if (r == '"' || r == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r));
    } else if (r == '\n') {
      out += "\\n";
    } else if (r == '\t') {
      out += "\\t";
    } else if (r == '\r') {
      out += "\\r";
    } else if (r == '\a') {
      out += "\\a";
    } else if (r == '\b') {
      out += "\\b";
    } else if (r == '\f') {
      out += "\\f";
    } else if (r == '\v') {
      out += "\\v";
    } else if (r < 0x20 || r == 0x7F) {
      out += "\\x";
      out.push_back(hex[r >> 4]);
      out.push_back(hex[r & 15]);
    } else {
      out.append(s.substr(i, d.width));
    }
    i += d.width;
  }
  out += "\"";
  return out;
}

}  // namespace cloister::rego::builtins::text
