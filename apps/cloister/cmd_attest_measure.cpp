// `cloister attest measure`: the expected launch measurement of an SEV / SEV-ES / SEV-SNP guest,
// with sev-snp-measure's flag spellings so existing scripts carry over.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <sys/stat.h>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "cloister/snp_measure/measure.h"
#include "commands.h"

namespace cloister::cli {
namespace {

namespace sm = cloister::snp_measure;

struct MeasureArgs {
  std::string mode;
  std::optional<unsigned> vcpus;
  std::optional<std::string> vcpu_type;
  std::optional<std::string> vcpu_sig;
  std::optional<unsigned> vcpu_family;
  unsigned vcpu_model = 0;
  unsigned vcpu_stepping = 0;
  std::string vmm_type = "QEMU";
  std::string ovmf;
  std::optional<std::string> kernel;
  std::optional<std::string> initrd;
  std::optional<std::string> append;
  std::string guest_features = "0x1";
  std::string output_format = "hex";
  std::optional<std::string> snp_ovmf_hash;
  bool dump_vmsa = false;
  std::optional<std::string> svsm;
  std::optional<std::uint64_t> vars_size;
  std::optional<std::string> vars_file;
  bool verbose = false;
};

// Python int(x, 0) semantics for the integer flags: decimal, 0x hex, 0o octal, 0b binary.
std::optional<std::uint64_t> parse_auto_int(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::string s = text;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) base = 8;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) base = 2;
  if (base != 10) s = s.substr(2);
  if (s.empty() || s[0] == '-' || s[0] == '+' || s[0] == ' ') return std::nullopt;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, base);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "cloister attest measure: %s\n", message.c_str());
  return 2;
}

int run_measure(MeasureArgs a) {
  // sev-snp-measure treats an empty --kernel/--initrd path as not given.
  if (a.kernel && a.kernel->empty()) a.kernel.reset();
  if (a.initrd && a.initrd->empty()) a.initrd.reset();
  auto firmware = read_file(a.ovmf);
  if (!firmware) return fail("--ovmf: " + firmware.error().to_string());

  if (a.mode == "snp:ovmf-hash") {
    auto digest = sm::snp_firmware_digest(*firmware);
    if (!digest) return fail(a.ovmf + ": " + digest.error().to_string());
    std::printf("%s\n", hex_encode(*digest).c_str());
    return 0;
  }

  auto mode = sm::parse_mode(a.mode);
  if (!mode) return fail("--mode: " + mode.error().message());
  auto vmm = sm::parse_vmm_type(a.vmm_type);
  if (!vmm) return fail("--vmm-type: " + vmm.error().message());
  if (a.initrd && !a.kernel) return fail("--kernel required when using --initrd");
  if (a.append && !a.append->empty() && !a.kernel) return fail("--kernel required when using --append");
  if (*mode != sm::Mode::sev && !a.vcpus) return fail("missing --vcpus N in guest mode '" + a.mode + "'");
  if (a.dump_vmsa && *mode == sm::Mode::sev) return fail("--dump-vmsa is not available in sev mode");
  if (a.output_format != "hex" && a.output_format != "base64") {
    return fail("--output-format must be hex or base64, not '" + a.output_format + "'");
  }

  sm::LaunchConfig config;
  config.mode = *mode;
  config.vcpus = a.vcpus.value_or(1);
  config.vmm = *vmm;

  // RDX at reset carries the CPUID signature under QEMU; EC2 and GCE use fixed values.
  if (*mode != sm::Mode::sev) {
    if (a.vcpu_family) {
      config.vcpu_signature = sm::cpu_signature(*a.vcpu_family, a.vcpu_model, a.vcpu_stepping);
    } else if (a.vcpu_sig) {
      auto sig = parse_auto_int(*a.vcpu_sig);
      if (!sig || *sig > 0xffffffffu) return fail("--vcpu-sig: '" + *a.vcpu_sig + "' is not a 32-bit integer");
      config.vcpu_signature = static_cast<std::uint32_t>(*sig);
    } else if (a.vcpu_type) {
      auto sig = sm::vcpu_type_signature(*a.vcpu_type);
      if (!sig) return fail("--vcpu-type: " + sig.error().message());
      config.vcpu_signature = *sig;
    } else if (*vmm == sm::VmmType::qemu) {
      return fail("missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '" + a.mode + "'");
    }
  }

  auto features = parse_auto_int(a.guest_features);
  if (!features) return fail("--guest-features: '" + a.guest_features + "' is not an integer");
  config.guest_features = *features;

  if (a.snp_ovmf_hash) {
    auto raw = hex_decode(*a.snp_ovmf_hash);
    if (!raw || raw->size() != 48) return fail("--snp-ovmf-hash: expected 96 hex digits (a SHA-384 digest)");
    Sha384 seed{};
    std::copy(raw->begin(), raw->end(), seed.begin());
    config.snp_ovmf_hash = seed;
  }

  if (a.kernel) {
    std::optional<std::filesystem::path> initrd;
    if (a.initrd) initrd = *a.initrd;
    auto hashes = sm::kernel_hashes_from_files(*a.kernel, initrd, a.append);
    if (!hashes) return fail(hashes.error().to_string());
    config.kernel = *hashes;
  }

  if (*mode == sm::Mode::snp_svsm) {
    if (!a.svsm) return fail("snp:svsm mode requires --svsm");
    auto svsm = read_file(*a.svsm);
    if (!svsm) return fail("--svsm: " + svsm.error().to_string());
    config.svsm = std::move(*svsm);
    if (a.vars_file) {
      struct stat st {};
      if (::stat(a.vars_file->c_str(), &st) != 0) {
        return fail("--vars-file " + *a.vars_file + ": " + errno_string(errno));
      }
      config.ovmf_vars_size = static_cast<std::uint64_t>(st.st_size);
    } else if (a.vars_size) {
      config.ovmf_vars_size = *a.vars_size;
    } else {
      return fail("snp:svsm mode requires --vars-size or --vars-file");
    }
  }

  config.firmware = std::move(*firmware);
  auto m = sm::measure(config);
  if (!m) return fail(a.ovmf + ": " + m.error().to_string());

  if (a.dump_vmsa) {
    for (std::size_t i = 0; i < m->vmsas.size(); ++i) {
      const std::string name = "vmsa" + std::to_string(i) + ".bin";
      auto st = write_file_atomic(name, m->vmsas[i]);
      if (!st) return fail(st.error().to_string());
    }
  }

  const std::string text = a.output_format == "hex" ? hex_encode(m->digest) : base64_encode(m->digest);
  if (a.verbose) {
    std::printf("Calculated %s guest measurement: %s\n", std::string(sm::mode_name(*mode)).c_str(), text.c_str());
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
  cmd->add_option("--mode", args->mode, "Guest mode: sev, seves, snp, snp:ovmf-hash, snp:svsm")
      ->required()
      ->check(CLI::IsMember({"sev", "seves", "snp", "snp:ovmf-hash", "snp:svsm"}));
  cmd->add_option("--vcpus", args->vcpus, "Number of guest vCPUs (required except in sev mode)")
      ->check(CLI::Range(1u, 4096u));
  std::string types;
  for (auto name : sm::vcpu_type_names()) types += (types.empty() ? "" : ", ") + std::string(name);
  cmd->add_option("--vcpu-type", args->vcpu_type, "QEMU CPU model of the vCPUs (" + types + ")");
  cmd->add_option("--vcpu-sig", args->vcpu_sig, "vCPU signature, CPUID(1).EAX (e.g. 0x800f12)");
  cmd->add_option("--vcpu-family", args->vcpu_family, "vCPU family (with --vcpu-model, --vcpu-stepping)");
  cmd->add_option("--vcpu-model", args->vcpu_model, "vCPU model");
  cmd->add_option("--vcpu-stepping", args->vcpu_stepping, "vCPU stepping");
  cmd->add_option("--vmm-type", args->vmm_type, "VMM that launches the guest: QEMU (default), ec2, gce");
  cmd->add_option("--ovmf", args->ovmf, "OVMF firmware image")->required();
  cmd->add_option("--kernel", args->kernel, "Kernel booted directly (-kernel); turns on the SEV hashes table");
  cmd->add_option("--initrd", args->initrd, "Initrd (-initrd; needs --kernel)");
  cmd->add_option("--append", args->append, "Kernel command line (-append; needs --kernel)");
  cmd->add_option("--guest-features", args->guest_features,
                  "SEV_FEATURES of the SNP VMSAs, e.g. 0x1 (SNPActive, default) or 0x21 (+DebugSwap)");
  cmd->add_option("--output-format", args->output_format, "hex (default) or base64");
  cmd->add_option("--snp-ovmf-hash", args->snp_ovmf_hash,
                  "Precomputed SNP digest of the OVMF pages (from --mode snp:ovmf-hash), hex");
  cmd->add_flag("--dump-vmsa", args->dump_vmsa, "Write the measured VMSA pages to vmsa<N>.bin in the current directory");
  cmd->add_option("--svsm", args->svsm, "Coconut SVSM image (snp:svsm mode)");
  auto* vars_size = cmd->add_option("--vars-size", args->vars_size, "Size of the OVMF vars flash in bytes (snp:svsm)");
  auto* vars_file = cmd->add_option("--vars-file", args->vars_file, "OVMF vars file, for its size (snp:svsm)");
  vars_size->excludes(vars_file);
  cmd->add_flag("-v,--verbose", args->verbose, "Print a label before the measurement");
  cmd->footer(
      "Exit status: 0 measurement printed; 2 unusable input (bad firmware tables, missing flags, unreadable "
      "files).");
  cmd->callback([args, &exit_code] { exit_code = run_measure(*args); });
}

}  // namespace cloister::cli
