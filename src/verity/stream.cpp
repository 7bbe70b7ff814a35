#include "cloister/verity/stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "cloister/common/file.h"
#include "hasher.h"
#include "io.h"

namespace cloister::verity {

namespace {

class MemorySource final : public HashSource {
 public:
  MemorySource(Bytes bytes, std::uint64_t base) : bytes_(std::move(bytes)), base_(base) {}
  Status read_at(std::uint64_t offset, std::span<std::uint8_t> out) override {
    if (offset < base_ || offset - base_ > bytes_.size() || bytes_.size() - (offset - base_) < out.size()) {
      return make_error(Errc::invalid_argument, "hash tree too small: no bytes at offset " + std::to_string(offset) +
                                                    ".." + std::to_string(offset + out.size()));
    }
    std::memcpy(out.data(), bytes_.data() + (offset - base_), out.size());
    return {};
  }

 private:
  Bytes bytes_;
  std::uint64_t base_;
};

class FileSource final : public HashSource {
 public:
  FileSource(UniqueFd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Status read_at(std::uint64_t offset, std::span<std::uint8_t> out) override {
    return detail::pread_full(fd_.get(), out, offset, path_);
  }

 private:
  UniqueFd fd_;
  std::filesystem::path path_;
};

}  // namespace

std::unique_ptr<HashSource> memory_hash_source(Bytes bytes, std::uint64_t base_offset) {
  return std::make_unique<MemorySource>(std::move(bytes), base_offset);
}

Result<std::unique_ptr<HashSource>> file_hash_source(const std::filesystem::path& path) {
  auto fd = CLOISTER_TRY(open_read(path));
  return std::unique_ptr<HashSource>(std::make_unique<FileSource>(std::move(fd), path));
}

struct StreamingVerifier::State {
  Params params;
  Geometry geometry;
  Bytes root;
  std::unique_ptr<HashSource> source;
  detail::BlockHasher hasher;
  std::uint64_t next_block = 0;
  bool poisoned = false;
  std::optional<Mismatch> mismatch;
  struct Cached {
    std::uint64_t index = ~std::uint64_t{0};
    Bytes block;
  };
  std::vector<Cached> cache;  // one verified hash block per level

  Error fail(Mismatch m) {
    poisoned = true;
    mismatch = m;
    return Error(Errc::integrity, m.describe() + " does not match the hash tree");
  }

  // The verified hash block `j` of level `l`, loading and proving it (and its ancestors) if needed.
  Result<ByteView> level_block(std::size_t l, std::uint64_t j) {
    auto& c = cache[l];
    if (c.index == j) return ByteView(c.block);
    const std::uint64_t hbs = params.hash_block_size;
    const std::uint64_t absolute = geometry.levels[l].first_block + j;
    Bytes block(hbs);
    if (auto st = source->read_at(absolute * hbs, block); !st) {
      poisoned = true;
      return forward_error(std::move(st.error()).wrap("reading hash block " + std::to_string(absolute)));
    }
    std::uint8_t digest[64];
    if (!hasher.hash(block, digest)) return forward_error(ossl::error(Errc::internal, "hashing"));
    ByteView expected;
    if (l + 1 == geometry.levels.size()) {
      expected = root;
    } else {
      auto parent = level_block(l + 1, j / geometry.hashes_per_block);
      if (!parent) return parent;
      expected = parent->subspan((j % geometry.hashes_per_block) * geometry.digest_stride, geometry.digest_size);
    }
    if (std::memcmp(digest, expected.data(), geometry.digest_size) != 0) {
      return forward_error(fail(Mismatch{Mismatch::Kind::hash_block, absolute, static_cast<unsigned>(l)}));
    }
    c.index = j;
    c.block = std::move(block);
    return ByteView(c.block);
  }
};

StreamingVerifier::StreamingVerifier(std::unique_ptr<State> state) : state_(std::move(state)) {}
StreamingVerifier::StreamingVerifier(StreamingVerifier&&) noexcept = default;
StreamingVerifier& StreamingVerifier::operator=(StreamingVerifier&&) noexcept = default;
StreamingVerifier::~StreamingVerifier() = default;

Result<StreamingVerifier> StreamingVerifier::create(const Params& params, ByteView root_hash,
                                                    std::unique_ptr<HashSource> hash_device) {
  if (!hash_device) return make_error(Errc::invalid_argument, "no hash device");
  auto geometry = CLOISTER_TRY(compute_geometry(params));
  if (root_hash.size() != geometry.digest_size) {
    return make_error(Errc::invalid_argument, "root hash is " + std::to_string(root_hash.size()) + " bytes, expected " +
                                                  std::to_string(geometry.digest_size));
  }
  auto hasher = CLOISTER_TRY(detail::BlockHasher::create(params.hash, params.salt));
  auto state = std::unique_ptr<State>(new State{params, std::move(geometry), Bytes(root_hash.begin(), root_hash.end()),
                                                std::move(hash_device), std::move(hasher), 0, false, std::nullopt, {}});
  state->cache.resize(state->geometry.levels.size());
  return StreamingVerifier(std::move(state));
}

Result<ByteView> StreamingVerifier::next(ByteView block) {
  auto& s = *state_;
  if (s.poisoned) {
    return make_error(Errc::failed_precondition, "verifier already failed" +
                                                     (s.mismatch ? " at " + s.mismatch->describe() : std::string()));
  }
  if (block.size() != s.params.data_block_size) {
    s.poisoned = true;
    return make_error(Errc::invalid_argument, "data block " + std::to_string(s.next_block) + " is " +
                                                  std::to_string(block.size()) + " bytes, expected " +
                                                  std::to_string(s.params.data_block_size));
  }
  if (s.next_block >= s.params.data_blocks) {
    s.poisoned = true;
    return make_error(Errc::integrity, "data block " + std::to_string(s.next_block) + " is beyond the " +
                                           std::to_string(s.params.data_blocks) + " blocks the tree covers");
  }
  std::uint8_t digest[64];
  if (!s.hasher.hash(block, digest)) return forward_error(ossl::error(Errc::internal, "hashing"));
  ByteView expected;
  if (s.geometry.levels.empty()) {
    expected = s.root;
  } else {
    auto leaf = s.level_block(0, s.next_block / s.geometry.hashes_per_block);
    if (!leaf) return forward_error(std::move(leaf.error()));
    expected = leaf->subspan((s.next_block % s.geometry.hashes_per_block) * s.geometry.digest_stride, s.geometry.digest_size);
  }
  if (std::memcmp(digest, expected.data(), s.geometry.digest_size) != 0) {
    return forward_error(s.fail(Mismatch{Mismatch::Kind::data_block, s.next_block, 0}));
  }
  ++s.next_block;
  return block;
}

Status StreamingVerifier::finish() const {
  const auto& s = *state_;
  if (s.poisoned) return make_error(Errc::integrity, "verification failed" + (s.mismatch ? " at " + s.mismatch->describe() : std::string()));
  if (s.next_block != s.params.data_blocks) {
    return make_error(Errc::integrity, "stream ended after " + std::to_string(s.next_block) + " of " +
                                           std::to_string(s.params.data_blocks) + " data blocks");
  }
  return {};
}

std::uint64_t StreamingVerifier::blocks_verified() const noexcept { return state_->next_block; }
std::uint64_t StreamingVerifier::data_blocks() const noexcept { return state_->params.data_blocks; }
const std::optional<Mismatch>& StreamingVerifier::mismatch() const noexcept { return state_->mismatch; }

const Params& StreamingVerifier::params() const noexcept { return state_->params; }

Status verify_stream(int fd, StreamingVerifier& verifier, const std::function<Status(ByteView)>& sink) {
  const std::size_t bs = verifier.params().data_block_size;
  // Read many blocks per syscall; blocks are still proven and released one at a time.
  const std::size_t per_read = std::max<std::size_t>(1, (1u << 20) / bs);
  Bytes buffer(per_read * bs);
  while (verifier.blocks_verified() < verifier.data_blocks()) {
    std::uint64_t want = std::min<std::uint64_t>(per_read, verifier.data_blocks() - verifier.blocks_verified());
    auto n = CLOISTER_TRY(read_full(fd, std::span(buffer).first(want * bs)));
    for (std::size_t off = 0; off + bs <= n; off += bs) {
      auto block = CLOISTER_TRY(verifier.next(ByteView(buffer).subspan(off, bs)));
      CLOISTER_RETURN_IF_ERROR(sink(block));
    }
    if (n % bs != 0) {
      return make_error(Errc::integrity, "stream ends inside data block " + std::to_string(verifier.blocks_verified()) +
                                             " of " + std::to_string(verifier.data_blocks()));
    }
    if (n < want * bs) break;
  }
  std::uint8_t extra = 0;
  auto n = CLOISTER_TRY(read_full(fd, std::span(&extra, 1)));
  if (n != 0) {
    return make_error(Errc::integrity, "stream continues past the " + std::to_string(verifier.data_blocks()) +
                                           " data blocks the tree covers");
  }
  return verifier.finish();
}

}  // namespace cloister::verity
