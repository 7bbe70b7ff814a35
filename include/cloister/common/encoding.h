// Text encodings of binary data. base64 is OpenSSL's; hex is table-driven.
#pragma once

#include <string>
#include <string_view>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister {

std::string hex_encode(ByteView data);  // lower-case
// Accepts upper and lower case; rejects odd length and non-hex characters (naming the offset).
Result<Bytes> hex_decode(std::string_view text);

std::string base64_encode(ByteView data);  // RFC 4648 §4, padded
// Strict: padding required, no whitespace, no characters outside the alphabet.
Result<Bytes> base64_decode(std::string_view text);

std::string base64url_encode(ByteView data, bool pad = false);  // RFC 4648 §5
// Accepts input with or without '=' padding.
Result<Bytes> base64url_decode(std::string_view text);

}  // namespace cloister
