#include "cloister/common/encoding.h"

#include <array>
#include <string>

#include <openssl/evp.h>

namespace cloister {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

constexpr std::array<std::int8_t, 256> make_hex_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<std::int8_t>(i);
  for (int i = 0; i < 6; ++i) {
    t['a' + i] = static_cast<std::int8_t>(10 + i);
    t['A' + i] = static_cast<std::int8_t>(10 + i);
  }
  return t;
}
constexpr auto kHexTable = make_hex_table();

bool is_base64_char(char c, bool url) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return url ? (c == '-' || c == '_') : (c == '+' || c == '/');
}

// Decodes canonical padded standard base64 with OpenSSL after our own strict alphabet check
// (EVP_DecodeBlock alone accepts whitespace and does not report padding).
Result<Bytes> decode_padded_std(std::string_view text) {
  if (text.size() % 4 != 0) {
    return make_error(Errc::parse, "base64: length " + std::to_string(text.size()) + " is not a multiple of 4");
  }
  std::size_t pad = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return make_error(Errc::parse, "base64: '=' before the end at offset " + std::to_string(i));
      ++pad;
      continue;
    }
    if (pad != 0 || !is_base64_char(c, false)) {
      return make_error(Errc::parse, "base64: invalid character at offset " + std::to_string(i));
    }
  }
  Bytes out(text.size() / 4 * 3);
  if (text.empty()) return out;
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return make_error(Errc::parse, "base64: invalid input");
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace

std::string hex_encode(ByteView data) {
  std::string out(data.size() * 2, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = kHexDigits[data[i] >> 4];
    out[2 * i + 1] = kHexDigits[data[i] & 0xF];
  }
  return out;
}

Result<Bytes> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return make_error(Errc::parse, "hex: odd length " + std::to_string(text.size()));
  }
  Bytes out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto hi = kHexTable[static_cast<unsigned char>(text[2 * i])];
    auto lo = kHexTable[static_cast<unsigned char>(text[2 * i + 1])];
    if (hi < 0 || lo < 0) {
      std::size_t at = hi < 0 ? 2 * i : 2 * i + 1;
      return make_error(Errc::parse, "hex: invalid character at offset " + std::to_string(at));
    }
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string base64_encode(ByteView data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  if (data.empty()) return out;
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<Bytes> base64_decode(std::string_view text) { return decode_padded_std(text); }

std::string base64url_encode(ByteView data, bool pad) {
  std::string out = base64_encode(data);
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  if (!pad) {
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

Result<Bytes> base64url_decode(std::string_view text) {
  std::string std_text;
  std_text.reserve(text.size() + 3);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' || c == '/') {
      return make_error(Errc::parse, "base64url: invalid character at offset " + std::to_string(i));
    }
    std_text.push_back(c == '-' ? '+' : c == '_' ? '/' : c);
  }
  if (std_text.size() % 4 == 1) return make_error(Errc::parse, "base64url: impossible length " + std::to_string(text.size()));
  while (std_text.size() % 4 != 0) std_text.push_back('=');
  return decode_padded_std(std_text);
}

}  // namespace cloister
