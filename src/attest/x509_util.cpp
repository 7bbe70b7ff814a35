#include "x509_util.h"

#include <openssl/rsa.h>

#include "cloister/common/encoding.h"

namespace cloister::attest::x509 {

Result<ossl::X509Ptr> from_der(ByteView der) {
  const unsigned char* p = der.data();
  ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return forward_error(ossl::error(Errc::parse, "not a DER X.509 certificate"));
  if (p != der.data() + der.size())
    return make_error(Errc::parse, "trailing bytes after the DER certificate");
  return cert;
}

Bytes to_der(const X509* cert) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(cert, &buf);
  if (len <= 0) return {};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

Sha256 fingerprint(const X509* cert) { return sha256(to_der(cert)); }

std::string name_string(const X509_NAME* name) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string common_name(const X509_NAME* name) {
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),  // ASN.1 string bytes
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

bool is_self_issued(const X509* cert) {
  return X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0;
}

namespace {

// One DER TLV header at `pos`: definite lengths only, at most 4 length bytes (X.690 §8.1.3).
struct Tlv {
  std::size_t header = 0, length = 0;
};
Result<Tlv> read_tlv(ByteView der, std::size_t pos) {
  if (pos + 2 > der.size()) return make_error(Errc::parse, "DER: truncated header");
  std::size_t i = pos + 1;
  std::size_t len = der[i++];
  if (len & 0x80) {
    std::size_t n = len & 0x7f;
    if (n == 0 || n > 4) return make_error(Errc::parse, "DER: unsupported length form");
    if (i + n > der.size()) return make_error(Errc::parse, "DER: truncated length");
    len = 0;
    for (std::size_t k = 0; k < n; ++k) len = (len << 8) | der[i++];
  }
  if (len > der.size() - i) return make_error(Errc::parse, "DER: content runs past the end");
  return Tlv{i - pos, len};
}

Status check_pss_algorithm(const X509_ALGOR* alg, std::string_view which) {
  auto bad = [which](std::string what) {
    return make_error(Errc::integrity, "[cert-algorithm] " + std::string(which) + ": " + what +
                                           " (AMD chain requires RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48)");
  };
  const ASN1_OBJECT* obj = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, alg);
  if (OBJ_obj2nid(obj) != NID_rsassaPss) return bad("signature algorithm is not RSASSA-PSS");
  if (ptype != V_ASN1_SEQUENCE || !pval) return bad("PSS parameters missing");
  const auto* seq = static_cast<const ASN1_STRING*>(pval);
  const unsigned char* p = ASN1_STRING_get0_data(seq);
  std::unique_ptr<RSA_PSS_PARAMS, ossl::Deleter<RSA_PSS_PARAMS_free>> params(
      d2i_RSA_PSS_PARAMS(nullptr, &p, ASN1_STRING_length(seq)));
  if (!params) return bad("PSS parameters do not decode");
  // RFC 4055 §3.1: absent hashAlgorithm means SHA-1, absent salt means 20.
  if (!params->hashAlgorithm || OBJ_obj2nid(params->hashAlgorithm->algorithm) != NID_sha384)
    return bad("PSS hash is not SHA-384");
  if (!params->maskGenAlgorithm || OBJ_obj2nid(params->maskGenAlgorithm->algorithm) != NID_mgf1)
    return bad("PSS mask generation is not MGF1");
  const ASN1_TYPE* mgf_param = params->maskGenAlgorithm->parameter;
  if (!mgf_param || mgf_param->type != V_ASN1_SEQUENCE) return bad("MGF1 hash missing");
  const unsigned char* mp = ASN1_STRING_get0_data(mgf_param->value.sequence);
  std::unique_ptr<X509_ALGOR, ossl::Deleter<X509_ALGOR_free>> mgf_hash(
      d2i_X509_ALGOR(nullptr, &mp, ASN1_STRING_length(mgf_param->value.sequence)));
  if (!mgf_hash || OBJ_obj2nid(mgf_hash->algorithm) != NID_sha384) return bad("MGF1 hash is not SHA-384");
  if (!params->saltLength || ASN1_INTEGER_get(params->saltLength) != 48)
    return bad("PSS salt length is " +
               std::to_string(params->saltLength ? ASN1_INTEGER_get(params->saltLength) : 20) + ", not 48");
  if (params->trailerField && ASN1_INTEGER_get(params->trailerField) != 1) return bad("PSS trailer field is not 1");
  return {};
}

std::time_t asn1_time_to_time_t(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace

Result<ByteView> tbs_bytes(ByteView der) {
  Tlv outer = CLOISTER_TRY(read_tlv(der, 0));
  if (der[0] != 0x30) return make_error(Errc::parse, "certificate is not a SEQUENCE");
  std::size_t pos = outer.header;
  if (pos >= der.size() || der[pos] != 0x30) return make_error(Errc::parse, "TBSCertificate is not a SEQUENCE");
  Tlv tbs = CLOISTER_TRY(read_tlv(der, pos));
  return der.subspan(pos, tbs.header + tbs.length);
}

Status verify_pss_sha384(ByteView cert_der, const X509* cert, EVP_PKEY* issuer_key) {
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* outer = nullptr;
  X509_get0_signature(&sig, &outer, cert);
  CLOISTER_RETURN_IF_ERROR(check_pss_algorithm(outer, "signatureAlgorithm"));
  // RFC 5280 §4.1.1.2: the TBS copy must be the same algorithm; a mismatch is a substitution.
  if (X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(cert)) != 0)
    return make_error(Errc::integrity, "[cert-algorithm] TBSCertificate.signature differs from signatureAlgorithm");
  if (EVP_PKEY_get_base_id(issuer_key) != EVP_PKEY_RSA && EVP_PKEY_get_base_id(issuer_key) != EVP_PKEY_RSA_PSS)
    return make_error(Errc::integrity, "[cert-algorithm] issuer key is not RSA");
  if (EVP_PKEY_get_bits(issuer_key) != 4096)
    return make_error(Errc::integrity, "[cert-algorithm] issuer key is RSA-" +
                                           std::to_string(EVP_PKEY_get_bits(issuer_key)) + ", expected RSA-4096");
  ByteView tbs = CLOISTER_TRY(tbs_bytes(cert_der));

  ossl::EvpMdCtx mctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by mctx
  if (!mctx || EVP_DigestVerifyInit(mctx.get(), &pctx, EVP_sha384(), nullptr, issuer_key) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) != 1)
    return forward_error(ossl::error(Errc::internal, "setting up RSASSA-PSS verification"));
  int rc = EVP_DigestVerify(mctx.get(), sig->data, static_cast<std::size_t>(sig->length), tbs.data(), tbs.size());
  if (rc != 1) {
    ossl::drain_errors();
    return make_error(Errc::integrity, "[chain-signature] RSASSA-PSS signature on '" +
                                           common_name(X509_get_subject_name(cert)) + "' does not verify");
  }
  return {};
}

std::time_t not_before(const X509* cert) { return asn1_time_to_time_t(X509_get0_notBefore(cert)); }
std::time_t not_after(const X509* cert) { return asn1_time_to_time_t(X509_get0_notAfter(cert)); }

Status check_validity(const X509* cert, std::time_t now) {
  std::time_t nb = not_before(cert), na = not_after(cert);
  auto fmt = [](std::time_t t) {
    char buf[32];
    struct tm tm {};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  if (now < nb || now > na)
    return make_error(Errc::integrity, "[cert-validity] '" + common_name(X509_get_subject_name(cert)) +
                                           "' is valid " + fmt(nb) + " .. " + fmt(na) + ", verification time is " +
                                           fmt(now));
  return {};
}

}  // namespace cloister::attest::x509
