#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "cloister/common/file.h"
#include "cloister/verity/verity.h"
#include "hasher.h"
#include "io.h"

namespace cloister::verity {

using detail::BlockHasher;

Result<Tree> build_tree(const Params& params_in, ByteView data) {
  Params params = params_in;
  CLOISTER_RETURN_IF_ERROR(validate(params, false));
  if (data.size() % params.data_block_size != 0) {
    return make_error(Errc::invalid_argument, "data size " + std::to_string(data.size()) +
                                                  " is not a multiple of the data block size " +
                                                  std::to_string(params.data_block_size));
  }
  if (params.data_blocks == 0) params.data_blocks = data.size() / params.data_block_size;
  if (params.data_blocks * params.data_block_size > data.size()) {
    return make_error(Errc::invalid_argument, "data holds fewer than " + std::to_string(params.data_blocks) + " blocks");
  }
  auto geometry = CLOISTER_TRY(compute_geometry(params));
  Bytes level0(geometry.levels.empty() ? geometry.digest_stride : geometry.levels[0].block_count * params.hash_block_size, 0);
  CLOISTER_RETURN_IF_ERROR(detail::hash_blocks(params, data.first(params.data_blocks * params.data_block_size),
                                               params.data_block_size, level0.data(), geometry.digest_stride, 0));
  return detail::assemble_tree(params, geometry, std::move(level0), 0);
}

namespace {

// The hash device image pieces: optional superblock at hash_offset, then the tree.
Status write_hash_device(int fd, const std::filesystem::path& name, const Params& params, const Tree& tree) {
  if (params.superblock) {
    auto sb = encode_superblock(params);
    CLOISTER_RETURN_IF_ERROR(detail::pwrite_full(fd, sb, params.hash_offset, name));
    // The gap up to the first hash block is zero, as a fresh veritysetup device would read.
    std::uint64_t gap_start = params.hash_offset + kSuperblockSize;
    if (!tree.geometry.levels.empty() && tree.geometry.tree_offset > gap_start) {
      Bytes zeros(tree.geometry.tree_offset - gap_start, 0);
      CLOISTER_RETURN_IF_ERROR(detail::pwrite_full(fd, zeros, gap_start, name));
    }
  }
  CLOISTER_RETURN_IF_ERROR(detail::pwrite_full(fd, tree.hash_area, tree.geometry.tree_offset, name));
  return {};
}

// veritysetup extends a hash file to the end of the tree; with no tree (one data block) its
// superblock write covers at most one 4096-byte page past the offset.
Status extend_like_veritysetup(int fd, const std::filesystem::path& name, const Params& params, const Geometry& geometry) {
  std::uint64_t size = geometry.hash_device_size;
  if (geometry.levels.empty()) {
    size = params.superblock ? params.hash_offset + std::min<std::uint64_t>(params.hash_block_size, 4096) : 0;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(Errc::io, "cannot stat " + name.string() + ": " + errno_string(errno));
  if (static_cast<std::uint64_t>(st.st_size) < size && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return make_error(Errc::io, "cannot extend " + name.string() + ": " + errno_string(errno));
  }
  return {};
}

}  // namespace

Result<FormatResult> format(const std::filesystem::path& data, const std::filesystem::path& hash, Params params,
                            const Options& options) {
  CLOISTER_RETURN_IF_ERROR(validate(params, false));
  auto data_fd = CLOISTER_TRY(open_read(data));
  auto data_info = CLOISTER_TRY(detail::file_info(data_fd.get(), data));

  // Is HASH the DATA file itself (hash area appended at --hash-offset)?
  bool same_file = false;
  bool hash_exists = false;
  std::uint64_t hash_existing_size = 0;
  bool hash_block_device = false;
  {
    struct stat st {};
    if (::stat(hash.c_str(), &st) == 0) {
      hash_exists = true;
      same_file = static_cast<std::uint64_t>(st.st_dev) == data_info.id.dev &&
                  static_cast<std::uint64_t>(st.st_ino) == data_info.id.ino;
      hash_block_device = S_ISBLK(st.st_mode);
      if (!S_ISREG(st.st_mode) && !hash_block_device) {
        return make_error(Errc::invalid_argument, hash.string() + " is not a regular file or block device");
      }
      hash_existing_size = static_cast<std::uint64_t>(st.st_size);
    }
  }

  const std::uint64_t dbs = params.data_block_size;
  if (params.data_blocks == 0) {
    if (same_file) {
      if (params.hash_offset == 0 || params.hash_offset % dbs != 0) {
        return make_error(Errc::invalid_argument,
                          data.string() + " is both data and hash device: the hash offset must be a non-zero multiple of the data block size (or give the data block count)");
      }
      params.data_blocks = params.hash_offset / dbs;
    } else {
      if (data_info.size % dbs != 0) {
        return make_error(Errc::invalid_argument, data.string() + ": size " + std::to_string(data_info.size) +
                                                      " is not a multiple of the data block size " + std::to_string(dbs));
      }
      params.data_blocks = data_info.size / dbs;
    }
    if (params.data_blocks == 0) return make_error(Errc::invalid_argument, data.string() + " is empty: nothing to protect");
  }
  if (auto st = validate(params); !st) return forward_error(std::move(st.error()));
  if (params.data_blocks * dbs > data_info.size) {
    return make_error(Errc::invalid_argument, data.string() + ": " + std::to_string(data_info.size) + " bytes, but " +
                                                  std::to_string(params.data_blocks) + " blocks of " + std::to_string(dbs) +
                                                  " need " + std::to_string(params.data_blocks * dbs));
  }
  if (same_file && params.data_blocks * dbs > params.hash_offset) {
    return make_error(Errc::invalid_argument, data.string() + ": the data area (" +
                                                  std::to_string(params.data_blocks * dbs) +
                                                  " bytes) overlaps the hash area at offset " +
                                                  std::to_string(params.hash_offset));
  }
  auto geometry = CLOISTER_TRY(compute_geometry(params));

  Bytes level0(geometry.levels.empty() ? geometry.digest_stride : geometry.levels[0].block_count * params.hash_block_size, 0);
  const std::size_t stride = geometry.digest_stride;
  CLOISTER_RETURN_IF_ERROR(detail::for_each_data_chunk(
      data_fd.get(), data, params, options.threads, options.progress,
      [&](std::uint64_t first, ByteView chunk, BlockHasher& hasher) -> Status {
        if (!hasher.hash_many(chunk.data(), dbs, chunk.size() / dbs, level0.data() + first * stride, stride)) {
          return forward_error(ossl::error(Errc::internal, "hashing"));
        }
        return {};
      }));
  auto tree = CLOISTER_TRY(detail::assemble_tree(params, geometry, std::move(level0), options.threads));

  if (same_file || hash_block_device) {
    int fd = ::open(hash.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return make_error(Errc::io, "cannot open " + hash.string() + " for writing: " + errno_string(errno));
    UniqueFd out(fd);
    if (hash_block_device && hash_existing_size == 0) {
      auto info = CLOISTER_TRY(detail::file_info(out.get(), hash));
      hash_existing_size = info.size;
    }
    if (hash_block_device && hash_existing_size < geometry.hash_device_size) {
      return make_error(Errc::invalid_argument, hash.string() + ": device has " + std::to_string(hash_existing_size) +
                                                    " bytes, the hash area needs " +
                                                    std::to_string(geometry.hash_device_size));
    }
    CLOISTER_RETURN_IF_ERROR(write_hash_device(out.get(), hash, params, tree));
    if (!hash_block_device) CLOISTER_RETURN_IF_ERROR(extend_like_veritysetup(out.get(), hash, params, geometry));
    if (::fsync(out.get()) != 0) return make_error(Errc::io, "cannot sync " + hash.string() + ": " + errno_string(errno));
  } else {
    auto file = CLOISTER_TRY(AtomicFile::create(hash, 0644));
    // Bytes of an existing hash file before hash_offset are not ours to discard.
    if (hash_exists && params.hash_offset > 0) {
      auto old = CLOISTER_TRY(open_read(hash));
      Bytes prefix(std::min(params.hash_offset, hash_existing_size));
      CLOISTER_RETURN_IF_ERROR(detail::pread_full(old.get(), prefix, 0, hash));
      CLOISTER_RETURN_IF_ERROR(file.write(prefix));
    }
    CLOISTER_RETURN_IF_ERROR(write_hash_device(file.fd(), hash, params, tree));
    CLOISTER_RETURN_IF_ERROR(extend_like_veritysetup(file.fd(), hash, params, geometry));
    CLOISTER_RETURN_IF_ERROR(file.commit());
  }
  return FormatResult{std::move(params), std::move(tree.geometry), std::move(tree.root_hash)};
}

}  // namespace cloister::verity
