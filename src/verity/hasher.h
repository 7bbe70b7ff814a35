// Internal: salted block hashing (hash type 1: H(salt || block)) and the tree-level arithmetic
// shared by format, verify, the streaming verifier and layers.
#pragma once

#include <cstdint>
#include <vector>

#include "cloister/common/bytes.h"
#include "cloister/common/openssl.h"
#include "cloister/common/result.h"
#include "cloister/verity/verity.h"

namespace cloister::verity::detail {

// One per thread. The salt is absorbed once into a template context that is copied per block, so
// each block costs one context copy plus the hash of the block itself.
class BlockHasher {
 public:
  static Result<BlockHasher> create(HashAlgorithm algorithm, ByteView salt);
  std::size_t digest_size() const noexcept { return digest_size_; }
  // Writes digest_size() bytes to `out`.
  [[nodiscard]] bool hash(ByteView block, std::uint8_t* out);
  // Hashes `count` consecutive blocks of `block_size` bytes, digest i at out + i * stride; sha256
  // goes eight blocks at a time through the SIMD path when the CPU has it.
  [[nodiscard]] bool hash_many(const std::uint8_t* blocks, std::size_t block_size, std::size_t count,
                               std::uint8_t* out, std::size_t stride);

 private:
  BlockHasher(HashAlgorithm algorithm, Bytes salt, ossl::EvpMd md, ossl::EvpMdCtx salted, ossl::EvpMdCtx work,
              std::size_t size)
      : algorithm_(algorithm), salt_(std::move(salt)), md_(std::move(md)), salted_(std::move(salted)),
        work_(std::move(work)), digest_size_(size) {}
  HashAlgorithm algorithm_;
  Bytes salt_;
  ossl::EvpMd md_;
  ossl::EvpMdCtx salted_;
  ossl::EvpMdCtx work_;
  std::size_t digest_size_;
};

unsigned effective_threads(unsigned requested) noexcept;

// Hashes the consecutive `block_size` blocks of `blocks`, writing digest i at out + i * stride.
// Splits the work over up to `threads` threads (the caller's included).
Status hash_blocks(const Params& params, ByteView blocks, std::size_t block_size, std::uint8_t* out,
                   std::size_t stride, unsigned threads);

// Builds levels 1.. from the level-0 digests (geometry.levels[0].block_count hash blocks, zero
// padded) and returns the tree with the hash area laid out top level first. With no levels,
// `level0` holds the single data block digest, which is the root hash.
Result<Tree> assemble_tree(const Params& params, const Geometry& geometry, Bytes level0, unsigned threads);

// Digest of one block with a throwaway hasher (root hash checks, small jobs).
Result<Bytes> hash_one(const Params& params, ByteView block);

}  // namespace cloister::verity::detail
