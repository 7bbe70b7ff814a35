// Rego engine benchmarks: compile of a ~60 KB Kata-shaped policy, CreateContainer decisions on it
// for a heavy and a typical request (ns/op and heap allocations per decision), small decisions for
// scale (a default-deny request, a trivial policy), and the whole shared OPA conformance suite.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include <benchmark/benchmark.h>

#include "cloister/rego/conformance.h"
#include "cloister/rego/rego.h"
#include "kata_policy.h"
#include "rules_style_policy.h"

namespace {
std::atomic<std::uint64_t> g_allocs{0};
}  // namespace

// Counting allocator: every heap allocation in the process goes through here.
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace cloister::rego {
namespace {

struct Fixture {
  explicit Fixture(const bench::KataShape& shape) : w(bench::make_kata_workload(shape)) {}
  explicit Fixture(bench::KataWorkload workload) : w(std::move(workload)) {}
  bench::KataWorkload w;
  Value data = *parse_json(w.data);
  Value input = *parse_json(w.input);
};

// The heavy request (100 env vars, 60 mounts, 52 annotations, 20 storages; 16.8 KB).
const Fixture& fixture() {
  static const Fixture f{bench::KataShape{}};
  return f;
}
// A common pod's container (10 env vars, 10 mounts, 12 annotations, 4 storages) on the same rules.
const Fixture& typical_fixture() {
  static const Fixture f{bench::KataShape::typical()};
  return f;
}

void BM_CompileKataPolicy(benchmark::State& state) {
  const auto& f = fixture();
  for (auto _ : state) {
    auto p = Policy::compile({{"kata.rego", f.w.policy}}, f.data);
    if (!p) state.SkipWithError(p.error().message().c_str());
    benchmark::DoNotOptimize(p);
    // Tearing the policy down is not part of compiling it.
    state.PauseTiming();
    p = make_error(Errc::internal, "released");
    state.ResumeTiming();
  }
  state.counters["policy_bytes"] = static_cast<double>(f.w.policy.size());
}
BENCHMARK(BM_CompileKataPolicy)->Unit(benchmark::kMicrosecond);

// The benchmark loop over `op`, reporting the heap allocations per iteration as `counter` and the
// request's size.
template <typename Op>
void run_counting_allocs(benchmark::State& state, const char* counter, const Fixture& f, Op&& op) {
  std::uint64_t allocs = 0;
  for (auto _ : state) {
    std::uint64_t before = g_allocs.load(std::memory_order_relaxed);
    auto r = op();
    allocs += g_allocs.load(std::memory_order_relaxed) - before;
    benchmark::DoNotOptimize(r);
  }
  state.counters[counter] = benchmark::Counter(static_cast<double>(allocs) / static_cast<double>(state.iterations()));
  state.counters["input_bytes"] = static_cast<double>(f.w.input.size());
}

void run_decision(benchmark::State& state, const Fixture& f,
                  const char* query = "data.agent_policy.CreateContainerRequest",
                  std::vector<std::pair<std::vector<std::string>, Value>> data_overrides = {}) {
  auto p = Policy::compile({{"kata.rego", f.w.policy}}, f.data);
  if (!p) {
    state.SkipWithError(p.error().message().c_str());
    return;
  }
  auto q = (*p)->prepare(query);
  if (!q) {
    state.SkipWithError(q.error().message().c_str());
    return;
  }
  EvalOptions o;
  o.input = f.input;
  o.data_overrides = std::move(data_overrides);
  auto check = q->eval(o);
  if (!check || check->rows.empty() || !check->rows[0].value.is_true()) {
    state.SkipWithError("the benchmark request is not allowed: the workload is broken");
    return;
  }
  run_counting_allocs(state, "allocs_per_decision", f, [&] { return q->eval(o); });
}

void BM_CreateContainerDecision(benchmark::State& state) { run_decision(state, fixture()); }
BENCHMARK(BM_CreateContainerDecision)->Unit(benchmark::kMicrosecond);

void BM_CreateContainerDecisionTypical(benchmark::State& state) { run_decision(state, typical_fixture()); }
BENCHMARK(BM_CreateContainerDecisionTypical)->Unit(benchmark::kMicrosecond);

// The same kind of decision on a policy written as genpolicy writes its rules (rules_style_policy.h:
// policy data as a rule, value-returning helpers with else, set comprehensions, a mount matched
// per template mount by a function): the general evaluator's share of a real decision.
const Fixture& rules_style_fixture() {
  static const Fixture f{bench::make_rules_style_workload()};
  return f;
}
void BM_RulesStyleDecision(benchmark::State& state) {
  run_decision(state, rules_style_fixture(), "data.agent_policy.CreateContainerRequest.allowed");
}
BENCHMARK(BM_RulesStyleDecision)->Unit(benchmark::kMicrosecond);

// The heavy decision with a policy state document given by `with` (DESIGN.md: the agent's
// `data.pstate`): only rules reading the replaced root leave the compiled path (Rule::data_mask).
void BM_CreateContainerDecisionWithState(benchmark::State& state) {
  run_decision(state, fixture(),
               R"(data.agent_policy.CreateContainerRequest with data.pstate as {"sandbox_name": "pod-5", "containers": ["c1"]})");
}
BENCHMARK(BM_CreateContainerDecisionWithState)->Unit(benchmark::kMicrosecond);

// The same state given as EvalOptions::data_overrides, without `with` in the query.
void BM_CreateContainerDecisionStateOverride(benchmark::State& state) {
  run_decision(state, fixture(), "data.agent_policy.CreateContainerRequest",
               {{{"pstate"}, *parse_json(R"({"sandbox_name": "pod-5", "containers": ["c1"]})")}});
}
BENCHMARK(BM_CreateContainerDecisionStateOverride)->Unit(benchmark::kMicrosecond);

// The request's JSON parse, which the decisions above leave out (the agent pays it per request):
// object keys are interned there (Value::key_string).
void run_parse(benchmark::State& state, const Fixture& f) {
  run_counting_allocs(state, "allocs_per_parse", f, [&] { return parse_json(f.w.input); });
}
void BM_ParseCreateContainerRequest(benchmark::State& state) { run_parse(state, fixture()); }
BENCHMARK(BM_ParseCreateContainerRequest)->Unit(benchmark::kMicrosecond);
void BM_ParseCreateContainerRequestTypical(benchmark::State& state) { run_parse(state, typical_fixture()); }
BENCHMARK(BM_ParseCreateContainerRequestTypical)->Unit(benchmark::kMicrosecond);

// Small decisions, for scale: most agent API calls hit a default-deny request rule, and a trivial
// policy shows the per-evaluation overhead.
void run_small(benchmark::State& state, const std::shared_ptr<const Policy>& p, const char* query, const Value& input) {
  auto q = p->prepare(query);
  if (!q) {
    state.SkipWithError(q.error().message().c_str());
    return;
  }
  EvalOptions o;
  o.input = input;
  for (auto _ : state) {
    auto r = q->eval(o);
    benchmark::DoNotOptimize(r);
  }
}

void BM_ExecProcessDecision(benchmark::State& state) {
  const auto& f = typical_fixture();
  auto p = Policy::compile({{"kata.rego", f.w.policy}}, f.data);
  if (!p) {
    state.SkipWithError(p.error().message().c_str());
    return;
  }
  run_small(state, *p, "data.agent_policy.ExecProcessRequest", *parse_json(R"({"container_id":"c","exec_id":"e"})"));
}
BENCHMARK(BM_ExecProcessDecision)->Unit(benchmark::kMicrosecond);

void BM_TrivialDecision(benchmark::State& state) {
  auto p = Policy::compile({{"t.rego", "package t\nimport rego.v1\nallow if input.x == 1\n"}});
  if (!p) {
    state.SkipWithError(p.error().message().c_str());
    return;
  }
  run_small(state, *p, "data.t.allow", *parse_json(R"({"x":1})"));
}
BENCHMARK(BM_TrivialDecision)->Unit(benchmark::kMicrosecond);

void BM_ConformanceSuite(benchmark::State& state) {
  const char* env = std::getenv("CLOISTER_SHARED_TESTDATA");
  std::string dir = std::string(env ? env : CLOISTER_SHARED_TESTDATA_DEFAULT) + "/opa-conformance/v1";
  for (auto _ : state) {
    auto r = run_conformance({dir});
    if (!r) {
      state.SkipWithError(r.error().message().c_str());
      return;
    }
    state.counters["passed"] = static_cast<double>(r->passed);
  }
}
BENCHMARK(BM_ConformanceSuite)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace cloister::rego

BENCHMARK_MAIN();
