// Arithmetic (OPA: plus, minus, mul, div, rem, abs, round, ceil, floor, numbers.range[_step]).
#include <cmath>

#include "builtins/builtin.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

BuiltinResult plus(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_number(ctx, a, 0));
  REGO_ARG(arg_number(ctx, a, 1));
  return num_add(a[0], a[1]);
}

// minus is also set difference.
BuiltinResult minus(BuiltinContext& ctx, std::span<const Value> a) {
  if (a[0].is_set() && a[1].is_set()) {
    std::vector<Value> out;
    for (const auto& x : a[0].set_items())
      if (!a[1].set_contains(x)) out.push_back(x);
    return Value::set(std::move(out));
  }
  if (a[0].is_number() && a[1].is_number()) return num_sub(a[0], a[1]);
  if (!a[0].is_number() && !a[0].is_set()) return tl::unexpected(type_error(ctx, 1, "one of {number, set}", a[0]));
  if (a[0].is_number()) return tl::unexpected(type_error(ctx, 2, "number", a[1]));
  return tl::unexpected(type_error(ctx, 2, "set", a[1]));
}

BuiltinResult mul(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_number(ctx, a, 0));
  REGO_ARG(arg_number(ctx, a, 1));
  return num_mul(a[0], a[1]);
}

BuiltinResult div(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_number(ctx, a, 0));
  REGO_ARG(arg_number(ctx, a, 1));
  Value r = num_div(a[0], a[1]);
  if (r.is_undefined()) return tl::unexpected(builtin_error(ctx, "divide by zero"));
  return r;
}

BuiltinResult rem(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_number(ctx, a, 0));
  REGO_ARG(arg_number(ctx, a, 1));
  if (!a[0].is_integral() || !a[1].is_integral())
    return tl::unexpected(builtin_error(ctx, "modulo on floating-point number"));
  Value r = num_rem(a[0], a[1]);
  if (r.is_undefined()) return tl::unexpected(builtin_error(ctx, "modulo by zero"));
  return r;
}

BuiltinResult abs_(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_number(ctx, a, 0));
  return num_abs(a[0]);
}

template <double (*F)(double)>
BuiltinResult rounding(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_number(ctx, a, 0));
  if (!a[0].is_float()) return a[0];  // integers are already whole (exact even beyond 64 bits)
  return Value::floating(F(a[0].as_float()));
}

double round_half_away(double d) { return std::round(d); }
double ceil_(double d) { return std::ceil(d); }
double floor_(double d) { return std::floor(d); }

BuiltinResult range_impl(BuiltinContext& ctx, std::span<const Value> a, std::int64_t step) {
  for (std::size_t i = 0; i < 2; ++i) {
    REGO_ARG(arg_number(ctx, a, i));
    if (!a[i].is_integral()) {
      return tl::unexpected(operand_error(ctx, i + 1, "integer number but got floating-point number"));
    }
  }
  std::int64_t lo, hi;
  if (!a[0].to_int64(lo) || !a[1].to_int64(hi)) return tl::unexpected(builtin_error(ctx, "range too large"));
  std::vector<Value> out;
  // Spans are computed in unsigned arithmetic: hi - lo may exceed INT64_MAX.
  std::uint64_t span = hi >= lo ? static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo)
                                : static_cast<std::uint64_t>(lo) - static_cast<std::uint64_t>(hi);
  std::uint64_t n = span / static_cast<std::uint64_t>(step) + 1;
  if (n > 10'000'000) return tl::unexpected(builtin_error(ctx, "range too large"));
  out.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t off = i * static_cast<std::uint64_t>(step);
    std::int64_t v = lo <= hi ? static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + off)
                              : static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) - off);
    out.push_back(Value::integer(v));
  }
  return Value::array(std::move(out));
}

BuiltinResult range(BuiltinContext& ctx, std::span<const Value> a) { return range_impl(ctx, a, 1); }

BuiltinResult range_step(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_number(ctx, a, 2));
  if (!a[2].is_integral()) {
    return tl::unexpected(operand_error(ctx, 3, "integer number but got floating-point number"));
  }
  std::int64_t step;
  if (!a[2].to_int64(step)) step = INT64_MAX;  // a step beyond 64 bits only ever yields the start
  if (step <= 0) return tl::unexpected(builtin_error(ctx, "step must be a positive integer"));
  return range_impl(ctx, a, step);
}

}  // namespace

void register_arithmetic(Registry& r) {
  r.add({"plus", 2, plus});
  r.add({"minus", 2, minus});
  r.add({"mul", 2, mul});
  r.add({"div", 2, div});
  r.add({"rem", 2, rem});
  r.add({"abs", 1, abs_});
  r.add({"round", 1, rounding<round_half_away>});
  r.add({"ceil", 1, rounding<ceil_>});
  r.add({"floor", 1, rounding<floor_>});
  r.add({"numbers.range", 2, range});
  r.add({"numbers.range_step", 3, range_step});
}

}  // namespace cloister::rego::builtins
