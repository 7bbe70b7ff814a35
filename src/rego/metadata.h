// METADATA annotations and the rego.metadata.* calls. Internal to the compiler.
#pragma once

#include "policy.h"

namespace cloister::rego {

// Reads the `# METADATA` comment blocks of every module (YAML placed directly above a package or
// rule, OPA's "Annotations"), and replaces each rego.metadata.chain() / rego.metadata.rule() call in
// a rule with its value for that rule. Runs after rules are resolved; throws RegoFailure
// (rego_parse_error) for a block that is not valid YAML or names an unknown key or scope.
void resolve_metadata(Policy::Impl& p);

}  // namespace cloister::rego
