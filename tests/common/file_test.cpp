#include "cloister/common/file.h"

#include <gtest/gtest.h>

#include "testing/testdata.h"

namespace cloister {
namespace {

using cloister::testing::TempDir;

TEST(File, AtomicWriteThenRead) {
  TempDir dir;
  auto p = dir / "out.bin";
  Bytes data{1, 2, 3, 4, 5};
  ASSERT_TRUE(write_file_atomic(p, data));
  auto back = read_file(p);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
}

TEST(File, UncommittedAtomicFileLeavesNothing) {
  TempDir dir;
  auto p = dir / "never.bin";
  {
    auto f = AtomicFile::create(p);
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write(as_bytes("partial")));
  }
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(File, UncommittedAtomicFileKeepsOldContent) {
  TempDir dir;
  auto p = dir / "keep.txt";
  ASSERT_TRUE(write_file_atomic(p, as_bytes("old")));
  {
    auto f = AtomicFile::create(p);
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write(as_bytes("new and unfinished")));
  }
  auto back = read_text_file(p);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "old");
}

TEST(File, MissingFileNamesPath) {
  auto r = read_file("/nonexistent/cloister/file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::not_found);
  EXPECT_NE(r.error().to_string().find("/nonexistent/cloister/file"), std::string::npos);
}

TEST(File, DirectoryIsNotAFile) {
  TempDir dir;
  auto r = read_file(dir.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace cloister
