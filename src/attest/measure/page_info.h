// The SNP launch digest: the PSP folds every page added by SNP_LAUNCH_UPDATE into a running
// SHA-384 by hashing a PAGE_INFO structure that embeds the previous digest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cloister/common/bytes.h"
#include "cloister/common/digest.h"

namespace cloister::snp_measure {

// PAGE_TYPE values, AMD SEV-SNP Firmware ABI Specification 56860, SNP_LAUNCH_UPDATE
// ("PAGE_TYPE Encodings").
enum class PageType : std::uint8_t {
  normal = 0x01,
  vmsa = 0x02,
  zero = 0x03,
  unmeasured = 0x04,
  secrets = 0x05,
  cpuid = 0x06,
};

// PAGE_INFO, AMD SEV-SNP ABI 56860 §8.17.2 "Launch Digest Calculation", Table 67 (rev 1.51):
// 0x00 DIGEST_CUR[48], 0x30 CONTENTS[48], 0x60 LENGTH u16 (0x70), 0x62 PAGE_TYPE u8,
// 0x63 IMI_PAGE (bit 0), 0x64 VMPL3_PERMS, 0x65 VMPL2_PERMS, 0x66 VMPL1_PERMS, 0x67 reserved,
// 0x68 GPA u64.
struct PageInfo {
  std::uint8_t digest_cur[48];
  std::uint8_t contents[48];
  std::uint16_t length;
  std::uint8_t page_type;
  std::uint8_t imi_page;
  std::uint8_t vmpl3_perms;
  std::uint8_t vmpl2_perms;
  std::uint8_t vmpl1_perms;
  std::uint8_t reserved;
  std::uint64_t gpa;
};
static_assert(std::is_trivially_copyable_v<PageInfo> && std::is_standard_layout_v<PageInfo>);
static_assert(sizeof(PageInfo) == 0x70);
static_assert(offsetof(PageInfo, contents) == 0x30);
static_assert(offsetof(PageInfo, length) == 0x60);
static_assert(offsetof(PageInfo, page_type) == 0x62);
static_assert(offsetof(PageInfo, imi_page) == 0x63);
static_assert(offsetof(PageInfo, vmpl3_perms) == 0x64);
static_assert(offsetof(PageInfo, vmpl1_perms) == 0x66);
static_assert(offsetof(PageInfo, gpa) == 0x68);

// The 0x70 bytes the PSP hashes (little-endian host: the struct is the wire image).
Bytes serialize(const PageInfo& info);

// The guest context's launch digest, updated page by page in launch order.
class LaunchDigest {
 public:
  // The RMP records a VMSA page at GPA (u64)-1, page-aligned with bits above 51 cleared
  // (sev-snp-measure gctx.py; SNP ABI 56860 SNP_LAUNCH_UPDATE).
  static constexpr std::uint64_t kVmsaGpa = 0xFFFF'FFFF'F000;

  LaunchDigest() = default;
  explicit LaunchDigest(const Sha384& seed) : digest_(seed) {}

  const Sha384& digest() const { return digest_; }

  // One PAGE_INFO per 4 KiB page; `data.size()` must be a multiple of 4096.
  void add_normal_pages(std::uint64_t gpa, ByteView data);
  void add_vmsa_page(ByteView page);  // exactly 4096 bytes
  void add_zero_pages(std::uint64_t gpa, std::uint64_t length);
  void add_unmeasured_pages(std::uint64_t gpa, std::uint64_t length);
  void add_secrets_page(std::uint64_t gpa);
  void add_cpuid_page(std::uint64_t gpa);

  // One step: digest = SHA-384(PAGE_INFO{digest, contents, type, gpa}).
  void add(PageType type, std::uint64_t gpa, const Sha384& contents);

 private:
  Sha384 digest_{};
};

}  // namespace cloister::snp_measure
