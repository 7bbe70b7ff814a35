#include "cloister/attest/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cloister/common/encoding.h"
#include "vectors.h"

namespace cloister::attest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testvec::amd_verifier;
using testvec::kNow;
using testvec::load;
using testvec::vectors;

VerifiedReport verified(std::size_t i) {
  const auto& v = vectors()[i];
  auto chain = amd_verifier().verify_chain(load(v.leaf), {}, ChainOptions{kNow, std::nullopt});
  if (!chain) throw std::runtime_error(chain.error().to_string());
  auto r = amd_verifier().verify_report(load(v.report), *chain);
  if (!r) throw std::runtime_error(r.error().to_string());
  return *r;
}

Bytes unhex(std::string_view s) { return *hex_decode(s); }

TEST(Appraise, DefaultPolicyAcceptsANonDebugReportAndEmitsClaims) {
  auto claims = appraise(verified(4), AppraisalPolicy{});
  ASSERT_TRUE(claims) << claims.error().to_string();
  EXPECT_EQ(claims->tee, "snp");
  EXPECT_EQ(claims->product, "Genoa");
  EXPECT_EQ(claims->measurement, vectors()[4].measurement);
  auto j = nlohmann::json::parse(claims->to_json());
  EXPECT_EQ(j["tee"], "snp");
  EXPECT_EQ(j["signer"], "vcek");
  EXPECT_EQ(j["vmpl"], 0);
  EXPECT_EQ(j["debug"], false);
  EXPECT_EQ(j["reported_tcb"]["snp"], 23);
  EXPECT_EQ(j["host_data"], std::string(64, '0'));
  EXPECT_EQ(j["report_data"], vectors()[4].report_data);
}

TEST(Appraise, DebugReportIsRejectedByDefault) {
  VerifiedReport r = verified(0);  // policy 0xb0000: DEBUG
  auto c = appraise(r, AppraisalPolicy{});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), Errc::permission_denied);
  EXPECT_THAT(c.error().message(), StartsWith("[policy:debug]"));
  EXPECT_THAT(c.error().message(), HasSubstr("0x00000000000b0000"));
  AppraisalPolicy allow;
  allow.allow_debug = true;
  auto ok = appraise(r, allow);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->debug);
}

TEST(Appraise, VmplOutsideTheAllowedSet) {
  AppraisalPolicy p;
  p.allowed_vmpls = {0};
  auto c = appraise(verified(3), p);  // VLEK report at VMPL 1
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), StartsWith("[policy:vmpl]"));
  EXPECT_THAT(c.error().message(), HasSubstr("VMPL 1"));
  p.allowed_vmpls = {1};
  EXPECT_TRUE(appraise(verified(3), p));
}

TEST(Appraise, HostDataMismatch) {
  AppraisalPolicy p;
  p.host_data = Bytes(32, 0x11);
  auto c = appraise(verified(1), p);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), StartsWith("[policy:host-data]"));
  EXPECT_THAT(c.error().message(), HasSubstr("1111111111"));
  p.host_data = Bytes(32, 0);
  EXPECT_TRUE(appraise(verified(1), p));
}

TEST(Appraise, MeasurementReportDataAndKeys) {
  AppraisalPolicy p;
  p.measurements = {Bytes(48, 1), unhex(vectors()[1].measurement)};
  EXPECT_TRUE(appraise(verified(1), p));
  p.measurements = {Bytes(48, 1)};
  auto c = appraise(verified(1), p);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), StartsWith("[policy:measurement]"));

  AppraisalPolicy rd;
  rd.report_data = unhex("0102030405");  // zero-padded to 64
  AppraisalPolicy dbg = rd;
  dbg.allow_debug = true;
  EXPECT_TRUE(appraise(verified(0), dbg));
  dbg.report_data = unhex("0102030406");
  auto bad = appraise(verified(0), dbg);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), StartsWith("[policy:report-data]"));

  AppraisalPolicy idk;
  idk.id_key_digests = {Bytes(48, 7)};
  auto k = appraise(verified(1), idk);
  ASSERT_FALSE(k);
  EXPECT_THAT(k.error().message(), StartsWith("[policy:id-key-digest]"));
}

TEST(Appraise, MinimumTcbAndGuestSvn) {
  AppraisalPolicy p;
  p.min_tcb = *parse_min_tcb("bl=3,tee=0,snp=8,ucode=115");
  EXPECT_TRUE(appraise(verified(1), p));
  p.min_tcb = *parse_min_tcb("snp=9");
  auto c = appraise(verified(1), p);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), StartsWith("[policy:min-tcb]"));
  EXPECT_THAT(c.error().message(), HasSubstr("snp 8 < minimum 9"));
  AppraisalPolicy svn;
  svn.min_guest_svn = 5;
  auto s = appraise(verified(2), svn);  // guest_svn 4
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message(), StartsWith("[policy:guest-svn]"));
  EXPECT_FALSE(parse_min_tcb("bl=256"));
  EXPECT_FALSE(parse_min_tcb("foo=1"));
  EXPECT_FALSE(parse_min_tcb("bl"));
}

TEST(Appraise, SmtProductsAndRoots) {
  AppraisalPolicy p;
  p.allow_smt = false;
  auto c = appraise(verified(1), p);  // policy 0x30000 allows SMT
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), StartsWith("[policy:smt]"));
  AppraisalPolicy prod;
  prod.allowed_products = {Product::milan};
  auto g = appraise(verified(4), prod);
  ASSERT_FALSE(g);
  EXPECT_THAT(g.error().message(), StartsWith("[policy:product]"));
  AppraisalPolicy no_amd;
  no_amd.allow_amd_root = false;
  auto r = appraise(verified(4), no_amd);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), StartsWith("[policy:root]"));
  VerifiedReport sim = verified(4);
  sim.root = RootKind::sim;
  auto s = appraise(sim, AppraisalPolicy{});
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message(), HasSubstr("INSECURE simulator"));
  AppraisalPolicy allow_sim;
  allow_sim.allow_sim_root = true;
  auto ok = appraise(sim, allow_sim);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->tee, "snp-sim");
}

}  // namespace
}  // namespace cloister::attest
