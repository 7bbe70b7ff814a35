// Internal X.509 helpers shared by chain verification, the simulator and the evidence readers.
#pragma once

#include <ctime>
#include <string>

#include "cloister/common/bytes.h"
#include "cloister/common/digest.h"
#include "cloister/common/openssl.h"
#include "cloister/common/result.h"

namespace cloister::attest::x509 {

Result<ossl::X509Ptr> from_der(ByteView der);
Bytes to_der(const X509* cert);
Sha256 fingerprint(const X509* cert);
std::string name_string(const X509_NAME* name);  // one line, RFC 2253 style
std::string common_name(const X509_NAME* name);  // "" when absent
bool is_self_issued(const X509* cert);

// The TBSCertificate bytes exactly as encoded in `der` (the signed bytes), by walking the outer
// SEQUENCE with a bounded DER reader instead of re-encoding.
Result<ByteView> tbs_bytes(ByteView der);

// Checks that the certificate declares RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48 (trailer 1)
// in both signature AlgorithmIdentifiers, then verifies the signature with exactly those
// parameters. OpenSSL's X509_verify would accept whatever salt the certificate declares.
Status verify_pss_sha384(ByteView cert_der, const X509* cert, EVP_PKEY* issuer_key);

// notBefore <= now <= notAfter.
Status check_validity(const X509* cert, std::time_t now);
std::time_t not_before(const X509* cert);
std::time_t not_after(const X509* cert);

}  // namespace cloister::attest::x509
