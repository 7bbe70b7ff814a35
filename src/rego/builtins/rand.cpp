// rand.intn (OPA topdown/rand.go): a random integer in [0, n), fixed per (str, n) for the whole
// evaluation so that repeated calls within one query agree, as OPA guarantees.
#include <cstdlib>

#include "builtins/builtin.h"

namespace cloister::rego::builtins {
namespace {

BuiltinResult intn(BuiltinContext& ctx, std::span<const Value> a) {
  const std::string& seed = *REGO_ARG(arg_string(ctx, a, 0));
  std::int64_t n = REGO_ARG(arg_int(ctx, a, 1));
  if (n == 0) return Value::integer(0);
  if (n < 0) n = -n;
  std::string key = "rand.intn:" + to_json(Value::string(seed)) + ":" + std::to_string(n);
  if (ctx.memo) {
    auto it = ctx.memo->find(key);
    if (it != ctx.memo->end()) return it->second;
  }
  if (!ctx.rng) return tl::unexpected(builtin_error(ctx, "no random source in evaluation context"));
  std::uniform_int_distribution<std::int64_t> dist(0, n - 1);
  Value v = Value::integer(dist(ctx.rng->engine()));
  if (ctx.memo) ctx.memo->emplace(std::move(key), v);
  return v;
}

}  // namespace

void register_rand(Registry& r) { r.add({"rand.intn", 2, intn, /*deterministic=*/false}); }

}  // namespace cloister::rego::builtins
