// Internal: multi-buffer SHA-256. A dm-verity tree hashes many independent, equal-length messages
// (salt || block), which is exactly the shape SIMD lanes want: eight messages advance through the
// FIPS 180-4 compression function side by side in AVX2 registers, several times the throughput of
// hashing them one after another on the same core.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cloister/common/bytes.h"

namespace cloister::verity::detail {

inline constexpr std::size_t kSha256Lanes = 8;

// True when this CPU has AVX2 and CLOISTER_SHA256_MB is not "0". The environment knob exists for
// benchmarks and for ruling the SIMD path out when debugging: "0" disables it, "avx2" skips the
// AVX-512VL variant.
bool sha256_x8_available() noexcept;

// out[i] = SHA-256(salt || msg[i]) for i < 8; every msg[i] is `len` bytes. Requires
// sha256_x8_available().
void sha256_x8(ByteView salt, const std::uint8_t* const msg[kSha256Lanes], std::size_t len,
               std::uint8_t* const out[kSha256Lanes]) noexcept;

}  // namespace cloister::verity::detail
