// HMAC shared by the crypto and JWT families.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <optional>
#include <string>
#include <string_view>

namespace cloister::rego::builtins {

// HMAC with the named digest ("sha256", ...); nullopt if the digest is unknown.
inline std::optional<std::string> hmac_raw(const char* digest_name, std::string_view key, std::string_view msg) {
  const EVP_MD* md = EVP_get_digestbyname(digest_name);
  if (!md) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
            msg.size(), out, &len))
    return std::nullopt;
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace cloister::rego::builtins
