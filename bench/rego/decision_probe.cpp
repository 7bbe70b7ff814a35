// A deterministic driver for instruction-count profiling (callgrind) of the benchmark decision:
// compiles the Kata-shaped policy once, makes one warm-up decision (the policy's regex cache fills),
// then N more (`rego_decision_probe N typical`: the common-size request; `rules`: the workload of
// rules_style_policy.h). Run under
// `valgrind --tool=callgrind --toggle-collect='*probe_decisions*'` so only the N warm decisions
// are counted; the steady-state cost per decision is the total divided by N.
// `rego_decision_probe N POLICY.rego DATA.json INPUT.json QUERY` profiles any policy the same way
// (the query's first value must be true). `rego_decision_probe dump [typical]` writes the
// built-in workload to kata.rego, data.json and input.json in the current directory.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "cloister/rego/rego.h"
#include "kata_policy.h"
#include "rules_style_policy.h"

namespace {

using namespace cloister::rego;

__attribute__((noinline)) int probe_decisions(const PreparedQuery& q, const EvalOptions& o, int n) {
  int allowed = 0;
  for (int i = 0; i < n; ++i) {
    auto r = q.eval(o);
    if (r && !r->rows.empty() && r->rows[0].value.is_true()) ++allowed;
  }
  return allowed;
}

std::string slurp(const char* path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "dump") {
    bool typical = argc > 2 && std::string_view(argv[2]) == "typical";
    auto w = bench::make_kata_workload(typical ? bench::KataShape::typical() : bench::KataShape{});
    std::ofstream("kata.rego") << w.policy;
    std::ofstream("data.json") << w.data;
    std::ofstream("input.json") << w.input;
    return 0;
  }
  int n = argc > 1 ? std::atoi(argv[1]) : 10;
  // `typical` as the second argument: the common pod's container instead of the heavy request.
  bool typical = argc > 2 && std::string_view(argv[2]) == "typical";
  auto w = bench::make_kata_workload(typical ? bench::KataShape::typical() : bench::KataShape{});
  std::string query = "data.agent_policy.CreateContainerRequest";
  // `rules` as the second argument: the genpolicy-rules-style workload (rules_style_policy.h),
  // whose request rule is an object ({"allowed": true, "ops": [...]}).
  if (argc > 2 && std::string_view(argv[2]) == "rules") {
    w = bench::make_rules_style_workload();
    query += ".allowed";
  }
  if (argc == 6) {
    w = {slurp(argv[2]), slurp(argv[3]), slurp(argv[4])};
    query = argv[5];
  }
  auto data = parse_json(w.data);
  auto input = parse_json(w.input);
  if (!data || !input) return 2;
  auto p = Policy::compile({{"kata.rego", w.policy}}, *data);
  if (!p) {
    std::fprintf(stderr, "%s\n", p.error().message().c_str());
    return 2;
  }
  auto q = (*p)->prepare(query);
  if (!q) return 2;
  EvalOptions o;
  o.input = *input;
  auto warm = q->eval(o);  // fills the regex cache; the request must be allowed
  if (!warm || warm->rows.empty() || !warm->rows[0].value.is_true()) return 1;
  int allowed = probe_decisions(*q, o, n);
  std::printf("%d of %d decisions allowed\n", allowed, n);
  return allowed == n ? 0 : 1;
}
