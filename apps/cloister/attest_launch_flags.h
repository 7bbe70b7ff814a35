// The launch-image flags of sev-snp-measure, shared by `cloister attest measure` and the
// simulator's host side (`cloister attest sim serve|report`), so a host measures a launch with
// exactly the spellings it uses to compute the expected value. --mode is left to each command.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cloister/snp_measure/measure.h"

namespace cloister::cli {

struct LaunchFlags {
  CLI::Option* ovmf = nullptr;
  std::vector<CLI::Option*> all;  // every flag registered here, for excludes()
};

inline LaunchFlags add_launch_flags(CLI::App* cmd, snp_measure::LaunchSpec& spec) {
  LaunchFlags f;
  auto add = [&](CLI::Option* o) {
    f.all.push_back(o);
    return o;
  };
  add(cmd->add_option("--vcpus", spec.vcpus, "Number of guest vCPUs (required except in sev mode)")
          ->check(CLI::Range(1u, 4096u)));
  std::string types;
  for (auto name : snp_measure::vcpu_type_names()) types += (types.empty() ? "" : ", ") + std::string(name);
  add(cmd->add_option("--vcpu-type", spec.vcpu_type, "QEMU CPU model of the vCPUs (" + types + ")"));
  add(cmd->add_option("--vcpu-sig", spec.vcpu_sig, "vCPU signature, CPUID(1).EAX (e.g. 0x800f12)"));
  add(cmd->add_option("--vcpu-family", spec.vcpu_family, "vCPU family (with --vcpu-model, --vcpu-stepping)"));
  add(cmd->add_option("--vcpu-model", spec.vcpu_model, "vCPU model"));
  add(cmd->add_option("--vcpu-stepping", spec.vcpu_stepping, "vCPU stepping"));
  add(cmd->add_option("--vmm-type", spec.vmm_type, "VMM that launches the guest: QEMU (default), ec2, gce"));
  f.ovmf = add(cmd->add_option("--ovmf", spec.ovmf, "OVMF firmware image"));
  add(cmd->add_option("--kernel", spec.kernel, "Kernel booted directly (-kernel); turns on the SEV hashes table"));
  add(cmd->add_option("--initrd", spec.initrd, "Initrd (-initrd; needs --kernel)"));
  add(cmd->add_option("--append", spec.append, "Kernel command line (-append; needs --kernel)"));
  add(cmd->add_option("--guest-features", spec.guest_features,
                      "SEV_FEATURES of the SNP VMSAs, e.g. 0x1 (SNPActive, default) or 0x21 (+DebugSwap)"));
  add(cmd->add_option("--snp-ovmf-hash", spec.snp_ovmf_hash,
                      "Precomputed SNP digest of the OVMF pages (from --mode snp:ovmf-hash), hex"));
  add(cmd->add_option("--svsm", spec.svsm, "Coconut SVSM image (snp:svsm mode)"));
  auto* vars_size = add(cmd->add_option("--vars-size", spec.vars_size, "Size of the OVMF vars flash in bytes (snp:svsm)"));
  auto* vars_file = add(cmd->add_option("--vars-file", spec.vars_file, "OVMF vars file, for its size (snp:svsm)"));
  vars_size->excludes(vars_file);
  return f;
}

}  // namespace cloister::cli
