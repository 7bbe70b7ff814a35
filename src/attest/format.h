// Small formatting helpers shared by the report dump, the claims and the evidence writer.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

#include "cloister/common/encoding.h"

namespace cloister::attest::fmt {

inline std::string hex_u64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

}  // namespace cloister::attest::fmt
