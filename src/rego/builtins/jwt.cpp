// JSON Web Tokens (OPA topdown/tokens.go): io.jwt.decode, decode_verify, verify_<alg>,
// encode_sign, encode_sign_raw. JWS compact serialisation (RFC 7515), algorithms of RFC 7518 §3
// (HS*, RS*, PS*, ES*) and EdDSA (RFC 8037), keys as PEM certificates / public keys or JWK(S).
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cmath>
#include <optional>

#include "builtins/builtin.h"
#include "builtins/codec.h"
#include "builtins/crypto_util.h"
#include "builtins/family_util.h"
#include "cloister/common/encoding.h"
#include "cloister/common/openssl.h"

namespace cloister::rego::builtins {
namespace {

enum class Family { Hmac, Rsa, Pss, Ecdsa, EdDsa };

struct Alg {
  const char* name;
  Family family;
  const char* digest;  // OpenSSL digest name; nullptr for EdDSA
  int ec_bytes;        // ES*: size of r and s (RFC 7518 §3.4)
};

constexpr Alg kAlgs[] = {
    {"HS256", Family::Hmac, "sha256", 0},  {"HS384", Family::Hmac, "sha384", 0},  {"HS512", Family::Hmac, "sha512", 0},
    {"RS256", Family::Rsa, "sha256", 0},   {"RS384", Family::Rsa, "sha384", 0},   {"RS512", Family::Rsa, "sha512", 0},
    {"PS256", Family::Pss, "sha256", 0},   {"PS384", Family::Pss, "sha384", 0},   {"PS512", Family::Pss, "sha512", 0},
    {"ES256", Family::Ecdsa, "sha256", 32}, {"ES384", Family::Ecdsa, "sha384", 48}, {"ES512", Family::Ecdsa, "sha512", 66},
    {"EdDSA", Family::EdDsa, nullptr, 0},
};

const Alg* find_alg(std::string_view name) {
  for (const auto& a : kAlgs)
    if (name == a.name) return &a;
  return nullptr;
}

struct Token {
  std::string header_b64, payload_b64;
  std::string header_raw, payload_raw, signature;
  Value header, payload;
};

BResult<Token> split_token(const BuiltinContext& ctx, const std::string& jwt) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto dot = jwt.find('.', start);
    parts.push_back(jwt.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 3)
    return tl::unexpected(builtin_error(ctx, "encoded JWT must have 3 sections, found " + std::to_string(parts.size())));
  Token t;
  t.header_b64 = parts[0];
  t.payload_b64 = parts[1];
  if (!b64url_decode_any(parts[0], t.header_raw)) return tl::unexpected(builtin_error(ctx, "JWT header had invalid encoding: illegal base64 data"));
  if (!b64url_decode_any(parts[1], t.payload_raw)) return tl::unexpected(builtin_error(ctx, "JWT payload had invalid encoding: illegal base64 data"));
  if (!b64url_decode_any(parts[2], t.signature)) return tl::unexpected(builtin_error(ctx, "JWT signature had invalid encoding: illegal base64 data"));
  auto h = parse_json(t.header_raw);
  if (!h || !h->is_object()) return tl::unexpected(builtin_error(ctx, "JWT header had invalid encoding: not a JSON object"));
  t.header = *h;
  return t;
}

// The payload as JSON; "cty": "JWT" would mean a nested token, which OPA rejects too.
BResult<Value> token_payload(const BuiltinContext& ctx, const Token& t) {
  auto p = parse_json(t.payload_raw);
  if (!p || !p->is_object()) return tl::unexpected(builtin_error(ctx, "JWT payload had invalid encoding: not a JSON object"));
  return *p;
}

BuiltinResult decode(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& jwt = *REGO_ARG(arg_string(ctx, a, 0));
  Token t = REGO_ARG(split_token(ctx, jwt));
  Value payload = REGO_ARG(token_payload(ctx, t));
  return Value::array({t.header, payload, Value::string(hex_encode(as_bytes(t.signature)))});
}

// ---- keys ----

ossl::Bignum bn_from_b64url(const Value* v) {
  std::string raw;
  if (!v || !v->is_string() || !b64url_decode_any(v->as_string(), raw)) return nullptr;
  return ossl::Bignum(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()), nullptr));
}

struct Key {
  ossl::EvpPkey pkey;  // asymmetric keys
  std::string secret;  // "oct" keys
  bool is_secret = false;
};

ossl::EvpPkey pkey_fromdata(const char* type, OSSL_PARAM_BLD* bld, bool priv) {
  ossl::EvpPkey out;
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  ossl::EvpPkeyCtx pctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pk = nullptr;
  if (params && pctx && EVP_PKEY_fromdata_init(pctx.get()) == 1 &&
      EVP_PKEY_fromdata(pctx.get(), &pk, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) == 1)
    out.reset(pk);
  OSSL_PARAM_free(params);
  return out;
}

// A JWK (RFC 7517) as a key; nullopt when unusable.
std::optional<Key> key_from_jwk(const Value& jwk) {
  if (!jwk.is_object()) return std::nullopt;
  const Value* kty = jwk.get("kty");
  if (!kty || !kty->is_string()) return std::nullopt;
  const std::string& t = kty->as_string();
  Key key;
  if (t == "oct") {
    const Value* k = jwk.get("k");
    if (!k || !k->is_string() || !b64url_decode_any(k->as_string(), key.secret)) return std::nullopt;
    key.is_secret = true;
    return key;
  }
  std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD_free>> bld(OSSL_PARAM_BLD_new());
  if (t == "RSA") {
    auto n = bn_from_b64url(jwk.get("n"));
    auto e = bn_from_b64url(jwk.get("e"));
    if (!n || !e) return std::nullopt;
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    auto d = bn_from_b64url(jwk.get("d"));
    std::vector<ossl::Bignum> keep;
    if (d) {
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get());
      const std::pair<const char*, const char*> crt[] = {{"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
                                                         {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
                                                         {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
                                                         {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
                                                         {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
      for (auto [name, param] : crt) {
        auto v = bn_from_b64url(jwk.get(name));
        if (!v) continue;
        OSSL_PARAM_BLD_push_BN(bld.get(), param, v.get());
        keep.push_back(std::move(v));
      }
    }
    key.pkey = pkey_fromdata("RSA", bld.get(), d != nullptr);
  } else if (t == "EC") {
    const Value* crv = jwk.get("crv");
    if (!crv || !crv->is_string()) return std::nullopt;
    const std::string& c = crv->as_string();
    const char* group = c == "P-256" ? "prime256v1" : c == "P-384" ? "secp384r1" : c == "P-521" ? "secp521r1" : nullptr;
    std::string x, y;
    if (!group || !jwk.get("x") || !jwk.get("y") || !jwk.get("x")->is_string() || !jwk.get("y")->is_string() ||
        !b64url_decode_any(jwk.get("x")->as_string(), x) || !b64url_decode_any(jwk.get("y")->as_string(), y))
      return std::nullopt;
    std::string point = "\x04" + x + y;  // SEC 1 §2.3.3 uncompressed point
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    auto d = bn_from_b64url(jwk.get("d"));
    if (d) OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
    key.pkey = pkey_fromdata("EC", bld.get(), d != nullptr);
  } else if (t == "OKP") {
    const Value* crv = jwk.get("crv");
    std::string x, d;
    if (!crv || !crv->is_string() || crv->as_string() != "Ed25519") return std::nullopt;
    if (const Value* dv = jwk.get("d"); dv && dv->is_string() && b64url_decode_any(dv->as_string(), d)) {
      key.pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                  reinterpret_cast<const unsigned char*>(d.data()), d.size()));
    } else if (const Value* xv = jwk.get("x"); xv && xv->is_string() && b64url_decode_any(xv->as_string(), x)) {
      key.pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                 reinterpret_cast<const unsigned char*>(x.data()), x.size()));
    }
  } else {
    return std::nullopt;
  }
  ERR_clear_error();
  if (!key.pkey) return std::nullopt;
  return key;
}

// Verification keys from a PEM certificate, a PEM public key, or a JWK / JWK set (JSON text).
std::vector<Key> verification_keys(const std::string& text) {
  std::vector<Key> keys;
  if (std::string_view(text).find("-----BEGIN") != std::string_view::npos) {
    ossl::Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (text.find("CERTIFICATE") != std::string::npos) {
      ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (cert) keys.push_back(Key{ossl::EvpPkey(X509_get_pubkey(cert.get())), {}, false});
    } else {
      ossl::EvpPkey pk(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
      if (pk) keys.push_back(Key{std::move(pk), {}, false});
    }
    ERR_clear_error();
    return keys;
  }
  auto j = parse_json(text);
  if (!j || !j->is_object()) return keys;
  if (const Value* set = j->get("keys"); set && set->is_array()) {
    for (const auto& k : set->array_items())
      if (auto key = key_from_jwk(k)) keys.push_back(std::move(*key));
  } else if (auto key = key_from_jwk(*j)) {
    keys.push_back(std::move(*key));
  }
  return keys;
}

// ES* signatures are r || s of fixed width (RFC 7518 §3.4); OpenSSL wants DER.
std::optional<std::string> ecdsa_raw_to_der(std::string_view raw, int width) {
  if (raw.size() != static_cast<std::size_t>(2 * width)) return std::nullopt;
  ossl::EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), width, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + width, width, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> ecdsa_der_to_raw(std::string_view der, int width) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(static_cast<std::size_t>(2 * width), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, width) != width || BN_bn2binpad(s, o + width, width) != width) return std::nullopt;
  return out;
}

bool configure_padding(EVP_PKEY_CTX* pctx, const Alg& alg, bool verify) {
  if (alg.family == Family::Pss) {
    // PS*: salt length equals the hash length when signing; verification accepts any (RFC 7518 §3.5).
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, verify ? RSA_PSS_SALTLEN_AUTO : RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  if (alg.family == Family::Rsa) return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  return true;
}

bool verify_with(const Alg& alg, const Key& key, std::string_view input, std::string_view sig) {
  if (alg.family == Family::Hmac) {
    if (!key.is_secret) return false;
    auto mac = hmac_raw(alg.digest, key.secret, input);
    return mac && mac->size() == sig.size() && CRYPTO_memcmp(mac->data(), sig.data(), sig.size()) == 0;
  }
  if (key.is_secret || !key.pkey) return false;
  int type = EVP_PKEY_get_base_id(key.pkey.get());
  bool type_ok = (alg.family == Family::Rsa || alg.family == Family::Pss) ? type == EVP_PKEY_RSA
                 : alg.family == Family::Ecdsa                           ? type == EVP_PKEY_EC
                                                                         : type == EVP_PKEY_ED25519;
  if (!type_ok) return false;
  std::string der_sig(sig);
  if (alg.family == Family::Ecdsa) {
    auto d = ecdsa_raw_to_der(sig, alg.ec_bytes);
    if (!d) return false;
    der_sig = *d;
  }
  ossl::EvpMdCtx md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* digest = alg.digest ? EVP_get_digestbyname(alg.digest) : nullptr;
  bool ok = md && EVP_DigestVerifyInit(md.get(), &pctx, digest, nullptr, key.pkey.get()) == 1 &&
            configure_padding(pctx, alg, true) &&
            EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(der_sig.data()), der_sig.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::optional<std::string> sign_with(const Alg& alg, const Key& key, std::string_view input) {
  if (alg.family == Family::Hmac) {
    if (!key.is_secret) return std::nullopt;
    return hmac_raw(alg.digest, key.secret, input);
  }
  if (key.is_secret || !key.pkey) return std::nullopt;
  ossl::EvpMdCtx md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* digest = alg.digest ? EVP_get_digestbyname(alg.digest) : nullptr;
  std::size_t len = 0;
  if (!md || EVP_DigestSignInit(md.get(), &pctx, digest, nullptr, key.pkey.get()) != 1 ||
      !configure_padding(pctx, alg, false) ||
      EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  sig.resize(len);
  if (alg.family == Family::Ecdsa) return ecdsa_der_to_raw(sig, alg.ec_bytes);
  return sig;
}

bool verify_token(const Token& t, const Alg& alg, const std::vector<Key>& keys) {
  std::string input = t.header_b64 + "." + t.payload_b64;
  for (const auto& k : keys)
    if (verify_with(alg, k, input, t.signature)) return true;
  return false;
}

// io.jwt.verify_<alg>(jwt, key): true only when the header names that algorithm and a key verifies it.
template <const char* Name>
BuiltinResult verify_alg(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& jwt = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& key_text = *REGO_ARG(arg_string(ctx, a, 1));
  Token t = REGO_ARG(split_token(ctx, jwt));
  const Alg* alg = find_alg(Name);
  const Value* hdr_alg = t.header.get("alg");
  if (!alg || !hdr_alg || !hdr_alg->is_string() || hdr_alg->as_string() != Name) return Value::boolean(false);
  std::vector<Key> keys;
  if (alg->family == Family::Hmac) {
    keys.push_back(Key{nullptr, key_text, true});
  } else {
    keys = verification_keys(key_text);
  }
  return Value::boolean(verify_token(t, *alg, keys));
}

// exp / nbf claims are NumericDate seconds; `now` is in nanoseconds.
BResult<bool> time_claims_ok(const BuiltinContext& ctx, const Value& payload, double now_ns) {
  if (const Value* exp = payload.get("exp")) {
    if (!exp->is_number()) return tl::unexpected(builtin_error(ctx, "exp value must be a number"));
    if (now_ns >= exp->to_double() * 1e9) return false;
  }
  if (const Value* nbf = payload.get("nbf")) {
    if (!nbf->is_number()) return tl::unexpected(builtin_error(ctx, "nbf value must be a number"));
    if (now_ns < nbf->to_double() * 1e9) return false;
  }
  return true;
}

BuiltinResult decode_verify(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& jwt = *REGO_ARG(arg_string(ctx, a, 0));
  const Value& constraints = *REGO_ARG(arg_kind(ctx, a, 1, Kind::Object));
  Value unverified = Value::array({Value::boolean(false), Value::empty_object(), Value::empty_object()});
  std::vector<Key> keys;
  bool have_key = false;
  std::optional<std::string> want_alg, want_iss, want_aud;
  double now = static_cast<double>(ctx.now_ns);
  for (const auto& [k, v] : constraints.object_entries()) {
    std::string name = k.is_string() ? k.as_string() : to_json(k);
    if (name == "cert") {
      if (!v.is_string()) return tl::unexpected(builtin_error(ctx, "cert constraint: must be a string"));
      keys = verification_keys(v.as_string());
      have_key = true;
    } else if (name == "secret") {
      if (!v.is_string()) return tl::unexpected(builtin_error(ctx, "secret constraint: must be a string"));
      keys.push_back(Key{nullptr, v.as_string(), true});
      have_key = true;
    } else if (name == "alg" || name == "iss" || name == "aud") {
      if (!v.is_string()) return tl::unexpected(builtin_error(ctx, name + " constraint: must be a string"));
      (name == "alg" ? want_alg : name == "iss" ? want_iss : want_aud) = v.as_string();
    } else if (name == "time") {
      if (!v.is_number()) return tl::unexpected(builtin_error(ctx, "time constraint: must be a number"));
      now = v.to_double();
    } else {
      return tl::unexpected(builtin_error(ctx, "unknown token validation constraint: " + name));
    }
  }
  if (!have_key) return tl::unexpected(builtin_error(ctx, "no key or secret provided"));
  Token t = REGO_ARG(split_token(ctx, jwt));
  // Nested tokens (RFC 7519 §5.2 "cty": "JWT") are verified layer by layer with the same keys;
  // the innermost header and claims are the result.
  for (int depth = 0;; ++depth) {
    const Value* hdr_alg = t.header.get("alg");
    if (!hdr_alg || !hdr_alg->is_string()) return unverified;
    const Alg* alg = find_alg(hdr_alg->as_string());
    if (!alg || (want_alg && *want_alg != alg->name)) return unverified;
    // RFC 7515 §4.1.11: a critical header extension we do not implement makes the JWS invalid.
    if (t.header.get("crit")) return unverified;
    if (!verify_token(t, *alg, keys)) return unverified;
    const Value* cty = t.header.get("cty");
    if (!cty || !cty->is_string() || (cty->as_string() != "JWT" && cty->as_string() != "jwt")) break;
    if (depth > 8) return unverified;
    Token inner = REGO_ARG(split_token(ctx, t.payload_raw));
    t = std::move(inner);
  }
  Value payload = REGO_ARG(token_payload(ctx, t));
  bool times = REGO_ARG(time_claims_ok(ctx, payload, now));
  if (!times) return unverified;
  if (want_iss) {
    const Value* iss = payload.get("iss");
    if (!iss || !iss->is_string() || iss->as_string() != *want_iss) return unverified;
  }
  // RFC 7519 §4.1.3: a token with an audience must be checked against ours; one without may
  // not be accepted when we expect an audience.
  const Value* aud = payload.get("aud");
  if (aud || want_aud) {
    if (!aud || !want_aud) return unverified;
    bool match = aud->is_string() ? aud->as_string() == *want_aud : false;
    if (aud->is_array())
      for (const auto& x : aud->array_items()) match = match || (x.is_string() && x.as_string() == *want_aud);
    if (!match) return unverified;
  }
  return Value::array({Value::boolean(true), t.header, payload});
}

// ---- signing ----

BResult<std::string> sign_compact(const BuiltinContext& ctx, const std::string& header, const std::string& payload,
                                  const Value& jwk) {
  auto hdr = parse_json(header);
  if (header.empty())
    return tl::unexpected(builtin_error(ctx, "missing or invalid 'alg' header: cannot parse JSON: cannot parse empty string"));
  if (!hdr && !header.empty() && header[0] == '{')
    return tl::unexpected(builtin_error(ctx, "missing or invalid 'alg' header: cannot parse JSON"));
  const Value* alg_v = hdr && hdr->is_object() ? hdr->get("alg") : nullptr;
  if (!alg_v || !alg_v->is_string())
    return tl::unexpected(builtin_error(ctx, "missing or invalid 'alg' header: jwsbb: header \"alg\" not found"));
  const Alg* alg = find_alg(alg_v->as_string());
  if (!alg) return tl::unexpected(builtin_error(ctx, "unknown JWS algorithm: " + alg_v->as_string()));
  if (const Value* typ = hdr->get("typ"); typ && typ->is_string() && typ->as_string() == "JWT") {
    auto p = parse_json(payload);
    if (!p) return tl::unexpected(builtin_error(ctx, "type is JWT but payload is not JSON"));
  }
  // A JWK Set signs with its first key, as OPA's commonBuiltinJWTEncodeSign takes keys.Keys[0] of
  // what jwk.ParseString read (a single key is a set of one there).
  const Value* signing = &jwk;
  if (const Value* set = jwk.get("keys")) {
    if (!set->is_array() || set->array_items().empty())
      return tl::unexpected(builtin_error(ctx, "failed to parse JWK: the key set has no key"));
    signing = &set->array_items()[0];
  }
  auto key = key_from_jwk(*signing);
  if (!key) return tl::unexpected(builtin_error(ctx, "failed to parse JWK"));
  std::string input = b64url_nopad(header) + "." + b64url_nopad(payload);
  auto sig = sign_with(*alg, *key, input);
  if (!sig) return tl::unexpected(builtin_error(ctx, std::string("failed to sign with ") + alg->name));
  return input + "." + b64url_nopad(*sig);
}

BuiltinResult encode_sign_raw(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& header = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& payload = *REGO_ARG(arg_string(ctx, a, 1));
  const std::string& key = *REGO_ARG(arg_string(ctx, a, 2));
  auto jwk = parse_json(key);
  if (!jwk) return tl::unexpected(builtin_error(ctx, "failed to parse JWK: invalid JSON"));
  std::string tok = REGO_ARG(sign_compact(ctx, header, payload, *jwk));
  return Value::string(std::move(tok));
}

BuiltinResult encode_sign(BuiltinContext& ctx, std::span<const Value> a) {
  const Value& header = *REGO_ARG(arg_kind(ctx, a, 0, Kind::Object));
  const Value& payload = *REGO_ARG(arg_kind(ctx, a, 1, Kind::Object));
  const Value& key = *REGO_ARG(arg_kind(ctx, a, 2, Kind::Object));
  std::string tok = REGO_ARG(sign_compact(ctx, to_json(header), to_json(payload), key));
  return Value::string(std::move(tok));
}

constexpr char kHS256[] = "HS256", kHS384[] = "HS384", kHS512[] = "HS512";
constexpr char kRS256[] = "RS256", kRS384[] = "RS384", kRS512[] = "RS512";
constexpr char kPS256[] = "PS256", kPS384[] = "PS384", kPS512[] = "PS512";
constexpr char kES256[] = "ES256", kES384[] = "ES384", kES512[] = "ES512";
constexpr char kEdDSA[] = "EdDSA";

}  // namespace

void register_jwt(Registry& r) {
  r.add({"io.jwt.decode", 1, decode});
  r.add({"io.jwt.decode_verify", 2, decode_verify, /*deterministic=*/false});
  r.add({"io.jwt.encode_sign", 3, encode_sign, /*deterministic=*/false});
  r.add({"io.jwt.encode_sign_raw", 3, encode_sign_raw, /*deterministic=*/false});
  r.add({"io.jwt.verify_hs256", 2, verify_alg<kHS256>});
  r.add({"io.jwt.verify_hs384", 2, verify_alg<kHS384>});
  r.add({"io.jwt.verify_hs512", 2, verify_alg<kHS512>});
  r.add({"io.jwt.verify_rs256", 2, verify_alg<kRS256>});
  r.add({"io.jwt.verify_rs384", 2, verify_alg<kRS384>});
  r.add({"io.jwt.verify_rs512", 2, verify_alg<kRS512>});
  r.add({"io.jwt.verify_ps256", 2, verify_alg<kPS256>});
  r.add({"io.jwt.verify_ps384", 2, verify_alg<kPS384>});
  r.add({"io.jwt.verify_ps512", 2, verify_alg<kPS512>});
  r.add({"io.jwt.verify_es256", 2, verify_alg<kES256>});
  r.add({"io.jwt.verify_es384", 2, verify_alg<kES384>});
  r.add({"io.jwt.verify_es512", 2, verify_alg<kES512>});
  r.add({"io.jwt.verify_eddsa", 2, verify_alg<kEdDSA>});
}

}  // namespace cloister::rego::builtins
