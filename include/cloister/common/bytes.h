// Byte buffers and views used across libraries.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace cloister {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // same object, viewed as bytes
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};  // same object, viewed as chars
}

}  // namespace cloister
