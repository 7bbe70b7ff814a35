#include "cloister/common/result.h"

#include <gtest/gtest.h>

namespace cloister {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return make_error(Errc::invalid_argument, "not positive: " + std::to_string(v));
  return v;
}

Result<int> doubled(int v) {
  int x = CLOISTER_TRY(parse_positive(v));
  return 2 * x;
}

Status check(int v) {
  CLOISTER_RETURN_IF_ERROR(parse_positive(v));
  return {};
}

TEST(Result, TryPropagatesValueAndError) {
  EXPECT_EQ(*doubled(4), 8);
  auto e = doubled(-1);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), Errc::invalid_argument);
  EXPECT_TRUE(check(1));
  EXPECT_FALSE(check(0));
}

TEST(Result, ContextChainOutermostFirst) {
  Error e(Errc::parse, "bad byte");
  e.wrap("entry a/b").wrap("layer.tar");
  EXPECT_EQ(e.to_string(), "layer.tar: entry a/b: bad byte");
  EXPECT_EQ(errc_name(e.code()), "parse");
}

}  // namespace
}  // namespace cloister
