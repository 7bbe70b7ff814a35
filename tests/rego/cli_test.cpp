#include <fstream>

#include <gtest/gtest.h>

#include "testing/testdata.h"

namespace {

using cloister::testing::bin_path;
using cloister::testing::run_process;
using cloister::testing::TempDir;

void write(const std::filesystem::path& p, const std::string& s) { std::ofstream(p) << s; }

TEST(RegoCli, EvalPrintsValueUndefinedAndErrors) {
  TempDir dir;
  write(dir / "p.rego", "package t\nallow if input.user == data.admin\nnames := [n | some n in input.names]\n");
  write(dir / "d.json", R"({"admin":"root"})");
  write(dir / "in.json", R"({"user":"root","names":["a","b"]})");
  std::string cloister = bin_path("cloister").string();
  auto r = run_process({cloister, "rego", "eval", "-d", (dir / "p.rego").string(), "-d", (dir / "d.json").string(), "-i",
                        (dir / "in.json").string(), "data.t"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"allow\":true,\"names\":[\"a\",\"b\"]}\n");
  r = run_process({cloister, "rego", "eval", "-d", dir.path().string(), "data.t.allow"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "undefined\n");
  write(dir / "bad.rego", "package t\nq := [1,\n");
  r = run_process({cloister, "rego", "eval", "-d", (dir / "bad.rego").string(), "data.t.q"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.rego:3:1: rego_parse_error"), std::string::npos) << r.err;
  r = run_process({cloister, "rego", "eval", "--strict", "1 / 0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("eval_builtin_error: div: divide by zero"), std::string::npos) << r.err;
}

TEST(RegoCli, CheckAndConformance) {
  TempDir dir;
  write(dir / "ok.rego", "package t\np := 1\n");
  write(dir / "unsafe.rego", "package u\np if { x > 1 }\n");
  std::string cloister = bin_path("cloister").string();
  EXPECT_EQ(run_process({cloister, "rego", "check", (dir / "ok.rego").string()}).exit_code, 0);
  auto r = run_process({cloister, "rego", "check", (dir / "unsafe.rego").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rego_unsafe_var_error: var x is unsafe"), std::string::npos) << r.err;
  write(dir / "cases.yaml", R"(cases:
  - note: t/pass
    query: data.t.p = x
    modules: ["package t\np := 18446744073709551616\n"]
    want_result: [{x: 18446744073709551616}]
  - note: t/fail
    query: data.t.p = x
    modules: ["package t\np := 2\n"]
    want_result: [{x: 3}]
  - note: t/skip
    query: x := http.send({})
    want_result: []
  - note: t/skip-named-as-replacement
    query: x := time.now_ns() with time.now_ns as opa.runtime
    want_result: []
  - note: t/not-skipped-prefix
    query: 'x := {"opa.runtimes": 1}'
    want_result: [{x: {"opa.runtimes": 1}}]
)");
  r = run_process({cloister, "rego", "conformance", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("t/fail"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 passed, 1 failed, 2 skipped"), std::string::npos) << r.out;
}

// The deliberately unsupported builtins fail at compile time with a message that says so, never
// as "undefined function" and never with a value.
TEST(RegoCli, UnsupportedBuiltinsAreRejectedClearly) {
  TempDir dir;
  std::string cloister = bin_path("cloister").string();
  const std::pair<const char*, const char*> uses[] = {
      {"http.send({\"method\": \"get\", \"url\": \"http://x\"})", "network access"},
      {"net.lookup_ip_addr(\"example.com\")", "network access (DNS)"},
      {"opa.runtime()", "no OPA runtime"},
      {"providers.aws.sign_req({}, {}, 0)", "cloud provider credentials"},
  };
  for (const auto& [call, why] : uses) {
    write(dir / "p.rego", std::string("package t\np := x if { x := ") + call + " }\n");
    auto r = run_process({cloister, "rego", "eval", "-d", (dir / "p.rego").string(), "data.t.p"});
    EXPECT_EQ(r.exit_code, 2) << call;
    EXPECT_EQ(r.out, "") << call;
    std::string name(call, std::string_view(call).find('('));
    EXPECT_NE(r.err.find("p.rego:2: rego_type_error: unsupported builtin " + name + ": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
  }
  // Named as a `with` replacement, too: the mocked call would otherwise be silently undefined.
  write(dir / "p.rego", "package t\np := x if { x = time.now_ns() with time.now_ns as opa.runtime }\n");
  auto r = run_process({cloister, "rego", "eval", "-d", (dir / "p.rego").string(), "data.t.p"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("p.rego:2: rego_type_error: unsupported builtin opa.runtime: "), std::string::npos) << r.err;
}

}  // namespace
