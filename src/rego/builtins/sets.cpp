// Set operators (OPA: and (&), or (|), intersection, union, and set_diff, deprecated in v0.13 for
// `-`). Set difference by operator lives in minus.
#include <algorithm>

#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

// Two set operands merged by a sorted-range algorithm (std::set_intersection, ...): set items
// are kept sorted, so the result comes out in order.
template <typename Merge>
BuiltinResult merge_sets(BuiltinContext& ctx, std::span<const Value> a, Merge merge) {
  REGO_ARG(arg_kind(ctx, a, 0, Kind::Set));
  REGO_ARG(arg_kind(ctx, a, 1, Kind::Set));
  const auto& x = a[0].set_items();
  const auto& y = a[1].set_items();
  std::vector<Value> out;
  merge(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(out), ValueLess{});
  return Value::set(std::move(out));
}

BuiltinResult and_(BuiltinContext& ctx, std::span<const Value> a) {
  return merge_sets(ctx, a, [](auto... r) { return std::set_intersection(r...); });
}

BuiltinResult or_(BuiltinContext& ctx, std::span<const Value> a) {
  return merge_sets(ctx, a, [](auto... r) { return std::set_union(r...); });
}

// set_diff(a, b): the members of set a that are not in set b.
BuiltinResult set_diff(BuiltinContext& ctx, std::span<const Value> a) {
  return merge_sets(ctx, a, [](auto... r) { return std::set_difference(r...); });
}

BuiltinResult intersection(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_kind(ctx, a, 0, Kind::Set));
  const auto& sets = a[0].set_items();
  if (sets.empty()) return Value::empty_set();
  for (const auto& s : sets)
    if (!s.is_set()) return tl::unexpected(operand_error(ctx, 1, "set of sets"));
  std::vector<Value> acc = sets[0].set_items();
  for (std::size_t i = 1; i < sets.size(); ++i) {
    std::vector<Value> next;
    std::set_intersection(acc.begin(), acc.end(), sets[i].set_items().begin(), sets[i].set_items().end(),
                          std::back_inserter(next), ValueLess{});
    acc.swap(next);
  }
  return Value::set(std::move(acc));
}

BuiltinResult union_(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_kind(ctx, a, 0, Kind::Set));
  std::vector<Value> acc;
  for (const auto& s : a[0].set_items()) {
    if (!s.is_set()) return tl::unexpected(operand_error(ctx, 1, "set of sets"));
    acc.insert(acc.end(), s.set_items().begin(), s.set_items().end());
  }
  return Value::set(std::move(acc));
}

}  // namespace

void register_sets(Registry& r) {
  r.add({"set_diff", 2, set_diff});
  r.add({"and", 2, and_});
  r.add({"or", 2, or_});
  r.add({"intersection", 1, intersection});
  r.add({"union", 1, union_});
}

}  // namespace cloister::rego::builtins
