// The OPA conformance suite must not regress: the pass count may only rise above the floor
// recorded in tests/rego/conformance_floor.txt.
#include <fstream>

#include <gtest/gtest.h>

#include "cloister/rego/conformance.h"
#include "testing/testdata.h"

namespace cloister::rego {
namespace {

TEST(RegoConformance, PassCountStaysAboveFloor) {
  auto dir = cloister::testing::shared_testdata("opa-conformance/v1");
  std::ifstream in(cloister::testing::source_dir() / "tests/rego/conformance_floor.txt");
  std::size_t floor = 0;
  ASSERT_TRUE(in >> floor) << "tests/rego/conformance_floor.txt must hold the pass-count floor";
  auto report = run_conformance({dir});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  std::cout << report->passed << " passed, " << report->failed << " failed, " << report->skipped << " skipped\n";
  EXPECT_GE(report->passed, floor);
  EXPECT_EQ(report->passed + report->failed + report->skipped, 1912u);
}

}  // namespace
}  // namespace cloister::rego
