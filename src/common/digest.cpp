#include "cloister/common/digest.h"

#include <string>

#include "cloister/common/openssl.h"

namespace cloister {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> fixed_digest(const EVP_MD* md, ByteView data) {
  std::array<std::uint8_t, N> out{};
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure; an all-zero digest would then be caught by any
  // comparison, but we treat it as fatal instead of returning a wrong value.
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != N) std::abort();
  return out;
}

}  // namespace

Sha256 sha256(ByteView data) { return fixed_digest<32>(EVP_sha256(), data); }
Sha384 sha384(ByteView data) { return fixed_digest<48>(EVP_sha384(), data); }
Sha512 sha512(ByteView data) { return fixed_digest<64>(EVP_sha512(), data); }

Result<Bytes> digest(std::string_view algorithm, ByteView data) {
  ossl::EvpMd md(EVP_MD_fetch(nullptr, std::string(algorithm).c_str(), nullptr));
  if (!md) return forward_error(ossl::error(Errc::unsupported, "unknown digest '" + std::string(algorithm) + "'"));
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md.get())));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md.get(), nullptr) != 1) {
    return forward_error(ossl::error(Errc::internal, "digest failed"));
  }
  out.resize(len);
  return out;
}

}  // namespace cloister
