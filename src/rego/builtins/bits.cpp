// Bitwise operations (OPA topdown/bits.go) on integers of any size (Go math/big semantics:
// two's-complement behaviour for negatives, arithmetic right shift).
#include <gmpxx.h>

#include "builtins/builtin.h"
#include "builtins/family_util.h"
#include "number.h"

namespace cloister::rego::builtins {
namespace {

BResult<mpz_class> int_operand(const BuiltinContext& ctx, std::span<const Value> a, std::size_t i) {
  if (!a[i].is_number()) return tl::unexpected(type_error(ctx, i + 1, "number", a[i]));
  if (!a[i].is_integral())
    return tl::unexpected(operand_error(ctx, i + 1, "integer number but got floating-point number"));
  return to_mpz(a[i]);
}

template <int Op>  // 0 and, 1 or, 2 xor
BuiltinResult binary(BuiltinContext& ctx, std::span<const Value> a) {
  mpz_class x = REGO_ARG(int_operand(ctx, a, 0));
  mpz_class y = REGO_ARG(int_operand(ctx, a, 1));
  mpz_class r;
  if (Op == 0) mpz_and(r.get_mpz_t(), x.get_mpz_t(), y.get_mpz_t());
  if (Op == 1) mpz_ior(r.get_mpz_t(), x.get_mpz_t(), y.get_mpz_t());
  if (Op == 2) mpz_xor(r.get_mpz_t(), x.get_mpz_t(), y.get_mpz_t());
  return from_mpz(r);
}

BuiltinResult negate(BuiltinContext& ctx, std::span<const Value> a) {
  mpz_class x = REGO_ARG(int_operand(ctx, a, 0));
  mpz_class r;
  mpz_com(r.get_mpz_t(), x.get_mpz_t());
  return from_mpz(r);
}

// Shift counts beyond this would only build enormous numbers from a policy typo.
constexpr unsigned long kMaxShift = 1UL << 20;

template <bool Left>
BuiltinResult shift(BuiltinContext& ctx, std::span<const Value> a) {
  mpz_class x = REGO_ARG(int_operand(ctx, a, 0));
  mpz_class n = REGO_ARG(int_operand(ctx, a, 1));
  if (n < 0) return tl::unexpected(operand_error(ctx, 2, "an unsigned integer number but got a negative integer"));
  if (n > kMaxShift) return tl::unexpected(builtin_error(ctx, "shift count too large"));
  mpz_class r;
  if (Left) {
    mpz_mul_2exp(r.get_mpz_t(), x.get_mpz_t(), n.get_ui());
  } else {
    mpz_fdiv_q_2exp(r.get_mpz_t(), x.get_mpz_t(), n.get_ui());
  }
  return from_mpz(r);
}

}  // namespace

void register_bits(Registry& r) {
  r.add({"bits.and", 2, binary<0>});
  r.add({"bits.or", 2, binary<1>});
  r.add({"bits.xor", 2, binary<2>});
  r.add({"bits.negate", 1, negate});
  r.add({"bits.lsh", 2, shift<true>});
  r.add({"bits.rsh", 2, shift<false>});
}

}  // namespace cloister::rego::builtins
