// Mechanism: "is this report genuinely signed by an AMD (or, when explicitly trusted, simulated)
// SEV-SNP firmware key?" It answers nothing about whether the report is acceptable; that is the
// appraisal policy's job (policy.h).
//
// Chain (AMD KDS spec 57230, §2; SEV-SNP ABI 56860 §2.3): ARK (RSA-4096, self-signed) → ASK (VCEK
// path) or ASVK (VLEK path) → VCEK/VLEK (ECDSA P-384). ARK/ASK/ASVK signatures are RSASSA-PSS with
// SHA-384, MGF1-SHA-384 and a 48-byte salt; the report is ECDSA P-384/SHA-384 over [0x000, 0x2A0).
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cloister/attest/report.h"
#include "cloister/common/bytes.h"
#include "cloister/common/digest.h"
#include "cloister/common/result.h"

namespace cloister::attest {

enum class RootKind { amd, sim };
std::string_view root_kind_name(RootKind k);  // "amd", "sim"

// Failure messages start with one of these tags in brackets, e.g. "[tcb-mismatch] ...", so callers
// and tests can tell the checks apart without parsing prose.
namespace check {
inline constexpr std::string_view kCertParse = "cert-parse";
inline constexpr std::string_view kCertAlgorithm = "cert-algorithm";
inline constexpr std::string_view kCertValidity = "cert-validity";
inline constexpr std::string_view kChain = "chain";
inline constexpr std::string_view kChainSignature = "chain-signature";
inline constexpr std::string_view kUntrustedRoot = "untrusted-root";
inline constexpr std::string_view kRevoked = "revoked";
inline constexpr std::string_view kProductMismatch = "product-mismatch";
inline constexpr std::string_view kReportSignature = "report-signature";
inline constexpr std::string_view kSigningKeyMismatch = "signing-key-mismatch";
inline constexpr std::string_view kTcbMismatch = "tcb-mismatch";
inline constexpr std::string_view kChipIdMismatch = "chip-id-mismatch";
}  // namespace check

// VCEK/VLEK extensions under 1.3.6.1.4.1.3704.1 (KDS spec 57230, "VCEK certificate
// extensions"). SPLs are DER INTEGERs, productName/cspID IA5Strings, hwID raw bytes.
struct CertExtensions {
  std::optional<std::int64_t> struct_version;  // .1
  std::optional<std::string> product_name;     // .2
  std::optional<std::uint8_t> bl_spl;          // .3.1
  std::optional<std::uint8_t> tee_spl;         // .3.2
  std::optional<std::uint8_t> snp_spl;         // .3.3
  std::optional<std::uint8_t> ucode_spl;       // .3.8
  std::optional<std::uint8_t> fmc_spl;         // .3.9 (Turin)
  std::optional<Bytes> hwid;                   // .4 (VCEK: 64 bytes; Turin: 8)
  std::optional<std::string> csp_id;           // .5 (VLEK)
};
// Parses a DER certificate and its AMD extensions. Malformed or duplicated AMD extensions are
// errors; unknown sub-OIDs under .3 (reserved SPL slots) are ignored.
Result<CertExtensions> parse_cert_extensions(ByteView cert_der);

// The certificates in a PEM bundle or a single DER certificate, as DER.
Result<std::vector<Bytes>> load_certificates(ByteView pem_or_der);

// One product's root: ARK plus its ASK and/or ASVK, as DER.
struct TrustAnchor {
  Product product = Product::unknown;
  RootKind kind = RootKind::amd;
  Bytes ark;
  Bytes ask;   // may be empty
  Bytes asvk;  // may be empty
};

// The AMD ARK/ASK/ASVK for Milan, Genoa and Turin, compiled in from src/attest/roots/.
std::vector<TrustAnchor> builtin_amd_anchors();

struct LeafKey;  // opaque: the VCEK/VLEK public key

struct VerifiedChain {
  Product product = Product::unknown;
  RootKind root = RootKind::amd;
  SigningKey signer = SigningKey::vcek;
  CertExtensions extensions;
  TcbVersion tcb;  // from the leaf's SPL extensions
  std::string leaf_subject, intermediate_subject, root_subject;
  Sha256 leaf_fingerprint{};
  std::time_t not_before = 0, not_after = 0;  // intersection of the chain's validity periods
  std::shared_ptr<const LeafKey> key;
};

struct ChainOptions {
  std::time_t now = 0;                 // verification time (the caller's clock, or a fixed time)
  std::optional<Product> product;      // restrict to this product's roots
};

struct VerifiedReport {
  Report report;
  Product product = Product::unknown;
  RootKind root = RootKind::amd;
  SigningKey signer = SigningKey::vcek;
  TcbVersion reported_tcb;
};

// Verifies chains and reports against a fixed set of trust anchors. Verified chains are cached by
// the SHA-256 of the presented certificates (thread-safe), so a second report from the same chip
// costs one ECDSA verify.
class Verifier {
 public:
  // Each anchor's ARK self-signature and ASK/ASVK signatures are checked here.
  static Result<Verifier> create(std::vector<TrustAnchor> anchors);

  Verifier(Verifier&&) noexcept;
  Verifier& operator=(Verifier&&) noexcept;
  ~Verifier();

  // A DER or PEM CRL issued by a trusted ARK or ASK/ASVK; its signature is checked on load.
  Status add_crl(ByteView crl);

  // leaf: VCEK/VLEK (DER). presented: any ASK/ASVK/ARK the evidence carried (DER); an ARK among
  // them must be byte-identical to a trusted one.
  Result<VerifiedChain> verify_chain(ByteView leaf, std::span<const Bytes> presented, const ChainOptions& opts) const;

  // Signature over [0, 0x2A0) with the chain's key, plus the report↔certificate bindings:
  // SIGNING_KEY matches the leaf kind, reported_tcb equals the certificate TCB, chip_id equals
  // hwID (unless MASK_CHIP_KEY), CPUID product (v3+) equals the chain's product.
  Result<VerifiedReport> verify_report(ByteView report, const VerifiedChain& chain) const;

  std::size_t cache_size() const;

 private:
  struct Impl;
  explicit Verifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cloister::attest
