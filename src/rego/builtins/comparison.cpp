// Comparison operators and membership (OPA: equal, neq, lt, gt, lte, gte, internal.member_2/3).
#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

template <bool (*Pred)(int)>
BuiltinResult cmp_op(BuiltinContext&, std::span<const Value> a) {
  return Value::boolean(Pred(compare(a[0], a[1])));
}
bool is_eq(int c) { return c == 0; }
bool is_ne(int c) { return c != 0; }
bool is_lt(int c) { return c < 0; }
bool is_gt(int c) { return c > 0; }
bool is_le(int c) { return c <= 0; }
bool is_ge(int c) { return c >= 0; }

// `x in xs`: membership by value in arrays and sets, and among an object's values.
BuiltinResult member2(BuiltinContext&, std::span<const Value> a) {
  const Value& x = a[0];
  const Value& c = a[1];
  switch (c.kind()) {
    case Kind::Set: return Value::boolean(c.set_contains(x));
    case Kind::Array:
      for (const auto& e : c.array_items())
        if (e == x) return Value::boolean(true);
      return Value::boolean(false);
    case Kind::Object:
      for (const auto& [k, v] : c.object_entries())
        if (v == x) return Value::boolean(true);
      return Value::boolean(false);
    default: return Value::boolean(false);
  }
}

// `k, v in xs`: k is an array index, an object key, or (for sets) the element itself.
BuiltinResult member3(BuiltinContext&, std::span<const Value> a) {
  const Value& k = a[0];
  const Value& x = a[1];
  const Value& c = a[2];
  switch (c.kind()) {
    case Kind::Set: return Value::boolean(k == x && c.set_contains(x));
    case Kind::Array: {
      std::int64_t i;
      if (!k.to_int64(i) || i < 0 || static_cast<std::size_t>(i) >= c.array_items().size())
        return Value::boolean(false);
      return Value::boolean(c.array_items()[static_cast<std::size_t>(i)] == x);
    }
    case Kind::Object: {
      const Value* v = c.get(k);
      return Value::boolean(v && *v == x);
    }
    default: return Value::boolean(false);
  }
}

}  // namespace

void register_comparison(Registry& r) {
  r.add({"equal", 2, cmp_op<is_eq>});
  r.add({"neq", 2, cmp_op<is_ne>});
  r.add({"lt", 2, cmp_op<is_lt>});
  r.add({"gt", 2, cmp_op<is_gt>});
  r.add({"lte", 2, cmp_op<is_le>});
  r.add({"gte", 2, cmp_op<is_ge>});
  r.add({"internal.member_2", 2, member2});
  r.add({"internal.member_3", 3, member3});
}

}  // namespace cloister::rego::builtins
