// Bit-for-bit equality with Debian's `veritysetup format` (cryptsetup-bin), run as a real process.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cloister/common/encoding.h"
#include "cloister/verity/verity.h"
#include "helpers.h"

namespace cloister::verity {
namespace {

using cloister::testing::TempDir;

struct Config {
  const char* name;
  std::uint32_t dbs;
  std::uint32_t hbs;
  const char* hash;
  std::string salt;  // hex or "-"
  bool superblock;
  enum { separate, separate_offset, same_file } placement;
};

std::string salt_hex(std::size_t n) { return hex_encode(test::random_bytes(n, n * 31 + 1)); }

std::vector<Config> configs() {
  return {
      {"sha256_4k_salt32_sb", 4096, 4096, "sha256", salt_hex(32), true, Config::separate},
      {"sha256_4k_nosalt_nosb", 4096, 4096, "sha256", "-", false, Config::separate},
      {"sha512_512_shortsalt_sb", 512, 512, "sha512", "a1b2c3", true, Config::separate},
      {"sha256_1k_4k_salt256_nosb", 1024, 4096, "sha256", salt_hex(256), false, Config::separate},
      {"sha1_4k_512_salt32_sb", 4096, 512, "sha1", salt_hex(32), true, Config::separate},
      {"sha256_64k_salt32_sb", 65536, 65536, "sha256", salt_hex(32), true, Config::separate},
      {"sha512_4k_offset_sb", 4096, 4096, "sha512", salt_hex(32), true, Config::separate_offset},
      {"sha256_4k_samefile_sb", 4096, 4096, "sha256", salt_hex(32), true, Config::same_file},
      {"sha256_2k_samefile_nosb", 2048, 4096, "sha256", "-", false, Config::same_file},
  };
}

constexpr const char* kUuid = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

void check_equal(const Config& c, std::uint64_t blocks) {
  SCOPED_TRACE(std::string(c.name) + " blocks=" + std::to_string(blocks));
  TempDir dir;
  auto data = test::random_bytes(blocks * c.dbs, blocks * 7919 + c.dbs);
  auto theirs_data = dir / "theirs.img", ours_data = dir / "ours.img";
  auto theirs_hash = dir / "theirs.hash", ours_hash = dir / "ours.hash";
  test::write_bytes(theirs_data, data);
  test::write_bytes(ours_data, data);

  Params p;
  p.hash = *parse_hash_algorithm(c.hash);
  p.data_block_size = c.dbs;
  p.hash_block_size = c.hbs;
  p.salt = *parse_salt(c.salt);
  p.superblock = c.superblock;
  p.uuid = *parse_uuid(kUuid);
  std::vector<std::string> args{"format",
                                "--hash=" + std::string(c.hash),
                                "--data-block-size=" + std::to_string(c.dbs),
                                "--hash-block-size=" + std::to_string(c.hbs),
                                "--salt=" + c.salt,
                                "--uuid=" + std::string(kUuid)};
  if (!c.superblock) args.push_back("--no-superblock");
  if (c.placement == Config::separate_offset) {
    p.hash_offset = 3 * 512;
    args.push_back("--hash-offset=1536");
  }
  if (c.placement == Config::same_file) {
    // Hash area one block past the data, as images with an appended tree are laid out.
    p.hash_offset = blocks * c.dbs + 4096;
    p.data_blocks = blocks;
    args.push_back("--hash-offset=" + std::to_string(p.hash_offset));
    args.push_back("--data-blocks=" + std::to_string(blocks));
    theirs_hash = theirs_data;
    ours_hash = ours_data;
  }
  args.push_back(theirs_data.string());
  args.push_back(theirs_hash.string());
  auto out = test::run_veritysetup(args);

  auto ours = format(ours_data, ours_hash, p);
  ASSERT_TRUE(ours) << ours.error().to_string();
  EXPECT_EQ(hex_encode(ours->root_hash), test::field(out, "Root hash"));
  EXPECT_EQ(ours->params.data_blocks, blocks);
  auto theirs_bytes = test::read_bytes(theirs_hash);
  auto ours_bytes = test::read_bytes(ours_hash);
  ASSERT_EQ(theirs_bytes.size(), ours_bytes.size());
  EXPECT_TRUE(theirs_bytes == ours_bytes) << "hash devices differ";

  // And our verifier accepts what veritysetup wrote.
  auto v = verify(theirs_data, theirs_hash, ours->params, ours->root_hash);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->ok());
}

class VeritysetupEquality : public ::testing::TestWithParam<std::size_t> {};

TEST_P(VeritysetupEquality, SameRootAndHashDevice) {
  const auto c = configs()[GetParam()];
  for (std::uint64_t blocks : {1ull, 127ull, 128ull, 129ull, 4097ull}) {
    // Keep the 64 KiB-block case small: 4097 blocks would be 256 MiB.
    if (c.dbs == 65536 && blocks > 129) blocks = 300;
    // veritysetup itself cannot write a superblock at an offset inside the first page of a hash
    // file that has no tree behind it ("Error during update of verity header").
    if (c.placement == Config::separate_offset && blocks == 1) continue;
    check_equal(c, blocks);
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, VeritysetupEquality, ::testing::Range<std::size_t>(0, configs().size()),
                         [](const auto& info) { return std::string(configs()[info.param].name); });

TEST(VeritysetupEquality64MiB, DefaultAndSha512) {
  const std::uint64_t blocks = (64ull << 20) / 4096;
  check_equal(configs()[0], blocks);
  check_equal({"sha512_64MiB_nosb", 4096, 4096, "sha512", salt_hex(32), false, Config::separate}, blocks);
}

TEST(VeritysetupEquality, ExistingHashFilePrefixAndPartialData) {
  TempDir dir;
  auto data = dir / "d.img";
  test::write_bytes(data, test::random_bytes(300 * 4096, 12));
  // An existing hash file whose first 8 KiB belong to someone else; only 200 of 300 blocks hashed.
  Bytes prefix(8192, 0xab);
  test::write_bytes(dir / "theirs.hash", prefix);
  test::write_bytes(dir / "ours.hash", prefix);
  auto out = test::run_veritysetup({"format", "--hash-offset=8192", "--data-blocks=200", "--salt=0102",
                                    "--uuid=" + std::string(kUuid), data.string(), (dir / "theirs.hash").string()});
  Params p;
  p.hash_offset = 8192;
  p.data_blocks = 200;
  p.salt = {1, 2};
  p.uuid = *parse_uuid(kUuid);
  auto r = format(data, dir / "ours.hash", p);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(hex_encode(r->root_hash), test::field(out, "Root hash"));
  auto ours = test::read_bytes(dir / "ours.hash");
  EXPECT_EQ(ours, test::read_bytes(dir / "theirs.hash"));
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), ours.begin()));
}

TEST(VeritysetupEquality, VeritysetupReadsOurSuperblock) {
  TempDir dir;
  auto data = dir / "d.img", hash = dir / "h.img";
  test::write_bytes(data, test::random_bytes(200 * 4096, 11));
  Params p;
  p.salt = random_salt();
  p.uuid = random_uuid();
  auto r = format(data, hash, p);
  ASSERT_TRUE(r);
  // With a superblock veritysetup takes every parameter from it.
  auto out = test::run_veritysetup({"verify", "-v", data.string(), hash.string(), hex_encode(r->root_hash)});
  (void)out;
  auto dump = test::run_veritysetup({"dump", hash.string()});
  EXPECT_EQ(test::field(dump, "UUID"), format_uuid(p.uuid));
  EXPECT_EQ(test::field(dump, "Data blocks"), "200");
  EXPECT_EQ(test::field(dump, "Salt"), hex_encode(p.salt));
}

}  // namespace
}  // namespace cloister::verity
