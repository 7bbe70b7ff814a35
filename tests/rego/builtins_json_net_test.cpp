// json.filter/remove/patch and net.cidr_*: expected values from OPA's conformance topics
// (jsonfilter, jsonremove, jsonpatch, netcidr*) and RFC 6902 Appendix A.
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;
constexpr const char* kType = "eval_type_error";
constexpr const char* kBuiltin = "eval_builtin_error";

TEST(RegoJsonDocs, FilterAndRemove) {
  BuiltinCaller c;
  Value doc = J(R"j({"a": {"b": {"c": 7, "d": 8}}, "e": 9})j");
  EXPECT_BUILTIN(c, "json.filter", A(doc, Value::set({S("a/b/c"), S("e")})), R"j({"a": {"b": {"c": 7}}, "e": 9})j");
  EXPECT_BUILTIN(c, "json.filter", A(doc, J(R"j([["a", "b", "c"]])j")), R"j({"a": {"b": {"c": 7}}})j");
  EXPECT_BUILTIN(c, "json.filter", R"j([{"a": [{"b": 7, "c": 8}, {"d": 9}]}, ["a/0/b", "a/1"]])j", R"j({"a": [{"b": 7}, {"d": 9}]})j");
  EXPECT_BUILTIN(c, "json.filter", R"j([{"a": [{"1": ["b", "c", "d"]}, {"x": "y"}]}, ["a/0/1/2"]])j", R"j({"a": [{"1": ["d"]}]})j");
  // Array elements are selected by their index's string only (OPA's filterObject): a number
  // in an array-form path selects none.
  EXPECT_BUILTIN(c, "json.filter", R"j([{"a": ["p", "q"]}, [["a", 1]]])j", R"j({"a": []})j");
  EXPECT_BUILTIN(c, "json.filter", R"j([{"a": ["p", "q"]}, [["a", "1"]]])j", R"j({"a": ["q"]})j");
  EXPECT_BUILTIN(c, "json.remove", A(doc, Value::set({S("a/b/c"), S("e")})), R"j({"a": {"b": {"d": 8}}})j");
  EXPECT_BUILTIN(c, "json.remove", R"j([{"a": {"b": 7}, "c": 1}, ["a", "a/b"]])j", R"j({"c": 1})j");
  EXPECT_BUILTIN(c, "json.remove", R"j([{"a": [1, 2, 3]}, ["/a/1"]])j", R"j({"a": [1, 3]})j");
  EXPECT_BUILTIN_ERROR(c, "json.remove", R"j([[], []])j", kType, "json.remove: operand 1 must be object but got array");
  EXPECT_BUILTIN_ERROR(c, "json.remove", R"j([{}, "a"])j", kType, "json.remove: operand 2 must be one of {set, array} but got string");
  EXPECT_BUILTIN_ERROR(c, "json.remove", R"j([{}, [1]])j", kType,
                       "json.remove: operand 2 must be one of {set, array} containing string paths or array of path segments but got number");
}

TEST(RegoJsonDocs, PatchRfc6902) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "json.patch", R"j([{"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}]])j",
                 R"j({"baz": "qux", "foo": "bar"})j");
  EXPECT_BUILTIN(c, "json.patch", R"j([{"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}]])j",
                 R"j({"foo": ["bar", "qux", "baz"]})j");
  EXPECT_BUILTIN(c, "json.patch", R"j([{"foo": [1]}, [{"op": "add", "path": "/foo/-", "value": 2}]])j", R"j({"foo": [1, 2]})j");
  EXPECT_BUILTIN(c, "json.patch", R"j([{"a": 1, "b": 2}, [{"op": "remove", "path": "/a"}, {"op": "replace", "path": "/b", "value": 3}]])j",
                 R"j({"b": 3})j");
  EXPECT_BUILTIN(c, "json.patch", R"j([{"a": {"x": 1}, "b": {}}, [{"op": "move", "from": "/a/x", "path": "/b/y"}]])j",
                 R"j({"a": {}, "b": {"y": 1}})j");
  EXPECT_BUILTIN(c, "json.patch", R"j([{"a": [1]}, [{"op": "copy", "from": "/a", "path": "/b"}]])j", R"j({"a": [1], "b": [1]})j");
  EXPECT_BUILTIN(c, "json.patch", R"j([{"a/b": 1, "m~n": 2}, [{"op": "remove", "path": "/a~1b"}, {"op": "remove", "path": "/m~0n"}]])j", "{}");
  EXPECT_BUILTIN(c, "json.patch", R"j([{"a": 1}, [{"op": "replace", "path": "", "value": [1]}]])j", "[1]");
  // Failing patches (missing parent, failed test, out-of-range index, move into own child) are undefined.
  EXPECT_BUILTIN_UNDEFINED(c, "json.patch", R"j([{"q": {}}, [{"op": "add", "path": "/a/b", "value": 1}]])j");
  EXPECT_BUILTIN_UNDEFINED(c, "json.patch", R"j([{"a": 1}, [{"op": "test", "path": "/a", "value": 2}]])j");
  EXPECT_BUILTIN_UNDEFINED(c, "json.patch", R"j([{"a": [1]}, [{"op": "add", "path": "/a/5", "value": 2}]])j");
  EXPECT_BUILTIN_UNDEFINED(c, "json.patch", R"j([{"a": {"b": {}}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}]])j");
  // Sets: a member's path names the member.
  Value sdoc = Value::object({{S("foo"), Value::set({S("a"), S("b"), S("c")})}});
  auto r = c.call("json.patch", A(sdoc, J(R"j([{"op": "remove", "path": "foo/b"}])j")));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::object({{S("foo"), Value::set({S("a"), S("c")})}}));
}

TEST(RegoNet, ContainsIntersectsValid) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "net.cidr_contains", R"j(["10.0.0.0/8", "10.1.0.0/24"])j", "true");
  EXPECT_BUILTIN(c, "net.cidr_contains", R"j(["172.17.0.0/24", "172.17.0.0/16"])j", "false");
  EXPECT_BUILTIN(c, "net.cidr_contains", R"j(["10.0.0.0/8", "10.1.2.3"])j", "true");
  EXPECT_BUILTIN(c, "net.cidr_contains", R"j(["2001:4860:4860::8888/32", "2001:4860:4860:1234::8888/40"])j", "true");
  EXPECT_BUILTIN(c, "net.cidr_contains", R"j(["2001:4860::/32", "10.0.0.1"])j", "false");
  EXPECT_BUILTIN_ERROR(c, "net.cidr_contains", R"j(["not-a-cidr", "192.168.1.67"])j", kBuiltin, "invalid CIDR address: not-a-cidr");
  EXPECT_BUILTIN(c, "net.cidr_intersects", R"j(["192.168.1.0/25", "192.168.1.64/25"])j", "true");
  EXPECT_BUILTIN(c, "net.cidr_intersects", R"j(["192.168.1.0/24", "192.168.2.0/24"])j", "false");
  EXPECT_BUILTIN(c, "net.cidr_is_valid", R"j(["2002::1234:abcd:ffff:c0a8:101/64"])j", "true");
  EXPECT_BUILTIN(c, "net.cidr_is_valid", R"j(["192.168.1.2"])j", "false");
  EXPECT_BUILTIN(c, "net.cidr_is_valid", R"j(["192.168.01.2/24"])j", "false");
}

TEST(RegoNet, ExpandMergeMatches) {
  BuiltinCaller c;
  auto r = c.call("net.cidr_expand", R"j(["172.16.100.255/30"])j");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::set({S("172.16.100.252"), S("172.16.100.253"), S("172.16.100.254"), S("172.16.100.255")}));
  EXPECT_BUILTIN_ERROR(c, "net.cidr_expand", R"j(["192.168.1.1/33"])j", kBuiltin, "net.cidr_expand: invalid CIDR address: 192.168.1.1/33");
  r = c.call("net.cidr_merge", R"j([["192.0.2.112/30", "192.0.2.116/31", "192.0.2.118/31"]])j");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::set({S("192.0.2.112/29")}));
  r = c.call("net.cidr_merge", R"j([["192.0.128.0", "192.0.129.0"]])j");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::set({S("192.0.128.0/23")}));
  r = c.call("net.cidr_merge", R"j([["2601:600:8a80:207e:a57d:7567:e2c9:e7b3/64", "2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"]])j");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::set({S("2601:600:8a80:207e::/64")}));
  EXPECT_BUILTIN_ERROR(c, "net.cidr_merge", R"j([["2601:600::1"]])j", kBuiltin, "net.cidr_merge: IPv6 invalid: needs prefix length");
  r = c.call("net.cidr_contains_matches", R"j([{"k1": "1.1.1.1/24", "k2": ["1.1.1.2/24", 1]}, "1.1.1.128"])j");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Value::set({J(R"j(["k1", "1.1.1.128"])j"), J(R"j(["k2", "1.1.1.128"])j")}));
  EXPECT_BUILTIN_ERROR(c, "net.cidr_contains_matches", R"j([["1.1.1.0/24"], ["1.1.1.1", []]])j", kBuiltin,
                       "net.cidr_contains_matches: operand 2: element must be string or non-empty array");
}

}  // namespace
}  // namespace cloister::rego
