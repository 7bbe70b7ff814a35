// The VM Save Area (VMSA) pages the hypervisor encrypts and measures for each vCPU under SEV-ES
// and SEV-SNP, filled with the register state a VMM gives a vCPU at reset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cloister/common/bytes.h"
#include "cloister/snp_measure/measure.h"

namespace cloister::snp_measure {

// VMCB segment register, AMD64 APM Vol. 2 (24593) Table B-2 "VMCB Layout, State Save Area".
struct VmcbSegment {
  std::uint16_t selector;
  std::uint16_t attrib;
  std::uint32_t limit;
  std::uint64_t base;
};
static_assert(sizeof(VmcbSegment) == 16);

// SEV-ES save area, AMD64 APM Vol. 2 (24593) Table B-4 "VMSA Layout, State Save Area for
// SEV-ES" (field names as in Linux arch/x86/include/asm/svm.h struct sev_es_save_area).
// Offsets are pinned below and in tests; every field not listed there is zero at reset.
struct SevEsSaveArea {
  VmcbSegment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;  // 0x000
  std::uint64_t vmpl0_ssp, vmpl1_ssp, vmpl2_ssp, vmpl3_ssp;  // 0x0A0
  std::uint64_t u_cet;                                       // 0x0C0
  std::uint8_t reserved_0xc8[2];
  std::uint8_t vmpl;  // 0x0CA
  std::uint8_t cpl;   // 0x0CB
  std::uint8_t reserved_0xcc[4];
  std::uint64_t efer;  // 0x0D0
  std::uint8_t reserved_0xd8[104];
  std::uint64_t xss;  // 0x140
  std::uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip;  // 0x148
  std::uint64_t dr0, dr1, dr2, dr3;  // 0x180
  std::uint64_t dr0_addr_mask, dr1_addr_mask, dr2_addr_mask, dr3_addr_mask;  // 0x1A0
  std::uint8_t reserved_0x1c0[24];
  std::uint64_t rsp, s_cet, ssp, isst_addr, rax;  // 0x1D8
  std::uint64_t star, lstar, cstar, sfmask, kernel_gs_base;  // 0x200
  std::uint64_t sysenter_cs, sysenter_esp, sysenter_eip, cr2;  // 0x228
  std::uint8_t reserved_0x248[32];
  std::uint64_t g_pat;  // 0x268
  std::uint64_t dbgctl, br_from, br_to, last_excp_from, last_excp_to;  // 0x270
  std::uint8_t reserved_0x298[80];
  std::uint32_t pkru;     // 0x2E8
  std::uint32_t tsc_aux;  // 0x2EC
  std::uint8_t reserved_0x2f0[24];
  std::uint64_t rcx, rdx, rbx;  // 0x308
  std::uint64_t reserved_0x320;
  std::uint64_t rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;  // 0x328
  std::uint8_t reserved_0x380[16];
  std::uint64_t guest_exit_info_1, guest_exit_info_2, guest_exit_int_info, guest_nrip;  // 0x390
  std::uint64_t sev_features;  // 0x3B0
  std::uint64_t vintr_ctrl, guest_exit_code, virtual_tom, tlb_id, pcpu_id, event_inj;  // 0x3B8
  std::uint64_t xcr0;  // 0x3E8
  std::uint8_t reserved_0x3f0[16];
  // Floating point area.
  std::uint64_t x87_dp;  // 0x400
  std::uint32_t mxcsr;   // 0x408
  std::uint16_t x87_ftw, x87_fsw, x87_fcw, x87_fop, x87_ds, x87_cs;  // 0x40C
  std::uint64_t x87_rip;  // 0x418
  std::uint8_t fpreg_x87[80];   // 0x420
  std::uint8_t fpreg_xmm[256];  // 0x470
  std::uint8_t fpreg_ymm[256];  // 0x570
  std::uint8_t reserved_0x670[2448];
};
static_assert(std::is_trivially_copyable_v<SevEsSaveArea> && std::is_standard_layout_v<SevEsSaveArea>);
static_assert(sizeof(SevEsSaveArea) == 4096, "one VMSA page");
static_assert(offsetof(SevEsSaveArea, cs) == 0x010);
static_assert(offsetof(SevEsSaveArea, tr) == 0x090);
static_assert(offsetof(SevEsSaveArea, vmpl) == 0x0CA);
static_assert(offsetof(SevEsSaveArea, efer) == 0x0D0);
static_assert(offsetof(SevEsSaveArea, xss) == 0x140);
static_assert(offsetof(SevEsSaveArea, cr4) == 0x148);
static_assert(offsetof(SevEsSaveArea, cr0) == 0x158);
static_assert(offsetof(SevEsSaveArea, dr7) == 0x160);
static_assert(offsetof(SevEsSaveArea, dr6) == 0x168);
static_assert(offsetof(SevEsSaveArea, rflags) == 0x170);
static_assert(offsetof(SevEsSaveArea, rip) == 0x178);
static_assert(offsetof(SevEsSaveArea, rsp) == 0x1D8);
static_assert(offsetof(SevEsSaveArea, rax) == 0x1F8);
static_assert(offsetof(SevEsSaveArea, cr2) == 0x240);
static_assert(offsetof(SevEsSaveArea, g_pat) == 0x268);
static_assert(offsetof(SevEsSaveArea, pkru) == 0x2E8);
static_assert(offsetof(SevEsSaveArea, rcx) == 0x308);
static_assert(offsetof(SevEsSaveArea, rdx) == 0x310);
static_assert(offsetof(SevEsSaveArea, rbp) == 0x328);
static_assert(offsetof(SevEsSaveArea, r15) == 0x378);
static_assert(offsetof(SevEsSaveArea, guest_exit_info_1) == 0x390);
static_assert(offsetof(SevEsSaveArea, sev_features) == 0x3B0);
static_assert(offsetof(SevEsSaveArea, xcr0) == 0x3E8);
static_assert(offsetof(SevEsSaveArea, x87_dp) == 0x400);
static_assert(offsetof(SevEsSaveArea, mxcsr) == 0x408);
static_assert(offsetof(SevEsSaveArea, x87_fcw) == 0x410);
static_assert(offsetof(SevEsSaveArea, x87_rip) == 0x418);
static_assert(offsetof(SevEsSaveArea, fpreg_x87) == 0x420);
static_assert(offsetof(SevEsSaveArea, fpreg_xmm) == 0x470);
static_assert(offsetof(SevEsSaveArea, fpreg_ymm) == 0x570);

// The architectural reset address of the boot processor (AMD APM Vol. 2 §14.1.5).
inline constexpr std::uint32_t kBspResetEip = 0xFFFF'FFF0;

// Reset state of one vCPU as the given VMM programs it before LAUNCH_UPDATE_VMSA.
// `eip` is CS base | IP (the BSP's reset vector, or the firmware's SEV-ES AP reset address).
SevEsSaveArea reset_vmsa(std::uint32_t eip, std::uint64_t sev_features, std::uint32_t vcpu_signature, VmmType vmm);

// Reset state of a vCPU entering a Coconut SVSM in 32-bit protected mode (QEMU + IGVM/SVSM).
SevEsSaveArea svsm_vmsa(std::uint64_t eip, std::uint64_t sev_features, std::uint32_t vcpu_signature);

Bytes to_page(const SevEsSaveArea& vmsa);

}  // namespace cloister::snp_measure
