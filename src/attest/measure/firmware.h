// Parser for the tables an OVMF (or Coconut SVSM) image publishes to the hypervisor at its end:
// the GUIDed footer table and the SEV metadata it points to. The image is untrusted input: every
// length and offset is bounds-checked and errors name the offset in the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "cloister/common/bytes.h"
#include "cloister/common/result.h"
#include "guid.h"

namespace cloister::snp_measure {

inline constexpr std::uint64_t kFourGiB = 0x1'0000'0000;
inline constexpr std::uint64_t kPageSize = 4096;
// Upper bound on the summed size of the SEV metadata sections. edk2's OvmfSevMetadata.asm ranges
// total 124 KiB in the AmdSev and OvmfX64 builds; every page of a section costs one PAGE_INFO
// SHA-384, so a 4 KiB image claiming ~4 GiB of sections would cost a million hashes (the
// snp_measure_ovmf fuzzer found such an input taking 61 s under ASan). 64 MiB is 500x real use.
inline constexpr std::uint64_t kMaxMetadataBytes = 64ull << 20;

// GUIDs of the footer table and its entries: edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm
// (OVMF), coconut-svsm bootlib/src/firmware.rs (SVSM_INFO).
inline constexpr Guid kFooterTableGuid = guid("96b582de-1fb2-45f7-baea-a366c55a082d");
inline constexpr Guid kSevHashTableRvGuid = guid("7255371f-3a3b-4b04-927b-1da6efa8d454");
inline constexpr Guid kSevEsResetBlockGuid = guid("00f771de-1a7e-4fcb-890e-68c77e2fb44e");
inline constexpr Guid kSevMetadataGuid = guid("dc886566-984a-4798-a75e-5585a7bf67cc");
inline constexpr Guid kSvsmInfoGuid = guid("a789a612-0597-4c4b-a49f-cbb1fe9d1ddd");

// Layout at the end of the image (ResetVectorVtf0.asm): the last 32 bytes are the reset vector
// area; just before them the footer entry {u16 total table length, GUID}; before that the
// entries, each {data, u16 entry length (incl. these 18 bytes), GUID}, walked backwards.
inline constexpr std::size_t kFooterReservedTail = 32;
inline constexpr std::size_t kTableEntryHeader = 2 + 16;

// SEV metadata section types (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm,
// coconut-svsm bootlib/src/firmware.rs SEV_META_DESC_TYPE_*).
enum class SectionType : std::uint32_t {
  snp_sec_mem = 1,           // pre-validated (zero) memory used by SEC
  snp_secrets = 2,           // the SNP secrets page
  cpuid = 3,                 // the SNP CPUID page
  svsm_caa = 4,              // the SVSM calling-area page
  snp_kernel_hashes = 0x10,  // the page holding the SEV hashes table
};

struct MetadataSection {
  std::uint32_t gpa = 0;
  std::uint32_t size = 0;
  SectionType type = SectionType::snp_sec_mem;
};

// SEV metadata header and descriptor ("ASEV", OvmfSevMetadata.asm): u8 signature[4], u32 length
// (header + descriptors), u32 version (1), u32 descriptor count; descriptors {u32 gpa, u32 size,
// u32 type}.
inline constexpr std::size_t kSevMetadataHeaderSize = 16;
inline constexpr std::size_t kSevMetadataDescSize = 12;

class FirmwareImage {
 public:
  // `data` must outlive the image. `end_gpa`: the guest physical address just past the image.
  static Result<FirmwareImage> parse(ByteView data, std::uint64_t end_gpa = kFourGiB);

  ByteView data() const { return data_; }
  std::uint64_t gpa() const { return gpa_; }

  bool has_table() const { return has_table_; }
  // The data of a footer-table entry, if present.
  std::optional<ByteView> table_entry(const Guid& guid) const;
  const std::vector<MetadataSection>& metadata() const { return metadata_; }
  bool has_section(SectionType type) const;

  // First u32 of the SEV-ES reset block: the AP reset address (CS base | IP).
  Result<std::uint32_t> sev_es_reset_eip() const;
  // First u32 of the SEV hash table entry: the table's guest physical address.
  Result<std::uint32_t> sev_hashes_table_gpa() const;
  // SEV/SEV-ES can measure a kernel only when the firmware reserves a hashes table.
  bool supports_sev_hashes_table() const;
  // SVSM: the entry point, given as an offset from the image start in SVSM_INFO.
  Result<std::uint64_t> svsm_entry_eip() const;

 private:
  Status parse_footer_table();
  Status parse_sev_metadata();
  Result<std::uint32_t> entry_u32(const Guid& guid, const char* name) const;

  ByteView data_;
  std::uint64_t gpa_ = 0;
  bool has_table_ = false;
  std::map<Guid, ByteView> table_;
  std::vector<MetadataSection> metadata_;
};

}  // namespace cloister::snp_measure
