// Internal: positional I/O and the parallel chunked pass over a data device used by format and
// verify.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

#include "cloister/common/result.h"
#include "cloister/verity/verity.h"
#include "hasher.h"

namespace cloister::verity::detail {

// Large sequential reads keep the syscall and page-cache overhead far below the hashing cost.
inline constexpr std::size_t kChunkBytes = 4u << 20;

// Reads exactly out.size() bytes at `offset`; a short read is an error naming `name`.
Status pread_full(int fd, std::span<std::uint8_t> out, std::uint64_t offset, const std::filesystem::path& name);
Status pwrite_full(int fd, ByteView data, std::uint64_t offset, const std::filesystem::path& name);

struct FileId {
  std::uint64_t dev = 0, ino = 0;
  bool operator==(const FileId&) const = default;
};
// Identity and size (regular file or block device) of an open descriptor.
struct FileInfo {
  FileId id;
  std::uint64_t size = 0;
  bool block_device = false;
};
Result<FileInfo> file_info(int fd, const std::filesystem::path& name);

// Visits data blocks [0, params.data_blocks) of `fd` in kChunkBytes chunks spread over `threads`
// threads (chunk c goes to thread c % threads, so reads of one thread overlap hashing in the
// other). `visit(first_block, chunk, hasher)` runs on the worker threads; chunks whose first block
// is >= `stop_before` (re-read before each chunk) are skipped. `progress` is called from the
// calling thread only.
using ChunkVisitor = std::function<Status(std::uint64_t first_block, ByteView chunk, BlockHasher& hasher)>;
Status for_each_data_chunk(int fd, const std::filesystem::path& name, const Params& params, unsigned threads,
                           const ProgressFn& progress, const ChunkVisitor& visit,
                           const std::atomic<std::uint64_t>* stop_before = nullptr);

}  // namespace cloister::verity::detail
