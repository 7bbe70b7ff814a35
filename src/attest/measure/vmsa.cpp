#include "vmsa.h"

#include <bit>
#include <cstring>

namespace cloister::snp_measure {

static_assert(std::endian::native == std::endian::little, "wire structs are copied as host memory");

namespace {

// Power-on default PAT: WB, WT, UC-, UC repeated (AMD APM Vol. 2 §7.8.2 / A.3).
constexpr std::uint64_t kDefaultPat = 0x0007'0406'0007'0406;
// GCE's hypervisor programs its own PAT value (sev-snp-measure vmsa.py, --vmm-type gce).
constexpr std::uint64_t kGcePat = 0x0007'0106;
// EFER.SVME: KVM sets it in the guest's EFER (Linux arch/x86/kvm/svm/svm.c init_vmcb).
constexpr std::uint64_t kEferSvme = 0x1000;
// CR4.MCE, set by KVM at vCPU reset.
constexpr std::uint64_t kCr4Mce = 0x40;
// CR0.ET; CR0.PE is added for the SVSM's protected-mode entry.
constexpr std::uint64_t kCr0Et = 0x10;
constexpr std::uint64_t kCr0Pe = 0x01;
// DR6 / DR7 / RFLAGS architectural reset values (AMD APM Vol. 2 Table 14-1).
constexpr std::uint64_t kDr6Reset = 0xFFFF'0FF0;
constexpr std::uint64_t kDr7Reset = 0x400;
constexpr std::uint64_t kRflagsReset = 0x2;
// XCR0.X87 is the only bit set at reset.
constexpr std::uint64_t kXcr0Reset = 0x1;
// MXCSR and x87 FCW reset values (AMD APM Vol. 1 §4.2.2 / §6.2.2) that QEMU puts in the VMSA
// since Linux 6.10's KVM_SEV_INIT2 (sev-snp-measure 0.0.10 "Update the VMSA").
constexpr std::uint32_t kMxcsrReset = 0x1F80;
constexpr std::uint16_t kFcwReset = 0x037F;

// EC2 and GCE do not pass the vCPU's CPUID signature in RDX; both start every vCPU with 0x600
// (sev-snp-measure vmsa.py; expected.json "vcpu_type/vcpu_sig" convention).
constexpr std::uint64_t kCloudRdx = 0x600;

VmcbSegment seg(std::uint16_t selector, std::uint16_t attrib, std::uint32_t limit, std::uint64_t base) {
  return VmcbSegment{selector, attrib, limit, base};
}

// State every entry style shares: descriptor tables empty, LDT type, the reset control and debug
// registers, and the caller's SEV_FEATURES.
SevEsSaveArea common_state(std::uint64_t sev_features, std::uint64_t rdx) {
  SevEsSaveArea v{};
  v.gdtr = seg(0, 0, 0xffff, 0);
  v.idtr = seg(0, 0, 0xffff, 0);
  v.ldtr = seg(0, 0x82, 0xffff, 0);
  v.efer = kEferSvme;
  v.cr4 = kCr4Mce;
  v.dr7 = kDr7Reset;
  v.dr6 = kDr6Reset;
  v.rflags = kRflagsReset;
  v.rdx = rdx;
  v.sev_features = sev_features;
  v.xcr0 = kXcr0Reset;
  return v;
}

}  // namespace

SevEsSaveArea reset_vmsa(std::uint32_t eip, std::uint64_t sev_features, std::uint32_t vcpu_signature, VmmType vmm) {
  // Segment attributes are the VMCB's packed form: 0x9b = present, code, readable, accessed;
  // 0x93 = present, data, writable, accessed; 0x8b = busy 32-bit TSS; 0x82 = LDT.
  std::uint16_t cs_attrib = 0x9b;
  std::uint16_t ss_attrib = 0x93;
  std::uint16_t tr_attrib = 0x8b;
  std::uint64_t rdx = vcpu_signature;
  std::uint64_t g_pat = kDefaultPat;
  std::uint32_t mxcsr = kMxcsrReset;
  std::uint16_t fcw = kFcwReset;
  switch (vmm) {
    case VmmType::qemu:
      break;
    case VmmType::ec2:
      // EC2's VMM leaves the accessed bit clear on the BSP's CS and on SS, uses an available
      // (not busy) TSS type for TR and does not program MXCSR/FCW (sev-snp-measure vmsa.py).
      if (eip == kBspResetEip) cs_attrib = 0x9a;
      ss_attrib = 0x92;
      tr_attrib = 0x83;
      rdx = kCloudRdx;
      mxcsr = 0;
      fcw = 0;
      break;
    case VmmType::gce:
      rdx = kCloudRdx;
      g_pat = kGcePat;
      mxcsr = 0;
      fcw = 0;
      break;
  }

  SevEsSaveArea v = common_state(sev_features, rdx);
  v.es = seg(0, 0x93, 0xffff, 0);
  // Real-mode reset: CS base holds the upper bits of the entry address, RIP the low 16.
  v.cs = seg(0xf000, cs_attrib, 0xffff, eip & 0xffff0000u);
  v.ss = seg(0, ss_attrib, 0xffff, 0);
  v.ds = seg(0, 0x93, 0xffff, 0);
  v.fs = seg(0, 0x93, 0xffff, 0);
  v.gs = seg(0, 0x93, 0xffff, 0);
  v.tr = seg(0, tr_attrib, 0xffff, 0);
  v.cr0 = kCr0Et;
  v.rip = eip & 0xffffu;
  v.g_pat = g_pat;
  v.mxcsr = mxcsr;
  v.x87_fcw = fcw;
  return v;
}

SevEsSaveArea svsm_vmsa(std::uint64_t eip, std::uint64_t sev_features, std::uint32_t vcpu_signature) {
  // Flat 32-bit protected mode: code selector 8, data selector 16, 4 GiB limits, granularity
  // and default-size bits set (0xc9b / 0xc93).
  SevEsSaveArea v = common_state(sev_features, vcpu_signature);
  v.es = seg(16, 0xc93, 0xffffffff, 0);
  v.cs = seg(8, 0xc9b, 0xffffffff, 0);
  v.ss = seg(16, 0xc93, 0xffffffff, 0);
  v.ds = seg(16, 0xc93, 0xffffffff, 0);
  v.fs = seg(16, 0xc93, 0xffffffff, 0);
  v.gs = seg(0, 0x93, 0xffff, 0);
  v.tr = seg(0, 0x8b, 0xffff, 0);
  v.cr0 = kCr0Et | kCr0Pe;
  v.rip = eip;
  v.g_pat = kDefaultPat;
  // sev-snp-measure's SVSM VMSA sets MXCSR but leaves the x87 FCW zero; followed as is, since
  // this mode has no shipped vector to settle it (docs/snp-measure.md).
  v.mxcsr = kMxcsrReset;
  return v;
}

Bytes to_page(const SevEsSaveArea& vmsa) {
  Bytes page(sizeof vmsa);
  std::memcpy(page.data(), &vmsa, sizeof vmsa);
  return page;
}

}  // namespace cloister::snp_measure
