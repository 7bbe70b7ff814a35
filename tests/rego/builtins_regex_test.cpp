// Regex builtins: expected values from OPA's conformance topics regexmatch, regexfind,
// regexfindallstringsubmatch, regexsplit, regexreplace, regexmatchtemplate, regexisvalid, and
// Go's regexp iteration rules.
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include <re2/re2.h>

#include "builtins/regex_pattern.h"
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;

TEST(RegoRegex, MatchAndIsValid) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "regex.match", R"j(["^[a-z]+\\[[0-9]+\\]$", "foo[1]"])j", "true");
  EXPECT_BUILTIN(c, "regex.match", R"j(["", ""])j", "true");
  EXPECT_BUILTIN(c, "regex.match", R"j(["", "x"])j", "true");
  EXPECT_BUILTIN(c, "regex.match", R"j(["^$", "something"])j", "false");
  EXPECT_BUILTIN(c, "re_match", R"j(["b+", "abbc"])j", "true");
  EXPECT_BUILTIN_ERROR(c, "regex.match", R"j(["$^[[[", "something"])j", "eval_builtin_error",
                       "regex.match: error parsing regexp");
  EXPECT_BUILTIN(c, "regex.is_valid", R"j([".+"])j", "true");
  EXPECT_BUILTIN(c, "regex.is_valid", R"j(["++"])j", "false");
  EXPECT_BUILTIN(c, "regex.is_valid", R"j([5])j", "false");
}

TEST(RegoRegex, FindNFollowsGoFindAll) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "regex.find_n", R"j(["a.", "paranormal", -1])j", R"j(["ar", "an", "al"])j");
  EXPECT_BUILTIN(c, "regex.find_n", R"j(["a.", "paranormal", 2])j", R"j(["ar", "an"])j");
  EXPECT_BUILTIN(c, "regex.find_n", R"j(["a.", "paranormal", 0])j", "[]");
  EXPECT_BUILTIN(c, "regex.find_n", R"j(["^a.", "abacadaeaf", -1])j", R"j(["ab"])j");
  EXPECT_BUILTIN(c, "regex.find_n", R"j([".$", "abacadaeaf", -1])j", R"j(["f"])j");
  EXPECT_BUILTIN(c, "regex.find_n", R"j(["[abcdef]{2}", "abacadaeaf", -1])j", R"j(["ab", "ac", "ad", "ae", "af"])j");
  // An empty match right after a non-empty match is dropped (Go regexp.allMatches).
  EXPECT_BUILTIN(c, "regex.find_n", R"j(["a*", "baaab", -1])j", R"j(["", "aaa", ""])j");
  EXPECT_BUILTIN(c, "regex.find_n", R"j(["x*", "éa", -1])j", R"j(["", "", ""])j");
}

TEST(RegoRegex, FindAllStringSubmatch) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "regex.find_all_string_submatch_n", R"j(["a(x*)b", "-ab-axxb-", -1])j",
                 R"j([["ab", ""], ["axxb", "xx"]])j");
  EXPECT_BUILTIN(c, "regex.find_all_string_submatch_n", R"j(["a(x)?(b)", "ab axb", 1])j", R"j([["ab", "", "b"]])j");
  EXPECT_BUILTIN(c, "regex.find_all_string_submatch_n", R"j(["[^aouiye]([aouiye])([^aouiye])?", "mississippi", -1])j",
                 R"j([["mis", "i", "s"], ["sis", "i", "s"], ["sip", "i", "p"], ["pi", "i", ""]])j");
}

TEST(RegoRegex, SplitFollowsGoSplit) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "regex.split", R"j(["a", "banana"])j", R"j(["b", "n", "n", ""])j");
  EXPECT_BUILTIN(c, "regex.split", R"j(["z+", "pizza"])j", R"j(["pi", "a"])j");
  EXPECT_BUILTIN(c, "regex.split", R"j(["^[a-z]+\\[[0-9]+\\]$", ""])j", R"j([""])j");
  EXPECT_BUILTIN(c, "regex.split", R"j(["^[a-z ]+$", "foobar baz"])j", R"j(["", ""])j");
  EXPECT_BUILTIN(c, "regex.split", R"j(["^[a-z]+", "foobar baz"])j", R"j(["", " baz"])j");
  EXPECT_BUILTIN(c, "regex.split", R"j(["[a-z]+$", "foobar baz"])j", R"j(["foobar ", ""])j");
  EXPECT_BUILTIN(c, "regex.split", R"j(["", "abc"])j", R"j(["a", "b", "c"])j");
}

TEST(RegoRegex, ReplaceExpandsGoTemplates) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "regex.replace", R"j(["foo bar", "[a-z]", "_"])j", R"j("___ ___")j");
  EXPECT_BUILTIN(c, "regex.replace", R"j(["foo barx", "[a-z]{2}", "_"])j", R"j("_o __")j");
  EXPECT_BUILTIN(c, "regex.replace", R"j(["foo", "^[a-z]", "F"])j", R"j("Foo")j");
  EXPECT_BUILTIN(c, "regex.replace", R"j(["foo", "x[a-z]$", "F"])j", R"j("foo")j");
  EXPECT_BUILTIN(c, "regex.replace", R"j(["-wy-wxxy-", "w(x*)", "$1W"])j", R"j("-y-y-")j");
  EXPECT_BUILTIN(c, "regex.replace", R"j(["-wy-wxxy-", "w(x*)", "${1}W"])j", R"j("-Wy-xxWy-")j");
  EXPECT_BUILTIN(c, "regex.replace", R"j(["foo", "(?P<w>o)", "[$w$$]"])j", R"j("f[o$][o$]")j");
  EXPECT_BUILTIN(c, "regex.replace", R"j(["abc", "x*", "-"])j", R"j("-a-b-c-")j");
  EXPECT_BUILTIN(c, "regex.replace", R"j(["baaac", "a*", "-"])j", R"j("-b-c-")j");
  EXPECT_BUILTIN_ERROR(c, "regex.replace", R"j(["foo", "[", "$1"])j", "eval_builtin_error", "error parsing regexp");
}

TEST(RegoRegex, TemplateMatch) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "regex.template_match", R"j(["urn:foo:{.*}", "urn:foo:bar:baz", "{", "}"])j", "true");
  EXPECT_BUILTIN(c, "regex.template_match", R"j(["urn:foo:<.*>", "urn:foo:bar:baz", "<", ">"])j", "true");
  EXPECT_BUILTIN(c, "regex.template_match", R"j(["urn:foo.{[a-z]+}", "urn:fooxbar", "{", "}"])j", "false");
  EXPECT_BUILTIN(c, "regex.template_match", R"j(["a{b{c}}", "abc", "{", "}"])j", "false");
  EXPECT_BUILTIN_ERROR(c, "regex.template_match", R"j(["urn:{.*", "urn:x", "{", "}"])j", "eval_builtin_error",
                       "unbalanced braces");
}

// The policy's shared table: one compiled pattern per text for every evaluation and thread,
// invalid patterns shared with their error, and patterns beyond the table's room compiled per
// evaluation with the same answers.
TEST(RegoRegex, SharedCacheServesEveryEvaluationAndOverflowsToItsOwn) {
  builtins::SharedRegexCache shared(16);  // 16 slots: filled below
  const builtins::Regex* first = shared.get("^a[0-9]+$");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(shared.get("^a[0-9]+$"), first);
  EXPECT_EQ(first->pattern(), "^a[0-9]+$");
  const builtins::Regex* bad = shared.get("a(");
  ASSERT_NE(bad, nullptr);
  EXPECT_FALSE(bad->ok());
  EXPECT_EQ(shared.get("a("), bad);

  std::vector<std::thread> threads;
  std::atomic<int> agree{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      builtins::RegexCache own(&shared);
      for (int i = 0; i < 64; ++i) {
        const int n = (i * 5 + t * 3) % 64;
        std::string pattern = "^p";
        pattern.append(std::to_string(n)).append("x$");
        std::string subject = "p";
        subject.append(std::to_string(n)).append("x");
        const builtins::Regex* re = own.get(pattern);
        if (re && re->pattern() == pattern && re2::RE2::FullMatch(subject, *re) &&
            !re2::RE2::FullMatch(subject + "y", *re))
          ++agree;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(agree.load(), 256);
  int stored = 0;  // at most 16 slots; the rest stayed in each evaluation's own cache
  for (int n = 0; n < 64; ++n) {
    std::string pattern = "^p";
    pattern.append(std::to_string(n)).append("x$");
    if (const builtins::Regex* re = shared.get(pattern)) {
      EXPECT_EQ(re->pattern(), pattern);
      ++stored;
    }
  }
  EXPECT_GT(stored, 0);
  EXPECT_LE(stored, 14);  // two slots hold the first two patterns

  BuiltinCaller c;
  EXPECT_BUILTIN_ERROR(c, "regex.match", R"j(["a(", "a"])j", "eval_builtin_error", "missing )");
}

// The match prefilter (builtins::Regex::may_match) uses RE2's whole-string range, so it may refuse
// a subject only for patterns whose every match is the whole subject.
TEST(RegoRegex, FullyAnchoredReadsOnlyTopLevelAnchors) {
  for (std::string_view p : {"^abc$", "^$", "^(a|b)c$", "^(?:a|b)+$", "^[|$]x$", "^[]|]$", "^[^]a]$", R"(^a\\$)",
                             R"(^\.\|$)", "^a{2}$"})
    EXPECT_TRUE(builtins::fully_anchored(p)) << p;
  for (std::string_view p : {"abc", "^abc", "abc$", "^a|b$", R"(^a\$)", "(?m)^a$", "^(?m)a$", "^(?i)a$", "^*a$",
                             "^?a$", "^[[:alpha:]]$", R"(^\Qa|b\E$)", "^a)$", "^(a$", "^[a$", "^", "$", ""})
    EXPECT_FALSE(builtins::fully_anchored(p)) << p;
}

TEST(RegoRegex, PrefilterNeverRefusesAMatch) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  // Refuses what genpolicy's per-variable patterns rule out by prefix, and nothing unanchored.
  const builtins::Regex host("^HOST_IP_13=[0-9.]+$", opts);
  EXPECT_FALSE(host.may_match("HOST_IP_3=10.0.0.3"));
  EXPECT_FALSE(host.may_match("HOST_IP_130=1"));
  EXPECT_TRUE(host.may_match("HOST_IP_13=10.0.0.13"));
  EXPECT_TRUE(builtins::Regex("HOST_IP_13=[0-9.]+$", opts).may_match("HOST_IP_3=10.0.0.3"));
  EXPECT_TRUE(builtins::Regex("^HOST_IP_13=[0-9.]+", opts).may_match("HOST_IP_130=1"));

  // Random anchored patterns against random subjects: whenever RE2 finds a match, may_match says so.
  const std::vector<std::string> pieces = {"a", "b", ".", "[a-c]", "[^b]", "(a|bc)", "x*", "y+", "z?", "(ab)*",
                                           R"(\.)", "é", "[é-ü]", "(?:b|\n)", "a{2,3}", R"(\d)", "\\xff?", "(|a)"};
  const std::vector<std::string> chars = {"a", "b", "c", "x", "y", "z", ".", "é", "ü", "\n", "\xff", "0", "ab"};
  std::mt19937 rng(7);
  int refused = 0;
  for (int round = 0; round < 400; ++round) {
    std::string body;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 5); k < n; ++k) body += pieces[rng() % pieces.size()];
    const std::string pattern = "^" + body + "$";
    const builtins::Regex re(pattern, opts);
    ASSERT_TRUE(re.ok()) << pattern << ": " << re.error();
    for (int t = 0; t < 60; ++t) {
      std::string subject;
      for (int k = 0, n = static_cast<int>(rng() % 6); k < n; ++k) subject += chars[rng() % chars.size()];
      const bool matches = re2::RE2::PartialMatch(subject, re);
      if (matches) {
        EXPECT_TRUE(re.may_match(subject)) << pattern << " on " << subject;
      } else if (!re.may_match(subject)) {
        ++refused;
      }
    }
  }
  EXPECT_GT(refused, 1000);  // (the prefilter is doing something)
}

// Pattern values are remembered by node in a small direct-mapped table: many values (colliding
// there), each used twice, with equal texts in separate nodes and a failing pattern among them,
// must each match what their own text says.
TEST(RegoRegex, RepeatedPatternValuesMatchTheirOwnText) {
  builtins::SharedRegexCache shared;
  builtins::RegexCache cache(&shared);
  std::vector<Value> patterns;
  for (int i = 0; i < 100; ++i) {
    std::string text = "^v";
    text.append(std::to_string(i % 50)).append("$");
    patterns.push_back(Value::string(text));  // i and i + 50: equal texts, separate nodes
  }
  patterns.push_back(Value::string("a("));
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      std::string error;
      const builtins::Regex* re = cache.get(patterns[i], &error);
      if (i == 100) {
        EXPECT_EQ(re, nullptr);
        EXPECT_NE(error.find("missing )"), std::string::npos) << error;
        continue;
      }
      ASSERT_NE(re, nullptr) << i;
      std::string subject = "v";
      subject.append(std::to_string(i % 50));
      EXPECT_TRUE(re2::RE2::PartialMatch(subject, *re)) << i;
      EXPECT_FALSE(re2::RE2::PartialMatch(subject + "0", *re)) << i;
      EXPECT_EQ(re, cache.get(patterns[i].as_string())) << i;
    }
  }
}

}  // namespace
}  // namespace cloister::rego

namespace cloister::rego {
namespace {

using namespace testing;

// BuiltinDef::test (startswith, endswith, contains, regex.match called as tests on borrowed
// operands) answers exactly as the builtin's value does, and leaves to `fn` what it cannot
// decide: operands of other types and patterns that do not compile, whose errors `fn` reports.
TEST(RegoBuiltins, TestEntriesAnswerAsTheirFunctions) {
  BuiltinCaller c;
  const auto& reg = builtins::Registry::standard();
  const std::vector<Value> operands = {S(""),      S("a"),         S("ab"),        S("abc"),   S("b"),
                                       S("^a"),    S("[0-9]+$"),   S("$^[[["),     S("^(a|b)c$"), I(1),
                                       J("null"),  J("[\"a\"]"),   S("h\xC3\xA9"), S("\xC3\xA9")};
  std::size_t tested = 0, decided = 0;
  for (const char* name : {"startswith", "endswith", "contains", "regex.match"}) {
    const builtins::BuiltinDef* b = reg.find(name);
    ASSERT_NE(b, nullptr) << name;
    ASSERT_NE(b->test, nullptr) << name;
    for (const Value& x : operands) {
      for (const Value& y : operands) {
        const Value* args[] = {&x, &y};
        bool holds = false;
        const bool did = b->test(c.ctx(), args, holds);
        auto r = c.call(name, {x, y});
        ++tested;
        if (!r) {
          EXPECT_FALSE(did) << name << "(" << to_json(x) << ", " << to_json(y) << ") decided where fn errs";
          continue;
        }
        if (!did) continue;
        ++decided;
        EXPECT_EQ(holds, r->is_true()) << name << "(" << to_json(x) << ", " << to_json(y) << ")";
      }
    }
  }
  EXPECT_EQ(tested, 4u * 14 * 14);
  // Every pair of the 11 strings, but for regex.match those with the invalid pattern.
  EXPECT_EQ(decided, 3u * 11 * 11 + 10 * 11);
}

}  // namespace
}  // namespace cloister::rego
