// Helpers shared by the test suites: locating shared vectors and built binaries, temp dirs,
// running a child process.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cloister::testing {

// ../shared/testdata (or $CLOISTER_SHARED_TESTDATA) joined with `relative`. Throws with a clear
// message when the shared directory or the named file is missing, which fails the test.
std::filesystem::path shared_testdata(std::string_view relative = "");

// build/bin/<name>, e.g. bin_path("cloister").
std::filesystem::path bin_path(std::string_view name);

// The repository root (for tests/data and fuzz corpora).
std::filesystem::path source_dir();

// A fresh directory removed (recursively) when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH when it has no '/') with stdin from /dev/null, capturing output.
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace cloister::testing
