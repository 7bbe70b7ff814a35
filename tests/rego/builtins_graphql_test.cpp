// graphql.*: conformance topic "graphql" plus the parser, schema and validator behaviour it does
// not pin down (error positions, lexer errors, block strings, limits, each validation rule).
#include <string>

#include "builtins/graphql_ast.h"
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;
namespace gql = builtins::graphql;

// "message @ line:column" of a failed query parse, or "ok".
std::string query_error(std::string_view src) {
  auto r = gql::parse_query(src);
  if (r) return "ok";
  return r.error().message + " @ " + std::to_string(r.error().pos.line) + ":" + std::to_string(r.error().pos.column);
}
std::string schema_error(std::string_view src) {
  auto r = gql::parse_schema(src);
  if (r) return "ok";
  return r.error().message + " @ " + std::to_string(r.error().pos.line) + ":" + std::to_string(r.error().pos.column);
}

// The first validation message of `query` against `schema` ("valid" when none).
std::string validation(std::string_view schema, std::string_view query) {
  auto sd = gql::parse_schema(schema);
  if (!sd) return "schema parse: " + sd.error().message;
  auto s = gql::load_schema(*sd);
  if (!s) return "schema: " + s.error().message;
  auto q = gql::parse_query(query);
  if (!q) return "query parse: " + q.error().message;
  auto e = gql::validate_query(*s, *q);
  return e ? e->message : "valid";
}
std::string schema_load(std::string_view schema) {
  auto sd = gql::parse_schema(schema);
  if (!sd) return "parse: " + sd.error().message;
  auto s = gql::load_schema(*sd);
  return s ? "valid" : s.error().message;
}

TEST(RegoGraphql, ConformanceTopicPasses) {
  // The whole topic runs through the CLI conformance runner in conformance_test.cpp; here a
  // representative case through the registry: the pruned AST shape OPA returns.
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "graphql.parse_query", A(S("{ f(a: [1, \"x\"], b: {c: $v}) @skip(if: true) }")),
                 R"j({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "f",
                   "Arguments": [
                     {"Name": "a", "Value": {"Children": [
                        {"Name": "", "Value": {"ExpectedTypeHasDefault": false, "Kind": 1, "Raw": "1"}},
                        {"Name": "", "Value": {"ExpectedTypeHasDefault": false, "Kind": 3, "Raw": "x"}}],
                        "ExpectedTypeHasDefault": false, "Kind": 8, "Raw": ""}},
                     {"Name": "b", "Value": {"Children": [
                        {"Name": "c", "Value": {"ExpectedTypeHasDefault": false, "Kind": 0, "Raw": "v"}}],
                        "ExpectedTypeHasDefault": false, "Kind": 9, "Raw": ""}}],
                   "Directives": [{"Arguments": [{"Name": "if", "Value": {"ExpectedTypeHasDefault": false, "Kind": 5, "Raw": "true"}}],
                                   "Location": "", "Name": "skip"}],
                   "Name": "f"}]}]})j");
}

TEST(RegoGraphql, ParseErrorsNameTokenAndPosition) {
  EXPECT_EQ(query_error("{"), "Expected Name, found <EOF> @ 1:2");
  EXPECT_EQ(query_error("{ a }\n\n  query Q { b(x: ) }"), "Unexpected ) @ 3:18");
  EXPECT_EQ(query_error("query Q($v: Int = $w) { a }"), "Unexpected $ @ 1:19");
  EXPECT_EQ(query_error("{ a(x: 1) b() }"), "expected at least one definition, found ) @ 1:13");
  EXPECT_EQ(query_error("fragment F on T { ...on }"), "Expected Name, found } @ 1:25");
  EXPECT_EQ(query_error("fragment F T { a }"), "Expected \"on\", found Name \"T\" @ 1:12");
  // Columns count runes, not bytes.
  EXPECT_EQ(query_error("{ f(a: \"ਊਊ\") ) }"), "Expected Name, found ) @ 1:14");
  // Empty document is a valid (empty) query; a schema needs nothing either.
  EXPECT_EQ(query_error(""), "ok");
  EXPECT_EQ(schema_error("  # only a comment\n"), "ok");
}

TEST(RegoGraphql, LexerErrors) {
  // As in gqlparser, the parser only peeks at a malformed token, so the report is "Unexpected
  // <Invalid>" (or "found <Invalid>") placed where the lexer stopped scanning.
  EXPECT_EQ(query_error("{ a(x: \"open) }"), "Unexpected <Invalid> @ 1:16");
  EXPECT_EQ(query_error("{ a(x: \"\\q\") }"), "Unexpected <Invalid> @ 1:10");
  EXPECT_EQ(query_error("{ a(x: 01) }"), "Unexpected <Invalid> @ 1:9");
  EXPECT_EQ(query_error("{ a(x: 1.) }"), "Unexpected <Invalid> @ 1:10");
  EXPECT_EQ(query_error("{ a(x: 1e) }"), "Unexpected <Invalid> @ 1:10");
  EXPECT_EQ(query_error("{ a(x: 12abc) }"), "Unexpected <Invalid> @ 1:10");
  EXPECT_EQ(query_error("{ a(x: 12) }"), "ok");
  EXPECT_EQ(query_error("{ a(x: -0.5e+3) }"), "ok");
  EXPECT_EQ(query_error("{ a ? }"), "Expected Name, found <Invalid> @ 1:5");
  EXPECT_EQ(query_error("{ a(x: .5) }"), "Unexpected <Invalid> @ 1:8");
  EXPECT_EQ(query_error("\xEF\xBB\xBF{ a }"), "ok");  // byte order mark is ignored
  EXPECT_EQ(schema_error("\"\"\"\r"), "Unexpected <Invalid> @ 2:1");
}

TEST(RegoGraphql, StringValuesAreDecoded) {
  auto q = gql::parse_query(R"q({ a(x: "tab\t\u00e9\"q\\", y: """  keep \""" quotes""") })q");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  const auto& args = q->operations[0].selections[0].arguments;
  EXPECT_EQ(args[0].value.raw, "tab\t\xC3\xA9\"q\\");
  EXPECT_EQ(args[0].value.kind, gql::ValueKind::String);
  EXPECT_EQ(args[1].value.raw, "  keep \"\"\" quotes");
  EXPECT_EQ(args[1].value.kind, gql::ValueKind::Block);
}

TEST(RegoGraphql, BlockStringIndentation) {
  // Spec 3.2 BlockStringValue: common indent of the lines after the first is removed, blank
  // leading/trailing lines are dropped, \r\n and \r become \n.
  auto s = gql::parse_schema("\"\"\"\n    first\n      indented\n\n    last\n   \n\"\"\"\nscalar A\n"
                             "\"\"\"  keeps first-line spaces\r\n  second\"\"\"\nscalar B");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->definitions[0].description, "first\n  indented\n\nlast");
  EXPECT_EQ(s->definitions[1].description, "  keeps first-line spaces\nsecond");
}

TEST(RegoGraphql, NestingDepthIsBounded) {
  // Untrusted input must not recurse without bound: 100k nested selection sets, lists and
  // list types all stop with an error at the depth limit.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{a";
  EXPECT_NE(query_error(deep).find("nesting exceeds"), std::string::npos);
  std::string list = "{ a(x: " + std::string(100000, '[') + ") }";
  EXPECT_NE(query_error(list).find("nesting exceeds"), std::string::npos);
  std::string type = "query ($v: " + std::string(100000, '[') + ") { a }";
  EXPECT_NE(query_error(type).find("nesting exceeds"), std::string::npos);
  // Within the limit is fine.
  std::string ok;
  for (int i = 0; i < 50; ++i) ok += "{a";
  ok += std::string(50, '}');
  EXPECT_EQ(query_error(ok), "ok");
  // Oversized documents are refused before lexing.
  EXPECT_NE(query_error(std::string(gql::kMaxSourceBytes + 1, ' ')).find("exceeds"), std::string::npos);
}

TEST(RegoGraphql, DeepAstObjectIsRefused) {
  BuiltinCaller c;
  // A hand-built AST object nested past the limit is an error value, not a crash.
  Value sel = J(R"j({"Alias": "a", "Name": "a"})j");
  for (int i = 0; i < 1000; ++i)
    sel = Value::object({{S("Alias"), S("a")}, {S("Name"), S("a")}, {S("SelectionSet"), Value::array({sel})}});
  Value query = Value::object({{S("Operations"), Value::array({Value::object({{S("Operation"), S("query")},
                                                                             {S("SelectionSet"), Value::array({sel})}})})}});
  EXPECT_BUILTIN(c, "graphql.is_valid", A(query, S("type Query { a: Query }")), "false");
  EXPECT_BUILTIN_ERROR(c, "graphql.parse", A(query, S("type Query { a: Query }")), "eval_builtin_error",
                       "graphql.parse: invalid GraphQL query AST: AST nesting exceeds 128 levels");
}

constexpr std::string_view kSchema = R"(
  interface Node { id: ID! }
  type User implements Node { id: ID! name(upper: Boolean = false): String friends(first: Int!): [User!]! role: Role }
  type Group implements Node { id: ID! members: [User] title: String }
  type Other { x: Int }
  union Entity = User | Group
  enum Role { ADMIN USER }
  input Filter { role: Role! name: String limit: Int = 10 }
  type Query { node(id: ID!): Node user(id: ID): User users(filter: Filter): [User] entity: Entity other: Other }
  type Subscription { a: Int b: Int }
)";

TEST(RegoGraphql, ValidationRules) {
  EXPECT_EQ(validation(kSchema, "{ user { name } }"), "valid");
  EXPECT_EQ(validation(kSchema, "{ __typename user { __typename id } __schema { types { name } } }"), "valid");
  EXPECT_EQ(validation(kSchema, "{ user { nope } }"), "Cannot query field \"nope\" on type \"User\".");
  EXPECT_EQ(validation(kSchema, "{ user(idd: 1) { id } }"), "Unknown argument \"idd\" on field \"Query.user\".");
  EXPECT_EQ(validation(kSchema, "{ node { id } }"),
            "Field \"node\" argument \"id\" of type \"ID!\" is required, but it was not provided.");
  EXPECT_EQ(validation(kSchema, "{ user { id(a: 1, a: 2) } }"), "Unknown argument \"a\" on field \"User.id\".");
  EXPECT_EQ(validation(kSchema, "{ user { friends { id } } }"),
            "Field \"friends\" argument \"first\" of type \"Int!\" is required, but it was not provided.");
  EXPECT_EQ(validation(kSchema, "{ user }"),
            "Field \"user\" of type \"User\" must have a selection of subfields. Did you mean \"user { ... }\"?");
  EXPECT_EQ(validation(kSchema, "{ user { id { x } } }"),
            "Field \"id\" must not have a selection since type \"ID!\" has no subfields.");
  EXPECT_EQ(validation(kSchema, "{ entity { id } }"), "Cannot query field \"id\" on type \"Entity\".");
  EXPECT_EQ(validation(kSchema, "{ entity { ... on User { id } ... on Group { id } } }"), "valid");
  EXPECT_EQ(validation(kSchema, "{ entity { ... on Other { x } } }"),
            "Fragment cannot be spread here as objects of type \"Entity\" can never be of type \"Other\".");
  EXPECT_EQ(validation(kSchema, "{ node(id: 1) { ... on Role { x } } }"),
            "Fragment cannot condition on non composite type \"Role\".");
  EXPECT_EQ(validation(kSchema, "{ node(id: 1) { ... on Nope { x } } }"), "Unknown type \"Nope\".");
  EXPECT_EQ(validation(kSchema, "mutation { a }"), "Schema does not support operation type \"mutation\"");
  EXPECT_EQ(validation(kSchema, "subscription { a b }"), "Anonymous Subscription must select only one top level field.");
  EXPECT_EQ(validation(kSchema, "{ other { x } } { other { x } }"),
            "This anonymous operation must be the only defined operation.");
  EXPECT_EQ(validation(kSchema, "query A { other { x } } query A { other { x } }"),
            "There can be only one operation named \"A\".");
}

TEST(RegoGraphql, ValuesOfCorrectType) {
  EXPECT_EQ(validation(kSchema, "{ users(filter: {role: ADMIN, limit: 3}) { id } }"), "valid");
  EXPECT_EQ(validation(kSchema, "{ users(filter: {role: BOSS}) { id } }"), "Value \"BOSS\" does not exist in \"Role\" enum.");
  EXPECT_EQ(validation(kSchema, "{ users(filter: {name: \"x\"}) { id } }"),
            "Field \"Filter.role\" of required type \"Role!\" was not provided.");
  EXPECT_EQ(validation(kSchema, "{ users(filter: {role: ADMIN, age: 3}) { id } }"),
            "Field \"age\" is not defined by type \"Filter\".");
  EXPECT_EQ(validation(kSchema, "{ user(id: 1.5) { id } }"), "Expected value of type \"ID\", found 1.5.");
  EXPECT_EQ(validation(kSchema, "{ user { friends(first: \"3\") { id } } }"), "Expected value of type \"Int!\", found \"3\".");
  EXPECT_EQ(validation(kSchema, "{ node(id: null) { id } }"), "Expected value of type \"ID!\", found null.");
}

TEST(RegoGraphql, VariablesAndFragments) {
  EXPECT_EQ(validation(kSchema, "query Q($id: ID!) { node(id: $id) { id } }"), "valid");
  EXPECT_EQ(validation(kSchema, "query Q($id: ID) { node(id: $id) { id } }"),
            "Variable \"$id\" of type \"ID\" used in position expecting type \"ID!\".");
  EXPECT_EQ(validation(kSchema, "query Q($id: ID = 4) { node(id: $id) { id } }"), "valid");
  EXPECT_EQ(validation(kSchema, "query Q($id: Int!) { node(id: $id) { id } }"),
            "Variable \"$id\" of type \"Int!\" used in position expecting type \"ID!\".");
  EXPECT_EQ(validation(kSchema, "query Q { node(id: $id) { id } }"), "Variable \"$id\" is not defined by operation \"Q\".");
  EXPECT_EQ(validation(kSchema, "query Q($x: Int) { other { x } }"), "Variable \"$x\" is never used in operation \"Q\".");
  EXPECT_EQ(validation(kSchema, "query Q($x: User) { other { x } }"), "Variable \"$x\" cannot be non-input type \"User\".");
  EXPECT_EQ(validation(kSchema, "query Q($x: Int, $x: Int) { other { x } }"), "There can be only one variable named \"$x\".");
  // Usage through a fragment counts, and is checked against the operation's definitions.
  EXPECT_EQ(validation(kSchema, "query Q($n: Int!) { user { ...F } } fragment F on User { friends(first: $n) { id } }"), "valid");
  EXPECT_EQ(validation(kSchema, "query Q { user { ...F } } fragment F on User { friends(first: $n) { id } }"),
            "Variable \"$n\" is not defined by operation \"Q\".");
  EXPECT_EQ(validation(kSchema, "{ user { id } } fragment F on User { id }"), "Fragment \"F\" is never used.");
  EXPECT_EQ(validation(kSchema, "{ user { ...G } }"), "Unknown fragment \"G\".");
  EXPECT_EQ(validation(kSchema, "{ user { ...A } } fragment A on User { ...B } fragment B on User { ...A }"),
            "Cannot spread fragment \"A\" within itself.");
  EXPECT_EQ(validation(kSchema, "{ user { ...F } } fragment F on Other { x }"),
            "Fragment \"F\" cannot be spread here as objects of type \"User\" can never be of type \"Other\".");
  EXPECT_EQ(validation(kSchema, "{ user { ...F } } fragment F on User { id } fragment F on User { id }"),
            "There can be only one fragment named \"F\".");
}

// gqlparser's field-merging message for response name `response`.
std::string conflict(std::string_view response, std::string_view why) {
  return "Fields \"" + std::string(response) + "\" conflict because " + std::string(why) +
         ". Use different aliases on the fields to fetch both if this was intentional.";
}

TEST(RegoGraphql, FieldSelectionMerging) {
  EXPECT_EQ(validation(kSchema, "{ user { id id name(upper: true) name(upper: true) } }"), "valid");
  EXPECT_EQ(validation(kSchema, "{ user { x: id x: name } }"),
            conflict("x", "id and name are different fields"));
  EXPECT_EQ(validation(kSchema, "{ user { name(upper: true) ... on User { name(upper: false) } } }"),
            conflict("name", "they have differing arguments"));
  // Through a fragment spread.
  EXPECT_EQ(validation(kSchema, "{ user { id: name ...F } } fragment F on User { id }"),
            conflict("id", "name and id are different fields"));
  // Distinct object types never apply together: the same response name may be another field...
  EXPECT_EQ(validation(kSchema, "{ entity { ... on User { t: name } ... on Group { t: title } } }"), "valid");
  // ... but not of another shape (spec SameResponseShape; gqlparser doTypesConflict).
  EXPECT_EQ(validation(kSchema, "{ entity { ... on User { x: id } ... on Group { x: members { id } } } }"),
            conflict("x", "they return conflicting types ID! and [User]"));
  EXPECT_EQ(validation(kSchema, "{ entity { ... on User { m: friends(first: 1) { id } } ... on Group { m: members { id } } } }"),
            conflict("m", "they return conflicting types [User!]! and [User]"));
}

// Merged fields' sub-selections must merge too (spec 5.3.2 FieldsInSetCanMerge), reported with
// gqlparser's nested wording at the second field.
TEST(RegoGraphql, FieldSelectionMergingRecursesIntoSubSelections) {
  EXPECT_EQ(validation(kSchema, "{ user { friends(first: 1) { id } } user { friends(first: 1) { id name } } }"), "valid");
  EXPECT_EQ(validation(kSchema, "{ user { friends(first: 1) { x: id } friends(first: 1) { x: name } } }"),
            conflict("friends", "subfields \"x\" conflict because id and name are different fields"));
  EXPECT_EQ(validation(kSchema, "{ user { x: id y: id } user { x: name y: role } }"),
            conflict("user", "subfields \"x\" conflict because id and name are different fields and subfields \"y\" "
                             "conflict because id and role are different fields"));
  EXPECT_EQ(validation(kSchema, "{ a: user { f: friends(first: 1) { n: name(upper: true) } } a: user { f: friends(first: 1) { n: name } } }"),
            conflict("a", "subfields \"f\" conflict because subfields \"n\" conflict because they have differing arguments"));
  // Through fragments spread in each sub-selection (gqlparser's steps I and J).
  EXPECT_EQ(validation(kSchema, "{ user { ...A } user { ...B } } fragment A on User { x: id } fragment B on User { x: name }"),
            conflict("user", "subfields \"x\" conflict because id and name are different fields"));
  EXPECT_EQ(validation(kSchema, "{ user { x: id } user { ...B } } fragment B on User { x: name }"),
            conflict("user", "subfields \"x\" conflict because id and name are different fields"));
  // Comparisons are quadratic in the fields of one name: a budget of steps refuses a hostile
  // query (here 1,000 `user` fields, half a million pairs; 100,000 would be 5 billion) instead of
  // spending minutes on it, and so it does for pairs with wide sub-selections (each pair collects
  // them again: 20 fields of 2,000 sub-fields).
  const std::string too_large = "Query is too large to validate: field merging needs more than 1000000 steps.";
  std::string many = "{";
  for (int i = 0; i < 1000; ++i) many += " user { id }";
  EXPECT_EQ(validation(kSchema, many + " }"), too_large);
  std::string wide_fields = "user {";
  for (int i = 0; i < 2000; ++i) wide_fields += " f" + std::to_string(i) + ": id";
  std::string wide = "{";
  for (int i = 0; i < 20; ++i) wide += " " + wide_fields + " }";
  EXPECT_EQ(validation(kSchema, wide + " }"), too_large);
  std::string fine = "{";
  for (int i = 0; i < 400; ++i) fine += " user { id }";
  EXPECT_EQ(validation(kSchema, fine + " }"), "valid");
  // The error is at the second field of the pair.
  auto s = gql::load_schema(*gql::parse_schema(kSchema));
  ASSERT_TRUE(s.has_value());
  auto q = gql::parse_query("{\n  user { x: id }\n  user { x: name }\n}");
  ASSERT_TRUE(q.has_value());
  auto e = gql::validate_query(*s, *q);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->pos.line, 3);
  EXPECT_EQ(e->pos.column, 3);
}

TEST(RegoGraphql, Directives) {
  EXPECT_EQ(validation(kSchema, "query Q($b: Boolean!) { user @include(if: $b) { id @skip(if: false) } }"), "valid");
  EXPECT_EQ(validation(kSchema, "{ user @nope { id } }"), "Unknown directive \"@nope\".");
  EXPECT_EQ(validation(kSchema, "query @skip(if: true) { user { id } }"), "Directive \"@skip\" may not be used on QUERY.");
  EXPECT_EQ(validation(kSchema, "{ user @skip { id } }"),
            "Directive \"@skip\" argument \"if\" of type \"Boolean!\" is required, but it was not provided.");
  EXPECT_EQ(validation(kSchema, "{ user @skip(if: true) @skip(if: false) { id } }"),
            "The directive \"@skip\" can only be used once at this location.");
}

TEST(RegoGraphql, SchemaRules) {
  EXPECT_EQ(schema_load(kSchema), "valid");
  EXPECT_EQ(schema_load("type A { x: Int } type A { y: Int }"), "Cannot redeclare type A.");
  EXPECT_EQ(schema_load("type String { x: Int }"), "Cannot redeclare type String.");
  EXPECT_EQ(schema_load("type A { x: Nope }"), "Undefined type Nope.");
  EXPECT_EQ(schema_load("input I { x: Int } type A { x: I }"), "OBJECT A: field must be one of SCALAR, OBJECT, INTERFACE, UNION, ENUM.");
  EXPECT_EQ(schema_load("type O { x: Int } input I { o: O }"), "INPUT_OBJECT I: field must be one of SCALAR, ENUM, INPUT_OBJECT.");
  EXPECT_EQ(schema_load("type A { __x: Int }"),
            "Name \"__x\" must not begin with \"__\", which is reserved by GraphQL introspection.");
  EXPECT_EQ(schema_load("interface I { id: ID! } type A implements I { x: Int }"),
            "For A to implement I it must have a field called id.");
  EXPECT_EQ(schema_load("interface I { id: ID! } type A implements I { id: ID }"),
            "For A to implement I the field id must have type ID!.");
  EXPECT_EQ(schema_load("interface I { id: ID } type A implements I { id: ID! }"), "valid");
  EXPECT_EQ(schema_load("interface I { id: ID } interface J implements I { id: ID } type A implements J { id: ID }"),
            "OBJECT A must implement I because it is implemented by J.");
  EXPECT_EQ(schema_load("scalar S union U = S"), "UNION U: UNION can only include OBJECT types, it cannot include \"S\".");
  EXPECT_EQ(schema_load("scalar S extend type S @deprecated"), "Cannot extend type S because the base type is a SCALAR, not OBJECT.");
  EXPECT_EQ(schema_load("schema { query: Q }"), "Schema root query refers to a type Q that does not exist.");
  EXPECT_EQ(schema_load("type Q { a: Int } schema { query: Q } schema { query: Q }"),
            "Cannot have multiple schema entry points, consider schema extensions instead.");
  EXPECT_EQ(schema_load("type A @deprecated { x: Int }"), "Directive deprecated is not applicable on OBJECT.");
  EXPECT_EQ(schema_load("type A { x: Int @nope }"), "Undefined directive nope.");
  // An extension of an undefined type defines it (gqlparser allows this for federation).
  EXPECT_EQ(schema_load("extend type Query { a: Int }"), "valid");
}

TEST(RegoGraphql, RootTypesFromSchemaDefinition) {
  constexpr std::string_view s = "type Root { a: Int } type M { b: Int } schema { query: Root } extend schema { mutation: M }";
  EXPECT_EQ(validation(s, "{ a }"), "valid");
  EXPECT_EQ(validation(s, "mutation { b }"), "valid");
  EXPECT_EQ(validation(s, "subscription { b }"), "Schema does not support operation type \"subscription\"");
}

TEST(RegoGraphql, BuiltinsReportOpaMessages) {
  BuiltinCaller c;
  const char* schema = "type Query { a(x: Int!): Int }";
  EXPECT_BUILTIN_ERROR(c, "graphql.parse", A(S("{ a }"), S(schema)), "eval_builtin_error",
                       "graphql.parse: Field \"a\" argument \"x\" of type \"Int!\" is required, but it was not provided in GraphQL string at location 1:3");
  EXPECT_BUILTIN_ERROR(c, "graphql.parse", A(S("{ a(x: 1) }"), S("type Query { a: Nope }")), "eval_builtin_error",
                       "graphql.parse: Undefined type Nope. in GraphQL schema string at location 1:14");
  EXPECT_BUILTIN_ERROR(c, "graphql.parse", A(S("{"), S(schema)), "eval_builtin_error",
                       "graphql.parse: Expected Name, found <EOF> in GraphQL string at location 1:2");
  EXPECT_BUILTIN_ERROR(c, "graphql.parse_schema", A(S("type")), "eval_builtin_error",
                       "graphql.parse_schema: Expected Name, found <EOF> in GraphQL string at location 1:5");
  EXPECT_BUILTIN(c, "graphql.parse_and_verify", A(S("{ a }"), S(schema)), "[false, {}, {}]");
  EXPECT_BUILTIN(c, "graphql.is_valid", A(S("{ a(x: 1) }"), S(schema)), "true");
  EXPECT_BUILTIN(c, "graphql.is_valid", A(I(1), S(schema)), "false");
  EXPECT_BUILTIN(c, "graphql.schema_is_valid", A(I(1)), "false");
  EXPECT_BUILTIN_ERROR(c, "graphql.parse", A(I(1), S(schema)), "eval_type_error",
                       "graphql.parse: operand 1 must be one of {object, string} but got number");
  EXPECT_BUILTIN_ERROR(c, "graphql.parse_query", A(I(1)), "eval_type_error", "operand 1 must be string");
}

TEST(RegoGraphql, AstObjectsRoundTrip) {
  BuiltinCaller c;
  const char* schema_text = "\"d\" type Query { u(f: F = {n: 1}): [U!]! @deprecated } type U implements N { id: ID! }"
                            " interface N { id: ID! } input F { n: Int } enum E { A @deprecated(reason: \"x\") }"
                            " directive @d(a: Int) repeatable on FIELD | QUERY | SCHEMA  union Un = U  extend type U { e: E }"
                            " schema { query: Query } extend schema @d";
  const char* query_text = "query Q($f: F = {n: 2}) @d { u(f: $f) { id ... on U { e } ...G } } fragment G on U { id }";
  auto sq = c.call("graphql.parse_schema", A(S(schema_text)));
  auto qq = c.call("graphql.parse_query", A(S(query_text)));
  ASSERT_TRUE(sq.has_value() && qq.has_value());
  // AST objects decode back into the same documents: parse() re-encodes them unchanged.
  auto r = c.call("graphql.parse", A(*qq, *sq));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->array_items()[0], *qq);
  EXPECT_EQ(r->array_items()[1], *sq);
  // Text and AST inputs mix.
  EXPECT_BUILTIN(c, "graphql.is_valid", A(*qq, S(schema_text)), "true");
  EXPECT_BUILTIN(c, "graphql.is_valid", A(S(query_text), *sq), "true");
  EXPECT_BUILTIN(c, "graphql.schema_is_valid", A(*sq), "true");
  // A malformed AST object is reported, not guessed at.
  EXPECT_BUILTIN(c, "graphql.schema_is_valid", A(J(R"j({"Definitions": [{"Kind": "OBJECT", "Name": 3}]})j")), "false");
  EXPECT_BUILTIN_ERROR(c, "graphql.parse", A(J(R"j({"Operations": [{"SelectionSet": [{"Alias": "a", "Arguments": [{"Name": "x", "Value": {"Kind": 12}}]}]}]})j"), S(schema_text)),
                       "eval_builtin_error", "Kind must be a value kind number 0..9");
}

}  // namespace
}  // namespace cloister::rego
