#include "cloister/attest/verify.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <openssl/pem.h>

#include "cloister/common/encoding.h"
#include "roots_data.h"
#include "x509_util.h"

namespace cloister::attest {

struct LeafKey {
  ossl::EvpPkey pkey;
};

std::string_view root_kind_name(RootKind k) { return k == RootKind::sim ? "sim" : "amd"; }

namespace {

std::string tagged(std::string_view tag, const std::string& msg) {
  std::string out;
  out.reserve(tag.size() + msg.size() + 3);
  out.push_back('[');
  out.append(tag);
  out.append("] ");
  out.append(msg);
  return out;
}

// KDS spec 57230 (VCEK certificate extensions): the AMD arc under which VCEK/VLEK extensions live.
constexpr std::string_view kAmdArc = "1.3.6.1.4.1.3704.1.";

Result<std::int64_t> der_integer(ByteView content, std::string_view oid) {
  const unsigned char* p = content.data();
  ossl::Asn1Integer i(d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(content.size())));
  std::int64_t v = 0;
  if (!i || p != content.data() + content.size() || ASN1_INTEGER_get_int64(&v, i.get()) != 1) {
    ossl::drain_errors();
    return make_error(Errc::parse, tagged(check::kCertParse, "extension " + std::string(oid) + " is not a DER INTEGER"));
  }
  return v;
}

Result<std::uint8_t> der_spl(ByteView content, std::string_view oid) {
  std::int64_t v = CLOISTER_TRY(der_integer(content, oid));
  if (v < 0 || v > 255)
    return make_error(Errc::parse, tagged(check::kCertParse, "SPL " + std::string(oid) + " = " + std::to_string(v) +
                                                                 " is outside 0..255"));
  return static_cast<std::uint8_t>(v);
}

Result<std::string> der_ia5(ByteView content, std::string_view oid, std::size_t max_len) {
  const unsigned char* p = content.data();
  std::unique_ptr<ASN1_IA5STRING, ossl::Deleter<ASN1_IA5STRING_free>> s(
      d2i_ASN1_IA5STRING(nullptr, &p, static_cast<long>(content.size())));
  if (!s || p != content.data() + content.size()) {
    ossl::drain_errors();
    return make_error(Errc::parse, tagged(check::kCertParse, "extension " + std::string(oid) + " is not a DER IA5String"));
  }
  std::size_t len = static_cast<std::size_t>(ASN1_STRING_length(s.get()));
  if (len > max_len)
    return make_error(Errc::parse, tagged(check::kCertParse, "extension " + std::string(oid) + " is too long"));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s.get())), len);  // IA5 bytes
}

template <typename T>
Status set_once(std::optional<T>& slot, T value, std::string_view oid) {
  if (slot) return make_error(Errc::parse, tagged(check::kCertParse, "extension " + std::string(oid) + " appears twice"));
  slot = std::move(value);
  return {};
}

Result<CertExtensions> extensions_of(const X509* cert) {
  CertExtensions out;
  int n = X509_get_ext_count(cert);
  for (int i = 0; i < n; ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    char oid_buf[96];
    int oid_len = OBJ_obj2txt(oid_buf, sizeof oid_buf, X509_EXTENSION_get_object(ext), 1);
    if (oid_len <= 0 || oid_len >= static_cast<int>(sizeof oid_buf)) continue;
    std::string_view oid(oid_buf, static_cast<std::size_t>(oid_len));
    if (!oid.starts_with(kAmdArc)) continue;
    std::string_view sub = oid.substr(kAmdArc.size());
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    ByteView content(ASN1_STRING_get0_data(data), static_cast<std::size_t>(ASN1_STRING_length(data)));
    if (sub == "1") {
      CLOISTER_RETURN_IF_ERROR(set_once(out.struct_version, CLOISTER_TRY(der_integer(content, oid)), oid));
    } else if (sub == "2") {
      CLOISTER_RETURN_IF_ERROR(set_once(out.product_name, CLOISTER_TRY(der_ia5(content, oid, 64)), oid));
    } else if (sub == "3.1") {
      CLOISTER_RETURN_IF_ERROR(set_once(out.bl_spl, CLOISTER_TRY(der_spl(content, oid)), oid));
    } else if (sub == "3.2") {
      CLOISTER_RETURN_IF_ERROR(set_once(out.tee_spl, CLOISTER_TRY(der_spl(content, oid)), oid));
    } else if (sub == "3.3") {
      CLOISTER_RETURN_IF_ERROR(set_once(out.snp_spl, CLOISTER_TRY(der_spl(content, oid)), oid));
    } else if (sub == "3.8") {
      CLOISTER_RETURN_IF_ERROR(set_once(out.ucode_spl, CLOISTER_TRY(der_spl(content, oid)), oid));
    } else if (sub == "3.9") {
      CLOISTER_RETURN_IF_ERROR(set_once(out.fmc_spl, CLOISTER_TRY(der_spl(content, oid)), oid));
    } else if (sub == "4") {
      // The real certificates carry hwID as the raw chip id (no inner OCTET STRING).
      if (content.size() != 64 && content.size() != 8)
        return make_error(Errc::parse, tagged(check::kCertParse, "hwID is " + std::to_string(content.size()) +
                                                                     " bytes (expected 64, or 8 on Turin)"));
      CLOISTER_RETURN_IF_ERROR(set_once(out.hwid, Bytes(content.begin(), content.end()), oid));
    } else if (sub == "5") {
      CLOISTER_RETURN_IF_ERROR(set_once(out.csp_id, CLOISTER_TRY(der_ia5(content, oid, 256)), oid));
    }
  }
  return out;
}

// The TCB a leaf certificate vouches for; every SPL the product uses must be present.
Result<TcbVersion> tcb_of(const CertExtensions& e, Product product) {
  if (!e.bl_spl || !e.tee_spl || !e.snp_spl || !e.ucode_spl)
    return make_error(Errc::parse, tagged(check::kCertParse, "leaf certificate lacks blSPL/teeSPL/snpSPL/ucodeSPL"));
  if (product == Product::turin && !e.fmc_spl)
    return make_error(Errc::parse, tagged(check::kCertParse, "Turin leaf certificate lacks fmcSPL"));
  TcbVersion t;
  t.bootloader = *e.bl_spl;
  t.tee = *e.tee_spl;
  t.snp = *e.snp_spl;
  t.microcode = *e.ucode_spl;
  if (product == Product::turin) t.fmc = *e.fmc_spl;
  return t;
}

struct Cert {
  Bytes der;
  ossl::X509Ptr x;
};

Result<Cert> load_cert(ByteView der) {
  auto x = x509::from_der(der);
  if (!x) return make_error(Errc::parse, tagged(check::kCertParse, x.error().message()));
  return Cert{Bytes(der.begin(), der.end()), std::move(*x)};
}

struct Anchor {
  Product product;
  RootKind kind;
  Cert ark;
  std::vector<Cert> intermediates;  // ASK and/or ASVK, signature-checked against ark
};

bool same_name(const X509_NAME* a, const X509_NAME* b) { return X509_NAME_cmp(a, b) == 0; }

std::string fp_hex(const Sha256& fp) { return hex_encode(ByteView(fp.data(), fp.size())); }

struct OpensslFree {
  void operator()(unsigned char* p) const noexcept { OPENSSL_free(p); }
};

struct Crl {
  ossl::X509Crl crl;
};

}  // namespace

Result<CertExtensions> parse_cert_extensions(ByteView cert_der) {
  auto cert = x509::from_der(cert_der);
  if (!cert) return make_error(Errc::parse, tagged(check::kCertParse, cert.error().message()));
  return extensions_of(cert->get());
}

std::vector<TrustAnchor> builtin_amd_anchors() {
  std::vector<TrustAnchor> out;
  for (const auto& entry : roots::kBuiltinRoots) {
    auto product = parse_product(entry.product);
    TrustAnchor* a = nullptr;
    for (auto& existing : out)
      if (existing.product == *product) a = &existing;
    if (!a) {
      out.push_back(TrustAnchor{*product, RootKind::amd, {}, {}, {}});
      a = &out.back();
    }
    auto certs = load_certificates(as_bytes(entry.pem));
    if (!certs || certs->size() != 1) continue;  // compiled-in data; the tests pin all nine
    Bytes der = std::move(certs->front());
    std::string_view role = entry.role;
    if (role == "ark") a->ark = std::move(der);
    else if (role == "ask") a->ask = std::move(der);
    else a->asvk = std::move(der);
  }
  return out;
}

Result<std::vector<Bytes>> load_certificates(ByteView input) {
  std::vector<Bytes> out;
  std::string_view text = as_chars(input);
  if (text.find("-----BEGIN") == std::string_view::npos) {
    auto cert = x509::from_der(input);
    if (!cert) return forward_error(std::move(cert).error());
    out.push_back(Bytes(input.begin(), input.end()));
    return out;
  }
  ossl::Bio bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
  while (true) {
    ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back(x509::to_der(cert.get()));
  }
  ossl::drain_errors();  // the loop ends on "no start line"
  if (out.empty()) return make_error(Errc::parse, "no PEM CERTIFICATE block found");
  return out;
}

struct Verifier::Impl {
  std::vector<Anchor> anchors;
  mutable std::mutex mu;
  std::vector<std::shared_ptr<const Crl>> crls;    // guarded by mu (add_crl may race verify_chain)
  mutable std::map<Sha256, VerifiedChain> cache;  // guarded by mu
  std::uint64_t crl_generation = 0;                // guarded by mu; bumped by add_crl

  std::vector<std::shared_ptr<const Crl>> crl_snapshot() const {
    std::lock_guard lock(mu);
    return crls;
  }

  Status check_revoked(const X509* cert, const X509* issuer, const std::vector<std::shared_ptr<const Crl>>& list) const {
    for (const auto& cp : list) {
      const Crl& c = *cp;
      if (!same_name(X509_CRL_get_issuer(c.crl.get()), X509_get_subject_name(issuer))) continue;
      X509_REVOKED* rev = nullptr;
      if (X509_CRL_get0_by_cert(c.crl.get(), &rev, const_cast<X509*>(cert)) == 1)  // read-only lookup
        return make_error(Errc::integrity, tagged(check::kRevoked, "'" + x509::common_name(X509_get_subject_name(cert)) +
                                                                       "' is listed in the CRL of '" +
                                                                       x509::common_name(X509_get_subject_name(issuer)) + "'"));
    }
    return {};
  }

  Result<VerifiedChain> build(ByteView leaf_der, std::span<const Bytes> presented, const ChainOptions& opts) const {
    Cert leaf = CLOISTER_TRY(load_cert(leaf_der));
    std::vector<Cert> offered;
    for (const auto& der : presented) {
      Cert c = CLOISTER_TRY(load_cert(der));
      if (x509::is_self_issued(c.x.get())) {
        // A presented root is only a hint: it must be one we already trust, byte for byte.
        bool trusted = std::any_of(anchors.begin(), anchors.end(), [&](const Anchor& a) { return a.ark.der == c.der; });
        if (!trusted)
          return make_error(Errc::integrity,
                            tagged(check::kUntrustedRoot, "presented root '" +
                                                              x509::common_name(X509_get_subject_name(c.x.get())) +
                                                              "' (sha256 " + fp_hex(x509::fingerprint(c.x.get())) +
                                                              ") is not a trusted ARK"));
        continue;
      }
      offered.push_back(std::move(c));
    }
    if (x509::is_self_issued(leaf.x.get()))
      return make_error(Errc::integrity, tagged(check::kChain, "leaf certificate is self-issued"));

    const X509_NAME* leaf_issuer = X509_get_issuer_name(leaf.x.get());
    std::string last_error;
    for (const auto& anchor : anchors) {
      if (opts.product && anchor.product != *opts.product) continue;
      // Candidate intermediates: the anchor's own, then those the evidence carried.
      std::vector<const Cert*> candidates;
      for (const auto& c : anchor.intermediates) candidates.push_back(&c);
      for (const auto& c : offered) candidates.push_back(&c);
      for (const Cert* mid : candidates) {
        if (!same_name(X509_get_subject_name(mid->x.get()), leaf_issuer)) continue;
        if (!same_name(X509_get_issuer_name(mid->x.get()), X509_get_subject_name(anchor.ark.x.get()))) continue;
        auto r = finish(leaf, *mid, anchor, opts);
        if (r) return r;
        last_error = r.error().message();
        // Another candidate of the same name may still be the real issuer.
        if (last_error.starts_with("[chain-signature]")) continue;
        return r;
      }
    }
    if (!last_error.empty()) return make_error(Errc::integrity, last_error);
    std::string scope = opts.product ? " for product " + std::string(product_name(*opts.product)) : "";
    return make_error(Errc::integrity, tagged(check::kChain, "no trusted ASK/ASVK named '" +
                                                                 x509::common_name(leaf_issuer) + "'" + scope +
                                                                 " issues the leaf '" +
                                                                 x509::common_name(X509_get_subject_name(leaf.x.get())) + "'"));
  }

  Result<VerifiedChain> finish(const Cert& leaf, const Cert& mid, const Anchor& anchor, const ChainOptions& opts) const {
    EVP_PKEY* ark_key = X509_get0_pubkey(anchor.ark.x.get());
    EVP_PKEY* mid_key = X509_get0_pubkey(mid.x.get());
    if (!ark_key || !mid_key) return make_error(Errc::parse, tagged(check::kCertParse, "unreadable public key"));
    CLOISTER_RETURN_IF_ERROR(x509::verify_pss_sha384(mid.der, mid.x.get(), ark_key));
    CLOISTER_RETURN_IF_ERROR(x509::verify_pss_sha384(leaf.der, leaf.x.get(), mid_key));
    for (const X509* c : {anchor.ark.x.get(), mid.x.get(), leaf.x.get()})
      CLOISTER_RETURN_IF_ERROR(x509::check_validity(c, opts.now));
    auto crl_list = crl_snapshot();
    CLOISTER_RETURN_IF_ERROR(check_revoked(mid.x.get(), anchor.ark.x.get(), crl_list));
    CLOISTER_RETURN_IF_ERROR(check_revoked(leaf.x.get(), mid.x.get(), crl_list));

    EVP_PKEY* leaf_key = X509_get0_pubkey(leaf.x.get());
    char group[32] = {0};
    std::size_t glen = 0;
    if (!leaf_key || EVP_PKEY_get_base_id(leaf_key) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(leaf_key, group, sizeof group, &glen) != 1 || std::string_view(group) != "secp384r1") {
      ossl::drain_errors();
      return make_error(Errc::integrity, tagged(check::kCertAlgorithm, "leaf key is not ECDSA P-384"));
    }

    VerifiedChain out;
    out.product = anchor.product;
    out.root = anchor.kind;
    out.extensions = CLOISTER_TRY(extensions_of(leaf.x.get()));
    std::string leaf_cn = x509::common_name(X509_get_subject_name(leaf.x.get()));
    std::string mid_cn = x509::common_name(X509_get_subject_name(mid.x.get()));
    bool mid_is_asvk = mid_cn.find("VLEK") != std::string::npos;
    // KDS 57230: a VLEK carries cspID and no hwID and is issued by the ASVK; a VCEK the reverse.
    if (out.extensions.csp_id || leaf_cn.find("VLEK") != std::string::npos) {
      out.signer = SigningKey::vlek;
      if (!mid_is_asvk)
        return make_error(Errc::integrity, tagged(check::kChain, "VLEK '" + leaf_cn + "' is issued by '" + mid_cn +
                                                                     "', which is not an ASVK"));
    } else {
      out.signer = SigningKey::vcek;
      if (mid_is_asvk)
        return make_error(Errc::integrity, tagged(check::kChain, "VCEK '" + leaf_cn + "' is issued by ASVK '" + mid_cn + "'"));
      if (!out.extensions.hwid)
        return make_error(Errc::parse, tagged(check::kCertParse, "VCEK has no hwID extension"));
    }
    if (out.extensions.product_name) {
      auto named = parse_product(*out.extensions.product_name);
      if (!named || *named != anchor.product)
        return make_error(Errc::integrity,
                          tagged(check::kProductMismatch, "leaf productName '" + *out.extensions.product_name +
                                                              "' but the chain is " +
                                                              std::string(product_name(anchor.product))));
    }
    out.tcb = CLOISTER_TRY(tcb_of(out.extensions, anchor.product));
    out.leaf_subject = x509::name_string(X509_get_subject_name(leaf.x.get()));
    out.intermediate_subject = x509::name_string(X509_get_subject_name(mid.x.get()));
    out.root_subject = x509::name_string(X509_get_subject_name(anchor.ark.x.get()));
    out.leaf_fingerprint = sha256(leaf.der);
    out.not_before = std::max({x509::not_before(anchor.ark.x.get()), x509::not_before(mid.x.get()),
                               x509::not_before(leaf.x.get())});
    out.not_after = std::min({x509::not_after(anchor.ark.x.get()), x509::not_after(mid.x.get()),
                              x509::not_after(leaf.x.get())});
    auto key = std::make_shared<LeafKey>();
    EVP_PKEY_up_ref(leaf_key);
    key->pkey.reset(leaf_key);
    out.key = std::move(key);
    return out;
  }
};

Verifier::Verifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;
Verifier::~Verifier() = default;

Result<Verifier> Verifier::create(std::vector<TrustAnchor> anchors) {
  auto impl = std::make_unique<Impl>();
  for (auto& ta : anchors) {
    std::string what = std::string(root_kind_name(ta.kind)) + " " + std::string(product_name(ta.product)) + " ";
    auto ark = load_cert(ta.ark);
    if (!ark) return forward_error(std::move(ark.error()).wrap(what + "ARK"));
    if (!x509::is_self_issued(ark->x.get()))
      return make_error(Errc::integrity, tagged(check::kChain, what + "ARK is not self-issued"));
    EVP_PKEY* ark_key = X509_get0_pubkey(ark->x.get());
    if (!ark_key) return make_error(Errc::parse, what + "ARK has no readable key");
    CLOISTER_RETURN_IF_ERROR(x509::verify_pss_sha384(ark->der, ark->x.get(), ark_key));
    Anchor a{ta.product, ta.kind, std::move(*ark), {}};
    for (Bytes* der : {&ta.ask, &ta.asvk}) {
      if (der->empty()) continue;
      Cert mid = CLOISTER_TRY(load_cert(*der));
      if (!same_name(X509_get_issuer_name(mid.x.get()), X509_get_subject_name(a.ark.x.get())))
        return make_error(Errc::integrity, tagged(check::kChain, what + "ASK/ASVK is not issued by its ARK"));
      CLOISTER_RETURN_IF_ERROR(x509::verify_pss_sha384(mid.der, mid.x.get(), ark_key));
      a.intermediates.push_back(std::move(mid));
    }
    impl->anchors.push_back(std::move(a));
  }
  return Verifier(std::move(impl));
}

Status Verifier::add_crl(ByteView data) {
  ossl::X509Crl crl;
  if (as_chars(data).find("-----BEGIN") != std::string_view::npos) {
    ossl::Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = data.data();
    crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!crl) return forward_error(ossl::error(Errc::parse, "not a DER or PEM X.509 CRL"));
  // The CRL must be signed by a certificate we trust (the ARK for ASK revocations).
  for (const auto& a : impl_->anchors) {
    std::vector<const Cert*> issuers{&a.ark};
    for (const auto& m : a.intermediates) issuers.push_back(&m);
    for (const Cert* iss : issuers) {
      if (!same_name(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(iss->x.get()))) continue;
      if (X509_CRL_verify(crl.get(), X509_get0_pubkey(iss->x.get())) == 1) {
        std::lock_guard lock(impl_->mu);
        impl_->crls.push_back(std::make_shared<const Crl>(Crl{std::move(crl)}));
        impl_->cache.clear();  // earlier verdicts did not know about these revocations
        ++impl_->crl_generation;
        return {};
      }
      ossl::drain_errors();
    }
  }
  return make_error(Errc::integrity, tagged(check::kRevoked, "CRL issued by '" +
                                                                 x509::common_name(X509_CRL_get_issuer(crl.get())) +
                                                                 "' is not signed by a trusted ARK/ASK"));
}

Result<VerifiedChain> Verifier::verify_chain(ByteView leaf, std::span<const Bytes> presented,
                                             const ChainOptions& opts) const {
  // Cache key: every presented certificate and the product restriction; the verification time
  // is checked against the cached validity window instead of being part of the key.
  std::vector<Sha256> hashes;
  for (const auto& d : presented) hashes.push_back(sha256(d));
  std::sort(hashes.begin(), hashes.end());
  Bytes keymat(leaf.begin(), leaf.end());
  for (const auto& h : hashes) keymat.insert(keymat.end(), h.begin(), h.end());
  keymat.push_back(static_cast<std::uint8_t>(opts.product ? 1 + static_cast<int>(*opts.product) : 0));
  Sha256 key = sha256(keymat);
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->cache.find(key);
    if (it != impl_->cache.end() && opts.now >= it->second.not_before && opts.now <= it->second.not_after)
      return it->second;
    generation = impl_->crl_generation;
  }
  VerifiedChain chain = CLOISTER_TRY(impl_->build(leaf, presented, opts));
  std::lock_guard lock(impl_->mu);
  // A CRL added while we were building may postdate our snapshot: answer, but do not cache.
  if (generation == impl_->crl_generation) impl_->cache.insert_or_assign(key, chain);
  return chain;
}

std::size_t Verifier::cache_size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->cache.size();
}

Result<VerifiedReport> Verifier::verify_report(ByteView bytes, const VerifiedChain& chain) const {
  Report report = CLOISTER_TRY(parse_report(bytes));
  if (!chain.key) return make_error(Errc::invalid_argument, "chain has no key");

  // ECDSA P-384 (56860 "Signature Formats"): r and s are little-endian in 72-byte fields; P-384 scalars
  // use the low 48 bytes and the rest must be zero.
  for (const auto* half : {&report.signature_r, &report.signature_s})
    if (std::any_of(half->begin() + 48, half->end(), [](std::uint8_t b) { return b != 0; }))
      return make_error(Errc::integrity, tagged(check::kReportSignature, "signature r/s has non-zero bytes above 48"));
  ossl::Bignum r(BN_lebin2bn(report.signature_r.data(), 48, nullptr));
  ossl::Bignum s(BN_lebin2bn(report.signature_s.data(), 48, nullptr));
  ossl::EcdsaSig sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
    return forward_error(ossl::error(Errc::internal, "building ECDSA_SIG"));
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return forward_error(ossl::error(Errc::internal, "encoding ECDSA_SIG"));
  std::unique_ptr<unsigned char, OpensslFree> der_owner(der);
  Sha384 digest = sha384(bytes.first(kSignedSize));
  ossl::EvpPkeyCtx ctx(EVP_PKEY_CTX_new(chain.key->pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1)
    return forward_error(ossl::error(Errc::internal, "EVP_PKEY_verify_init"));
  if (EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(der_len), digest.data(), digest.size()) != 1) {
    ossl::drain_errors();
    return make_error(Errc::integrity, tagged(check::kReportSignature,
                                              "ECDSA P-384 signature over bytes 0x000-0x29F does not verify with the " +
                                                  std::string(signing_key_name(chain.signer)) + " key"));
  }

  // Bindings between the signed report and the certificate that vouches for its key.
  if (report.signer_info.signing_key != chain.signer)
    return make_error(Errc::integrity, tagged(check::kSigningKeyMismatch,
                                              "report SIGNING_KEY is " +
                                                  std::string(signing_key_name(report.signer_info.signing_key)) +
                                                  " but it was verified with a " +
                                                  std::string(signing_key_name(chain.signer))));
  Product cpuid_product = report.cpuid_product();
  if (report.version >= 3 && cpuid_product != chain.product)
    return make_error(Errc::integrity,
                      tagged(check::kProductMismatch, "report CPUID " + std::to_string(report.cpuid->family) + "/" +
                                                          std::to_string(report.cpuid->model) + " is " +
                                                          std::string(product_name(cpuid_product)) + " but the chain is " +
                                                          std::string(product_name(chain.product))));
  TcbVersion reported = decode_tcb(report.reported_tcb, chain.product);
  if (!(reported == chain.tcb))
    return make_error(Errc::integrity, tagged(check::kTcbMismatch,
                                              "reported_tcb " + tcb_to_string(reported, chain.product) +
                                                  " != certificate TCB " + tcb_to_string(chain.tcb, chain.product)));
  if (chain.signer == SigningKey::vcek && !report.signer_info.mask_chip_key && chain.extensions.hwid) {
    // Turin hwIDs are the first 8 bytes of CHIP_ID (KDS 57230 rev 1.0x, Turin note).
    std::size_t n = chain.product == Product::turin ? 8 : 64;
    const Bytes& hwid = *chain.extensions.hwid;
    if (hwid.size() != n || std::memcmp(hwid.data(), report.chip_id.data(), n) != 0)
      return make_error(Errc::integrity,
                        tagged(check::kChipIdMismatch, "chip_id " + hex_encode(ByteView(report.chip_id.data(), n)) +
                                                           " != certificate hwID " + hex_encode(hwid)));
  }
  VerifiedReport out;
  out.report = std::move(report);
  out.product = chain.product;
  out.root = chain.root;
  out.signer = chain.signer;
  out.reported_tcb = reported;
  return out;
}

}  // namespace cloister::attest
