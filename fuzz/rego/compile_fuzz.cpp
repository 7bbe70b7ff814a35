// Policies may come from users (Kata's policy annotation), so the parser and compiler must reject
// anything malformed without crashing, recursing unboundedly or hanging. Input: policy text; when
// it compiles, `data` is also evaluated under tight limits so the evaluator sees the same inputs.
// It is evaluated twice, with and without compiled tests (CompileOptions::compile_tests): the
// answers must agree, value for value and error for error (limits that depend on the machine or
// on native stack use aside), or the fuzzer stops. A policy that compiles without base data is
// also compiled with some (at package names the corpus uses): that may only add the data-path
// conflict error. Each input is also compiled as Rego v0, for crashes only. And it is evaluated
// without remembered comprehensions (CompileOptions::memo_comprehensions), which must give the same
// answers too (a remembered value counts no steps, so there the step limit may differ).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cloister/rego/rego.h"
#include "differential.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  cloister::rego::CompileOptions copts;
  copts.max_depth = 100;
  {
    // The v0 grammar (rules without `if`, keywords only by import) must not crash either.
    cloister::rego::CompileOptions v0 = copts;
    v0.v0 = true;
    (void)cloister::rego::Policy::compile({{"fuzz.rego", text}}, cloister::rego::Value(), v0);
  }
  auto policy = cloister::rego::Policy::compile({{"fuzz.rego", text}}, cloister::rego::Value(), copts);
  if (!policy) return 0;
  cloister::rego::CompileOptions no_memo = copts;
  no_memo.memo_comprehensions = false;
  auto unmemoised = cloister::rego::Policy::compile({{"fuzz.rego", text}}, cloister::rego::Value(), no_memo);
  if (!unmemoised) {
    std::fprintf(stderr, "compiles only with remembered comprehensions: %s\n", unmemoised.error().message().c_str());
    std::abort();
  }
  copts.compile_tests = false;
  auto general = cloister::rego::Policy::compile({{"fuzz.rego", text}}, cloister::rego::Value(), copts);
  if (!general) {
    std::fprintf(stderr, "compiles only with compiled tests: %s\n", general.error().message().c_str());
    std::abort();
  }
  {
    static const cloister::rego::Value base =
        *cloister::rego::parse_json(R"({"t": {"p": 1, "q": {"r": []}, "o": {}}, "test": "s", "x": {"y": {"z": null}}})");
    auto with_data = cloister::rego::Policy::compile({{"fuzz.rego", text}}, base, copts);
    if (!with_data && with_data.error().message().find("rego_compile_error: conflicting rule for data path ") == std::string::npos) {
      std::fprintf(stderr, "compiles only without base data: %s\n", with_data.error().message().c_str());
      std::abort();
    }
  }
  {
    // Print statements erased (CompileOptions::print_statements): must not crash; the answer may
    // differ (`not print(x)` goes too, as in OPA), so only the compile is run.
    cloister::rego::CompileOptions quiet = copts;
    quiet.print_statements = false;
    (void)cloister::rego::Policy::compile({{"fuzz.rego", text}}, cloister::rego::Value(), quiet);
  }
  cloister::rego::EvalOptions opts;
  opts.limits.max_steps = 20000;
  opts.limits.max_call_depth = 64;
  opts.limits.max_collection = 10000;
  opts.limits.timeout = std::chrono::milliseconds(200);
  opts.limits.max_memory_bytes = 64 << 20;
  opts.now_ns = 0;
  opts.seed = 1;
  auto result = (*policy)->eval("data", opts);
  auto reference = (*general)->eval("data", opts);
  using cloister::rego::fuzz::machine_limit;
  const std::string got = cloister::rego::fuzz::outcome(result), want = cloister::rego::fuzz::outcome(reference);
  if (got != want && !machine_limit(got) && !machine_limit(want)) {
    std::fprintf(stderr, "compiled tests: %s\ngeneral evaluator: %s\n", got.c_str(), want.c_str());
    std::abort();
  }
  const std::string plain = cloister::rego::fuzz::outcome((*unmemoised)->eval("data", opts));
  auto steps = [](const std::string& o) { return o.find("step limit exceeded") != std::string::npos; };
  if (got != plain && !machine_limit(got) && !machine_limit(plain) && !steps(got) && !steps(plain)) {
    std::fprintf(stderr, "remembered comprehensions: %s\nnot remembered: %s\n", got.c_str(), plain.c_str());
    std::abort();
  }
  return 0;
}
