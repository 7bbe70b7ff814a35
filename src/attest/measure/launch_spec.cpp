// LaunchSpec (sev-snp-measure's command-line vocabulary) → LaunchConfig. The checks and their
// wording follow sev-snp-measure's argument validation so scripts see the same failures.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "cloister/snp_measure/measure.h"

namespace cloister::snp_measure {

std::optional<std::uint64_t> parse_int_auto(std::string_view text) {
  std::string s(text);
  int base = 10;
  if (s.size() > 2 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x') base = 16;
    if (p == 'o') base = 8;
    if (p == 'b') base = 2;
    if (base != 10) s = s.substr(2);
  }
  // strtoull would accept a sign or leading blanks; int(x, 0) on a flag value should not.
  if (s.empty() || s[0] == '-' || s[0] == '+' || s[0] == ' ') return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, base);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

namespace {

// RDX at reset carries the CPUID signature under QEMU; EC2 and GCE use fixed values.
Result<std::uint32_t> vcpu_signature_of(const LaunchSpec& s, VmmType vmm) {
  if (s.vcpu_family) return cpu_signature(*s.vcpu_family, s.vcpu_model, s.vcpu_stepping);
  if (s.vcpu_sig) {
    auto sig = parse_int_auto(*s.vcpu_sig);
    if (!sig || *sig > 0xffffffffu) return make_error(Errc::invalid_argument, "--vcpu-sig: '" + *s.vcpu_sig + "' is not a 32-bit integer");
    return static_cast<std::uint32_t>(*sig);
  }
  if (s.vcpu_type) {
    auto sig = vcpu_type_signature(*s.vcpu_type);
    if (!sig) return make_error(Errc::invalid_argument, "--vcpu-type: " + sig.error().message());
    return *sig;
  }
  if (vmm == VmmType::qemu)
    return make_error(Errc::invalid_argument, "missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '" +
                                  s.mode + "'");
  return 0u;
}

}  // namespace

Result<LaunchConfig> load_launch(const LaunchSpec& spec) {
  auto kernel = spec.kernel;
  auto initrd = spec.initrd;
  if (kernel && kernel->empty()) kernel.reset();
  if (initrd && initrd->empty()) initrd.reset();

  auto mode = parse_mode(spec.mode);
  if (!mode) return make_error(Errc::invalid_argument, "--mode: " + mode.error().message());
  auto vmm = parse_vmm_type(spec.vmm_type);
  if (!vmm) return make_error(Errc::invalid_argument, "--vmm-type: " + vmm.error().message());
  if (initrd && !kernel) return make_error(Errc::invalid_argument, "--kernel required when using --initrd");
  if (spec.append && !spec.append->empty() && !kernel)
    return make_error(Errc::invalid_argument, "--kernel required when using --append");
  if (*mode != Mode::sev && !spec.vcpus)
    return make_error(Errc::invalid_argument, "missing --vcpus N in guest mode '" + spec.mode + "'");
  if (spec.vcpus && *spec.vcpus == 0) return make_error(Errc::invalid_argument, "--vcpus must be at least 1");

  LaunchConfig config;
  config.mode = *mode;
  config.vcpus = spec.vcpus.value_or(1);
  config.vmm = *vmm;
  if (*mode != Mode::sev) config.vcpu_signature = CLOISTER_TRY(vcpu_signature_of(spec, *vmm));

  auto features = parse_int_auto(spec.guest_features);
  if (!features) return make_error(Errc::invalid_argument, "--guest-features: '" + spec.guest_features + "' is not an integer");
  config.guest_features = *features;

  if (spec.snp_ovmf_hash) {
    auto raw = hex_decode(*spec.snp_ovmf_hash);
    if (!raw || raw->size() != 48)
      return make_error(Errc::invalid_argument, "--snp-ovmf-hash: expected 96 hex digits (a SHA-384 digest)");
    Sha384 seed{};
    std::copy(raw->begin(), raw->end(), seed.begin());
    config.snp_ovmf_hash = seed;
  }

  if (kernel) {
    std::optional<std::filesystem::path> initrd_path;
    if (initrd) initrd_path = *initrd;
    config.kernel = CLOISTER_TRY(kernel_hashes_from_files(*kernel, initrd_path, spec.append));
  }

  if (*mode == Mode::snp_svsm) {
    if (!spec.svsm) return make_error(Errc::invalid_argument, "snp:svsm mode requires --svsm");
    auto svsm = read_file(*spec.svsm);
    if (!svsm) return forward_error(std::move(svsm.error()).wrap("--svsm"));
    config.svsm = std::move(*svsm);
    if (spec.vars_file) {
      struct stat st {};
      if (::stat(spec.vars_file->c_str(), &st) != 0)
        return make_error(Errc::invalid_argument, "--vars-file " + *spec.vars_file + ": " + errno_string(errno));
      config.ovmf_vars_size = static_cast<std::uint64_t>(st.st_size);
    } else if (spec.vars_size) {
      config.ovmf_vars_size = *spec.vars_size;
    } else {
      return make_error(Errc::invalid_argument, "snp:svsm mode requires --vars-size or --vars-file");
    }
  }

  auto firmware = read_file(spec.ovmf);
  if (!firmware) return forward_error(std::move(firmware.error()).wrap("--ovmf"));
  config.firmware = std::move(*firmware);
  return config;
}

}  // namespace cloister::snp_measure
