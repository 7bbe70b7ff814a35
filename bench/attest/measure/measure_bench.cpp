// Launch-measurement cost for a full-size (4 MiB) OVMF: the shipped 4 KiB suffix with its footer
// tables, preceded by 4 MiB - 4 KiB of filler, so every page is hashed as for a real image.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>

#include "cloister/common/file.h"
#include "cloister/snp_measure/measure.h"

namespace {

using namespace cloister::snp_measure;

cloister::Bytes full_size_ovmf() {
  const char* root = std::getenv("CLOISTER_SHARED_TESTDATA");
  std::string dir = root && *root ? root : CLOISTER_SHARED_TESTDATA_DEFAULT;
  auto suffix = cloister::read_file(dir + "/snp-measure/ovmf_AmdSev_suffix.bin");
  if (!suffix) {
    std::fprintf(stderr, "%s\n", suffix.error().to_string().c_str());
    std::exit(2);
  }
  cloister::Bytes image(4 * 1024 * 1024 - suffix->size());
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<std::uint8_t>(i * 131 + (i >> 12));
  image.insert(image.end(), suffix->begin(), suffix->end());
  return image;
}

LaunchConfig config_for(Mode mode) {
  LaunchConfig c;
  c.mode = mode;
  c.vcpus = 4;
  c.vcpu_signature = 0x800f12;
  c.firmware = full_size_ovmf();
  c.kernel = kernel_hashes({}, {}, "console=ttyS0");
  return c;
}

void run(benchmark::State& state, Mode mode) {
  const LaunchConfig c = config_for(mode);
  for (auto _ : state) {
    auto m = measure(c);
    if (!m) state.SkipWithError(m.error().to_string().c_str());
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(c.firmware.size()));
}

void BM_MeasureSnp4MiB(benchmark::State& state) { run(state, Mode::snp); }
void BM_MeasureSevEs4MiB(benchmark::State& state) { run(state, Mode::seves); }

void BM_MeasureSnpWithOvmfHash(benchmark::State& state) {
  LaunchConfig c = config_for(Mode::snp);
  auto seed = snp_firmware_digest(c.firmware);
  if (!seed) std::exit(2);
  c.snp_ovmf_hash = *seed;
  for (auto _ : state) {
    auto m = measure(c);
    benchmark::DoNotOptimize(m);
  }
}

BENCHMARK(BM_MeasureSnp4MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MeasureSevEs4MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MeasureSnpWithOvmfHash)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
