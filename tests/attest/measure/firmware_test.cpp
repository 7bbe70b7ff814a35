// The OVMF footer table and SEV metadata parser on synthetic and damaged images: every length
// and offset in them is attacker-controlled.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cloister/common/encoding.h"
#include "cloister/common/file.h"
#include "cloister/snp_measure/measure.h"
#include "firmware.h"
#include "testing/testdata.h"

namespace cloister::snp_measure {
namespace {

using cloister::testing::shared_testdata;

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b.at(at) = static_cast<std::uint8_t>(v);
  b.at(at + 1) = static_cast<std::uint8_t>(v >> 8);
}
void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.at(at + static_cast<std::size_t>(i)) = static_cast<std::uint8_t>(v >> (8 * i));
}
Bytes le32(std::uint32_t v) {
  Bytes b(4);
  put32(b, 0, v);
  return b;
}

struct Entry {
  Guid guid;
  Bytes data;
};

struct MetadataDesc {
  std::uint32_t gpa, size, type;
};

// Builds an image of `size` bytes whose footer table holds `entries` (first entry farthest from
// the footer) and, optionally, an ASEV block at `metadata_at`.
struct ImageBuilder {
  std::size_t size = 8192;
  std::vector<Entry> entries;
  std::optional<std::size_t> metadata_at;
  std::vector<MetadataDesc> sections;

  ImageBuilder& entry(const Guid& g, Bytes data) {
    entries.push_back({g, std::move(data)});
    return *this;
  }
  ImageBuilder& metadata(std::size_t at, std::vector<MetadataDesc> descs) {
    metadata_at = at;
    sections = std::move(descs);
    return entry(kSevMetadataGuid, le32(static_cast<std::uint32_t>(size - at)));
  }
  Bytes build() const {
    Bytes img(size, 0);
    if (metadata_at) {
      const std::size_t at = *metadata_at;
      std::copy_n("ASEV", 4, img.begin() + static_cast<std::ptrdiff_t>(at));
      put32(img, at + 4, static_cast<std::uint32_t>(16 + 12 * sections.size()));
      put32(img, at + 8, 1);
      put32(img, at + 12, static_cast<std::uint32_t>(sections.size()));
      for (std::size_t i = 0; i < sections.size(); ++i) {
        put32(img, at + 16 + 12 * i, sections[i].gpa);
        put32(img, at + 20 + 12 * i, sections[i].size);
        put32(img, at + 24 + 12 * i, sections[i].type);
      }
    }
    Bytes table;
    for (const Entry& e : entries) {
      table.insert(table.end(), e.data.begin(), e.data.end());
      Bytes hdr(18);
      put16(hdr, 0, static_cast<std::uint16_t>(e.data.size() + 18));
      std::copy(e.guid.begin(), e.guid.end(), hdr.begin() + 2);
      table.insert(table.end(), hdr.begin(), hdr.end());
    }
    Bytes footer(18);
    put16(footer, 0, static_cast<std::uint16_t>(table.size() + 18));
    std::copy(kFooterTableGuid.begin(), kFooterTableGuid.end(), footer.begin() + 2);
    table.insert(table.end(), footer.begin(), footer.end());
    std::copy(table.begin(), table.end(), img.end() - 32 - static_cast<std::ptrdiff_t>(table.size()));
    return img;
  }
};

// The footer entry's length field sits 50 bytes before the end.
std::size_t footer_len_at(const Bytes& img) { return img.size() - 50; }

ImageBuilder snp_image() {
  ImageBuilder b;
  b.entry(kSevEsResetBlockGuid, le32(0x0080b004))
      .entry(kSevHashTableRvGuid, Bytes{0x00, 0x0c, 0x81, 0x00, 0x00, 0x04, 0x00, 0x00})
      .metadata(0x100, {{0x800000, 0x9000, 1}, {0x809000, 0x1000, 2}, {0x80a000, 0x1000, 3},
                        {0x810000, 0x1000, 0x10}});
  return b;
}

void expect_parse_error(const Bytes& img, const std::string& needle) {
  auto r = FirmwareImage::parse(img);
  ASSERT_FALSE(r) << "parsed, expected an error containing '" << needle << "'";
  EXPECT_EQ(r.error().code(), Errc::parse);
  EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
}

TEST(FirmwareParse, ReadsRealFixtureTables) {
  auto data = read_file(shared_testdata("snp-measure/ovmf_AmdSev_suffix.bin"));
  ASSERT_TRUE(data);
  auto fw = FirmwareImage::parse(*data);
  ASSERT_TRUE(fw) << fw.error().to_string();
  EXPECT_EQ(fw->gpa(), 0xFFFFF000u);
  EXPECT_EQ(*fw->sev_es_reset_eip(), 0x0080b004u);
  EXPECT_EQ(*fw->sev_hashes_table_gpa(), 0x00810c00u);
  EXPECT_TRUE(fw->supports_sev_hashes_table());
  EXPECT_TRUE(fw->has_section(SectionType::snp_kernel_hashes));
  ASSERT_FALSE(fw->metadata().empty());
  EXPECT_EQ(fw->metadata().front().type, SectionType::snp_sec_mem);

  auto x64 = read_file(shared_testdata("snp-measure/ovmf_OvmfX64_suffix.bin"));
  ASSERT_TRUE(x64);
  auto fw64 = FirmwareImage::parse(*x64);
  ASSERT_TRUE(fw64) << fw64.error().to_string();
  EXPECT_FALSE(fw64->supports_sev_hashes_table());  // the entry exists but reserves gpa 0
  EXPECT_FALSE(fw64->has_section(SectionType::snp_kernel_hashes));
}

TEST(FirmwareParse, SyntheticImageRoundTrips) {
  Bytes img = snp_image().build();
  auto fw = FirmwareImage::parse(img);
  ASSERT_TRUE(fw) << fw.error().to_string();
  EXPECT_EQ(fw->gpa(), 0x1'0000'0000u - 8192);
  ASSERT_EQ(fw->metadata().size(), 4u);
  EXPECT_EQ(fw->metadata()[0].gpa, 0x800000u);
  EXPECT_EQ(fw->metadata()[0].size, 0x9000u);
  EXPECT_EQ(fw->metadata()[3].type, SectionType::snp_kernel_hashes);
  EXPECT_EQ(*fw->sev_es_reset_eip(), 0x0080b004u);
}

TEST(FirmwareParse, NoFooterMeansNoTables) {
  Bytes img(4096, 0);
  auto fw = FirmwareImage::parse(img);
  ASSERT_TRUE(fw);
  EXPECT_FALSE(fw->has_table());
  auto eip = fw->sev_es_reset_eip();
  ASSERT_FALSE(eip);
  EXPECT_NE(eip.error().message().find("SEV_ES_RESET_BLOCK"), std::string::npos);
}

TEST(FirmwareParse, TruncatedFixtureLosesItsFooter) {
  auto data = read_file(shared_testdata("snp-measure/ovmf_AmdSev_suffix.bin"));
  ASSERT_TRUE(data);
  // Dropping the last byte shifts the footer: the image no longer carries a table, so an SNP
  // launch (which needs the AP reset address) is refused rather than measured wrongly.
  Bytes cut(data->begin(), data->end() - 1);
  LaunchConfig c;
  c.firmware = cut;
  c.vcpu_signature = 0x800f12;
  auto m = measure(c);
  ASSERT_FALSE(m);
  // 4095 bytes are not whole pages either; either reason is a refusal.
  EXPECT_EQ(m.error().code(), Errc::parse);
  c.mode = Mode::seves;
  auto es = measure(c);
  ASSERT_FALSE(es);
  EXPECT_NE(es.error().message().find("no SEV_ES_RESET_BLOCK entry"), std::string::npos) << es.error().message();
  // Tiny images cannot hold a footer at all.
  EXPECT_TRUE(FirmwareImage::parse(Bytes(49, 0)));
  EXPECT_FALSE(FirmwareImage::parse(Bytes{}));
}

TEST(FirmwareParse, FooterLengthBelowHeaderSize) {
  Bytes img = snp_image().build();
  put16(img, footer_len_at(img), 17);
  expect_parse_error(img, "smaller than its own 18-byte header");
  expect_parse_error(img, "offset 0x1fce");
}

TEST(FirmwareParse, FooterLengthPastImageStart) {
  Bytes img = snp_image().build();
  put16(img, footer_len_at(img), 0xffff);
  expect_parse_error(img, "runs past the start of the image");
}

TEST(FirmwareParse, EntryLengthOutOfRange) {
  Bytes img = snp_image().build();
  // The entry nearest the footer (the metadata pointer) ends at the footer's header.
  const std::size_t entry_len_at = footer_len_at(img) - 18;
  put16(img, entry_len_at, 5);
  expect_parse_error(img, "length 5 is outside 18..");
  put16(img, entry_len_at, 0x7000);
  expect_parse_error(img, "length 28672 is outside 18..");
  expect_parse_error(img, "offset 0x1fbc");
}

TEST(FirmwareParse, StrayBytesInTable) {
  Bytes img = snp_image().build();
  // Grow the table by 4 bytes at its start: not enough for another entry header.
  put16(img, footer_len_at(img), static_cast<std::uint16_t>(img[footer_len_at(img)] + 4));
  expect_parse_error(img, "stray bytes");
}

TEST(FirmwareParse, DuplicateEntriesAreRefused) {
  ImageBuilder b;
  b.entry(kSevEsResetBlockGuid, le32(1)).entry(kSevEsResetBlockGuid, le32(2));
  expect_parse_error(b.build(), "duplicate GUID 00f771de-1a7e-4fcb-890e-68c77e2fb44e");
}

TEST(FirmwareParse, MetadataOffsetOutsideImage) {
  ImageBuilder b;
  b.entry(kSevMetadataGuid, le32(8193));
  expect_parse_error(b.build(), "outside the 8192-byte image");
  ImageBuilder tiny;
  tiny.entry(kSevMetadataGuid, le32(8));  // header would run past the end
  expect_parse_error(tiny.build(), "SEV metadata offset 0x8");
  ImageBuilder short_entry;
  short_entry.entry(kSevMetadataGuid, Bytes{1, 2});
  expect_parse_error(short_entry.build(), "expected a u32 offset");
}

TEST(FirmwareParse, MetadataHeaderChecks) {
  Bytes img = snp_image().build();
  Bytes bad_sig = img;
  bad_sig[0x100] = 'X';
  expect_parse_error(bad_sig, "at offset 0x100: signature is not 'ASEV'");
  Bytes bad_version = img;
  put32(bad_version, 0x108, 2);
  expect_parse_error(bad_version, "unsupported version 2");
  Bytes too_long = img;
  put32(too_long, 0x104, 0x10000);
  expect_parse_error(too_long, "length 65536 is outside");
  Bytes too_many = img;
  put32(too_many, 0x10c, 5);  // the length field still covers 4
  expect_parse_error(too_many, "5 descriptors do not fit");
  Bytes huge_count = img;
  put32(huge_count, 0x10c, 0xffffffff);
  expect_parse_error(huge_count, "descriptors do not fit");
}

TEST(FirmwareParse, MetadataSectionsOutOfRange) {
  auto with = [](MetadataDesc d) {
    ImageBuilder b;
    b.metadata(0x100, {d});
    return b.build();
  };
  expect_parse_error(with({0x800000, 0x1000, 7}), "unknown section type 0x7");
  expect_parse_error(with({0x800800, 0x1000, 1}), "not a non-empty run of 4 KiB pages");
  expect_parse_error(with({0x800000, 0x1800, 1}), "not a non-empty run of 4 KiB pages");
  expect_parse_error(with({0x800000, 0, 1}), "not a non-empty run of 4 KiB pages");
  expect_parse_error(with({0xFFFFF000, 0x2000, 1}), "runs past 4 GiB");
  expect_parse_error(with({0x800000, 0x2000, 2}), "expected one page");
  expect_parse_error(with({0x800000, 0x1000, 7}), "descriptor 0 at offset 0x110");
  // Sections are bounded in total (each page is one SHA-384): a 4 KiB image may not ask for GiBs
  // of zero pages (regression: fuzz/corpus/snp_measure_ovmf/metadata_huge_section).
  expect_parse_error(with({0x800000, 0xf8009000, 1}), "more than the 0x4000000");
  ImageBuilder b;
  b.metadata(0x100, {{0x800000, 0x2000000, 1}, {0x2800000, 0x2000000, 1}, {0x4800000, 0x1000, 1}});
  expect_parse_error(b.build(), "descriptor 2");
  ImageBuilder at_limit;
  at_limit.metadata(0x100, {{0x800000, 0x2000000, 1}, {0x2800000, 0x2000000, 1}});
  EXPECT_TRUE(FirmwareImage::parse(at_limit.build()));
}

TEST(Measure, KernelHashesTableMustFitItsPage) {
  ImageBuilder b = snp_image();
  b.entries[1].data = Bytes{0x80, 0x0f, 0x81, 0x00, 0x00, 0x04, 0x00, 0x00};  // page offset 0xf80
  LaunchConfig c;
  c.firmware = b.build();
  c.vcpu_signature = 0x800f12;
  c.kernel = kernel_hashes({}, {}, std::nullopt);
  auto m = measure(c);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("cross its 4 KiB page"), std::string::npos);
  c.kernel.reset();  // without a kernel the section is zero pages and the offset is irrelevant
  EXPECT_TRUE(measure(c));
}

TEST(Measure, RejectsUnusableConfigurations) {
  LaunchConfig c;
  c.firmware = snp_image().build();
  c.vcpus = 0;
  EXPECT_EQ(measure(c).error().code(), Errc::invalid_argument);
  c.vcpus = 100000;
  EXPECT_EQ(measure(c).error().code(), Errc::limit_exceeded);
  c.vcpus = 2;
  c.mode = Mode::seves;
  c.snp_ovmf_hash = Sha384{};
  EXPECT_EQ(measure(c).error().code(), Errc::invalid_argument);  // a seed only applies to snp
  c.snp_ovmf_hash.reset();
  c.mode = Mode::snp;
  c.firmware.resize(8000);  // not whole pages (and its footer is gone)
  EXPECT_FALSE(measure(c));
  EXPECT_FALSE(snp_firmware_digest(c.firmware));
}

TEST(Measure, ApResetAddressZeroCannotStartAps) {
  ImageBuilder b = snp_image();
  b.entries[0].data = le32(0);
  LaunchConfig c;
  c.firmware = b.build();
  c.vcpus = 1;
  EXPECT_TRUE(measure(c));
  c.vcpus = 2;
  auto m = measure(c);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("AP reset address 0"), std::string::npos);
}

TEST(Measure, SnpDigestDependsOnEveryInput) {
  LaunchConfig base;
  base.firmware = snp_image().build();
  base.vcpus = 2;
  base.vcpu_signature = 0x800f12;
  auto ref = measure(base);
  ASSERT_TRUE(ref) << ref.error().to_string();
  ASSERT_EQ(ref->digest.size(), 48u);
  ASSERT_EQ(ref->vmsas.size(), 2u);
  EXPECT_NE(ref->vmsas[0], ref->vmsas[1]);  // BSP and AP start at different addresses

  auto differs = [&](LaunchConfig c) {
    auto m = measure(c);
    EXPECT_TRUE(m) << m.error().to_string();
    return m && m->digest != ref->digest;
  };
  LaunchConfig c = base;
  c.firmware[10] ^= 1;
  EXPECT_TRUE(differs(c));
  c = base;
  c.vcpus = 3;
  EXPECT_TRUE(differs(c));
  c = base;
  c.vcpu_signature = 0xa00f11;
  EXPECT_TRUE(differs(c));
  c = base;
  c.guest_features = 0x21;
  EXPECT_TRUE(differs(c));
  c = base;
  c.vmm = VmmType::ec2;
  EXPECT_TRUE(differs(c));
  c = base;
  c.kernel = kernel_hashes(as_bytes("vmlinuz"), {}, "console=ttyS0");
  EXPECT_TRUE(differs(c));
  LaunchConfig other_cmdline = c;
  other_cmdline.kernel = kernel_hashes(as_bytes("vmlinuz"), {}, "console=ttyS1");
  auto a = measure(c);
  auto b = measure(other_cmdline);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->digest, b->digest);
}

TEST(Measure, SvsmModeLaysOutOvmfVarsAndSvsm) {
  // A synthetic SVSM: its entry point offset in SVSM_INFO, and a CAA section.
  ImageBuilder svsm;
  svsm.size = 8192;
  svsm.entry(kSvsmInfoGuid, le32(0x1000)).metadata(0x100, {{0x900000, 0x1000, 4}, {0x901000, 0x2000, 1}});
  LaunchConfig c;
  c.mode = Mode::snp_svsm;
  c.firmware = snp_image().build();
  c.svsm = svsm.build();
  c.ovmf_vars_size = 0x84000;
  c.vcpus = 2;
  c.vcpu_signature = 0x800f12;
  auto m = measure(c);
  ASSERT_TRUE(m) << m.error().to_string();
  ASSERT_EQ(m->vmsas.size(), 2u);
  EXPECT_EQ(m->vmsas[0], m->vmsas[1]);  // every vCPU enters the SVSM at the same address
  // SVSM base = 4 GiB - 8192 (OVMF) - 0x84000 (vars) - 8192; entry = base + 0x1000.
  const std::uint64_t entry = 0x1'0000'0000u - 8192 - 0x84000 - 8192 + 0x1000;
  std::uint64_t rip = 0;
  for (int i = 0; i < 8; ++i) rip |= std::uint64_t{m->vmsas[0][0x178 + static_cast<std::size_t>(i)]} << (8 * i);
  EXPECT_EQ(rip, entry);

  LaunchConfig bad = c;
  bad.ovmf_vars_size = 0x123;
  EXPECT_EQ(measure(bad).error().code(), Errc::invalid_argument);
  bad = c;
  bad.vmm = VmmType::ec2;
  EXPECT_EQ(measure(bad).error().code(), Errc::unsupported);
  bad = c;
  bad.svsm = snp_image().build();  // no SVSM_INFO entry
  auto no_info = measure(bad);
  ASSERT_FALSE(no_info);
  EXPECT_NE(no_info.error().to_string().find("SVSM_INFO"), std::string::npos);
}

}  // namespace
}  // namespace cloister::snp_measure
