// parse_report on arbitrary bytes; whatever it accepts must serialize back to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "cloister/attest/report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cloister::attest;
  auto r = parse_report(cloister::ByteView(data, size));
  if (!r) return 0;
  cloister::Bytes back = serialize_report(*r);
  if (back.size() != size || std::memcmp(back.data(), data, size) != 0) std::abort();
  (void)report_to_json(*r, r->cpuid_product());
  (void)report_to_text(*r, Product::turin);
  return 0;
}
