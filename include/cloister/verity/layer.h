// Verified OCI layers (DESIGN.md §3): the uncompressed layer tar padded with zeros to a multiple of
// 4096 bytes, protected by a dm-verity tree with sha256, 4096-byte data and hash blocks, a salt
// of 32 zero bytes and no superblock. The root hash is what policies pin.
//
// On disk a verified layer is two files: OUT (the padded tar, usable as a dm-verity data device and
// by any tar reader) and OUT.hashtree (the tree, levels top first from offset 0, i.e. a hash device
// for `veritysetup --no-superblock`). See docs/verity.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"
#include "cloister/verity/verity.h"

namespace cloister::verity {

inline constexpr std::uint32_t kLayerBlockSize = 4096;

// The layer tree parameters for `data_blocks` padded blocks.
Params layer_params(std::uint64_t data_blocks = 0);

enum class LayerCompression { none, gzip };

struct LayerInfo {
  LayerCompression compression = LayerCompression::none;
  std::uint64_t tar_size = 0;     // uncompressed tar bytes, before padding
  std::uint64_t padded_size = 0;  // a multiple of 4096
  std::uint64_t entries = 0;      // tar entries validated
  Params params;                  // layer_params(padded_size / 4096)
  Bytes root_hash;
};

// "<OUT>.hashtree"
std::filesystem::path hash_tree_path(const std::filesystem::path& out);

// Streams `layer` (plain tar or gzip'd tar, detected by magic) through validation, padding and
// hashing into `out` and hash_tree_path(out). Memory stays bounded by a few MiB plus the tree.
// Errors name the layer and the reason (Errc::parse for corrupt gzip/tar, Errc::unsupported for
// other compressions); on any error neither output file is created or replaced.
Result<LayerInfo> build_verified_layer(const std::filesystem::path& layer, const std::filesystem::path& out,
                                       const Options& options = {});

// The same validation and hashing over an in-memory layer, writing nothing (for fuzzing and
// callers that only need the root hash). `name` is used in error messages.
Result<LayerInfo> hash_layer(ByteView layer, std::string_view name = "layer");

}  // namespace cloister::verity
