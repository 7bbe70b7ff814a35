#include "cloister/snp_measure/measure.h"

#include <string>

#include <openssl/evp.h>

#include "cloister/common/openssl.h"
#include "firmware.h"
#include "page_info.h"
#include "sev_hashes.h"
#include "vmsa.h"

namespace cloister::snp_measure {
namespace {

// More VMSAs than any SNP guest can have (the APIC ID space of a VM); keeps memory bounded.
constexpr unsigned kMaxVcpus = 4096;
constexpr std::uint64_t kPageMask = 0xfff;
// The SVSM always runs with SNPActive only (sev-snp-measure VMSA_SVSM).
constexpr std::uint64_t kSvsmSevFeatures = 0x1;

// Incremental SHA-256 for the SEV / SEV-ES launch digest (LAUNCH_UPDATE_DATA then
// LAUNCH_UPDATE_VMSA hash the plaintext in launch order).
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
    ok_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
  }
  void update(ByteView data) { ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1; }
  Result<Bytes> finish() {
    Bytes out(32);
    unsigned int len = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1 || len != out.size()) {
      return forward_error(ossl::error(Errc::internal, "SHA-256"));
    }
    return out;
  }

 private:
  ossl::EvpMdCtx ctx_;
  bool ok_ = false;
};

Status check_vcpus(const LaunchConfig& c) {
  if (c.vcpus == 0) return make_error(Errc::invalid_argument, "vcpus must be at least 1");
  if (c.vcpus > kMaxVcpus) {
    return make_error(Errc::limit_exceeded, "vcpus " + std::to_string(c.vcpus) + " exceeds " +
                                                std::to_string(kMaxVcpus));
  }
  return {};
}

// VMSA pages for vCPU 0 (reset vector) and the APs (the firmware's SEV-ES AP reset address).
Result<std::vector<Bytes>> reset_vmsas(const FirmwareImage& fw, const LaunchConfig& c, std::uint64_t sev_features) {
  CLOISTER_RETURN_IF_ERROR(check_vcpus(c));
  const std::uint32_t ap_eip = CLOISTER_TRY(fw.sev_es_reset_eip());
  if (ap_eip == 0 && c.vcpus > 1) {
    return make_error(Errc::parse, "firmware's SEV_ES_RESET_BLOCK gives AP reset address 0; cannot start " +
                                       std::to_string(c.vcpus) + " vCPUs");
  }
  std::vector<Bytes> pages;
  pages.reserve(c.vcpus);
  pages.push_back(to_page(reset_vmsa(kBspResetEip, sev_features, c.vcpu_signature, c.vmm)));
  if (c.vcpus > 1) {
    Bytes ap = to_page(reset_vmsa(ap_eip, sev_features, c.vcpu_signature, c.vmm));
    for (unsigned i = 1; i < c.vcpus; ++i) pages.push_back(ap);
  }
  return pages;
}

Status add_kernel_hashes_section(LaunchDigest& ld, const FirmwareImage& fw, const MetadataSection& s,
                                 const std::optional<KernelHashes>& kernel) {
  if (!kernel) {
    ld.add_zero_pages(s.gpa, s.size);
    return {};
  }
  const std::uint32_t table_gpa = CLOISTER_TRY(fw.sev_hashes_table_gpa());
  Bytes page = CLOISTER_TRY(sev_hashes_page(*kernel, table_gpa & kPageMask));
  // QEMU writes the table into the page at the section's address (the metadata is what the VMM
  // acts on); the table entry only supplies the offset within that page.
  ld.add_normal_pages(s.gpa, page);
  return {};
}

// The firmware's SEV metadata sections, in the order QEMU launches them.
Status add_metadata_sections(LaunchDigest& ld, const FirmwareImage& fw, const std::optional<KernelHashes>& kernel,
                             VmmType vmm) {
  for (const MetadataSection& s : fw.metadata()) {
    switch (s.type) {
      case SectionType::snp_sec_mem:
        // GCE adds SEC memory as unmeasured pages; QEMU and EC2 as zero pages.
        if (vmm == VmmType::gce) {
          ld.add_unmeasured_pages(s.gpa, s.size);
        } else {
          ld.add_zero_pages(s.gpa, s.size);
        }
        break;
      case SectionType::snp_secrets:
        ld.add_secrets_page(s.gpa);
        break;
      case SectionType::cpuid:
        // EC2 adds the CPUID page after every other section (below).
        if (vmm != VmmType::ec2) ld.add_cpuid_page(s.gpa);
        break;
      case SectionType::svsm_caa:
        ld.add_zero_pages(s.gpa, s.size);
        break;
      case SectionType::snp_kernel_hashes:
        CLOISTER_RETURN_IF_ERROR(add_kernel_hashes_section(ld, fw, s, kernel));
        break;
    }
  }
  if (vmm == VmmType::ec2) {
    for (const MetadataSection& s : fw.metadata()) {
      if (s.type == SectionType::cpuid) ld.add_cpuid_page(s.gpa);
    }
  }
  if (kernel && !fw.has_section(SectionType::snp_kernel_hashes)) {
    // Without the section QEMU has nowhere measured to put the hashes: OVMF would boot an
    // unverified kernel, so no measurement can vouch for it.
    return make_error(Errc::unsupported,
                      "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section");
  }
  return {};
}

Status check_firmware_pages(const FirmwareImage& fw, const char* what) {
  if (fw.data().size() % kPageSize != 0) {
    return make_error(Errc::parse, std::string(what) + " image size " + std::to_string(fw.data().size()) +
                                       " is not a multiple of 4096: SNP measures whole pages");
  }
  return {};
}

Result<LaunchMeasurement> measure_snp(const LaunchConfig& c) {
  const FirmwareImage fw = CLOISTER_TRY(FirmwareImage::parse(c.firmware));
  LaunchDigest ld;
  if (c.snp_ovmf_hash) {
    // The caller vouches for the firmware pages' digest; the image is used for its tables only.
    ld = LaunchDigest(*c.snp_ovmf_hash);
  } else {
    CLOISTER_RETURN_IF_ERROR(check_firmware_pages(fw, "OVMF"));
    ld.add_normal_pages(fw.gpa(), fw.data());
  }
  CLOISTER_RETURN_IF_ERROR(add_metadata_sections(ld, fw, c.kernel, c.vmm));
  LaunchMeasurement m;
  m.vmsas = CLOISTER_TRY(reset_vmsas(fw, c, c.guest_features));
  for (const Bytes& page : m.vmsas) ld.add_vmsa_page(page);
  m.digest.assign(ld.digest().begin(), ld.digest().end());
  return m;
}

Result<LaunchMeasurement> measure_svsm(const LaunchConfig& c) {
  if (c.vmm != VmmType::qemu) return make_error(Errc::unsupported, "snp:svsm mode is only defined for QEMU");
  if (c.kernel) return make_error(Errc::unsupported, "snp:svsm mode does not measure a direct-boot kernel");
  CLOISTER_RETURN_IF_ERROR(check_vcpus(c));
  const FirmwareImage ovmf = CLOISTER_TRY(FirmwareImage::parse(c.firmware));
  CLOISTER_RETURN_IF_ERROR(check_firmware_pages(ovmf, "OVMF"));
  // Memory layout under QEMU + SVSM: OVMF ends at 4 GiB, the OVMF vars flash sits below it, and
  // the SVSM image ends where the vars begin.
  if (c.ovmf_vars_size % kPageSize != 0 || c.ovmf_vars_size > ovmf.gpa()) {
    return make_error(Errc::invalid_argument, "OVMF vars size " + std::to_string(c.ovmf_vars_size) +
                                                  " is not page-aligned or does not fit below the OVMF image");
  }
  auto svsm_parsed = FirmwareImage::parse(c.svsm, ovmf.gpa() - c.ovmf_vars_size);
  if (!svsm_parsed) return forward_error(std::move(svsm_parsed.error()).wrap("SVSM image"));
  const FirmwareImage& svsm = *svsm_parsed;
  CLOISTER_RETURN_IF_ERROR(check_firmware_pages(svsm, "SVSM"));
  const std::uint64_t eip = CLOISTER_TRY(svsm.svsm_entry_eip());

  LaunchDigest ld;
  ld.add_normal_pages(ovmf.gpa(), ovmf.data());
  ld.add_normal_pages(svsm.gpa(), svsm.data());
  CLOISTER_RETURN_IF_ERROR(add_metadata_sections(ld, svsm, std::nullopt, VmmType::qemu));
  LaunchMeasurement m;
  // Every vCPU, the BSP included, enters the SVSM at the same address.
  const Bytes page = to_page(svsm_vmsa(eip, kSvsmSevFeatures, c.vcpu_signature));
  m.vmsas.assign(c.vcpus, page);
  for (const Bytes& p : m.vmsas) ld.add_vmsa_page(p);
  m.digest.assign(ld.digest().begin(), ld.digest().end());
  return m;
}

// SEV and SEV-ES: SHA-256 over the firmware, the hashes table (direct boot) and, for SEV-ES,
// the VMSAs (with SEV_FEATURES 0: the SEV-ES VMSA has no SEV_FEATURES semantics).
Result<LaunchMeasurement> measure_sev(const LaunchConfig& c, bool with_vmsas) {
  const FirmwareImage fw = CLOISTER_TRY(FirmwareImage::parse(c.firmware));
  Sha256Stream hash;
  hash.update(fw.data());
  if (c.kernel) {
    if (!fw.supports_sev_hashes_table()) {
      return make_error(Errc::unsupported, "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement");
    }
    hash.update(sev_hashes_table(*c.kernel));
  }
  LaunchMeasurement m;
  if (with_vmsas) {
    m.vmsas = CLOISTER_TRY(reset_vmsas(fw, c, 0));
    for (const Bytes& page : m.vmsas) hash.update(page);
  }
  m.digest = CLOISTER_TRY(hash.finish());
  return m;
}

}  // namespace

Result<Mode> parse_mode(std::string_view text) {
  if (text == "sev") return Mode::sev;
  if (text == "seves") return Mode::seves;
  if (text == "snp") return Mode::snp;
  if (text == "snp:svsm") return Mode::snp_svsm;
  return make_error(Errc::invalid_argument, "unknown mode '" + std::string(text) + "' (sev, seves, snp, snp:svsm)");
}

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::sev:
      return "sev";
    case Mode::seves:
      return "seves";
    case Mode::snp:
      return "snp";
    case Mode::snp_svsm:
      return "snp:svsm";
  }
  return "?";
}

Result<VmmType> parse_vmm_type(std::string_view text) {
  if (text == "QEMU" || text == "qemu") return VmmType::qemu;
  if (text == "ec2") return VmmType::ec2;
  if (text == "gce") return VmmType::gce;
  return make_error(Errc::invalid_argument, "unknown VMM type '" + std::string(text) + "' (QEMU, ec2, gce)");
}

Result<LaunchMeasurement> measure(const LaunchConfig& c) {
  if (c.snp_ovmf_hash && c.mode != Mode::snp) {
    return make_error(Errc::invalid_argument, "a precomputed OVMF hash only applies to snp mode");
  }
  switch (c.mode) {
    case Mode::sev:
      return measure_sev(c, false);
    case Mode::seves:
      return measure_sev(c, true);
    case Mode::snp:
      return measure_snp(c);
    case Mode::snp_svsm:
      return measure_svsm(c);
  }
  return make_error(Errc::invalid_argument, "unknown mode");
}

Result<Sha384> snp_firmware_digest(ByteView firmware) {
  const FirmwareImage fw = CLOISTER_TRY(FirmwareImage::parse(firmware));
  CLOISTER_RETURN_IF_ERROR(check_firmware_pages(fw, "OVMF"));
  LaunchDigest ld;
  ld.add_normal_pages(fw.gpa(), fw.data());
  return ld.digest();
}

}  // namespace cloister::snp_measure
