// `cloister rego ...`: thin CLI over the Rego engine (src/rego).
#include "commands.h"

namespace cloister::cli {

void register_rego(CLI::App& parent, int& exit_code) {
  (void)exit_code;
  auto* rego = parent.add_subcommand("rego", "Rego policies: evaluate, check, run OPA conformance cases");
  (void)rego;
}

}  // namespace cloister::cli
