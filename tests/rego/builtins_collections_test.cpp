// object.*, array.*, units.*: expected values from OPA's conformance topics (objectget,
// objectunion, objectremove, objectfilter, array, units) and OPA's documented semantics.
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;
constexpr const char* kType = "eval_type_error";
constexpr const char* kBuiltin = "eval_builtin_error";

TEST(RegoObjects, GetWalksPathsAndFallsBack) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "object.get", R"j([{"a": "b"}, "a", "c"])j", R"j("b")j");
  EXPECT_BUILTIN(c, "object.get", R"j([{"a": "b"}, "c", "c"])j", R"j("c")j");
  EXPECT_BUILTIN(c, "object.get", R"j([{"a": {"b": 1}}, ["a", "b"], 2])j", "1");
  EXPECT_BUILTIN(c, "object.get", R"j([{"a": {"b": 1}}, ["b", "a"], 2])j", "2");
  EXPECT_BUILTIN(c, "object.get", R"j([{"a": 1}, [], 2])j", R"j({"a": 1})j");
  EXPECT_BUILTIN(c, "object.get", R"j([{"a": {"b": [{"c": 1}]}}, ["a", "b", 0, "c"], 2])j", "1");
  EXPECT_BUILTIN(c, "object.get", R"j([{"a": {"b": [1, 2, 3]}}, ["a", "b", "a"], 2])j", "2");
  EXPECT_BUILTIN_ERROR(c, "object.get", R"j(["x", ["a"], 2])j", kType, "object.get: operand 1 must be object but got string");
}

TEST(RegoObjects, KeysUnionRemoveFilter) {
  BuiltinCaller c;
  auto keys = c.call("object.keys", R"j([{"b": 1, "a": 2}])j");
  ASSERT_TRUE(keys.has_value());
  EXPECT_EQ(*keys, Value::set({S("a"), S("b")}));
  EXPECT_BUILTIN(c, "object.union", R"j([{"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}, "e": 2}])j",
                 R"j({"a": {"b": 3, "c": 2}, "d": 1, "e": 2})j");
  EXPECT_BUILTIN(c, "object.union", R"j([{"a": {"b": 1}}, {"a": 5}])j", R"j({"a": 5})j");
  EXPECT_BUILTIN_ERROR(c, "object.union", R"j([[], {}])j", kType, "object.union: operand 1 must be object but got array");
  EXPECT_BUILTIN(c, "object.union_n", R"j([[{"foo": "bar"}, {"foo": "baz"}, {"x": 1}]])j", R"j({"foo": "baz", "x": 1})j");
  EXPECT_BUILTIN(c, "object.union_n", R"j([[]])j", "{}");
  EXPECT_BUILTIN(c, "object.remove", R"j([{"a": 1, "b": 2, "c": 3}, ["a", "x"]])j", R"j({"b": 2, "c": 3})j");
  EXPECT_BUILTIN(c, "object.remove", R"j([{"a": 1, "b": 2}, {"b": 0}])j", R"j({"a": 1})j");
  EXPECT_BUILTIN(c, "object.filter", A(J(R"j({"a": 1, "b": 2, "c": 3})j"), Value::set({S("a"), S("c")})),
                 R"j({"a": 1, "c": 3})j");
  EXPECT_BUILTIN_ERROR(c, "object.remove", R"j([{"a": 1}, "a"])j", kType,
                       "object.remove: operand 2 must be one of {object, set, array} but got string");
  EXPECT_BUILTIN_ERROR(c, "object.filter", R"j([null, ["a"]])j", kType, "object.filter: operand 1 must be object but got null");
}

TEST(RegoObjects, Subset) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "object.subset", R"j([{"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"c": 2}}])j", "true");
  EXPECT_BUILTIN(c, "object.subset", R"j([{"a": {"b": 1}}, {"a": {"b": 2}}])j", "false");
  EXPECT_BUILTIN(c, "object.subset", R"j([[1, 2, 3, 4], [1, 3]])j", "true");
  EXPECT_BUILTIN(c, "object.subset", R"j([[1, 2, 3, 4], [3, 1]])j", "false");
  EXPECT_BUILTIN(c, "object.subset", A(Value::set({I(1), I(2)}), J("[2]")), "true");
  EXPECT_BUILTIN_ERROR(c, "object.subset", R"j([1, 2])j", kType, "object.subset: operand 1 must be one of {object, set, array}");
}

TEST(RegoArrays, ConcatSliceReverseFlatten) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "array.concat", R"j([[1, 2], [3, 4]])j", "[1, 2, 3, 4]");
  EXPECT_BUILTIN_ERROR(c, "array.concat", R"j([[1, 2], {}])j", kType, "array.concat: operand 2 must be array but got object");
  EXPECT_BUILTIN(c, "array.slice", R"j([[1, 2, 3, 4, 5], 1, 3])j", "[2, 3]");
  EXPECT_BUILTIN(c, "array.slice", R"j([[1, 2, 3, 4, 5], -1, 2])j", "[1, 2]");
  EXPECT_BUILTIN(c, "array.slice", R"j([[1, 2, 3, 4, 5], 3, 6])j", "[4, 5]");
  EXPECT_BUILTIN(c, "array.slice", R"j([[1, 2, 3, 4, 5], 4, 1])j", "[]");
  EXPECT_BUILTIN(c, "array.slice", R"j([[], 1000, 2000])j", "[]");
  EXPECT_BUILTIN(c, "array.reverse", R"j([[1, [2], 3]])j", "[3, [2], 1]");
  EXPECT_BUILTIN(c, "array.flatten", R"j([[[1], [[2, 3]], 4]])j", "[1, [2, 3], 4]");
  EXPECT_BUILTIN_ERROR(c, "array.flatten", R"j([1])j", kType, "array.flatten: operand 1 must be array but got number");
}

TEST(RegoUnits, ParseIsExact) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "units.parse", R"j(["500m"])j", "0.5");
  EXPECT_BUILTIN(c, "units.parse", R"j(["0.0000005M"])j", "0.5");
  EXPECT_BUILTIN(c, "units.parse", R"j(["1.1Ki"])j", "1126.4");
  EXPECT_BUILTIN(c, "units.parse", R"j(["10k"])j", "10000");
  EXPECT_BUILTIN(c, "units.parse", R"j(["6e3Mi"])j", "6291456000");
  EXPECT_BUILTIN(c, "units.parse", R"j(["-3.5E2m"])j", "-0.35");
  EXPECT_BUILTIN(c, "units.parse", R"j(["2E"])j", "2000000000000000000");
  EXPECT_BUILTIN(c, "units.parse", R"j(["\"10M\""])j", "10000000");
  EXPECT_BUILTIN_ERROR(c, "units.parse", R"j(["G"])j", kBuiltin, "units.parse: no amount provided");
  EXPECT_BUILTIN_ERROR(c, "units.parse", R"j([".5.2"])j", kBuiltin, "units.parse: could not parse amount to a number");
  EXPECT_BUILTIN_ERROR(c, "units.parse", R"j(["100 k"])j", kBuiltin, "units.parse: spaces not allowed in resource strings");
  EXPECT_BUILTIN_ERROR(c, "units.parse", R"j(["5Q"])j", kBuiltin, "units.parse: unit Q not recognized");
  // Found by the builtins fuzzer: an enormous exponent is rejected, not thrown.
  EXPECT_BUILTIN_ERROR(c, "units.parse", R"j(["5e99999999999999999999"])j", kBuiltin, "could not parse amount to a number");
}

TEST(RegoUnits, ParseBytes) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "units.parse_bytes", R"j(["1KiB"])j", "1024");
  EXPECT_BUILTIN(c, "units.parse_bytes", R"j(["2Mi"])j", "2097152");
  EXPECT_BUILTIN(c, "units.parse_bytes", R"j(["3MB"])j", "3000000");
  EXPECT_BUILTIN(c, "units.parse_bytes", R"j(["4.1Mi"])j", "4299161");
  EXPECT_BUILTIN(c, "units.parse_bytes", R"j(["128Gi"])j", "137438953472");
  EXPECT_BUILTIN(c, "units.parse_bytes", R"j(["1e-2KB"])j", "10");
  EXPECT_BUILTIN(c, "units.parse_bytes", R"j(["12"])j", "12");
  EXPECT_BUILTIN_ERROR(c, "units.parse_bytes", R"j([""])j", kBuiltin, "units.parse_bytes: no byte amount provided");
  EXPECT_BUILTIN_ERROR(c, "units.parse_bytes", R"j(["0.0.0"])j", kBuiltin, "could not parse byte amount to a number");
  EXPECT_BUILTIN_ERROR(c, "units.parse_bytes", R"j([" 327MiB "])j", kBuiltin, "spaces not allowed");
}

}  // namespace
}  // namespace cloister::rego
