// Objects (OPA topdown/object.go): object.get, keys, union, union_n, remove, filter, subset.
#include "builtins/builtin.h"
#include "builtins/family_util.h"

namespace cloister::rego::builtins {
namespace {

// One step of a path lookup (ast.Value.Find): object key, array index, or set member.
const Value* step(const Value& v, const Value& key) {
  switch (v.kind()) {
    case Kind::Object: return v.get(key);
    case Kind::Array: {
      std::int64_t i;
      if (!key.is_number() || !key.to_int64(i) || i < 0 || static_cast<std::size_t>(i) >= v.array_items().size())
        return nullptr;
      return &v.array_items()[static_cast<std::size_t>(i)];
    }
    case Kind::Set: {
      const auto& items = v.set_items();
      auto it = std::lower_bound(items.begin(), items.end(), key, ValueLess{});
      return it != items.end() && *it == key ? &*it : nullptr;
    }
    default: return nullptr;
  }
}

BuiltinResult get(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& obj = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  if (!a[1].is_array()) {
    const Value* v = obj.get(a[1]);
    return v ? *v : a[2];
  }
  const Value* cur = &obj;
  for (const auto& k : a[1].array_items()) {
    cur = step(*cur, k);
    if (!cur) return a[2];
  }
  return *cur;
}

BuiltinResult keys(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& obj = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  std::vector<Value> out;
  out.reserve(obj.object_entries().size());
  for (const auto& [k, v] : obj.object_entries()) out.push_back(k);
  return Value::set(std::move(out));
}

// Recursive merge where `b` wins on conflicts, except that two objects under one key merge.
Value merge(const Value& a, const Value& b) {
  std::vector<std::pair<Value, Value>> out;
  const auto& ea = a.object_entries();
  const auto& eb = b.object_entries();
  out.reserve(ea.size() + eb.size());
  std::size_t i = 0, j = 0;
  while (i < ea.size() || j < eb.size()) {
    int c = i == ea.size() ? 1 : j == eb.size() ? -1 : compare(ea[i].first, eb[j].first);
    if (c < 0) {
      out.push_back(ea[i++]);
    } else if (c > 0) {
      out.push_back(eb[j++]);
    } else {
      const Value& va = ea[i].second;
      const Value& vb = eb[j].second;
      out.emplace_back(ea[i].first, va.is_object() && vb.is_object() ? merge(va, vb) : vb);
      ++i, ++j;
    }
  }
  return Value::object(std::move(out));
}

BuiltinResult union2(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& x = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  const Value& y = *REGO_ARG(arg_kind(ctx, a, 1, Kind::Object));
  return merge(x, y);
}

BuiltinResult union_n(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& arr = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Array));
  Value acc = Value::empty_object();
  for (const auto& x : arr.array_items()) {
    if (!x.is_object()) return tl::unexpected(element_error(ctx, 1, arr, "object", x));
    acc = merge(acc, x);
  }
  return acc;
}

// The key collection of object.remove / object.filter: an object's keys, or a set's / array's elements.
BResult<std::vector<Value>> key_list(const BuiltinContext& ctx, std::span<const Value> a, std::size_t i) {
  const Value& k = a[i];
  std::vector<Value> out;
  switch (k.kind()) {
    case Kind::Object:
      for (const auto& [key, v] : k.object_entries()) out.push_back(key);
      return out;
    case Kind::Set: return k.set_items();
    case Kind::Array: return k.array_items();
    default: return tl::unexpected(type_error(ctx, i + 1, "one of {object, set, array}", k));
  }
}

template <bool Keep>
BuiltinResult remove_or_filter(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& obj = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  auto ks = REGO_ARG(key_list(ctx, a, 1));
  Value keyset = Value::set(std::move(ks));
  std::vector<std::pair<Value, Value>> out;
  for (const auto& e : obj.object_entries())
    if (keyset.set_contains(e.first) == Keep) out.push_back(e);
  return Value::object(std::move(out));
}

bool subset(const Value& super, const Value& sub) {
  if (super.is_object() && sub.is_object()) {
    for (const auto& [k, v] : sub.object_entries()) {
      const Value* sv = super.get(k);
      if (!sv) return false;
      if (sv->is_object() && v.is_object()) {
        if (!subset(*sv, v)) return false;
      } else if (*sv != v) {
        return false;
      }
    }
    return true;
  }
  if (super.is_set() && (sub.is_set() || sub.is_array())) {
    const auto& items = sub.is_set() ? sub.set_items() : sub.array_items();
    for (const auto& x : items)
      if (!super.set_contains(x)) return false;
    return true;
  }
  // Arrays: sub must be a subsequence of super (order kept, gaps allowed).
  const auto& sup = super.array_items();
  const auto& sb = sub.array_items();
  std::size_t j = 0;
  for (std::size_t i = 0; i < sup.size() && j < sb.size(); ++i)
    if (sup[i] == sb[j]) ++j;
  return j == sb.size();
}

BuiltinResult subset_fn(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& super = a[0];
  const Value& sub = a[1];
  bool ok_types = (super.is_object() && sub.is_object()) || (super.is_set() && (sub.is_set() || sub.is_array())) ||
                  (super.is_array() && sub.is_array());
  if (!ok_types) {
    if (!super.is_object() && !super.is_set() && !super.is_array())
      return tl::unexpected(type_error(ctx, 1, "one of {object, set, array}", super));
    return tl::unexpected(type_error(ctx, 2, super.is_object() ? "object" : super.is_set() ? "one of {set, array}" : "array", sub));
  }
  return Value::boolean(subset(super, sub));
}

}  // namespace

void register_objects(Registry& r) {
  r.add({"object.get", 3, get});
  r.add({"object.keys", 1, keys});
  r.add({"object.union", 2, union2});
  r.add({"object.union_n", 1, union_n});
  r.add({"object.remove", 2, remove_or_filter<false>});
  r.add({"object.filter", 2, remove_or_filter<true>});
  r.add({"object.subset", 2, subset_fn});
}

}  // namespace cloister::rego::builtins
