// Crypto (OPA topdown/crypto.go): hashes, HMAC, and X.509 / key parsing on OpenSSL.
//
// Certificates are returned in the shape of Go's encoding/json rendering of x509.Certificate
// (field names, Go enum numbers for algorithms and usages, nil slices as null, DER blobs as
// base64), because that is what OPA hands to policies. Keys come back as JWKs (RFC 7517/7518).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <ctime>

#include "builtins/builtin.h"
#include "builtins/codec.h"
#include "builtins/crypto_util.h"
#include "cloister/common/digest.h"
#include "cloister/common/encoding.h"
#include "cloister/common/openssl.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

using X509Req = std::unique_ptr<X509_REQ, ossl::Deleter<X509_REQ_free>>;

Value str(std::string s) { return Value::string(std::move(s)); }
Value b64(std::string_view der) { return str(b64_encode(der, kStdAlphabet, true)); }
Value null_if_empty(std::vector<Value> v) { return v.empty() ? Value::null() : Value::array(std::move(v)); }

// ---- hashes and HMAC ----

template <const char* Alg>
BuiltinResult hash(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  auto d = digest(Alg, as_bytes(s));
  if (!d) return tl::unexpected(builtin_error(ctx, d.error().message()));
  return str(hex_encode(*d));
}

constexpr char kMd5[] = "md5";
constexpr char kSha1[] = "sha1";
constexpr char kSha256[] = "sha256";
constexpr char kSha512[] = "sha512";

template <const char* Alg>
BuiltinResult hmac(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& msg = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& key = *REGO_ARG(arg_string(ctx, a, 1));
  auto mac = hmac_raw(Alg, key, msg);
  if (!mac) return tl::unexpected(builtin_error(ctx, "HMAC failed"));
  return str(hex_encode(as_bytes(*mac)));
}

BuiltinResult hmac_equal(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& x = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& y = *REGO_ARG(arg_string(ctx, a, 1));
  // Constant-time comparison (hmac.Equal): the point of the builtin is not to leak timing.
  return Value::boolean(x.size() == y.size() && CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0);
}

// ---- DER / PEM input ----

// DER of any OpenSSL object through its i2d function.
template <typename T, typename I2d>
std::string der(T* x, I2d i2d) {
  unsigned char* buf = nullptr;
  int n = i2d(x, &buf);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n)) : std::string();
  OPENSSL_free(buf);
  return out;
}

// PEM text directly, or base64 of PEM or DER (OPA accepts each).
BResult<std::string> pem_input(const BuiltinContext& ctx, const std::string& input) {
  if (std::string_view(input).starts_with("-----BEGIN")) return input;
  std::string raw;
  std::size_t bad = 0;
  if (!b64_decode(input, kStdAlphabet, raw, bad))
    return tl::unexpected(builtin_error(ctx, "illegal base64 data at input byte " + std::to_string(bad)));
  return raw;
}

// Every object of one PEM type in `pem`, in order, up to the first one that does not read.
// `read` is one of OpenSSL's PEM_read_bio_<TYPE> functions.
template <typename Owner, typename Raw>
std::vector<Owner> read_pem_objects(std::string_view pem, Raw* (*read)(BIO*, Raw**, pem_password_cb*, void*)) {
  std::vector<Owner> out;
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (Owner obj{read(bio.get(), nullptr, nullptr, nullptr)}) out.push_back(std::move(obj));
  ERR_clear_error();  // the final failed read leaves "no start line" on the queue
  return out;
}

// Certificates from PEM text, base64 of PEM, or base64 of (concatenated) DER, as OPA accepts them.
BResult<std::vector<ossl::X509Ptr>> load_certs(const BuiltinContext& ctx, const std::string& input) {
  std::string data = REGO_ARG(pem_input(ctx, input));
  std::vector<ossl::X509Ptr> out;
  if (std::string_view(data).starts_with("-----BEGIN")) {
    out = read_pem_objects<ossl::X509Ptr>(data, PEM_read_bio_X509);
    if (out.empty()) return tl::unexpected(builtin_error(ctx, "x509: malformed certificate"));
    return out;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const auto* end = p + data.size();
  while (p < end) {
    ossl::X509Ptr c(d2i_X509(nullptr, &p, end - p));
    if (!c) {
      ERR_clear_error();
      return tl::unexpected(builtin_error(ctx, "x509: malformed certificate"));
    }
    out.push_back(std::move(c));
  }
  if (out.empty()) return tl::unexpected(builtin_error(ctx, "x509: malformed certificate"));
  return out;
}

// ---- Go-shaped certificate fields ----

Value oid_array(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  std::vector<Value> parts;
  if (n <= 0) return Value::array({});
  std::string_view s(buf, static_cast<std::size_t>(std::min<int>(n, sizeof buf - 1)));
  std::size_t start = 0;
  for (;;) {
    auto dot = s.find('.', start);
    auto num = Value::number_from_string(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    parts.push_back(num ? *num : Value::integer(0));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return Value::array(std::move(parts));
}

std::string asn1_string(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return std::string();
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

// pkix.Name: the well-known attributes as lists, CommonName and SerialNumber as strings.
Value name_value(const X509_NAME* name) {
  std::vector<Value> country, org, ou, locality, province, street, postal, names;
  std::string cn, serial;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    std::string v = asn1_string(X509_NAME_ENTRY_get_data(e));
    switch (OBJ_obj2nid(obj)) {
      case NID_countryName: country.push_back(str(v)); break;
      case NID_organizationName: org.push_back(str(v)); break;
      case NID_organizationalUnitName: ou.push_back(str(v)); break;
      case NID_localityName: locality.push_back(str(v)); break;
      case NID_stateOrProvinceName: province.push_back(str(v)); break;
      case NID_streetAddress: street.push_back(str(v)); break;
      case NID_postalCode: postal.push_back(str(v)); break;
      case NID_commonName: cn = v; break;
      case NID_serialNumber: serial = v; break;
      default: break;
    }
    names.push_back(Value::object({{str("Type"), oid_array(obj)}, {str("Value"), str(v)}}));
  }
  return Value::object({{str("Country"), null_if_empty(country)},
                        {str("Organization"), null_if_empty(org)},
                        {str("OrganizationalUnit"), null_if_empty(ou)},
                        {str("Locality"), null_if_empty(locality)},
                        {str("Province"), null_if_empty(province)},
                        {str("StreetAddress"), null_if_empty(street)},
                        {str("PostalCode"), null_if_empty(postal)},
                        {str("SerialNumber"), str(serial)},
                        {str("CommonName"), str(cn)},
                        {str("Names"), null_if_empty(names)},
                        {str("ExtraNames"), Value::null()}});
}

Value time_value(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return str("0001-01-01T00:00:00Z");
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return str(buf);
}

Value bignum_value(const BIGNUM* bn) {
  char* dec = BN_bn2dec(bn);
  auto v = Value::number_from_string(dec ? dec : "0");
  OPENSSL_free(dec);
  return v ? *v : Value::integer(0);
}

// Go's x509.SignatureAlgorithm numbering.
int go_signature_algorithm(int nid) {
  switch (nid) {
    case NID_md2WithRSAEncryption: return 1;
    case NID_md5WithRSAEncryption: return 2;
    case NID_sha1WithRSAEncryption: return 3;
    case NID_sha256WithRSAEncryption: return 4;
    case NID_sha384WithRSAEncryption: return 5;
    case NID_sha512WithRSAEncryption: return 6;
    case NID_dsaWithSHA1: return 7;
    case NID_dsa_with_SHA256: return 8;
    case NID_ecdsa_with_SHA1: return 9;
    case NID_ecdsa_with_SHA256: return 10;
    case NID_ecdsa_with_SHA384: return 11;
    case NID_ecdsa_with_SHA512: return 12;
    case NID_rsassaPss: return 13;
    case NID_ED25519: return 16;
    default: return 0;
  }
}

// Go's x509.PublicKeyAlgorithm numbering and the public key as Go's JSON renders it.
std::pair<int, Value> public_key_value(EVP_PKEY* pk) {
  if (!pk) return {0, Value::null()};
  switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA: {
      BIGNUM* n = nullptr;
      BIGNUM* e = nullptr;
      EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n);
      EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e);
      ossl::Bignum nn(n), ee(e);
      return {1, Value::object({{str("N"), n ? bignum_value(n) : Value::null()}, {str("E"), e ? bignum_value(e) : Value::null()}})};
    }
    case EVP_PKEY_DSA: return {2, Value::empty_object()};
    case EVP_PKEY_EC: {
      BIGNUM* x = nullptr;
      BIGNUM* y = nullptr;
      EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x);
      EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
      ossl::Bignum xx(x), yy(y);
      return {3, Value::object({{str("Curve"), Value::empty_object()},
                                {str("X"), x ? bignum_value(x) : Value::null()},
                                {str("Y"), y ? bignum_value(y) : Value::null()}})};
    }
    case EVP_PKEY_ED25519: {
      unsigned char raw[64];
      size_t len = sizeof raw;
      if (EVP_PKEY_get_raw_public_key(pk, raw, &len) != 1) return {4, Value::null()};
      return {4, b64(std::string_view(reinterpret_cast<char*>(raw), len))};
    }
    default: return {0, Value::null()};
  }
}

// Go's x509.KeyUsage bits from OpenSSL's KU_* flags.
std::int64_t go_key_usage(std::uint32_t ku) {
  if (ku == UINT32_MAX) return 0;
  static const std::pair<std::uint32_t, int> map[] = {
      {KU_DIGITAL_SIGNATURE, 0}, {KU_NON_REPUDIATION, 1}, {KU_KEY_ENCIPHERMENT, 2},
      {KU_DATA_ENCIPHERMENT, 3}, {KU_KEY_AGREEMENT, 4},   {KU_KEY_CERT_SIGN, 5},
      {KU_CRL_SIGN, 6},          {KU_ENCIPHER_ONLY, 7},   {KU_DECIPHER_ONLY, 8}};
  std::int64_t out = 0;
  for (auto [flag, bit] : map)
    if (ku & flag) out |= std::int64_t{1} << bit;
  return out;
}

// Go's x509.ExtKeyUsage numbering.
int go_ext_key_usage(int nid) {
  switch (nid) {
    case NID_anyExtendedKeyUsage: return 0;
    case NID_server_auth: return 1;
    case NID_client_auth: return 2;
    case NID_code_sign: return 3;
    case NID_email_protect: return 4;
    case NID_ipsecEndSystem: return 5;
    case NID_ipsecTunnel: return 6;
    case NID_ipsecUser: return 7;
    case NID_time_stamp: return 8;
    case NID_OCSP_sign: return 9;
    case NID_ms_sgc: return 10;
    case NID_ns_sgc: return 11;
    default: return -1;
  }
}

struct AltNames {
  std::vector<Value> dns, email, ip, uri;
};

AltNames alt_names(const GENERAL_NAMES* gens) {
  AltNames out;
  for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, i);
    switch (g->type) {
      case GEN_DNS: out.dns.push_back(str(asn1_string(g->d.dNSName))); break;
      case GEN_EMAIL: out.email.push_back(str(asn1_string(g->d.rfc822Name))); break;
      case GEN_URI: out.uri.push_back(str(asn1_string(g->d.uniformResourceIdentifier))); break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = g->d.iPAddress;
        char buf[64] = {0};
        if (ip->length == 4 || ip->length == 16)
          inet_ntop(ip->length == 4 ? AF_INET : AF_INET6, ip->data, buf, sizeof buf);
        out.ip.push_back(str(buf));
        break;
      }
      default: break;
    }
  }
  return out;
}

Value extensions_value(const STACK_OF(X509_EXTENSION) * exts) {
  std::vector<Value> out;
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* e = sk_X509_EXTENSION_value(exts, i);
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(e);
    out.push_back(Value::object({{str("Id"), oid_array(X509_EXTENSION_get_object(e))},
                                 {str("Critical"), Value::boolean(X509_EXTENSION_get_critical(e) != 0)},
                                 {str("Value"), b64(std::string_view(reinterpret_cast<const char*>(data->data),
                                                                     static_cast<std::size_t>(data->length)))}}));
  }
  return null_if_empty(std::move(out));
}

Value octets(const ASN1_OCTET_STRING* s) {
  if (!s) return Value::null();
  return b64(std::string_view(reinterpret_cast<const char*>(s->data), static_cast<std::size_t>(s->length)));
}

Value certificate_value(X509* c) {
  std::vector<std::pair<Value, Value>> f;
  auto put = [&](const char* k, Value v) { f.emplace_back(str(k), std::move(v)); };
  put("Raw", b64(der(c, i2d_X509)));
  put("RawTBSCertificate", b64(der(c, i2d_re_X509_tbs)));
  put("RawSubjectPublicKeyInfo", b64(der(X509_get_X509_PUBKEY(c), i2d_X509_PUBKEY)));
  put("RawSubject", b64(der(X509_get_subject_name(c), i2d_X509_NAME)));
  put("RawIssuer", b64(der(X509_get_issuer_name(c), i2d_X509_NAME)));
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(&sig, &alg, c);
  put("Signature", sig ? b64(std::string_view(reinterpret_cast<const char*>(sig->data), static_cast<std::size_t>(sig->length)))
                       : Value::null());
  put("SignatureAlgorithm", Value::integer(go_signature_algorithm(X509_get_signature_nid(c))));
  auto [pk_alg, pk] = public_key_value(X509_get0_pubkey(c));
  put("PublicKeyAlgorithm", Value::integer(pk_alg));
  put("PublicKey", pk);
  put("Version", Value::integer(X509_get_version(c) + 1));
  ossl::Bignum serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), nullptr));
  put("SerialNumber", serial ? bignum_value(serial.get()) : Value::null());
  put("Issuer", name_value(X509_get_issuer_name(c)));
  put("Subject", name_value(X509_get_subject_name(c)));
  put("NotBefore", time_value(X509_get0_notBefore(c)));
  put("NotAfter", time_value(X509_get0_notAfter(c)));
  put("KeyUsage", Value::integer(go_key_usage(X509_get_key_usage(c))));
  put("Extensions", extensions_value(X509_get0_extensions(c)));
  put("ExtraExtensions", Value::null());
  put("UnhandledCriticalExtensions", Value::null());

  std::vector<Value> eku;
  if (auto* ekus = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(c, NID_ext_key_usage, nullptr, nullptr))) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(ekus); ++i) {
      int g = go_ext_key_usage(OBJ_obj2nid(sk_ASN1_OBJECT_value(ekus, i)));
      if (g >= 0) eku.push_back(Value::integer(g));
    }
    EXTENDED_KEY_USAGE_free(ekus);
  }
  put("ExtKeyUsage", null_if_empty(std::move(eku)));
  put("UnknownExtKeyUsage", Value::null());

  bool bc_valid = false, is_ca = false;
  std::int64_t max_path = 0;
  if (auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(c, NID_basic_constraints, nullptr, nullptr))) {
    bc_valid = true;
    is_ca = bc->ca != 0;
    max_path = -1;
    if (bc->pathlen) ASN1_INTEGER_get_int64(&max_path, bc->pathlen);
    BASIC_CONSTRAINTS_free(bc);
  }
  put("BasicConstraintsValid", Value::boolean(bc_valid));
  put("IsCA", Value::boolean(is_ca));
  put("MaxPathLen", Value::integer(max_path));
  put("MaxPathLenZero", Value::boolean(bc_valid && max_path == 0));
  put("SubjectKeyId", octets(X509_get0_subject_key_id(c)));
  put("AuthorityKeyId", octets(X509_get0_authority_key_id(c)));

  auto* gens = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, nullptr, nullptr));
  AltNames names = alt_names(gens);
  GENERAL_NAMES_free(gens);
  put("DNSNames", null_if_empty(names.dns));
  put("EmailAddresses", null_if_empty(names.email));
  put("IPAddresses", null_if_empty(names.ip));
  put("URIStrings", null_if_empty(names.uri));
  ERR_clear_error();
  return Value::object(std::move(f));
}

BuiltinResult parse_certificates(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& input = *REGO_ARG(arg_string(ctx, a, 0));
  auto certs = load_certs(ctx, input);
  if (!certs) return tl::unexpected(certs.error());
  std::vector<Value> out;
  for (auto& c : *certs) out.push_back(certificate_value(c.get()));
  return Value::array(std::move(out));
}

// OPA's order: root first, then intermediates, leaf last. The root is the only trust anchor;
// the result is the verified chain leaf first (Go's chains[0]). Verification time is the
// evaluation's clock.
bool verify_chain(const BuiltinContext& ctx, std::vector<ossl::X509Ptr>& certs, std::vector<Value>& chain) {
  if (certs.size() < 2) return false;
  ossl::X509Store store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), certs.front().get()) != 1) return false;
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i + 1 < certs.size(); ++i) sk_X509_push(untrusted, certs[i].get());
  ossl::X509StoreCtx sctx(X509_STORE_CTX_new());
  bool ok = false;
  if (sctx && X509_STORE_CTX_init(sctx.get(), store.get(), certs.back().get(), untrusted) == 1) {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(sctx.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(ctx.now_ns / 1000000000));
    X509_STORE_CTX_set_purpose(sctx.get(), X509_PURPOSE_ANY);
    ok = X509_verify_cert(sctx.get()) == 1;
    if (ok) {
      STACK_OF(X509)* verified = X509_STORE_CTX_get0_chain(sctx.get());
      for (int i = 0; i < sk_X509_num(verified); ++i) chain.push_back(certificate_value(sk_X509_value(verified, i)));
    }
  }
  sk_X509_free(untrusted);
  ERR_clear_error();
  return ok;
}

BuiltinResult parse_and_verify_certificates(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& input = *REGO_ARG(arg_string(ctx, a, 0));
  auto invalid = Value::array({Value::boolean(false), Value::empty_array()});
  auto certs = load_certs(ctx, input);
  std::vector<Value> chain;
  if (!certs || !verify_chain(ctx, *certs, chain)) return invalid;
  return Value::array({Value::boolean(true), Value::array(std::move(chain))});
}

BuiltinResult parse_certificate_request(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& input = *REGO_ARG(arg_string(ctx, a, 0));
  std::string raw;
  std::size_t bad = 0;
  std::string pem;
  if (!b64_decode(input, kStdAlphabet, raw, bad)) {
    if (!std::string_view(input).starts_with("-----BEGIN"))
      return tl::unexpected(builtin_error(ctx, "illegal base64 data at input byte " + std::to_string(bad)));
    pem = input;
  } else if (std::string_view(raw).starts_with("-----BEGIN")) {
    pem = raw;
  }
  X509Req req;
  if (!pem.empty()) {
    ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!req) {
      ERR_clear_error();
      return tl::unexpected(builtin_error(ctx, "invalid PEM-encoded certificate signing request"));
    }
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(raw.size())));
    if (!req) {
      ERR_clear_error();
      return tl::unexpected(builtin_error(ctx, "asn1: structure error: tags don't match"));
    }
  }
  std::vector<std::pair<Value, Value>> f;
  auto put = [&](const char* k, Value v) { f.emplace_back(str(k), std::move(v)); };
  put("Raw", b64(der(req.get(), i2d_X509_REQ)));
  put("Version", Value::integer(X509_REQ_get_version(req.get())));
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_REQ_get0_signature(req.get(), &sig, &alg);
  put("Signature", sig ? b64(std::string_view(reinterpret_cast<const char*>(sig->data), static_cast<std::size_t>(sig->length)))
                       : Value::null());
  put("SignatureAlgorithm", Value::integer(go_signature_algorithm(X509_REQ_get_signature_nid(req.get()))));
  auto [pk_alg, pk] = public_key_value(X509_REQ_get0_pubkey(req.get()));
  put("PublicKeyAlgorithm", Value::integer(pk_alg));
  put("PublicKey", pk);
  put("Subject", name_value(X509_REQ_get_subject_name(req.get())));
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  put("Extensions", extensions_value(exts));
  AltNames names;
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* e = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) != NID_subject_alt_name) continue;
    auto* gens = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(e));
    names = alt_names(gens);
    GENERAL_NAMES_free(gens);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  put("DNSNames", null_if_empty(names.dns));
  put("EmailAddresses", null_if_empty(names.email));
  put("IPAddresses", null_if_empty(names.ip));
  put("URIStrings", null_if_empty(names.uri));
  ERR_clear_error();
  return Value::object(std::move(f));
}

// ---- private keys as JWKs ----

std::string bn_bytes(const BIGNUM* bn, int pad = 0) {
  int n = std::max(BN_num_bytes(bn), pad);
  std::string out(static_cast<std::size_t>(n), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

Value jwk_bn(EVP_PKEY* pk, const char* param, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1) return Value::undefined();
  ossl::Bignum owned(bn);
  return str(b64url_nopad(bn_bytes(bn, pad)));
}

Value private_jwk(EVP_PKEY* pk) {
  std::vector<std::pair<Value, Value>> f;
  auto put = [&](const char* k, Value v) {
    if (v.is_defined()) f.emplace_back(str(k), std::move(v));
  };
  switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
      put("kty", str("RSA"));
      put("n", jwk_bn(pk, OSSL_PKEY_PARAM_RSA_N));
      put("e", jwk_bn(pk, OSSL_PKEY_PARAM_RSA_E));
      put("d", jwk_bn(pk, OSSL_PKEY_PARAM_RSA_D));
      put("p", jwk_bn(pk, OSSL_PKEY_PARAM_RSA_FACTOR1));
      put("q", jwk_bn(pk, OSSL_PKEY_PARAM_RSA_FACTOR2));
      put("dp", jwk_bn(pk, OSSL_PKEY_PARAM_RSA_EXPONENT1));
      put("dq", jwk_bn(pk, OSSL_PKEY_PARAM_RSA_EXPONENT2));
      put("qi", jwk_bn(pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
      break;
    case EVP_PKEY_EC: {
      char curve[64] = {0};
      size_t len = 0;
      EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len);
      std::string crv = curve;
      int size = 32;
      if (crv == "prime256v1" || crv == "P-256") crv = "P-256";
      if (crv == "secp384r1" || crv == "P-384") crv = "P-384", size = 48;
      if (crv == "secp521r1" || crv == "P-521") crv = "P-521", size = 66;
      put("kty", str("EC"));
      put("crv", str(crv));
      put("x", jwk_bn(pk, OSSL_PKEY_PARAM_EC_PUB_X, size));
      put("y", jwk_bn(pk, OSSL_PKEY_PARAM_EC_PUB_Y, size));
      put("d", jwk_bn(pk, OSSL_PKEY_PARAM_PRIV_KEY, size));
      break;
    }
    case EVP_PKEY_ED25519: {
      unsigned char pub[32], priv[32];
      size_t pl = sizeof pub, vl = sizeof priv;
      put("kty", str("OKP"));
      put("crv", str("Ed25519"));
      if (EVP_PKEY_get_raw_public_key(pk, pub, &pl) == 1)
        put("x", str(b64url_nopad(std::string_view(reinterpret_cast<char*>(pub), pl))));
      if (EVP_PKEY_get_raw_private_key(pk, priv, &vl) == 1)
        put("d", str(b64url_nopad(std::string_view(reinterpret_cast<char*>(priv), vl))));
      break;
    }
    default: return Value::null();
  }
  return Value::object(std::move(f));
}

std::vector<ossl::EvpPkey> read_private_keys(const std::string& pem) {
  return read_pem_objects<ossl::EvpPkey>(pem, PEM_read_bio_PrivateKey);
}

BuiltinResult parse_rsa_private_key(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& input = *REGO_ARG(arg_string(ctx, a, 0));
  std::string pem = REGO_ARG(pem_input(ctx, input));
  auto keys = read_private_keys(pem);
  if (keys.empty() || EVP_PKEY_get_base_id(keys[0].get()) != EVP_PKEY_RSA)
    return tl::unexpected(builtin_error(ctx, "failed to parse RSA private key"));
  return private_jwk(keys[0].get());
}

BuiltinResult parse_private_keys(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& input = *REGO_ARG(arg_string(ctx, a, 0));
  if (input.empty()) return Value::null();
  auto pem = pem_input(ctx, input);
  if (!pem) return Value::empty_array();
  std::vector<Value> out;
  for (auto& k : read_private_keys(*pem)) out.push_back(private_jwk(k.get()));
  return Value::array(std::move(out));
}

BuiltinResult parse_keypair(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& cert_in = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& key_in = *REGO_ARG(arg_string(ctx, a, 1));
  std::string cert_pem = REGO_ARG(pem_input(ctx, cert_in));
  std::string key_pem = REGO_ARG(pem_input(ctx, key_in));
  auto loaded = load_certs(ctx, cert_pem);
  if (!loaded) return tl::unexpected(loaded.error());
  auto& certs = *loaded;
  auto keys = read_private_keys(key_pem);
  if (keys.empty()) return tl::unexpected(builtin_error(ctx, "tls: failed to find any PEM data in key input"));
  if (X509_check_private_key(certs[0].get(), keys[0].get()) != 1) {
    ERR_clear_error();
    return tl::unexpected(builtin_error(ctx, "tls: private key does not match public key"));
  }
  std::vector<Value> ders;
  for (auto& c : certs) ders.push_back(b64(der(c.get(), i2d_X509)));
  return Value::object({{str("Certificate"), Value::array(std::move(ders))},
                        {str("PrivateKey"), private_jwk(keys[0].get())},
                        {str("Leaf"), certificate_value(certs[0].get())}});
}

}  // namespace

void register_crypto(Registry& r) {
  r.add({"crypto.md5", 1, hash<kMd5>});
  r.add({"crypto.sha1", 1, hash<kSha1>});
  r.add({"crypto.sha256", 1, hash<kSha256>});
  r.add({"crypto.hmac.md5", 2, hmac<kMd5>});
  r.add({"crypto.hmac.sha1", 2, hmac<kSha1>});
  r.add({"crypto.hmac.sha256", 2, hmac<kSha256>});
  r.add({"crypto.hmac.sha512", 2, hmac<kSha512>});
  r.add({"crypto.hmac.equal", 2, hmac_equal});
  r.add({"crypto.x509.parse_certificates", 1, parse_certificates});
  r.add({"crypto.x509.parse_and_verify_certificates", 1, parse_and_verify_certificates, /*deterministic=*/false});
  r.add({"crypto.x509.parse_certificate_request", 1, parse_certificate_request});
  r.add({"crypto.x509.parse_keypair", 2, parse_keypair});
  r.add({"crypto.x509.parse_rsa_private_key", 1, parse_rsa_private_key});
  r.add({"crypto.parse_private_keys", 1, parse_private_keys});
}

}  // namespace cloister::rego::builtins
