#include "testing/testdata.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace cloister::testing {

std::filesystem::path shared_testdata(std::string_view relative) {
  std::filesystem::path root = CLOISTER_SHARED_TESTDATA_DEFAULT;
  if (const char* env = std::getenv("CLOISTER_SHARED_TESTDATA"); env && *env) root = env;
  if (!std::filesystem::is_directory(root)) {
    throw std::runtime_error("shared test vectors not found at " + root.string() +
                             " (expected ../shared/testdata next to the clone, or set CLOISTER_SHARED_TESTDATA)");
  }
  auto p = root / relative;
  if (!std::filesystem::exists(p)) throw std::runtime_error("shared test vector missing: " + p.string());
  return p;
}

std::filesystem::path bin_path(std::string_view name) {
  return std::filesystem::path(CLOISTER_BINARY_DIR) / "bin" / name;
}

std::filesystem::path source_dir() { return CLOISTER_SOURCE_DIR; }

TempDir::TempDir() {
  auto base = std::filesystem::temp_directory_path() / "cloister-test-XXXXXX";
  std::string pattern = base.string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ProcessResult run_process(const std::vector<std::string>& argv) {
  TempDir dir;
  auto out_path = dir / "stdout";
  auto err_path = dir / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot spawn " + argv[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

}  // namespace cloister::testing
