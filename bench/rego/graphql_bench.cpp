// Cost of the graphql.* builtins through the registry (as the evaluator calls them) and of their
// internal stages (parse, schema load with the prelude, validation), on a small realistic schema
// and query.
#include <benchmark/benchmark.h>

#include <map>
#include <random>

#include "builtins/builtin.h"
#include "builtins/graphql_ast.h"
#include "cloister/rego/value.h"

namespace {

using cloister::rego::Value;
namespace b = cloister::rego::builtins;
namespace gql = cloister::rego::builtins::graphql;
constexpr const char* kSchema = R"(
"desc" type Query { node(id: ID!): Node user(id: ID, f: F = {n: 1}): User users(first: Int = 10): [User!]! entity: Entity }
interface Node { id: ID! }
type User implements Node { id: ID! name(upper: Boolean = false): String @deprecated role: Role friends(first: Int!): [User!]! }
union Entity = User
enum Role { ADMIN USER @deprecated(reason: "x") }
input F { n: Int m: [String!] }
directive @d(a: Int) repeatable on FIELD | QUERY | SCHEMA
schema { query: Query }
extend type User { extra: Int })";
constexpr const char* kQuery = R"(query Q($id: ID!, $f: F = {n: 2}, $b: Boolean!) @d {
  node(id: $id) { id ... on User { name role friends(first: 3) { id name ...U } } }
  user(f: $f) @include(if: $b) { id ...U }
  users { id name(upper: true) role }
}
fragment U on User { extra role })";
struct Caller {
  cloister::rego::builtins::RandomSource rng{1};
  b::RegexCache regex;
  std::map<std::string, Value> memo;
  b::BuiltinContext ctx;
  const b::BuiltinDef* def;
  explicit Caller(const char* name) {
    ctx.rng = &rng;
    ctx.regex = &regex;
    ctx.memo = &memo;
    def = b::Registry::standard().find(name);
    ctx.name = def->name;
  }
  Value call(std::vector<Value> a) {
    auto r = def->fn(ctx, a);
    return r ? *r : Value::undefined();
  }
};

void run(benchmark::State& s, const char* name, const std::vector<Value>& args, bool want_true) {
  Caller c(name);
  for (auto _ : s) {
    Value v = c.call(args);
    if (!v.is_defined() || (want_true && !v.is_true())) s.SkipWithError("builtin failed");
    benchmark::DoNotOptimize(v);
  }
}

void BM_GraphqlParseQuery(benchmark::State& s) { run(s, "graphql.parse_query", {Value::string(kQuery)}, false); }
void BM_GraphqlParseSchema(benchmark::State& s) { run(s, "graphql.parse_schema", {Value::string(kSchema)}, false); }
void BM_GraphqlSchemaIsValid(benchmark::State& s) { run(s, "graphql.schema_is_valid", {Value::string(kSchema)}, true); }
void BM_GraphqlIsValidText(benchmark::State& s) {
  run(s, "graphql.is_valid", {Value::string(kQuery), Value::string(kSchema)}, true);
}
void BM_GraphqlIsValidAst(benchmark::State& s) {
  Value q = Caller("graphql.parse_query").call({Value::string(kQuery)});
  Value sc = Caller("graphql.parse_schema").call({Value::string(kSchema)});
  run(s, "graphql.is_valid", {q, sc}, true);
}
void BM_GraphqlStageParseQuery(benchmark::State& s) {
  for (auto _ : s) benchmark::DoNotOptimize(gql::parse_query(kQuery));
}
void BM_GraphqlStageParseSchema(benchmark::State& s) {
  for (auto _ : s) benchmark::DoNotOptimize(gql::parse_schema(kSchema));
}
void BM_GraphqlStageLoadSchema(benchmark::State& s) {
  auto d = gql::parse_schema(kSchema);
  for (auto _ : s) benchmark::DoNotOptimize(gql::load_schema(*d));
}
void BM_GraphqlStageValidate(benchmark::State& s) {
  auto sc = gql::load_schema(*gql::parse_schema(kSchema));
  auto q = gql::parse_query(kQuery);
  for (auto _ : s) {
    auto e = gql::validate_query(*sc, *q);
    if (e) s.SkipWithError(e->message.c_str());
    benchmark::DoNotOptimize(e);
  }
}

}  // namespace

BENCHMARK(BM_GraphqlParseQuery);
BENCHMARK(BM_GraphqlParseSchema);
BENCHMARK(BM_GraphqlSchemaIsValid);
BENCHMARK(BM_GraphqlIsValidText);
BENCHMARK(BM_GraphqlIsValidAst);
BENCHMARK(BM_GraphqlStageParseQuery);
BENCHMARK(BM_GraphqlStageParseSchema);
BENCHMARK(BM_GraphqlStageLoadSchema);
BENCHMARK(BM_GraphqlStageValidate);
BENCHMARK_MAIN();
