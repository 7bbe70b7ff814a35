// Issuing certificates with AMD's algorithms (RSASSA-PSS SHA-384 salt 48 over RSA-4096 issuers,
// P-384 leaves, AMD extension arc). Used by the simulated firmware and by tests that need a
// tampered chain (wrong salt, foreign ARK).
#pragma once

#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "cloister/common/bytes.h"
#include "cloister/common/openssl.h"
#include "cloister/common/result.h"

namespace cloister::attest::x509 {

struct CertSpec {
  std::string common_name;
  long serial = 1;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  bool ca = false;
  std::vector<std::pair<std::string, Bytes>> extensions;  // dotted OID → extnValue content
  int pss_salt = 48;                                       // AMD uses 48; tests vary it
  std::string organization = "cloister INSECURE SEV-SNP simulator";
};

Result<ossl::EvpPkey> generate_rsa(int bits);
Result<ossl::EvpPkey> generate_p384();

// Signs with issuer_key using RSASSA-PSS/SHA-384/MGF1-SHA-384. issuer == nullptr: self-signed.
Result<ossl::X509Ptr> issue(const CertSpec& spec, EVP_PKEY* subject_key, const X509* issuer, EVP_PKEY* issuer_key);

// DER encodings used for AMD extension values.
Bytes der_integer(long value);
Bytes der_ia5(std::string_view s);

Result<std::string> private_key_pem(EVP_PKEY* key);
Result<ossl::EvpPkey> private_key_from_pem(ByteView pem);
std::string cert_pem(const X509* cert);

// A CRL issued by `issuer` listing `revoked_serials`, signed like the certificates.
Result<Bytes> issue_crl(const X509* issuer, EVP_PKEY* issuer_key, const std::vector<long>& revoked_serials,
                        std::time_t this_update, std::time_t next_update);

}  // namespace cloister::attest::x509
