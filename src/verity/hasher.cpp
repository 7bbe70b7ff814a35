#include "hasher.h"

#include "sha256_mb.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <thread>

namespace cloister::verity::detail {

namespace {
const char* openssl_name(HashAlgorithm a) {
  switch (a) {
    case HashAlgorithm::sha1: return "SHA1";
    case HashAlgorithm::sha256: return "SHA256";
    case HashAlgorithm::sha512: return "SHA512";
  }
  return "SHA256";
}
}  // namespace

Result<BlockHasher> BlockHasher::create(HashAlgorithm algorithm, ByteView salt) {
  // An explicit fetch avoids OpenSSL 3's implicit provider lookup on every init.
  ossl::EvpMd md(EVP_MD_fetch(nullptr, openssl_name(algorithm), nullptr));
  if (!md) return forward_error(ossl::error(Errc::internal, "EVP_MD_fetch"));
  ossl::EvpMdCtx salted(EVP_MD_CTX_new());
  ossl::EvpMdCtx work(EVP_MD_CTX_new());
  if (!salted || !work) return forward_error(ossl::error(Errc::internal, "EVP_MD_CTX_new"));
  if (EVP_DigestInit_ex(salted.get(), md.get(), nullptr) != 1 ||
      EVP_DigestUpdate(salted.get(), salt.data(), salt.size()) != 1) {
    return forward_error(ossl::error(Errc::internal, "salted digest init"));
  }
  auto size = static_cast<std::size_t>(EVP_MD_get_size(md.get()));
  return BlockHasher(algorithm, Bytes(salt.begin(), salt.end()), std::move(md), std::move(salted), std::move(work), size);
}

bool BlockHasher::hash(ByteView block, std::uint8_t* out) {
  return EVP_MD_CTX_copy_ex(work_.get(), salted_.get()) == 1 &&
         EVP_DigestUpdate(work_.get(), block.data(), block.size()) == 1 &&
         EVP_DigestFinal_ex(work_.get(), out, nullptr) == 1;
}

bool BlockHasher::hash_many(const std::uint8_t* blocks, std::size_t block_size, std::size_t count, std::uint8_t* out,
                            std::size_t stride) {
  std::size_t i = 0;
  if (algorithm_ == HashAlgorithm::sha256 && count >= kSha256Lanes && sha256_x8_available()) {
    for (; i + kSha256Lanes <= count; i += kSha256Lanes) {
      const std::uint8_t* msg[kSha256Lanes];
      std::uint8_t* dst[kSha256Lanes];
      for (std::size_t j = 0; j < kSha256Lanes; ++j) {
        msg[j] = blocks + (i + j) * block_size;
        dst[j] = out + (i + j) * stride;
      }
      sha256_x8(salt_, msg, block_size, dst);
    }
  }
  for (; i < count; ++i) {
    if (!hash(ByteView(blocks + i * block_size, block_size), out + i * stride)) return false;
  }
  return true;
}

unsigned effective_threads(unsigned requested) noexcept {
  if (requested) return std::min(requested, 64u);
  unsigned hw = std::thread::hardware_concurrency();
  return std::clamp(hw, 1u, 2u);
}

namespace {
Status hash_range(const Params& params, ByteView blocks, std::size_t block_size, std::uint8_t* out,
                  std::size_t stride) {
  auto hasher = CLOISTER_TRY(BlockHasher::create(params.hash, params.salt));
  if (!hasher.hash_many(blocks.data(), block_size, blocks.size() / block_size, out, stride)) {
    return forward_error(ossl::error(Errc::internal, "hashing a block"));
  }
  return {};
}
}  // namespace

Status hash_blocks(const Params& params, ByteView blocks, std::size_t block_size, std::uint8_t* out,
                   std::size_t stride, unsigned threads) {
  std::size_t n = blocks.size() / block_size;
  threads = static_cast<unsigned>(std::min<std::size_t>(effective_threads(threads), n));
  // Below a few blocks per thread, starting threads costs more than it saves.
  if (threads <= 1 || n < 64) return hash_range(params, blocks, block_size, out, stride);
  std::vector<Status> results(threads);
  std::vector<std::thread> workers;
  std::size_t per = (n + threads - 1) / threads;
  try {
    for (unsigned t = 1; t < threads; ++t) {
      std::size_t first = std::min(n, t * per), last = std::min(n, first + per);
      workers.emplace_back([&, t, first, last] {
        results[t] = hash_range(params, blocks.subspan(first * block_size, (last - first) * block_size), block_size,
                                out + first * stride, stride);
      });
    }
  } catch (const std::exception& e) {
    for (auto& w : workers) w.join();
    return make_error(Errc::internal, std::string("cannot start hashing thread: ") + e.what());
  }
  results[0] = hash_range(params, blocks.first(std::min(n, per) * block_size), block_size, out, stride);
  for (auto& w : workers) w.join();
  for (auto& r : results) CLOISTER_RETURN_IF_ERROR(std::move(r));
  return {};
}

Result<Tree> assemble_tree(const Params& params, const Geometry& geometry, Bytes level0, unsigned threads) {
  Tree tree;
  tree.geometry = geometry;
  const std::size_t hbs = params.hash_block_size;
  if (geometry.levels.empty()) {
    tree.root_hash.assign(level0.begin(), level0.begin() + static_cast<std::ptrdiff_t>(geometry.digest_size));
    return tree;
  }
  std::vector<Bytes> levels;
  levels.push_back(std::move(level0));
  for (std::size_t l = 1; l < geometry.levels.size(); ++l) {
    Bytes next(geometry.levels[l].block_count * hbs, 0);
    CLOISTER_RETURN_IF_ERROR(
        hash_blocks(params, levels.back(), hbs, next.data(), geometry.digest_stride, threads));
    levels.push_back(std::move(next));
  }
  tree.root_hash.resize(geometry.digest_size);
  auto hasher = CLOISTER_TRY(BlockHasher::create(params.hash, params.salt));
  if (!hasher.hash(levels.back(), tree.root_hash.data())) {
    return forward_error(ossl::error(Errc::internal, "hashing the top block"));
  }
  tree.hash_area.reserve(geometry.tree_blocks * hbs);
  for (auto it = levels.rbegin(); it != levels.rend(); ++it) tree.hash_area.insert(tree.hash_area.end(), it->begin(), it->end());
  return tree;
}

Result<Bytes> hash_one(const Params& params, ByteView block) {
  auto hasher = CLOISTER_TRY(BlockHasher::create(params.hash, params.salt));
  Bytes out(hasher.digest_size());
  if (!hasher.hash(block, out.data())) return forward_error(ossl::error(Errc::internal, "hashing a block"));
  return out;
}

}  // namespace cloister::verity::detail
