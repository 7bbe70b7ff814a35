// Wire layouts pinned to their specifications: PAGE_INFO (SNP ABI 56860 Table 67), the SEV-ES
// VMSA (AMD APM Vol. 2 Table B-4), the SEV hashes table (QEMU target/i386/sev.c) and GUID byte
// order (UEFI 2.10 Appendix A).
#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

#include "cloister/common/digest.h"
#include "cloister/common/encoding.h"
#include "cloister/snp_measure/measure.h"
#include "firmware.h"
#include "guid.h"
#include "page_info.h"
#include "sev_hashes.h"
#include "vmsa.h"

namespace cloister::snp_measure {
namespace {

std::uint64_t u64_at(const Bytes& b, std::size_t off) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{b.at(off + i)} << (8 * i);
  return v;
}
std::uint32_t u32_at(const Bytes& b, std::size_t off) { return static_cast<std::uint32_t>(u64_at(b, off)); }
std::uint16_t u16_at(const Bytes& b, std::size_t off) { return static_cast<std::uint16_t>(b.at(off) | b.at(off + 1) << 8); }

TEST(PageInfoLayout, OffsetsMatchAbiTable67) {
  EXPECT_EQ(sizeof(PageInfo), 0x70u);
  EXPECT_EQ(offsetof(PageInfo, digest_cur), 0x00u);
  EXPECT_EQ(offsetof(PageInfo, contents), 0x30u);
  EXPECT_EQ(offsetof(PageInfo, length), 0x60u);
  EXPECT_EQ(offsetof(PageInfo, page_type), 0x62u);
  EXPECT_EQ(offsetof(PageInfo, imi_page), 0x63u);
  EXPECT_EQ(offsetof(PageInfo, vmpl3_perms), 0x64u);
  EXPECT_EQ(offsetof(PageInfo, vmpl2_perms), 0x65u);
  EXPECT_EQ(offsetof(PageInfo, vmpl1_perms), 0x66u);
  EXPECT_EQ(offsetof(PageInfo, reserved), 0x67u);
  EXPECT_EQ(offsetof(PageInfo, gpa), 0x68u);
}

TEST(PageInfoLayout, SerializesLittleEndianFields) {
  PageInfo info{};
  info.digest_cur[0] = 0xaa;
  info.contents[47] = 0xbb;
  info.length = 0x70;
  info.page_type = 0x02;
  info.gpa = 0x0000'FFFF'FFFF'F000;
  Bytes b = serialize(info);
  ASSERT_EQ(b.size(), 0x70u);
  EXPECT_EQ(b[0x00], 0xaa);
  EXPECT_EQ(b[0x5f], 0xbb);
  EXPECT_EQ(u16_at(b, 0x60), 0x70);
  EXPECT_EQ(b[0x62], 0x02);
  EXPECT_EQ(u64_at(b, 0x68), 0x0000'FFFF'FFFF'F000u);
}

// One launch-digest step built byte by byte, independently of PageInfo.
TEST(LaunchDigestStep, HashesPreviousDigestContentsTypeAndGpa) {
  Sha384 seed{};
  for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i);
  Bytes page(4096, 0x5a);
  LaunchDigest ld(seed);
  ld.add_normal_pages(0xFFFF'F000, page);

  Bytes expect_in(0x70, 0);
  std::memcpy(expect_in.data(), seed.data(), 48);
  Sha384 contents = sha384(page);
  std::memcpy(expect_in.data() + 0x30, contents.data(), 48);
  expect_in[0x60] = 0x70;
  expect_in[0x62] = 0x01;  // normal page
  expect_in[0x68 + 1] = 0xF0;
  expect_in[0x68 + 2] = 0xFF;
  expect_in[0x68 + 3] = 0xFF;
  EXPECT_EQ(ld.digest(), sha384(expect_in));
}

TEST(LaunchDigestStep, MetadataPagesCarryTypeAndZeroContents) {
  const std::pair<void (LaunchDigest::*)(std::uint64_t), PageType> single[] = {
      {&LaunchDigest::add_secrets_page, PageType::secrets},
      {&LaunchDigest::add_cpuid_page, PageType::cpuid},
  };
  for (auto [fn, type] : single) {
    LaunchDigest a;
    (a.*fn)(0x80'0000);
    LaunchDigest b;
    b.add(type, 0x80'0000, Sha384{});
    EXPECT_EQ(a.digest(), b.digest());
  }
  // Zero and unmeasured runs are one PAGE_INFO per page, in ascending order.
  LaunchDigest zero;
  zero.add_zero_pages(0x10'0000, 0x2000);
  LaunchDigest manual;
  manual.add(PageType::zero, 0x10'0000, Sha384{});
  manual.add(PageType::zero, 0x10'1000, Sha384{});
  EXPECT_EQ(zero.digest(), manual.digest());
  LaunchDigest unmeasured;
  unmeasured.add_unmeasured_pages(0x10'0000, 0x1000);
  LaunchDigest one_zero;
  one_zero.add_zero_pages(0x10'0000, 0x1000);
  EXPECT_NE(unmeasured.digest(), one_zero.digest());  // the page type is measured
}

TEST(LaunchDigestStep, VmsaPagesUseTheRmpVmsaAddress) {
  Bytes page(4096, 1);
  LaunchDigest a;
  a.add_vmsa_page(page);
  LaunchDigest b;
  b.add(PageType::vmsa, 0xFFFF'FFFF'F000, sha384(page));
  EXPECT_EQ(a.digest(), b.digest());
}

TEST(VmsaLayout, OffsetsMatchApmTableB4) {
  EXPECT_EQ(sizeof(SevEsSaveArea), 4096u);
  EXPECT_EQ(offsetof(SevEsSaveArea, es), 0x000u);
  EXPECT_EQ(offsetof(SevEsSaveArea, cs), 0x010u);
  EXPECT_EQ(offsetof(SevEsSaveArea, ss), 0x020u);
  EXPECT_EQ(offsetof(SevEsSaveArea, gdtr), 0x060u);
  EXPECT_EQ(offsetof(SevEsSaveArea, ldtr), 0x070u);
  EXPECT_EQ(offsetof(SevEsSaveArea, idtr), 0x080u);
  EXPECT_EQ(offsetof(SevEsSaveArea, tr), 0x090u);
  EXPECT_EQ(offsetof(SevEsSaveArea, vmpl0_ssp), 0x0A0u);
  EXPECT_EQ(offsetof(SevEsSaveArea, efer), 0x0D0u);
  EXPECT_EQ(offsetof(SevEsSaveArea, cr4), 0x148u);
  EXPECT_EQ(offsetof(SevEsSaveArea, cr0), 0x158u);
  EXPECT_EQ(offsetof(SevEsSaveArea, dr7), 0x160u);
  EXPECT_EQ(offsetof(SevEsSaveArea, dr6), 0x168u);
  EXPECT_EQ(offsetof(SevEsSaveArea, rflags), 0x170u);
  EXPECT_EQ(offsetof(SevEsSaveArea, rip), 0x178u);
  EXPECT_EQ(offsetof(SevEsSaveArea, g_pat), 0x268u);
  EXPECT_EQ(offsetof(SevEsSaveArea, rdx), 0x310u);
  EXPECT_EQ(offsetof(SevEsSaveArea, sev_features), 0x3B0u);
  EXPECT_EQ(offsetof(SevEsSaveArea, xcr0), 0x3E8u);
  EXPECT_EQ(offsetof(SevEsSaveArea, mxcsr), 0x408u);
  EXPECT_EQ(offsetof(SevEsSaveArea, x87_fcw), 0x410u);
  EXPECT_EQ(offsetof(SevEsSaveArea, fpreg_ymm), 0x570u);
}

TEST(VmsaContents, QemuBspResetState) {
  Bytes p = to_page(reset_vmsa(kBspResetEip, 0x21, 0x800f12, VmmType::qemu));
  ASSERT_EQ(p.size(), 4096u);
  EXPECT_EQ(u16_at(p, 0x010), 0xf000);       // CS selector
  EXPECT_EQ(u16_at(p, 0x012), 0x9b);         // CS attributes
  EXPECT_EQ(u32_at(p, 0x014), 0xffffu);      // CS limit
  EXPECT_EQ(u64_at(p, 0x018), 0xffff0000u);  // CS base
  EXPECT_EQ(u16_at(p, 0x072), 0x82);         // LDTR type
  EXPECT_EQ(u16_at(p, 0x092), 0x8b);         // TR busy TSS
  EXPECT_EQ(u64_at(p, 0x0D0), 0x1000u);      // EFER.SVME
  EXPECT_EQ(u64_at(p, 0x148), 0x40u);        // CR4.MCE
  EXPECT_EQ(u64_at(p, 0x158), 0x10u);        // CR0.ET
  EXPECT_EQ(u64_at(p, 0x160), 0x400u);
  EXPECT_EQ(u64_at(p, 0x168), 0xffff0ff0u);
  EXPECT_EQ(u64_at(p, 0x170), 0x2u);
  EXPECT_EQ(u64_at(p, 0x178), 0xfff0u);  // RIP
  EXPECT_EQ(u64_at(p, 0x268), 0x0007040600070406u);
  EXPECT_EQ(u64_at(p, 0x310), 0x800f12u);  // RDX = CPUID signature
  EXPECT_EQ(u64_at(p, 0x3B0), 0x21u);      // SEV_FEATURES
  EXPECT_EQ(u64_at(p, 0x3E8), 0x1u);       // XCR0
  EXPECT_EQ(u32_at(p, 0x408), 0x1f80u);    // MXCSR
  EXPECT_EQ(u16_at(p, 0x410), 0x37f);      // x87 FCW
}

TEST(VmsaContents, ApStartsAtFirmwareResetAddress) {
  Bytes p = to_page(reset_vmsa(0x0080b004, 0x1, 0x800f12, VmmType::qemu));
  EXPECT_EQ(u64_at(p, 0x018), 0x00800000u);  // CS base
  EXPECT_EQ(u64_at(p, 0x178), 0xb004u);      // RIP
}

TEST(VmsaContents, Ec2AndGceDiffer) {
  Bytes bsp = to_page(reset_vmsa(kBspResetEip, 0x1, 0x800f12, VmmType::ec2));
  Bytes ap = to_page(reset_vmsa(0x0080b004, 0x1, 0x800f12, VmmType::ec2));
  EXPECT_EQ(u16_at(bsp, 0x012), 0x9a);  // CS accessed bit clear on the BSP only
  EXPECT_EQ(u16_at(ap, 0x012), 0x9b);
  EXPECT_EQ(u16_at(bsp, 0x022), 0x92);  // SS
  EXPECT_EQ(u16_at(bsp, 0x092), 0x83);  // TR
  EXPECT_EQ(u64_at(bsp, 0x310), 0x600u);
  EXPECT_EQ(u32_at(bsp, 0x408), 0u);
  EXPECT_EQ(u16_at(bsp, 0x410), 0);

  Bytes gce = to_page(reset_vmsa(kBspResetEip, 0x1, 0x800f12, VmmType::gce));
  EXPECT_EQ(u16_at(gce, 0x012), 0x9b);
  EXPECT_EQ(u64_at(gce, 0x268), 0x00070106u);  // GCE's PAT
  EXPECT_EQ(u64_at(gce, 0x310), 0x600u);
}

TEST(VmsaContents, SvsmEntersProtectedMode) {
  Bytes p = to_page(svsm_vmsa(0xffc01000, 0x1, 0x800f12));
  EXPECT_EQ(u16_at(p, 0x010), 8);
  EXPECT_EQ(u16_at(p, 0x012), 0xc9b);
  EXPECT_EQ(u32_at(p, 0x014), 0xffffffffu);
  EXPECT_EQ(u16_at(p, 0x000), 16);
  EXPECT_EQ(u64_at(p, 0x158), 0x11u);  // CR0.PE | CR0.ET
  EXPECT_EQ(u64_at(p, 0x178), 0xffc01000u);
}

TEST(SevHashesTable, LayoutMatchesQemu) {
  KernelHashes h;
  h.kernel.fill(0x11);
  h.initrd.fill(0x22);
  h.cmdline.fill(0x33);
  Bytes t = sev_hashes_table(h);
  ASSERT_EQ(t.size(), 0xB0u);  // 168 rounded up to 16
  EXPECT_EQ(hex_encode(ByteView(t).subspan(0, 16)), hex_encode(kSevHashTableHeaderGuid));
  EXPECT_EQ(u16_at(t, 16), 168);
  // cmdline, initrd, kernel; each {GUID, u16 50, SHA-256}.
  EXPECT_EQ(hex_encode(ByteView(t).subspan(18, 16)), hex_encode(kSevCmdlineEntryGuid));
  EXPECT_EQ(u16_at(t, 34), 50);
  EXPECT_EQ(t[36], 0x33);
  EXPECT_EQ(hex_encode(ByteView(t).subspan(68, 16)), hex_encode(kSevInitrdEntryGuid));
  EXPECT_EQ(t[86], 0x22);
  EXPECT_EQ(hex_encode(ByteView(t).subspan(118, 16)), hex_encode(kSevKernelEntryGuid));
  EXPECT_EQ(t[136], 0x11);
  EXPECT_EQ(t[167], 0x11);
  for (std::size_t i = 168; i < t.size(); ++i) EXPECT_EQ(t[i], 0) << i;
}

TEST(SevHashesTable, PagePlacementIsBoundsChecked) {
  KernelHashes h{};
  auto page = sev_hashes_page(h, 0xc00);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->size(), 4096u);
  EXPECT_EQ(hex_encode(ByteView(*page).subspan(0xc00, 16)), hex_encode(kSevHashTableHeaderGuid));
  EXPECT_TRUE(sev_hashes_page(h, 4096 - 0xB0));
  auto crossing = sev_hashes_page(h, 4096 - 0xB0 + 1);
  ASSERT_FALSE(crossing);
  EXPECT_NE(crossing.error().message().find("cross"), std::string::npos);
}

TEST(KernelHashes, CmdlineIsHashedWithItsNul) {
  const auto nul = sha256(Bytes{0});
  EXPECT_EQ(kernel_hashes({}, {}, std::nullopt).cmdline, nul);
  EXPECT_EQ(kernel_hashes({}, {}, "").cmdline, nul);
  const std::string with_nul("ro quiet\0", 9);
  EXPECT_EQ(kernel_hashes({}, {}, "ro quiet").cmdline, sha256(as_bytes(with_nul)));
  EXPECT_EQ(kernel_hashes(as_bytes("k"), as_bytes("i"), std::nullopt).kernel, sha256(as_bytes("k")));
  EXPECT_EQ(kernel_hashes(as_bytes("k"), {}, std::nullopt).initrd, sha256({}));
}

TEST(Guid, MixedEndianOnDisk) {
  // 96b582de-1fb2-45f7-baea-a366c55a082d as it appears at the end of the fixtures.
  EXPECT_EQ(hex_encode(kFooterTableGuid), "de82b596b21ff745baeaa366c55a082d");
  EXPECT_EQ(guid_to_string(kFooterTableGuid), "96b582de-1fb2-45f7-baea-a366c55a082d");
}

TEST(CpuSignature, FamilyModelStepping) {
  EXPECT_EQ(cpu_signature(23, 1, 2), 0x800f12u);   // EPYC (Naples)
  EXPECT_EQ(cpu_signature(23, 49, 0), 0x830f10u);  // Rome
  EXPECT_EQ(cpu_signature(25, 1, 1), 0xa00f11u);   // Milan
  EXPECT_EQ(cpu_signature(25, 17, 0), 0xa10f10u);  // Genoa
  EXPECT_EQ(cpu_signature(26, 0, 0), 0xb00f00u);   // Turin
  EXPECT_EQ(cpu_signature(6, 0x55, 4), 0x50654u);  // family <= 0xF has no extended family
  EXPECT_EQ(*vcpu_type_signature("EPYC-v4"), 0x800f12u);
  EXPECT_EQ(*vcpu_type_signature("EPYC-Milan"), 0xa00f11u);
  EXPECT_EQ(*vcpu_type_signature("EPYC-Genoa"), 0xa10f10u);
  auto unknown = vcpu_type_signature("Skylake");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::not_found);
  EXPECT_EQ(vcpu_type_names().size(), 16u);
}

TEST(ModeNames, RoundTrip) {
  for (Mode m : {Mode::sev, Mode::seves, Mode::snp, Mode::snp_svsm}) EXPECT_EQ(*parse_mode(mode_name(m)), m);
  EXPECT_FALSE(parse_mode("snp:ovmf-hash"));  // a CLI action, not a launch mode
  EXPECT_EQ(*parse_vmm_type("QEMU"), VmmType::qemu);
  EXPECT_EQ(*parse_vmm_type("ec2"), VmmType::ec2);
  EXPECT_EQ(*parse_vmm_type("gce"), VmmType::gce);
  EXPECT_FALSE(parse_vmm_type("azure"));
}

}  // namespace
}  // namespace cloister::snp_measure
