#include "helpers.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace cloister::verity::test {

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v = rng();
    for (int k = 0; k < 8; ++k) out[i + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  for (; i < n; ++i) out[i] = static_cast<std::uint8_t>(rng());
  return out;
}

void write_bytes(const std::filesystem::path& p, ByteView data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

Bytes read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void flip_byte(const std::filesystem::path& p, std::uint64_t offset) {
  std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
  if (!f) throw std::runtime_error("cannot flip byte " + std::to_string(offset) + " of " + p.string());
}

std::string veritysetup() {
  std::vector<std::filesystem::path> candidates;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) candidates.emplace_back(std::filesystem::path(dir) / "veritysetup");
  }
  candidates.emplace_back("/usr/sbin/veritysetup");
  candidates.emplace_back("/sbin/veritysetup");
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c.string();
  }
  throw std::runtime_error("veritysetup not found in PATH, /usr/sbin or /sbin: install cryptsetup-bin (scripts/install-deps.sh)");
}

std::string run_veritysetup(const std::vector<std::string>& args) {
  std::vector<std::string> argv{veritysetup()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = cloister::testing::run_process(argv);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error("veritysetup failed (" + std::to_string(r.exit_code) + "): " + cmd + "\n" + r.err);
  }
  return r.out;
}

std::string field(const std::string& output, const std::string& key) {
  std::stringstream ss(output);
  std::string line;
  while (std::getline(ss, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      auto v = line.substr(key.size() + 1);
      auto start = v.find_first_not_of(" \t");
      return start == std::string::npos ? "" : v.substr(start);
    }
  }
  return "";
}

std::string cloister_bin() { return cloister::testing::bin_path("cloister").string(); }

}  // namespace cloister::verity::test
