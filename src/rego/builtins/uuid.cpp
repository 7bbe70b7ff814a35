// UUIDs (OPA topdown/uuid.go): uuid.rfc4122 and uuid.parse (RFC 4122 / RFC 9562 layouts).
#include <cstdio>
#include <array>
#include <optional>

#include <gmpxx.h>

#include "builtins/builtin.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

// uuid.rfc4122(seed): a random version 4 UUID, the same for the same seed within one evaluation.
BuiltinResult rfc4122(BuiltinContext& ctx, std::span<const Value> a) {
  REGO_ARG(arg_string(ctx, a, 0));
  std::string key = "uuid.rfc4122:" + to_json(a[0]);
  if (ctx.memo) {
    auto it = ctx.memo->find(key);
    if (it != ctx.memo->end()) return it->second;
  }
  if (!ctx.rng) return tl::unexpected(builtin_error(ctx, "no random source in evaluation context"));
  unsigned char b[16];
  for (int i = 0; i < 16; i += 8) {
    std::uint64_t r = ctx.rng->engine()();
    for (int k = 0; k < 8; ++k) b[i + k] = static_cast<unsigned char>(r >> (8 * k));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4 (RFC 4122 §4.4)
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  Value v = Value::string(buf);
  if (ctx.memo) ctx.memo->emplace(std::move(key), v);
  return v;
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The textual forms google/uuid.Parse accepts: canonical, {braced}, urn:uuid:, and 32 hex digits.
std::optional<std::array<unsigned char, 16>> parse_uuid(std::string_view s) {
  if (s.size() == 45) {
    if (s.substr(0, 9) != "urn:uuid:" && s.substr(0, 9) != "URN:UUID:") return std::nullopt;
    s.remove_prefix(9);
  } else if (s.size() == 38) {
    if (s.front() != '{' || s.back() != '}') return std::nullopt;
    s = s.substr(1, 36);
  }
  std::string hex;
  if (s.size() == 36) {
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return std::nullopt;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (i != 8 && i != 13 && i != 18 && i != 23) hex.push_back(s[i]);
  } else if (s.size() == 32) {
    hex = std::string(s);
  } else {
    return std::nullopt;
  }
  std::array<unsigned char, 16> b{};
  for (std::size_t i = 0; i < 16; ++i) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    b[i] = static_cast<unsigned char>((hi << 4) | lo);
  }
  return b;
}

BuiltinResult parse(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::undefined();
  auto parsed = parse_uuid(a[0].as_string());
  if (!parsed) return Value::undefined();
  const auto& b = *parsed;
  std::vector<std::pair<Value, Value>> out;
  auto put = [&](const char* k, Value v) { out.emplace_back(Value::string(k), std::move(v)); };
  int version = b[6] >> 4;
  // RFC 4122 §4.1.1 variant bits.
  const char* variant = (b[8] & 0x80) == 0 ? "Reserved" : (b[8] & 0xC0) == 0x80 ? "RFC4122" : (b[8] & 0xE0) == 0xC0 ? "Microsoft" : "Future";
  put("version", Value::integer(version));
  put("variant", Value::string(variant));
  if (version == 1 || version == 2) {
    std::uint64_t time_low = (std::uint64_t{b[0]} << 24) | (std::uint64_t{b[1]} << 16) | (std::uint64_t{b[2]} << 8) | b[3];
    std::uint64_t time_mid = (std::uint64_t{b[4]} << 8) | b[5];
    std::uint64_t time_hi = ((std::uint64_t{b[6]} << 8) | b[7]) & 0x0FFF;
    std::uint64_t t = (time_hi << 48) | (time_mid << 32) | time_low;
    // 100 ns intervals since 1582-10-15 (RFC 4122 §4.1.4) to ns since the Unix epoch.
    constexpr long kGregorianToUnix = 122192928000000000;
    // 60-bit timestamps reach ~5236 AD, beyond int64 nanoseconds: compute exactly.
    put("time", from_mpz((mpz_class(static_cast<unsigned long>(t)) - kGregorianToUnix) * 100));
    put("clocksequence", Value::integer(((b[8] & 0x3F) << 8) | b[9]));
    char node[24];
    std::snprintf(node, sizeof node, "%02x-%02x-%02x-%02x-%02x-%02x", b[10], b[11], b[12], b[13], b[14], b[15]);
    put("nodeid", Value::string(node));
    std::string mac = (b[10] & 0x02) ? "local" : "global";
    mac += (b[10] & 0x01) ? ":multicast" : ":unicast";
    put("macvariables", Value::string(mac));
    if (version == 2) {
      // DCE Security (version 2): the domain replaces clock_seq_low and the id replaces time_low.
      static const char* domains[] = {"Person", "Group", "Org"};
      put("domain", Value::string(b[9] < 3 ? domains[b[9]] : "Domain" + std::to_string(b[9])));
      put("id", Value::integer(static_cast<std::int64_t>(time_low)));
    }
  }
  return Value::object(std::move(out));
}

}  // namespace

void register_uuid(Registry& r) {
  r.add({"uuid.rfc4122", 1, rfc4122, /*deterministic=*/false});
  r.add({"uuid.parse", 1, parse});
}

}  // namespace cloister::rego::builtins
