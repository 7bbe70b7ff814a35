#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <limits>

#include <openssl/rand.h>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "cloister/verity/verity.h"
#include "io.h"

namespace cloister::verity {

std::string_view to_string(HashAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case HashAlgorithm::sha1: return "sha1";
    case HashAlgorithm::sha256: return "sha256";
    case HashAlgorithm::sha512: return "sha512";
  }
  return "unknown";
}

Result<HashAlgorithm> parse_hash_algorithm(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (auto a : {HashAlgorithm::sha1, HashAlgorithm::sha256, HashAlgorithm::sha512}) {
    if (lower == to_string(a)) return a;
  }
  return make_error(Errc::unsupported, "unsupported hash algorithm '" + std::string(name) + "' (sha1, sha256, sha512)");
}

std::size_t digest_size(HashAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case HashAlgorithm::sha1: return 20;
    case HashAlgorithm::sha256: return 32;
    case HashAlgorithm::sha512: return 64;
  }
  return 0;
}

namespace {
bool valid_block_size(std::uint64_t v) {
  return v >= kMinBlockSize && v <= kMaxBlockSize && std::has_single_bit(v);
}
std::string block_size_rule(std::string_view what, std::uint64_t v) {
  return std::string(what) + " " + std::to_string(v) + " is not a power of two between 512 and 65536";
}
}  // namespace

Status validate(const Params& p, bool require_data_blocks) {
  if (!valid_block_size(p.data_block_size)) return make_error(Errc::invalid_argument, block_size_rule("data block size", p.data_block_size));
  if (!valid_block_size(p.hash_block_size)) return make_error(Errc::invalid_argument, block_size_rule("hash block size", p.hash_block_size));
  if (p.salt.size() > kMaxSaltSize) {
    return make_error(Errc::invalid_argument, "salt is " + std::to_string(p.salt.size()) + " bytes, at most 256 allowed");
  }
  if (p.hash_offset % kHashOffsetAlignment != 0) {
    return make_error(Errc::invalid_argument,
                      "hash offset " + std::to_string(p.hash_offset) + " is not a multiple of 512");
  }
  if (require_data_blocks && p.data_blocks == 0) return make_error(Errc::invalid_argument, "no data blocks");
  if (p.data_blocks > std::numeric_limits<std::uint64_t>::max() / p.data_block_size) {
    return make_error(Errc::invalid_argument, "data block count " + std::to_string(p.data_blocks) + " overflows 64 bits");
  }
  return {};
}

Result<std::uint32_t> parse_block_size(std::string_view text) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return make_error(Errc::invalid_argument, "block size '" + std::string(text) + "' is not a number");
  }
  if (!valid_block_size(v)) return make_error(Errc::invalid_argument, block_size_rule("block size", v));
  return static_cast<std::uint32_t>(v);
}

Result<Bytes> parse_salt(std::string_view text) {
  if (text == "-") return Bytes{};
  auto salt = hex_decode(text);
  if (!salt) return forward_error(std::move(salt.error()).wrap("salt '" + std::string(text) + "'"));
  if (salt->size() > kMaxSaltSize) {
    return make_error(Errc::invalid_argument, "salt is " + std::to_string(salt->size()) + " bytes, at most 256 allowed");
  }
  return salt;
}

Result<Uuid> parse_uuid(std::string_view text) {
  // RFC 4122 textual form 8-4-4-4-12.
  auto bad = [&] {
    return make_error(Errc::invalid_argument, "UUID '" + std::string(text) + "' is not of the form 8-4-4-4-12 hex digits");
  };
  if (text.size() != 36) return bad();
  std::string hex;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position != (text[i] == '-')) return bad();
    if (!dash_position) hex.push_back(text[i]);
  }
  auto bytes = hex_decode(hex);
  if (!bytes) return forward_error(std::move(bytes.error()).wrap("UUID '" + std::string(text) + "'"));
  Uuid u{};
  std::copy(bytes->begin(), bytes->end(), u.begin());
  return u;
}

std::string format_uuid(const Uuid& u) {
  std::string hex = hex_encode(u);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

Uuid random_uuid() {
  Uuid u{};
  if (RAND_bytes(u.data(), static_cast<int>(u.size())) != 1) std::abort();  // no entropy: nothing safe to do
  u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x40);  // RFC 4122 §4.4: version 4
  u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);  // variant 10
  return u;
}

Bytes random_salt(std::size_t size) {
  Bytes salt(size);
  if (size && RAND_bytes(salt.data(), static_cast<int>(size)) != 1) std::abort();
  return salt;
}

Result<Geometry> compute_geometry(const Params& p) {
  CLOISTER_RETURN_IF_ERROR(validate(p));
  Geometry g;
  g.digest_size = static_cast<std::uint32_t>(digest_size(p.hash));
  // cryptsetup lib/verity/verity_hash.c: hash_per_block = 1 << get_bits_down(hbs / digest),
  // digests padded to 1 << get_bits_up(digest) bytes for format version 1.
  g.hashes_per_block = std::bit_floor(p.hash_block_size / g.digest_size);
  g.digest_stride = std::bit_ceil(g.digest_size);
  if (g.hashes_per_block < 2) return make_error(Errc::invalid_argument, "hash block too small for the digest");
  const unsigned bits = static_cast<unsigned>(std::countr_zero(g.hashes_per_block));
  unsigned levels = 0;
  while (bits * levels < 64 && ((p.data_blocks - 1) >> (bits * levels)) != 0) ++levels;

  // The superblock occupies [hash_offset, hash_offset + 512); the tree starts on the next hash
  // block boundary. Without it, veritysetup rounds the offset down to a hash block.
  std::uint64_t position = p.superblock ? (p.hash_offset + kSuperblockSize + p.hash_block_size - 1) / p.hash_block_size
                                        : p.hash_offset / p.hash_block_size;
  g.tree_offset = position * p.hash_block_size;
  g.levels.resize(levels);
  std::uint64_t count = p.data_blocks;
  for (unsigned i = 0; i < levels; ++i) {
    count = (count + g.hashes_per_block - 1) / g.hashes_per_block;
    g.levels[i].block_count = count;
    g.tree_blocks += count;
  }
  for (unsigned i = levels; i-- > 0;) {
    g.levels[i].first_block = position;
    if (position + g.levels[i].block_count < position) return make_error(Errc::invalid_argument, "hash device size overflows");
    position += g.levels[i].block_count;
  }
  if (position > std::numeric_limits<std::uint64_t>::max() / p.hash_block_size) {
    return make_error(Errc::invalid_argument, "hash device size overflows 64 bits");
  }
  // With only a superblock (one data block) the device still spans the superblock's hash block.
  g.hash_device_size = std::max(position * p.hash_block_size, p.superblock ? g.tree_offset : 0);
  return g;
}

std::string Mismatch::describe() const {
  if (kind == Kind::data_block) return "data block " + std::to_string(block);
  return "hash block " + std::to_string(block) + " (tree level " + std::to_string(level) + ")";
}

Result<std::uint64_t> device_size(const std::filesystem::path& path) {
  auto fd = CLOISTER_TRY(open_read(path));
  auto info = CLOISTER_TRY(detail::file_info(fd.get(), path));
  return info.size;
}

}  // namespace cloister::verity
