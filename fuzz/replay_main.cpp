// Replays fuzz inputs through a libFuzzer entry point without libFuzzer, so every fuzz target is
// built and its seed corpus exercised by the normal (GCC) test run. Arguments: files or
// directories (read recursively).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// libFuzzer's own mutator, which a target's custom mutator may call. Replaying never mutates; this
// stands in so such targets link (and leaves the data as it is).
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t*, std::size_t size, std::size_t) { return size; }

namespace {
void run_one(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size());
}
}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg = argv[i];
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (e.is_regular_file()) {
          run_one(e.path());
          ++count;
        }
      }
    } else if (std::filesystem::is_regular_file(arg)) {
      run_one(arg);
      ++count;
    } else {
      std::fprintf(stderr, "replay: no such input %s\n", argv[i]);
      return 2;
    }
  }
  // An empty corpus would make the test pass without running anything.
  if (count == 0) {
    std::fprintf(stderr, "replay: no inputs found\n");
    return 2;
  }
  std::printf("replayed %zu inputs\n", count);
  return 0;
}
