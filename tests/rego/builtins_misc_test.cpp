// glob.*, regex.globs_match, bits.*, semver.*, uuid.*, graph.*: expected values from OPA's
// conformance topics (globmatch, globsmatch, bits*, semver*, uuid) and OPA's documentation.
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;
constexpr const char* kType = "eval_type_error";
constexpr const char* kBuiltin = "eval_builtin_error";

// OPA's deprecated casts (topdown/casts.go), set_diff and trace: values as OPA's docs give them,
// and OPA's operand type errors for anything else.
TEST(RegoDeprecated, CastsSetDiffAndTrace) {
  BuiltinCaller c;
  const Value set21 = Value::set({I(2), I(1)});
  EXPECT_BUILTIN(c, "cast_array", std::vector<Value>{set21}, "[1,2]");
  EXPECT_BUILTIN(c, "cast_array", "[[3,1]]", "[3,1]");
  auto s = c.call("cast_set", "[[2,1,2]]");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, set21);
  EXPECT_EQ(*c.call("cast_set", std::vector<Value>{set21}), set21);
  EXPECT_BUILTIN_ERROR(c, "cast_array", "[1]", kType, "cast_array: operand 1 must be one of {array, set} but got number");
  EXPECT_BUILTIN_ERROR(c, "cast_set", R"(["a"])", kType, "cast_set: operand 1 must be one of {array, set} but got string");
  EXPECT_BUILTIN(c, "cast_string", R"(["s"])", R"("s")");
  EXPECT_BUILTIN(c, "cast_boolean", "[false]", "false");
  EXPECT_BUILTIN(c, "cast_null", "[null]", "null");
  EXPECT_BUILTIN(c, "cast_object", R"([{"a":1}])", R"({"a":1})");
  EXPECT_BUILTIN_ERROR(c, "cast_string", "[1]", kType, "cast_string: operand 1 must be string but got number");
  EXPECT_BUILTIN_ERROR(c, "cast_boolean", "[0]", kType, "cast_boolean: operand 1 must be boolean but got number");
  EXPECT_BUILTIN_ERROR(c, "cast_null", "[false]", kType, "cast_null: operand 1 must be null but got boolean");
  EXPECT_BUILTIN_ERROR(c, "cast_object", "[[]]", kType, "cast_object: operand 1 must be object but got array");
  auto d = c.call("set_diff", std::vector<Value>{Value::set({I(1), I(2), I(3)}), Value::set({I(2), I(4)})});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, Value::set({I(1), I(3)}));
  EXPECT_BUILTIN_ERROR(c, "set_diff", std::vector<Value>({set21, J("[1]")}), kType, "set_diff: operand 2 must be set but got array");
  EXPECT_BUILTIN(c, "trace", R"(["note"])", "true");
  EXPECT_BUILTIN_ERROR(c, "trace", "[1]", kType, "trace: operand 1 must be string but got number");
}

TEST(RegoGlob, MatchWithDelimiters) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "glob.match", R"j(["*.github.com", ["."], "api.github.com"])j", "true");
  EXPECT_BUILTIN(c, "glob.match", R"j(["*.github.com", ["."], "api.cdn.github.com"])j", "false");
  EXPECT_BUILTIN(c, "glob.match", R"j(["api.**.com", ["."], "api.cdn.github.com"])j", "true");
  EXPECT_BUILTIN(c, "glob.match", R"j(["*:github:com", [":"], "api:github:com"])j", "true");
  EXPECT_BUILTIN(c, "glob.match", R"j(["[!a-c]at", [], "fat"])j", "true");
  EXPECT_BUILTIN(c, "glob.match", R"j(["[!a-c]at", [], "bat"])j", "false");
  EXPECT_BUILTIN(c, "glob.match", R"j(["?at", ["f"], "fat"])j", "false");
  EXPECT_BUILTIN(c, "glob.match", R"j(["{cat,bat,[fr]at}", [], "rat"])j", "true");
  EXPECT_BUILTIN(c, "glob.match", R"j(["{cat,bat,[fr]at}", [], "at"])j", "false");
  EXPECT_BUILTIN(c, "glob.match", R"j(["*", [], "foo.bar"])j", "false");  // [] means the default "."
  EXPECT_BUILTIN(c, "glob.match", R"j(["*", null, "foo.bar"])j", "true");  // null means no delimiters
  EXPECT_BUILTIN(c, "glob.match", R"j(["a\\*b", null, "a*b"])j", "true");
  EXPECT_BUILTIN(c, "glob.match", R"j(["a\\*b", null, "axb"])j", "false");
  EXPECT_BUILTIN(c, "glob.match", R"j(["a(b)+c", null, "a(b)+c"])j", "true");
  EXPECT_BUILTIN_ERROR(c, "glob.match", R"j(["[abc", null, "a"])j", kBuiltin, "glob.match:");
  EXPECT_BUILTIN(c, "glob.quote_meta", R"j(["*.github.com"])j", R"j("\\*.github.com")j");
  EXPECT_BUILTIN(c, "glob.quote_meta", R"j(["{a,b}[c]?\\"])j", R"j("\\{a\\,b\\}\\[c\\]\\?\\\\")j");
}

TEST(RegoGlob, GlobsMatchIntersectsPatterns) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "regex.globs_match", R"j(["a.a.[0-9]+z", ".b.b2359825792*594823z"])j", "true");
  EXPECT_BUILTIN(c, "regex.globs_match", R"j(["[a-z]+", "[0-9]*"])j", "false");  // only "" is in [0-9]*, and + needs a rune
  EXPECT_BUILTIN(c, "regex.globs_match", R"j(["[a-z]+", "[0-9]+"])j", "false");
  EXPECT_BUILTIN(c, "regex.globs_match", R"j(["[a-z]+\\[[0-9]+\\]", "foo\\[1\\]"])j", "true");
  EXPECT_BUILTIN(c, "regex.globs_match", R"j(["[a-z]+\\[[0-9]+\\]", "foo[\"bar\"]"])j", "false");
  EXPECT_BUILTIN(c, "regex.globs_match", R"j(["[^a]", "a"])j", "false");
  EXPECT_BUILTIN(c, "regex.globs_match", R"j(["[^a]", "[a-b]"])j", "true");
  EXPECT_BUILTIN_ERROR(c, "regex.globs_match", R"j(["pqrs]", "[a-b]+"])j", kBuiltin,
                       "input:pqrs], pos:5, set-close ']' with no preceding '[': the input provided is invalid");
}

TEST(RegoBits, IntegerOperations) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "bits.and", R"j([42, 3])j", "2");
  EXPECT_BUILTIN(c, "bits.or", R"j([42, 3])j", "43");
  EXPECT_BUILTIN(c, "bits.xor", R"j([42, 3])j", "41");
  EXPECT_BUILTIN(c, "bits.negate", R"j([42])j", "-43");
  EXPECT_BUILTIN(c, "bits.lsh", R"j([9223372036854775807, 1])j", "18446744073709551614");
  EXPECT_BUILTIN(c, "bits.rsh", R"j([8, 3])j", "1");
  EXPECT_BUILTIN(c, "bits.rsh", R"j([-9, 1])j", "-5");
  EXPECT_BUILTIN_ERROR(c, "bits.and", R"j([1.5, 3])j", kType,
                       "bits.and: operand 1 must be integer number but got floating-point number");
  EXPECT_BUILTIN_ERROR(c, "bits.lsh", R"j([7, -1])j", kType,
                       "bits.lsh: operand 2 must be an unsigned integer number but got a negative integer");
  EXPECT_BUILTIN_ERROR(c, "bits.or", R"j(["1", 3])j", kType, "bits.or: operand 1 must be number but got string");
}

TEST(RegoSemver, ValidityAndPrecedence) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "semver.is_valid", R"j(["1.0.0"])j", "true");
  EXPECT_BUILTIN(c, "semver.is_valid", R"j(["1.0.0-rc.1+build.5"])j", "true");
  EXPECT_BUILTIN(c, "semver.is_valid", R"j(["1"])j", "false");
  EXPECT_BUILTIN(c, "semver.is_valid", R"j(["v1.0.0"])j", "false");
  EXPECT_BUILTIN(c, "semver.is_valid", R"j(["1.0.0-"])j", "false");
  EXPECT_BUILTIN(c, "semver.is_valid", R"j([1])j", "false");
  EXPECT_BUILTIN(c, "semver.compare", R"j(["1.0.0", "2.0.0"])j", "-1");
  EXPECT_BUILTIN(c, "semver.compare", R"j(["1.10.0", "1.9.0"])j", "1");
  EXPECT_BUILTIN(c, "semver.compare", R"j(["1.0.0+a", "1.0.0+b"])j", "0");
  // SemVer 2.0.0 §11 example chain.
  const char* chain[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                         "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"};
  for (std::size_t i = 0; i + 1 < std::size(chain); ++i) {
    auto r = c.call("semver.compare", A(S(chain[i]), S(chain[i + 1])));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, I(-1)) << chain[i] << " < " << chain[i + 1];
  }
  EXPECT_BUILTIN_ERROR(c, "semver.compare", R"j(["1.0.0", "1"])j", kBuiltin,
                       "semver.compare: operand 2: string \"1\" is not a valid SemVer");
}

TEST(RegoUuid, ParseAndGenerate) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "uuid.parse", R"j(["{00000000-0000-4000-8000-000000000000}"])j", R"j({"variant": "RFC4122", "version": 4})j");
  EXPECT_BUILTIN(c, "uuid.parse", R"j(["6bea8ef2d3d33cd184e09bab06a52ece"])j", R"j({"variant": "RFC4122", "version": 3})j");
  EXPECT_BUILTIN(c, "uuid.parse", R"j(["urn:uuid:000003e8-48b9-21ee-b200-325096b39f47"])j",
                 R"j({"clocksequence": 12800, "domain": "Person", "id": 1000, "macvariables": "local:unicast",
                     "nodeid": "32-50-96-b3-9f-47", "time": 1693566990121469600, "variant": "RFC4122", "version": 2})j");
  // The largest 60-bit version-1 timestamp is past the int64 nanosecond range; it stays exact.
  auto far = c.call("uuid.parse", R"j(["ffffffff-ffff-1fff-8000-000000000000"])j");
  ASSERT_TRUE(far.has_value());
  EXPECT_EQ(*far->get("time"), J("103072857660684697500"));
  EXPECT_BUILTIN_UNDEFINED(c, "uuid.parse", R"j(["not-a-uuid"])j");
  EXPECT_BUILTIN_UNDEFINED(c, "uuid.parse", R"j([123])j");
  auto u1 = c.call("uuid.rfc4122", R"j(["seed"])j");
  auto u2 = c.call("uuid.rfc4122", R"j(["seed"])j");
  auto u3 = c.call("uuid.rfc4122", R"j(["other"])j");
  ASSERT_TRUE(u1 && u2 && u3);
  EXPECT_EQ(*u1, *u2);  // fixed per seed within one evaluation
  EXPECT_NE(*u1, *u3);
  auto parsed = c.call("uuid.parse", A(*u1));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, J(R"j({"variant": "RFC4122", "version": 4})j")) << *u1;
}

TEST(RegoGraph, Reachable) {
  BuiltinCaller c;
  const char* g = R"j({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["e"], "e": []})j";
  auto r = c.call("graph.reachable", A(J(g), J(R"j(["a"])j")));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::set({S("a"), S("b"), S("c")}));
  r = c.call("graph.reachable", A(J(g), J(R"j(["d", "zz"])j")));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::set({S("d"), S("e")}));
  r = c.call("graph.reachable_paths", A(J(R"j({"a": ["b", "c"], "b": ["d"], "c": [], "d": []})j"), J(R"j(["a"])j")));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::set({J(R"j(["a", "b", "d"])j"), J(R"j(["a", "c"])j")}));
  EXPECT_BUILTIN_ERROR(c, "graph.reachable", R"j([[], ["a"]])j", kType, "graph.reachable: operand 1 must be object but got array");
}

}  // namespace
}  // namespace cloister::rego
