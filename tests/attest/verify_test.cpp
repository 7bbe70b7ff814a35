#include "cloister/attest/verify.h"

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cloister/attest/policy.h"
#include "cloister/common/encoding.h"
#include "vectors.h"
#include "x509_build.h"
#include "x509_util.h"

namespace cloister::attest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testvec::amd_verifier;
using testvec::kNow;
using testvec::load;
using testvec::load_chain;
using testvec::vectors;

ChainOptions at(std::time_t now, std::optional<Product> p = std::nullopt) { return ChainOptions{now, p}; }

std::string fp(const Bytes& der) {
  Sha256 h = sha256(der);
  return hex_encode(ByteView(h.data(), h.size()));
}

// MANIFEST.md "AMD root certificates": DER sha256 of every compiled-in certificate.
TEST(BuiltinRoots, AreTheAmdCertificates) {
  auto anchors = builtin_amd_anchors();
  ASSERT_EQ(anchors.size(), 3u);
  std::map<Product, std::array<std::string, 3>> want = {
      {Product::milan,
       {"69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
        "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
        "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5"}},
      {Product::genoa,
       {"4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
        "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
        "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372"}},
      {Product::turin,
       {"1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
        "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
        "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c"}}};
  for (const auto& a : anchors) {
    EXPECT_EQ(a.kind, RootKind::amd);
    EXPECT_EQ(fp(a.ark), want[a.product][0]);
    EXPECT_EQ(fp(a.ask), want[a.product][1]);
    EXPECT_EQ(fp(a.asvk), want[a.product][2]);
  }
  EXPECT_TRUE(Verifier::create(anchors));  // every ARK self-signature and ASK/ASVK signature checks
}

TEST(CertExtensions, TurinVcek) {
  auto e = parse_cert_extensions(load("snp/virtee-sev/vcek_turin.der"));
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->product_name, "Turin");
  EXPECT_EQ(e->struct_version, 1);
  EXPECT_EQ(e->fmc_spl, 0);
  EXPECT_EQ(e->bl_spl, 0);
  EXPECT_EQ(e->tee_spl, 0);
  EXPECT_EQ(e->snp_spl, 0);
  EXPECT_EQ(e->ucode_spl, 9);
  ASSERT_TRUE(e->hwid);
  EXPECT_EQ(hex_encode(*e->hwid), "1e550a8ee5cf9f4d");
  EXPECT_FALSE(e->csp_id);
}

TEST(CertExtensions, VlekHasCspIdAndNoHwid) {
  auto e = parse_cert_extensions(load("snp/trustee/test-vlek.der"));
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->product_name, "Milan");
  EXPECT_EQ(e->csp_id, "CN=cc-us-east-2.amazonaws.com");
  EXPECT_FALSE(e->hwid);
  EXPECT_EQ(e->ucode_spl, 217);  // encoded as 02 02 00 D9
  EXPECT_EQ(e->snp_spl, 24);
}

TEST(CertExtensions, MilanVcek) {
  auto e = parse_cert_extensions(load("snp/go-sev-guest/vcek.der"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->product_name, "Milan-B0");
  EXPECT_EQ(e->bl_spl, 2);
  EXPECT_EQ(e->snp_spl, 5);
  EXPECT_EQ(e->ucode_spl, 68);
  EXPECT_FALSE(e->fmc_spl);
  ASSERT_TRUE(e->hwid);
  EXPECT_EQ(e->hwid->size(), 64u);
}

TEST(Verify, EveryVectorVerifiesWithItsChain) {
  for (const auto& v : vectors()) {
    SCOPED_TRACE(v.report);
    auto chain = amd_verifier().verify_chain(load(v.leaf), load_chain(v.chain), at(kNow));
    ASSERT_TRUE(chain) << chain.error().to_string();
    EXPECT_EQ(chain->product, v.product);
    EXPECT_EQ(chain->signer, v.signer);
    EXPECT_EQ(chain->root, RootKind::amd);
    EXPECT_EQ(chain->tcb, v.tcb);
    auto report = amd_verifier().verify_report(load(v.report), *chain);
    ASSERT_TRUE(report) << report.error().to_string();
    EXPECT_EQ(report->product, v.product);
    EXPECT_EQ(report->reported_tcb, v.tcb);
    EXPECT_EQ(hex_encode(ByteView(report->report.measurement.data(), 48)), v.measurement);
  }
}

TEST(Verify, BuiltinRootsSufficeWithoutAPresentedChain) {
  for (const auto& v : vectors()) {
    auto chain = amd_verifier().verify_chain(load(v.leaf), {}, at(kNow));
    ASSERT_TRUE(chain) << v.report << ": " << chain.error().to_string();
    EXPECT_TRUE(amd_verifier().verify_report(load(v.report), *chain)) << v.report;
  }
}

TEST(Verify, TurinChainOnlyVector) {
  auto chain = amd_verifier().verify_chain(load("snp/virtee-sev/vcek_turin.der"),
                                           load_chain("snp/virtee-sev/cert_chain_turin.pem"), at(kNow));
  ASSERT_TRUE(chain) << chain.error().to_string();
  EXPECT_EQ(chain->product, Product::turin);
  EXPECT_EQ(chain->tcb, (TcbVersion{0, 0, 0, 0, 9}));
  EXPECT_EQ(chain->extensions.hwid->size(), 8u);
}

// Each flip in the signed area or in r/s must be rejected (by the parser for reserved/version
// bytes, by the signature otherwise); the chain is verified once and cached.
class BitFlip : public ::testing::TestWithParam<int> {};
TEST_P(BitFlip, EverySingleBitFlipIsRejected) {
  const auto& v = vectors()[static_cast<std::size_t>(GetParam())];
  auto chain = amd_verifier().verify_chain(load(v.leaf), load_chain(v.chain), at(kNow));
  ASSERT_TRUE(chain);
  Bytes good = load(v.report);
  ASSERT_TRUE(amd_verifier().verify_report(good, *chain));
  std::size_t accepted = 0, tried = 0;
  for (std::size_t byte = 0; byte < 0x2A0 + 144; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = good;
      b[byte] ^= static_cast<std::uint8_t>(1u << bit);
      ++tried;
      if (amd_verifier().verify_report(b, *chain)) {
        ++accepted;
        ADD_FAILURE() << "flip at byte 0x" << std::hex << byte << " bit " << bit << " accepted";
      }
    }
  }
  EXPECT_EQ(tried, (0x2A0u + 144u) * 8u);
  EXPECT_EQ(accepted, 0u);
}
INSTANTIATE_TEST_SUITE_P(Vectors, BitFlip, ::testing::Range(0, 5));

TEST(Verify, WrongProductChainIsRejected) {
  const auto& g = vectors()[4];  // Genoa
  auto chain = amd_verifier().verify_chain(load(g.leaf), {}, at(kNow, Product::milan));
  ASSERT_FALSE(chain);
  EXPECT_THAT(chain.error().message(), StartsWith("[chain]"));
  EXPECT_THAT(chain.error().message(), HasSubstr("SEV-Genoa"));
  // A Milan chain presented for a Genoa VCEK does not help either.
  auto chain2 = amd_verifier().verify_chain(load(g.leaf), load_chain("snp/amd-roots/milan/ask_ark.pem"),
                                            at(kNow, Product::milan));
  ASSERT_FALSE(chain2);
  EXPECT_THAT(chain2.error().message(), StartsWith("[chain]"));
  // A v3 report whose CPUID says Genoa cannot be verified with a chain claiming Milan.
  auto genoa_chain = amd_verifier().verify_chain(load(g.leaf), {}, at(kNow));
  ASSERT_TRUE(genoa_chain);
  VerifiedChain lying = *genoa_chain;
  lying.product = Product::milan;
  auto r = amd_verifier().verify_report(load(g.report), lying);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), StartsWith("[product-mismatch]"));
}

TEST(Verify, LeafWithDifferentTcbIsRejected) {
  const auto& v = vectors()[1];
  auto chain = amd_verifier().verify_chain(load(v.leaf), {}, at(kNow));
  ASSERT_TRUE(chain);
  VerifiedChain other = *chain;
  other.tcb.snp = 9;  // as if the certificate vouched for snp 9
  auto r = amd_verifier().verify_report(load(v.report), other);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), StartsWith("[tcb-mismatch]"));
  EXPECT_THAT(r.error().message(), HasSubstr("snp=8"));
  EXPECT_THAT(r.error().message(), HasSubstr("snp=9"));
}

TEST(Verify, ChipIdMustMatchHwid) {
  const auto& v = vectors()[0];
  auto chain = amd_verifier().verify_chain(load(v.leaf), {}, at(kNow));
  ASSERT_TRUE(chain);
  VerifiedChain other = *chain;
  (*other.extensions.hwid)[5] ^= 1;
  auto r = amd_verifier().verify_report(load(v.report), other);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), StartsWith("[chip-id-mismatch]"));
}

TEST(Verify, ReportSignedByAnotherChipIsRejected) {
  // test-report.bin and report_milan.bin have the same TCB but different chips.
  auto chain = amd_verifier().verify_chain(load("snp/virtee-sev/vcek_milan.der"), {}, at(kNow));
  ASSERT_TRUE(chain);
  auto r = amd_verifier().verify_report(load("snp/trustee/test-report.bin"), *chain);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), StartsWith("[report-signature]"));
}

TEST(Verify, VlekOutsideItsValidityIsRejected) {
  const auto& v = vectors()[3];
  std::time_t nov_2026 = 1795824000;  // 2026-11-28
  auto chain = amd_verifier().verify_chain(load(v.leaf), load_chain(v.chain), at(nov_2026));
  ASSERT_FALSE(chain);
  EXPECT_THAT(chain.error().message(), StartsWith("[cert-validity]"));
  EXPECT_THAT(chain.error().message(), HasSubstr("2025-12-10"));
}

// An RSA-4096 key generated once and kept under the build tree (generation takes seconds and
// every TEST runs in its own process under ctest).
EVP_PKEY* rsa4096() {
  static ossl::EvpPkey key = [] {
    std::filesystem::path p = std::filesystem::path(CLOISTER_ATTEST_TEST_CACHE) / "rsa4096.pem";
    if (auto pem = read_file(p)) {
      if (auto k = x509::private_key_from_pem(*pem)) return std::move(*k);
    }
    ossl::EvpPkey k = std::move(*x509::generate_rsa(4096));
    std::filesystem::create_directories(p.parent_path());
    (void)write_file_atomic(p, as_bytes(*x509::private_key_pem(k.get())), 0600);
    return k;
  }();
  return key.get();
}

TEST(Verify, SwappedArkIsRejected) {
  // A self-signed "ARK-Milan" with another key, presented with the real Milan ASK.
  x509::CertSpec spec{"ARK-Milan", 1, kNow - 86400, kNow + 86400, true, {}, 48, "Advanced Micro Devices"};
  auto fake_ark = x509::issue(spec, rsa4096(), nullptr, rsa4096());
  ASSERT_TRUE(fake_ark) << fake_ark.error().to_string();
  std::vector<Bytes> presented = load_chain("snp/amd-roots/milan/ask.pem");
  presented.push_back(x509::to_der(fake_ark->get()));
  auto chain = amd_verifier().verify_chain(load("snp/virtee-sev/vcek_milan.der"), presented, at(kNow));
  ASSERT_FALSE(chain);
  EXPECT_THAT(chain.error().message(), StartsWith("[untrusted-root]"));

  // Trusting the fake ARK with the real ASK fails: the ASK is not signed by it.
  TrustAnchor a{Product::milan, RootKind::amd, x509::to_der(fake_ark->get()), load_chain("snp/amd-roots/milan/ask.pem")[0], {}};
  auto v = Verifier::create({a});
  ASSERT_FALSE(v);
  EXPECT_THAT(v.error().message(), StartsWith("[chain-signature]"));
}

struct MiniChain {
  Bytes ark, ask, leaf;
};
MiniChain make_chain(int ask_salt, int leaf_salt) {
  ossl::EvpPkey leaf_key = std::move(*x509::generate_p384());
  x509::CertSpec ark_spec{"ARK-Test", 1, kNow - 86400, kNow + 86400, true, {}, 48};
  auto ark = x509::issue(ark_spec, rsa4096(), nullptr, rsa4096());
  // The ASK reuses the ARK's key: only the PSS parameters differ between the cases.
  x509::CertSpec ask_spec{"SEV-Test", 2, kNow - 86400, kNow + 86400, true, {}, ask_salt};
  auto ask = x509::issue(ask_spec, rsa4096(), ark->get(), rsa4096());
  x509::CertSpec leaf_spec{"SEV-VCEK", 3, kNow - 86400, kNow + 86400, false,
                           {{"1.3.6.1.4.1.3704.1.2", x509::der_ia5("Genoa")},
                            {"1.3.6.1.4.1.3704.1.3.1", x509::der_integer(1)},
                            {"1.3.6.1.4.1.3704.1.3.2", x509::der_integer(0)},
                            {"1.3.6.1.4.1.3704.1.3.3", x509::der_integer(2)},
                            {"1.3.6.1.4.1.3704.1.3.8", x509::der_integer(3)},
                            {"1.3.6.1.4.1.3704.1.4", Bytes(64, 0xab)}},
                           leaf_salt};
  auto leaf = x509::issue(leaf_spec, leaf_key.get(), ask->get(), rsa4096());
  return {x509::to_der(ark->get()), x509::to_der(ask->get()), x509::to_der(leaf->get())};
}

TEST(Verify, PssParametersAreEnforced) {
  MiniChain good = make_chain(48, 48);
  auto ok = Verifier::create({TrustAnchor{Product::genoa, RootKind::sim, good.ark, good.ask, {}}});
  ASSERT_TRUE(ok) << ok.error().to_string();
  auto chain = ok->verify_chain(good.leaf, {}, at(kNow));
  ASSERT_TRUE(chain) << chain.error().to_string();
  EXPECT_EQ(chain->root, RootKind::sim);
  EXPECT_EQ(chain->tcb, (TcbVersion{0, 1, 0, 2, 3}));

  // OpenSSL's X509_verify accepts any salt the certificate declares; we do not.
  MiniChain salt32 = make_chain(32, 48);
  auto bad_anchor = Verifier::create({TrustAnchor{Product::genoa, RootKind::sim, salt32.ark, salt32.ask, {}}});
  ASSERT_FALSE(bad_anchor);
  EXPECT_THAT(bad_anchor.error().message(), StartsWith("[cert-algorithm]"));
  EXPECT_THAT(bad_anchor.error().message(), HasSubstr("salt length is 32"));

  MiniChain leaf_salt = make_chain(48, 20);
  auto v = Verifier::create({TrustAnchor{Product::genoa, RootKind::sim, leaf_salt.ark, leaf_salt.ask, {}}});
  ASSERT_TRUE(v);
  auto c = v->verify_chain(leaf_salt.leaf, {}, at(kNow));
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), StartsWith("[cert-algorithm]"));
}

TEST(Verify, CacheIsKeyedByCertificatesAndThreadSafe) {
  auto v = Verifier::create(builtin_amd_anchors());
  ASSERT_TRUE(v);
  const auto& vec = vectors()[4];
  Bytes leaf = load(vec.leaf), report = load(vec.report);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto c = v->verify_chain(leaf, {}, at(kNow));
        if (c && v->verify_report(report, *c)) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(v->cache_size(), 1u);
  // A cached chain is not reused outside its validity window.
  EXPECT_FALSE(v->verify_chain(leaf, {}, at(1000)));
  ASSERT_TRUE(v->verify_chain(load(vectors()[0].leaf), {}, at(kNow)));
  EXPECT_EQ(v->cache_size(), 2u);
}

TEST(LoadCertificates, PemBundleAndDer) {
  auto pem = load_certificates(load("snp/trustee/milan_ask_ark_asvk.pem"));
  ASSERT_TRUE(pem);
  EXPECT_EQ(pem->size(), 3u);
  auto der = load_certificates(load("snp/go-sev-guest/vcek.der"));
  ASSERT_TRUE(der);
  EXPECT_EQ(der->size(), 1u);
  EXPECT_FALSE(load_certificates(as_bytes("-----BEGIN nothing")));
  EXPECT_FALSE(load_certificates(as_bytes("garbage")));
}

}  // namespace
}  // namespace cloister::attest
