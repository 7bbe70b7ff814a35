// time.* and rand.intn: expected values from OPA's conformance topic "time" and Go's time
// package semantics (reference layouts, AddDate normalisation, ParseDuration).
#include <chrono>

#include "builtins_test_util.h"
#include "cloister/rego/rego.h"

namespace cloister::rego {
namespace {

using namespace testing;
constexpr const char* kBuiltin = "eval_builtin_error";

TEST(RegoTime, ParseLayoutsAndRange) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "time.parse_rfc3339_ns", R"j(["2017-06-02T19:00:00-07:00"])j", "1496455200000000000");
  EXPECT_BUILTIN(c, "time.parse_ns", R"j(["2006-01-02T15:04:05Z07:00", "2017-06-02T19:00:00-07:00"])j", "1496455200000000000");
  EXPECT_BUILTIN(c, "time.parse_ns", R"j(["01/02 03:04:05PM '06 -0700", "06/02 07:00:00PM '17 -0700"])j", "1496455200000000000");
  EXPECT_BUILTIN(c, "time.parse_ns", R"j(["02 Jan 06 15:04 -0700", "02 Jun 17 19:00 -0700"])j", "1496455200000000000");
  EXPECT_BUILTIN(c, "time.parse_ns", R"j(["2006-01-02", "1970-01-02"])j", "86400000000000");
  EXPECT_BUILTIN(c, "time.parse_ns", R"j(["RFC1123", "Mon, 02 Jan 2006 15:04:05 UTC"])j", "1136214245000000000");
  EXPECT_BUILTIN(c, "time.parse_rfc3339_ns", R"j(["1970-01-01T00:00:00.5Z"])j", "500000000");
  EXPECT_BUILTIN(c, "time.parse_rfc3339_ns", R"j(["2262-04-11T23:47:16.854775807-00:00"])j", "9223372036854775807");
  EXPECT_BUILTIN(c, "time.parse_rfc3339_ns", R"j(["1677-09-21T00:12:43.145224192-00:00"])j", "-9223372036854775808");
  EXPECT_BUILTIN_ERROR(c, "time.parse_rfc3339_ns", R"j(["2262-04-11T23:47:16.854775808-00:00"])j", kBuiltin,
                       "time outside of valid range");
  EXPECT_BUILTIN_ERROR(c, "time.parse_ns", R"j(["2006-01-02", "2021-02-30"])j", kBuiltin, "day out of range");
  EXPECT_BUILTIN(c, "time.parse_ns", R"j(["2006 __2", "1970  32"])j", "2678400000000000");  // day of year 32 = Feb 1
  EXPECT_BUILTIN_ERROR(c, "time.parse_ns", R"j(["__2", "   "])j", kBuiltin, "cannot parse");
  EXPECT_BUILTIN_ERROR(c, "time.parse_ns", R"j(["2006-01-02", "20x1-02-03"])j", kBuiltin,
                       "parsing time \"20x1-02-03\" as \"2006-01-02\": cannot parse \"20x1-02-03\" as \"2006\"");
}

// test.sleep waits (time.now_ns stays fixed across it: OPA's "time caching" conformance case),
// yields null, and never waits past the evaluation's deadline, which ends the evaluation.
TEST(RegoTime, SleepWaitsAndStopsAtTheDeadline) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "test.sleep", R"j(["1ms"])j", "null");
  EXPECT_BUILTIN(c, "test.sleep", R"j(["-5s"])j", "null");
  EXPECT_BUILTIN_ERROR(c, "test.sleep", R"j(["soon"])j", kBuiltin, "time: invalid duration \"soon\"");

  using Clock = std::chrono::steady_clock;
  auto p = Policy::compile({{"t.rego", R"(package t
same if {
  time.now_ns(t0)
  test.sleep("20ms")
  time.now_ns(t1)
  t0 == t1
}
forever if test.sleep("1h")
longest if test.sleep("2562047h47m16.854775807s")
)"}});
  ASSERT_TRUE(p.has_value()) << p.error().message();
  auto t0 = Clock::now();
  auto r = (*p)->eval("data.t.same");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(to_json(r->rows[0].value), "true");
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(20));

  EvalOptions o;
  o.limits.timeout = std::chrono::milliseconds(50);
  t0 = Clock::now();
  r = (*p)->eval("data.t.forever", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(error_code(r.error()), "eval_limit_error");
  EXPECT_NE(r.error().message().find("evaluation timed out"), std::string::npos) << r.error().message();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(30));  // stopped at the deadline, not after an hour
  // The longest duration there is: the clock must not overflow into "already past".
  t0 = Clock::now();
  r = (*p)->eval("data.t.longest", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(error_code(r.error()), "eval_limit_error");
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(50));
}

TEST(RegoTime, Durations) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "time.parse_duration_ns", R"j(["100ms"])j", "100000000");
  EXPECT_BUILTIN(c, "time.parse_duration_ns", R"j(["1h2m3.5s"])j", "3723500000000");
  EXPECT_BUILTIN(c, "time.parse_duration_ns", R"j(["-1.5us"])j", "-1500");
  EXPECT_BUILTIN(c, "time.parse_duration_ns", R"j(["0"])j", "0");
  EXPECT_BUILTIN_ERROR(c, "time.parse_duration_ns", R"j(["1"])j", kBuiltin, "time: missing unit in duration \"1\"");
  EXPECT_BUILTIN_ERROR(c, "time.parse_duration_ns", R"j(["1x"])j", kBuiltin, "time: unknown unit \"x\" in duration \"1x\"");
  EXPECT_BUILTIN_ERROR(c, "time.parse_duration_ns", R"j(["x"])j", kBuiltin, "time: invalid duration \"x\"");
}

TEST(RegoTime, CalendarViewsAndZones) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "time.date", R"j([1517832000000000000])j", "[2018, 2, 5]");
  EXPECT_BUILTIN(c, "time.weekday", R"j([1517832000000000000])j", R"j("Monday")j");
  EXPECT_BUILTIN(c, "time.weekday", R"j([1518264000000000000])j", R"j("Saturday")j");
  EXPECT_BUILTIN(c, "time.clock", R"j([1517832000000000000])j", "[12, 0, 0]");
  // 2018-02-05T12:00Z is 07:00 in New York (EST, UTC-5) and 04:00 in Los Angeles.
  EXPECT_BUILTIN(c, "time.clock", R"j([[1517832000000000000, "America/New_York"]])j", "[7, 0, 0]");
  EXPECT_BUILTIN(c, "time.date", R"j([[1517832000000000000, "America/Los_Angeles"]])j", "[2018, 2, 5]");
  EXPECT_BUILTIN(c, "time.date", R"j([[-1, ""]])j", "[1969, 12, 31]");
  EXPECT_BUILTIN_ERROR(c, "time.date", R"j([[0, "Nowhere/City"]])j", kBuiltin, "unknown time zone Nowhere/City");
  EXPECT_BUILTIN_ERROR(c, "time.date", R"j([[0, "../../etc/passwd"]])j", kBuiltin, "unknown time zone");
  EXPECT_BUILTIN_ERROR(c, "time.format", R"j([1.5829776e25])j", kBuiltin, "timestamp too big");
}

TEST(RegoTime, FormatAddDateDiff) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "time.format", R"j([1585852421593912000])j", R"j("2020-04-02T18:33:41.593912Z")j");
  EXPECT_BUILTIN(c, "time.format", R"j([[1585852421593912000, "Asia/Kolkata"]])j", R"j("2020-04-03T00:03:41.593912+05:30")j");
  EXPECT_BUILTIN(c, "time.format", R"j([[1585852421593912000, "Asia/Kolkata", "RFC1123Z"]])j", R"j("Fri, 03 Apr 2020 00:03:41 +0530")j");
  EXPECT_BUILTIN(c, "time.format", R"j([[1585852421593912000, "UTC", "Mon Jan _2 3:04PM MST .000 002"]])j",
                 R"j("Thu Apr  2 6:33PM UTC .593 093")j");
  EXPECT_BUILTIN(c, "time.add_date", R"j([1585852421593912000, 3, 9, 12])j", "1705257221593912000");
  EXPECT_BUILTIN(c, "time.add_date", R"j([1585852421593912000, -1, -1, -1])j", "1551465221593912000");
  // Go normalises overflowing days: 2021-01-31 + 1 month = 2021-03-03.
  EXPECT_BUILTIN(c, "time.add_date", R"j([1612051200000000000, 0, 1, 0])j", "1614729600000000000");
  EXPECT_BUILTIN_ERROR(c, "time.add_date", R"j([0, 2262, 1, 1])j", kBuiltin, "time outside of valid range");
  // 2004-02-29 .. 2005-03-01: 1 year 0 months 1 day.
  EXPECT_BUILTIN(c, "time.diff", R"j([1078012800000000000, 1109635200000000000])j", "[1, 0, 1, 0, 0, 0]");
  EXPECT_BUILTIN(c, "time.diff", R"j([1109635200000000000, 1078012800000000000])j", "[1, 0, 1, 0, 0, 0]");
  EXPECT_BUILTIN(c, "time.now_ns", "[]", "1700000000123456789");
}

TEST(RegoRand, IntnIsStablePerEvaluation) {
  BuiltinCaller c;
  auto a = c.call("rand.intn", R"j(["k", 100])j");
  auto b = c.call("rand.intn", R"j(["k", 100])j");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  std::int64_t v = -1;
  ASSERT_TRUE(a->to_int64(v));
  EXPECT_GE(v, 0);
  EXPECT_LT(v, 100);
  EXPECT_BUILTIN(c, "rand.intn", R"j(["k", 0])j", "0");
  auto one = c.call("rand.intn", R"j(["z", -1])j");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, I(0));
}

}  // namespace
}  // namespace cloister::rego
