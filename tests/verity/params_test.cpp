#include <gtest/gtest.h>

#include "cloister/common/digest.h"
#include "cloister/common/encoding.h"
#include "cloister/verity/verity.h"
#include "helpers.h"

namespace cloister::verity {
namespace {

Params p4k(std::uint64_t blocks, bool superblock = true) {
  Params p;
  p.data_blocks = blocks;
  p.superblock = superblock;
  return p;
}

TEST(VerityGeometry, OneBlockHasNoLevels) {
  auto g = compute_geometry(p4k(1));
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_TRUE(g->levels.empty());
  EXPECT_EQ(g->tree_blocks, 0u);
  // veritysetup: "Hash device size: 4096" (the superblock's block).
  EXPECT_EQ(g->hash_device_size, 4096u);
  auto n = compute_geometry(p4k(1, false));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->hash_device_size, 0u);
}

TEST(VerityGeometry, LevelsTopFirstAfterSuperblock) {
  // 130 blocks of sha256 at 4096: level 0 has 2 blocks, level 1 the single top block.
  auto g = compute_geometry(p4k(130));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->hashes_per_block, 128u);
  EXPECT_EQ(g->digest_stride, 32u);
  ASSERT_EQ(g->levels.size(), 2u);
  EXPECT_EQ(g->levels[1].first_block, 1u);  // right after the superblock's block
  EXPECT_EQ(g->levels[1].block_count, 1u);
  EXPECT_EQ(g->levels[0].first_block, 2u);
  EXPECT_EQ(g->levels[0].block_count, 2u);
  EXPECT_EQ(g->tree_offset, 4096u);
  EXPECT_EQ(g->hash_device_size, 4u * 4096);
}

TEST(VerityGeometry, ExactPowersStayOneLevel) {
  auto g = compute_geometry(p4k(128, false));
  ASSERT_TRUE(g);
  ASSERT_EQ(g->levels.size(), 1u);
  EXPECT_EQ(g->levels[0].first_block, 0u);
  auto g2 = compute_geometry(p4k(128 * 128 + 1, false));
  ASSERT_TRUE(g2);
  ASSERT_EQ(g2->levels.size(), 3u);
  EXPECT_EQ(g2->levels[0].block_count, 129u);
  EXPECT_EQ(g2->levels[1].block_count, 2u);
  EXPECT_EQ(g2->levels[2].block_count, 1u);
  EXPECT_EQ(g2->levels[2].first_block, 0u);
  EXPECT_EQ(g2->levels[1].first_block, 1u);
  EXPECT_EQ(g2->levels[0].first_block, 3u);
}

TEST(VerityGeometry, Sha1DigestsArePaddedToPowerOfTwo) {
  Params p = p4k(300);
  p.hash = HashAlgorithm::sha1;
  auto g = compute_geometry(p);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->digest_size, 20u);
  EXPECT_EQ(g->digest_stride, 32u);
  EXPECT_EQ(g->hashes_per_block, 128u);
}

TEST(VerityGeometry, HashOffsetPlacement) {
  Params p = p4k(130);
  p.hash_offset = 512;  // superblock at 512, tree on the next 4096 boundary
  auto g = compute_geometry(p);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->tree_offset, 4096u);
  p.superblock = false;  // veritysetup rounds a header-less offset down to a hash block
  g = compute_geometry(p);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->tree_offset, 0u);
  p.hash_offset = 8192;
  g = compute_geometry(p);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->tree_offset, 8192u);
}

TEST(VerityParams, RejectsBadBlockSizesSaltAndOffsets) {
  for (std::uint32_t bad : {0u, 256u, 1000u, 4095u, 131072u}) {
    Params p = p4k(1);
    p.data_block_size = bad;
    EXPECT_FALSE(validate(p)) << bad;
    p = p4k(1);
    p.hash_block_size = bad;
    EXPECT_FALSE(validate(p)) << bad;
  }
  for (std::uint32_t good : {512u, 1024u, 4096u, 65536u}) {
    Params p = p4k(1);
    p.data_block_size = good;
    p.hash_block_size = good;
    EXPECT_TRUE(validate(p)) << good;
  }
  Params p = p4k(1);
  p.salt = Bytes(257, 1);
  EXPECT_FALSE(validate(p));
  p.salt = Bytes(256, 1);
  EXPECT_TRUE(validate(p));
  p.hash_offset = 100;
  EXPECT_FALSE(validate(p));
  EXPECT_FALSE(validate(p4k(0)));
  EXPECT_TRUE(validate(p4k(0), false));
  Params huge = p4k(~0ull);
  EXPECT_FALSE(validate(huge));
}

TEST(VerityParams, ParsesUserText) {
  EXPECT_EQ(*parse_block_size("512"), 512u);
  EXPECT_FALSE(parse_block_size("1000"));
  EXPECT_FALSE(parse_block_size("4k"));
  EXPECT_FALSE(parse_block_size(""));
  EXPECT_TRUE(parse_salt("-")->empty());
  EXPECT_EQ(hex_encode(*parse_salt("00FFab")), "00ffab");
  EXPECT_FALSE(parse_salt("abc"));
  EXPECT_FALSE(parse_salt("zz"));
  EXPECT_FALSE(parse_salt(std::string(514, 'a')));
  auto u = parse_uuid("11111111-2222-3333-4444-555555555555");
  ASSERT_TRUE(u);
  EXPECT_EQ(format_uuid(*u), "11111111-2222-3333-4444-555555555555");
  EXPECT_FALSE(parse_uuid("11111111222233334444555555555555"));
  EXPECT_FALSE(parse_uuid("1111111-22222-3333-4444-555555555555"));
  EXPECT_FALSE(parse_uuid("g1111111-2222-3333-4444-555555555555"));
  auto r = random_uuid();
  EXPECT_EQ(r[6] >> 4, 4);
  EXPECT_EQ(r[8] >> 6, 2);
  EXPECT_NE(random_salt(32), random_salt(32));
  EXPECT_EQ(*parse_hash_algorithm("SHA512"), HashAlgorithm::sha512);
  EXPECT_FALSE(parse_hash_algorithm("md5"));
}

TEST(VerityBuildTree, RootOfOneBlockIsItsSaltedDigest) {
  Params p = p4k(0, false);
  p.salt = {1, 2, 3};
  auto data = test::random_bytes(4096, 1);
  auto tree = build_tree(p, data);
  ASSERT_TRUE(tree);
  Bytes salted = p.salt;
  salted.insert(salted.end(), data.begin(), data.end());
  auto expected = sha256(salted);
  EXPECT_EQ(tree->root_hash, Bytes(expected.begin(), expected.end()));
  EXPECT_TRUE(tree->hash_area.empty());
  EXPECT_FALSE(build_tree(p, ByteView(data).first(1000)));
}

}  // namespace
}  // namespace cloister::verity

namespace cloister::verity {
namespace {

// Level-0 digests against one-shot OpenSSL SHA-256, for salt lengths around the 64-byte SHA-256
// block boundaries (the multi-buffer path assembles those blocks itself) and block counts that
// are and are not multiples of the SIMD lane count.
TEST(VerityBuildTree, Sha256DigestsMatchOpenSslForEverySaltShape) {
  for (std::size_t salt_len : {0, 1, 31, 32, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 200, 255, 256}) {
    for (std::uint32_t bs : {512u, 4096u}) {
      for (std::uint64_t blocks : {9ull, 16ull, 23ull}) {
        Params p;
        p.superblock = false;
        p.data_block_size = bs;
        p.hash_block_size = 4096;
        p.salt = test::random_bytes(salt_len, salt_len + 1000);
        auto data = test::random_bytes(blocks * bs, salt_len * 7 + bs + blocks);
        auto tree = build_tree(p, data);
        ASSERT_TRUE(tree);
        // One level-0 block (<= 128 digests) holding digest i at i * 32.
        ASSERT_EQ(tree->geometry.levels.size(), 1u);
        for (std::uint64_t i = 0; i < blocks; ++i) {
          Bytes m = p.salt;
          m.insert(m.end(), data.begin() + static_cast<std::ptrdiff_t>(i * bs),
                   data.begin() + static_cast<std::ptrdiff_t>((i + 1) * bs));
          auto d = sha256(m);
          ASSERT_TRUE(std::equal(d.begin(), d.end(), tree->hash_area.begin() + static_cast<std::ptrdiff_t>(i * 32)))
              << "salt " << salt_len << " block size " << bs << " block " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace cloister::verity
