// Base64 with Go's encoding/base64 behaviour, shared by the encoding, crypto and JWT families.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace cloister::rego::builtins {

constexpr std::string_view kStdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

inline std::string b64_encode(std::string_view in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 3 <= in.size(); i += 3) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  std::size_t rest = in.size() - i;
  if (rest) {
    unsigned v = at(i) << 16;
    if (rest == 2) v |= at(i + 1) << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

// Go's encoding/base64 decoder with padding required (StdEncoding / URLEncoding, not Strict):
// CR and LF are skipped, errors name the offending input byte offset as Go's CorruptInputError.
inline bool b64_decode(std::string_view src, std::string_view alphabet, std::string& out, std::size_t& bad) {
  std::array<int, 256> map;
  map.fill(-1);
  for (std::size_t k = 0; k < alphabet.size(); ++k) map[static_cast<unsigned char>(alphabet[k])] = static_cast<int>(k);
  std::size_t si = 0;
  const std::size_t n = src.size();
  auto fail = [&](std::size_t at) {
    bad = at;
    return false;
  };
  while (si < n) {
    int dbuf[4] = {0, 0, 0, 0};
    int dlen = 4;
    bool end = false;
    for (int j = 0; j < 4; ++j) {
      if (si == n) {
        if (j == 0) return true;
        return fail(si - static_cast<std::size_t>(j));
      }
      unsigned char in = static_cast<unsigned char>(src[si++]);
      if (map[in] >= 0) {
        dbuf[j] = map[in];
        continue;
      }
      if (in == '\n' || in == '\r') {
        --j;
        continue;
      }
      if (in != '=') return fail(si - 1);
      if (j < 2) return fail(si - 1);
      if (j == 2) {
        while (si < n && (src[si] == '\n' || src[si] == '\r')) ++si;
        if (si == n) return fail(n);
        if (src[si] != '=') return fail(si - 1);
        ++si;
      }
      while (si < n && (src[si] == '\n' || src[si] == '\r')) ++si;
      if (si < n) return fail(si);
      dlen = j;
      end = true;
      break;
    }
    unsigned v = (static_cast<unsigned>(dbuf[0]) << 18) | (static_cast<unsigned>(dbuf[1]) << 12) |
                 (static_cast<unsigned>(dbuf[2]) << 6) | static_cast<unsigned>(dbuf[3]);
    out.push_back(static_cast<char>((v >> 16) & 0xFF));
    if (dlen >= 3) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (dlen == 4) out.push_back(static_cast<char>(v & 0xFF));
    if (end) return true;
  }
  return true;
}


// Unpadded base64url (JWS, JWK: RFC 7515 §2).
inline std::string b64url_nopad(std::string_view in) { return b64_encode(in, kUrlAlphabet, false); }

// Decodes unpadded or padded base64url; false on bad input.
inline bool b64url_decode_any(std::string s, std::string& out) {
  if (s.empty() || s.back() != '=') {
    switch (s.size() % 4) {
      case 0: break;
      case 2: s += "=="; break;
      case 3: s += "="; break;
      default: return false;
    }
  }
  std::size_t bad = 0;
  return b64_decode(s, kUrlAlphabet, out, bad);
}

}  // namespace cloister::rego::builtins
