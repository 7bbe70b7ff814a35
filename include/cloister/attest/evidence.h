// The three forms SEV-SNP evidence arrives in, all reduced to one Evidence value:
//  1. a raw report plus certificates (DER or PEM) given separately;
//  2. SNP_GET_EXT_REPORT's certificate table (GHCB spec 56421, §4.1.8.1 "SNP Extended Guest
//     Request"): entries {GUID, u32 offset, u32 length} ending in an all-zero entry;
//  3. Trustee's SNP evidence JSON (the serde form of the sev crate's AttestationReport plus
//     cert_chain [{cert_type, data}]).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cloister/attest/report.h"
#include "cloister/common/bytes.h"
#include "cloister/common/result.h"

namespace cloister::attest {

struct Evidence {
  Bytes report;              // 1184 bytes
  Bytes leaf;                // VCEK or VLEK (DER); empty when the evidence carried none
  std::vector<Bytes> chain;  // ASK/ASVK/ARK (DER) the evidence carried, any order
};

// Certificate-table GUIDs (GHCB spec 56421, SNP Extended Guest Request certificate table; the same values are
// in virtee/sev's CertType and AMD's sev-guest tool). On the wire the 16 bytes are the hex digits
// in written order.
inline constexpr std::string_view kGuidVcek = "63da758d-e664-4564-adc5-f4b93be8accd";
inline constexpr std::string_view kGuidVlek = "a8074bc2-a25a-483e-aae6-39c045a0b8a1";
inline constexpr std::string_view kGuidAsk = "4ab7b379-bbac-4fe4-a02f-05aef327c782";
inline constexpr std::string_view kGuidArk = "c0b406a4-a803-4952-9743-3fb6014cd0ae";

struct CertTableEntry {
  std::string guid;  // lower-case 8-4-4-4-12
  Bytes data;
};

// Bounds-checked: every entry must lie inside the table and after the entry array.
Result<std::vector<CertTableEntry>> parse_cert_table(ByteView table);
Result<Bytes> build_cert_table(const std::vector<CertTableEntry>& entries);

// Form 1. `certs`: each element is one DER certificate or a PEM bundle; the leaf (the certificate
// whose subject CN is SEV-VCEK/SEV-VLEK, or the first non-CA one) is picked out.
Result<Evidence> evidence_from_parts(ByteView report, const std::vector<Bytes>& certs);
// Form 2.
Result<Evidence> evidence_from_cert_table(ByteView report, ByteView table);
// Form 3. Rebuilds the exact 1184-byte report from the JSON fields.
Result<Evidence> parse_trustee_evidence(std::string_view json);
// The inverse of form 3 (used by the simulator's CLI so its output feeds `verify --evidence`).
Result<std::string> trustee_evidence_json(const Evidence& evidence, Product product);

}  // namespace cloister::attest
