// Little-endian loads and stores for wire formats (all SEV structures are little-endian).
#pragma once

#include <cstdint>
#include <span>

#include "cloister/common/bytes.h"

namespace cloister::snp_measure {

inline std::uint16_t load_le16(ByteView b) { return static_cast<std::uint16_t>(b[0] | b[1] << 8); }
inline std::uint32_t load_le32(ByteView b) {
  return std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 | std::uint32_t{b[2]} << 16 | std::uint32_t{b[3]} << 24;
}
inline void store_le16(std::span<std::uint8_t> b, std::uint16_t v) {
  b[0] = static_cast<std::uint8_t>(v);
  b[1] = static_cast<std::uint8_t>(v >> 8);
}

}  // namespace cloister::snp_measure
