// Byte-exact wire form of ATTESTATION_REPORT (AMD SEV-SNP ABI spec 56860 rev 1.58, Table 23; it
// is Table 22 in rev 1.55, before rev 1.58 added LAUNCH_MIT_VECTOR/CURRENT_MIT_VECTOR for version-5
// reports) and of its ECDSA P-384 signature (56860 "Signature Formats").
//
// Per-version layout (details and sources in docs/attest.md, "Report versions"):
//   v2  no CPUID bytes: 0x188..0x19F reserved.
//   v3  CPUID_FAM_ID/CPUID_MOD_ID/CPUID_STEP at 0x188..0x18A (56860 Table 23).
//   v4  no public ABI revision defines it: AMD keeps it under embargo (virtee/sev PR #312, 2025-06),
//       its changes are "internal" (virtee/sev PR #307); firmware 1.55.31 emits it and
//       go-sev-guest PR #158 and virtee/sev parse it with the v3 layout. So do we, reserved
//       bytes included; a v4 report with something at 0x1F8 is rejected rather than guessed at.
//   v5  LAUNCH_MIT_VECTOR 0x1F8, CURRENT_MIT_VECTOR 0x200 (56860 rev 1.58, Table 23; virtee/sev
//       PR #312). Turin TCB layout and 8-byte CHIP_ID depend on the product, not the version. Internal to
// cloister_attest: callers get the typed Report from report.h. Multi-byte integers are
// little-endian on the wire; we only build on little-endian x86-64 (static_assert below), so they
// are read as native integers.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace cloister::attest::wire {

static_assert(std::endian::native == std::endian::little, "SNP structures are little-endian");

#pragma pack(push, 1)
// 56860 "Signature Formats": ECDSA P-384 with SHA-384 signature, 0x200 bytes.
struct EcdsaSignature {
  std::uint8_t r[72];             // 0x000 little-endian, bytes 48..71 zero
  std::uint8_t s[72];             // 0x048
  std::uint8_t reserved[0x170];   // 0x090 .. 0x1FF
};
static_assert(sizeof(EcdsaSignature) == 0x200);

struct AttestationReport {
  std::uint32_t version;                // 0x000
  std::uint32_t guest_svn;              // 0x004
  std::uint64_t policy;                 // 0x008
  std::uint8_t family_id[16];           // 0x010
  std::uint8_t image_id[16];            // 0x020
  std::uint32_t vmpl;                   // 0x030
  std::uint32_t signature_algo;         // 0x034
  std::uint64_t current_tcb;            // 0x038
  std::uint64_t platform_info;          // 0x040
  std::uint32_t signer_info;            // 0x048 bit0 AUTHOR_KEY_EN, bit1 MASK_CHIP_KEY, 4:2 SIGNING_KEY
  std::uint32_t reserved_04c;           // 0x04C
  std::uint8_t report_data[64];         // 0x050
  std::uint8_t measurement[48];         // 0x090
  std::uint8_t host_data[32];           // 0x0C0
  std::uint8_t id_key_digest[48];       // 0x0E0
  std::uint8_t author_key_digest[48];   // 0x110
  std::uint8_t report_id[32];           // 0x140
  std::uint8_t report_id_ma[32];        // 0x160
  std::uint64_t reported_tcb;           // 0x180
  std::uint8_t cpuid_fam_id;            // 0x188 (v3+; reserved in v2)
  std::uint8_t cpuid_mod_id;            // 0x189
  std::uint8_t cpuid_step;              // 0x18A
  std::uint8_t reserved_18b[0x15];      // 0x18B .. 0x19F
  std::uint8_t chip_id[64];             // 0x1A0
  std::uint64_t committed_tcb;          // 0x1E0
  std::uint8_t current_build;           // 0x1E8
  std::uint8_t current_minor;           // 0x1E9
  std::uint8_t current_major;           // 0x1EA
  std::uint8_t reserved_1eb;            // 0x1EB
  std::uint8_t committed_build;         // 0x1EC
  std::uint8_t committed_minor;         // 0x1ED
  std::uint8_t committed_major;         // 0x1EE
  std::uint8_t reserved_1ef;            // 0x1EF
  std::uint64_t launch_tcb;             // 0x1F0
  std::uint64_t launch_mit_vector;      // 0x1F8 (v5; reserved before)
  std::uint64_t current_mit_vector;     // 0x200 (v5; reserved before)
  std::uint8_t reserved_208[0x98];      // 0x208 .. 0x29F
  EcdsaSignature signature;             // 0x2A0 .. 0x49F
};
#pragma pack(pop)

static_assert(sizeof(AttestationReport) == 0x4A0);
static_assert(offsetof(AttestationReport, report_data) == 0x50);
static_assert(offsetof(AttestationReport, reported_tcb) == 0x180);
static_assert(offsetof(AttestationReport, chip_id) == 0x1A0);
static_assert(offsetof(AttestationReport, signature) == 0x2A0);

// Reserved byte ranges [begin, end) that must be zero, per report version (56860 Table 23; the
// signature tail from the ECDSA signature format). Bit-level reserved fields (signer_info 31:5) are checked apart.
struct ReservedRange {
  std::size_t begin, end;
};
inline constexpr ReservedRange kReservedAll[] = {
    {0x04C, 0x050}, {0x1EB, 0x1EC}, {0x1EF, 0x1F0}, {0x208, 0x2A0}, {0x2A0 + 0x90, 0x4A0}};
inline constexpr ReservedRange kReservedV2Cpuid = {0x188, 0x1A0};  // v2: no CPUID fields
inline constexpr ReservedRange kReservedV3Cpuid = {0x18B, 0x1A0};
inline constexpr ReservedRange kReservedPreV5Mit = {0x1F8, 0x208};  // v2..v4: no mitigation vectors

}  // namespace cloister::attest::wire
