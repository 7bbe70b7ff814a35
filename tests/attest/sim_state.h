// The simulator state shared by the attest test suites.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "cloister/attest/sim.h"

namespace cloister::attest::testsim {

namespace fs = std::filesystem;

inline constexpr std::time_t kInit = 1790000000;  // 2026-09-21
inline constexpr std::time_t kNow = kInit + 86400;

// One simulator state shared by every test process (gtest_discover_tests runs each TEST in its
// own process and RSA-4096 generation takes seconds): created once under the build tree, by
// renaming a finished temp directory into place so concurrent first runs cannot see half a state.
struct SimState {
  fs::path root;
  SimFirmware fw;
  struct {
    const SimState* s;
    fs::path path() const { return s->root; }
  } dir{nullptr};
};
inline SimState& state() {
  static SimState* s = [] {
    fs::path cache = fs::path(CLOISTER_ATTEST_TEST_CACHE) / "sim-v1";
    if (!fs::exists(cache / "sim" / "state.json")) {
      fs::create_directories(cache.parent_path());
      fs::path tmp = cache.parent_path() / ("sim-tmp-" + std::to_string(::getpid()));
      SimInitOptions o;
      o.product = Product::genoa;
      o.tcb = TcbVersion{0, 7, 0, 21, 200};
      o.chips = 2;
      o.now = kInit;
      auto fw = SimFirmware::init(tmp / "sim", o);
      if (!fw) throw std::runtime_error(fw.error().to_string());
      std::error_code ec;
      fs::rename(tmp, cache, ec);  // loses the race harmlessly if another process won
      fs::remove_all(tmp, ec);
    }
    auto fw = SimFirmware::load(cache / "sim");
    if (!fw) throw std::runtime_error(fw.error().to_string());
    auto* st = new SimState{cache, std::move(*fw)};
    st->dir.s = st;
    return st;
  }();
  return *s;
}

}  // namespace cloister::attest::testsim
