// graphql.* on untrusted text: input is a query document, a NUL byte, then a schema document.
// Both are parsed; when both parse, the schema is loaded and the query validated; the ASTs go
// through the builtins as text and as AST objects (the Rego value round trip). Every step must
// return a value or an error: no crash, no unbounded recursion, no hang.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "builtins/builtin.h"
#include "builtins/graphql_ast.h"
#include "cloister/rego/value.h"

namespace {

using cloister::rego::Value;
namespace b = cloister::rego::builtins;

Value call(b::BuiltinContext& ctx, const char* name, std::vector<Value> args) {
  const b::BuiltinDef* def = b::Registry::standard().find(name);
  if (!def) __builtin_trap();  // the family must be registered
  ctx.name = def->name;
  auto r = def->fn(ctx, args);
  return r ? *r : Value::undefined();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256 * 1024) return 0;
  std::string in(reinterpret_cast<const char*>(data), size);
  std::size_t nul = in.find('\0');
  std::string query = in.substr(0, nul);
  std::string schema = nul == std::string::npos ? std::string() : in.substr(nul + 1);

  cloister::rego::builtins::RandomSource rng(1);
  b::RegexCache regex;
  std::map<std::string, Value> memo;
  b::BuiltinContext ctx;
  ctx.rng = &rng;
  ctx.regex = &regex;
  ctx.memo = &memo;

  Value q = call(ctx, "graphql.parse_query", {Value::string(query)});
  Value s = call(ctx, "graphql.parse_schema", {Value::string(schema)});
  call(ctx, "graphql.schema_is_valid", {Value::string(schema)});
  Value parsed = call(ctx, "graphql.parse", {Value::string(query), Value::string(schema)});
  Value verified = call(ctx, "graphql.parse_and_verify", {Value::string(query), Value::string(schema)});
  // parse and parse_and_verify agree on validity.
  if (parsed.is_defined() != (verified.is_defined() && verified.array_items()[0].is_true())) __builtin_trap();
  if (q.is_defined() && s.is_defined()) {
    Value text_valid = call(ctx, "graphql.is_valid", {Value::string(query), Value::string(schema)});
    Value ast_valid = call(ctx, "graphql.is_valid", {q, s});
    // Decoding the AST objects gives back the same documents, so validity cannot change.
    if (text_valid != ast_valid) __builtin_trap();
    if (parsed.is_defined()) {
      Value again = call(ctx, "graphql.parse", {q, s});
      if (again != parsed) __builtin_trap();
    }
  }
  return 0;
}
