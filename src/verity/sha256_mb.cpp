// SHA-256 per FIPS 180-4 (§4.1.2 functions, §4.2.2 constants, §5.1.1 padding, §5.3.3 initial
// value, §6.2.2 computation), evaluated for eight messages at once, one message per 32-bit lane.
#include "sha256_mb.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>

namespace cloister::verity::detail {

namespace {

constexpr std::uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t kH0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

}  // namespace

// AVX2: rotations are shift-shift-or, the boolean functions plain and/xor.
namespace avx2 {
#define CLOISTER_MB_TARGET __attribute__((target("avx2")))
#define CLOISTER_MB_FN __attribute__((target("avx2"), always_inline)) inline
template <int N>
CLOISTER_MB_FN __m256i rotr(__m256i x) {
  return _mm256_or_si256(_mm256_srli_epi32(x, N), _mm256_slli_epi32(x, 32 - N));
}
CLOISTER_MB_FN __m256i x3(__m256i a, __m256i b, __m256i c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
CLOISTER_MB_FN __m256i ch(__m256i e, __m256i f, __m256i g) {
  return _mm256_xor_si256(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g));
}
CLOISTER_MB_FN __m256i maj(__m256i a, __m256i b, __m256i c) {
  return _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(c, _mm256_or_si256(a, b)));
}
#include "sha256_mb_kernel.inc"
#undef CLOISTER_MB_FN
#undef CLOISTER_MB_TARGET
}  // namespace avx2

// AVX-512VL on 256-bit registers (no frequency penalty of 512-bit ones): one-instruction
// rotations (vprord) and three-input boolean functions (vpternlogd; the immediate is the truth
// table over a=0xf0, b=0xcc, c=0xaa).
namespace avx512vl {
#define CLOISTER_MB_TARGET __attribute__((target("avx2,avx512f,avx512vl")))
#define CLOISTER_MB_FN __attribute__((target("avx2,avx512f,avx512vl"), always_inline)) inline
template <int N>
CLOISTER_MB_FN __m256i rotr(__m256i x) {
  return _mm256_ror_epi32(x, N);
}
CLOISTER_MB_FN __m256i x3(__m256i a, __m256i b, __m256i c) { return _mm256_ternarylogic_epi32(a, b, c, 0x96); }
CLOISTER_MB_FN __m256i ch(__m256i e, __m256i f, __m256i g) { return _mm256_ternarylogic_epi32(e, f, g, 0xca); }
CLOISTER_MB_FN __m256i maj(__m256i a, __m256i b, __m256i c) { return _mm256_ternarylogic_epi32(a, b, c, 0xe8); }
#include "sha256_mb_kernel.inc"
#undef CLOISTER_MB_FN
#undef CLOISTER_MB_TARGET
}  // namespace avx512vl

namespace {
enum class Isa { none, avx2, avx512vl };

Isa detect() {
  const char* knob = std::getenv("CLOISTER_SHA256_MB");
  if (knob && std::strcmp(knob, "0") == 0) return Isa::none;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2")) return Isa::none;
  if (knob && std::strcmp(knob, "avx2") == 0) return Isa::avx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return Isa::avx512vl;
  return Isa::avx2;
}

Isa isa() {
  static const Isa value = detect();
  return value;
}
}  // namespace

bool sha256_x8_available() noexcept { return isa() != Isa::none; }

void sha256_x8(ByteView salt, const std::uint8_t* const msg[kSha256Lanes], std::size_t len,
               std::uint8_t* const out[kSha256Lanes]) noexcept {
  if (isa() == Isa::avx512vl) {
    avx512vl::sha256_x8(salt, msg, len, out);
  } else {
    avx2::sha256_x8(salt, msg, len, out);
  }
}

}  // namespace cloister::verity::detail
