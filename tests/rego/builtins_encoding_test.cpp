// Encoding builtins: base64/base64url/hex with Go's decoder errors, json.*, yaml.*, urlquery.*.
// Expected values from OPA's conformance topics base64urlbuiltins, hexbuiltins, jsonbuiltins,
// urlbuiltins and Go's encoding packages.
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;
constexpr const char* kType = "eval_type_error";
constexpr const char* kBuiltin = "eval_builtin_error";

TEST(RegoEncoding, Base64) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "base64.encode", R"j(["hello"])j", R"j("aGVsbG8=")j");
  EXPECT_BUILTIN(c, "base64.encode", R"j([""])j", R"j("")j");
  EXPECT_BUILTIN(c, "base64.decode", R"j(["aGVsbG8="])j", R"j("hello")j");
  EXPECT_BUILTIN(c, "base64.decode", R"j(["aGVs\nbG8="])j", R"j("hello")j");
  EXPECT_BUILTIN_ERROR(c, "base64.decode", R"j(["aGVsbG8"])j", kBuiltin, "illegal base64 data at input byte 4");
  EXPECT_BUILTIN_ERROR(c, "base64.decode", R"j(["aG!s"])j", kBuiltin, "illegal base64 data at input byte 2");
  EXPECT_BUILTIN_ERROR(c, "base64.decode", R"j(["aGVsbG8=x"])j", kBuiltin, "illegal base64 data at input byte 8");
  EXPECT_BUILTIN(c, "base64.is_valid", R"j(["aGVsbG8="])j", "true");
  EXPECT_BUILTIN(c, "base64.is_valid", R"j(["aGVsbG8"])j", "false");
  EXPECT_BUILTIN(c, "base64.is_valid", R"j([1])j", "false");
  EXPECT_BUILTIN(c, "base64url.encode", R"j(["there?>"])j", R"j("dGhlcmU_Pg==")j");
  EXPECT_BUILTIN(c, "base64url.encode_no_pad", R"j(["hello"])j", R"j("aGVsbG8")j");
  EXPECT_BUILTIN(c, "base64url.decode", R"j(["aGVsbG8"])j", R"j("hello")j");
  EXPECT_BUILTIN(c, "base64url.decode", R"j(["dGhlcmU_Pg=="])j", R"j("there?>")j");
  EXPECT_BUILTIN_ERROR(c, "base64url.decode", R"j(["a"])j", kBuiltin, "illegal base64url string: a");
}

TEST(RegoEncoding, Hex) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "hex.encode", R"j(["lorem ipsum"])j", R"j("6c6f72656d20697073756d")j");
  EXPECT_BUILTIN(c, "hex.decode", R"j(["6c6f72656d20697073756D"])j", R"j("lorem ipsum")j");
  EXPECT_BUILTIN_ERROR(c, "hex.decode", R"j(["fghijkl"])j", kBuiltin, "invalid byte: U+0067 'g'");
  EXPECT_BUILTIN_ERROR(c, "hex.decode", R"j(["abc"])j", kBuiltin, "encoding/hex: odd length hex string");
}

TEST(RegoEncoding, Json) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "json.marshal", R"j([{"b": [1, 2.5], "a": "<x>"}])j", R"j("{\"a\":\"\\u003cx\\u003e\",\"b\":[1,2.5]}")j");
  EXPECT_BUILTIN(c, "json.unmarshal", R"j(["{\"a\": [1, null]}"])j", R"j({"a": [1, null]})j");
  EXPECT_BUILTIN_ERROR(c, "json.unmarshal", R"j(["{"])j", kBuiltin, "json.unmarshal:");
  EXPECT_BUILTIN(c, "json.is_valid", R"j(["{\"json\": \"ok\"}"])j", "true");
  EXPECT_BUILTIN(c, "json.is_valid", R"j(["plainstring"])j", "false");
  EXPECT_BUILTIN(c, "json.marshal_with_options", R"j([[1, {"a": []}], {"indent": "  "}])j",
                 R"j("[\n  1,\n  {\n    \"a\": []\n  }\n]")j");
  EXPECT_BUILTIN(c, "json.marshal_with_options", R"j([[1], {"prefix": "P"}])j", R"j("P[\nP\t1\nP]")j");
  EXPECT_BUILTIN(c, "json.marshal_with_options", R"j([[1], {"pretty": false, "indent": "x"}])j", R"j("[1]")j");
  EXPECT_BUILTIN(c, "json.marshal_with_options", R"j([[1], {}])j", R"j("[1]")j");
  EXPECT_BUILTIN(c, "json.marshal_with_options", R"j([[], {"indent": "    ", "prefix": "---"}])j", R"j("---[]")j");
  EXPECT_BUILTIN_ERROR(c, "json.marshal_with_options", R"j([1, {"lottery": true}])j", kType,
                       "object contained unknown key \"lottery\"");
}

TEST(RegoEncoding, Yaml) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "yaml.unmarshal", R"j(["foo:\n  - qux: bar\n  - baz: 2\nn: ~\nq: \"12\"\nb: yes\nf: 1.5"])j",
                 R"j({"foo": [{"qux": "bar"}, {"baz": 2}], "n": null, "q": "12", "b": true, "f": 1.5})j");
  EXPECT_BUILTIN_ERROR(c, "yaml.unmarshal", R"j(["[1,2,3"])j", kBuiltin, "yaml: line 1: did not find");
  EXPECT_BUILTIN(c, "yaml.is_valid", R"j(["{\"json\": \"ok\"}"])j", "true");
  EXPECT_BUILTIN(c, "yaml.is_valid", R"j(["foo: {"])j", "false");
  // Round trip keeps types: strings that look like numbers or booleans stay strings.
  Value doc = J(R"j({"a": ["1", 1, "true", true, null, "x: y"], "b": {"c": 2.5}})j");
  auto y = c.call("yaml.marshal", A(doc));
  ASSERT_TRUE(y.has_value());
  auto back = c.call("yaml.unmarshal", A(*y));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, doc) << y->as_string();
}

TEST(RegoEncoding, UrlQuery) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "urlquery.encode", R"j(["a=b+1 ~"])j", R"j("a%3Db%2B1+~")j");
  EXPECT_BUILTIN(c, "urlquery.decode", R"j(["a%3Db%2B1+x"])j", R"j("a=b+1 x")j");
  EXPECT_BUILTIN_ERROR(c, "urlquery.decode", R"j(["a%zz"])j", kBuiltin, "invalid URL escape \"%zz\"");
  EXPECT_BUILTIN(c, "urlquery.encode_object", R"j([{"c": "d", "a": ["b+1", "c+2"]}])j", R"j("a=b%2B1&a=c%2B2&c=d")j");
  EXPECT_BUILTIN(c, "urlquery.decode_object", R"j(["a=value_a1&b=value_b&a=value_a2&c"])j",
                 R"j({"a": ["value_a1", "value_a2"], "b": ["value_b"], "c": [""]})j");
  EXPECT_BUILTIN(c, "urlquery.decode_object", R"j([""])j", "{}");
}

}  // namespace
}  // namespace cloister::rego
