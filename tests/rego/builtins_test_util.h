// Calls builtins the way the evaluator does (by name through the standard registry) so the
// family tests exercise registration, arity and the error codes and messages OPA gives.
#pragma once

#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "builtins/builtin.h"
#include "cloister/rego/value.h"

namespace cloister::rego::testing {

inline Value J(std::string_view s) {
  auto v = parse_json(s);
  EXPECT_TRUE(v.has_value()) << "bad JSON in test: " << s;
  return v ? *v : Value();
}
inline Value S(std::string s) { return Value::string(std::move(s)); }
inline Value I(std::int64_t i) { return Value::integer(i); }
template <typename... T>
std::vector<Value> A(T... v) {
  return {Value(v)...};
}

class BuiltinCaller {
 public:
  BuiltinCaller() {
    ctx_.rng = &rng_;
    ctx_.regex = &regex_;
    ctx_.memo = &memo_;
    ctx_.now_ns = 1700000000123456789;
  }
  builtins::BuiltinContext& ctx() { return ctx_; }

  builtins::BuiltinResult call(std::string_view name, std::vector<Value> args) {
    const auto* def = builtins::Registry::standard().find(name);
    if (!def) return tl::unexpected(builtins::BuiltinError{"test", "no builtin " + std::string(name)});
    if (def->arity >= 0 && static_cast<std::size_t>(def->arity) != args.size())
      return tl::unexpected(builtins::BuiltinError{"test", "arity mismatch for " + std::string(name)});
    ctx_.name = def->name;
    return def->fn(ctx_, args);
  }
  // Arguments given as a JSON array text.
  builtins::BuiltinResult call(std::string_view name, const char* json_args) {
    Value arr = J(json_args);
    return call(name, arr.is_array() ? arr.array_items() : std::vector<Value>{});
  }

 private:
  builtins::RandomSource rng_{42};
  builtins::RegexCache regex_;
  std::map<std::string, Value> memo_;
  builtins::BuiltinContext ctx_;
};

}  // namespace cloister::rego::testing

// The call's defined result equals the JSON `want`.
#define EXPECT_BUILTIN(caller, name, args, want)                                   \
  do {                                                                             \
    auto r_ = (caller).call(name, args);                                           \
    ASSERT_TRUE(r_.has_value()) << name << ": " << r_.error().message;             \
    EXPECT_EQ(*r_, ::cloister::rego::testing::J(want)) << name;                    \
  } while (0)

#define EXPECT_BUILTIN_UNDEFINED(caller, name, args)                               \
  do {                                                                             \
    auto r_ = (caller).call(name, args);                                           \
    ASSERT_TRUE(r_.has_value()) << name << ": " << r_.error().message;             \
    EXPECT_TRUE(r_->is_undefined()) << name << " gave " << *r_;                    \
  } while (0)

// The call fails with `code` and a message containing `msg`.
#define EXPECT_BUILTIN_ERROR(caller, name, args, want_code, msg)                        \
  do {                                                                             \
    auto r_ = (caller).call(name, args);                                           \
    ASSERT_FALSE(r_.has_value()) << name << " gave " << *r_;                       \
    EXPECT_EQ(r_.error().code, want_code) << r_.error().message;                        \
    EXPECT_NE(r_.error().message.find(msg), std::string::npos) << r_.error().message; \
  } while (0)
