// rego.parse_module: the module's AST in OPA's JSON form. Expected values follow OPA's own
// statements of that form: v1/ast/marshal_test.go (the Rule, Head, Expr, Every and With
// encodings, quoted where a test reuses its module), the MarshalJSON methods and json tags of
// v1/ast/policy.go, term.go and location.go, and the head shapes, wildcard names ($0, $1, ...)
// and comment texts of v1/ast/parser.go, parser_ext.go and internal/scanner; plus OPA's
// conformance topic regoparsemodule.
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;
constexpr const char* kType = "eval_type_error";
constexpr const char* kBuiltin = "eval_builtin_error";

// The module's AST (undefined, with a test failure, when the call fails).
Value parse(BuiltinCaller& c, std::string_view text, std::string_view file = "example.rego") {
  auto r = c.call("rego.parse_module", {S(std::string(file)), S(std::string(text))});
  EXPECT_TRUE(r.has_value()) << r.error().message;
  return r ? *r : Value();
}

// JSON with each TB standing for the body OPA generates for rules written without one.
Value Jtb(std::string json) {
  const std::string true_body = R"j([{"index": 0, "terms": {"type": "boolean", "value": true}}])j";
  for (std::size_t at = json.find("TB"); at != std::string::npos; at = json.find("TB", at))
    json.replace(at, 2, true_body);
  return J(json);
}

// Element i of m[field] (null when missing, with a test failure).
Value at(const Value& m, std::string_view field, std::size_t i) {
  const Value* v = m.get(field);
  EXPECT_TRUE(v && i < v->size()) << field << "[" << i << "] missing in " << m;
  return v && i < v->size() ? v->array_items()[i] : Value::null();
}

TEST(RegoParseModule, ConformanceModule) {
  // regoparsemodule/ok: module["package"].path[1].value is "foo".
  BuiltinCaller c;
  Value m = parse(c, "package foo.bar\n\nimport rego.v1\nimport data.a\n\np if { a = true }", "x.rego");
  EXPECT_EQ(m, J(R"j({
    "package": {"path": [{"type": "var", "value": "data"}, {"type": "string", "value": "foo"},
                         {"type": "string", "value": "bar"}]},
    "imports": [
      {"path": {"type": "ref", "value": [{"type": "var", "value": "rego"}, {"type": "string", "value": "v1"}]}},
      {"path": {"type": "ref", "value": [{"type": "var", "value": "data"}, {"type": "string", "value": "a"}]}}],
    "rules": [{
      "head": {"name": "p", "ref": [{"type": "var", "value": "p"}], "value": {"type": "boolean", "value": true}},
      "body": [{"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "eq"}]},
                                      {"type": "var", "value": "a"}, {"type": "boolean", "value": true}]}]}]
  })j"));
}

TEST(RegoParseModule, MarshalTestEncodings) {
  BuiltinCaller c;
  // TestRule_MarshalJSON / TestComment_MarshalJSON: the rule `allow if { true }` and the comment
  // (its location is always encoded; this one is at row 4, column 2).
  Value m = parse(c, "\n\tpackage foo\n\n\t# comment\n\n\tallow if { true }\n\t");
  EXPECT_EQ(m, J(R"j({
    "package": {"path": [{"type": "var", "value": "data"}, {"type": "string", "value": "foo"}]},
    "rules": [{"body":[{"index":0,"terms":{"type":"boolean","value":true}}],"head":{"name":"allow","value":{"type":"boolean","value":true},"ref":[{"type":"var","value":"allow"}]}}],
    "comments": [{"Text": "IGNvbW1lbnQ=", "Location": {"file": "example.rego", "row": 4, "col": 2}}]
  })j"));

  // TestEvery_MarshalJSON.
  m = parse(c, "\npackage foo\n\nallow if {\n\tevery e in [1,2,3] {\n\t\te == 1\n    }\n}\n");
  EXPECT_EQ(at(at(m, "rules", 0), "body", 0), J(R"j({"index": 0, "terms":
    {"body":[{"index":0,"terms":[{"type":"ref","value":[{"type":"var","value":"equal"}]},{"type":"var","value":"e"},{"type":"number","value":1}]}],"domain":{"type":"array","value":[{"type":"number","value":1},{"type":"number","value":2},{"type":"number","value":3}]},"key":null,"value":{"type":"var","value":"e"}}})j"));

  // TestWith_MarshalJSON; `input` alone is a reference.
  m = parse(c, "\npackage foo\n\na if {input}\n\nb if {\n\ta with input as 1\n}\n");
  EXPECT_EQ(at(at(m, "rules", 0), "body", 0), J(R"j({"index": 0, "terms": {"type": "ref", "value": [{"type": "var", "value": "input"}]}})j"));
  EXPECT_EQ(at(at(at(m, "rules", 1), "body", 0), "with", 0),
            J(R"j({"target":{"type":"ref","value":[{"type":"var","value":"input"}]},"value":{"type":"number","value":1}})j"));

  // TestRuleHeadRefWithTermLocations_MarshalJSON, without the locations: no name for a ref head.
  m = parse(c, "package test\n\nimport rego.v1\n\nref.head[rule].test contains \"value\" if {\n\trule := \"rule\"\n}");
  EXPECT_EQ(*at(m, "rules", 0).get("head"), J(R"j({"key":{"type":"string","value":"value"},"ref":[{"type":"var","value":"ref"},{"type":"string","value":"head"},{"type":"var","value":"rule"},{"type":"string","value":"test"}]})j"));
}

TEST(RegoParseModule, ImportsWithAlias) {
  BuiltinCaller c;
  Value m = parse(c, "package p\nimport data.x.y as z\nimport input\nimport future.keywords.in\np := z\n");
  EXPECT_EQ(*m.get("imports"), J(R"j([
    {"path": {"type": "ref", "value": [{"type": "var", "value": "data"}, {"type": "string", "value": "x"},
                                       {"type": "string", "value": "y"}]}, "alias": "z"},
    {"path": {"type": "ref", "value": [{"type": "var", "value": "input"}]}},
    {"path": {"type": "ref", "value": [{"type": "var", "value": "future"}, {"type": "string", "value": "keywords"},
                                       {"type": "string", "value": "in"}]}}])j"));
}

// Heads as OPA's parser makes them: a rule written without a body is read as an expression and
// gets the body `true` (ParseRuleFromExpr); `p.q := v` names p with key "q"; `p[x] := v if` keys
// x; wildcards are numbered in parse order, an else's wildcard arguments afresh.
TEST(RegoParseModule, RuleHeads) {
  BuiltinCaller c;
  Value m = parse(c, R"(package r

a := 1
b = "s"
c.d := 2
e[x] := 3 if x := "k"
f(x, _) := x if true
g(x) if x > 0
h contains 1
i.j contains v if v := 2
default k := false
l.m.n if true
o(_) := 1 if false else := 2 if true else = 3
)");
  EXPECT_EQ(*m.get("rules"), Jtb(R"j([
    {"body": TB, "head": {"assign": true, "name": "a", "ref": [{"type": "var", "value": "a"}], "value": {"type": "number", "value": 1}}},
    {"body": TB, "head": {"name": "b", "ref": [{"type": "var", "value": "b"}], "value": {"type": "string", "value": "s"}}},
    {"body": TB, "head": {"assign": true, "key": {"type": "string", "value": "d"}, "name": "c",
                          "ref": [{"type": "var", "value": "c"}, {"type": "string", "value": "d"}], "value": {"type": "number", "value": 2}}},
    {"body": [{"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]}, {"type": "var", "value": "x"}, {"type": "string", "value": "k"}]}],
     "head": {"assign": true, "key": {"type": "var", "value": "x"}, "name": "e",
              "ref": [{"type": "var", "value": "e"}, {"type": "var", "value": "x"}], "value": {"type": "number", "value": 3}}},
    {"body": TB, "head": {"args": [{"type": "var", "value": "x"}, {"type": "var", "value": "$0"}], "assign": true, "name": "f",
                          "ref": [{"type": "var", "value": "f"}], "value": {"type": "var", "value": "x"}}},
    {"body": [{"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "gt"}]}, {"type": "var", "value": "x"}, {"type": "number", "value": 0}]}],
     "head": {"args": [{"type": "var", "value": "x"}], "name": "g", "ref": [{"type": "var", "value": "g"}], "value": {"type": "boolean", "value": true}}},
    {"body": TB, "head": {"key": {"type": "number", "value": 1}, "name": "h", "ref": [{"type": "var", "value": "h"}]}},
    {"body": [{"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]}, {"type": "var", "value": "v"}, {"type": "number", "value": 2}]}],
     "head": {"key": {"type": "var", "value": "v"}, "ref": [{"type": "var", "value": "i"}, {"type": "string", "value": "j"}]}},
    {"body": TB, "default": true, "head": {"assign": true, "name": "k", "ref": [{"type": "var", "value": "k"}], "value": {"type": "boolean", "value": false}}},
    {"body": TB, "head": {"ref": [{"type": "var", "value": "l"}, {"type": "string", "value": "m"}, {"type": "string", "value": "n"}],
                          "value": {"type": "boolean", "value": true}}},
    {"body": [{"index": 0, "terms": {"type": "boolean", "value": false}}],
     "head": {"args": [{"type": "var", "value": "$1"}], "assign": true, "name": "o", "ref": [{"type": "var", "value": "o"}], "value": {"type": "number", "value": 1}},
     "else": {
       "body": TB,
       "head": {"args": [{"type": "var", "value": "$2"}], "assign": true, "name": "o", "ref": [{"type": "var", "value": "o"}], "value": {"type": "number", "value": 2}},
       "else": {
         "body": TB,
         "head": {"args": [{"type": "var", "value": "$3"}], "name": "o", "ref": [{"type": "var", "value": "o"}], "value": {"type": "number", "value": 3}}}}}
  ])j"));
}

// Expressions: negation, with, some (declaration and `in`, a some-declaration of
// internal.member_2/3), every, comprehensions, calls (builtin, dotted user function, `in`).
TEST(RegoParseModule, BodyExpressions) {
  BuiltinCaller c;
  Value m = parse(c, R"(package b

p if {
	not input.x
	count(input.y) > 1 with input.y as [1, 2]
	some i, j
	some v in [1]
	some k, w in {"a": 1}
	every z in [1] { z == 1 }
	every k2, v2 in ["a"] { k2 == 0 }
	x := [y | y := 1]
	s := {y | y := 2}
	o := {y: 1 | y := "a"}
	z2 := data.q.f(1)
	"a" in ["a"]
	_ = 1
}
)");
  EXPECT_EQ(*at(m, "rules", 0).get("body"), J(R"j([
    {"index": 0, "negated": true, "terms": {"type": "ref", "value": [{"type": "var", "value": "input"}, {"type": "string", "value": "x"}]}},
    {"index": 1,
     "terms": [{"type": "ref", "value": [{"type": "var", "value": "gt"}]},
               {"type": "call", "value": [{"type": "ref", "value": [{"type": "var", "value": "count"}]},
                                          {"type": "ref", "value": [{"type": "var", "value": "input"}, {"type": "string", "value": "y"}]}]},
               {"type": "number", "value": 1}],
     "with": [{"target": {"type": "ref", "value": [{"type": "var", "value": "input"}, {"type": "string", "value": "y"}]},
               "value": {"type": "array", "value": [{"type": "number", "value": 1}, {"type": "number", "value": 2}]}}]},
    {"index": 2, "terms": {"symbols": [{"type": "var", "value": "i"}, {"type": "var", "value": "j"}]}},
    {"index": 3, "terms": {"symbols": [{"type": "call", "value": [
      {"type": "ref", "value": [{"type": "var", "value": "internal"}, {"type": "string", "value": "member_2"}]},
      {"type": "var", "value": "v"}, {"type": "array", "value": [{"type": "number", "value": 1}]}]}]}},
    {"index": 4, "terms": {"symbols": [{"type": "call", "value": [
      {"type": "ref", "value": [{"type": "var", "value": "internal"}, {"type": "string", "value": "member_3"}]},
      {"type": "var", "value": "k"}, {"type": "var", "value": "w"},
      {"type": "object", "value": [[{"type": "string", "value": "a"}, {"type": "number", "value": 1}]]}]}]}},
    {"index": 5, "terms": {"key": null, "value": {"type": "var", "value": "z"},
                           "domain": {"type": "array", "value": [{"type": "number", "value": 1}]},
                           "body": [{"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "equal"}]},
                                                           {"type": "var", "value": "z"}, {"type": "number", "value": 1}]}]}},
    {"index": 6, "terms": {"key": {"type": "var", "value": "k2"}, "value": {"type": "var", "value": "v2"},
                           "domain": {"type": "array", "value": [{"type": "string", "value": "a"}]},
                           "body": [{"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "equal"}]},
                                                           {"type": "var", "value": "k2"}, {"type": "number", "value": 0}]}]}},
    {"index": 7, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]}, {"type": "var", "value": "x"},
                           {"type": "arraycomprehension", "value": {"term": {"type": "var", "value": "y"}, "body": [
                             {"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]},
                                                    {"type": "var", "value": "y"}, {"type": "number", "value": 1}]}]}}]},
    {"index": 8, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]}, {"type": "var", "value": "s"},
                           {"type": "setcomprehension", "value": {"term": {"type": "var", "value": "y"}, "body": [
                             {"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]},
                                                    {"type": "var", "value": "y"}, {"type": "number", "value": 2}]}]}}]},
    {"index": 9, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]}, {"type": "var", "value": "o"},
                           {"type": "objectcomprehension", "value": {"key": {"type": "var", "value": "y"}, "value": {"type": "number", "value": 1}, "body": [
                             {"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]},
                                                    {"type": "var", "value": "y"}, {"type": "string", "value": "a"}]}]}}]},
    {"index": 10, "terms": [{"type": "ref", "value": [{"type": "var", "value": "assign"}]}, {"type": "var", "value": "z2"},
                            {"type": "call", "value": [{"type": "ref", "value": [{"type": "var", "value": "data"}, {"type": "string", "value": "q"},
                                                                                {"type": "string", "value": "f"}]},
                                                       {"type": "number", "value": 1}]}]},
    {"index": 11, "terms": [{"type": "ref", "value": [{"type": "var", "value": "internal"}, {"type": "string", "value": "member_2"}]},
                            {"type": "string", "value": "a"}, {"type": "array", "value": [{"type": "string", "value": "a"}]}]},
    {"index": 12, "terms": [{"type": "ref", "value": [{"type": "var", "value": "eq"}]}, {"type": "var", "value": "$0"}, {"type": "number", "value": 1}]}
  ])j"));
}

// Sets are sorted in OPA's term order (null, boolean, number, string, var, ref, array, object,
// set) without duplicates (1 and 1.0 are one number); objects are sorted by key, a repeated key
// keeping its last value; `- 1` is the number -1; wildcards count on from the head into the body.
TEST(RegoParseModule, CollectionsAndWildcards) {
  BuiltinCaller c;
  Value m = parse(c, R"(package c
s := {3, "b", 1, x, [1], {"k": 1}, "a", 1.0, null, input, set(), true}
o := {"b": 1, "a": 2, "b": 3, 1: - 1}
w := [_, _] if { _ = 1 }
)");
  EXPECT_EQ(*at(m, "rules", 0).get("head")->get("value"), J(R"j({"type": "set", "value": [
    {"type": "null", "value": {}}, {"type": "boolean", "value": true}, {"type": "number", "value": 1}, {"type": "number", "value": 3},
    {"type": "string", "value": "a"}, {"type": "string", "value": "b"}, {"type": "var", "value": "x"},
    {"type": "ref", "value": [{"type": "var", "value": "input"}]}, {"type": "array", "value": [{"type": "number", "value": 1}]},
    {"type": "object", "value": [[{"type": "string", "value": "k"}, {"type": "number", "value": 1}]]}, {"type": "set", "value": []}]})j"));
  EXPECT_EQ(*at(m, "rules", 1).get("head")->get("value"), J(R"j({"type": "object", "value": [
    [{"type": "number", "value": 1}, {"type": "number", "value": -1}],
    [{"type": "string", "value": "a"}, {"type": "number", "value": 2}],
    [{"type": "string", "value": "b"}, {"type": "number", "value": 3}]]})j"));
  EXPECT_EQ(at(m, "rules", 2), J(R"j({
    "head": {"assign": true, "name": "w", "ref": [{"type": "var", "value": "w"}],
             "value": {"type": "array", "value": [{"type": "var", "value": "$0"}, {"type": "var", "value": "$1"}]}},
    "body": [{"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "eq"}]}, {"type": "var", "value": "$2"},
                                    {"type": "number", "value": 1}]}]})j"));
}

// Comments: every one, in order, with the bytes after '#' in base64 (null when there are none; a
// '\r' before the newline is not part of them) and 1-based row and column, the column counted in
// runes. A '#' inside a string is not a comment; a module without comments has no "comments".
TEST(RegoParseModule, Comments) {
  BuiltinCaller c;
  Value m = parse(c, "# a\npackage p # b\r\n\n  #\np := \"#not a comment\" # \xC3\xA9\nq := \"\xC3\xA9\" # x", "c.rego");
  EXPECT_EQ(*m.get("comments"), J(R"j([
    {"Text": "IGE=", "Location": {"file": "c.rego", "row": 1, "col": 1}},
    {"Text": "IGI=", "Location": {"file": "c.rego", "row": 2, "col": 11}},
    {"Text": null, "Location": {"file": "c.rego", "row": 4, "col": 3}},
    {"Text": "IMOp", "Location": {"file": "c.rego", "row": 5, "col": 23}},
    {"Text": "IHg=", "Location": {"file": "c.rego", "row": 6, "col": 10}}])j"));
  EXPECT_EQ(parse(c, "package p\np := 1\n").get("comments"), nullptr);
}

// Template strings: OPA's TemplateString, {"parts", "multi_line"}; literal text and constant
// parts are terms, other parts expressions.
TEST(RegoParseModule, TemplateStrings) {
  BuiltinCaller c;
  Value m = parse(c, "package t\na := $\"x{1}y{input.z}\"\nb := $`raw{count([])}`\n");
  EXPECT_EQ(*at(m, "rules", 0).get("head")->get("value"), J(R"j({"type": "templatestring", "value": {"multi_line": false, "parts": [
    {"type": "string", "value": "x"}, {"type": "number", "value": 1}, {"type": "string", "value": "y"},
    {"index": 0, "terms": {"type": "ref", "value": [{"type": "var", "value": "input"}, {"type": "string", "value": "z"}]}}]}})j"));
  EXPECT_EQ(*at(m, "rules", 1).get("head")->get("value"), J(R"j({"type": "templatestring", "value": {"multi_line": true, "parts": [
    {"type": "string", "value": "raw"},
    {"index": 0, "terms": [{"type": "ref", "value": [{"type": "var", "value": "count"}]}, {"type": "array", "value": []}]}]}})j"));
  // A template's expressions carry file positions (before session 12 they counted from the
  // expression): a raw template nested in one is multi-line, and `-x` there is OPA's parse error.
  m = parse(c, "package t\na := $\"{$`{1}`}\"\n");
  EXPECT_EQ(*at(m, "rules", 0).get("head")->get("value"), J(R"j({"type": "templatestring", "value": {"multi_line": false, "parts": [
    {"index": 0, "terms": {"type": "templatestring", "value": {"multi_line": true, "parts": [{"type": "number", "value": 1}]}}}]}})j"));
  EXPECT_BUILTIN_ERROR(c, "rego.parse_module", R"j(["x.rego", "package p\nq := $`a\n{-x}`\n"])j", kBuiltin,
                       "x.rego:3:3: rego_parse_error: unexpected identifier token: expected number");
}

TEST(RegoParseModule, Errors) {
  BuiltinCaller c;
  // Both operands are reported as operand 1, as OPA's topdown/parse.go does.
  EXPECT_BUILTIN_ERROR(c, "rego.parse_module", R"j([1, "package p"])j", kType,
                       "rego.parse_module: operand 1 must be string but got number");
  EXPECT_BUILTIN_ERROR(c, "rego.parse_module", R"j(["x.rego", ["package p"]])j", kType,
                       "rego.parse_module: operand 1 must be string but got array");
  // regoparsemodule/error.
  EXPECT_BUILTIN_ERROR(c, "rego.parse_module", R"j(["x.rego", "package foo."])j", kBuiltin,
                       "rego.parse_module: 1 error occurred: x.rego:1:13: rego_parse_error: unexpected eof token: expected ident");
  EXPECT_BUILTIN_ERROR(c, "rego.parse_module", R"j(["x.rego", "# nothing else\n\n"])j", kBuiltin,
                       "rego.parse_module: 1 error occurred: x.rego:0: rego_parse_error: empty module");
  EXPECT_BUILTIN_ERROR(c, "rego.parse_module", R"j(["x.rego", "package p\np := 1\n}"])j", kBuiltin, "rego_parse_error");
  // OPA reads a minus sign only as part of a number literal.
  EXPECT_BUILTIN_ERROR(c, "rego.parse_module", R"j(["x.rego", "package p\nq := -x\n"])j", kBuiltin,
                       "x.rego:2:7: rego_parse_error: unexpected identifier token: expected number");
  EXPECT_BUILTIN_ERROR(c, "rego.parse_module", R"j(["x.rego", "package p\nq := -(1)\n"])j", kBuiltin,
                       "x.rego:2:7: rego_parse_error: unexpected ( token: expected number");
  // OPA's scanner rejects NUL bytes and invalid UTF-8 anywhere, comments included.
  auto r = c.call("rego.parse_module", {S("x.rego"), S("package p\n# \xFF\n")});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, kBuiltin);
  EXPECT_NE(r.error().message.find("x.rego:2:3: rego_parse_error: illegal utf-8 character"), std::string::npos) << r.error().message;
  r = c.call("rego.parse_module", {S("x.rego"), S(std::string("package p\np := \"\0\"\n", 18))});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("illegal null character"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace cloister::rego
