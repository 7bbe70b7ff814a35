// crypto.* and io.jwt.*: digests and HMAC against published vectors (RFC 1321 style md5 of a
// known string, RFC 4231 §4.3), X.509 parsing/verification on certificates generated here with
// OpenSSL, and JWS against RFC 7515 Appendix A.1 plus sign/verify round trips.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>

#include "builtins_test_util.h"
#include "cloister/common/openssl.h"

namespace cloister::rego {
namespace {

using namespace testing;
constexpr const char* kBuiltin = "eval_builtin_error";

TEST(RegoCrypto, DigestsAndHmac) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "crypto.md5", R"j(["lorem ipsum"])j", R"j("80a751fde577028640c419000e33eba6")j");
  EXPECT_BUILTIN(c, "crypto.sha256", R"j(["lorem ipsum"])j",
                 R"j("5e2bf57d3f40c4b6df69daf1936cb766f832374b4fc0259a7cbff06e2f70f269")j");
  EXPECT_BUILTIN(c, "crypto.sha1", R"j(["abc"])j", R"j("a9993e364706816aba3e25717850c26c9cd0d89d")j");
  // RFC 4231 §4.3 (test case 2).
  EXPECT_BUILTIN(c, "crypto.hmac.sha256", R"j(["what do ya want for nothing?", "Jefe"])j",
                 R"j("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")j");
  EXPECT_BUILTIN(c, "crypto.hmac.equal", R"j(["abc", "abc"])j", "true");
  EXPECT_BUILTIN(c, "crypto.hmac.equal", R"j(["abc", "abd"])j", "false");
  EXPECT_BUILTIN(c, "crypto.hmac.equal", R"j(["abc", "ab"])j", "false");
}

// A certificate for `cn` signed by `issuer_key` (self-signed when issuer is null).
struct TestCert {
  ossl::EvpPkey key;
  ossl::X509Ptr cert;
  std::string pem;
};

TestCert make_cert(const std::string& cn, bool ca, const TestCert* issuer, const char* san = nullptr) {
  TestCert t;
  t.key.reset(EVP_EC_gen("P-256"));
  t.cert.reset(X509_new());
  X509* x = t.cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365 * 20);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("cloister"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert.get()) : X509_get_subject_name(x));
  X509_set_pubkey(x, t.key.get());
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer ? issuer->cert.get() : x, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const char* value) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  if (san) add(NID_subject_alt_name, san);
  X509_sign(x, issuer ? issuer->key.get() : t.key.get(), EVP_sha256());
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  t.pem.assign(data, static_cast<std::size_t>(n));
  return t;
}

TEST(RegoCrypto, ParseCertificatesInGoShape) {
  BuiltinCaller c;
  TestCert root = make_cert("Test Root", true, nullptr);
  TestCert leaf = make_cert("leaf.example", false, &root, "DNS:leaf.example,URI:spiffe://example/x,IP:10.0.0.1");
  auto r = c.call("crypto.x509.parse_certificates", A(S(leaf.pem + root.pem)));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->array_items().size(), 2u);
  const Value& l = r->array_items()[0];
  EXPECT_EQ(*l.get("Subject")->get("CommonName"), S("leaf.example"));
  EXPECT_EQ(*l.get("Subject")->get("Organization"), J(R"j(["cloister"])j"));
  EXPECT_EQ(*l.get("Issuer")->get("CommonName"), S("Test Root"));
  EXPECT_EQ(*l.get("DNSNames"), J(R"j(["leaf.example"])j"));
  EXPECT_EQ(*l.get("URIStrings"), J(R"j(["spiffe://example/x"])j"));
  EXPECT_EQ(*l.get("IPAddresses"), J(R"j(["10.0.0.1"])j"));
  EXPECT_EQ(*l.get("SerialNumber"), I(4242));
  EXPECT_EQ(*l.get("SignatureAlgorithm"), I(10));  // Go's x509.ECDSAWithSHA256
  EXPECT_EQ(*l.get("PublicKeyAlgorithm"), I(3));   // Go's x509.ECDSA
  EXPECT_EQ(*l.get("KeyUsage"), I(1));             // x509.KeyUsageDigitalSignature
  EXPECT_TRUE(l.get("IsCA")->is_false());
  EXPECT_TRUE(r->array_items()[1].get("IsCA")->is_true());
  EXPECT_TRUE(r->array_items()[1].get("DNSNames")->is_null());  // Go's nil slice
  // base64 of DER and base64 of PEM are accepted as well.
  auto raw = l.get("Raw")->as_string();
  auto again = c.call("crypto.x509.parse_certificates", A(S(raw)));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again->array_items()[0].get("Raw"), S(raw));
  EXPECT_BUILTIN_ERROR(c, "crypto.x509.parse_certificates", R"j(["YmFkc3RyaW5n"])j", kBuiltin, "x509: malformed certificate");
  EXPECT_BUILTIN_ERROR(c, "crypto.x509.parse_certificates", R"j(["not base64!"])j", kBuiltin, "illegal base64 data");
}

TEST(RegoCrypto, ParseAndVerifyChainsRootFirst) {
  BuiltinCaller c;
  // Verification uses the evaluation clock; the certificates were just issued.
  c.ctx().now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  TestCert root = make_cert("Root", true, nullptr);
  TestCert mid = make_cert("Intermediate", true, &root);
  TestCert leaf = make_cert("leaf", false, &mid, "DNS:leaf");
  auto r = c.call("crypto.x509.parse_and_verify_certificates", A(S(root.pem + mid.pem + leaf.pem)));
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->array_items()[0].is_true());
  const auto& chain = r->array_items()[1].array_items();
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(*chain[0].get("Subject")->get("CommonName"), S("leaf"));
  EXPECT_EQ(*chain[2].get("Subject")->get("CommonName"), S("Root"));
  // A chain to a different root does not verify.
  TestCert other = make_cert("Other Root", true, nullptr);
  r = c.call("crypto.x509.parse_and_verify_certificates", A(S(other.pem + mid.pem + leaf.pem)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, J(R"j([false, []])j"));
}

TEST(RegoJwt, Rfc7515AppendixA1) {
  BuiltinCaller c;
  // RFC 7515 Appendix A.1: the JWS Protected Header and payload with their exact bytes (CRLFs).
  const char* key = R"j({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})j";
  auto tok = c.call("io.jwt.encode_sign_raw", A(S("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"),
                                                 S("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"),
                                                 S(key)));
  ASSERT_TRUE(tok.has_value()) << tok.error().message;
  const std::string want =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  EXPECT_EQ(*tok, S(want));
  auto dec = c.call("io.jwt.decode", A(S(want)));
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(dec->array_items()[1], J(R"j({"iss": "joe", "exp": 1300819380, "http://example.com/is_root": true})j"));
  EXPECT_BUILTIN_ERROR(c, "io.jwt.decode", R"j(["a.b"])j", kBuiltin, "encoded JWT must have 3 sections, found 2");
  EXPECT_BUILTIN_ERROR(c, "io.jwt.encode_sign_raw", A(S("{\"alg\":\"dummy\"}"), S("{}"), S(key)), kBuiltin,
                       "unknown JWS algorithm: dummy");
  EXPECT_BUILTIN_ERROR(c, "io.jwt.encode_sign_raw", A(S("{\"typ\":\"JWT\",\"alg\":\"HS256\"}"), S("e"), S(key)), kBuiltin,
                       "type is JWT but payload is not JSON");
}

TEST(RegoJwt, SignVerifyAndClaims) {
  BuiltinCaller c;
  c.ctx().now_ns = 2000LL * 1000000000;
  Value jwk = J(R"j({"kty": "oct", "k": "c2VjcmV0"})j");  // "secret"
  auto tok = c.call("io.jwt.encode_sign", A(J(R"j({"alg": "HS256", "typ": "JWT"})j"),
                                            J(R"j({"iss": "me", "aud": "you", "nbf": 1000, "exp": 3000})j"), jwk));
  ASSERT_TRUE(tok.has_value()) << tok.error().message;
  EXPECT_BUILTIN(c, "io.jwt.verify_hs256", A(*tok, S("secret")), "true");
  EXPECT_BUILTIN(c, "io.jwt.verify_hs256", A(*tok, S("other")), "false");
  EXPECT_BUILTIN(c, "io.jwt.verify_hs384", A(*tok, S("secret")), "false");  // header says HS256
  auto ok = c.call("io.jwt.decode_verify", A(*tok, J(R"j({"secret": "secret", "iss": "me", "aud": "you"})j")));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_TRUE(ok->array_items()[0].is_true());
  const Value unverified = J(R"j([false, {}, {}])j");
  EXPECT_BUILTIN(c, "io.jwt.decode_verify", A(*tok, J(R"j({"secret": "secret", "aud": "you", "time": 3000000000000})j")),
                 "[false, {}, {}]");  // expired
  EXPECT_BUILTIN(c, "io.jwt.decode_verify", A(*tok, J(R"j({"secret": "secret", "aud": "you", "time": 999000000000})j")),
                 "[false, {}, {}]");  // not yet valid
  EXPECT_BUILTIN(c, "io.jwt.decode_verify", A(*tok, J(R"j({"secret": "secret"})j")), "[false, {}, {}]");  // aud unchecked
  EXPECT_BUILTIN(c, "io.jwt.decode_verify", A(*tok, J(R"j({"secret": "secret", "aud": "you", "iss": "x"})j")), "[false, {}, {}]");
  EXPECT_BUILTIN_ERROR(c, "io.jwt.decode_verify", A(*tok, J(R"j({"secret": "secret", "bogus": 1})j")), kBuiltin,
                       "unknown token validation constraint: bogus");
  (void)unverified;

  // ES256 with a JWK private key; verification with the public PEM key.
  ossl::EvpPkey ec(EVP_EC_gen("P-256"));
  auto jwks = c.call("crypto.parse_private_keys", A(S([&] {
                       ossl::Bio b(BIO_new(BIO_s_mem()));
                       PEM_write_bio_PrivateKey(b.get(), ec.get(), nullptr, nullptr, 0, nullptr, nullptr);
                       char* d = nullptr;
                       long n = BIO_get_mem_data(b.get(), &d);
                       return std::string(d, static_cast<std::size_t>(n));
                     }())));
  ASSERT_TRUE(jwks.has_value());
  ASSERT_EQ(jwks->array_items().size(), 1u);
  auto es = c.call("io.jwt.encode_sign", A(J(R"j({"alg": "ES256"})j"), J(R"j({"sub": "x"})j"), jwks->array_items()[0]));
  ASSERT_TRUE(es.has_value()) << es.error().message;
  ossl::Bio pb(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(pb.get(), ec.get());
  char* pd = nullptr;
  long pn = BIO_get_mem_data(pb.get(), &pd);
  std::string pub(pd, static_cast<std::size_t>(pn));
  EXPECT_BUILTIN(c, "io.jwt.verify_es256", A(*es, S(pub)), "true");
  ossl::EvpPkey other(EVP_EC_gen("P-256"));
  ossl::Bio ob(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(ob.get(), other.get());
  char* od = nullptr;
  long on = BIO_get_mem_data(ob.get(), &od);
  EXPECT_BUILTIN(c, "io.jwt.verify_es256", A(*es, S(std::string(od, static_cast<std::size_t>(on)))), "false");
}

// A JWK Set signs with its first key (OPA: keys.Keys[0] of jwk.ParseString), in both encode_sign
// forms; an empty set is an error. Found on StyraInc/lib.jwt's tests, which sign with
// {"keys": [k]}: until session 13 that was undefined.
TEST(RegoJwt, EncodeSignWithAKeySetUsesItsFirstKey) {
  BuiltinCaller c;
  const Value header = J(R"j({"alg": "HS256"})j");
  const Value claims = J(R"j({"a": 1})j");
  const std::string want = "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.LrlPmSL4FxrzAHJSYbKzsA997COXdYCeFKlt3zt5DIY";
  const Value secret = J(R"j({"kty": "oct", "k": "c2VjcmV0"})j");  // "secret"
  EXPECT_BUILTIN(c, "io.jwt.encode_sign", A(header, claims, secret), "\"" + want + "\"");
  const Value set = Value::object({{Value::string("keys"), Value::array({secret, J(R"j({"kty": "oct", "k": "b3RoZXI"})j")})}});
  EXPECT_BUILTIN(c, "io.jwt.encode_sign", A(header, claims, set), "\"" + want + "\"");
  EXPECT_BUILTIN(c, "io.jwt.encode_sign_raw",
                 A(S(R"({"alg":"HS256"})"), S(R"({"a":1})"), S(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})")),
                 "\"" + want + "\"");
  EXPECT_BUILTIN(c, "io.jwt.verify_hs256", A(S(want), S("secret")), "true");
  EXPECT_BUILTIN_ERROR(c, "io.jwt.encode_sign", A(header, claims, J(R"j({"keys": []})j")), kBuiltin,
                       "failed to parse JWK: the key set has no key");
}

}  // namespace
}  // namespace cloister::rego
