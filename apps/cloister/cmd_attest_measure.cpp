// `cloister attest measure`: the expected launch measurement of an SEV / SEV-ES / SEV-SNP guest,
// with sev-snp-measure's flag spellings so existing scripts carry over.
#include <cstdio>
#include <memory>
#include <string>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "cloister/snp_measure/measure.h"
#include "attest_launch_flags.h"
#include "commands.h"

namespace cloister::cli {
namespace {

namespace sm = cloister::snp_measure;

struct MeasureArgs {
  sm::LaunchSpec spec;
  std::string output_format = "hex";
  bool dump_vmsa = false;
  bool verbose = false;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "cloister attest measure: %s\n", message.c_str());
  return 2;
}

int run_measure(const MeasureArgs& a) {
  if (a.spec.mode == "snp:ovmf-hash") {
    auto firmware = read_file(a.spec.ovmf);
    if (!firmware) return fail("--ovmf: " + firmware.error().to_string());
    auto digest = sm::snp_firmware_digest(*firmware);
    if (!digest) return fail(a.spec.ovmf + ": " + digest.error().to_string());
    std::printf("%s\n", hex_encode(*digest).c_str());
    return 0;
  }
  if (a.dump_vmsa && a.spec.mode == "sev") return fail("--dump-vmsa is not available in sev mode");
  if (a.output_format != "hex" && a.output_format != "base64") {
    return fail("--output-format must be hex or base64, not '" + a.output_format + "'");
  }
  auto config = sm::load_launch(a.spec);
  if (!config) return fail(config.error().to_string());
  auto m = sm::measure(*config);
  if (!m) return fail(a.spec.ovmf + ": " + m.error().to_string());

  if (a.dump_vmsa) {
    for (std::size_t i = 0; i < m->vmsas.size(); ++i) {
      const std::string name = "vmsa" + std::to_string(i) + ".bin";
      auto st = write_file_atomic(name, m->vmsas[i]);
      if (!st) return fail(st.error().to_string());
    }
  }

  const std::string text = a.output_format == "hex" ? hex_encode(m->digest) : base64_encode(m->digest);
  if (a.verbose) {
    std::printf("Calculated %s guest measurement: %s\n", std::string(sm::mode_name(config->mode)).c_str(),
                text.c_str());
  } else {
    std::printf("%s\n", text.c_str());
  }
  return 0;
}

}  // namespace

void register_attest_measure(CLI::App& attest, int& exit_code) {
  auto args = std::make_shared<MeasureArgs>();
  auto* cmd = attest.add_subcommand(
      "measure",
      "Compute the expected launch measurement of an SEV, SEV-ES or SEV-SNP guest (as sev-snp-measure does) and "
      "print it");
  cmd->add_option("--mode", args->spec.mode, "Guest mode: sev, seves, snp, snp:ovmf-hash, snp:svsm")
      ->required()
      ->check(CLI::IsMember({"sev", "seves", "snp", "snp:ovmf-hash", "snp:svsm"}));
  add_launch_flags(cmd, args->spec).ovmf->required();
  cmd->add_option("--output-format", args->output_format, "hex (default) or base64");
  cmd->add_flag("--dump-vmsa", args->dump_vmsa, "Write the measured VMSA pages to vmsa<N>.bin in the current directory");
  cmd->add_flag("-v,--verbose", args->verbose, "Print a label before the measurement");
  cmd->footer(
      "Exit status: 0 measurement printed; 2 unusable input (bad firmware tables, missing flags, unreadable "
      "files).");
  cmd->callback([args, &exit_code] { exit_code = run_measure(*args); });
}

}  // namespace cloister::cli
