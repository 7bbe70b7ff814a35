// Arrays (OPA topdown/array.go): array.concat, slice, reverse, flatten.
#include <algorithm>

#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

BuiltinResult concat(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& x = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Array));
  const Value& y = *REGO_ARG(arg_kind(ctx, a, 1, Kind::Array));
  std::vector<Value> out(x.array_items());
  out.insert(out.end(), y.array_items().begin(), y.array_items().end());
  return Value::array(std::move(out));
}

// Bounds are clamped to [0, len] and an empty range yields [] (never an error).
BuiltinResult slice(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& arr = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Array));
  std::int64_t start = REGO_ARG(arg_int(ctx, a, 1));
  std::int64_t stop = REGO_ARG(arg_int(ctx, a, 2));
  const auto& items = arr.array_items();
  auto len = static_cast<std::int64_t>(items.size());
  start = std::clamp<std::int64_t>(start, 0, len);
  stop = std::clamp<std::int64_t>(stop, 0, len);
  if (start >= stop) return Value::empty_array();
  return Value::array(std::vector<Value>(items.begin() + start, items.begin() + stop));
}

BuiltinResult reverse(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& arr = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Array));
  return Value::array(std::vector<Value>(arr.array_items().rbegin(), arr.array_items().rend()));
}

BuiltinResult flatten(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& arr = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Array));
  // One level only: nested arrays inside elements stay as they are.
  std::vector<Value> out;
  for (const auto& x : arr.array_items()) {
    if (x.is_array()) {
      out.insert(out.end(), x.array_items().begin(), x.array_items().end());
    } else {
      out.push_back(x);
    }
  }
  return Value::array(std::move(out));
}

}  // namespace

void register_arrays(Registry& r) {
  r.add({"array.concat", 2, concat});
  r.add({"array.slice", 3, slice});
  r.add({"array.reverse", 1, reverse});
  r.add({"array.flatten", 1, flatten});
}

}  // namespace cloister::rego::builtins
