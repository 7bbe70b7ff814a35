#include "cloister/verity/layer.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "cloister/common/file.h"
#include "hasher.h"
#include "io.h"
#include "tar.h"

namespace cloister::verity {

Params layer_params(std::uint64_t data_blocks) {
  // DESIGN.md §3 (AKS genpolicy layer hashing): sha256, 4096/4096, 32 zero bytes of salt, no superblock.
  Params p;
  p.hash = HashAlgorithm::sha256;
  p.data_block_size = kLayerBlockSize;
  p.hash_block_size = kLayerBlockSize;
  p.salt = Bytes(32, 0);
  p.superblock = false;
  p.hash_offset = 0;
  p.data_blocks = data_blocks;
  return p;
}

std::filesystem::path hash_tree_path(const std::filesystem::path& out) {
  auto p = out;
  p += ".hashtree";
  return p;
}

namespace {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // 0 at end of stream.
  virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
};

class FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    auto n = CLOISTER_TRY(read_full(fd_, out));
    consumed_ += n;
    return n;
  }
  std::uint64_t consumed() const { return consumed_; }

 private:
  int fd_;
  std::uint64_t consumed_ = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(ByteView bytes) : bytes_(bytes) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    std::size_t n = std::min(out.size(), bytes_.size() - pos_);
    if (n == 0) return std::size_t{0};  // an empty view may have no storage at all
    std::memcpy(out.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  ByteView bytes_;
  std::size_t pos_ = 0;
};

// Replays bytes already read for magic detection, then continues from the inner source.
class PrefixedSource final : public ByteSource {
 public:
  PrefixedSource(Bytes prefix, ByteSource& inner) : prefix_(std::move(prefix)), inner_(inner) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    if (pos_ < prefix_.size()) {
      std::size_t n = std::min(out.size(), prefix_.size() - pos_);
      std::memcpy(out.data(), prefix_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return inner_.read(out);
  }

 private:
  Bytes prefix_;
  std::size_t pos_ = 0;
  ByteSource& inner_;
};

// RFC 1952 gzip via zlib, including multi-member streams (concatenated gzip files are one stream).
class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(ByteSource& inner) : inner_(inner), in_(1u << 16) {
    std::memset(&zs_, 0, sizeof zs_);
    ok_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK;  // 16+: gzip wrapper only
  }
  ~GzipSource() override {
    if (ok_) inflateEnd(&zs_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    if (!ok_) return make_error(Errc::internal, "zlib initialisation failed");
    zs_.next_out = out.data();
    zs_.avail_out = static_cast<uInt>(out.size());
    while (zs_.avail_out == out.size() && !done_) {
      if (zs_.avail_in == 0) CLOISTER_RETURN_IF_ERROR(refill());
      if (zs_.avail_in == 0 && inner_eof_) {
        return make_error(Errc::parse, "truncated gzip stream (ends at compressed offset " + std::to_string(in_offset_) + ")");
      }
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Another member may follow; anything else after a member is not gzip.
        if (zs_.avail_in == 0) CLOISTER_RETURN_IF_ERROR(refill());
        if (zs_.avail_in == 0) {
          done_ = true;
        } else if (zs_.next_in[0] != 0x1f) {
          return make_error(Errc::parse, "trailing data after the gzip stream at compressed offset " +
                                             std::to_string(in_offset_ - zs_.avail_in));
        } else if (inflateReset(&zs_) != Z_OK) {
          return make_error(Errc::internal, "zlib reset failed");
        }
      } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs_.avail_in == 0)) {
        return make_error(Errc::parse, std::string("corrupt gzip data near compressed offset ") +
                                           std::to_string(in_offset_ - zs_.avail_in) + ": " +
                                           (zs_.msg ? zs_.msg : "inflate error " + std::to_string(rc)));
      }
    }
    return out.size() - zs_.avail_out;
  }

 private:
  Status refill() {
    if (inner_eof_) return {};
    auto n = CLOISTER_TRY(inner_.read(in_));
    if (n == 0) inner_eof_ = true;
    in_offset_ += n;
    zs_.next_in = in_.data();
    zs_.avail_in = static_cast<uInt>(n);
    return {};
  }

  ByteSource& inner_;
  Bytes in_;
  z_stream zs_;
  bool ok_ = false;
  bool done_ = false;
  bool inner_eof_ = false;
  std::uint64_t in_offset_ = 0;
};

// Where the padded tar goes (nowhere for hash_layer).
struct Sink {
  AtomicFile* file = nullptr;
};

struct Processed {
  LayerInfo info;
  Bytes hash_area;
};

Result<Processed> process(ByteSource& raw, const std::string& name, Sink sink, const Options& options, std::size_t batch_bytes,
                          const std::function<std::pair<std::uint64_t, std::uint64_t>()>& progress_position) {
  LayerInfo info;
  Bytes head(512);
  std::size_t head_len = CLOISTER_TRY(raw.read(head));
  head.resize(head_len);
  if (head_len == 0) return make_error(Errc::parse, name + ": empty file, not a tar layer");

  auto starts_with = [&](std::initializer_list<std::uint8_t> magic) {
    return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin());
  };
  if (starts_with({0x28, 0xb5, 0x2f, 0xfd})) return make_error(Errc::unsupported, name + ": zstd-compressed layers are not supported (plain or gzip tar only)");
  if (starts_with({0xfd, '7', 'z', 'X', 'Z', 0x00})) return make_error(Errc::unsupported, name + ": xz-compressed layers are not supported (plain or gzip tar only)");
  if (starts_with({'B', 'Z', 'h'})) return make_error(Errc::unsupported, name + ": bzip2-compressed layers are not supported (plain or gzip tar only)");

  const bool is_gzip = starts_with({0x1f, 0x8b});  // RFC 1952 §2.3.1 ID1 ID2
  PrefixedSource prefixed(std::move(head), raw);
  std::optional<GzipSource> gzip;
  ByteSource* tar_source = &prefixed;
  if (is_gzip) {
    info.compression = LayerCompression::gzip;
    gzip.emplace(prefixed);
    tar_source = &*gzip;
  }

  detail::TarValidator tar;
  Bytes level0;  // digest_stride bytes per data block, appended as blocks are hashed
  const Params params0 = layer_params(0);
  const std::size_t stride = 32;
  // Hash in large batches so both cores help; the batch is a whole number of 4096-byte blocks.
  Bytes batch(batch_bytes);
  std::size_t batch_fill = 0;
  std::uint64_t blocks = 0;
  auto flush = [&](std::size_t bytes) -> Status {
    if (sink.file) CLOISTER_RETURN_IF_ERROR(sink.file->write(ByteView(batch).first(bytes)));
    std::size_t n = bytes / kLayerBlockSize;
    level0.resize((blocks + n) * stride);
    CLOISTER_RETURN_IF_ERROR(detail::hash_blocks(params0, ByteView(batch).first(bytes), kLayerBlockSize,
                                                 level0.data() + blocks * stride, stride, options.threads));
    blocks += n;
    return {};
  };

  auto started = std::chrono::steady_clock::now();
  auto last_report = started;
  for (;;) {
    auto n = tar_source->read(std::span(batch).subspan(batch_fill));
    if (!n) return forward_error(std::move(n.error()).wrap(name));
    if (*n == 0) break;
    if (auto st = tar.feed(ByteView(batch).subspan(batch_fill, *n)); !st) {
      return forward_error(std::move(st.error()).wrap(name));
    }
    batch_fill += *n;
    info.tar_size += *n;
    if (batch_fill == batch.size()) {
      CLOISTER_RETURN_IF_ERROR(flush(batch_fill));
      batch_fill = 0;
    }
    if (options.progress && progress_position) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_report >= std::chrono::milliseconds(200)) {
        auto [done, total] = progress_position();
        options.progress(done, total);
        last_report = now;
      }
    }
  }
  if (auto st = tar.finish(); !st) return forward_error(std::move(st.error()).wrap(name));
  // Zero padding to the block size (DESIGN.md §3).
  std::size_t padded = (batch_fill + kLayerBlockSize - 1) / kLayerBlockSize * kLayerBlockSize;
  std::fill(batch.begin() + static_cast<std::ptrdiff_t>(batch_fill), batch.begin() + static_cast<std::ptrdiff_t>(padded), 0);
  info.padded_size = info.tar_size + (padded - batch_fill);
  if (padded) CLOISTER_RETURN_IF_ERROR(flush(padded));

  info.entries = tar.entries();
  info.params = layer_params(blocks);
  auto geometry = CLOISTER_TRY(compute_geometry(info.params));
  if (!geometry.levels.empty()) level0.resize(geometry.levels[0].block_count * kLayerBlockSize, 0);
  auto tree = CLOISTER_TRY(detail::assemble_tree(info.params, geometry, std::move(level0), options.threads));
  info.root_hash = std::move(tree.root_hash);
  if (options.progress && progress_position) {
    auto [done, total] = progress_position();
    options.progress(done, total);
  }
  return Processed{std::move(info), std::move(tree.hash_area)};
}

}  // namespace

Result<LayerInfo> build_verified_layer(const std::filesystem::path& layer, const std::filesystem::path& out,
                                       const Options& options) {
  auto fd = CLOISTER_TRY(open_read(layer));
  // Pipes are fine (the layer is streamed); only regular files have a size to report progress on.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error(Errc::io, "cannot stat " + layer.string() + ": " + errno_string(errno));
  if (S_ISDIR(st.st_mode)) return make_error(Errc::invalid_argument, layer.string() + " is a directory");
  const std::uint64_t input_size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  FdSource raw(fd.get());
  const auto tree_path = hash_tree_path(out);
  auto tar_file = AtomicFile::create(out);
  if (!tar_file) return forward_error(std::move(tar_file.error()));
  auto tree_file = AtomicFile::create(tree_path);
  if (!tree_file) return forward_error(std::move(tree_file.error()));
  auto processed = CLOISTER_TRY(process(raw, layer.string(), Sink{&*tar_file}, options, detail::kChunkBytes,
                                        [&] { return std::pair{raw.consumed(), input_size}; }));
  CLOISTER_RETURN_IF_ERROR(tree_file->write(processed.hash_area));
  // Tree first: a committed tar without its tree would look like a finished layer to a careless
  // reader; a stray tree without its tar is harmless. On failure, undo the tree.
  CLOISTER_RETURN_IF_ERROR(tree_file->commit());
  if (auto st = tar_file->commit(); !st) {
    ::unlink(tree_path.c_str());
    return forward_error(std::move(st.error()));
  }
  return std::move(processed.info);
}

Result<LayerInfo> hash_layer(ByteView layer, std::string_view name) {
  MemorySource raw(layer);
  // Smaller batches: in-memory callers (the fuzzer among them) are usually small.
  auto processed = CLOISTER_TRY(process(raw, std::string(name), Sink{}, Options{1, {}}, 256u << 10, {}));
  return std::move(processed.info);
}

}  // namespace cloister::verity
