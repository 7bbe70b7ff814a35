#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"cloister: Confidential Containers tools (dm-verity layers, Rego policies, SEV-SNP attestation)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cloister 0.1.0");
  int exit_code = 0;

#ifdef CLOISTER_HAVE_VERITY
  cloister::cli::register_verity(app, exit_code);
#endif
#ifdef CLOISTER_HAVE_REGO
  cloister::cli::register_rego(app, exit_code);
#endif
#if defined(CLOISTER_HAVE_ATTEST) || defined(CLOISTER_HAVE_SNP_MEASURE)
  auto* attest = app.add_subcommand("attest", "AMD SEV-SNP attestation: reports, chains, measurements, simulator");
  attest->require_subcommand(1);
#endif
#ifdef CLOISTER_HAVE_ATTEST
  cloister::cli::register_attest(*attest, exit_code);
#endif
#ifdef CLOISTER_HAVE_SNP_MEASURE
  cloister::cli::register_attest_measure(*attest, exit_code);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // CLI11 returns 0 for --help/--version; usage errors are "unusable input" (2).
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cloister: internal error: %s\n", e.what());
    return 2;
  }
  return exit_code;
}
