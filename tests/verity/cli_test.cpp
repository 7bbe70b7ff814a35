// `cloister verity ...` as a process: output shapes, exit codes, and the message for each bad input.
#include <gtest/gtest.h>

#include <filesystem>

#include "helpers.h"

namespace cloister::verity {
namespace {

namespace fs = std::filesystem;
using cloister::testing::ProcessResult;
using cloister::testing::run_process;
using cloister::testing::TempDir;

ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), test::cloister_bin());
  return run_process(args);
}

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

class VerityCli : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_ / "data.img").string();
    hash_ = (dir_ / "hash.img").string();
    test::write_bytes(data_, test::random_bytes(300 * 4096, 5));
  }
  std::string format_root(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"verity", "format"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(data_);
    args.push_back(hash_);
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return test::field(r.out, "Root hash");
  }
  TempDir dir_;
  std::string data_, hash_;
};

TEST_F(VerityCli, HelpIsTrue) {
  for (auto sub : {"format", "verify", "layer"}) {
    auto r = cli({"verity", sub, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(contains(r.out, "--help"));
  }
  auto r = cli({"verity", "format", "--help"});
  for (auto opt : {"--hash", "--data-block-size", "--hash-block-size", "--salt", "--no-superblock", "--hash-offset",
                   "--data-blocks", "--uuid"}) {
    EXPECT_TRUE(contains(r.out, opt)) << opt;
  }
}

TEST_F(VerityCli, FormatPrintsVeritysetupFields) {
  auto r = cli({"verity", "format", "--salt", "00ff", "--uuid", "11111111-2222-3333-4444-555555555555", data_, hash_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::field(r.out, "UUID"), "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(test::field(r.out, "Hash type"), "1");
  EXPECT_EQ(test::field(r.out, "Data blocks"), "300");
  EXPECT_EQ(test::field(r.out, "Data block size"), "4096");
  EXPECT_EQ(test::field(r.out, "Hash block size"), "4096");
  EXPECT_EQ(test::field(r.out, "Hash algorithm"), "sha256");
  EXPECT_EQ(test::field(r.out, "Salt"), "00ff");
  EXPECT_EQ(test::field(r.out, "Root hash").size(), 64u);
  // Same command through veritysetup: same root hash and the same lines.
  auto vs = test::run_veritysetup({"format", "--salt", "00ff", "--uuid", "11111111-2222-3333-4444-555555555555", data_,
                                   (dir_ / "vs.img").string()});
  EXPECT_EQ(test::field(vs, "Root hash"), test::field(r.out, "Root hash"));
  EXPECT_EQ(r.out.substr(r.out.find('\n')), vs.substr(vs.find('\n')));
}

TEST_F(VerityCli, DefaultSaltIsRandom32Bytes) {
  auto a = cli({"verity", "format", data_, hash_});
  auto b = cli({"verity", "format", data_, (dir_ / "h2").string()});
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(test::field(a.out, "Salt").size(), 64u);
  EXPECT_NE(test::field(a.out, "Salt"), test::field(b.out, "Salt"));
  auto none = cli({"verity", "format", "--salt", "-", "--no-superblock", data_, hash_});
  EXPECT_EQ(test::field(none.out, "Salt"), "-");
}

TEST_F(VerityCli, VerifyExitCodes) {
  auto root = format_root();
  auto ok = cli({"verity", "verify", data_, hash_, root});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  test::flip_byte(data_, 77 * 4096 + 5);
  auto bad = cli({"verity", "verify", data_, hash_, root});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.err, "data block 77")) << bad.err;
  test::flip_byte(data_, 77 * 4096 + 5);

  test::flip_byte(hash_, 2 * 4096 + 100);  // sb, top, level-0 block 0 (absolute 2)
  bad = cli({"verity", "verify", data_, hash_, root});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.err, "hash block 2")) << bad.err;
  test::flip_byte(hash_, 2 * 4096 + 100);

  std::string wrong = root;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  EXPECT_EQ(cli({"verity", "verify", data_, hash_, wrong}).exit_code, 1);
  EXPECT_EQ(cli({"verity", "verify", data_, hash_, "xyz"}).exit_code, 2);
  EXPECT_EQ(cli({"verity", "verify", data_, hash_, root.substr(2)}).exit_code, 2);
}

TEST_F(VerityCli, VerifyWithoutSuperblockAndWithHashOffset) {
  auto root = format_root({"--no-superblock", "--salt", "abcd", "--hash", "sha512", "--data-block-size", "1024"});
  EXPECT_EQ(cli({"verity", "verify", "--no-superblock", "--salt", "abcd", "--hash", "sha512", "--data-block-size",
                 "1024", data_, hash_, root})
                .exit_code,
            0);
  // Wrong salt: the tree does not verify (exit 1), it is not an input error.
  EXPECT_EQ(cli({"verity", "verify", "--no-superblock", "--salt", "abce", "--hash", "sha512", "--data-block-size",
                 "1024", data_, hash_, root})
                .exit_code,
            1);

  // Tree appended to the data file.
  auto same = (dir_ / "same.img").string();
  test::write_bytes(same, test::random_bytes(300 * 4096, 6));
  auto r = cli({"verity", "format", "--hash-offset", std::to_string(300 * 4096), same, same});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto root2 = test::field(r.out, "Root hash");
  EXPECT_EQ(cli({"verity", "verify", "--hash-offset", std::to_string(300 * 4096), same, same, root2}).exit_code, 0);
  test::run_veritysetup({"verify", "--hash-offset", std::to_string(300 * 4096), "--data-blocks", "300", same, same, root2});
}

TEST_F(VerityCli, BadInputIsExit2WithTheReason) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  auto odd = (dir_ / "odd.img").string();
  test::write_bytes(odd, test::random_bytes(5000, 1));
  auto missing = (dir_ / "missing.img").string();
  std::vector<Case> cases{
      {{"verity", "format", missing, hash_}, "missing.img"},
      {{"verity", "format", odd, hash_}, "not a multiple of the data block size"},
      {{"verity", "format", "--salt", "zz", data_, hash_}, "--salt"},
      {{"verity", "format", "--salt", std::string(514, 'a'), data_, hash_}, "at most 256"},
      {{"verity", "format", "--data-block-size", "1000", data_, hash_}, "--data-block-size"},
      {{"verity", "format", "--hash-block-size", "131072", data_, hash_}, "power of two"},
      {{"verity", "format", "--hash-block-size", "256", data_, hash_}, "power of two"},
      {{"verity", "format", "--hash", "md5", data_, hash_}, "md5"},
      {{"verity", "format", "--hash-offset", "100", data_, hash_}, "multiple of 512"},
      {{"verity", "format", "--uuid", "nope", data_, hash_}, "UUID"},
      {{"verity", "format", "--data-blocks", "301", data_, hash_}, "need"},
      {{"verity", "verify", odd, hash_, std::string(64, '0'), "--no-superblock"}, "not a non-zero multiple"},
      {{"verity", "verify", data_, missing, std::string(64, '0')}, "missing.img"},
  };
  for (const auto& c : cases) {
    auto r = cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[2] << " " << c.args[3] << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.message)) << "expected '" << c.message << "' in: " << r.err;
  }
  EXPECT_FALSE(fs::exists(hash_)) << "a failed format left a hash file";
  EXPECT_EQ(cli({"verity", "format", data_}).exit_code, 2);  // usage error

  // Hash file too small for the tree.
  auto root = format_root();
  fs::resize_file(hash_, 8192);
  auto r = cli({"verity", "verify", data_, hash_, root});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "too small")) << r.err;
  // No superblock where one is expected.
  auto plain = (dir_ / "plain.hash").string();
  test::write_bytes(plain, Bytes(65536, 0));
  r = cli({"verity", "verify", data_, plain, root});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "superblock")) << r.err;
}

TEST_F(VerityCli, LayerCommand) {
  fs::create_directories(dir_ / "rootfs/etc");
  test::write_bytes(dir_ / "rootfs/etc/os-release", as_bytes("ID=cloister\n"));
  auto tar = (dir_ / "l.tar").string();
  ASSERT_EQ(run_process({"tar", "-C", (dir_ / "rootfs").string(), "-cf", tar, "."}).exit_code, 0);
  auto r = cli({"verity", "layer", tar});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto root = test::field(r.out, "Root hash");
  EXPECT_EQ(root.size(), 64u);
  EXPECT_TRUE(fs::exists(dir_ / "l.verified.tar"));
  EXPECT_TRUE(fs::exists(dir_ / "l.verified.tar.hashtree"));
  auto v = cli({"verity", "verify", "--no-superblock", "--salt", std::string(64, '0'), (dir_ / "l.verified.tar").string(),
                (dir_ / "l.verified.tar.hashtree").string(), root});
  EXPECT_EQ(v.exit_code, 0) << v.err;

  auto out = (dir_ / "custom.tar").string();
  r = cli({"verity", "layer", "--output", out, tar});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(test::field(r.out, "Root hash"), root);

  auto garbage = (dir_ / "garbage.tar.gz").string();
  test::write_bytes(garbage, test::random_bytes(3000, 8));
  auto bad = (dir_ / "bad.tar").string();
  r = cli({"verity", "layer", "--output", bad, garbage});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "garbage.tar.gz")) << r.err;
  EXPECT_FALSE(fs::exists(bad));
  EXPECT_FALSE(fs::exists(bad + ".hashtree"));
  r = cli({"verity", "layer", (dir_ / "none.tar").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "none.tar")) << r.err;
  EXPECT_EQ(cli({"verity", "layer", "--output", tar, tar}).exit_code, 2);
  EXPECT_EQ(cli({"verity", "layer", dir_.path().string()}).exit_code, 2);

  // A layer streamed from a pipe.
  auto piped = run_process({"sh", "-c", "cat '" + tar + "' | '" + test::cloister_bin() + "' verity layer --output '" +
                                            (dir_ / "piped.tar").string() + "' /dev/stdin"});
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(test::field(piped.out, "Root hash"), root);
}

}  // namespace
}  // namespace cloister::verity
