// The certificate readers: DER/PEM loading and the AMD VCEK/VLEK extension parser.
#include <cstdint>

#include "cloister/attest/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cloister::attest;
  cloister::ByteView in(data, size);
  (void)parse_cert_extensions(in);
  if (auto certs = load_certificates(in))
    for (const auto& der : *certs) (void)parse_cert_extensions(der);
  return 0;
}
