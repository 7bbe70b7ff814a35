// The on-disk verity superblock. Layout (all little-endian, 512 bytes), from cryptsetup
// lib/verity/verity.c `struct verity_sb`:
//   0   signature[8]      "verity\0\0"
//   8   version u32       1
//   12  hash_type u32     0 = Chrome OS (salt appended), 1 = normal (salt prepended)
//   16  uuid[16]
//   32  algorithm[32]     NUL-terminated name, e.g. "sha256"
//   64  data_block_size u32
//   68  hash_block_size u32
//   72  data_blocks u64
//   80  salt_size u16
//   82  _pad1[6]
//   88  salt[256]
//   344 _pad2[168]
#include <algorithm>
#include <unistd.h>

#include <cstring>

#include "cloister/common/file.h"
#include "cloister/verity/verity.h"

namespace cloister::verity {

namespace {
constexpr std::uint8_t kSignature[8] = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};
constexpr std::size_t kOffVersion = 8, kOffHashType = 12, kOffUuid = 16, kOffAlgorithm = 32, kAlgorithmLen = 32,
                      kOffDataBlockSize = 64, kOffHashBlockSize = 68, kOffDataBlocks = 72, kOffSaltSize = 80,
                      kOffSalt = 88;

template <typename T>
void put_le(std::uint8_t* p, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
template <typename T>
T get_le(const std::uint8_t* p) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v | (static_cast<T>(p[i]) << (8 * i)));
  return v;
}
}  // namespace

std::array<std::uint8_t, kSuperblockSize> encode_superblock(const Params& p) {
  std::array<std::uint8_t, kSuperblockSize> sb{};
  std::memcpy(sb.data(), kSignature, sizeof kSignature);
  put_le<std::uint32_t>(sb.data() + kOffVersion, 1);
  put_le<std::uint32_t>(sb.data() + kOffHashType, 1);
  std::copy(p.uuid.begin(), p.uuid.end(), sb.begin() + kOffUuid);
  auto name = to_string(p.hash);
  std::copy(name.begin(), name.end(), sb.begin() + kOffAlgorithm);
  put_le<std::uint32_t>(sb.data() + kOffDataBlockSize, p.data_block_size);
  put_le<std::uint32_t>(sb.data() + kOffHashBlockSize, p.hash_block_size);
  put_le<std::uint64_t>(sb.data() + kOffDataBlocks, p.data_blocks);
  std::size_t salt_size = std::min(p.salt.size(), kMaxSaltSize);
  put_le<std::uint16_t>(sb.data() + kOffSaltSize, static_cast<std::uint16_t>(salt_size));
  std::copy_n(p.salt.begin(), salt_size, sb.begin() + kOffSalt);
  return sb;
}

Result<Params> decode_superblock(ByteView b) {
  auto fail = [](std::string why) { return make_error(Errc::parse, "verity superblock: " + why); };
  if (b.size() < kSuperblockSize) return fail("only " + std::to_string(b.size()) + " bytes, need 512");
  if (std::memcmp(b.data(), kSignature, sizeof kSignature) != 0) return fail("bad signature at offset 0 (not \"verity\")");
  auto version = get_le<std::uint32_t>(b.data() + kOffVersion);
  if (version != 1) return fail("unsupported version " + std::to_string(version) + " at offset 8");
  auto hash_type = get_le<std::uint32_t>(b.data() + kOffHashType);
  if (hash_type != 1) {
    return make_error(Errc::unsupported, "verity superblock: hash type " + std::to_string(hash_type) +
                                             " at offset 12 is not supported (only 1, salt prepended)");
  }
  Params p;
  p.superblock = true;
  std::copy_n(b.begin() + kOffUuid, p.uuid.size(), p.uuid.begin());
  const char* alg = reinterpret_cast<const char*>(b.data() + kOffAlgorithm);  // bytes of the name field
  std::size_t alg_len = strnlen(alg, kAlgorithmLen);
  if (alg_len == kAlgorithmLen) return fail("algorithm name at offset 32 is not NUL-terminated");
  auto hash = parse_hash_algorithm(std::string_view(alg, alg_len));
  if (!hash) return forward_error(std::move(hash.error()).wrap("verity superblock algorithm at offset 32"));
  p.hash = *hash;
  p.data_block_size = get_le<std::uint32_t>(b.data() + kOffDataBlockSize);
  p.hash_block_size = get_le<std::uint32_t>(b.data() + kOffHashBlockSize);
  p.data_blocks = get_le<std::uint64_t>(b.data() + kOffDataBlocks);
  auto salt_size = get_le<std::uint16_t>(b.data() + kOffSaltSize);
  if (salt_size > kMaxSaltSize) return fail("salt size " + std::to_string(salt_size) + " at offset 80 exceeds 256");
  p.salt.assign(b.begin() + kOffSalt, b.begin() + kOffSalt + salt_size);
  if (auto st = validate(p); !st) return forward_error(std::move(st.error()).wrap("verity superblock"));
  return p;
}

Result<Params> read_superblock(const std::filesystem::path& hash_device, std::uint64_t hash_offset) {
  auto fd = CLOISTER_TRY(open_read(hash_device));
  std::array<std::uint8_t, kSuperblockSize> sb{};
  ssize_t n = ::pread(fd.get(), sb.data(), sb.size(), static_cast<off_t>(hash_offset));
  if (n < 0) return make_error(Errc::io, "cannot read " + hash_device.string() + ": " + errno_string(errno));
  if (static_cast<std::size_t>(n) < sb.size()) {
    return make_error(Errc::parse, hash_device.string() + ": no verity superblock at offset " +
                                       std::to_string(hash_offset) + " (file too small)");
  }
  auto p = decode_superblock(sb);
  if (!p) return forward_error(std::move(p.error()).wrap(hash_device.string() + " at offset " + std::to_string(hash_offset)));
  p->hash_offset = hash_offset;
  return p;
}

}  // namespace cloister::verity
