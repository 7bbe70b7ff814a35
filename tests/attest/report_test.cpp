#include "cloister/attest/report.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cloister/common/encoding.h"
#include "report_wire.h"
#include "vectors.h"

namespace cloister::attest {
namespace {

using ::testing::HasSubstr;
using testvec::load;
using testvec::vectors;

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

// Offsets from AMD SEV-SNP ABI spec 56860, Table 23 (ATTESTATION_REPORT) and the ECDSA P-384 signature format.
TEST(ReportWire, OffsetsMatchTheSpec) {
  using W = wire::AttestationReport;
  EXPECT_EQ(sizeof(W), 0x4A0u);
  EXPECT_EQ(offsetof(W, version), 0x000u);
  EXPECT_EQ(offsetof(W, guest_svn), 0x004u);
  EXPECT_EQ(offsetof(W, policy), 0x008u);
  EXPECT_EQ(offsetof(W, family_id), 0x010u);
  EXPECT_EQ(offsetof(W, image_id), 0x020u);
  EXPECT_EQ(offsetof(W, vmpl), 0x030u);
  EXPECT_EQ(offsetof(W, signature_algo), 0x034u);
  EXPECT_EQ(offsetof(W, current_tcb), 0x038u);
  EXPECT_EQ(offsetof(W, platform_info), 0x040u);
  EXPECT_EQ(offsetof(W, signer_info), 0x048u);
  EXPECT_EQ(offsetof(W, reserved_04c), 0x04Cu);
  EXPECT_EQ(offsetof(W, report_data), 0x050u);
  EXPECT_EQ(offsetof(W, measurement), 0x090u);
  EXPECT_EQ(offsetof(W, host_data), 0x0C0u);
  EXPECT_EQ(offsetof(W, id_key_digest), 0x0E0u);
  EXPECT_EQ(offsetof(W, author_key_digest), 0x110u);
  EXPECT_EQ(offsetof(W, report_id), 0x140u);
  EXPECT_EQ(offsetof(W, report_id_ma), 0x160u);
  EXPECT_EQ(offsetof(W, reported_tcb), 0x180u);
  EXPECT_EQ(offsetof(W, cpuid_fam_id), 0x188u);
  EXPECT_EQ(offsetof(W, cpuid_mod_id), 0x189u);
  EXPECT_EQ(offsetof(W, cpuid_step), 0x18Au);
  EXPECT_EQ(offsetof(W, reserved_18b), 0x18Bu);
  EXPECT_EQ(offsetof(W, chip_id), 0x1A0u);
  EXPECT_EQ(offsetof(W, committed_tcb), 0x1E0u);
  EXPECT_EQ(offsetof(W, current_build), 0x1E8u);
  EXPECT_EQ(offsetof(W, current_minor), 0x1E9u);
  EXPECT_EQ(offsetof(W, current_major), 0x1EAu);
  EXPECT_EQ(offsetof(W, committed_build), 0x1ECu);
  EXPECT_EQ(offsetof(W, committed_major), 0x1EEu);
  EXPECT_EQ(offsetof(W, launch_tcb), 0x1F0u);
  EXPECT_EQ(offsetof(W, launch_mit_vector), 0x1F8u);
  EXPECT_EQ(offsetof(W, current_mit_vector), 0x200u);
  EXPECT_EQ(offsetof(W, reserved_208), 0x208u);
  EXPECT_EQ(offsetof(W, signature), 0x2A0u);
  EXPECT_EQ(offsetof(W, signature) + offsetof(wire::EcdsaSignature, r), 0x2A0u);
  EXPECT_EQ(offsetof(W, signature) + offsetof(wire::EcdsaSignature, s), 0x2E8u);
  EXPECT_EQ(offsetof(W, signature) + offsetof(wire::EcdsaSignature, reserved), 0x330u);
}

TEST(Report, EveryVectorParsesToTheManifestValues) {
  for (const auto& v : vectors()) {
    SCOPED_TRACE(v.report);
    Bytes bytes = load(v.report);
    auto r = parse_report(bytes);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->version, v.version);
    EXPECT_EQ(r->guest_svn, v.guest_svn);
    EXPECT_EQ(r->policy.raw, v.policy);
    EXPECT_EQ(r->vmpl, v.vmpl);
    EXPECT_EQ(r->signature_algo, 1u);
    EXPECT_EQ(hex(r->measurement), v.measurement);
    EXPECT_EQ(hex(r->host_data), std::string(64, '0'));
    EXPECT_EQ(hex(r->report_data), v.report_data);
    EXPECT_EQ(r->reported_tcb, v.reported_tcb);
    EXPECT_EQ(decode_tcb(r->reported_tcb, v.product), v.tcb);
    EXPECT_EQ(hex(r->chip_id), v.chip_id);
    EXPECT_EQ(r->platform_info.raw, v.platform_info);
    EXPECT_EQ(r->signer_info.signing_key, v.signer);
    EXPECT_EQ(serialize_report(*r).at(0x48), v.signer_info & 0xff);
    EXPECT_EQ(r->current_tcb, v.current_tcb);
    EXPECT_EQ(r->committed_tcb, v.committed_tcb);
    EXPECT_EQ(r->launch_tcb, v.launch_tcb);
    EXPECT_EQ(r->current_version, v.current);
    EXPECT_EQ(r->committed_version, v.committed);
    if (v.version >= 3) {
      ASSERT_TRUE(r->cpuid);
      EXPECT_EQ(*r->cpuid, v.cpuid);
      EXPECT_EQ(r->cpuid_product(), v.product);
    } else {
      EXPECT_FALSE(r->cpuid);
      EXPECT_EQ(r->cpuid_product(), Product::unknown);
    }
    EXPECT_FALSE(r->launch_mit_vector);
    // The codec is exact: serializing gives back the signed bytes.
    EXPECT_EQ(serialize_report(*r), bytes);
  }
}

TEST(Report, PolicyBitsDecode) {
  auto r = parse_report(load("snp/go-sev-guest/attestation.bin"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->policy.debug());  // 0xb0000: bit 19
  EXPECT_TRUE(r->policy.smt_allowed());
  EXPECT_TRUE(r->policy.reserved_must_be_one());
  EXPECT_FALSE(r->policy.migrate_ma());
  auto t = parse_report(load("snp/trustee/test-report.bin"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->policy.abi_minor(), 0x1f);
  EXPECT_FALSE(t->policy.debug());
}

TEST(Report, RejectsWrongSize) {
  Bytes b = load("snp/virtee-sev/report_milan.bin");
  b.pop_back();
  auto r = parse_report(b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::parse);
  EXPECT_THAT(r.error().message(), HasSubstr("1183 bytes"));
  b.resize(2000);
  EXPECT_FALSE(parse_report(b));
  EXPECT_FALSE(parse_report(ByteView{}));
}

TEST(Report, RejectsUnknownVersionsAndSignatureAlgorithms) {
  Bytes base = load("snp/virtee-sev/report_milan.bin");
  for (std::uint8_t v : {0, 1, 6, 0xff}) {
    Bytes b = base;
    b[0] = v;
    auto r = parse_report(b);
    ASSERT_FALSE(r) << int(v);
    EXPECT_EQ(r.error().code(), Errc::unsupported);
    EXPECT_THAT(r.error().message(), HasSubstr("version"));
  }
  for (std::uint8_t a : {0, 2, 0x10}) {
    Bytes b = base;
    b[0x34] = a;
    auto r = parse_report(b);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message(), HasSubstr("signature_algo"));
  }
}

// Every reserved byte, per version, must be zero; the error names the offset.
TEST(Report, RejectsEveryNonZeroReservedByte) {
  Bytes v2 = load("snp/virtee-sev/report_milan.bin");
  Bytes v3 = load("snp/trustee/e2e-genoa/report.bin");
  auto reserved = [](std::uint32_t version) {
    std::vector<std::size_t> offs;
    auto add = [&](std::size_t a, std::size_t b) {
      for (std::size_t i = a; i < b; ++i) offs.push_back(i);
    };
    add(0x4C, 0x50);
    add(version >= 3 ? 0x18B : 0x188, 0x1A0);
    add(0x1EB, 0x1EC);
    add(0x1EF, 0x1F0);
    add(version >= 5 ? 0x208 : 0x1F8, 0x2A0);
    add(0x330, 0x4A0);
    return offs;
  };
  for (std::uint32_t version : {2u, 3u, 4u, 5u}) {
    Bytes base = version == 2 ? v2 : v3;
    base[0] = static_cast<std::uint8_t>(version);
    ASSERT_TRUE(parse_report(base)) << version;
    for (std::size_t off : reserved(version)) {
      Bytes b = base;
      b[off] = 0x01;
      auto r = parse_report(b);
      ASSERT_FALSE(r) << "v" << version << " offset " << off;
      char want[16];
      std::snprintf(want, sizeof want, "0x%03zx", off);
      EXPECT_THAT(r.error().message(), HasSubstr(want));
    }
  }
}

TEST(Report, VersionSpecificFields) {
  Bytes b = load("snp/trustee/e2e-genoa/report.bin");
  // v2 has no CPUID fields: the same bytes are reserved.
  Bytes v2 = b;
  v2[0] = 2;
  EXPECT_FALSE(parse_report(v2));
  // v5 adds the mitigation vectors at 0x1F8/0x200.
  Bytes v5 = b;
  v5[0] = 5;
  v5[0x1F8] = 0x11;
  v5[0x200 + 7] = 0x80;
  auto r = parse_report(v5);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->launch_mit_vector, 0x11u);
  EXPECT_EQ(r->current_mit_vector, 0x8000000000000000u);
  EXPECT_EQ(serialize_report(*r), v5);
  Bytes v4 = v5;
  v4[0] = 4;
  EXPECT_FALSE(parse_report(v4));  // 0x1F8 is reserved before v5
}

// Version 4 (firmware 1.55.31; not in any public ABI revision) has the v3 layout: CPUID bytes,
// no mitigation vectors. A Report carrying fields its version lacks serializes without them.
TEST(Report, Version4HasTheVersion3Layout) {
  Bytes v4 = load("snp/trustee/e2e-genoa/report.bin");
  ASSERT_EQ(v4[0], 3);
  v4[0] = 4;
  auto r = parse_report(v4);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->cpuid.has_value());
  EXPECT_EQ(r->cpuid->family, v4[0x188]);
  EXPECT_EQ(r->cpuid->model, v4[0x189]);
  EXPECT_FALSE(r->launch_mit_vector.has_value());
  EXPECT_FALSE(r->current_mit_vector.has_value());
  EXPECT_EQ(serialize_report(*r), v4);

  Report with_extras = *r;
  with_extras.launch_mit_vector = 1;
  with_extras.current_mit_vector = 2;
  EXPECT_EQ(serialize_report(with_extras), v4);
  with_extras.version = 2;  // v2 has no CPUID either
  Bytes as_v2 = serialize_report(with_extras);
  EXPECT_TRUE(std::all_of(as_v2.begin() + 0x188, as_v2.begin() + 0x1A0, [](auto b) { return b == 0; }));
  EXPECT_TRUE(parse_report(as_v2));
}

TEST(Report, SignerInfo) {
  Bytes b = load("snp/virtee-sev/report_milan.bin");
  b[0x48] = 0x03;  // author key + mask chip key
  auto r = parse_report(b);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->signer_info.author_key_en);
  EXPECT_TRUE(r->signer_info.mask_chip_key);
  EXPECT_EQ(r->signer_info.signing_key, SigningKey::vcek);
  b[0x48] = 7 << 2;
  ASSERT_TRUE(parse_report(b));
  EXPECT_EQ(parse_report(b)->signer_info.signing_key, SigningKey::none);
  b[0x48] = 2 << 2;  // SIGNING_KEY 2 is reserved
  EXPECT_FALSE(parse_report(b));
  b[0x48] = 0x20;  // bit 5 is reserved
  EXPECT_FALSE(parse_report(b));
}

TEST(Tcb, MilanGenoaAndTurinLayouts) {
  // DESIGN.md §4 / MANIFEST.md: Milan/Genoa [bl, tee, 0,0,0,0, snp, ucode]; Turin [fmc, bl, tee, snp, 0,0,0, ucode].
  TcbVersion g = decode_tcb(0x191700000000000a, Product::genoa);
  EXPECT_EQ(g, (TcbVersion{0, 10, 0, 23, 25}));
  EXPECT_EQ(encode_tcb(g, Product::genoa), 0x191700000000000au);
  TcbVersion t{1, 2, 3, 4, 9};
  std::uint64_t raw = encode_tcb(t, Product::turin);
  EXPECT_EQ(raw, 0x0900000004030201u);
  EXPECT_EQ(decode_tcb(raw, Product::turin), t);
  EXPECT_NE(decode_tcb(raw, Product::milan), t);
}

TEST(Product, FromCpuidAndNames) {
  EXPECT_EQ(product_from_cpuid({0x19, 0x01, 1}), Product::milan);
  EXPECT_EQ(product_from_cpuid({0x19, 0x11, 1}), Product::genoa);
  EXPECT_EQ(product_from_cpuid({0x19, 0xA0, 2}), Product::genoa);
  EXPECT_EQ(product_from_cpuid({0x1A, 0x02, 0}), Product::turin);
  EXPECT_EQ(product_from_cpuid({0x19, 0x30, 0}), Product::unknown);
  EXPECT_EQ(product_from_cpuid({0x17, 0x01, 0}), Product::unknown);
  EXPECT_EQ(parse_product("Milan-B0"), Product::milan);
  EXPECT_EQ(parse_product("genoa"), Product::genoa);
  EXPECT_EQ(parse_product("TURIN"), Product::turin);
  EXPECT_FALSE(parse_product("siena"));
}

TEST(Report, JsonAndTextNameTheFields) {
  auto r = parse_report(load("snp/trustee/e2e-genoa/report.bin"));
  ASSERT_TRUE(r);
  std::string j = report_to_json(*r, Product::genoa);
  EXPECT_THAT(j, HasSubstr("\"measurement\": \"6a6519d757e68c2e"));
  EXPECT_THAT(j, HasSubstr("\"bootloader\": 10"));
  std::string t = report_to_text(*r, Product::genoa);
  EXPECT_THAT(t, HasSubstr("bl=10 tee=0 snp=23 ucode=25"));
}

}  // namespace
}  // namespace cloister::attest
