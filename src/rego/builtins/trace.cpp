// trace(note) (OPA topdown/trace.go): true for a string note. OPA also hands the note to its query
// tracers (`opa eval --explain notes`); this engine has no explanation traces, so the note goes
// nowhere, and the call means what it means in OPA without a tracer: true.
#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

BuiltinResult trace(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_kind(ctx, a, 0, Kind::String));
  return Value::boolean(true);
}

}  // namespace

void register_trace(Registry& r) { r.add({"trace", 1, trace}); }

}  // namespace cloister::rego::builtins
