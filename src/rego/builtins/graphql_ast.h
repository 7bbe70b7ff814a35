// GraphQL documents for the graphql.* builtins (internal to the Rego engine).
//
// The structs mirror the AST that OPA exposes to policies: OPA parses with vektah/gqlparser and
// serialises that library's Go structs, so field sets and names follow it (QueryDocument,
// SchemaDocument, Definition, FieldDefinition, Value with its Kind numbering ...). Conversion to
// and from Rego values lives in graphql.cpp; this header is parsing, schema loading and query
// validation only. Inputs are untrusted policy data: sizes and nesting depth are bounded.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace cloister::rego::builtins::graphql {

// Nesting bound for selection sets, values, type references and AST-object conversion: deep
// enough for any real query, shallow enough that recursion cannot exhaust the stack.
inline constexpr int kMaxDepth = 128;
// Source size bound (bytes) for one query or schema document.
inline constexpr std::size_t kMaxSourceBytes = 4u << 20;

struct Pos {
  int line = 0;
  int column = 0;  // in runes, 1-based (as gqlparser reports it)
};

struct Error {
  std::string message;
  Pos pos;
};

template <typename T>
using GResult = tl::expected<T, Error>;

// gqlparser's ValueKind numbering (ast/value.go): the numbers are visible to policies.
enum class ValueKind { Variable = 0, Int = 1, Float = 2, String = 3, Block = 4, Boolean = 5, Null = 6, Enum = 7, List = 8, Object = 9 };

struct ChildValue;
struct Value {
  ValueKind kind = ValueKind::Null;
  std::string raw;                  // literal text; decoded string; variable name without '$'
  std::vector<ChildValue> children; // list items (name "") or object fields
  Pos pos;
};
struct ChildValue {
  std::string name;
  Value value;
  Pos pos;
};

struct Type {
  std::string named;           // empty for a list type
  std::shared_ptr<Type> elem;  // list element type
  bool non_null = false;
  Pos pos;
  std::string str() const;     // GraphQL notation: "[Int!]!"
};

struct Argument {
  std::string name;
  Value value;
  Pos pos;
};

struct Directive {
  std::string name;
  std::vector<Argument> arguments;
  Pos pos;
};

struct Selection {
  enum class Kind { Field, FragmentSpread, InlineFragment };
  Kind kind = Kind::Field;
  std::string alias;           // field
  std::string name;            // field name or spread fragment name
  std::vector<Argument> arguments;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  std::string type_condition;  // inline fragment ("" when absent)
  Pos pos;
};

struct VariableDefinition {
  std::string variable;
  Type type;
  std::optional<Value> default_value;
  std::vector<Directive> directives;
  Pos pos;
};

struct Operation {
  std::string operation;  // query | mutation | subscription
  std::string name;
  std::vector<VariableDefinition> variables;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  Pos pos;
};

struct Fragment {
  std::string name;
  std::vector<VariableDefinition> variables;  // gqlparser's experimental fragment variables
  std::string type_condition;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  Pos pos;
};

struct QueryDocument {
  std::vector<Operation> operations;
  std::vector<Fragment> fragments;
};

// Field definitions, argument definitions and input fields share one shape (arguments empty for
// the latter two).
struct FieldDefinition {
  std::string description;
  std::string name;
  std::vector<FieldDefinition> arguments;
  std::optional<Value> default_value;
  Type type;
  std::vector<Directive> directives;
  Pos pos;
};

struct EnumValueDefinition {
  std::string description;
  std::string name;
  std::vector<Directive> directives;
  Pos pos;
};

struct Definition {
  std::string kind;  // SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT
  std::string description;
  std::string name;
  std::vector<Directive> directives;
  std::vector<std::string> interfaces;
  std::vector<FieldDefinition> fields;
  std::vector<std::string> types;
  std::vector<EnumValueDefinition> enum_values;
  Pos pos;
  bool builtin = false;
};

struct DirectiveDefinition {
  std::string description;
  std::string name;
  std::vector<FieldDefinition> arguments;
  std::vector<std::string> locations;
  bool repeatable = false;
  Pos pos;
};

struct OperationTypeDefinition {
  std::string operation;
  std::string type;
  Pos pos;
};

struct SchemaDefinition {
  std::string description;
  std::vector<Directive> directives;
  std::vector<OperationTypeDefinition> operation_types;
  Pos pos;
};

struct SchemaDocument {
  std::vector<SchemaDefinition> schema;
  std::vector<SchemaDefinition> schema_extension;
  std::vector<DirectiveDefinition> directives;
  std::vector<Definition> definitions;
  std::vector<Definition> extensions;
};

GResult<QueryDocument> parse_query(std::string_view source);
GResult<SchemaDocument> parse_schema(std::string_view source);

// A loaded schema: the user's document merged with gqlparser's prelude (built-in scalars,
// directives and introspection types) and checked.
struct Schema {
  std::map<std::string, Definition, std::less<>> types;
  std::map<std::string, DirectiveDefinition, std::less<>> directives;
  std::string query, mutation, subscription;  // root type names ("" when absent)
  const Definition* type(std::string_view name) const;
};

GResult<Schema> load_schema(const SchemaDocument& user);
// The first validation error, as gqlparser's validator reports it, or nullopt when valid.
std::optional<Error> validate_query(const Schema& schema, const QueryDocument& doc);

}  // namespace cloister::rego::builtins::graphql
