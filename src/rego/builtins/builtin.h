// The builtin function interface of the Rego engine.
//
// A builtin is a plain function from argument values to one result value. It returns:
//   - a defined Value                      -> the call's result;
//   - Value::undefined()                   -> the call is undefined (the expression fails quietly);
//   - tl::unexpected(BuiltinError{...})    -> an error. With strict builtin errors the evaluator
//     raises it with its code (eval_type_error / eval_builtin_error); otherwise the failing call is
//     undefined, as in OPA without StrictBuiltinErrors.
//
// Families (one file each, src/rego/builtins/<family>.cpp, each exposing register_<family>,
// listed once in registry.cpp):
//   core engineer:     comparison (==, !=, <, ...; internal.member_2/3), arithmetic (+ - * / %,
//                      abs, round, ceil, floor, numbers.range[_step]), aggregates (count, sum,
//                      product, max, min, sort, all, any), sets (&, |, intersection, union),
//                      types (is_*, type_name)
//   builtins engineer: strings, sprintf, casts, regex, objects, arrays, units, encoding, glob, bits,
//                      semver, graph, uuid, json, net, crypto, jwt, time, rand, jsonschema, template
//   unsupported:       http.send, net.lookup_ip_addr, opa.runtime, providers.aws.sign_req are
//                      registered as deliberately unsupported: calls fail to compile, saying why.
//   metadata:          rego.metadata.chain/rule (values folded in by the compiler: src/rego/metadata.cpp)
//   regoparse:         rego.parse_module (the parser's AST rebuilt in OPA's JSON form)
// The evaluator itself implements the relational and control builtins that need it: print, walk,
// template strings, and the unification/assignment operators (eq, assign).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include "cloister/rego/value.h"
#include "publish_table.h"

namespace cloister::rego::builtins {

class Regex;  // builtins/regex_pattern.h

// OPA's error codes for failures inside builtins (topdown/errors.go).
inline constexpr std::string_view kTypeError = "eval_type_error";
inline constexpr std::string_view kBuiltinError = "eval_builtin_error";

struct BuiltinError {
  std::string code;     // kTypeError or kBuiltinError
  std::string message;  // "<builtin name>: <detail>", e.g. "count: operand 1 must be ... but got number"
};

using BuiltinResult = tl::expected<Value, BuiltinError>;
template <typename T>
using BResult = tl::expected<T, BuiltinError>;

// Compiled RE2 patterns shared by all evaluations of one compiled policy (RE2 objects are safe
// for concurrent matching), in a PublishTable: a lookup takes no lock and allocates nothing, where
// a per-evaluation map of the shared patterns cost a few allocations and a lock per pattern per
// decision. Bounded: a pattern the table has no room for stays per-evaluation.
class SharedRegexCache {
 public:
  explicit SharedRegexCache(std::size_t slots = 4096);
  ~SharedRegexCache();
  // `pattern` compiled (ok() false when it does not compile: errors are shared too), compiling
  // and publishing it on first use; nullptr when the table has no room for it.
  const Regex* get(std::string_view pattern);

 private:
  struct Entry;
  detail::PublishTable<Entry> table_;
};

// A pattern value RegexCache saw lately, and its compiled form.
struct RecentRegex {
  Value pattern;  // pins the node, so its address names this text while it is here
  const Regex* re = nullptr;
};

// Compiled RE2 patterns, cached per evaluation (patterns are usually constants or built from data),
// backed by the policy's shared cache when there is one.
class RegexCache {
 public:
  explicit RegexCache(SharedRegexCache* shared = nullptr);
  ~RegexCache();
  RegexCache(const RegexCache&) = delete;
  RegexCache& operator=(const RegexCache&) = delete;
  // nullptr and `error` filled when the pattern does not compile.
  const Regex* get(const std::string& pattern, std::string* error = nullptr);
  // The same for a string value: a repeat of the same value (one node: genpolicy's patterns are
  // built once per policy, then matched against many request entries) skips hashing its text.
  const Regex* get(const Value& pattern, std::string* error = nullptr);

 private:
  // Pattern values seen in this evaluation, by node address (open addressing, emptied when 48 of
  // the 64 slots are taken); made on first use. A direct-mapped table here let two patterns that
  // shared a slot evict each other on every alternate call, as heap addresses fell.
  std::optional<std::array<RecentRegex, 64>> recent_;
  std::size_t recent_used_ = 0;
  SharedRegexCache* shared_;
  std::unordered_map<std::string, std::unique_ptr<const Regex>> cache_;  // patterns the shared table has no room for
};

// The evaluation's random source, seeded on first use: most evaluations draw nothing, and
// seeding the Mersenne twister (and asking the OS for a seed) costs more than a small decision.
class RandomSource {
 public:
  explicit RandomSource(std::uint64_t seed = 0) : seed_(seed) {}  // 0: a fresh seed from the OS
  std::mt19937_64& engine() {
    if (!engine_) engine_.emplace(seed_ ? seed_ : std::random_device{}());
    return *engine_;
  }

 private:
  std::uint64_t seed_;
  std::optional<std::mt19937_64> engine_;
};

// Everything a builtin may read besides its arguments: no globals (STYLE rule 9).
struct BuiltinContext {
  std::string_view name;        // the builtin being called (set by the evaluator before each call)
  std::int64_t now_ns = 0;      // time.now_ns(): fixed for the whole evaluation
  RandomSource* rng = nullptr;
  RegexCache* regex = nullptr;
  bool strict = false;          // strict builtin errors
  // Per-evaluation memo for non-deterministic builtins whose result OPA fixes per query
  // (rand.intn, uuid.rfc4122): key = name + args JSON.
  std::map<std::string, Value>* memo = nullptr;
  // The evaluation's wall-clock deadline (EvalLimits::timeout), if it has one: test.sleep never
  // sleeps past it.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

using BuiltinFn = BuiltinResult (*)(BuiltinContext&, std::span<const Value>);
// A builtin called as a test (its value only tested for truth), on borrowed operands (`arity` of
// them): whether it decided, and if so whether the result is true. Deciding nothing (operands of
// other types, an invalid pattern) leaves the call to `fn`, which gives the value or the error.
using BuiltinTestFn = bool (*)(BuiltinContext&, const Value* const* args, bool& holds);

struct BuiltinDef {
  std::string name;
  int arity = 0;              // number of arguments; -1 = variadic
  BuiltinFn fn = nullptr;
  bool deterministic = true;  // false: time.now_ns, rand.*, uuid.rfc4122, ... (never constant-folded)
  // Non-null: deliberately unsupported (unsupported.cpp); the compiler rejects calls with this reason.
  const char* unsupported = nullptr;
  // Optional, for the string tests policies make per request entry (startswith, contains,
  // regex.match): the same answers as `fn` without copying operands or making a result value.
  BuiltinTestFn test = nullptr;
};

class Registry {
 public:
  void add(BuiltinDef def);
  const BuiltinDef* find(std::string_view name) const;
  std::vector<std::string> names() const;

  // All families, built once (thread-safe static initialisation).
  static const Registry& standard();

 private:
  std::unordered_map<std::string, BuiltinDef> defs_;
};

// YAML text as a value (sigs.k8s.io/yaml semantics, as yaml.unmarshal); encoding.cpp.
Result<Value> yaml_to_value(const std::string& text);

// ---- error helpers (messages in OPA's formats) ----

// "<name>: operand <n> must be <want> but got <kind of got>" (n is 1-based).
BuiltinError type_error(const BuiltinContext& ctx, std::size_t operand, std::string_view want, const Value& got);
// "<name>: operand <n> must be <detail>" with no "but got" part (free-form type requirement).
BuiltinError operand_error(const BuiltinContext& ctx, std::size_t operand, std::string_view detail);
// eval_builtin_error "<name>: <message>".
BuiltinError builtin_error(const BuiltinContext& ctx, std::string_view message);

// ---- argument helpers: return the operand or the type error for it (index is 0-based) ----
BResult<const std::string*> arg_string(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i);
BResult<const Value*> arg_number(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i);
BResult<std::int64_t> arg_int(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i);
BResult<const Value*> arg_kind(const BuiltinContext& ctx, std::span<const Value> args, std::size_t i, Kind kind);
// Arrays and sets as one element list (several builtins accept either).
BResult<const std::vector<Value>*> arg_array_or_set(const BuiltinContext& ctx, std::span<const Value> args,
                                                    std::size_t i);

// Unwraps a BResult or returns its BuiltinError from the enclosing builtin.
#define REGO_ARG(expr)                                              \
  ({                                                                \
    auto rego_arg_ = (expr);                                        \
    if (!rego_arg_) return ::tl::unexpected(std::move(rego_arg_).error()); \
    *rego_arg_;                                                     \
  })

}  // namespace cloister::rego::builtins
