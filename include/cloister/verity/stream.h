// Streaming dm-verity verification: data blocks arrive in order (from a pipe, a tar stream, a
// socket) and each one is released only once it is proven against the hash tree and root hash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"
#include "cloister/verity/verity.h"

namespace cloister::verity {

// Random access to the hash device (superblock, if any, and tree). Offsets are absolute on the
// hash device, as in Geometry.
class HashSource {
 public:
  virtual ~HashSource() = default;
  // Fills `out` entirely from `offset`, or fails (a short device is an error, not zeros).
  virtual Status read_at(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
};

// The hash device held in memory (e.g. Tree::hash_area placed at geometry.tree_offset: pass
// `base_offset` = the device offset of bytes[0]).
std::unique_ptr<HashSource> memory_hash_source(Bytes bytes, std::uint64_t base_offset = 0);
// The hash device as a file (or block device), read with pread on demand.
Result<std::unique_ptr<HashSource>> file_hash_source(const std::filesystem::path& path);

// Contract:
//  - Feed data blocks strictly in order with next(); each must be exactly data_block_size bytes.
//  - next() returns the same bytes only after H(salt || block) matched its digest in a level-0
//    hash block, which was itself proven up the tree to the root hash. Hash blocks are read lazily,
//    the first time a data block needs them, and each is verified top-down before use; the top
//    block is checked against the root hash when the first block arrives.
//  - On the first mismatch next() returns Errc::integrity naming the data block (or hash block),
//    and the verifier is poisoned: every later call fails. Callers must not use any byte of a
//    block that was rejected (nor anything after it); the bytes they already received from
//    successful next() calls are proven.
//  - finish() fails unless exactly params.data_blocks blocks were accepted (a truncated stream is
//    not a verified stream).
class StreamingVerifier {
 public:
  static Result<StreamingVerifier> create(const Params& params, ByteView root_hash,
                                          std::unique_ptr<HashSource> hash_device);
  StreamingVerifier(StreamingVerifier&&) noexcept;
  StreamingVerifier& operator=(StreamingVerifier&&) noexcept;
  ~StreamingVerifier();

  Result<ByteView> next(ByteView block);
  Status finish() const;

  std::uint64_t blocks_verified() const noexcept;
  std::uint64_t data_blocks() const noexcept;
  const Params& params() const noexcept;
  // The first mismatch, once next() has failed with Errc::integrity.
  const std::optional<Mismatch>& mismatch() const noexcept;

 private:
  struct State;
  explicit StreamingVerifier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Reads `fd` (a pipe or file, from its current position) block by block through `verifier`,
// handing each proven block to `sink`. Fails on a short or over-long stream, on the first
// mismatch, or when `sink` fails; `sink` never sees an unproven byte.
Status verify_stream(int fd, StreamingVerifier& verifier, const std::function<Status(ByteView)>& sink);

}  // namespace cloister::verity
