// One-shot message digests (OpenSSL EVP underneath).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister {

using Sha256 = std::array<std::uint8_t, 32>;
using Sha384 = std::array<std::uint8_t, 48>;
using Sha512 = std::array<std::uint8_t, 64>;

Sha256 sha256(ByteView data);
Sha384 sha384(ByteView data);
Sha512 sha512(ByteView data);

// Any digest OpenSSL knows by name ("sha1", "sha256", "md5", ...).
Result<Bytes> digest(std::string_view algorithm, ByteView data);

}  // namespace cloister
