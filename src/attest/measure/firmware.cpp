#include "firmware.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "le.h"

namespace cloister::snp_measure {
namespace {

std::string hex_offset(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

Error parse_error(std::string message) { return Error(Errc::parse, std::move(message)); }

bool known_section_type(std::uint32_t t) {
  switch (static_cast<SectionType>(t)) {
    case SectionType::snp_sec_mem:
    case SectionType::snp_secrets:
    case SectionType::cpuid:
    case SectionType::svsm_caa:
    case SectionType::snp_kernel_hashes:
      return true;
  }
  return false;
}

}  // namespace

std::string guid_to_string(ByteView g) {
  if (g.size() != 16) return "<bad guid>";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", load_le32(g.subspan(0, 4)),
                load_le16(g.subspan(4, 2)), load_le16(g.subspan(6, 2)), g[8], g[9], g[10], g[11], g[12], g[13],
                g[14], g[15]);
  return buf;
}

Result<FirmwareImage> FirmwareImage::parse(ByteView data, std::uint64_t end_gpa) {
  if (data.empty()) return make_error(Errc::parse, "firmware image is empty");
  if (data.size() > end_gpa) {
    return make_error(Errc::parse, "firmware image of " + std::to_string(data.size()) +
                                       " bytes does not fit below guest physical address " + hex_offset(end_gpa));
  }
  FirmwareImage image;
  image.data_ = data;
  image.gpa_ = end_gpa - data.size();
  CLOISTER_RETURN_IF_ERROR(image.parse_footer_table());
  CLOISTER_RETURN_IF_ERROR(image.parse_sev_metadata());
  return image;
}

Status FirmwareImage::parse_footer_table() {
  const std::size_t size = data_.size();
  if (size < kFooterReservedTail + kTableEntryHeader) {
    // Too small to carry a table at all: a firmware without one (valid for plain SEV).
    return {};
  }
  const std::size_t footer_off = size - kFooterReservedTail - kTableEntryHeader;
  ByteView footer_guid = data_.subspan(footer_off + 2, 16);
  if (!std::equal(footer_guid.begin(), footer_guid.end(), kFooterTableGuid.begin())) return {};
  has_table_ = true;

  const std::size_t table_len = load_le16(data_.subspan(footer_off, 2));
  if (table_len < kTableEntryHeader) {
    return tl::unexpected(parse_error("footer table at offset " + hex_offset(footer_off) + ": length " +
                                      std::to_string(table_len) + " is smaller than its own 18-byte header"));
  }
  const std::size_t body_len = table_len - kTableEntryHeader;
  if (body_len > footer_off) {
    return tl::unexpected(parse_error("footer table at offset " + hex_offset(footer_off) + ": length " +
                                      std::to_string(table_len) + " runs past the start of the image"));
  }
  // Walk the entries from the footer backwards; `end` is one past the current entry's GUID.
  const std::size_t table_start = footer_off - body_len;
  std::size_t end = footer_off;
  while (end > table_start) {
    if (end - table_start < kTableEntryHeader) {
      return tl::unexpected(parse_error("footer table: " + std::to_string(end - table_start) +
                                        " stray bytes at offset " + hex_offset(table_start) +
                                        " are too short for an entry header"));
    }
    const std::size_t hdr = end - kTableEntryHeader;
    const std::size_t entry_len = load_le16(data_.subspan(hdr, 2));
    if (entry_len < kTableEntryHeader || entry_len > end - table_start) {
      return tl::unexpected(parse_error("footer table entry at offset " + hex_offset(hdr) + ": length " +
                                        std::to_string(entry_len) + " is outside 18.." +
                                        std::to_string(end - table_start)));
    }
    Guid g{};
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(hdr + 2), 16, g.begin());
    const std::size_t entry_start = end - entry_len;
    // Duplicates would let the VMM and a verifier pick different entries; real images have none.
    if (!table_.emplace(g, data_.subspan(entry_start, entry_len - kTableEntryHeader)).second) {
      return tl::unexpected(parse_error("footer table entry at offset " + hex_offset(hdr) + ": duplicate GUID " +
                                        guid_to_string(g)));
    }
    end = entry_start;
  }
  return {};
}

Status FirmwareImage::parse_sev_metadata() {
  auto entry = table_entry(kSevMetadataGuid);
  if (!entry) return {};
  if (entry->size() < 4) {
    return tl::unexpected(parse_error("SEV metadata table entry holds " + std::to_string(entry->size()) +
                                      " bytes, expected a u32 offset"));
  }
  const std::uint64_t from_end = load_le32(entry->subspan(0, 4));
  const std::size_t size = data_.size();
  if (from_end > size || from_end < kSevMetadataHeaderSize) {
    return tl::unexpected(parse_error("SEV metadata offset " + hex_offset(from_end) +
                                      " from the end of the image is outside the " + std::to_string(size) +
                                      "-byte image"));
  }
  const std::size_t start = size - from_end;
  ByteView header = data_.subspan(start, kSevMetadataHeaderSize);
  if (as_chars(header.subspan(0, 4)) != "ASEV") {
    return tl::unexpected(parse_error("SEV metadata at offset " + hex_offset(start) + ": signature is not 'ASEV'"));
  }
  const std::uint32_t length = load_le32(header.subspan(4, 4));
  const std::uint32_t version = load_le32(header.subspan(8, 4));
  const std::uint32_t count = load_le32(header.subspan(12, 4));
  if (version != 1) {
    return tl::unexpected(parse_error("SEV metadata at offset " + hex_offset(start) + ": unsupported version " +
                                      std::to_string(version)));
  }
  if (length < kSevMetadataHeaderSize || length > from_end) {
    return tl::unexpected(parse_error("SEV metadata at offset " + hex_offset(start) + ": length " +
                                      std::to_string(length) + " is outside 16.." + std::to_string(from_end)));
  }
  if (static_cast<std::uint64_t>(count) * kSevMetadataDescSize > length - kSevMetadataHeaderSize) {
    return tl::unexpected(parse_error("SEV metadata at offset " + hex_offset(start) + ": " + std::to_string(count) +
                                      " descriptors do not fit in length " + std::to_string(length)));
  }
  metadata_.reserve(count);
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t off = start + kSevMetadataHeaderSize + std::size_t{i} * kSevMetadataDescSize;
    ByteView d = data_.subspan(off, kSevMetadataDescSize);
    MetadataSection s;
    s.gpa = load_le32(d.subspan(0, 4));
    s.size = load_le32(d.subspan(4, 4));
    const std::uint32_t type = load_le32(d.subspan(8, 4));
    const std::string where = "SEV metadata descriptor " + std::to_string(i) + " at offset " + hex_offset(off);
    if (!known_section_type(type)) {
      return tl::unexpected(parse_error(where + ": unknown section type " + hex_offset(type)));
    }
    s.type = static_cast<SectionType>(type);
    // The PSP measures whole pages; a section that is not page-granular or wraps past 4 GiB
    // cannot be what a VMM launched.
    if (s.gpa % kPageSize != 0 || s.size % kPageSize != 0 || s.size == 0) {
      return tl::unexpected(parse_error(where + ": gpa " + hex_offset(s.gpa) + " size " + hex_offset(s.size) +
                                        " is not a non-empty run of 4 KiB pages"));
    }
    if (std::uint64_t{s.gpa} + s.size > kFourGiB) {
      return tl::unexpected(parse_error(where + ": gpa " + hex_offset(s.gpa) + " + size " + hex_offset(s.size) +
                                        " runs past 4 GiB"));
    }
    // Secrets, CPUID, CAA and hashes sections are single pages (OvmfSevMetadata.asm); sev-snp-measure
    // measures one page at their gpa, so a larger size would be silently ignored there.
    if (s.type != SectionType::snp_sec_mem && s.size != kPageSize) {
      return tl::unexpected(parse_error(where + ": section type " + hex_offset(type) + " has size " +
                                        hex_offset(s.size) + ", expected one page (0x1000)"));
    }
    total += s.size;
    if (total > kMaxMetadataBytes) {
      return tl::unexpected(parse_error(where + ": sections up to here total " + hex_offset(total) +
                                        " bytes, more than the " + hex_offset(kMaxMetadataBytes) +
                                        " an OVMF image can plausibly ask to have measured"));
    }
    metadata_.push_back(s);
  }
  return {};
}

std::optional<ByteView> FirmwareImage::table_entry(const Guid& guid) const {
  auto it = table_.find(guid);
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

bool FirmwareImage::has_section(SectionType type) const {
  return std::any_of(metadata_.begin(), metadata_.end(), [type](const MetadataSection& s) { return s.type == type; });
}

Result<std::uint32_t> FirmwareImage::entry_u32(const Guid& guid, const char* name) const {
  auto entry = table_entry(guid);
  if (!entry) {
    return make_error(Errc::parse, std::string("firmware footer table has no ") + name + " entry (" +
                                       guid_to_string(guid) + ")");
  }
  if (entry->size() < 4) {
    return make_error(Errc::parse, std::string(name) + " entry holds " + std::to_string(entry->size()) +
                                       " bytes, expected at least 4");
  }
  return load_le32(entry->subspan(0, 4));
}

Result<std::uint32_t> FirmwareImage::sev_es_reset_eip() const {
  return entry_u32(kSevEsResetBlockGuid, "SEV_ES_RESET_BLOCK");
}

Result<std::uint32_t> FirmwareImage::sev_hashes_table_gpa() const {
  return entry_u32(kSevHashTableRvGuid, "SEV_HASH_TABLE_RV");
}

bool FirmwareImage::supports_sev_hashes_table() const {
  auto gpa = sev_hashes_table_gpa();
  return gpa && *gpa != 0;
}

Result<std::uint64_t> FirmwareImage::svsm_entry_eip() const {
  const std::uint32_t offset = CLOISTER_TRY(entry_u32(kSvsmInfoGuid, "SVSM_INFO"));
  return gpa_ + offset;
}

}  // namespace cloister::snp_measure
