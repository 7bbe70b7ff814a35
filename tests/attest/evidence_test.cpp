#include "cloister/attest/evidence.h"

#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cloister/common/file.h"
#include "testing/testdata.h"
#include "vectors.h"

namespace cloister::attest {
namespace {

using ::testing::HasSubstr;
using testvec::amd_verifier;
using testvec::kNow;
using testvec::load;

std::string load_text(const std::string& rel) {
  Bytes b = load(rel);
  return std::string(b.begin(), b.end());
}

TEST(TrusteeEvidence, RebuildsTheExactReportAndVerifies) {
  for (const char* path : {"kbs/snp-evidence-genoa.json", "snp/trustee/e2e-genoa/evidence.json"}) {
    SCOPED_TRACE(path);
    auto e = parse_trustee_evidence(load_text(path));
    ASSERT_TRUE(e) << e.error().to_string();
    // MANIFEST.md: report.bin was rebuilt from this JSON and its signature verifies.
    EXPECT_EQ(e->report, load("snp/trustee/e2e-genoa/report.bin"));
    EXPECT_EQ(e->leaf, load("snp/trustee/e2e-genoa/vcek.der"));
    auto chain = amd_verifier().verify_chain(e->leaf, e->chain, ChainOptions{kNow, std::nullopt});
    ASSERT_TRUE(chain) << chain.error().to_string();
    EXPECT_TRUE(amd_verifier().verify_report(e->report, *chain));
  }
}

TEST(TrusteeEvidence, RoundTrips) {
  auto e = parse_trustee_evidence(load_text("kbs/snp-evidence-genoa.json"));
  ASSERT_TRUE(e);
  e->chain = testvec::load_chain("snp/amd-roots/genoa/ask_ark.pem");
  auto json = trustee_evidence_json(*e, Product::genoa);
  ASSERT_TRUE(json);
  auto back = parse_trustee_evidence(*json);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->report, e->report);
  EXPECT_EQ(back->leaf, e->leaf);
  EXPECT_EQ(back->chain, e->chain);
}

// A TCB with bytes outside the chosen product's layout cannot be written as named components
// without changing the signed bytes: refused, not altered (found by the attest_evidence fuzzer).
TEST(TrusteeEvidence, WriterRefusesTcbsTheLayoutCannotCarry) {
  auto e = parse_trustee_evidence(load_text("kbs/snp-evidence-genoa.json"));
  ASSERT_TRUE(e);
  Bytes turin_tcb = e->report;
  turin_tcb[0x38 + 2] = 3;  // current_tcb byte 2: TEE in the Turin layout, reserved for Milan/Genoa
  Evidence ev = *e;
  ev.report = turin_tcb;
  auto genoa = trustee_evidence_json(ev, Product::genoa);
  ASSERT_FALSE(genoa);
  EXPECT_THAT(genoa.error().to_string(), HasSubstr("current_tcb 0x"));
  EXPECT_THAT(genoa.error().to_string(), HasSubstr("Genoa TCB layout"));
  // The fuzzer's input: Turin-layout TCBs in a report whose CPUID names no known product. Written
  // as Milan/Genoa layout ("unknown") it is refused; in the Turin layout it round-trips exactly.
  auto crash = parse_trustee_evidence(*read_text_file(cloister::testing::source_dir() /
                                                      "fuzz/corpus/attest_evidence/turin-tcb-unknown-cpuid.json"));
  ASSERT_TRUE(crash) << crash.error().to_string();
  auto turin = trustee_evidence_json(*crash, Product::turin);
  ASSERT_TRUE(turin) << turin.error().to_string();
  auto back = parse_trustee_evidence(*turin);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->report, crash->report);
  EXPECT_FALSE(trustee_evidence_json(*crash, Product::unknown));
}

TEST(TrusteeEvidence, RejectsMalformedJson) {
  EXPECT_FALSE(parse_trustee_evidence("not json"));
  EXPECT_FALSE(parse_trustee_evidence("[]"));
  EXPECT_FALSE(parse_trustee_evidence("{}"));
  std::string good = load_text("kbs/snp-evidence-genoa.json");
  auto j = nlohmann::json::parse(good);
  j["attestation_report"]["measurement"].erase(0);
  auto r = parse_trustee_evidence(j.dump());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), HasSubstr("'measurement' has 47 bytes"));
  auto k = nlohmann::json::parse(good);
  k["attestation_report"]["vmpl"] = -1;
  EXPECT_FALSE(parse_trustee_evidence(k.dump()));
  auto s = nlohmann::json::parse(good);
  s["attestation_report"]["report_data"][3] = 256;
  EXPECT_FALSE(parse_trustee_evidence(s.dump()));
  auto ki = nlohmann::json::parse(good);
  ki["attestation_report"]["key_info"] = 0x20;  // reserved bit
  EXPECT_FALSE(parse_trustee_evidence(ki.dump()));
}

TEST(CertTable, BuildParseAndEvidence) {
  Bytes vcek = load("snp/trustee/e2e-genoa/vcek.der");
  auto chain = testvec::load_chain("snp/amd-roots/genoa/ask_ark.pem");
  auto table = build_cert_table({{std::string(kGuidVcek), vcek},
                                 {std::string(kGuidAsk), chain[0]},
                                 {std::string(kGuidArk), chain[1]},
                                 {"92f81bc3-5811-4d3d-97ff-d19f88dc67ea", Bytes{1, 2, 3}}});
  ASSERT_TRUE(table);
  // The GUID bytes are the hex digits in written order.
  EXPECT_EQ(table->at(0), 0x63);
  EXPECT_EQ(table->at(15), 0xcd);
  auto entries = parse_cert_table(*table);
  ASSERT_TRUE(entries) << entries.error().to_string();
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].guid, kGuidVcek);
  EXPECT_EQ((*entries)[0].data, vcek);
  auto e = evidence_from_cert_table(load("snp/trustee/e2e-genoa/report.bin"), *table);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->leaf, vcek);
  EXPECT_EQ(e->chain.size(), 2u);
  auto v = amd_verifier().verify_chain(e->leaf, e->chain, ChainOptions{kNow, std::nullopt});
  ASSERT_TRUE(v);
  EXPECT_TRUE(amd_verifier().verify_report(e->report, *v));
}

TEST(CertTable, RejectsOutOfBoundsAndUnterminatedTables) {
  auto table = *build_cert_table({{std::string(kGuidVcek), Bytes(100, 1)}});
  Bytes t = table;
  std::uint32_t big = 1000;
  std::memcpy(t.data() + 20, &big, 4);
  auto r = parse_cert_table(t);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), HasSubstr("runs past the table"));
  Bytes overlap = table;
  std::uint32_t zero = 0;
  std::memcpy(overlap.data() + 16, &zero, 4);
  EXPECT_FALSE(parse_cert_table(overlap));
  Bytes unterminated(24, 0xff);
  EXPECT_FALSE(parse_cert_table(unterminated));
  EXPECT_FALSE(parse_cert_table(Bytes{}));
  EXPECT_TRUE(parse_cert_table(Bytes(24, 0)));  // empty table
}

TEST(EvidenceParts, PicksTheLeafOutOfMixedCertificates) {
  std::vector<Bytes> certs = {load("snp/trustee/milan_ask_ark_asvk.pem"), load("snp/trustee/test-vlek.der")};
  auto e = evidence_from_parts(load("snp/trustee/test-vlek-report.bin"), certs);
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->leaf, load("snp/trustee/test-vlek.der"));
  EXPECT_EQ(e->chain.size(), 3u);
  auto v = amd_verifier().verify_chain(e->leaf, e->chain, ChainOptions{kNow, std::nullopt});
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->signer, SigningKey::vlek);
  EXPECT_TRUE(amd_verifier().verify_report(e->report, *v));
}

}  // namespace
}  // namespace cloister::attest
