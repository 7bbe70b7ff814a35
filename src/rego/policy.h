// The compiled form of a policy. Internal: shared by the compiler and the evaluator.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "arena.h"
#include "ast.h"
#include "builtins/builtin.h"
#include "cloister/rego/rego.h"
#include "publish_table.h"

namespace cloister::rego {

// One node of the rule tree under `data`: a package segment, or the path of rules.
struct DataNode {
  // What a call reads first, in one cache line (see Term in ast.h).
  int id = 0;
  int arity = -1;
  bool is_function = false;
  // Every rule body (and else) yields the same constant: once one succeeds the value is known and
  // no conflict is possible, so evaluation stops there (OPA's early exit).
  bool early_exit = false;
  // Functions whose rules all have plain heads (arguments that are variables or constants, a
  // constant or implicit `true` value, no `else`): each body is run to its first solution only.
  bool plain_function = false;
  // Plain functions: whether any compiled rule (Rule::compiled) calls a user function, and the
  // base data its compiled rules read (Rule::data_mask, or-ed): a call through the block, `cfunc`,
  // needs no mock of those functions and no `with` of that data.
  bool compiled_calls = false;
  std::uint64_t compiled_data_mask = 0;
  // Functions: rules whose first argument is a constant, by that constant (with the rules whose
  // first argument is not constant in `any_first`), so a call only tries the bodies that can match.
  bool indexed = false;
  const CompiledFunc* cfunc = nullptr;  // plain, some rule compiled, not indexed: the rules' call block
  // Functions whose bodies only test and assign with builtins (no loop, comprehension, user
  // function call or `with`) and whose values are constants or variables: calling one costs less
  // than keeping its result (Overlay::fn_cache), so its calls are not kept (see cheap_function).
  bool uncached = false;
  // Functions: parameters `a` and `b` and a field path such that every rule fails, with no error
  // and nothing else done, unless the two arguments agree on that field (see implied_join in
  // compiler.cpp). A loop `some v in xs; f(v, y)` then skips the members whose field differs
  // from y's without calling f (Kata's check_mount compares mount destinations first).
  struct Join {
    std::uint8_t a = 0, b = 0;
    std::vector<Value> path;  // string keys, at least one
  };
  std::unique_ptr<Join> join;
  std::vector<std::shared_ptr<Rule>> rules;  // rules whose ground head prefix is exactly this path
  std::shared_ptr<Rule> default_rule;
  std::map<Value, std::unique_ptr<DataNode>, ValueLess> children;
  std::vector<Value> path;
  std::map<Value, std::vector<std::size_t>, ValueLess> by_first;
  std::vector<std::size_t> any_first;
  bool has_rules() const { return !rules.empty() || default_rule; }
  // Where an error about this node's rules points (has_rules() nodes): its first rule, else its
  // default rule.
  const Loc& first_loc() const { return rules.empty() ? default_rule->loc : rules[0]->loc; }
};

// A rule path as errors name it: `data.a.b[1]`.
inline std::string path_string(const std::vector<Value>& path) {
  std::string s = "data";
  for (const auto& p : path) s += p.is_string() ? "." + p.as_string() : "[" + to_json(p) + "]";
  return s;
}

// Errors thrown inside the evaluator and compiler; converted to cloister::Error at the API edge.
struct RegoFailure {
  std::string code;
  std::string message;
  Loc loc;
  bool has_loc = false;
};

// Indexes over the policy's base data, built by the first evaluation that needs one and shared by
// all later ones (the data is immutable and lives as long as the policy, so an index of it never
// goes stale): the strings of a data array, for `x in arr`; and a join index of a data collection
// on the fields that a `some v in xs; v.f == y` loop tests. Per-evaluation indexes of request
// values were rebuilt on every decision. Thread-safe.
struct DataIndexes {
  static constexpr std::size_t kMinMembers = 16;  // smaller collections are scanned
  struct Strings {
    bool all_strings = true;
    NameTable<bool> members;  // views into the array's strings
  };
  struct Join {
    std::vector<const Value*> members;  // iteration order
    bool joinable = true;               // every member's tested fields are strings (or missing)
    // Composite key (append_key of each tested field) -> positions. The keys are views of
    // `key_text`, whose strings never move.
    NameTable<std::vector<std::uint32_t>> by_field;
    std::deque<std::string> key_text;
  };
  // The base data's values held in nodes (collections, strings, big numbers; not object keys),
  // sorted by address: gathered on first use (a walk of the whole data document: too slow to add
  // to every compile) and read-only after. (A sorted vector: an eighth of a hash set's memory and
  // a quarter of its build time; it is searched a few times per decision.)
  std::once_flag nodes_once;
  std::vector<const void*> nodes;
  // Verdicts of a pure test on each member of a base-data collection (`some pe in p_env;
  // contains(pe, "$(")`, see memo_filter), per (collection, Expr::id, strict mode): 0 unknown,
  // 1 holds, 2 fails. A verdict depends on nothing but the member, so evaluations share them;
  // concurrent ones may both compute one and store the same value.
  // Once a loop has found every verdict, the positions that hold are published as `passing`, and
  // later loops visit those members alone.
  struct Verdicts {
    explicit Verdicts(std::size_t n) : v(new std::atomic<std::int8_t>[n]) {
      for (std::size_t i = 0; i < n; ++i) v[i].store(0, std::memory_order_relaxed);
    }
    ~Verdicts() { delete passing.load(std::memory_order_acquire); }
    Verdicts(const Verdicts&) = delete;
    Verdicts& operator=(const Verdicts&) = delete;
    std::unique_ptr<std::atomic<std::int8_t>[]> v;
    std::atomic<const std::vector<std::uint32_t>*> passing{nullptr};
  };
  // Values of pure assignments `x := f(a, b)` whose locals `a`, `b` are base data (Evaluator::
  // memo_assigned): genpolicy's patterns built from a template entry are then built once per policy,
  // not once per decision. Keyed by the expression, the locals' nodes (pinned by the entry) and the
  // strict mode. Only base data feeds it, so it holds nothing of any request.
  struct Assigned {
    std::uint32_t expr = 0;  // Expr::id
    bool strict = false;
    Value a, b;
    Value result;  // undefined: the assignment fails
  };
  detail::PublishTable<Assigned> assigned{4096, 16};
  // The nodes of those values: made from base data alone, pinned by their entries for the policy's
  // life, so a pure assignment on one of them is shared too (genpolicy's chains of `replace` over a
  // template entry: `p2 := replace(p1, ...); p3 := replace(p2, ...)`).
  struct Derived {
    const void* node;
  };
  detail::PublishTable<Derived> derived{4096, 16};

  std::mutex mu;  // guards the maps below; entries never change once made
  std::unordered_map<const void*, std::unique_ptr<const Strings>> strings;
  std::map<std::pair<const void*, std::string>, std::unique_ptr<const Join>> joins;
  std::map<std::tuple<const void*, std::uint32_t, bool>, std::unique_ptr<Verdicts>> verdicts;
};

struct Policy::Impl {
  // First, so it is destroyed last: the rules and terms below live in it.
  NodeArena arena;
  std::vector<std::string> files;
  std::vector<std::string> sources;
  std::vector<Module> modules;
  std::unique_ptr<DataNode> root;
  std::vector<DataNode*> nodes;  // by id
  Value data;                    // base documents
  CompileOptions options;
  mutable builtins::SharedRegexCache regexes;  // thread-safe; shared by all evaluations
  mutable DataIndexes indexes;                 // thread-safe; shared by all evaluations
  std::uint32_t expr_ids = 0;                  // Expr::id given so far
  // The values of constant rules (fold_constant_refs): immutable, and as long-lived as the base
  // data, so the shared indexes treat their nodes as base data (DataIndexes::nodes).
  std::vector<Value> constant_values;
  // While compiling: the compiled call tests of rule bodies (Expr::test), whose callees' blocks
  // (TestExpr::cfunc) are linked once every function is compiled.
  std::vector<TestExpr*> call_tests;

  std::string where(const Loc& l) const;
  Error to_error(const RegoFailure& f) const;
};

struct PreparedQuery::Impl {
  // The query's own nodes (the policy's arena is read-only once compiled: queries may be prepared
  // concurrently). First, so it is destroyed last.
  NodeArena arena;
  std::shared_ptr<const Policy::Impl> policy;
  std::shared_ptr<Body> body;
  int nslots = 0;
  std::vector<std::pair<std::string, int>> outputs;  // reported variables
};

// Compiles a query body against a policy (resolution, safety, reordering).
Result<PreparedQuery> compile_query(const std::shared_ptr<const Policy::Impl>& policy, std::string_view text);
Result<QueryResult> evaluate(const PreparedQuery::Impl& query, const EvalOptions& options);

}  // namespace cloister::rego
