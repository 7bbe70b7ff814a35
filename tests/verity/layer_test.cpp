// Verified layers from a real file tree, archived by GNU tar and by libarchive, plain and gzip'd,
// cross-checked with veritysetup.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "cloister/verity/layer.h"
#include "cloister/verity/stream.h"
#include "helpers.h"

namespace cloister::verity {
namespace {

namespace fs = std::filesystem;
using cloister::testing::run_process;
using cloister::testing::TempDir;

void make_tree(const fs::path& root) {
  fs::create_directories(root / "etc");
  fs::create_directories(root / "usr/lib/deep/er/and/deeper/still/going/down/to/make/a/path/longer/than/one/hundred/bytes");
  test::write_bytes(root / "etc/hostname", as_bytes("cloister\n"));
  test::write_bytes(root / "etc/empty", {});
  test::write_bytes(root / "usr/lib/big.bin", test::random_bytes(3 << 20, 42));
  test::write_bytes(root / "usr/lib/odd.bin", test::random_bytes(12345, 43));
  test::write_bytes(
      root / "usr/lib/deep/er/and/deeper/still/going/down/to/make/a/path/longer/than/one/hundred/bytes/file.txt",
      as_bytes("deep\n"));
  fs::create_symlink("../usr/lib/big.bin", root / "etc/link");
}

void run_ok(const std::vector<std::string>& argv) {
  auto r = run_process(argv);
  ASSERT_EQ(r.exit_code, 0) << argv[0] << ": " << r.err;
}

// Entries in `tar` as libarchive counts them.
std::uint64_t libarchive_entries(const fs::path& tar) {
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  std::uint64_t n = 0;
  if (archive_read_open_filename(a, tar.c_str(), 1 << 16) == ARCHIVE_OK) {
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) ++n;
  }
  archive_read_free(a);
  return n;
}

// A pax tar of `root` written with libarchive's writer.
void libarchive_tar(const fs::path& root, const fs::path& out) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(root)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, fs::relative(p, root).c_str());
    archive_entry_set_mtime(e, 1700000000, 0);
    Bytes content;
    if (fs::is_symlink(p)) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, fs::read_symlink(p).c_str());
      archive_entry_set_perm(e, 0777);
    } else if (fs::is_directory(p)) {
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0755);
    } else {
      content = test::read_bytes(p);
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    }
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
    if (!content.empty()) archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// Nothing named `out`, `out.hashtree` or a temporary next to them.
void expect_no_output(const fs::path& out) {
  for (const auto& e : fs::directory_iterator(out.parent_path())) {
    auto name = e.path().filename().string();
    EXPECT_NE(name.rfind(out.filename().string(), 0), 0u) << "left behind: " << e.path();
  }
}

class Layer : public ::testing::Test {
 protected:
  void SetUp() override {
    make_tree(dir_ / "rootfs");
    tar_ = dir_ / "layer.tar";
    run_ok({"tar", "-C", (dir_ / "rootfs").string(), "--sort=name", "-cf", tar_.string(), "."});
    gz_ = dir_ / "layer.tar.gz";
    run_ok({"sh", "-c", "gzip -n -c '" + tar_.string() + "' > '" + gz_.string() + "'"});
    fs::create_directories(dir_ / "out");
  }
  TempDir dir_;
  fs::path tar_, gz_;
};

TEST_F(Layer, PlainAndGzipGiveTheSameVerifiedLayer) {
  auto a = build_verified_layer(tar_, dir_ / "out/a.tar");
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = build_verified_layer(gz_, dir_ / "out/b.tar");
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(a->compression, LayerCompression::none);
  EXPECT_EQ(b->compression, LayerCompression::gzip);
  EXPECT_EQ(a->root_hash, b->root_hash);
  EXPECT_EQ(a->entries, libarchive_entries(tar_));
  EXPECT_GE(a->entries, 9u);

  auto original = test::read_bytes(tar_);
  auto padded = test::read_bytes(dir_ / "out/a.tar");
  EXPECT_EQ(padded.size() % 4096, 0u);
  EXPECT_EQ(padded.size(), a->padded_size);
  EXPECT_EQ(a->tar_size, original.size());
  ASSERT_GE(padded.size(), original.size());
  EXPECT_TRUE(std::equal(original.begin(), original.end(), padded.begin()));
  EXPECT_TRUE(std::all_of(padded.begin() + static_cast<std::ptrdiff_t>(original.size()), padded.end(),
                          [](std::uint8_t x) { return x == 0; }));
  EXPECT_EQ(test::read_bytes(dir_ / "out/b.tar"), padded);
  EXPECT_EQ(test::read_bytes(hash_tree_path(dir_ / "out/a.tar")), test::read_bytes(hash_tree_path(dir_ / "out/b.tar")));
  EXPECT_EQ(libarchive_entries(dir_ / "out/a.tar"), a->entries);  // still a tar

  // In-memory hashing agrees with the streaming file path.
  auto mem = hash_layer(test::read_bytes(gz_));
  ASSERT_TRUE(mem);
  EXPECT_EQ(mem->root_hash, a->root_hash);
}

TEST_F(Layer, EqualsVeritysetupOverThePaddedTar) {
  auto a = build_verified_layer(gz_, dir_ / "out/a.tar");
  ASSERT_TRUE(a) << a.error().to_string();
  auto out = test::run_veritysetup({"format", "--no-superblock", "--salt=" + std::string(64, '0'),
                                    (dir_ / "out/a.tar").string(), (dir_ / "vs.hash").string()});
  EXPECT_EQ(test::field(out, "Root hash"), hex_encode(a->root_hash));
  EXPECT_EQ(test::read_bytes(dir_ / "vs.hash"), test::read_bytes(hash_tree_path(dir_ / "out/a.tar")));
  test::run_veritysetup({"verify", "--no-superblock", "--salt=" + std::string(64, '0'), (dir_ / "out/a.tar").string(),
                         hash_tree_path(dir_ / "out/a.tar").string(), hex_encode(a->root_hash)});

  // The agent-side path: stream the padded tar through the verifier with the tree file.
  auto source = file_hash_source(hash_tree_path(dir_ / "out/a.tar"));
  ASSERT_TRUE(source);
  auto v = StreamingVerifier::create(a->params, a->root_hash, std::move(*source));
  ASSERT_TRUE(v);
  auto fd = open_read(dir_ / "out/a.tar");
  ASSERT_TRUE(fd);
  std::uint64_t seen = 0;
  auto st = verify_stream(fd->get(), *v, [&](ByteView b) -> Status {
    seen += b.size();
    return {};
  });
  EXPECT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(seen, a->padded_size);
}

TEST_F(Layer, LibarchivePaxTarsAreAccepted) {
  auto pax = dir_ / "pax.tar";
  libarchive_tar(dir_ / "rootfs", pax);
  auto r = build_verified_layer(pax, dir_ / "out/pax.tar");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->entries, libarchive_entries(pax));
  auto out = test::run_veritysetup({"format", "--no-superblock", "--salt=" + std::string(64, '0'),
                                    (dir_ / "out/pax.tar").string(), (dir_ / "vs.hash").string()});
  EXPECT_EQ(test::field(out, "Root hash"), hex_encode(r->root_hash));
}

TEST_F(Layer, CorruptInputLeavesNoOutput) {
  auto gz = test::read_bytes(gz_);
  auto tar = test::read_bytes(tar_);
  struct Case {
    const char* name;
    Bytes bytes;
  };
  Bytes flipped = gz;
  flipped[gz.size() / 2] ^= 0x40;
  Bytes gz_truncated(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2));
  Bytes tar_truncated(tar.begin(), tar.begin() + static_cast<std::ptrdiff_t>(tar.size() / 2 + 100));
  Bytes tar_no_end(tar.begin(), tar.begin() + static_cast<std::ptrdiff_t>(tar.size()) - 10240);
  Bytes header_corrupt = tar;
  header_corrupt[0] ^= 0x01;
  for (const auto& c : {Case{"flipped.tar.gz", flipped}, Case{"truncated.tar.gz", gz_truncated},
                        Case{"truncated.tar", tar_truncated}, Case{"noend.tar", tar_no_end},
                        Case{"badheader.tar", header_corrupt}}) {
    SCOPED_TRACE(c.name);
    auto in = dir_ / c.name;
    test::write_bytes(in, c.bytes);
    auto out = dir_ / "out" / (std::string(c.name) + ".verified");
    auto r = build_verified_layer(in, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Errc::parse);
    EXPECT_NE(r.error().to_string().find(in.string()), std::string::npos) << r.error().to_string();
    expect_no_output(out);
  }
  auto missing = build_verified_layer(dir_ / "nope.tar", dir_ / "out/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  expect_no_output(dir_ / "out/nope");
}

}  // namespace
}  // namespace cloister::verity
