#include <gtest/gtest.h>

#include <cstring>

#include "cloister/common/encoding.h"
#include "cloister/verity/verity.h"

namespace cloister::verity {
namespace {

Params sample() {
  Params p;
  p.hash = HashAlgorithm::sha512;
  p.data_block_size = 1024;
  p.hash_block_size = 4096;
  p.salt = {0xde, 0xad, 0xbe, 0xef};
  p.data_blocks = 0x0102030405ull;
  p.uuid = *parse_uuid("00112233-4455-6677-8899-aabbccddeeff");
  return p;
}

TEST(VeritySuperblock, FieldOffsetsFollowCryptsetupLayout) {
  auto sb = encode_superblock(sample());
  EXPECT_EQ(std::memcmp(sb.data(), "verity\0\0", 8), 0);
  EXPECT_EQ(sb[8], 1);    // version
  EXPECT_EQ(sb[12], 1);   // hash type 1
  EXPECT_EQ(sb[16], 0x00);
  EXPECT_EQ(sb[31], 0xff);  // uuid[15]
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sb.data() + 32)), "sha512");
  EXPECT_EQ(sb[64] | sb[65] << 8, 1024);
  EXPECT_EQ(sb[68] | sb[69] << 8, 4096);
  EXPECT_EQ(sb[72], 0x05);  // data_blocks, little-endian
  EXPECT_EQ(sb[76], 0x01);
  EXPECT_EQ(sb[80], 4);     // salt_size
  EXPECT_EQ(hex_encode(ByteView(sb).subspan(88, 4)), "deadbeef");
  for (std::size_t i = 92; i < 512; ++i) ASSERT_EQ(sb[i], 0) << i;
}

TEST(VeritySuperblock, RoundTrips) {
  auto p = sample();
  auto back = decode_superblock(encode_superblock(p));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->hash, p.hash);
  EXPECT_EQ(back->data_block_size, p.data_block_size);
  EXPECT_EQ(back->hash_block_size, p.hash_block_size);
  EXPECT_EQ(back->salt, p.salt);
  EXPECT_EQ(back->data_blocks, p.data_blocks);
  EXPECT_EQ(back->uuid, p.uuid);
  EXPECT_TRUE(back->superblock);
}

TEST(VeritySuperblock, RejectsMalformedFields) {
  auto good = encode_superblock(sample());
  auto mutate = [&](std::size_t off, std::uint8_t v) {
    auto sb = good;
    sb[off] = v;
    return decode_superblock(sb);
  };
  EXPECT_FALSE(mutate(0, 'V'));             // signature
  EXPECT_FALSE(mutate(8, 2));               // version
  auto type0 = mutate(12, 0);               // Chrome OS hash type
  ASSERT_FALSE(type0);
  EXPECT_EQ(type0.error().code(), Errc::unsupported);
  EXPECT_FALSE(mutate(35, 'x'));            // "sha" + 'x'... unknown algorithm
  EXPECT_FALSE(mutate(65, 0x03));           // data block size 0x300: not a power of two
  EXPECT_FALSE(mutate(69, 0x00));           // hash block size 0
  EXPECT_FALSE(mutate(81, 0x01));           // salt size 260
  auto zero_blocks = good;
  std::memset(zero_blocks.data() + 72, 0, 8);
  EXPECT_FALSE(decode_superblock(zero_blocks));
  auto unterminated = good;
  std::memset(unterminated.data() + 32, 'a', 32);
  EXPECT_FALSE(decode_superblock(unterminated));
  EXPECT_FALSE(decode_superblock(ByteView(good).first(511)));
}

}  // namespace
}  // namespace cloister::verity
