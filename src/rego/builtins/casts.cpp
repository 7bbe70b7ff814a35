// Casts (OPA topdown/casts.go): to_number, and the casts OPA deprecated in v0.13 (cast_array,
// cast_set, cast_string, cast_boolean, cast_null, cast_object), which v0 policies may still call
// (a Rego v1 module calling one is refused by the compiler, as OPA 1.0 refuses it).
#include <cctype>
#include <string>

#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

// The decimal grammar strconv.ParseFloat accepts (Go spec float literal without hex/underscores):
// [+-] (digits [. [digits]] | . digits) [(e|E) [+-] digits].
bool go_decimal_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

BuiltinResult to_number(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::Null: return Value::integer(0);
    case Kind::Bool: return Value::integer(v.as_bool() ? 1 : 0);
    case Kind::Number: return v;
    case Kind::String: {
      const std::string& s = v.as_string();
      std::string_view unsigned_part(s);
      while (!unsigned_part.empty() && (unsigned_part[0] == '+' || unsigned_part[0] == '-'))
        unsigned_part.remove_prefix(1);
      std::string low = lower_ascii(unsigned_part);
      // ParseFloat would accept these, but they are not Rego numbers (OPA rejects them explicitly).
      if (low == "inf" || low == "infinity" || low == "nan")
        return tl::unexpected(type_error(ctx, 1, "valid number string", v));
      if (!go_decimal_float(s))
        return tl::unexpected(builtin_error(ctx, "strconv.ParseFloat: parsing \"" + s + "\": invalid syntax"));
      auto n = Value::number_from_string(s[0] == '+' ? std::string_view(s).substr(1) : std::string_view(s));
      if (!n) return tl::unexpected(builtin_error(ctx, "strconv.ParseFloat: parsing \"" + s + "\": value out of range"));
      return *n;
    }
    default: return tl::unexpected(type_error(ctx, 1, "one of {null, boolean, number, string}", v));
  }
}

// A deprecated cast: the operand itself when it has kind K, else OPA's operand type error.
template <Kind K>
BuiltinResult cast_as(BuiltinContext& ctx, std::span<const Value> a) {
  if (a[0].kind() != K) return tl::unexpected(type_error(ctx, 1, kind_name(K), a[0]));
  return a[0];
}

// cast_array: an array as it is, a set as the array of its members in set order.
BuiltinResult cast_array(BuiltinContext& ctx, std::span<const Value> a) {
  if (a[0].is_array()) return a[0];
  if (a[0].is_set()) return Value::array(a[0].set_items());
  return tl::unexpected(type_error(ctx, 1, "one of {array, set}", a[0]));
}

BuiltinResult cast_set(BuiltinContext& ctx, std::span<const Value> a) {
  if (a[0].is_set()) return a[0];
  if (a[0].is_array()) return Value::set(a[0].array_items());
  return tl::unexpected(type_error(ctx, 1, "one of {array, set}", a[0]));
}

}  // namespace

void register_casts(Registry& r) {
  r.add({"to_number", 1, to_number});
  r.add({"cast_array", 1, cast_array});
  r.add({"cast_set", 1, cast_set});
  r.add({"cast_string", 1, cast_as<Kind::String>});
  r.add({"cast_boolean", 1, cast_as<Kind::Bool>});
  r.add({"cast_null", 1, cast_as<Kind::Null>});
  r.add({"cast_object", 1, cast_as<Kind::Object>});
}

}  // namespace cloister::rego::builtins
