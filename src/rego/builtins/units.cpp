// Units (OPA topdown/parse_units.go, parse_bytes.go): units.parse and units.parse_bytes. Amounts
// are computed as exact rationals so "0.0000005M" is exactly 0.5, as OPA's big.Float gives.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <gmpxx.h>

#include "builtins/builtin.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

struct Split {
  std::string num, unit;
};

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// The amount is an optional sign, digits and dots, and an exponent when e/E is followed by an
// optionally signed digit (otherwise "E" is the exa unit); the rest is the unit.
Split split_amount(const std::string& s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t body = i;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) ++i;
  if (i == body) return {"", s.substr(body)};
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
    if (j < s.size() && is_digit(s[j])) {
      while (j < s.size() && is_digit(s[j])) ++j;
      i = j;
    }
  }
  return {s.substr(0, i), s.substr(i)};
}

bool parse_decimal(std::string num, mpq_class& out) {
  bool negative = false;
  if (!num.empty() && (num[0] == '-' || num[0] == '+')) {
    negative = num[0] == '-';
    num.erase(0, 1);
  }
  long exp10 = 0;
  auto e = num.find_first_of("eE");
  if (e != std::string::npos) {
    // Parsed by hand: an absurd exponent is "not a number", never an exception.
    std::string_view ex = std::string_view(num).substr(e + 1);
    bool neg_exp = !ex.empty() && ex[0] == '-';
    if (!ex.empty() && (ex[0] == '-' || ex[0] == '+')) ex.remove_prefix(1);
    if (ex.empty() || ex.size() > 3) return false;
    for (char c : ex) {
      if (!is_digit(c)) return false;
      exp10 = exp10 * 10 + (c - '0');
    }
    if (neg_exp) exp10 = -exp10;
    if (exp10 > 400 || exp10 < -400) return false;
    num.resize(e);
  }
  auto dot = num.find('.');
  if (dot != std::string::npos && num.find('.', dot + 1) != std::string::npos) return false;
  std::string digits = num;
  std::size_t frac = 0;
  if (dot != std::string::npos) {
    frac = num.size() - dot - 1;
    digits.erase(dot, 1);
  }
  if (digits.empty()) return false;
  mpz_class n(digits, 10), d;
  long scale = static_cast<long>(frac) - exp10;
  mpz_ui_pow_ui(d.get_mpz_t(), 10, static_cast<unsigned long>(scale < 0 ? -scale : scale));
  out = scale >= 0 ? mpq_class(n, d) : mpq_class(n * d);
  out.canonicalize();
  if (negative) out = -out;
  return true;
}

mpq_class power(unsigned long base, unsigned long exp) {
  mpz_class z;
  mpz_ui_pow_ui(z.get_mpz_t(), base, exp);
  return mpq_class(z);
}

// Decimal (k, M, G, ...) and binary (Ki, Mi, ...) multipliers; exponent n means 1000^n or 1024^n.
bool multiplier(std::string unit, bool bytes, mpq_class& out) {
  if (!bytes) {
    // "m" (milli) and "M" (mega) differ only in case; every other unit is case-insensitive.
    if (unit == "m") {
      out = mpq_class(1, 1000);
      return true;
    }
    if (unit == "M") {
      out = power(1000, 2);
      return true;
    }
  }
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  if (bytes && unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.empty() || (bytes && unit == "b")) {
    out = 1;
    return true;
  }
  static const std::string prefixes = "kmgtpe";
  auto p = prefixes.find(unit[0]);
  if (p == std::string::npos) return false;
  if (unit.size() == 1) {
    out = power(1000, p + 1);
    return true;
  }
  if (unit.size() == 2 && unit[1] == 'i') {
    out = power(1024, p + 1);
    return true;
  }
  return false;
}

template <bool Bytes>
BuiltinResult parse(BuiltinContext& ctx, std::span<const Value> a) {
  std::string s = *REGO_ARG(arg_string(ctx, a, 0));
  // OPA drops double quotes before parsing ("\"10M\"" is accepted).
  s.erase(std::remove(s.begin(), s.end(), '"'), s.end());
  if (s.find_first_of(" \t\n\r") != std::string::npos)
    return tl::unexpected(builtin_error(ctx, "spaces not allowed in resource strings"));
  auto [num, unit] = split_amount(s);
  const char* what = Bytes ? "byte amount" : "amount";
  if (num.empty()) return tl::unexpected(builtin_error(ctx, std::string("no ") + what + " provided"));
  mpq_class q;
  if (!parse_decimal(num, q))
    return tl::unexpected(builtin_error(ctx, std::string("could not parse ") + what + " to a number"));
  mpq_class m;
  if (!multiplier(unit, Bytes, m))
    return tl::unexpected(builtin_error(ctx, Bytes ? "byte unit " + unit + " not recognized" : "unit " + unit + " not recognized"));
  q *= m;
  if (Bytes) {
    // Byte counts are whole: OPA truncates the product to an integer.
    mpz_class z = q.get_num() / q.get_den();
    return from_mpz(z);
  }
  return from_rational(q);
}

}  // namespace

void register_units(Registry& r) {
  r.add({"units.parse", 1, parse<false>});
  r.add({"units.parse_bytes", 1, parse<true>});
}

}  // namespace cloister::rego::builtins
