#include "x509_build.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace cloister::attest::x509 {

Result<ossl::EvpPkey> generate_rsa(int bits) {
  ossl::EvpPkey key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key) return forward_error(ossl::error(Errc::internal, "generating RSA key"));
  return key;
}

Result<ossl::EvpPkey> generate_p384() {
  ossl::EvpPkey key(EVP_EC_gen("P-384"));
  if (!key) return forward_error(ossl::error(Errc::internal, "generating P-384 key"));
  return key;
}

namespace {

Status set_name(X509_NAME* name, const std::string& cn, const std::string& org) {
  // The same RDN sequence AMD's certificates use (OU, C, L, ST, O, CN).
  const std::pair<const char*, const char*> rdns[] = {
      {"OU", "Engineering"}, {"C", "US"}, {"L", "Santa Clara"}, {"ST", "CA"}, {"O", org.c_str()}};
  // X509_NAME_add_entry_by_txt takes UTF-8 text as unsigned char*: same bytes, no conversion.
  for (auto [k, v] : rdns)
    if (X509_NAME_add_entry_by_txt(name, k, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(v), -1, -1, 0) != 1)
      return forward_error(ossl::error(Errc::internal, "building X509 name"));
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                 -1, 0) != 1)
    return forward_error(ossl::error(Errc::internal, "building X509 name"));
  return {};
}

Status add_ext_nid(X509* cert, const X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, const_cast<X509*>(issuer ? issuer : cert), cert, nullptr, nullptr, 0);  // read-only use
  std::unique_ptr<X509_EXTENSION, ossl::Deleter<X509_EXTENSION_free>> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return forward_error(ossl::error(Errc::internal, "adding X509v3 extension"));
  return {};
}

Result<ossl::EvpMdCtx> pss_sign_ctx(EVP_PKEY* key, int salt) {
  ossl::EvpMdCtx mctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by mctx
  if (!mctx || EVP_DigestSignInit(mctx.get(), &pctx, EVP_sha384(), nullptr, key) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) != 1)
    return forward_error(ossl::error(Errc::internal, "setting up RSASSA-PSS signing"));
  return mctx;
}

}  // namespace

Result<ossl::X509Ptr> issue(const CertSpec& spec, EVP_PKEY* subject_key, const X509* issuer, EVP_PKEY* issuer_key) {
  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1)
    return forward_error(ossl::error(Errc::internal, "X509_new"));
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), spec.not_before);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), spec.not_after);
  CLOISTER_RETURN_IF_ERROR(set_name(X509_get_subject_name(cert.get()), spec.common_name, spec.organization));
  if (X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1)
    return forward_error(ossl::error(Errc::internal, "setting issuer/key"));
  if (spec.ca) {
    CLOISTER_RETURN_IF_ERROR(add_ext_nid(cert.get(), issuer, NID_basic_constraints, "critical,CA:TRUE"));
    CLOISTER_RETURN_IF_ERROR(add_ext_nid(cert.get(), issuer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  }
  for (const auto& [oid, value] : spec.extensions) {
    ossl::Asn1Object obj(OBJ_txt2obj(oid.c_str(), 1));
    std::unique_ptr<ASN1_OCTET_STRING, ossl::Deleter<ASN1_OCTET_STRING_free>> os(ASN1_OCTET_STRING_new());
    if (!obj || !os || ASN1_OCTET_STRING_set(os.get(), value.data(), static_cast<int>(value.size())) != 1)
      return forward_error(ossl::error(Errc::internal, "encoding extension " + oid));
    std::unique_ptr<X509_EXTENSION, ossl::Deleter<X509_EXTENSION_free>> ext(
        X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, os.get()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
      return forward_error(ossl::error(Errc::internal, "adding extension " + oid));
  }
  ossl::EvpMdCtx mctx = CLOISTER_TRY(pss_sign_ctx(issuer_key, spec.pss_salt));
  if (X509_sign_ctx(cert.get(), mctx.get()) <= 0)
    return forward_error(ossl::error(Errc::internal, "signing certificate (RSASSA-PSS)"));
  return cert;
}

Result<Bytes> issue_crl(const X509* issuer, EVP_PKEY* issuer_key, const std::vector<long>& revoked_serials,
                        std::time_t this_update, std::time_t next_update) {
  ossl::X509Crl crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1)
    return forward_error(ossl::error(Errc::internal, "X509_CRL_new"));
  std::unique_ptr<ASN1_TIME, ossl::Deleter<ASN1_TIME_free>> t1(ASN1_TIME_set(nullptr, this_update)),
      t2(ASN1_TIME_set(nullptr, next_update));
  X509_CRL_set1_lastUpdate(crl.get(), t1.get());
  X509_CRL_set1_nextUpdate(crl.get(), t2.get());
  for (long serial : revoked_serials) {
    std::unique_ptr<X509_REVOKED, ossl::Deleter<X509_REVOKED_free>> rev(X509_REVOKED_new());
    ossl::Asn1Integer s(ASN1_INTEGER_new());
    ASN1_INTEGER_set(s.get(), serial);
    X509_REVOKED_set_serialNumber(rev.get(), s.get());
    X509_REVOKED_set_revocationDate(rev.get(), t1.get());
    if (X509_CRL_add0_revoked(crl.get(), rev.get()) != 1) return forward_error(ossl::error(Errc::internal, "CRL entry"));
    (void)rev.release();  // owned by the CRL now
  }
  X509_CRL_sort(crl.get());
  ossl::EvpMdCtx mctx = CLOISTER_TRY(pss_sign_ctx(issuer_key, 48));
  if (X509_CRL_sign_ctx(crl.get(), mctx.get()) <= 0) return forward_error(ossl::error(Errc::internal, "signing CRL"));
  unsigned char* buf = nullptr;
  int len = i2d_X509_CRL(crl.get(), &buf);
  if (len <= 0) return forward_error(ossl::error(Errc::internal, "encoding CRL"));
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

Bytes der_integer(long value) {
  ossl::Asn1Integer i(ASN1_INTEGER_new());
  ASN1_INTEGER_set(i.get(), value);
  unsigned char* buf = nullptr;
  int len = i2d_ASN1_INTEGER(i.get(), &buf);
  Bytes out(buf, buf + (len > 0 ? len : 0));
  OPENSSL_free(buf);
  return out;
}

Bytes der_ia5(std::string_view s) {
  std::unique_ptr<ASN1_IA5STRING, ossl::Deleter<ASN1_IA5STRING_free>> str(ASN1_IA5STRING_new());
  ASN1_STRING_set(str.get(), s.data(), static_cast<int>(s.size()));
  unsigned char* buf = nullptr;
  int len = i2d_ASN1_IA5STRING(str.get(), &buf);
  Bytes out(buf, buf + (len > 0 ? len : 0));
  OPENSSL_free(buf);
  return out;
}

Result<std::string> private_key_pem(EVP_PKEY* key) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return forward_error(ossl::error(Errc::internal, "encoding private key"));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<ossl::EvpPkey> private_key_from_pem(ByteView pem) {
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::EvpPkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return forward_error(ossl::error(Errc::parse, "not a PEM private key"));
  return key;
}

std::string cert_pem(const X509* cert) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), const_cast<X509*>(cert));  // PEM_write takes non-const; it does not modify
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace cloister::attest::x509
