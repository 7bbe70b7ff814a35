// The JSON parser on untrusted text (every agent request and every `-i` input goes through it).
// Input: the text. Each parse must return a value or an error, never crash, hang or read out of
// bounds; a parsed value must print as JSON that parses back to an equal value which prints the
// same (escapes, duplicate keys, member order and nesting all survive the round trip).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cloister/rego/value.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cloister::rego;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = parse_json(text, JsonLimits{64});
  if (!v) return 0;
  const std::string once = to_json(*v);
  auto again = parse_json(once, JsonLimits{64});
  if (!again || !(*again == *v) || to_json(*again) != once) std::abort();
  return 0;
}
