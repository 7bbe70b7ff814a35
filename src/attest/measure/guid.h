// EFI GUIDs as they appear in firmware images: the first three fields little-endian, the last
// eight bytes as written (UEFI 2.10, Appendix A "GUID and Time Formats").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "cloister/common/bytes.h"

namespace cloister::snp_measure {

using Guid = std::array<std::uint8_t, 16>;

namespace detail {
constexpr std::uint8_t hex_nibble(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
  throw "bad hex digit in GUID literal";  // constexpr-only: a bad literal fails to compile
}
constexpr std::uint8_t hex_byte(const char* s) {
  return static_cast<std::uint8_t>(hex_nibble(s[0]) << 4 | hex_nibble(s[1]));
}
}  // namespace detail

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" -> on-disk byte order. consteval: only for literals.
consteval Guid guid(const char (&text)[37]) {
  if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') throw "bad GUID literal";
  Guid g{};
  // Data1 (4 bytes), Data2 (2), Data3 (2) are stored little-endian.
  for (int i = 0; i < 4; ++i) g[static_cast<std::size_t>(i)] = detail::hex_byte(text + 6 - 2 * i);
  for (int i = 0; i < 2; ++i) g[static_cast<std::size_t>(4 + i)] = detail::hex_byte(text + 11 - 2 * i);
  for (int i = 0; i < 2; ++i) g[static_cast<std::size_t>(6 + i)] = detail::hex_byte(text + 16 - 2 * i);
  // Data4 (8 bytes) is a byte array.
  g[8] = detail::hex_byte(text + 19);
  g[9] = detail::hex_byte(text + 21);
  for (int i = 0; i < 6; ++i) g[static_cast<std::size_t>(10 + i)] = detail::hex_byte(text + 24 + 2 * i);
  return g;
}

// Canonical lower-case text form, for messages.
std::string guid_to_string(ByteView on_disk);

}  // namespace cloister::snp_measure
