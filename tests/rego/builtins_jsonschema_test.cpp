// json.verify_schema / json.match_schema: conformance topic "jsonschema" plus one check per
// supported keyword (JSON Schema draft-07 validation vocabulary) with gojsonschema's messages.
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;

// The `desc` fields of match_schema's errors, in order.
std::vector<std::string> failures(BuiltinCaller& c, const char* doc, const char* schema) {
  // Documents go in as JSON text (a string document is parsed, as OPA does).
  auto r = c.call("json.match_schema", A(S(doc), J(schema)));
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  std::vector<std::string> out;
  if (!r) return out;
  for (const auto& e : r->array_items()[1].array_items()) out.push_back(e.get("desc")->as_string());
  EXPECT_EQ(r->array_items()[0].is_true(), out.empty());
  return out;
}

TEST(RegoJsonSchema, VerifySchema) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "json.verify_schema", R"j(["{\"type\": \"boolean\"}"])j", "[true, null]");
  EXPECT_BUILTIN(c, "json.verify_schema", R"j([{"properties": {"a": {"type": ["string", "null"]}}}])j", "[true, null]");
  auto r = c.call("json.verify_schema", R"j([{"items": {"type": "unknown_type"}}])j");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->array_items()[1],
            S("jsonschema: has a primitive type that is NOT VALID -- given: /unknown_type/ Expected valid values are:"
              "[array boolean integer number null object string]"));
  EXPECT_BUILTIN_ERROR(c, "json.match_schema", R"j([{}, {"type": "unknown"}])j", "eval_builtin_error",
                       "json.match_schema: has a primitive type that is NOT VALID -- given: /unknown/");
}

TEST(RegoJsonSchema, MatchReportsGojsonschemaErrors) {
  BuiltinCaller c;
  auto r = c.call("json.match_schema", A(J(R"j({"id": "foo"})j"), S(R"j({"properties": {"id": {"type": "integer"}}, "required": ["id"]})j")));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, J(R"j([false, [{"desc": "Invalid type. Expected: integer, given: string",
                               "error": "id: Invalid type. Expected: integer, given: string",
                               "field": "id", "type": "invalid_type"}]])j"));
  EXPECT_BUILTIN(c, "json.match_schema", A(S(R"j({"id": 5})j"), J(R"j({"properties": {"id": {"type": "integer"}}})j")),
                 "[true, []]");
  using V = std::vector<std::string>;
  EXPECT_EQ(failures(c, R"j({})j", R"j({"required": ["a"]})j"), V{"a is required"});
  EXPECT_EQ(failures(c, R"j({"a": 1, "b": 2})j", R"j({"properties": {"a": {}}, "additionalProperties": false})j"),
            V{"Additional property b is not allowed"});
  EXPECT_EQ(failures(c, R"j(1.5)j", R"j({"type": "number", "minimum": 2, "multipleOf": 0.5})j"),
            V{"Must be greater than or equal to 2"});
  EXPECT_EQ(failures(c, R"j(10)j", R"j({"exclusiveMaximum": 10, "multipleOf": 3})j"),
            (V{"Must be less than 10", "Must be a multiple of 3"}));
  EXPECT_EQ(failures(c, R"j("héllo")j", R"j({"maxLength": 4, "pattern": "^h"})j"),
            V{"String length must be less than or equal to 4"});
  EXPECT_EQ(failures(c, R"j("abc")j", R"j({"pattern": "^[0-9]+$"})j"), V{"Does not match pattern '^[0-9]+$'"});
  EXPECT_EQ(failures(c, R"j([1, 1])j", R"j({"uniqueItems": true, "maxItems": 1, "items": {"type": "integer"}})j"),
            (V{"Array must have at most 1 items", "array items[0,1] must be unique"}));
  EXPECT_EQ(failures(c, R"j("x")j", R"j({"enum": ["a", 1]})j"), V{"(root) must be one of the following: \"a\", 1"});
  EXPECT_EQ(failures(c, R"j(5)j", R"j({"oneOf": [{"type": "integer"}, {"minimum": 0}]})j"),
            V{"Must validate one and only one schema (oneOf)"});
  EXPECT_EQ(failures(c, R"j(5)j", R"j({"anyOf": [{"type": "string"}, {"maximum": 0}]})j"),
            V{"Must validate at least one schema (anyOf)"});
  EXPECT_EQ(failures(c, R"j(5)j", R"j({"not": {"type": "integer"}})j"), V{"Must not validate the schema (not)"});
  EXPECT_EQ(failures(c, R"j({"a": {"b": "x"}})j",
                     R"j({"definitions": {"B": {"type": "integer"}}, "properties": {"a": {"properties": {"b": {"$ref": "#/definitions/B"}}}}})j"),
            V{"Invalid type. Expected: integer, given: string"});
}

}  // namespace
}  // namespace cloister::rego
