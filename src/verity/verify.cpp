#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "cloister/common/file.h"
#include "cloister/verity/stream.h"
#include "cloister/verity/verity.h"
#include "hasher.h"
#include "io.h"

namespace cloister::verity {

using detail::BlockHasher;

namespace {

Status check_superblock(const std::filesystem::path& hash, const Params& params) {
  auto sb = CLOISTER_TRY(read_superblock(hash, params.hash_offset));
  if (sb.hash != params.hash || sb.data_block_size != params.data_block_size ||
      sb.hash_block_size != params.hash_block_size || sb.salt != params.salt || sb.data_blocks != params.data_blocks) {
    return make_error(Errc::invalid_argument, hash.string() + ": the superblock at offset " +
                                                  std::to_string(params.hash_offset) +
                                                  " does not match the given parameters");
  }
  return {};
}

// Falls back to the block-by-block streaming verifier (bounded memory) for very large trees.
Result<VerifyResult> verify_streaming(int data_fd, const std::filesystem::path& data, const std::filesystem::path& hash,
                                      const Params& params, ByteView root_hash, const Options& options) {
  auto source = CLOISTER_TRY(file_hash_source(hash));
  auto verifier = CLOISTER_TRY(StreamingVerifier::create(params, root_hash, std::move(source)));
  std::size_t bs = params.data_block_size;
  Bytes chunk(detail::kChunkBytes - detail::kChunkBytes % bs + bs);
  const std::uint64_t total = params.data_blocks * bs;
  for (std::uint64_t block = 0; block < params.data_blocks;) {
    std::uint64_t n = std::min<std::uint64_t>(chunk.size() / bs, params.data_blocks - block);
    CLOISTER_RETURN_IF_ERROR(detail::pread_full(data_fd, std::span(chunk).first(n * bs), block * bs, data));
    for (std::uint64_t i = 0; i < n; ++i) {
      auto r = verifier.next(ByteView(chunk).subspan(i * bs, bs));
      if (!r) {
        if (verifier.mismatch()) return VerifyResult{verifier.mismatch()};
        return forward_error(std::move(r.error()));
      }
    }
    block += n;
    if (options.progress) options.progress(block * bs, total);
  }
  return VerifyResult{};
}

}  // namespace

Result<VerifyResult> verify(const std::filesystem::path& data, const std::filesystem::path& hash, const Params& params,
                            ByteView root_hash, const Options& options) {
  CLOISTER_RETURN_IF_ERROR(validate(params));
  auto geometry = CLOISTER_TRY(compute_geometry(params));
  if (root_hash.size() != geometry.digest_size) {
    return make_error(Errc::invalid_argument, "root hash is " + std::to_string(root_hash.size()) + " bytes, " +
                                                  std::string(to_string(params.hash)) + " digests are " +
                                                  std::to_string(geometry.digest_size));
  }
  const std::uint64_t dbs = params.data_block_size, hbs = params.hash_block_size;
  auto data_fd = CLOISTER_TRY(open_read(data));
  auto data_info = CLOISTER_TRY(detail::file_info(data_fd.get(), data));
  if (data_info.size < params.data_blocks * dbs) {
    return make_error(Errc::invalid_argument, data.string() + ": " + std::to_string(data_info.size) + " bytes, but " +
                                                  std::to_string(params.data_blocks) + " blocks of " +
                                                  std::to_string(dbs) + " need " +
                                                  std::to_string(params.data_blocks * dbs));
  }
  auto hash_fd = CLOISTER_TRY(open_read(hash));
  auto hash_info = CLOISTER_TRY(detail::file_info(hash_fd.get(), hash));
  // With a single data block there is no tree: only the superblock (if any) must be present.
  const std::uint64_t needed = geometry.levels.empty() ? (params.superblock ? params.hash_offset + kSuperblockSize : 0)
                                                       : geometry.hash_device_size;
  if (hash_info.size < needed) {
    return make_error(Errc::invalid_argument, hash.string() + ": hash file too small: " + std::to_string(hash_info.size) +
                                                  " bytes, the tree needs " + std::to_string(needed));
  }
  if (params.superblock) CLOISTER_RETURN_IF_ERROR(check_superblock(hash, params));

  const std::uint64_t tree_bytes = geometry.tree_blocks * hbs;
  if (tree_bytes > options.max_tree_in_memory) return verify_streaming(data_fd.get(), data, hash, params, root_hash, options);

  Bytes area(tree_bytes);
  CLOISTER_RETURN_IF_ERROR(detail::pread_full(hash_fd.get(), area, geometry.tree_offset, hash));
  const std::uint64_t base_block = geometry.tree_offset / hbs;
  auto level_bytes = [&](std::size_t l) {
    const auto& lv = geometry.levels[l];
    return ByteView(area).subspan((lv.first_block - base_block) * hbs, lv.block_count * hbs);
  };
  const std::size_t ds = geometry.digest_size, stride = geometry.digest_stride;

  // Top-down: a hash block is only trusted once its parent (ultimately the root hash) vouches for it.
  if (!geometry.levels.empty()) {
    std::size_t top = geometry.levels.size() - 1;
    auto digest = CLOISTER_TRY(detail::hash_one(params, level_bytes(top)));
    if (!std::equal(digest.begin(), digest.end(), root_hash.begin())) {
      return VerifyResult{Mismatch{Mismatch::Kind::hash_block, geometry.levels[top].first_block, static_cast<unsigned>(top)}};
    }
    for (std::size_t l = top; l-- > 0;) {
      auto blocks = level_bytes(l);
      std::uint64_t count = geometry.levels[l].block_count;
      Bytes digests(count * stride);
      CLOISTER_RETURN_IF_ERROR(detail::hash_blocks(params, blocks, hbs, digests.data(), stride, options.threads));
      auto parent = level_bytes(l + 1);
      for (std::uint64_t j = 0; j < count; ++j) {
        if (std::memcmp(digests.data() + j * stride, parent.data() + j * stride, ds) != 0) {
          return VerifyResult{Mismatch{Mismatch::Kind::hash_block, geometry.levels[l].first_block + j, static_cast<unsigned>(l)}};
        }
      }
    }
  }

  // Level 0 (or, with a single data block, the root hash itself) is now trusted.
  ByteView expected = geometry.levels.empty() ? root_hash : level_bytes(0);
  std::atomic<std::uint64_t> first_bad{std::numeric_limits<std::uint64_t>::max()};
  CLOISTER_RETURN_IF_ERROR(detail::for_each_data_chunk(
      data_fd.get(), data, params, options.threads, options.progress,
      [&](std::uint64_t first, ByteView chunk, BlockHasher& hasher) -> Status {
        const std::uint64_t n = chunk.size() / dbs;
        thread_local Bytes digests;
        digests.resize(n * stride);
        if (!hasher.hash_many(chunk.data(), dbs, n, digests.data(), stride)) {
          return forward_error(ossl::error(Errc::internal, "hashing"));
        }
        for (std::uint64_t i = 0; i < n; ++i) {
          if (std::memcmp(digests.data() + i * stride, expected.data() + (first + i) * stride, ds) != 0) {
            std::uint64_t bad = first + i, cur = first_bad.load();
            while (bad < cur && !first_bad.compare_exchange_weak(cur, bad)) {
            }
            break;
          }
        }
        return {};
      },
      &first_bad));
  if (first_bad.load() != std::numeric_limits<std::uint64_t>::max()) {
    return VerifyResult{Mismatch{Mismatch::Kind::data_block, first_bad.load(), 0}};
  }
  return VerifyResult{};
}

}  // namespace cloister::verity
