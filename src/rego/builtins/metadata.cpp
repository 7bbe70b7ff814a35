// rego.metadata.chain() and rego.metadata.rule() (OPA: "Annotations"). Their values depend only on
// the rule a call sits in, so the compiler replaces each call with its value (src/rego/metadata.cpp,
// as OPA's compiler does); these registrations make the names known to the resolver, and the
// functions run only for calls outside any rule (an ad-hoc query), where OPA has no active rule.
#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

BuiltinResult outside_rule(BuiltinContext& ctx, std::span<const Value>) {
  return tl::unexpected(builtin_error(ctx, "only available inside a rule of a compiled policy"));
}

}  // namespace

void register_metadata(Registry& r) {
  // Not deterministic as far as the compiler is concerned: never folded by calling the function.
  r.add({"rego.metadata.chain", 0, outside_rule, /*deterministic=*/false});
  r.add({"rego.metadata.rule", 0, outside_rule, /*deterministic=*/false});
}

}  // namespace cloister::rego::builtins
