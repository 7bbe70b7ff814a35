// Exact arithmetic on Rego numbers. Integers stay exact (int64 fast path, GMP beyond); any
// non-integer operand makes the result a double, as OPA's big.Float results are printed.
#pragma once

#include <optional>
#include <string>

#include <gmpxx.h>

#include "cloister/rego/value.h"

namespace cloister::rego {

namespace detail {
struct BigNode : Node {
  mpz_class z;
  // The literal as written when it is not plain digits (2e308), else empty: OPA prints a number
  // literal's text, and only such literals outside the double range become BigNodes with one.
  std::string text;
  explicit BigNode(mpz_class v, std::string t = {}) : z(std::move(v)), text(std::move(t)) {}
  std::size_t bytes() const noexcept override {
    return sizeof *this + mpz_size(z.get_mpz_t()) * sizeof(mp_limb_t) + text.capacity();
  }
};
}  // namespace detail

// An integral value as mpz (valid when v.is_integral()).
mpz_class to_mpz(const Value& v);
// Normalises: fits int64 -> inline int.
Value from_mpz(const mpz_class& z);

Value num_add(const Value& a, const Value& b);
Value num_sub(const Value& a, const Value& b);
Value num_mul(const Value& a, const Value& b);
// Undefined (is_undefined()) when dividing by zero: callers raise "divide by zero".
Value num_div(const Value& a, const Value& b);
// Integer remainder with the sign of the dividend (Go's %); callers check integrality and zero.
Value num_rem(const Value& a, const Value& b);
Value num_neg(const Value& a);
// The number nearest `q`: an integer stays exact; otherwise the nearest double, or, beyond the
// double range, `q` truncated to an integer (at that magnitude any double-like number is whole).
Value from_rational(const mpq_class& q);
Value num_abs(const Value& a);
int num_compare(const Value& a, const Value& b);

}  // namespace cloister::rego
