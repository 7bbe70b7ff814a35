// Per-call cost of builtins that agent and key-broker policies call on every request, measured
// through the registry exactly as the evaluator calls them (argument span, context, result).
#include <benchmark/benchmark.h>

#include <map>
#include <random>

#include "builtins/builtin.h"
#include "cloister/rego/value.h"

namespace {

using cloister::rego::Value;
namespace b = cloister::rego::builtins;

struct Caller {
  cloister::rego::builtins::RandomSource rng{1};
  b::RegexCache regex;
  std::map<std::string, Value> memo;
  b::BuiltinContext ctx;
  const b::BuiltinDef* def;
  std::vector<Value> args;

  Caller(const char* name, const char* json_args) {
    ctx.rng = &rng;
    ctx.regex = &regex;
    ctx.memo = &memo;
    ctx.now_ns = 1700000000000000000;
    def = b::Registry::standard().find(name);
    args = cloister::rego::parse_json(json_args)->array_items();
    ctx.name = def->name;
  }
  void run(benchmark::State& state) {
    for (auto _ : state) {
      auto r = def->fn(ctx, args);
      benchmark::DoNotOptimize(r);
      if (!r || r->is_undefined()) state.SkipWithError("builtin failed");
    }
  }
};

#define BUILTIN_BENCH(id, name, args)            \
  void id(benchmark::State& state) {             \
    Caller c(name, args);                        \
    c.run(state);                                \
  }                                              \
  BENCHMARK(id)

BUILTIN_BENCH(BM_RegexMatchCached, "regex.match",
              R"j(["^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "pause.registry.k8s.io"])j");
BUILTIN_BENCH(BM_RegexReplace, "regex.replace", R"j(["sandbox-abc-123-def", "[0-9]+", "N"])j");
BUILTIN_BENCH(BM_Sprintf, "sprintf", R"j(["%s/%s:%d (%v)", ["registry", "pause", 3, [1, "a"]]])j");
BUILTIN_BENCH(BM_ConcatSplit, "split", R"j(["/run/kata-containers/shared/containers/abc/rootfs", "/"])j");
BUILTIN_BENCH(BM_Startswith, "startswith", R"j(["/run/kata-containers/shared/containers/abc", "/run/kata-containers/"])j");
BUILTIN_BENCH(BM_Base64Decode, "base64.decode", R"j(["eyJraW5kIjoiUG9kIiwiYXBpVmVyc2lvbiI6InYxIiwibWV0YWRhdGEiOnt9fQ=="])j");
BUILTIN_BENCH(BM_JsonUnmarshal, "json.unmarshal", R"j(["{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\"}}}"])j");
BUILTIN_BENCH(BM_ObjectGetPath, "object.get", R"j([{"a": {"b": {"c": [1, 2, {"d": 4}]}}}, ["a", "b", "c", 2, "d"], 0])j");
BUILTIN_BENCH(BM_UnitsParseBytes, "units.parse_bytes", R"j(["512Mi"])j");
BUILTIN_BENCH(BM_TimeParseRfc3339, "time.parse_rfc3339_ns", R"j(["2024-05-01T12:34:56.789Z"])j");
BUILTIN_BENCH(BM_CidrContains, "net.cidr_contains", R"j(["10.0.0.0/8", "10.1.2.3"])j");
BUILTIN_BENCH(BM_GlobMatch, "glob.match", R"j(["*.registry.k8s.io", ["."], "pause.registry.k8s.io"])j");
BUILTIN_BENCH(BM_SemverCompare, "semver.compare", R"j(["1.27.3", "1.28.0-rc.1"])j");
BUILTIN_BENCH(BM_Sha256, "crypto.sha256", R"j(["0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"])j");
BUILTIN_BENCH(BM_JwtDecodeVerifyHS256, "io.jwt.decode_verify",
              R"j(["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyIjoiYWxpY2UiLCJhenAiOiJhbGljZSIsInN1Ym9yZGluYXRlcyI6W10sImhyIjpmYWxzZX0.rz3jTY033z-NrKfwrK89_dcLF7TN4gwCMj-fVBDyLoM", {"secret": "secret"}])j");

}  // namespace

BENCHMARK_MAIN();
