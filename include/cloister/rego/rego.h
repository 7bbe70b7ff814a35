// The Rego engine's embedding API.
//
//   auto policy = Policy::compile({{"policy.rego", text}}, data);     // once; immutable
//   auto query  = (*policy)->prepare("data.agent_policy.CreateContainerRequest");
//   auto result = query->eval({.input = request});                     // many times, any thread
//
// Errors are values. Their message starts with the location and OPA's error code, e.g.
// "policy.rego:12: rego_unsafe_var_error: var x is unsafe" or "eval_conflict_error: complete rules
// must not produce multiple outputs"; error_code() extracts the code.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cloister/common/result.h"
#include "cloister/rego/value.h"

namespace cloister::rego {

struct ModuleSource {
  std::string name;  // used in error positions
  std::string text;
};

struct CompileOptions {
  bool v0 = false;              // parse modules as Rego v0 unless they `import rego.v1`
  std::size_t max_depth = 200;  // nesting limit of the parser (terms, bodies)
  // Decode test-only bodies into flat compiled tests (docs/rego.md, "Compiled tests"). Results
  // are the same either way; off only to check that against the general evaluator.
  bool compile_tests = true;
  // Resolve references into constant rules at compile time (docs/rego.md, "Constant rules").
  // Results are the same either way; off only to check that.
  bool fold_constant_rules = true;
  // Remember the values of comprehensions that depend on nothing but a few local variables
  // (docs/rego.md, "Comprehension values"). Results are the same either way; off only to check that.
  bool memo_comprehensions = true;
  // Refuse a rule at a path where the base data has a value (rego_compile_error "conflicting
  // rule for data path a/b found"), as OPA's rego API and `opa eval` do with data in their store.
  // Off, base data and rules merge (the data's value wins where both define one): what OPA's own
  // conformance harness does, which compiles without that check.
  bool check_data_conflicts = true;
  // `print(...)` statements run and their lines are returned (QueryResult::prints). Off, they are
  // erased when the policy and its queries compile, as OPA's rego API does unless
  // EnablePrintStatements is set: no cost on a hot path (genpolicy's Kata rules print on nearly
  // every line). A print used as a value is an error either way.
  bool print_statements = true;
};

struct EvalLimits {
  std::uint64_t max_steps = 100'000'000;  // expression evaluations; 0 = unlimited
  std::chrono::milliseconds timeout{0};   // wall clock; 0 = none
  std::size_t max_call_depth = 512;       // nested rule/function evaluations
  std::size_t max_collection = 50'000'000;  // elements built by one comprehension/range
  // Native stack the evaluator may use (it recurses per nested expression); beyond it the
  // evaluation fails with eval_limit_error instead of overflowing the thread's stack.
  std::size_t max_stack_bytes = 2 * 1024 * 1024;
  // Bytes of values (strings, arrays, objects, sets, big numbers) built by the evaluation and
  // alive at once; 0 = unlimited. Inputs and policy data do not count.
  std::size_t max_memory_bytes = std::size_t{1} << 30;
};

struct EvalOptions {
  Value input;                    // undefined = no input document
  // Base data replaced for this evaluation only, as `with data.<path> as <value>` replaces it:
  // e.g. {{"pstate"}, state} for the agent's policy state document (DESIGN.md). Rules that read
  // none of the replaced data keep their compiled fast path. A path inside a rule's value cannot
  // be replaced (the evaluation fails with invalid_argument, where a `with` would be ignored).
  std::vector<std::pair<std::vector<std::string>, Value>> data_overrides;
  bool strict_builtin_errors = false;
  std::optional<std::int64_t> now_ns;  // time.now_ns(); default: the wall clock at evaluation start
  std::uint64_t seed = 0;              // rand.* seed; 0 = random
  EvalLimits limits;
};

struct ResultRow {
  std::vector<std::pair<std::string, Value>> bindings;  // query variables, in first-appearance order
  Value value;  // the value of the query's last expression (true for comparisons/unifications)
};

struct QueryResult {
  std::vector<ResultRow> rows;      // empty = undefined
  std::vector<std::string> prints;  // print() output lines, in evaluation order
};

class Policy;

class PreparedQuery {
 public:
  Result<QueryResult> eval(const EvalOptions& options = {}) const;

  struct Impl;
  explicit PreparedQuery(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

class Policy {
 public:
  // Parses and compiles the modules, merging `data` (a JSON object or undefined) as base documents.
  static Result<std::shared_ptr<const Policy>> compile(const std::vector<ModuleSource>& modules,
                                                       const Value& data = Value(),
                                                       const CompileOptions& options = {});
  Result<PreparedQuery> prepare(std::string_view query) const;
  Result<QueryResult> eval(std::string_view query, const EvalOptions& options = {}) const;

  struct Impl;
  explicit Policy(std::shared_ptr<Impl> impl);
  ~Policy();
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

// OPA's error code in an engine error ("rego_parse_error", "eval_conflict_error", ...), or "".
std::string_view error_code(const Error& error);

// Parses a Rego term (e.g. a conformance case's input_term) into a ground value.
Result<Value> parse_value_term(std::string_view text);

}  // namespace cloister::rego
