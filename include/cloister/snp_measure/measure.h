// Expected launch measurement of an AMD SEV / SEV-ES / SEV-SNP guest, computed the way
// virtee/sev-snp-measure does: from the firmware image (OVMF, optionally a Coconut SVSM), the
// direct-boot kernel/initrd/cmdline hashes and the initial vCPU register state.
//
// The result is what the platform puts in ATTESTATION_REPORT.MEASUREMENT (SNP) or returns from
// LAUNCH_MEASURE (SEV, SEV-ES), so a verifier can compare a report against what it expects to run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cloister/common/bytes.h"
#include "cloister/common/digest.h"
#include "cloister/common/result.h"

namespace cloister::snp_measure {

enum class Mode {
  sev,       // SEV: SHA-256 over firmware (+ hashes table)
  seves,     // SEV-ES: SHA-256 over firmware (+ hashes table) + VMSAs
  snp,       // SEV-SNP: SHA-384 PAGE_INFO chain
  snp_svsm,  // SEV-SNP launched through a Coconut SVSM (QEMU only)
};

enum class VmmType { qemu, ec2, gce };

// "sev", "seves", "snp", "snp:svsm" (sev-snp-measure's --mode spellings).
Result<Mode> parse_mode(std::string_view text);
std::string_view mode_name(Mode mode);
// "QEMU" (also "qemu"), "ec2", "gce" (sev-snp-measure's --vmm-type spellings).
Result<VmmType> parse_vmm_type(std::string_view text);

// CPUID Fn0000_0001_EAX for a family/model/stepping (AMD CPUID Specification 25481, "Family,
// Model, Stepping Identifiers"); QEMU puts it in RDX of every vCPU at reset.
std::uint32_t cpu_signature(unsigned family, unsigned model, unsigned stepping);
// Signature of a QEMU CPU model name ("EPYC-v4", "EPYC-Milan", ...); not_found for unknown names.
Result<std::uint32_t> vcpu_type_signature(std::string_view qemu_cpu_model);
// All CPU model names vcpu_type_signature() knows, in a stable order.
std::span<const std::string_view> vcpu_type_names();

// SHA-256 digests QEMU writes into the firmware's SEV hashes table for -kernel/-initrd/-append.
struct KernelHashes {
  Sha256 kernel{};
  Sha256 initrd{};   // of empty input when no initrd is given
  Sha256 cmdline{};  // of append + NUL, or of a single NUL when append is absent or empty
};

KernelHashes kernel_hashes(ByteView kernel, ByteView initrd, std::optional<std::string_view> append);
// Streams the files (kernels and initrds can be large). Errors name the file.
Result<KernelHashes> kernel_hashes_from_files(const std::filesystem::path& kernel,
                                              const std::optional<std::filesystem::path>& initrd,
                                              std::optional<std::string_view> append);

struct LaunchConfig {
  Mode mode = Mode::snp;
  unsigned vcpus = 1;                  // VMSAs measured (seves, snp, snp_svsm)
  std::uint32_t vcpu_signature = 0;    // RDX at reset under QEMU; ignored for ec2/gce
  std::uint64_t guest_features = 0x1;  // VMSA SEV_FEATURES in snp mode (bit 0 SNPActive)
  VmmType vmm = VmmType::qemu;
  Bytes firmware;                      // the OVMF image; it ends at guest physical 4 GiB
  std::optional<KernelHashes> kernel;  // present when a kernel is booted directly
  // snp only: a precomputed launch digest of the firmware pages (from snp_firmware_digest()),
  // used instead of measuring `firmware`'s contents. `firmware` is still parsed for its tables.
  std::optional<Sha384> snp_ovmf_hash;
  // snp_svsm only: the SVSM image and the size of the OVMF vars flash placed between them.
  Bytes svsm;
  std::uint64_t ovmf_vars_size = 0;
};

struct LaunchMeasurement {
  Bytes digest;              // 48 bytes (snp, snp_svsm) or 32 bytes (sev, seves)
  std::vector<Bytes> vmsas;  // the measured 4 KiB VMSA pages, vCPU 0 first (none in sev mode)
};

// Unusable input (malformed firmware, missing tables, kernel given to firmware that cannot
// measure it) is an error naming the offset or table.
Result<LaunchMeasurement> measure(const LaunchConfig& config);

// The SNP launch digest after only the firmware pages (sev-snp-measure's snp:ovmf-hash mode).
Result<Sha384> snp_firmware_digest(ByteView firmware);

// A launch described the way sev-snp-measure's command line describes it: text values and file
// paths. Shared by `cloister attest measure` and the simulator's launch (`attest sim serve`), so
// both accept the same spellings and a host that launches a guest measures exactly what it passes
// to the VMM. An empty kernel/initrd path means "not given", as upstream.
struct LaunchSpec {
  std::string mode = "snp";                  // parse_mode() spellings
  std::optional<unsigned> vcpus;             // required except in sev mode
  std::optional<std::string> vcpu_type;      // QEMU CPU model, e.g. "EPYC-v4"
  std::optional<std::string> vcpu_sig;       // CPUID(1).EAX, Python int(x, 0) spelling
  std::optional<unsigned> vcpu_family;       // with vcpu_model / vcpu_stepping
  unsigned vcpu_model = 0;
  unsigned vcpu_stepping = 0;
  std::string vmm_type = "QEMU";             // parse_vmm_type() spellings
  std::string ovmf;                          // firmware image path (required)
  std::optional<std::string> kernel;
  std::optional<std::string> initrd;
  std::optional<std::string> append;
  std::string guest_features = "0x1";        // Python int(x, 0) spelling
  std::optional<std::string> snp_ovmf_hash;  // 96 hex digits
  std::optional<std::string> svsm;           // snp:svsm only, with vars_size or vars_file
  std::optional<std::uint64_t> vars_size;
  std::optional<std::string> vars_file;      // only its size is used
};

// Reads the files and resolves the text values into a LaunchConfig ready for measure().
// Errors name the flag-style field ("--vcpus", "--ovmf: <path>: ...") so a CLI can print them as is.
Result<LaunchConfig> load_launch(const LaunchSpec& spec);

// Python int(text, 0) for non-negative values: decimal, 0x hex, 0o octal, 0b binary.
std::optional<std::uint64_t> parse_int_auto(std::string_view text);

}  // namespace cloister::snp_measure
