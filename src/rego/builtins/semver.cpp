// Semantic versions (OPA topdown/semver.go): semver.is_valid, semver.compare. Parsing follows the
// SemVer 2.0.0 grammar as OPA's parser accepts it: MAJOR.MINOR.PATCH[-pre][+build], no "v" prefix.
#include <cctype>
#include <optional>

#include <gmpxx.h>

#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

struct Version {
  mpz_class major, minor, patch;
  std::vector<std::string> pre;
};

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool valid_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;
}

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto p = s.find('.', start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

std::optional<Version> parse(std::string_view s) {
  Version v;
  auto plus = s.find('+');
  if (plus != std::string_view::npos) {
    for (auto id : split_dots(s.substr(plus + 1)))
      if (!valid_identifier(id)) return std::nullopt;
    s = s.substr(0, plus);
  }
  auto dash = s.find('-');
  if (dash != std::string_view::npos) {
    for (auto id : split_dots(s.substr(dash + 1))) {
      if (!valid_identifier(id)) return std::nullopt;
      v.pre.emplace_back(id);
    }
    s = s.substr(0, dash);
  }
  auto parts = split_dots(s);
  if (parts.size() != 3) return std::nullopt;
  mpz_class* dst[] = {&v.major, &v.minor, &v.patch};
  for (int i = 0; i < 3; ++i) {
    if (!all_digits(parts[static_cast<std::size_t>(i)])) return std::nullopt;
    *dst[i] = mpz_class(std::string(parts[static_cast<std::size_t>(i)]), 10);
  }
  return v;
}

int sign(int c) { return c < 0 ? -1 : c > 0 ? 1 : 0; }

// SemVer 2.0.0 §11 precedence; build metadata is ignored.
int compare(const Version& a, const Version& b) {
  if (int c = cmp(a.major, b.major)) return sign(c);
  if (int c = cmp(a.minor, b.minor)) return sign(c);
  if (int c = cmp(a.patch, b.patch)) return sign(c);
  if (a.pre.empty() || b.pre.empty()) return a.pre.empty() == b.pre.empty() ? 0 : (a.pre.empty() ? 1 : -1);
  for (std::size_t i = 0; i < a.pre.size() && i < b.pre.size(); ++i) {
    const auto& x = a.pre[i];
    const auto& y = b.pre[i];
    bool nx = all_digits(x), ny = all_digits(y);
    int c;
    if (nx && ny) {
      c = cmp(mpz_class(x, 10), mpz_class(y, 10));
    } else if (nx != ny) {
      c = nx ? -1 : 1;
    } else {
      c = x.compare(y);
    }
    if (c) return sign(c);
  }
  return a.pre.size() == b.pre.size() ? 0 : (a.pre.size() < b.pre.size() ? -1 : 1);
}

BuiltinResult is_valid(BuiltinContext&, std::span<const Value> a) {
  return Value::boolean(a[0].is_string() && parse(a[0].as_string()).has_value());
}

BuiltinResult compare_fn(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& x = *REGO_ARG(arg_string(ctx, a, 0));
  const std::string& y = *REGO_ARG(arg_string(ctx, a, 1));
  auto vx = parse(x);
  if (!vx) return tl::unexpected(builtin_error(ctx, "operand 1: string \"" + x + "\" is not a valid SemVer"));
  auto vy = parse(y);
  if (!vy) return tl::unexpected(builtin_error(ctx, "operand 2: string \"" + y + "\" is not a valid SemVer"));
  return Value::integer(compare(*vx, *vy));
}

}  // namespace

void register_semver(Registry& r) {
  r.add({"semver.is_valid", 1, is_valid});
  r.add({"semver.compare", 2, compare_fn});
}

}  // namespace cloister::rego::builtins
