// The agent's attack surface is the request, not the policy: the host sends any JSON it likes and
// the hash-bound policy decides. Input: a request document, evaluated against the benchmark's
// Kata-shaped policy (bench/rego/kata_policy.h: joins, filtered loops, pattern rules, call
// blocks over request collections) once with compiled tests and once with the general evaluator
// alone (CompileOptions::compile_tests = false), each with and without strict builtin errors. The
// answers must agree value for value and error for error (limits that depend on the machine or on
// native stack use aside), or the fuzzer stops: a fast path that allowed what the policy denies
// would be a hole. Both policies live for the whole run, so their shared tables fill as they do
// in an agent that answers many requests.
//
// Byte mutations of a 17 KB JSON text mostly break its syntax, so the fuzzer also mutates the
// parsed document (LLVMFuzzerCustomMutator): it picks one value and changes its bytes, moves
// another value of the document there, drops or repeats a member, or puts another type in its
// place, and prints the document again.
#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cloister/rego/rego.h"
#include "differential.h"
#include "kata_policy.h"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

using namespace cloister::rego;
using fuzz::machine_limit;
using fuzz::outcome;

constexpr std::array kQueries = {
    "data.agent_policy.CreateContainerRequest",
    "data.agent_policy.allow_annotations(data.policy_data.containers[5].OCI, input.OCI)",
    "data.agent_policy.allow_process(data.policy_data.containers[5].OCI.Process, input.OCI.Process)",
    "data.agent_policy.allow_mounts(data.policy_data.containers[5], input.OCI)",
    "data.agent_policy.allow_linux(data.policy_data.containers[5].OCI.Linux, input.OCI.Linux)",
    "data.agent_policy.allow_storages(data.policy_data.containers[5].storages, input.storages)",
    "data.agent_policy.allow_checks(data.policy_data.containers[5], input.OCI)",
};

struct Engines {
  std::vector<PreparedQuery> compiled, general;
};

std::vector<PreparedQuery> prepare_all(const cloister::rego::bench::KataWorkload& w, bool compile_tests) {
  CompileOptions copts;
  copts.compile_tests = compile_tests;
  auto data = parse_json(w.data);
  if (!data) std::abort();
  auto policy = Policy::compile({{"kata.rego", w.policy}}, *data, copts);
  if (!policy) {
    std::fprintf(stderr, "benchmark policy does not compile: %s\n", policy.error().message().c_str());
    std::abort();
  }
  std::vector<PreparedQuery> out;
  for (const char* q : kQueries) {
    auto pq = (*policy)->prepare(q);
    if (!pq) std::abort();
    out.push_back(*pq);
  }
  return out;  // (a prepared query keeps its policy alive)
}

const Engines& engines() {
  static const Engines e = [] {
    const auto w = cloister::rego::bench::make_kata_workload();
    return Engines{prepare_all(w, true), prepare_all(w, false)};
  }();
  return e;
}

using Json = nlohmann::json;

// Every value of `j`, containers included, in document order.
void values_of(Json& j, std::vector<Json*>& out) {
  out.push_back(&j);
  if (j.is_structured())
    for (auto& v : j) values_of(v, out);
}

// One structural change to a random value of `doc`.
void mutate_value(Json& doc, std::mt19937& rng) {
  std::vector<Json*> all;
  values_of(doc, all);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  Json& v = *all[pick(all.size())];
  switch (pick(6)) {
    case 0:  // its bytes (a string's, or the text of a scalar)
      if (v.is_string() || v.is_number()) {
        std::string t = v.is_string() ? v.get<std::string>() : v.dump();
        t.resize(t.size() + 16);
        t.resize(LLVMFuzzerMutate(reinterpret_cast<std::uint8_t*>(t.data()), t.size() - 16, t.size()));
        v = t;
      }
      break;
    case 1: {  // another value of the document (a field's value where another field's was)
      Json other = *all[pick(all.size())];
      v = std::move(other);
      break;
    }
    case 2:  // drop a member
      if (v.is_object() && !v.empty()) {
        auto it = v.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(pick(v.size())));
        v.erase(it.key());
      } else if (v.is_array() && !v.empty()) {
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(pick(v.size())));
      }
      break;
    case 3:  // repeat a member
      if (v.is_array() && !v.empty()) {
        Json copy = v[pick(v.size())];
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(pick(v.size() + 1)), std::move(copy));
      } else if (v.is_object() && !v.empty()) {
        auto it = v.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(pick(v.size())));
        Json copy = it.value();
        v[it.key() + "x"] = std::move(copy);
      }
      break;
    case 4: {  // another type
      static const Json kinds[] = {nullptr, true, false, 0, -1, 1.5, "", Json::array(), Json::object()};
      v = kinds[pick(std::size(kinds))];
      break;
    }
    default:  // a string that a pattern rule would have to judge
      if (v.is_string()) v = v.get<std::string>() + std::string(1 + pick(70), "a0.-/$"[pick(6)]);
      break;
  }
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  Json doc = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  std::mt19937 rng(seed);
  if (doc.is_discarded() || rng() % 8 == 0) return LLVMFuzzerMutate(data, size, max_size);
  for (int n = 1 + static_cast<int>(rng() % 3); n > 0; --n) mutate_value(doc, rng);
  // (Bytes mutated into a string may not be UTF-8: printed as U+FFFD. The plain byte mutations
  // above reach the parser's UTF-8 checks.)
  const std::string text = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, text.data(), text.size());
  return text.size();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256 * 1024) return 0;
  const Engines& e = engines();
  auto input = parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!input) return 0;
  EvalOptions opts;
  opts.input = *input;
  opts.limits.max_steps = 200000;
  opts.limits.max_collection = 100000;
  opts.limits.timeout = std::chrono::milliseconds(500);
  opts.limits.max_memory_bytes = 64 << 20;
  opts.now_ns = 0;
  opts.seed = 1;
  for (bool strict : {false, true}) {
    opts.strict_builtin_errors = strict;
    for (std::size_t i = 0; i < kQueries.size(); ++i) {
      const std::string got = outcome(e.compiled[i].eval(opts)), want = outcome(e.general[i].eval(opts));
      if (got != want && !machine_limit(got) && !machine_limit(want)) {
        std::fprintf(stderr, "%s (strict %d)\ncompiled tests: %s\ngeneral evaluator: %s\n", kQueries[i], strict,
                     got.c_str(), want.c_str());
        std::abort();
      }
    }
  }
  return 0;
}
