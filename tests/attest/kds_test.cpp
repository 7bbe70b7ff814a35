#include "cloister/attest/kds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cloister/common/encoding.h"
#include "vectors.h"

namespace cloister::attest {
namespace {

using ::testing::HasSubstr;
using testvec::load;

TEST(Kds, VcekUrlFromAReport) {
  auto r = parse_report(load("snp/go-sev-guest/attestation.bin"));
  ASSERT_TRUE(r);
  auto url = kds_vcek_url(*r, Product::milan);
  ASSERT_TRUE(url);
  EXPECT_EQ(*url,
            "https://kdsintf.amd.com/vcek/v1/Milan/"
            "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d"
            "?blSPL=02&teeSPL=00&snpSPL=05&ucodeSPL=68");
  EXPECT_FALSE(kds_vcek_url(*r, Product::unknown));
  r->signer_info.mask_chip_key = true;
  EXPECT_FALSE(kds_vcek_url(*r, Product::milan));
}

TEST(Kds, TurinUrlUsesEightByteHwidAndFmc) {
  Bytes hwid = *hex_decode("1e550a8ee5cf9f4d");
  hwid.resize(64, 0);
  auto url = kds_vcek_url(Product::turin, hwid, TcbVersion{0, 0, 0, 0, 9});
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "https://kdsintf.amd.com/vcek/v1/Turin/1e550a8ee5cf9f4d?fmcSPL=00&blSPL=00&teeSPL=00&snpSPL=00&ucodeSPL=09");
}

TEST(Kds, ChainAndCrlUrls) {
  EXPECT_EQ(*kds_cert_chain_url(Product::genoa, KdsKey::vcek), "https://kdsintf.amd.com/vcek/v1/Genoa/cert_chain");
  EXPECT_EQ(*kds_cert_chain_url(Product::milan, KdsKey::vlek), "https://kdsintf.amd.com/vlek/v1/Milan/cert_chain");
  EXPECT_EQ(*kds_crl_url(Product::turin, KdsKey::vcek), "https://kdsintf.amd.com/vcek/v1/Turin/crl");
}

struct CountingFetcher : HttpFetcher {
  int calls = 0;
  Bytes body;
  Result<Bytes> get(const std::string&) override {
    ++calls;
    return body;
  }
};

TEST(Kds, CacheThenFetcher) {
  cloister::testing::TempDir tmp;
  KdsCache cache(tmp / "kds");
  std::string url = *kds_crl_url(Product::milan, KdsKey::vcek);
  auto miss = kds_get(url, &cache, nullptr);
  ASSERT_FALSE(miss);
  EXPECT_EQ(miss.error().code(), Errc::not_found);
  EXPECT_THAT(miss.error().message(), HasSubstr(url));
  CountingFetcher f;
  f.body = Bytes{1, 2, 3};
  EXPECT_EQ(*kds_get(url, &cache, &f), f.body);
  EXPECT_EQ(*kds_get(url, &cache, &f), f.body);
  EXPECT_EQ(f.calls, 1);  // the second came from the cache
  EXPECT_EQ(cache.path_for(url)->filename(), "vcek_v1_Milan_crl");
  EXPECT_FALSE(cache.path_for("https://example.com/x"));
}

TEST(Kds, CliVerifiesOfflineFromTheCache) {
  cloister::testing::TempDir tmp;
  KdsCache cache(tmp / "kds");
  auto r = parse_report(load("snp/trustee/e2e-genoa/report.bin"));
  ASSERT_TRUE(cache.put(*kds_vcek_url(*r, Product::genoa), load("snp/trustee/e2e-genoa/vcek.der")));
  auto out = cloister::testing::run_process({cloister::testing::bin_path("cloister").string(), "attest", "verify",
                                             cloister::testing::shared_testdata("snp/trustee/e2e-genoa/report.bin").string(),
                                             "--kds-cache", (tmp / "kds").string(), "--now=2025-07-01T00:00:00Z"});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  auto miss = cloister::testing::run_process({cloister::testing::bin_path("cloister").string(), "attest", "verify",
                                              cloister::testing::shared_testdata("snp/virtee-sev/report_milan.bin").string(),
                                              "--product", "milan", "--kds-cache", (tmp / "kds").string()});
  EXPECT_EQ(miss.exit_code, 2);
  EXPECT_THAT(miss.err, HasSubstr("kdsintf.amd.com/vcek/v1/Milan/d49554ec"));
}

}  // namespace
}  // namespace cloister::attest
