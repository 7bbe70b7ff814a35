// One flipped byte anywhere in the data or the hash device is caught at the right block, by the
// whole-device verifier, by the streaming verifier reading the hash file, and by veritysetup.
#include <gtest/gtest.h>

#include "cloister/common/encoding.h"
#include "cloister/verity/stream.h"
#include "cloister/verity/verity.h"
#include "helpers.h"

namespace cloister::verity {
namespace {

using cloister::testing::TempDir;

class Tamper : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kBlocks = 20000;  // three levels at 4096/sha256 (hpb 128)
  void SetUp() override {
    data_ = dir_ / "data.img";
    hash_ = dir_ / "hash.img";
    test::write_bytes(data_, test::random_bytes(kBlocks * 4096, 99));
    Params p;
    p.salt = random_salt();
    p.uuid = random_uuid();
    auto r = format(data_, hash_, p);
    ASSERT_TRUE(r) << r.error().to_string();
    result_ = *r;
    ASSERT_EQ(result_.geometry.levels.size(), 3u);
  }

  // Both whole-device strategies must agree: the tree loaded whole (hash blocks top-down, then
  // data in parallel), and block by block through the streaming verifier (for huge trees).
  std::optional<Mismatch> check() {
    auto v = verify(data_, hash_, result_.params, result_.root_hash);
    EXPECT_TRUE(v) << v.error().to_string();
    Options streaming;
    streaming.max_tree_in_memory = 0;
    auto s = verify(data_, hash_, result_.params, result_.root_hash, streaming);
    EXPECT_TRUE(s) << s.error().to_string();
    if (!v || !s) return std::nullopt;
    EXPECT_EQ(v->ok(), s->ok());
    // For data blocks both report the same block; for hash blocks the streaming order may name a
    // different (lower-level) block first only if two were bad, which these tests never do.
    if (v->mismatch && s->mismatch) {
      EXPECT_EQ(v->mismatch->kind, s->mismatch->kind);
      EXPECT_EQ(v->mismatch->block, s->mismatch->block);
    }
    return v->mismatch;
  }

  // Streams the data file through a verifier that reads the hash file lazily; returns the number
  // of blocks released.
  std::uint64_t stream(std::optional<Mismatch>& mismatch) {
    auto source = file_hash_source(hash_);
    EXPECT_TRUE(source);
    auto v = StreamingVerifier::create(result_.params, result_.root_hash, std::move(*source));
    EXPECT_TRUE(v);
    auto data = test::read_bytes(data_);
    std::uint64_t released = 0;
    for (std::uint64_t i = 0; i < kBlocks; ++i) {
      auto r = v->next(ByteView(data).subspan(i * 4096, 4096));
      if (!r) break;
      ++released;
    }
    mismatch = v->mismatch();
    return released;
  }

  bool veritysetup_accepts() {
    std::vector<std::string> argv{test::veritysetup(), "verify", data_.string(), hash_.string(),
                                  hex_encode(result_.root_hash)};
    return cloister::testing::run_process(argv).exit_code == 0;
  }

  TempDir dir_;
  std::filesystem::path data_, hash_;
  FormatResult result_;
};

TEST_F(Tamper, IntactDeviceVerifies) {
  EXPECT_FALSE(check());
  std::uint64_t last_done = 0, last_total = 0;
  Options o;
  o.progress = [&](std::uint64_t done, std::uint64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  };
  auto v = verify(data_, hash_, result_.params, result_.root_hash, o);
  ASSERT_TRUE(v);
  EXPECT_EQ(last_total, kBlocks * 4096);
  EXPECT_EQ(last_done, kBlocks * 4096);
  std::optional<Mismatch> m;
  EXPECT_EQ(stream(m), kBlocks);
  EXPECT_FALSE(m);
}

TEST_F(Tamper, DataBytesAreCaughtAtTheirBlock) {
  for (std::uint64_t offset : std::initializer_list<std::uint64_t>{0, 4095, 4096, 5000 * 4096 + 1234, 16383 * 4096, kBlocks * 4096 - 1}) {
    SCOPED_TRACE(offset);
    test::flip_byte(data_, offset);
    auto m = check();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, Mismatch::Kind::data_block);
    EXPECT_EQ(m->block, offset / 4096);
    std::optional<Mismatch> sm;
    EXPECT_EQ(stream(sm), offset / 4096);  // exactly the blocks before the tampered one
    ASSERT_TRUE(sm);
    EXPECT_EQ(sm->block, offset / 4096);
    EXPECT_FALSE(veritysetup_accepts());
    test::flip_byte(data_, offset);  // restore
  }
  EXPECT_FALSE(check());
}

TEST_F(Tamper, HashBytesAreCaughtAtTheirBlock) {
  const auto& g = result_.geometry;
  const std::uint64_t top = g.levels[2].first_block, l1 = g.levels[1].first_block, l0 = g.levels[0].first_block;
  struct Case {
    std::uint64_t offset;
    std::uint64_t hash_block;
    unsigned level;
    std::uint64_t first_data_block_covered;
  };
  const std::uint64_t last_l0 = l0 + g.levels[0].block_count - 1;
  for (auto c : {Case{top * 4096, top, 2, 0}, Case{top * 4096 + 4095, top, 2, 0}, Case{l1 * 4096 + 31, l1, 1, 0},
                 Case{(l1 + 1) * 4096 + 5, l1 + 1, 1, 128 * 128}, Case{l0 * 4096, l0, 0, 0},
                 Case{(l0 + 7) * 4096 + 100, l0 + 7, 0, 7 * 128},
                 Case{last_l0 * 4096 + 4095, last_l0, 0, (last_l0 - l0) * 128}}) {
    SCOPED_TRACE(c.offset);
    test::flip_byte(hash_, c.offset);
    auto m = check();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, Mismatch::Kind::hash_block);
    EXPECT_EQ(m->block, c.hash_block);
    EXPECT_EQ(m->level, c.level);
    std::optional<Mismatch> sm;
    EXPECT_EQ(stream(sm), c.first_data_block_covered);
    ASSERT_TRUE(sm);
    EXPECT_EQ(sm->kind, Mismatch::Kind::hash_block);
    EXPECT_EQ(sm->block, c.hash_block);
    EXPECT_FALSE(veritysetup_accepts());
    test::flip_byte(hash_, c.offset);
  }
}

TEST_F(Tamper, SuperblockChangesAreNotSilentlyAccepted) {
  // A changed salt byte in the superblock: parameters no longer match (library) and the tree no
  // longer matches the root hash (veritysetup, which trusts the superblock).
  test::flip_byte(hash_, 88);
  auto v = verify(data_, hash_, result_.params, result_.root_hash);
  EXPECT_FALSE(v);
  EXPECT_FALSE(veritysetup_accepts());
}

TEST_F(Tamper, WrongRootHashFailsAtTheTopBlock) {
  Bytes root = result_.root_hash;
  root[0] ^= 1;
  auto v = verify(data_, hash_, result_.params, root);
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->mismatch);
  EXPECT_EQ(v->mismatch->block, result_.geometry.levels[2].first_block);
}

TEST_F(Tamper, ShortFilesAreErrorsNotMismatches) {
  auto bytes = test::read_bytes(hash_);
  test::write_bytes(hash_, ByteView(bytes).first(bytes.size() - 1));
  auto v = verify(data_, hash_, result_.params, result_.root_hash);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("too small"), std::string::npos) << v.error().to_string();
}

}  // namespace
}  // namespace cloister::verity
