// Concurrent evaluation of one compiled policy. The agent answers API calls from several threads
// on one Policy, and the evaluator fills policy-wide tables lazily on first use (interned keys,
// compiled regexes, shared pure assignments, base-data join indexes, filter verdicts and their
// published passing positions: docs/rego.md). These tests start every thread on a cold policy at
// once, so the tables are filled while other threads read them, and compare every answer with
// one computed beforehand by the general evaluator alone on a separate policy. Built with
// ThreadSanitizer (`cmake --preset tsan`), they also check the tables' synchronisation.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cloister/rego/rego.h"
#include "kata_policy.h"

namespace cloister::rego {
namespace {

std::string replace_once(std::string s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

struct Case {
  std::string query;
  Value input;
  bool strict = false;
  std::string want;  // compact JSON of the first row, "undefined", or "error: <message>"
};

std::string answer(const Result<QueryResult>& r) {
  if (!r) return "error: " + r.error().message();
  if (r->rows.empty()) return "undefined";
  return to_json(r->rows[0].value);
}

// The Kata-shaped benchmark workload (bench/rego/kata_policy.h) with request variants that each
// fail in a different section, in both request sizes, all against the heavy workload's data (its
// templates hold every entry of the typical request too: that request is allowed).
TEST(RegoConcurrency, KataDecisionsAgreeAcrossThreadsFromAColdPolicy) {
  const auto heavy = bench::make_kata_workload();
  const auto typical = bench::make_kata_workload(bench::KataShape::typical());
  std::vector<std::string> inputs;
  for (const auto* w : {&heavy, &typical}) {
    const std::string& in = w->input;
    inputs.push_back(in);
    inputs.push_back(replace_once(in, "HOST_IP_3=10.0.0.3", "HOST_IP_3=10.0.0.3;reboot"));  // env pattern
    inputs.push_back(replace_once(in, "aaaaaaaa", "aaaaaaa"));  // mount source: sandbox id too short
    inputs.push_back(replace_once(in, "\"f1\":\"alt1\"", "\"f1\":\"other\""));  // extra value
    inputs.push_back(replace_once(in, "\"driver\":\"blk\"", "\"driver\":\"local\""));  // storage by regex
    inputs.push_back(replace_once(in, "\"rprivate\"", "\"shared\""));  // mount option
    inputs.push_back(replace_once(in, "\"value0\"", "\"value-zero\""));  // annotation
    inputs.push_back(replace_once(in, "\"8080\"", "\"80a\""));  // argument pattern
  }
  const char* queries[] = {
      "data.agent_policy.CreateContainerRequest",
      "data.agent_policy.allow_process(data.policy_data.containers[5].OCI.Process, input.OCI.Process)",
      "data.agent_policy.allow_mounts(data.policy_data.containers[5], input.OCI)",
      "data.agent_policy.allow_storages(data.policy_data.containers[5].storages, input.storages)",
      "data.agent_policy.ExecProcessRequest",
  };

  Value data = *parse_json(heavy.data);
  CompileOptions general;
  general.compile_tests = false;
  auto reference = Policy::compile({{"kata.rego", heavy.policy}}, data, general);
  ASSERT_TRUE(reference.has_value()) << reference.error().message();
  std::vector<Case> cases;
  for (const char* q : queries) {
    for (const auto& text : inputs) {
      for (bool strict : {false, true}) {
        EvalOptions o;
        o.input = *parse_json(text);
        o.strict_builtin_errors = strict;
        cases.push_back({q, o.input, strict, answer((*reference)->eval(q, o))});
      }
    }
  }
  // The variants must exercise both answers, or the comparison below proves little.
  const auto trues = std::count_if(cases.begin(), cases.end(), [](const Case& c) { return c.want == "true"; });
  EXPECT_GE(trues, 10);
  EXPECT_GE(std::count_if(cases.begin(), cases.end(), [](const Case& c) { return c.want != "true"; }), 40);

  // Fresh policy, cold tables; queries prepared up front, each shared by all threads.
  auto policy = Policy::compile({{"kata.rego", heavy.policy}}, data);
  ASSERT_TRUE(policy.has_value()) << policy.error().message();
  std::vector<PreparedQuery> prepared;
  for (const char* q : queries) {
    auto pq = (*policy)->prepare(q);
    ASSERT_TRUE(pq.has_value()) << pq.error().message();
    prepared.push_back(*pq);
  }
  auto prepared_for = [&](const std::string& q) -> const PreparedQuery& {
    for (std::size_t i = 0; i < std::size(queries); ++i)
      if (q == queries[i]) return prepared[i];
    std::abort();
  };

  constexpr int kThreads = 4;
  constexpr int kRounds = 3;
  std::barrier start(kThreads);
  std::atomic<int> agreed{0};
  std::vector<std::string> mismatches(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int round = 0; round < kRounds; ++round) {
        for (std::size_t i = 0; i < cases.size(); ++i) {
          // Each thread walks the cases from a different place, so the first use of a table
          // happens in different threads for different queries and inputs.
          const Case& c = cases[(i + static_cast<std::size_t>(t) * cases.size() / kThreads) % cases.size()];
          EvalOptions o;
          o.input = c.input;
          o.strict_builtin_errors = c.strict;
          const std::string got = answer(prepared_for(c.query).eval(o));
          if (got == c.want) ++agreed;
          else if (mismatches[t].empty()) mismatches[t] = c.query + " -> " + got + ", want " + c.want;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& m : mismatches) EXPECT_EQ(m, "");
  EXPECT_EQ(agreed.load(), kThreads * kRounds * static_cast<int>(cases.size()));
}

}  // namespace
}  // namespace cloister::rego
