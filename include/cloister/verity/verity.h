// dm-verity hash trees, bit-for-bit compatible with cryptsetup's `veritysetup format` (hash type 1:
// every hashed block is H(salt || block)). See docs/verity.md and DESIGN.md §3.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister::verity {

enum class HashAlgorithm { sha1, sha256, sha512 };

std::string_view to_string(HashAlgorithm algorithm) noexcept;
// "sha1", "sha256", "sha512" (case-insensitive).
Result<HashAlgorithm> parse_hash_algorithm(std::string_view name);
std::size_t digest_size(HashAlgorithm algorithm) noexcept;

inline constexpr std::uint32_t kMinBlockSize = 512;
inline constexpr std::uint32_t kMaxBlockSize = 65536;
inline constexpr std::size_t kSuperblockSize = 512;
inline constexpr std::size_t kMaxSaltSize = 256;
// veritysetup only accepts hash offsets on 512-byte boundaries ("Unsupported VERITY hash offset").
inline constexpr std::uint64_t kHashOffsetAlignment = 512;

using Uuid = std::array<std::uint8_t, 16>;

// Everything that determines a hash tree and where it lives on the hash device.
struct Params {
  HashAlgorithm hash = HashAlgorithm::sha256;
  std::uint32_t data_block_size = 4096;
  std::uint32_t hash_block_size = 4096;
  Bytes salt;                    // 0..256 bytes, prepended to every hashed block
  bool superblock = true;        // 512-byte header at hash_offset, tree starts on the next hash block
  std::uint64_t hash_offset = 0; // byte offset of the superblock (or tree) on the hash device
  std::uint64_t data_blocks = 0; // 0 in a request means "derive from the data size"
  Uuid uuid{};                   // only stored in the superblock
};

// Checks block sizes (powers of two in [512, 65536]), salt size, hash offset alignment and, when
// `require_data_blocks`, that data_blocks is non-zero and its byte size fits in 64 bits.
Status validate(const Params& params, bool require_data_blocks = true);

// Block sizes and salt from user text (errors name the value and the rule).
Result<std::uint32_t> parse_block_size(std::string_view text);
// Hex salt, or "-" for an empty salt.
Result<Bytes> parse_salt(std::string_view text);
Result<Uuid> parse_uuid(std::string_view text);
std::string format_uuid(const Uuid& uuid);
Uuid random_uuid();   // RFC 4122 version 4
Bytes random_salt(std::size_t size = 32);

// One level of the tree, in hash-block units from the start of the hash device.
struct Level {
  std::uint64_t first_block = 0;
  std::uint64_t block_count = 0;
};

// The tree layout exactly as veritysetup lays it out (cryptsetup lib/verity/verity_hash.c):
// `hashes_per_block` = 2^floor(log2(hash_block_size / digest_size)); each digest occupies
// `digest_stride` = 2^ceil(log2(digest_size)) bytes; level i has ceil(data_blocks / hpb^(i+1))
// blocks; the levels are stored top level first, starting at `tree_offset`.
struct Geometry {
  std::uint32_t digest_size = 0;
  std::uint32_t digest_stride = 0;
  std::uint32_t hashes_per_block = 0;
  std::vector<Level> levels;        // levels[0] hashes the data blocks; levels.back() is one block
  std::uint64_t tree_offset = 0;    // bytes from the start of the hash device to the top level
  std::uint64_t tree_blocks = 0;    // hash blocks in all levels
  std::uint64_t hash_device_size = 0;  // bytes to the end of the tree (veritysetup's "Hash device size")
};
// With one data block there are no levels: the root hash is the data block's own digest.
Result<Geometry> compute_geometry(const Params& params);

// cryptsetup's `struct verity_sb`, little-endian (see src/verity/superblock.cpp for the layout).
std::array<std::uint8_t, kSuperblockSize> encode_superblock(const Params& params);
// Parses a superblock; the result has superblock = true and hash_offset = 0 (the caller knows where
// it read it). Rejects bad magic, versions other than 1, hash type 0 (Chrome OS), unknown
// algorithms, invalid block sizes and salt sizes over 256.
Result<Params> decode_superblock(ByteView bytes);
// Reads and decodes the superblock at `hash_offset` of `hash_device`; sets hash_offset.
Result<Params> read_superblock(const std::filesystem::path& hash_device, std::uint64_t hash_offset = 0);

// A tree built in memory: `hash_area` is the hash device content from `geometry.tree_offset` to
// its end (levels top first).
struct Tree {
  Geometry geometry;
  Bytes root_hash;
  Bytes hash_area;
};
// `data` must be params.data_blocks (or, when 0, a whole number of) data blocks.
Result<Tree> build_tree(const Params& params, ByteView data);

// done/total in bytes of data hashed; called from the calling thread at most a few times a second.
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct Options {
  unsigned threads = 0;  // 0: min(2, hardware threads)
  ProgressFn progress;
  // verify(): trees larger than this are not loaded whole; blocks are then checked one by one by
  // the streaming verifier with bounded memory.
  std::uint64_t max_tree_in_memory = 512ull << 20;
};

struct FormatResult {
  Params params;  // with data_blocks filled in
  Geometry geometry;
  Bytes root_hash;
};

// Writes the hash device like `veritysetup format DATA HASH`. When HASH is the DATA file (same
// inode), data_blocks defaults to hash_offset / data_block_size and the hash area is written in
// place after the data; otherwise a regular HASH file is replaced atomically (bytes before
// hash_offset of an existing file are kept), and a block device is written in place.
// The data size must be a whole number of data blocks unless data_blocks is given.
Result<FormatResult> format(const std::filesystem::path& data, const std::filesystem::path& hash, Params params,
                            const Options& options = {});

// Where verification first failed.
struct Mismatch {
  enum class Kind { data_block, hash_block };
  Kind kind = Kind::data_block;
  std::uint64_t block = 0;  // data block index, or hash block index on the hash device
  unsigned level = 0;       // for hash blocks: tree level (0 = the level that hashes data)
  std::string describe() const;  // "data block 7" / "hash block 3 (tree level 0)"
};

struct VerifyResult {
  bool ok() const noexcept { return !mismatch.has_value(); }
  std::optional<Mismatch> mismatch;
};

// Whole-device check. Params must be complete (data_blocks > 0); with params.superblock the
// superblock must be present and match them. Hash blocks are checked top-down first, then data
// blocks; the reported mismatch is the first bad hash block in that order, else the lowest bad
// data block. Errors (not mismatches): unreadable files, hash device or data too small.
Result<VerifyResult> verify(const std::filesystem::path& data, const std::filesystem::path& hash,
                            const Params& params, ByteView root_hash, const Options& options = {});

// Size in bytes of a regular file or block device.
Result<std::uint64_t> device_size(const std::filesystem::path& path);

}  // namespace cloister::verity
