// Trustee evidence JSON and the extended-report certificate table. Accepted JSON evidence must
// survive a write/read round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cloister/attest/evidence.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cloister::attest;
  std::string_view text(reinterpret_cast<const char*>(data), size);  // the input bytes as text
  if (auto e = parse_trustee_evidence(text)) {
    auto r = parse_report(e->report);
    if (!r) std::abort();  // parse_trustee_evidence only returns reports the codec accepts
    if (auto json = trustee_evidence_json(*e, r->cpuid_product())) {
      auto back = parse_trustee_evidence(*json);
      if (!back || back->report != e->report || back->leaf != e->leaf) std::abort();
    }
  }
  (void)parse_cert_table(cloister::ByteView(data, size));
  return 0;
}
