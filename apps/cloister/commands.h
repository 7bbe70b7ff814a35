// Command registration for the `cloister` CLI. Each function adds its subcommands to `parent`;
// the callbacks store the process exit status in `exit_code`.
//
// Exit status convention shared by all commands: 0 success, 1 a negative answer (verification
// failed, policy denied), 2 unusable input or an internal error.
#pragma once

#include <CLI/CLI.hpp>

namespace cloister::cli {

void register_verity(CLI::App& parent, int& exit_code);
void register_rego(CLI::App& parent, int& exit_code);
void register_attest(CLI::App& attest, int& exit_code);          // `cloister attest ...`
void register_attest_measure(CLI::App& attest, int& exit_code);  // `cloister attest measure`

}  // namespace cloister::cli
