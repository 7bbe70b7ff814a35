// bench_verity: `cloister verity format` vs `veritysetup format` on the same 1 GiB file, and the
// single-core OpenSSL SHA-256 rate on what the tree hashes (32-byte salt || 4 KiB block).
//
//   bench_verity [--size-mib N] [--runs N] [--dir DIR]   (build/bench/bench_verity; runs build/bin/cloister)
//
// Each measurement is the best of --runs after a warm-up run, so both tools see a hot page cache.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cloister/common/encoding.h"
#include "cloister/verity/verity.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Timing {
  double wall = -1;  // seconds; negative when the command failed
  double cpu = 0;    // user + system seconds of the child
};

// Runs argv with stdout/stderr to /dev/null and measures it.
Timing timed_run(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto t0 = Clock::now();
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return {};
  int status = 0;
  struct rusage ru {};
  while (wait4(pid, &status, 0, &ru) < 0) {
  }
  Timing t;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return t;
  t.wall = seconds_since(t0);
  auto tv = [](const timeval& v) { return static_cast<double>(v.tv_sec) + static_cast<double>(v.tv_usec) / 1e6; };
  t.cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
  return t;
}

// Best wall time of `runs` (with the CPU time of that run), after a warm-up run.
Timing best_of(int runs, const std::vector<std::string>& argv, const char* what) {
  if (timed_run(argv).wall < 0) {  // warm-up, and a check that the command works
    std::fprintf(stderr, "bench_verity: %s failed\n", what);
    std::exit(2);
  }
  Timing best;
  best.wall = 1e30;
  for (int i = 0; i < runs; ++i) {
    auto t = timed_run(argv);
    if (t.wall < 0) std::exit(2);
    if (t.wall < best.wall) best = t;
  }
  return best;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Rate {
  double wall_mib = 0;  // MiB/s by wall clock
  double cpu_mib = 0;   // MiB/s per CPU-second (robust against other load on the machine)
};

// Single-core SHA-256 over salt || 4 KiB block, block after block, as the tree's level 0 does.
Rate sha256_rate_mib(std::size_t total_mib) {
  std::vector<std::uint8_t> buf(16u << 20);
  std::mt19937_64 rng(1);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  std::uint8_t salt[32] = {};
  std::uint8_t out[32];
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  double best = 1e30, best_cpu = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = Clock::now();
    double c0 = thread_cpu_seconds();
    std::size_t blocks = (total_mib << 20) / 4096;
    for (std::size_t i = 0; i < blocks; ++i) {
      const std::uint8_t* block = buf.data() + (i * 4096) % buf.size();
      EVP_DigestInit_ex(ctx, md, nullptr);
      EVP_DigestUpdate(ctx, salt, sizeof salt);
      EVP_DigestUpdate(ctx, block, 4096);
      EVP_DigestFinal_ex(ctx, out, nullptr);
    }
    best = std::min(best, seconds_since(t0));
    best_cpu = std::min(best_cpu, thread_cpu_seconds() - c0);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  return {static_cast<double>(total_mib) / best, static_cast<double>(total_mib) / best_cpu};
}

std::string find_veritysetup() {
  for (const char* c : {"/usr/sbin/veritysetup", "/sbin/veritysetup", "/usr/bin/veritysetup"}) {
    if (::access(c, X_OK) == 0) return c;
  }
  return "veritysetup";
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t size_mib = 1024;
  int runs = 3;
  fs::path base = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--size-mib" && i + 1 < argc) {
      size_mib = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_verity [--size-mib N] [--runs N] [--dir DIR]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (size_mib == 0 || runs <= 0) return 2;
  const fs::path exe_dir = fs::canonical("/proc/self/exe").parent_path();
  fs::path cloister = exe_dir.parent_path() / "bin" / "cloister";
  if (!fs::exists(cloister)) cloister = exe_dir / "cloister";
  const std::string veritysetup = find_veritysetup();

  std::string pattern = (base / "verity-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    return 2;
  }
  const fs::path dir = pattern;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};

  const fs::path data = dir / "data.img";
  {
    std::FILE* f = std::fopen(data.c_str(), "wb");
    if (!f) return 2;
    std::vector<std::uint64_t> chunk((1u << 20) / 8);
    std::mt19937_64 rng(2026);
    for (std::size_t m = 0; m < size_mib; ++m) {
      for (auto& w : chunk) w = rng();
      std::fwrite(chunk.data(), 8, chunk.size(), f);
    }
    std::fclose(f);
  }
  const std::string salt(64, 'a');
  const std::string uuid = "01234567-89ab-4def-8123-456789abcdef";
  std::printf("bench_verity: %zu MiB of random data, best of %d after a warm-up, %u hardware threads\n", size_mib, runs,
              std::thread::hardware_concurrency());

  Timing t_cloister = best_of(runs, {cloister.string(), "verity", "format", "--salt", salt, "--uuid", uuid,
                                     data.string(), (dir / "cloister.hash").string()},
                              "cloister verity format");
  Timing t_cloister1 = best_of(runs, {cloister.string(), "verity", "format", "--threads", "1", "--salt", salt, "--uuid",
                                      uuid, data.string(), (dir / "cloister1.hash").string()},
                               "cloister verity format --threads 1");
  Timing t_veritysetup = best_of(runs, {veritysetup, "format", "--salt", salt, "--uuid", uuid, data.string(),
                                        (dir / "veritysetup.hash").string()},
                                 "veritysetup format");
  // Verification of the same device by both tools (root hash from an in-process format).
  cloister::verity::Params params;
  params.salt = *cloister::hex_decode(salt);
  params.uuid = *cloister::verity::parse_uuid(uuid);
  auto lib = cloister::verity::format(data, dir / "lib.hash", params);
  if (!lib) {
    std::fprintf(stderr, "bench_verity: %s\n", lib.error().to_string().c_str());
    return 2;
  }
  const std::string root = cloister::hex_encode(lib->root_hash);
  Timing v_cloister = best_of(runs, {cloister.string(), "verity", "verify", data.string(),
                                     (dir / "cloister.hash").string(), root},
                              "cloister verity verify");
  Timing v_veritysetup = best_of(runs, {veritysetup, "verify", data.string(), (dir / "veritysetup.hash").string(), root},
                                 "veritysetup verify");
  Rate sha = sha256_rate_mib(std::min<std::size_t>(size_mib, 512));

  // The two hash devices must be the same bytes, or the timing comparison means nothing.
  bool same = std::system(("cmp -s '" + (dir / "cloister.hash").string() + "' '" + (dir / "veritysetup.hash").string() +
                           "'")
                              .c_str()) == 0;

  auto rate = [&](double t) { return static_cast<double>(size_mib) / t; };
  auto line = [&](const char* name, const Timing& t) {
    std::printf("  %-36s %7.3f s  %8.1f MiB/s   (cpu %.3f s)\n", name, t.wall, rate(t.wall), t.cpu);
  };
  line("cloister verity format", t_cloister);
  line("cloister verity format --threads 1", t_cloister1);
  line("veritysetup format", t_veritysetup);
  line("cloister verity verify", v_cloister);
  line("veritysetup verify", v_veritysetup);
  std::printf("  %-36s            %8.1f MiB/s   (per cpu-second %.1f MiB/s)\n", "OpenSSL SHA-256, 1 core, salt||4KiB",
              sha.wall_mib, sha.cpu_mib);
  std::printf("  ratio cloister / veritysetup (wall):               %7.2fx\n", t_veritysetup.wall / t_cloister.wall);
  std::printf("  ratio cloister / 1-core SHA-256 limit (wall):      %7.1f%%\n", 100.0 * rate(t_cloister.wall) / sha.wall_mib);
  std::printf("  ratio --threads 1 / 1-core SHA-256 limit (wall):   %7.1f%%\n", 100.0 * rate(t_cloister1.wall) / sha.wall_mib);
  std::printf("  ratio --threads 1 / SHA-256 limit (per cpu-second): %6.1f%%\n", 100.0 * rate(t_cloister1.cpu) / sha.cpu_mib);
  std::printf("  ratio cloister / veritysetup verify (wall):        %7.2fx\n", v_veritysetup.wall / v_cloister.wall);
  std::printf("  hash devices identical:                          %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
