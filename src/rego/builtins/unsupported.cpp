// Builtins that cloister deliberately does not implement. A policy evaluated by the agent inside
// the TEE must be a pure function of its input and data: network access (http.send,
// net.lookup_ip_addr), the host runtime's environment (opa.runtime) and cloud credentials
// (providers.aws.*) would make decisions depend on what the untrusted host controls.
//
// They are registered (with OPA's arities) so that a policy using one fails to compile with a
// message saying so, instead of "undefined function" or a silently different answer. The
// conformance runner skips cases that use them; this list is its only source.
#include "builtins/builtin.h"

namespace cloister::rego::builtins {

namespace {

BuiltinResult refuse(BuiltinContext& ctx, std::span<const Value>) {
  // Unreachable through the compiler (it rejects the call); kept so a direct registry caller
  // still gets an error rather than a value.
  return tl::unexpected(BuiltinError{std::string(kBuiltinError),
                                     std::string(ctx.name) + ": not supported by cloister"});
}

}  // namespace

void register_unsupported(Registry& r) {
  // Arities from OPA's builtin catalogue (ast/builtins.go).
  r.add({"http.send", 1, refuse, false, "network access is not allowed in policies"});
  r.add({"net.lookup_ip_addr", 1, refuse, false, "network access (DNS) is not allowed in policies"});
  r.add({"opa.runtime", 0, refuse, false, "there is no OPA runtime environment to report"});
  r.add({"providers.aws.sign_req", 3, refuse, false, "cloud provider credentials are not available to policies"});
}

}  // namespace cloister::rego::builtins
