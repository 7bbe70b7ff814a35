// Type predicates (OPA: is_number, is_string, ..., type_name). They are defined (false) for
// values of other types, never undefined.
#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

template <Kind K>
BuiltinResult is_kind(BuiltinContext&, std::span<const Value> a) {
  return Value::boolean(a[0].kind() == K);
}

BuiltinResult type_name(BuiltinContext&, std::span<const Value> a) {
  return Value::string(std::string(kind_name(a[0].kind())));
}

}  // namespace

void register_types(Registry& r) {
  r.add({"is_null", 1, is_kind<Kind::Null>});
  r.add({"is_boolean", 1, is_kind<Kind::Bool>});
  r.add({"is_number", 1, is_kind<Kind::Number>});
  r.add({"is_string", 1, is_kind<Kind::String>});
  r.add({"is_array", 1, is_kind<Kind::Array>});
  r.add({"is_object", 1, is_kind<Kind::Object>});
  r.add({"is_set", 1, is_kind<Kind::Set>});
  r.add({"type_name", 1, type_name});
}

}  // namespace cloister::rego::builtins
