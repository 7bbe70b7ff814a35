// The SEV hashes table QEMU writes into the firmware-reserved page for measured direct boot
// (QEMU target/i386/sev.c, struct SevHashTable / SevHashTableEntry; OVMF verifies the kernel,
// initrd and cmdline against it in OvmfPkg/Library/BlobVerifierLib/BlobVerifierSevHashes.c).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"
#include "cloister/snp_measure/measure.h"
#include "guid.h"

namespace cloister::snp_measure {

inline constexpr Guid kSevHashTableHeaderGuid = guid("9438d606-4f22-4cc9-b479-a793d411fd21");
inline constexpr Guid kSevKernelEntryGuid = guid("4de79437-abd2-427f-b835-d5b172d2045b");
inline constexpr Guid kSevInitrdEntryGuid = guid("44baf731-3a2f-4bd7-9af1-41e29169781d");
inline constexpr Guid kSevCmdlineEntryGuid = guid("97d02dd8-bd20-4c94-aa78-e7714d36ab2a");

// Header {GUID, u16 length} then three entries {GUID, u16 length (50), SHA-256} in the order
// cmdline, initrd, kernel; the length field counts 16 + 2 + 3 * 50 = 168 bytes, and QEMU pads
// the table with zeroes to a 16-byte multiple (176) before measuring it.
inline constexpr std::size_t kSevHashEntrySize = 16 + 2 + 32;
inline constexpr std::size_t kSevHashTableLength = 16 + 2 + 3 * kSevHashEntrySize;
inline constexpr std::size_t kSevHashTablePaddedLength = (kSevHashTableLength + 15) & ~std::size_t{15};

Bytes sev_hashes_table(const KernelHashes& hashes);
// The table placed at `offset_in_page` within an otherwise zero 4 KiB page (SNP measures the page).
Result<Bytes> sev_hashes_page(const KernelHashes& hashes, std::size_t offset_in_page);

}  // namespace cloister::snp_measure
