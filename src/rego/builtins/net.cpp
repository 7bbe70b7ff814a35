// CIDR arithmetic (OPA topdown/cidr.go): net.cidr_contains, cidr_intersects, cidr_expand,
// cidr_is_valid, cidr_merge, cidr_contains_matches. Addresses parse as Go's net.ParseIP /
// net.ParseCIDR do (dotted quads without leading zeros, RFC 4291 text) and print in RFC 5952
// form. net.lookup_ip_addr needs the network and is registered by the unsupported family.
#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

using U128 = unsigned __int128;

struct Net {
  bool v6 = false;
  U128 addr = 0;  // the network address (masked) for a CIDR, the address itself for an IP
  int prefix = 0;

  int bits() const { return v6 ? 128 : 32; }
};

U128 mask(int bits, int prefix) {
  if (prefix == 0) return 0;
  U128 all = bits == 128 ? ~U128{0} : ((U128{1} << 32) - 1);
  return (all << (bits - prefix)) & all;
}

std::optional<Net> parse_ip(const std::string& s) {
  Net n;
  unsigned char buf[16];
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), buf) != 1) return std::nullopt;
    for (int i = 0; i < 4; ++i) n.addr = (n.addr << 8) | buf[i];
    n.prefix = 32;
    return n;
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) != 1) return std::nullopt;
  n.v6 = true;
  for (int i = 0; i < 16; ++i) n.addr = (n.addr << 8) | buf[i];
  n.prefix = 128;
  return n;
}

std::optional<Net> parse_cidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto ip = parse_ip(s.substr(0, slash));
  std::string p = s.substr(slash + 1);
  if (!ip || p.empty() || p.size() > 3) return std::nullopt;
  int prefix = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > ip->bits()) return std::nullopt;
  ip->prefix = prefix;
  ip->addr &= mask(ip->bits(), prefix);
  return ip;
}

std::string format_ip(bool v6, U128 a) {
  char out[INET6_ADDRSTRLEN];
  unsigned char buf[16];
  if (!v6) {
    for (int i = 3; i >= 0; --i, a >>= 8) buf[i] = static_cast<unsigned char>(a & 0xFF);
    inet_ntop(AF_INET, buf, out, sizeof out);
  } else {
    for (int i = 15; i >= 0; --i, a >>= 8) buf[i] = static_cast<unsigned char>(a & 0xFF);
    inet_ntop(AF_INET6, buf, out, sizeof out);
  }
  return out;
}

std::string format_cidr(const Net& n) { return format_ip(n.v6, n.addr) + "/" + std::to_string(n.prefix); }

BuiltinError invalid_cidr(const BuiltinContext& ctx, const std::string& s) {
  return builtin_error(ctx, "invalid CIDR address: " + s);
}

bool contains(const Net& outer, const Net& inner) {
  if (outer.v6 != inner.v6 || inner.prefix < outer.prefix) return false;
  return (inner.addr & mask(outer.bits(), outer.prefix)) == outer.addr;
}

// The second operand of cidr_contains: an address, or else a CIDR.
std::optional<Net> parse_ip_or_cidr(const std::string& s) {
  if (auto ip = parse_ip(s)) return ip;
  return parse_cidr(s);
}

BuiltinResult cidr_contains(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& c = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& x = *REGO_ARG(arg_string(ctx, a, 1));
  auto outer = parse_cidr(c);
  if (!outer) return tl::unexpected(invalid_cidr(ctx, c));
  auto inner = parse_ip_or_cidr(x);
  if (!inner) return tl::unexpected(invalid_cidr(ctx, x));
  return Value::boolean(contains(*outer, *inner));
}

BuiltinResult cidr_intersects(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& x = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& y = *REGO_ARG(arg_string(ctx, a, 1));
  auto n1 = parse_cidr(x);
  if (!n1) return tl::unexpected(invalid_cidr(ctx, x));
  auto n2 = parse_cidr(y);
  if (!n2) return tl::unexpected(invalid_cidr(ctx, y));
  if (n1->v6 != n2->v6) return Value::boolean(false);
  U128 m = mask(n1->bits(), std::min(n1->prefix, n2->prefix));
  return Value::boolean((n1->addr & m) == (n2->addr & m));
}

BuiltinResult cidr_is_valid(BuiltinContext&, std::span<const Value> a) {
  return Value::boolean(a[0].is_string() && parse_cidr(a[0].as_string()).has_value());
}

// Expanding more than this many addresses is a policy bug, not a result anyone can use.
constexpr int kMaxExpandBits = 20;

BuiltinResult cidr_expand(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& s = *REGO_ARG(arg_string(ctx, a, 0));
  auto n = parse_cidr(s);
  if (!n) return tl::unexpected(invalid_cidr(ctx, s));
  int host_bits = n->bits() - n->prefix;
  if (host_bits > kMaxExpandBits) return tl::unexpected(builtin_error(ctx, "CIDR too large to expand: " + s));
  std::vector<Value> out;
  U128 count = U128{1} << host_bits;
  out.reserve(static_cast<std::size_t>(count));
  for (U128 i = 0; i < count; ++i) out.push_back(Value::string(format_ip(n->v6, n->addr + i)));
  return Value::set(std::move(out));
}

BuiltinResult cidr_merge(BuiltinContext& ctx, std::span<const Value> a) {
  const auto* items = REGO_ARG(arg_array_or_set(ctx, a, 0));
  std::vector<Net> nets;
  for (const auto& x : *items) {
    if (!x.is_string()) return tl::unexpected(operand_error(ctx, 1, "array or set of strings"));
    const std::string& s = x.as_string();
    std::optional<Net> n;
    if (s.find('/') != std::string::npos) {
      n = parse_cidr(s);
    } else {
      n = parse_ip(s);
      if (n && n->v6) return tl::unexpected(builtin_error(ctx, "IPv6 invalid: needs prefix length"));
      if (n) {
        // A bare IPv4 address takes its classful default mask (Go's net.IP.DefaultMask).
        auto first = static_cast<unsigned>(n->addr >> 24);
        n->prefix = first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : 32;
        n->addr &= mask(32, n->prefix);
      }
    }
    if (!n) return tl::unexpected(builtin_error(ctx, "invalid IP address or CIDR: " + s));
    nets.push_back(*n);
  }
  std::sort(nets.begin(), nets.end(), [](const Net& x, const Net& y) {
    if (x.v6 != y.v6) return !x.v6;
    if (x.addr != y.addr) return x.addr < y.addr;
    return x.prefix < y.prefix;
  });
  // Sorted by address then prefix: drop covered networks, then fold sibling pairs into parents.
  std::vector<Net> stack;
  for (const auto& n : nets) {
    if (!stack.empty() && contains(stack.back(), n)) continue;
    stack.push_back(n);
    while (stack.size() >= 2) {
      Net& lo = stack[stack.size() - 2];
      Net& hi = stack.back();
      if (lo.v6 != hi.v6 || lo.prefix != hi.prefix || lo.prefix == 0) break;
      int bits = lo.bits();
      U128 size = U128{1} << (bits - lo.prefix);
      bool siblings = (lo.addr & mask(bits, lo.prefix - 1)) == lo.addr && hi.addr == lo.addr + size;
      if (!siblings) break;
      Net parent = lo;
      parent.prefix -= 1;
      stack.pop_back();
      stack.back() = parent;
      // The parent may now cover what precedes it.
      while (stack.size() >= 2 && contains(stack.back(), stack[stack.size() - 2])) stack.erase(stack.end() - 2);
    }
  }
  std::vector<Value> out;
  for (const auto& n : stack) out.push_back(Value::string(format_cidr(n)));
  return Value::set(std::move(out));
}

// cidr_contains_matches operands: (key, cidr-or-ip text) pairs from a string, array, set or object.
BResult<std::vector<std::pair<Value, std::string>>> match_operand(const BuiltinContext& ctx,
                                                                   std::span<const Value> a, std::size_t i) {
  std::vector<std::pair<Value, std::string>> out;
  const Value& v = a[i];
  auto element = [&](const Value& key, const Value& e) -> bool {
    if (e.is_string()) {
      out.emplace_back(key, e.as_string());
      return true;
    }
    if (e.is_array() && !e.array_items().empty() && e.array_items()[0].is_string()) {
      out.emplace_back(key, e.array_items()[0].as_string());
      return true;
    }
    return false;
  };
  auto bad = [&] {
    return tl::unexpected(builtin_error(ctx, "operand " + std::to_string(i + 1) + ": element must be string or non-empty array"));
  };
  switch (v.kind()) {
    case Kind::String: out.emplace_back(v, v.as_string()); break;
    case Kind::Array:
      for (std::size_t k = 0; k < v.array_items().size(); ++k)
        if (!element(Value::integer(static_cast<std::int64_t>(k)), v.array_items()[k])) return bad();
      break;
    case Kind::Set:
      for (const auto& e : v.set_items())
        if (!element(e, e)) return bad();
      break;
    case Kind::Object:
      for (const auto& [k, e] : v.object_entries())
        if (!element(k, e)) return bad();
      break;
    default: return tl::unexpected(type_error(ctx, i + 1, "one of {string, array, set, object}", v));
  }
  return out;
}

BuiltinResult cidr_contains_matches(BuiltinContext& ctx, std::span<const Value> a) {
  auto cidrs = REGO_ARG(match_operand(ctx, a, 0));
  auto targets = REGO_ARG(match_operand(ctx, a, 1));
  std::vector<std::optional<Net>> parsed;
  for (const auto& [k, t] : targets) {
    auto n = parse_ip_or_cidr(t);
    if (!n) return tl::unexpected(invalid_cidr(ctx, t));
    parsed.push_back(n);
  }
  std::vector<Value> out;
  for (const auto& [ck, c] : cidrs) {
    auto outer = parse_cidr(c);
    if (!outer) return tl::unexpected(invalid_cidr(ctx, c));
    for (std::size_t j = 0; j < targets.size(); ++j)
      if (contains(*outer, *parsed[j])) out.push_back(Value::array({ck, targets[j].first}));
  }
  return Value::set(std::move(out));
}

}  // namespace

void register_net(Registry& r) {
  r.add({"net.cidr_contains", 2, cidr_contains});
  r.add({"net.cidr_overlap", 2, cidr_contains});  // deprecated alias kept by OPA
  r.add({"net.cidr_intersects", 2, cidr_intersects});
  r.add({"net.cidr_is_valid", 1, cidr_is_valid});
  r.add({"net.cidr_expand", 1, cidr_expand});
  r.add({"net.cidr_merge", 1, cidr_merge});
  r.add({"net.cidr_contains_matches", 2, cidr_contains_matches});
}

}  // namespace cloister::rego::builtins
