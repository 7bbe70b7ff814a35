// Aggregates (OPA: count, sum, product, max, min, sort, all, any).
#include <algorithm>

#include "builtins/builtin.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

// Rune count as Go's utf8.RuneCountInString: each byte of an invalid sequence counts as one rune.
std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t len = s.size();
  for (std::size_t i = 0; i < len; ++n) {
    unsigned char c = p[i];
    std::size_t need = c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2
                                    : (c >= 0xF0 && c <= 0xF4) ? 3 : 0;
    if (c >= 0x80 && need == 0) {
      ++i;
      continue;
    }
    bool ok = i + need < len + (need ? 0 : 1);
    for (std::size_t k = 1; ok && k <= need; ++k) ok = i + k < len && (p[i + k] & 0xC0) == 0x80;
    if (ok && need >= 2) {
      // Reject overlong forms and surrogates as Go does (second-byte ranges of RFC 3629).
      unsigned char c1 = p[i + 1];
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
        ok = false;
    }
    i += ok ? need + 1 : 1;
  }
  return n;
}

BuiltinResult count(BuiltinContext& ctx, std::span<const Value> a) {
  switch (a[0].kind()) {
    case Kind::String: return Value::integer(static_cast<std::int64_t>(utf8_length(a[0].as_string())));
    case Kind::Array:
    case Kind::Object:
    case Kind::Set: return Value::integer(static_cast<std::int64_t>(a[0].size()));
    default: return tl::unexpected(type_error(ctx, 1, "one of {array, object, set, string}", a[0]));
  }
}

template <bool Sum>
BuiltinResult fold(BuiltinContext& ctx, std::span<const Value> a) {
  const auto* items = REGO_ARG(arg_array_or_set(ctx, a, 0));
  Value acc = Value::integer(Sum ? 0 : 1);
  for (const auto& x : *items) {
    if (!x.is_number()) return tl::unexpected(operand_error(ctx, 1, "array or set of numbers"));
    acc = Sum ? num_add(acc, x) : num_mul(acc, x);
  }
  return acc;
}

template <bool Max>
BuiltinResult extreme(BuiltinContext& ctx, std::span<const Value> a) {
  const auto* items = REGO_ARG(arg_array_or_set(ctx, a, 0));
  if (items->empty()) return Value::undefined();
  const Value* best = &(*items)[0];
  for (const auto& x : *items) {
    int c = compare(x, *best);
    if (Max ? c > 0 : c < 0) best = &x;
  }
  return *best;
}

BuiltinResult sort(BuiltinContext& ctx, std::span<const Value> a) {
  const auto* items = REGO_ARG(arg_array_or_set(ctx, a, 0));
  std::vector<Value> out(*items);
  std::stable_sort(out.begin(), out.end(), ValueLess{});
  return Value::array(std::move(out));
}

template <bool All>
BuiltinResult quantifier(BuiltinContext& ctx, std::span<const Value> a) {
  const auto* items = REGO_ARG(arg_array_or_set(ctx, a, 0));
  for (const auto& x : *items) {
    if (All && !x.is_true()) return Value::boolean(false);
    if (!All && x.is_true()) return Value::boolean(true);
  }
  return Value::boolean(All);
}

}  // namespace

void register_aggregates(Registry& r) {
  r.add({"count", 1, count});
  r.add({"sum", 1, fold<true>});
  r.add({"product", 1, fold<false>});
  r.add({"max", 1, extreme<true>});
  r.add({"min", 1, extreme<false>});
  r.add({"sort", 1, sort});
  r.add({"all", 1, quantifier<true>});
  r.add({"any", 1, quantifier<false>});
}

}  // namespace cloister::rego::builtins
