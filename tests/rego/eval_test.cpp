#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "cloister/rego/rego.h"

namespace cloister::rego {
namespace {

std::shared_ptr<const Policy> compile_ok(const std::string& text, Value data = Value(), CompileOptions o = {}) {
  auto p = Policy::compile({{"t.rego", text}}, data, o);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message());
  return p ? *p : nullptr;
}

std::string eval_json(const std::shared_ptr<const Policy>& p, std::string_view query, Value input = Value()) {
  EvalOptions o;
  o.input = input;
  auto r = p->eval(query, o);
  if (!r) return "error: " + r.error().message();
  if (r->rows.empty()) return "undefined";
  return to_json(r->rows[0].value);
}

// The value of `query`'s first result (or "undefined", or the error) in a mode and step limit,
// then the lines it printed, each after " | ".
std::string outcome_of(const std::shared_ptr<const Policy>& p, const std::string& query, const Value& input, bool strict,
                       std::uint64_t steps) {
  EvalOptions o;
  o.input = input;
  o.strict_builtin_errors = strict;
  o.limits.max_steps = steps;
  auto r = p->eval(query, o);
  if (!r) return "error: " + r.error().message();
  std::string out = r->rows.empty() ? std::string("undefined") : to_json(r->rows[0].value);
  for (const auto& line : r->prints) out += " | " + line;
  return out;
}

std::string error_of(const std::string& text, std::string_view query = "data.t.p") {
  auto p = Policy::compile({{"t.rego", text}});
  if (!p) return p.error().message();
  auto r = (*p)->eval(query);
  if (!r) return r.error().message();
  return "no error";
}

Value J(std::string_view s) { return *parse_json(s); }

TEST(RegoEval, CompletePartialSetObjectAndDefault) {
  auto p = compile_ok(R"(package t
default allow := false
allow if input.user == "admin"
names contains n if some n in input.names
by_len[n] := count(n) if some n in input.names
p.q.r := 7
)");
  EXPECT_EQ(eval_json(p, "data.t.allow", J(R"({"user":"admin"})")), "true");
  EXPECT_EQ(eval_json(p, "data.t.allow", J(R"({"user":"bob"})")), "false");
  EXPECT_EQ(eval_json(p, "data.t.names", J(R"({"names":["b","a","b"]})")), R"(["a","b"])");
  EXPECT_EQ(eval_json(p, "data.t.by_len", J(R"({"names":["ab","c"]})")), R"({"ab":2,"c":1})");
  EXPECT_EQ(eval_json(p, "data.t.p.q", J("{}")), R"({"r":7})");
  EXPECT_EQ(eval_json(p, "data.t.missing", J("{}")), "undefined");
}

TEST(RegoEval, FunctionsElseAndIndexingByArguments) {
  auto p = compile_ok(R"(package t
f(1) := "one"
f(2) := "two"
f(x) := "many" if x > 2
g(x) := "neg" if { x < 0 } else := "zero" if { x == 0 } else := "pos"
)");
  EXPECT_EQ(eval_json(p, "data.t.f(1)"), R"("one")");
  EXPECT_EQ(eval_json(p, "data.t.f(5)"), R"("many")");
  EXPECT_EQ(eval_json(p, "data.t.f(0)"), "undefined");
  EXPECT_EQ(eval_json(p, "data.t.g(-3)"), R"("neg")");
  EXPECT_EQ(eval_json(p, "data.t.g(0)"), R"("zero")");
  EXPECT_EQ(eval_json(p, "data.t.g(9)"), R"("pos")");
}

TEST(RegoEval, FirstArgumentIndexKeepsSourceOrderAndFallbacks) {
  std::string text = "package t\n";
  for (int i = 0; i < 50; ++i) text += "f(" + std::to_string(i) + ") := " + std::to_string(i * 10) + "\n";
  text += "f(x) := -1 if x > 1000\nf(7) := 70\ng(x) := y if { y := f(x) }\n";
  auto p = compile_ok(text);
  EXPECT_EQ(eval_json(p, "data.t.f(3)"), "30");
  EXPECT_EQ(eval_json(p, "data.t.f(7)"), "70");  // two constant bodies agree
  EXPECT_EQ(eval_json(p, "data.t.f(5000)"), "-1");
  EXPECT_EQ(eval_json(p, "data.t.f(999)"), "undefined");
  EXPECT_EQ(eval_json(p, "data.t.g(49)"), "490");
  auto c = compile_ok("package t\nf(1) := 1\nf(1) := 2\nf(2) := 2\nf(3) := 3\nf(4) := 4\n");
  EXPECT_NE(eval_json(c, "data.t.f(1)").find("eval_conflict_error"), std::string::npos);
}

TEST(RegoEval, NegationEverySomeAndComprehensions) {
  auto p = compile_ok(R"(package t
all_small if every x in input.xs { x < 10 }
no_big if not any_big
any_big if { some x in input.xs; x >= 10 }
doubled := [y | some x in input.xs; y := x * 2]
evens := {x | some x in input.xs; x % 2 == 0}
index := {x: i | some i, x in input.xs}
)");
  Value in = J(R"({"xs":[1,2,3,4]})");
  EXPECT_EQ(eval_json(p, "data.t.all_small", in), "true");
  EXPECT_EQ(eval_json(p, "data.t.no_big", in), "true");
  EXPECT_EQ(eval_json(p, "data.t.doubled", in), "[2,4,6,8]");
  EXPECT_EQ(eval_json(p, "data.t.evens", in), "[2,4]");
  EXPECT_EQ(eval_json(p, "data.t.index", in), R"({"1":0,"2":1,"3":2,"4":3})");
  EXPECT_EQ(eval_json(p, "data.t.all_small", J(R"({"xs":[1,20]})")), "undefined");
}

TEST(RegoEval, WithReplacesInputDataAndFunctions) {
  auto p = compile_ok(R"(package t
name := input.name
limit := data.config.limit
f(x) := x + 1
mock(x) := x * 100
a := x if { x := name with input.name as "z" }
b := x if { x := limit with data.config.limit as 3 }
c := x if { x := f(1) with f as mock }
d := x if { x := count("ab") with count as mock2 }
mock2(s) := concat("", [s, s])
)", J(R"({"config":{"limit":1}})"));
  EXPECT_EQ(eval_json(p, "data.t.a", J(R"({"name":"x"})")), R"("z")");
  EXPECT_EQ(eval_json(p, "data.t.b"), "3");
  EXPECT_EQ(eval_json(p, "data.t.limit"), "1");
  EXPECT_EQ(eval_json(p, "data.t.c"), "100");
  EXPECT_EQ(eval_json(p, "data.t.d"), R"("abab")");
}

// EvalOptions::data_overrides replaces base data for one evaluation as `with data.<path> as v`
// would (the agent's policy state document, DESIGN.md), compiled rules and all; the prepared
// query and the policy keep their own data for the next evaluation.
TEST(RegoEval, DataOverridesActAsWithDataForOneEvaluation) {
  const std::string policy = R"(package t
import rego.v1
seen(k) if { some s in data.pstate.seen; s == k }
allowed(e) if { some p in data.prefixes; startswith(e, p) }
exec_ok(k, e) if { allowed(e); seen(k) }
default ok := false
ok if exec_ok(input.k, input.e)
decision := {"allowed": ok, "n": count(data.pstate.seen)}
pkg := data.t.decision
)";
  const Value data = J(R"({"prefixes": ["ls", "cat"], "pstate": {"seen": []}})");
  auto compiled = compile_ok(policy, data);
  CompileOptions general_options;
  general_options.compile_tests = false;
  auto general = Policy::compile({{"t.rego", policy}}, data, general_options);
  ASSERT_TRUE(compiled && general.has_value());
  auto q = compiled->prepare("data.t.decision");
  ASSERT_TRUE(q.has_value());
  auto run = [](const PreparedQuery& query, const Value& in, std::vector<std::pair<std::vector<std::string>, Value>> over) {
    EvalOptions o;
    o.input = in;
    o.data_overrides = std::move(over);
    auto r = query.eval(o);
    if (!r) return "error: " + r.error().message();
    return r->rows.empty() ? std::string("undefined") : to_json(r->rows[0].value);
  };
  const Value in = J(R"({"k": "c1", "e": "ls -l"})");
  const Value state = J(R"({"seen": ["c0", "c1"]})");
  EXPECT_EQ(run(*q, in, {}), R"({"allowed":false,"n":0})");
  EXPECT_EQ(run(*q, in, {{{"pstate"}, state}}), R"({"allowed":true,"n":2})");
  EXPECT_EQ(run(*q, in, {{{"pstate", "seen"}, J(R"(["c1"])")}}), R"({"allowed":true,"n":1})");
  EXPECT_EQ(run(*q, in, {{{"pstate"}, state}, {{"prefixes"}, J(R"(["cat"])")}}), R"({"allowed":false,"n":2})");
  EXPECT_EQ(run(*q, in, {}), R"({"allowed":false,"n":0})");  // nothing carried over
  // The same answers as `with`, and as the general evaluator's.
  auto with_q = compiled->prepare(R"(data.t.decision with data.pstate as {"seen": ["c0", "c1"]})");
  ASSERT_TRUE(with_q.has_value());
  EXPECT_EQ(run(*with_q, in, {}), R"({"allowed":true,"n":2})");
  auto gq = (*general)->prepare("data.t.decision");
  ASSERT_TRUE(gq.has_value());
  EXPECT_EQ(run(*gq, in, {{{"pstate"}, state}}), R"({"allowed":true,"n":2})");
  // A package's whole document, as `with data.t as ...` replaces it (rules and all: `pkg` is gone
  // then); a path inside a rule's value is refused.
  EXPECT_EQ(run(*q, in, {{{"t"}, J(R"({"decision": 7})")}}), "7");
  auto pq = compiled->prepare("data.t.pkg");
  ASSERT_TRUE(pq.has_value());
  EXPECT_EQ(run(*pq, in, {{{"t"}, J(R"({"decision": 7})")}}), "undefined");
  const std::string inside = run(*q, in, {{{"t", "decision", "allowed"}, Value::boolean(true)}});
  EXPECT_NE(inside.find("data override data.t.decision.allowed: the path lies inside a rule's value"), std::string::npos)
      << inside;
}

// Comparisons bind more loosely than `|` and `&` (OPA's parseTermRelation reads its operands with
// parseTermOr): `s == a | b` compares s with the union, as Kata's check_mount writes it.
TEST(RegoEval, ComparisonsBindLooserThanSetOperators) {
  auto p = compile_ok(R"(package t
import rego.v1
s := {"a", "b"}
union_rhs if s == {x | some x in ["a"]} | {"b"}
union_lhs if {"a"} | {"b"} == s
inter if {"a", "b"} & {"b", "c"} != {"b"}
mixed := [1 + 2 == 3, 2 * 3 > 5, {1} | {2} & {2, 3} == {1, 2}]
)");
  EXPECT_EQ(eval_json(p, "data.t.union_rhs"), "true");
  EXPECT_EQ(eval_json(p, "data.t.union_lhs"), "true");
  EXPECT_EQ(eval_json(p, "data.t.inter"), "undefined");
  EXPECT_EQ(eval_json(p, "data.t.mixed"), "[true,true,true]");
}

TEST(RegoEval, BaseAndVirtualDocumentsMerge) {
  auto p = compile_ok("package a.b\nv := 1\n", J(R"({"a":{"c":2}})"));
  EXPECT_EQ(eval_json(p, "data.a"), R"({"b":{"v":1},"c":2})");
  EXPECT_EQ(eval_json(p, "x := data.a[k]; k == \"c\""), "true");
}

TEST(RegoEval, ErrorsCarryOpaCodes) {
  EXPECT_NE(error_of("package t\np := 1\np := 2\n").find("eval_conflict_error: complete rules must not produce multiple outputs"),
            std::string::npos);
  EXPECT_NE(error_of("package t\np[k] := v if { some k, v in {\"a\": 1}; v > 0 }\np[\"a\"] := 2\n")
                .find("eval_conflict_error"),
            std::string::npos);
  EXPECT_NE(error_of("package t\np if { x > 1 }\n").find("t.rego:2: rego_unsafe_var_error: var x is unsafe"),
            std::string::npos);
  EXPECT_NE(error_of("package t\np if q\nq if p\n").find("rego_recursion_error"), std::string::npos);
  // `data` itself, not only data.t.p, reads every rule (a fuzzer find: through `with` the
  // compiler missed the cycle, and evaluation ran into the call depth limit).
  for (const char* body : {"data", "data with input as 3", "count(data) > 0", "walk(data, _)", "x := data.t"}) {
    const std::string src = std::string("package t\np if { ") + body + " }\n";
    EXPECT_NE(error_of(src).find("t.rego:2: rego_recursion_error: rule data.t.p is recursive: data.t.p -> data.t.p"),
              std::string::npos)
        << body << ": " << error_of(src);
  }
  EXPECT_EQ(error_of("package t\np if { data.u.q }\n"), "no error");  // another package: no cycle
  EXPECT_NE(error_of("package t\np := nope(1)\n").find("rego_type_error: undefined function nope"), std::string::npos);
  EXPECT_NE(error_of("package t\np := count(1, 2, 3)\n").find("rego_type_error"), std::string::npos);
  // `=` and `:=` written as calls with other than two operands (a fuzzer find: the compiler read
  // a second operand that was not there).
  for (const char* body : {"eq(1)", "some x in [1]; eq(x)", "assign(x, 1, 2)", "eq()"}) {
    const std::string src = std::string("package t\np if { ") + body + " }\n";
    EXPECT_NE(error_of(src).find("rego_type_error: "), std::string::npos) << body;
    EXPECT_NE(error_of(src).find("arity mismatch"), std::string::npos) << body;
  }
  std::string parse = error_of("package t\np := [1,\n");
  EXPECT_NE(parse.find("rego_parse_error"), std::string::npos);
  EXPECT_NE(parse.find("t.rego:3:1"), std::string::npos) << parse;
}

// Input numbers near the double range: arithmetic on them stays a number (no "inf" in the
// output) and comparing the result works — it used to kill the process (GMP on an infinity).
TEST(RegoEval, ArithmeticBeyondTheDoubleRangeStaysANumber) {
  auto p = compile_ok(R"(package t
big := input.n * 10
above if big > input.n
sum := input.n + input.n
)");
  const Value input = J(R"({"n": 1e308})");
  EXPECT_EQ(eval_json(p, "data.t.above", input), "true");
  EXPECT_EQ(eval_json(p, "data.t.sum < data.t.big", input), "true");
  EXPECT_EQ(eval_json(p, "data.t.sum == 2 * input.n", input), "true");
  EXPECT_EQ(eval_json(p, "data.t.big", input).find("inf"), std::string::npos);
}

TEST(RegoEval, StrictBuiltinErrorsAndUndefinedOtherwise) {
  auto p = compile_ok("package t\np := 1 / input.d\n");
  EvalOptions o;
  o.input = J(R"({"d":0})");
  auto r = p->eval("data.t.p", o);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->rows.empty());
  o.strict_builtin_errors = true;
  r = p->eval("data.t.p", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(error_code(r.error()), "eval_builtin_error");
  EXPECT_NE(r.error().message().find("div: divide by zero"), std::string::npos);
}

// A builtin's error that quotes another error keeps its own code: the first in the message.
TEST(RegoEval, ErrorCodeIsTheOneTheMessageLeadsWith) {
  auto p = compile_ok("package t\np := rego.parse_module(\"x.rego\", \"package foo.\")\n");
  EvalOptions o;
  o.strict_builtin_errors = true;
  auto r = p->eval("data.t.p", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("rego_parse_error"), std::string::npos) << r.error().message();
  EXPECT_EQ(error_code(r.error()), "eval_builtin_error") << r.error().message();
  EXPECT_EQ(error_code(Error(Errc::invalid_argument, "t.rego:3: rego_type_error: eval_type_error in a name")),
            "rego_type_error");
}

TEST(RegoEval, PrintIsGatheredForTheCaller) {
  auto p = compile_ok("package t\np if { print(\"hello\", input.x, input.nope) }\n");
  EvalOptions o;
  o.input = J(R"({"x":[1,{"a":true}]})");
  auto r = p->eval("data.t.p", o);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->prints.size(), 1u);
  EXPECT_EQ(r->prints[0], R"(hello [1, {"a": true}] <undefined>)");
}

// 40 nested calls with a dozen locals each need far more frame slots than the evaluator's first
// chunk; values bound in outer frames must survive the inner calls that lease and return deeper
// chunks. (Shallow enough for the native stack limit under ASan.)
TEST(RegoEval, DeepCallChainsKeepOuterFrames) {
  std::string src = "package t\nimport rego.v1\n";
  constexpr int kDepth = 40;
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, a known false positive) on
  // chains of `"literal" + std::string`.
  for (int i = 0; i < kDepth; ++i) {
    src += 'f';
    src += std::to_string(i);
    src += "(x) := y if {\n  [a, c1, c2, c3, c4, c5, c6, c7, c8, c9] := [x + 1, x, x, x, x, x, x, x, x, x]\n  b := f";
    src += std::to_string(i + 1);
    src += "(a)\n  y := [a, b[0] + 0, x, c9]\n  y[2] == x\n}\n";
  }
  src += 'f';
  src += std::to_string(kDepth);
  src += "(x) := [x * 10]\np := f0(0)\n";
  auto p = compile_ok(src);
  ASSERT_NE(p, nullptr);
  auto r = p->eval("data.t.p", {});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->rows.size(), 1u);
  // f0(0) = [1, f1(1)[0], 0, 0] = [1, 2, 0, 0]: each level's locals were still bound after its callee returned.
  EXPECT_EQ(r->rows[0].value, J("[1, 2, 0, 0]"));
}

// A chain of compiled calls (each function one call test, run from its call block) checks the
// native stack too, if only every few levels: a small stack limit ends a deep chain with
// eval_limit_error, a shallow one answers.
TEST(RegoEval, CompiledCallChainsHitTheStackLimit) {
  auto chain = [](int depth) {
    std::string src = "package t\nimport rego.v1\n";
    for (int i = 0; i < depth; ++i) {
      src += 'g';
      src += std::to_string(i);
      src += "(x) if g";
      src += std::to_string(i + 1);
      src += "(x)\n";
    }
    src += 'g';
    src += std::to_string(depth);
    src += "(x) if x == 1\np if g0(1)\n";
    return src;
  };
  EXPECT_EQ(eval_json(compile_ok(chain(300)), "data.t.p"), "true");
  auto deep = compile_ok(chain(3000));
  ASSERT_NE(deep, nullptr);
  EvalOptions o;
  o.limits.max_call_depth = 1'000'000;
  o.limits.max_stack_bytes = 64 * 1024;
  auto r = deep->eval("data.t.p", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(error_code(r.error()), "eval_limit_error");
  EXPECT_NE(r.error().message().find("stack limit"), std::string::npos) << r.error().message();
  // The call depth limit stops the chain at the same rule, with the same error, as in the
  // general evaluator.
  CompileOptions general;
  general.compile_tests = false;
  auto slow = Policy::compile({{"t.rego", chain(300)}}, Value(), general);
  ASSERT_TRUE(slow.has_value());
  EvalOptions shallow;
  shallow.limits.max_call_depth = 100;
  auto fast_r = compile_ok(chain(300))->eval("data.t.p", shallow);
  auto slow_r = (*slow)->eval("data.t.p", shallow);
  ASSERT_FALSE(fast_r.has_value());
  ASSERT_FALSE(slow_r.has_value());
  EXPECT_EQ(fast_r.error().message(), slow_r.error().message());
  EXPECT_NE(fast_r.error().message().find("call depth limit exceeded"), std::string::npos) << fast_r.error().message();
  // The same with a rule the general evaluator runs from each block after a compiled one has
  // entered the call level (constant parameters keep the block off the short loop): the level the
  // general rule enters itself, and the call it makes, are not counted twice. Every limit gives
  // the same outcome both ways.
  std::string mixed = "package t\nimport rego.v1\nk(x) := y if { y := concat(\"\", [x]) }\n";
  for (int i = 0; i <= 150; ++i) {
    const std::string n = std::to_string(i), next = std::to_string(i + 1);
    if (i < 150) mixed.append("h").append(n).append("(x) if h").append(next).append("(x)\n");
    else mixed.append("h150(x) if x == \"b\"\n");
    mixed.append("h").append(n).append("(x) if { y := k(x); y == \"no\" }\n");
    mixed.append("h").append(n).append("(\"zz\")\n");
  }
  mixed.append("default p := false\np if h0(\"a\")\n");
  auto mixed_fast = compile_ok(mixed);
  auto mixed_slow = Policy::compile({{"t.rego", mixed}}, Value(), general);
  ASSERT_TRUE(mixed_fast && mixed_slow.has_value());
  std::set<std::string> seen;
  for (std::size_t limit : {100, 150, 151, 152, 153, 300}) {
    EvalOptions o2;
    o2.limits.max_call_depth = limit;
    auto a = mixed_fast->eval("data.t.p", o2);
    auto b = (*mixed_slow)->eval("data.t.p", o2);
    const std::string fa = a ? to_json(a->rows.at(0).value) : a.error().message();
    const std::string fb = b ? to_json(b->rows.at(0).value) : b.error().message();
    EXPECT_EQ(fa, fb) << "max_call_depth " << limit;
    seen.insert(a ? "value" : "error");
  }
  EXPECT_EQ(seen.size(), 2u);  // the limits straddle the chain's depth
}

TEST(RegoEval, LimitsStopRunawayEvaluation) {
  auto p = compile_ok("package t\np := count([x | some a in numbers.range(1, 3000); some b in numbers.range(1, 3000); x := a * b])\n");
  EvalOptions o;
  o.limits.max_steps = 100000;
  auto r = p->eval("data.t.p", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(error_code(r.error()), "eval_limit_error");
  EvalOptions t;
  t.limits.timeout = std::chrono::milliseconds(20);
  t.limits.max_steps = 0;
  auto start = std::chrono::steady_clock::now();
  r = p->eval("data.t.p", t);
  ASSERT_FALSE(r.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(RegoEval, LongBodiesHitTheStackLimitNotTheGuardPage) {
  std::string body = "package t\np := x0 if {\n  x0 := 0\n";
  for (int i = 1; i < 20000; ++i) body += "  x" + std::to_string(i) + " := x" + std::to_string(i - 1) + " + 1\n";
  body += "}\n";
  auto p = compile_ok(body);
  ASSERT_NE(p, nullptr);
  EvalOptions o;
  o.limits.max_stack_bytes = 256 * 1024;
  auto r = p->eval("data.t.p", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(error_code(r.error()), "eval_limit_error");
  o.limits.max_stack_bytes = 64 * 1024 * 1024;  // the main thread's stack is large enough here
  std::string small = "package t\np := x if {\n  a := 1\n  b := a + 1\n  x := b * 2\n}\n";
  EXPECT_EQ(eval_json(compile_ok(small), "data.t.p"), "4");
}

TEST(RegoEval, V0PoliciesCompileWithTheFlag) {
  const char* v0 = R"(package agent_policy
import future.keywords.in
default Allow = false
Allow { some c in input.containers; c.image == data.images[_] }
deny[msg] { c := input.containers[_]; not allowed(c); msg := sprintf("image %v", [c.image]) }
allowed(c) { c.image in data.images }
)";
  CompileOptions o;
  o.v0 = true;
  auto p = Policy::compile({{"v0.rego", v0}}, J(R"({"images":["nginx"]})"), o);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  Value in = J(R"({"containers":[{"image":"nginx"},{"image":"evil"}]})");
  EXPECT_EQ(eval_json(*p, "data.agent_policy.Allow", in), "true");
  EXPECT_EQ(eval_json(*p, "data.agent_policy.deny", in), R"(["image evil"])");
  auto strict_v1 = Policy::compile({{"v0.rego", v0}}, J("{}"));
  ASSERT_FALSE(strict_v1.has_value());
  EXPECT_NE(strict_v1.error().message().find("`if` keyword is required"), std::string::npos);
}

// In v0 a two-part head means a partial set without `if` and a single-value rule with it, as in
// OPA (issue 6184); a bare `a.b.c` statement is `a.b.c = true`.
TEST(RegoEval, V0HeadsMeanWhatOpaReads) {
  const char* v0 = R"(package t
import future.keywords.if
import future.keywords.in
objs[x] if { some x in ["a", "b"] }
sets[x] { some x in ["a", "b"] }
a.b { true }
c.d.e
f(x) { x == 1 } { x == 2 }
)";
  CompileOptions o;
  o.v0 = true;
  auto p = Policy::compile({{"v0.rego", v0}}, Value(), o);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(eval_json(*p, "data.t.objs"), R"({"a":true,"b":true})");
  EXPECT_EQ(eval_json(*p, "data.t.sets"), R"(["a","b"])");
  EXPECT_EQ(eval_json(*p, "data.t.a"), R"(["b"])");
  EXPECT_EQ(eval_json(*p, "data.t.c"), R"({"d":{"e":true}})");
  EXPECT_EQ(eval_json(*p, "[data.t.f(1), data.t.f(2), object.get({}, \"x\", data.t.f(3))]"), "undefined");
  EXPECT_EQ(eval_json(*p, "[data.t.f(1), data.t.f(2)]"), "[true,true]");
}

// The module checks Rego v1 adds (OPA's checkRegoV1Module): shadowed imports, rules, arguments or
// variables named input/data, and the builtins deprecated before 1.0. v0 modules keep them.
TEST(RegoEval, RegoV1ModuleChecks) {
  EXPECT_EQ(error_of("package t\nimport input.foo\nimport data.foo\np := 1\n"),
            "t.rego:3: rego_compile_error: import must not shadow import input.foo");
  EXPECT_EQ(error_of("package t\nimport data.a as x\nimport data[\"b-c\"] as x\np := 1\n"),
            "t.rego:3: rego_compile_error: import must not shadow import data.a as x");
  EXPECT_EQ(error_of("package t\nimport data.a\nimport data.b.a\np := 1\n"),
            "t.rego:3: rego_compile_error: import must not shadow import data.a");
  EXPECT_EQ(error_of("package t\ninput := 1\n"), "t.rego:2: rego_compile_error: rules must not shadow input (use a different rule name)");
  EXPECT_EQ(error_of("package t\ndata.x := 1\n"), "t.rego:2: rego_compile_error: rules must not shadow data (use a different rule name)");
  EXPECT_EQ(error_of("package t\nf(input) := 1\n"),
            "t.rego:2: rego_compile_error: args must not shadow input (use a different variable name)");
  EXPECT_EQ(error_of("package t\np if {\n  x := 1\n  data := x\n}\n"),
            "t.rego:4: rego_compile_error: variables must not shadow data (use a different variable name)");
  EXPECT_EQ(error_of("package t\np := [y | y := any([true])]\n"),
            "t.rego:2: rego_type_error: deprecated built-in function calls in expression: any");
  EXPECT_EQ(error_of("package t\np if re_match(\"a\", \"a\")\n"),
            "t.rego:2: rego_type_error: deprecated built-in function calls in expression: re_match");
  // A package's own function of that name is not the builtin; a query is not a module.
  EXPECT_EQ(error_of("package t\nany(xs) := true in xs\np := any([true])\n"), "no error");
  auto p = compile_ok("package t\nx := 1\n");
  EXPECT_EQ(eval_json(p, "all([true, true])"), "true");
  // v0 modules may do all of it.
  CompileOptions o;
  o.v0 = true;
  auto v0 = Policy::compile({{"v0.rego", "package t\nimport data.a\nimport data.a\ninput := 1\nq := any([true])\n"}}, Value(), o);
  ASSERT_TRUE(v0.has_value()) << v0.error().message();
  EXPECT_EQ(eval_json(*v0, "data.t.q"), "true");
  // The casts and set_diff OPA deprecated in v0.13: refused in v1 modules, answered in v0 ones.
  EXPECT_EQ(error_of("package t\np := cast_array({1})\n"),
            "t.rego:2: rego_type_error: deprecated built-in function calls in expression: cast_array");
  EXPECT_EQ(error_of("package t\np := set_diff({1}, {2})\n"),
            "t.rego:2: rego_type_error: deprecated built-in function calls in expression: set_diff");
  auto casts = Policy::compile({{"v0.rego", "package t\np = [cast_array({2, 1}), cast_set([1, 1]), set_diff({1, 2}, {2})]\n"}}, Value(), o);
  ASSERT_TRUE(casts.has_value()) << casts.error().message();
  EXPECT_EQ(eval_json(*casts, "data.t.p"), "[[1,2],[1],[1]]");
}

// OPA's checkRuleConflicts: a ground-headed rule has no rules below it, and one path does not
// mix rule kinds. (Before session 11 these evaluated, answering from one kind and dropping the
// other: `p := 1` with `p contains 2` was [true, 2].)
TEST(RegoEval, RuleKindsAndExtentsDoNotConflict) {
  EXPECT_EQ(error_of("package t\np.q := 1\np := {\"q\": 2}\n"), "t.rego:3: rego_type_error: rule data.t.p conflicts with [data.t.p.q]");
  EXPECT_EQ(error_of("package t\np contains 1\np.q.r := 2\np.s[x] := 3 if some x in [1]\n"),
            "t.rego:2: rego_type_error: rule data.t.p conflicts with [data.t.p.q.r data.t.p.s]");
  EXPECT_EQ(error_of("package t\np := 1\np contains 2\n"), "t.rego:2: rego_type_error: conflicting rules data.t.p found");
  EXPECT_EQ(error_of("package t\np contains 2\ndefault p := 1\n"), "t.rego:2: rego_type_error: conflicting rules data.t.p found");
  EXPECT_EQ(error_of("package t\np := {}\np[x] := 1 if some x in [\"a\"]\n"), "t.rego:2: rego_type_error: conflicting rules data.t.p found");
  // A package at a rule's path, even an empty one (OPA's module-tree check).
  auto pkg = Policy::compile({{"a.rego", "# rules\npackage t\np := 1\n"}, {"b.rego", "package t.p\n"}});
  ASSERT_FALSE(pkg.has_value());
  EXPECT_EQ(pkg.error().message(), "a.rego:2: rego_type_error: package t.p conflicts with rule defined at a.rego:3");
  // Rules with a variable in the head may have rules inside their extent (OPA's allowed pairs).
  auto p = compile_ok("package t\np.q[r] := 1 if r := \"r\"\np.q.s := 2\nx[k] := 1 if some k in [\"a\"]\nx.y.z if true\n");
  EXPECT_EQ(eval_json(p, "data.t"), R"({"p":{"q":{"r":1,"s":2}},"x":{"a":1,"y":{"z":true}}})");
}

// OPA's CheckPathConflicts with its store's NonEmpty test: a rule where base data has a value, or
// under a base value that is not an object, is refused; under an object it extends the data.
TEST(RegoEval, RulesDoNotOverlapBaseData) {
  auto data_error = [](const std::string& text, std::string_view data, CompileOptions o = {}) {
    auto p = Policy::compile({{"p.rego", text}}, J(data), o);
    return p ? std::string("no error") : p.error().message();
  };
  const std::string authz = "package authz\n\ndefault allow := false\n\nallow if input.user == \"alice\"\n";
  EXPECT_EQ(data_error(authz, R"({"authz": {"allow": "fromdata"}})"),
            "p.rego:3: rego_compile_error: conflicting rule for data path authz/allow found");
  EXPECT_EQ(data_error(authz, R"({"authz": {"allow": {}}})"),  // present, even empty
            "p.rego:3: rego_compile_error: conflicting rule for data path authz/allow found");
  EXPECT_EQ(data_error(authz, R"({"authz": [1]})"),
            "p.rego:3: rego_compile_error: conflicting rule for data path authz/allow found");
  EXPECT_EQ(data_error("package a.b\nc.d := 1\n", R"({"a": {"b": "x"}})"),
            "p.rego:2: rego_compile_error: conflicting rule for data path a/b/c/d found");
  EXPECT_EQ(data_error("package a\nf(x) := x\n", R"({"a": {"f": 1}})"),
            "p.rego:2: rego_compile_error: conflicting rule for data path a/f found");
  EXPECT_EQ(data_error("package a\np[x] := 2 if some x in [\"k\"]\n", R"({"a": {"p": {}}})"),
            "p.rego:2: rego_compile_error: conflicting rule for data path a/p found");
  EXPECT_EQ(data_error("package a\np[1] := 2\n", R"({"a": {"p": {}}})"), "no error");  // a number key: not a data path
  EXPECT_EQ(data_error(authz, R"({"authz": {"users": ["alice"]}, "other": 1})"), "no error");
  // Off (OPA's conformance harness): the two merge, and the data's value is the one read.
  CompileOptions merge;
  merge.check_data_conflicts = false;
  auto p = Policy::compile({{"p.rego", "package t\nk := \"bar\"\nq := 1\n"}}, J(R"({"t": {"k": "foo"}})"), merge);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(eval_json(*p, "data.t"), R"({"k":"foo","q":1})");
}

// OPA's order rules for `:=` and `some` (rewriteDeclaredVar, rewriteDeclaredAssignment): before
// session 11 a repeated `x := ...` made a second variable and the rule answered true.
TEST(RegoEval, DeclarationsFollowOpasOrderRules) {
  EXPECT_EQ(error_of("package t\np if {\n  x := 1\n  x := 2\n}\n"), "t.rego:4: rego_compile_error: var x assigned above");
  EXPECT_EQ(error_of("package t\np if { some x; x := 1 }\n"), "t.rego:2: rego_compile_error: var x declared above");
  EXPECT_EQ(error_of("package t\np if { some x in [1]; x := 2 }\n"), "t.rego:2: rego_compile_error: var x declared above");
  EXPECT_EQ(error_of("package t\np if { input.a == x; x := 1 }\n"), "t.rego:2: rego_compile_error: var x referenced above");
  EXPECT_EQ(error_of("package t\np if { data.q[x]; some x }\n"), "t.rego:2: rego_compile_error: var x referenced above");
  EXPECT_EQ(error_of("package t\nf([a]) if { some a; a = 1 }\np if f([1])\n"), "t.rego:2: rego_compile_error: arg a redeclared");
  EXPECT_EQ(error_of("package t\np if { every y in [1] { y := 2 } }\n"), "t.rego:2: rego_compile_error: var y declared above");
  EXPECT_EQ(error_of("package t\np if { [x, x] := [1, 1] }\n"), "t.rego:2: rego_compile_error: var x assigned above");
  EXPECT_EQ(error_of("package t\np if { not x := 1 }\n"), "t.rego:2: rego_compile_error: cannot assign vars inside negated expression");
  EXPECT_EQ(error_of("package t\np if { input.x := 1 }\n"), "t.rego:2: rego_compile_error: cannot assign to ref");
  EXPECT_EQ(error_of("package t\np if { count([]) := 0 }\n"), "t.rego:2: rego_compile_error: cannot assign to call");
  EXPECT_EQ(error_of("package t\np if {\n  some x\n  true\n}\n"), "t.rego:3: rego_compile_error: declared var x unused");
  EXPECT_EQ(error_of("package t\np := [1 | some y; true]\n"), "t.rego:2: rego_compile_error: declared var y unused");
  EXPECT_EQ(error_of("package t\np[x] if { some x; x = 1 }\n"), "no error");  // the head uses it
  auto q = Policy::compile({{"t.rego", "package t\nx := 1\n"}});
  ASSERT_TRUE(q.has_value());
  EXPECT_NE(eval_json(*q, "y := 1; y := 2").find("var y assigned above"), std::string::npos);  // queries too
  // A nested body is a scope of its own; a rule name is not a variable; unification is not a declaration.
  auto p = compile_ok(R"(package t
q := 1
a := y if { x := 1; y := [x | x := 2] }
b := q if { q := 2 }
c := [x, y] if { some x; x = 1; y := x }
d if { x := 1; every v in [1] { x := v } }
)");
  EXPECT_EQ(eval_json(p, "[data.t.a, data.t.b, data.t.c, data.t.d]"), "[[2],2,[1,1],true]");
}

// print is void in OPA (checkVoidCalls): a statement of its own, never a value. Before session 12
// `p := print(1)` printed and made p true.
TEST(RegoEval, PrintIsAStatementNotAValue) {
  EXPECT_EQ(error_of("package t\np := print(1)\n"), "t.rego:2: rego_type_error: print(1) used as value");
  EXPECT_EQ(error_of("package t\np if {\n  x := 1\n  y := [print(x,\n    \"a)\")]\n}\n"),
            "t.rego:4: rego_type_error: print(x,\n    \"a)\") used as value");
  EXPECT_EQ(error_of("package t\nf(x) := x\np if f(print(1))\n"), "t.rego:3: rego_type_error: print(1) used as value");
  EXPECT_EQ(error_of("package t\np := $\"v={print(1)}\"\n"), "t.rego:2: rego_type_error: print(1) used as value");
  auto p = compile_ok("package t\np if { print(\"a\"); every x in [1] { print(x) }; [1 | print(2)] }\nq if not print(1)\n");
  EXPECT_EQ(eval_json(p, "data.t.p"), "true");
  EXPECT_EQ(eval_json(p, "data.t.q"), "undefined");  // print is true
  EXPECT_EQ(eval_json(p, "y := print(1)"), "error: query:1: rego_type_error: print(1) used as value");
}

// CompileOptions::print_statements off erases print statements as OPA's rego API does without
// EnablePrintStatements (erasePrintCalls): same answers, no lines, an emptied body is `true`.
TEST(RegoEval, PrintStatementsCanBeErased) {
  const std::string text = R"(package t
p if {
  print("p", input.x)
  input.x == 1
}
q if print("only")
r := [x | some x in [1, 2]; print(x)]
s if { every x in [1] { print(x); x == 1 } }
n if not print(1)
)";
  CompileOptions off;
  off.print_statements = false;
  auto on_p = Policy::compile({{"t.rego", text}});
  auto off_p = Policy::compile({{"t.rego", text}}, Value(), off);
  ASSERT_TRUE(on_p.has_value() && off_p.has_value());
  EvalOptions o;
  o.input = J(R"({"x": 1})");
  auto with = (*on_p)->eval("data.t", o);
  auto without = (*off_p)->eval("data.t", o);
  ASSERT_TRUE(with.has_value() && without.has_value());
  EXPECT_EQ(with->prints.size(), 6u);  // p, q, r twice, s, n
  EXPECT_TRUE(without->prints.empty());
  // The same document, but for `not print(1)`: OPA erases that expression too, leaving `true`.
  EXPECT_EQ(to_json(with->rows[0].value), R"({"p":true,"q":true,"r":[1,2],"s":true})");
  EXPECT_EQ(to_json(without->rows[0].value), R"({"n":true,"p":true,"q":true,"r":[1,2],"s":true})");
  auto query = (*off_p)->eval("print(1); x := 2", o);
  ASSERT_TRUE(query.has_value());
  EXPECT_TRUE(query->prints.empty());
  EXPECT_EQ(query->rows.size(), 1u);
  // A print used as a value is still refused.
  auto bad = Policy::compile({{"t.rego", "package t\np := print(1)\n"}}, Value(), off);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "t.rego:2: rego_type_error: print(1) used as value");
}

// A function is not a document: a reference to one (not a call) fails to compile, as OPA's type
// checker has it, where before session 11 it was quietly undefined. A `with` value may name one.
TEST(RegoEval, FunctionsAreCalledNotReferenced) {
  EXPECT_EQ(error_of("package t\nf(x) := x\np := [1 | data.t.f]\n"),
            "t.rego:3: rego_type_error: function data.t.f used as reference, not called");
  EXPECT_EQ(error_of("package t\nf(x) := x\np if { some x in f }\n"),
            "t.rego:3: rego_type_error: function data.t.f used as reference, not called");
  auto p = compile_ok("package t\nf(x) := x\ng(_) := 7\np := y if { y := f(1) with f as g }\n");
  EXPECT_EQ(eval_json(p, "data.t.p"), "7");
  EXPECT_EQ(eval_json(p, "data.t"), R"({"p":7})");  // the package, functions left out
}

TEST(RegoEval, PreparedQueryIsSafeToShareAcrossThreads) {
  auto p = compile_ok(R"(package t
allow if { some c in input.containers; startswith_ok(c) }
startswith_ok(c) if c.image == data.allowed[_]
)", J(R"({"allowed":["a","b"]})"));
  auto q = p->prepare("data.t.allow");
  ASSERT_TRUE(q.has_value());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        EvalOptions o;
        o.input = J(i % 2 ? R"({"containers":[{"image":"b"}]})" : R"({"containers":[{"image":"z"}]})");
        auto r = q->eval(o);
        if (r && (r->rows.empty() == (i % 2 == 0))) ++ok;
      }
      (void)t;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 800);
}

// Indexes over base data (DataIndexes) are built once and shared by every later evaluation and
// thread: `in` over data arrays of strings (and of mixed values, which are scanned), joins of data
// collections on different field sets, and the same loops over request values (indexed per
// evaluation). Every answer is checked against one computed here.
TEST(RegoEval, SharedDataIndexesAnswerEveryEvaluationAndThread) {
  // Strings are built by appending: GCC 12 at -O3 raises a false -Wrestrict on `"lit" + string`.
  auto cat = [](std::initializer_list<std::string_view> parts) {
    std::string out;
    for (auto p : parts) out.append(p);
    return out;
  };
  std::string mounts = "[", env = "[", mixed = "[";
  for (int i = 0; i < 40; ++i) {
    if (i) {
      mounts += ",";
      env += ",";
      mixed += ",";
    }
    const std::string n = std::to_string(i);
    mounts += cat({R"({"d": "/m)", n, R"(", "t": ")", i % 2 ? "tmpfs" : "bind", R"(", "n": )", n, "}"});
    env += cat({"\"E", n, "=v\""});
    mixed += i % 3 ? n : cat({"\"s", n, "\""});
  }
  const std::string data = cat({R"({"mounts": )", mounts, "], \"env\": ", env, "], \"mixed\": ", mixed, "]}"});
  auto p = compile_ok(R"(package t
import rego.v1
found(d, t) := m.n if { some m in data.mounts; m.d == d; m.t == t }
by_dest(d) := m.n if { some m in data.mounts; m.d == d }
in_req(d) := m.n if { some m in input.mounts; m.d == d }
env_ok(e) if e in data.env
mixed_ok(x) if x in data.mixed
default a := "-"
a := found(input.d, input.t)
default b := "-"
b := by_dest(input.d)
default c := false
c := env_ok(input.e)
default d := false
d := mixed_ok(input.x)
default e := "-"
e := in_req(input.d)
answers := [a, b, c, d, e]
)", J(data));
  auto q = p->prepare("data.t.answers");
  ASSERT_TRUE(q.has_value());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::atomic<int> total{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        const int k = (i * 7 + t * 13) % 44;  // 40..43: in no list
        const std::string ks = std::to_string(k);
        const std::string type = i % 3 ? "bind" : "tmpfs";
        const std::string x = k % 3 ? ks : cat({"\"s", ks, "\""});
        EvalOptions o;
        o.input = J(cat({R"({"d": "/m)", ks, R"(", "t": ")", type, R"(", "e": "E)", ks, R"(=v", "x": )", x,
                         R"(, "mounts": )", mounts, "]}"}));
        const bool present = k < 40;
        const bool type_ok = (k % 2 == 0) == (type == "bind");
        const std::string n = present ? ks : "\"-\"";
        const std::string_view yes = present ? "true" : "false";
        const std::string want = cat({"[", present && type_ok ? ks : "\"-\"", ",", n, ",", yes, ",", yes, ",", n, "]"});
        auto r = q->eval(o);
        ++total;
        if (r && r->rows.size() == 1 && to_json(r->rows[0].value) == want) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), total.load());
  // The undefined branches, one by one.
  EXPECT_EQ(eval_json(p, R"(data.t.found("/m3", "bind"))"), "undefined");
  EXPECT_EQ(eval_json(p, R"(data.t.found("/m3", "tmpfs"))"), "3");
  EXPECT_EQ(eval_json(p, R"(data.t.by_dest("/m41"))"), "undefined");
  EXPECT_EQ(eval_json(p, R"(data.t.env_ok("E41=v"))"), "undefined");
  EXPECT_EQ(eval_json(p, R"(data.t.mixed_ok(3))"), "undefined");
  EXPECT_EQ(eval_json(p, R"(data.t.mixed_ok(4))"), "true");
  EXPECT_EQ(eval_json(p, R"(data.t.mixed_ok("s3"))"), "true");
  EXPECT_EQ(eval_json(p, R"(data.t.mixed_ok("4"))"), "undefined");
}

// `some x in data.xs; <pure test on x>` in the general evaluator (the computed assignment keeps
// the rule from being compiled) remembers each member's verdict for every later evaluation
// (DataIndexes::Verdicts), and once all are known, which members pass. A member whose test
// errors fails quietly without strict builtin errors and raises with them, in whichever order the
// modes run; answers match the same loop over the input, which is not shared.
TEST(RegoEval, SharedFilterVerdictsKeepStrictErrorsAndAnswers) {
  auto p = compile_ok(R"(package t
import rego.v1
starts_a(q, xs) if { some x in xs; startswith(x, "a"); y := concat("", [x]); y == q }
from_data(q) if starts_a(q, data.vals)
from_input(q) if starts_a(q, input.vals)
)", J(R"({"vals": ["b1", 7, "a1", "a2"]})"));
  const Value input = J(R"({"vals": ["b1", 7, "a1", "a2"]})");
  auto run = [&](const char* query, bool strict) {
    EvalOptions o;
    o.input = input;
    o.strict_builtin_errors = strict;
    auto r = p->eval(query, o);
    if (!r) return std::string(error_code(r.error()));
    return r->rows.empty() ? std::string("undefined") : to_json(r->rows[0].value);
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const bool strict = (i + t) % 2 == 0;
        const char* q = i % 3 == 0 ? "data.t.from_data(\"a2\")" : i % 3 == 1 ? "data.t.from_data(\"a3\")" : "data.t.from_data(\"b1\")";
        const std::string want = strict ? "eval_type_error" : i % 3 == 0 ? "true" : "undefined";
        const std::string input_q = std::string("data.t.from_input") + (q + std::string_view("data.t.from_data").size());
        if (run(q, strict) == want && run(input_q.c_str(), strict) == want) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
}

// Constant keys remember where they were last found (Term::hint). Objects of different shapes —
// the key at another index, absent, or in an object past the linear-scan size — must still be
// looked up correctly, also when threads keep overwriting each other's hints.
TEST(RegoEval, KeyHintsFollowObjectsOfManyShapes) {
  auto p = compile_ok(R"(package t
images contains c.image if some c in input.containers
)");
  auto q = p->prepare("data.t.images");
  ASSERT_TRUE(q.has_value());
  std::string big = "{";
  for (int k = 0; k < 40; ++k) {
    big += "\"k";
    big += std::to_string(k);
    big += "\":";
    big += std::to_string(k);
    big += ',';
  }
  big += "\"image\":\"big\"}";
  // Keys of the same length as "image" sit where the hint points ("abcde", "imagx"): only the
  // bytes tell them apart.
  const std::string input = R"({"containers":[{"image":"a"},{"abcde":"no","image":"b"},{"imagx":"no"},)" + big +
                            R"(,{"image":"c","z":0},{"a":1,"image":"d"}]})";
  const Value want = Value::set(J(R"(["a","b","big","c","d"])").array_items());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        EvalOptions o;
        o.input = J(input);
        auto r = q->eval(o);
        if (r && r->rows.size() == 1 && r->rows[0].value == want) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 400);
}

TEST(RegoEval, QueryBindingsAreReported) {
  auto p = compile_ok("package t\nxs := [3, 1]\n");
  auto r = p->eval("some i; data.t.xs[i] = v");
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].bindings.size(), 2u);
}

TEST(RegoEval, LocalsFeedTheRuleHead) {
  // Reported: `p := x if { n := 5; x := n }` evaluated to undefined.
  auto p = compile_ok(R"(package t
p := x if { n := 5; x := n }
q := x if {
  n := 5
  m := n + 1
  x := [n, m]
}
f(a) := x if { n := a; x := n }
g := f(7)
s contains x if { n := 5; x := n }
)");
  EXPECT_EQ(eval_json(p, "data.t.p"), "5");
  EXPECT_EQ(eval_json(p, "data.t.q"), "[5,6]");
  EXPECT_EQ(eval_json(p, "data.t.g"), "7");
  EXPECT_EQ(eval_json(p, "data.t.s"), "[5]");
  EXPECT_EQ(eval_json(p, "data.t"), R"({"g":7,"p":5,"q":[5,6],"s":[5]})");
}

// Terms that yield at most one value are evaluated directly; the tests below pin the fast paths
// against the cases that must still take the general (backtracking) path.
TEST(RegoEval, DirectEvaluationMatchesBacktracking) {
  auto p = compile_ok(R"(package t
eqs := [1 == 1.0, "a" != "b", {1, 2} == {2, 1}, {"a": 1} == {"a": 1.0}, [1, [2]] == [1, [2.0]], 3 in [1, 3], 4 in {4}, 1 in {"k": 1}, 2 in "x"]
walk_paths contains p if { p := walk({"a": {"b": 1}})[0] }
pairs(x, [x]) := "same"
pairs(x, y) := "other" if { not y == [x] }
twice(x, x) := true
const(1, y) := y
neg if { not input.missing; not 1 == 2 }
mocked := count([1, 2]) == 99
lookups := [input.o[k], input.a[i]] if { k := "b"; i := 1 }
)");
  EXPECT_EQ(eval_json(p, "data.t.eqs"), "[true,true,true,true,true,true,true,true,false]");
  EXPECT_EQ(eval_json(p, "data.t.walk_paths"), R"([[],["a"],["a","b"]])");
  EXPECT_EQ(eval_json(p, "data.t.pairs(1, [1])"), R"("same")");
  EXPECT_EQ(eval_json(p, "data.t.pairs(1, [2])"), R"("other")");
  EXPECT_EQ(eval_json(p, "data.t.twice(2, 2)"), "true");
  EXPECT_EQ(eval_json(p, "data.t.twice(2, 3)"), "undefined");
  EXPECT_EQ(eval_json(p, "data.t.const(1, 5)"), "5");
  EXPECT_EQ(eval_json(p, "data.t.const(2, 5)"), "undefined");
  EXPECT_EQ(eval_json(p, "data.t.neg", J("{}")), "true");
  EXPECT_EQ(eval_json(p, "data.t.neg", J(R"({"missing":1})")), "undefined");
  EXPECT_EQ(eval_json(p, "data.t.mocked"), "false");
  EXPECT_EQ(eval_json(p, "data.t.mocked with count as 99"), "true");
  EXPECT_EQ(eval_json(p, "data.t.lookups", J(R"({"o":{"b":"B"},"a":[0,"A"]})")), R"(["B","A"])");
  EXPECT_EQ(eval_json(p, "data.t.lookups", J(R"({"o":{},"a":[0,"A"]})")), "undefined");
}

// `some x in xs; x.f == y` tests each member before binding x; these pin its equivalence with
// plain iteration (order, missing fields, non-object members, undefined operands, fallbacks).
TEST(RegoEval, FilteredSomeInKeepsIterationSemantics) {
  auto p = compile_ok(R"(package t
xs := [{"k": 1, "n": "a"}, 5, {"k": 2, "n": "b"}, "s", {"z": 1}, {"k": 1.0, "n": "c"}, {"k": {"d": 1}, "n": "d"}]
left := [n | some x in xs; x.k == 1; n := x.n]
right := [n | some x in xs; 1 == x.k; n := x.n]
deep := [n | some x in xs; x.k.d == 1; n := x.n]
from_input := [n | some x in xs; x.k == input.want; n := x.n]
from_local := [n | w := 2; some x in xs; x.k == w; n := x.n]
over_object := [k | some x in {"p": {"k": 1}, "q": {"k": 2}}; x.k == 2; k := x.k]
over_set := [x | some x in {{"k": 1}, {"k": 3}}; x.k == 3]
first := n if { some x in xs; x.k == 1; n := x.n; n == "c" }
mocked := [n | some x in xs; x.k == 1; n := x.n] if count([]) == 7
)");
  EXPECT_EQ(eval_json(p, "data.t.left"), R"(["a","c"])");
  EXPECT_EQ(eval_json(p, "data.t.right"), R"(["a","c"])");
  EXPECT_EQ(eval_json(p, "data.t.deep"), R"(["d"])");
  EXPECT_EQ(eval_json(p, "data.t.from_input", J(R"({"want":2})")), R"(["b"])");
  EXPECT_EQ(eval_json(p, "data.t.from_input", J("{}")), "[]");
  EXPECT_EQ(eval_json(p, "data.t.from_local"), R"(["b"])");
  EXPECT_EQ(eval_json(p, "data.t.over_object"), "[2]");
  EXPECT_EQ(eval_json(p, "data.t.over_set"), R"([{"k":3}])");
  EXPECT_EQ(eval_json(p, "data.t.first"), R"("c")");
  EXPECT_EQ(eval_json(p, "data.t.mocked with count as 7"), R"(["a","c"])");
}

TEST(RegoEval, MembershipInLargeArraysUsesAnIndexWithTheSameAnswers) {
  auto p = compile_ok(R"(package t
strs := [sprintf("s%d", [i]) | some i in numbers.range(0, 19)]
mixed := array.concat(strs, [1, {"a": 1}])
hits := [strs[3] in strs, "s19" in strs, "nope" in strs, 3 in strs, 1.0 in mixed, {"a": 1} in mixed, "s0" in mixed]
not_in := [x | some x in ["s1", "zz", "s7"]; not x in strs]
)");
  EXPECT_EQ(eval_json(p, "data.t.hits"), "[true,true,false,false,true,true,true]");
  EXPECT_EQ(eval_json(p, "data.t.not_in"), R"(["zz"])");
}


// Collections of 16+ members scanned by `some x in xs; x.f == y` get a per-evaluation hash index on
// the field; these pin that it gives the plain scan's solutions in the plain scan's order.
TEST(RegoEval, EqualityJoinOverLargeCollectionsKeepsScanSemantics) {
  auto p = compile_ok(R"(package t
xs := [{"n": "a", "v": 1}, {"n": "b", "v": 2}, {"v": 3}, "str", {"n": "a", "v": 4}, {"n": "c", "v": 5},
       {"n": "d", "v": 6}, {"n": "e", "v": 7}, {"n": "a", "v": 8}, {"n": "f", "v": 9}, {"n": "g"}, {"n": "h"},
       {"n": "i"}, {"n": "j"}, {"n": "k"}, {"n": "l"}, {"n": "m"}]
nums := array.concat([{"k": 1, "v": "i"}, {"k": 1.0, "v": "f"}, {"k": "1", "v": "s"}],
                      [{"k": k, "v": "x"} | some k in numbers.range(2, 16)])
joined := [[q, v] | some q in ["a", "z", "c", "a"]; some x in xs; x.n == q; v := x.v]
swapped := [v | some x in xs; "a" == x.n; v := x.v]
first := v if { some x in xs; x.n == "a"; v := x.v; v > 1; v < 5 }
numeric := [v | some x in nums; x.k == 1; v := x.v]
not_string := [v | some x in xs; x.n == 1; v := x.v]
as_set := [x.v | some x in {x | some x in xs; is_object(x)}; x.n == "a"]
ys := array.concat([{"a": "1", "b": "x", "v": 1}, {"a": "1", "b": "y", "v": 2}, {"a": "1", "v": 3}, {"a": "2", "b": "x", "v": 4},
       {"a": "1", "b": "x", "v": 5}, {"a": "12", "b": "x", "v": 6}, {"a": "1", "b": "2x", "v": 7}, {"a": "3", "b": "x", "v": 8}],
       [{"a": "9", "b": sprintf("%d", [i])} | some i in numbers.range(1, 8)])
multi := [v | some y in ys; y.a == "1"; y.b == "x"; v := y.v]
no_collision := [v | some y in ys; y.a == "1"; "2x" == y.b; v := y.v]
)");
  EXPECT_EQ(eval_json(p, "data.t.joined"), R"([["a",1],["a",4],["a",8],["c",5],["a",1],["a",4],["a",8]])");
  EXPECT_EQ(eval_json(p, "data.t.swapped"), "[1,4,8]");
  EXPECT_EQ(eval_json(p, "data.t.first"), "4");
  // Numbers compare by value (1 == 1.0), never equal to strings: such fields fall back to the scan.
  EXPECT_EQ(eval_json(p, "data.t.numeric"), R"(["i","f"])");
  EXPECT_EQ(eval_json(p, "data.t.not_string"), "[]");
  EXPECT_EQ(eval_json(p, "data.t.as_set"), "[1,4,8]");
  // Consecutive field tests join on all fields at once.
  EXPECT_EQ(eval_json(p, "data.t.multi"), "[1,5]");
  EXPECT_EQ(eval_json(p, "data.t.no_collision"), "[7]");
}

// A test on the loop variable alone (`some x in xs; startswith(x, "a")`) is decided once per member
// and evaluation; the answers, their order and the errors are those of the plain loop.
TEST(RegoEval, PureFiltersAreRememberedPerMemberWithTheSameAnswers) {
  auto p = compile_ok(R"(package t
xs := ["apple", "bob", "avocado", "cat", "ant", "dog", "axe", "emu", "fig", "gnu", "hen", "ibis", "jay", "kiwi",
       "lynx", "mule"]
mixed := array.concat(xs, [7])
starts(q) := [x | some x in xs; startswith(x, q)]
twice := [starts("a"), starts("b"), starts("a")]
negated := [x | some x in xs; not startswith(x, "a")]
first := x if { some x in xs; startswith(x, "a"); endswith(x, "o") }
repeated := [n | some y in ["a", "b", "c"]; n := count([x | some x in xs; contains(x, "o")])]
loose := [x | some x in mixed; startswith(x, "a")]
)");
  EXPECT_EQ(eval_json(p, "data.t.twice"),
            R"([["apple","avocado","ant","axe"],["bob"],["apple","avocado","ant","axe"]])");
  EXPECT_EQ(eval_json(p, "data.t.negated"),
            R"(["bob","cat","dog","emu","fig","gnu","hen","ibis","jay","kiwi","lynx","mule"])");
  EXPECT_EQ(eval_json(p, "data.t.first"), R"("avocado")");
  EXPECT_EQ(eval_json(p, "data.t.repeated"), "[3,3,3]");
  // A member the builtin rejects: undefined for it without strict errors, an error with them.
  EXPECT_EQ(eval_json(p, "data.t.loose"), R"(["apple","avocado","ant","axe"])");
  EvalOptions strict;
  strict.strict_builtin_errors = true;
  auto r = p->eval("data.t.loose", strict);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("startswith: operand 1 must be string"), std::string::npos) << r.error().message();
}

// `v := f(locals)` with deterministic builtins is remembered per call site and per identity of the
// locals' values; undefined results stay undefined and non-deterministic calls are not remembered.
TEST(RegoEval, PureAssignmentsAreRememberedWithTheSameAnswers) {
  auto p = compile_ok(R"REGO(package t
pats := ["a$(x)", "b", "c$(x)"]
build(pe) := r if { r := concat("", ["^", replace(pe, "$(x)", "[0-9]+"), "$"]) }
ok(e) if { some pe in pats; pattern := concat("", ["^", replace(pe, "$(x)", "[0-9]+"), "$"]); regex.match(pattern, e) }
hits := [e | some e in ["a1", "b", "c22", "d", "a", "a9"]; ok(e)]
pairs := [p | some a in ["x", "y"]; some b in ["1", "2"]; p := concat("-", [a, b])]
nums := [n | some s in ["1", "x", "3", "x"]; n := to_number(s)]
)REGO");
  EXPECT_EQ(eval_json(p, "data.t.hits"), R"(["a1","b","c22","a9"])");
  EXPECT_EQ(eval_json(p, "data.t.pairs"), R"(["x-1","x-2","y-1","y-2"])");
  EXPECT_EQ(eval_json(p, "[data.t.build(x) | some x in data.t.pats]"), R"(["^a[0-9]+$","^b$","^c[0-9]+$"])");
  EXPECT_EQ(eval_json(p, "data.t.nums"), "[1,3]");
}


// `v := f(x)` on base-data locals is remembered for every later evaluation (DataIndexes::Assigned):
// a builtin error is undefined without strict builtin errors and raised with them, in whichever
// order the modes run and from several threads; answers match the same rule over the input, which
// is not shared. The steps counted do not depend on whether an earlier evaluation filled the memo.
TEST(RegoEval, SharedAssignmentsKeepStrictErrorsStepsAndAnswers) {
  const std::string text = R"REGO(package t
import rego.v1
num_in(q, xs) if { some s in xs; n := to_number(s); n == q }
from_data(q) if num_in(q, data.vals)
from_input(q) if num_in(q, input.vals)
pat_in(e, pats) if { some pe in pats; p := concat("", ["^", replace(pe, "$(x)", "[0-9]+"), "$"]); regex.match(p, e) }
pat_data(e) if pat_in(e, data.pats)
pat_input(e) if pat_in(e, input.pats)
)REGO";
  const char* lists = R"J({"vals": ["1", "x", "3"], "pats": ["a$(x)", "b", "c$(x)"]})J";
  const Value data = J(lists);
  const Value input = J(lists);  // the same lists parsed again: request values, not base data
  auto p = compile_ok(text, data);
  auto run = [&](const std::shared_ptr<const Policy>& pol, const std::string& query, bool strict,
                 std::uint64_t max_steps = 0) {
    EvalOptions o;
    o.input = input;
    o.strict_builtin_errors = strict;
    if (max_steps) o.limits.max_steps = max_steps;
    auto r = pol->eval(query, o);
    if (!r) return std::string(error_code(r.error()));
    return r->rows.empty() ? std::string("undefined") : to_json(r->rows[0].value);
  };
  // Non-strict first: the shared entry for "x" is undefined, which strict mode must not reuse.
  EXPECT_EQ(run(p, "data.t.from_data(3)", false), "true");
  EXPECT_EQ(run(p, "data.t.from_data(3)", true), "eval_builtin_error");
  EXPECT_EQ(run(p, "data.t.from_data(3)", false), "true");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  const char* queries[][2] = {{"num", "1"}, {"num", "3"}, {"num", "2"}, {"pat", "\"a12\""}, {"pat", "\"b\""},
                              {"pat", "\"c\""}, {"pat", "\"b1\""}};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 70; ++i) {
        const bool strict = (i + t) % 2 == 0;
        const auto& q = queries[(i + t) % std::size(queries)];
        std::string from_data = "data.t.", from_input = "data.t.";
        from_data.append(q[0][0] == 'n' ? "from_data(" : "pat_data(").append(q[1]).append(")");
        from_input.append(q[0][0] == 'n' ? "from_input(" : "pat_input(").append(q[1]).append(")");
        if (run(p, from_data, strict) == run(p, from_input, strict)) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 280);
  EXPECT_EQ(run(p, "data.t.pat_data(\"c7\")", true), "true");
  EXPECT_EQ(run(p, "data.t.pat_data(\"c\")", true), "undefined");
  // Step limits: a fresh policy (the memo empty) and a used one stop at the same limit.
  std::set<std::string> outcomes;
  for (std::uint64_t limit = 1; limit <= 40; ++limit) {
    auto fresh = compile_ok(text, data);
    for (const char* q : {"data.t.pat_data(\"c7\")", "data.t.from_data(3)"}) {
      const std::string first = run(fresh, q, false, limit);
      EXPECT_EQ(run(p, q, false, limit), first) << q << " with max_steps " << limit;
      outcomes.insert(first);
    }
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"eval_limit_error", "true"}));
}

// `data.a.b` with constant keys is read directly (rule tree and base documents walked together);
// these pin that it answers as the general walk does.
TEST(RegoEval, ConstantDataReferencesAnswerAsTheGeneralWalk) {
  // (`shadowed` is both a rule and base data: compiled as OPA's conformance harness does, where
  // the two merge, to pin which one a constant reference reads.)
  CompileOptions merged;
  merged.check_data_conflicts = false;
  auto p = compile_ok(R"(package t
import rego.v1
obj := {"k": {"n": 1}, "l": [10, 20]}
f(x) := x
shadowed := "rule"
reads := [data.t.obj.k.n, data.t.obj.l[1], data.base.cfg.mode, count(data.base.list)]
missing := [1 | data.base.nope]
deep_missing := [1 | data.t.obj.k.zz]
shadow := data.t.shadowed
package_value := data.t.obj == data.t["obj"]
with_base := m if m := data.base.cfg.mode with data.base.cfg as {"mode": "other"}
with_rule := m if m := data.t.obj.k with data.t.obj as {"k": "mocked"}
)",
                      J(R"({"base": {"cfg": {"mode": "strict"}, "list": [1, 2, 3]}, "t": {"shadowed": "data"}})"),
                      merged);
  EXPECT_EQ(eval_json(p, "data.t.reads"), R"([1,20,"strict",3])");
  EXPECT_EQ(eval_json(p, "data.t.missing"), "[]");
  EXPECT_EQ(eval_json(p, "data.t.deep_missing"), "[]");
  EXPECT_EQ(eval_json(p, "data.t.shadow"), R"("data")");
  EXPECT_EQ(eval_json(p, "data.t.package_value"), "true");
  EXPECT_EQ(eval_json(p, "data.t.with_base"), R"("other")");
  EXPECT_EQ(eval_json(p, "data.t.with_rule"), R"("mocked")");
  EXPECT_EQ(eval_json(p, "data.base"), R"({"cfg":{"mode":"strict"},"list":[1,2,3]})");
}


// Functions with plain heads (variables or constants as arguments, constant values, no else) run
// each body to its first solution; these pin conflicts, defaults, repeated and constant arguments.
TEST(RegoEval, PlainFunctionsKeepConflictsDefaultsAndArgumentRules) {
  auto p = compile_ok(R"(package t
import rego.v1
size(x) := "big" if x > 10
size(x) := "small" if x < 5
size(x) := "even" if x % 2 == 0
default kind(_) := "other"
kind("a") := "letter"
kind(1) := "number"
same(x, x) := true
many(xs) if { some x in xs; x > 2 }
)");
  EXPECT_EQ(eval_json(p, "data.t.size(11)"), R"("big")");
  EXPECT_EQ(eval_json(p, "data.t.size(7)"), "undefined");
  EXPECT_EQ(eval_json(p, "[data.t.kind(\"a\"), data.t.kind(1), data.t.kind(2)]"), R"(["letter","number","other"])");
  EXPECT_EQ(eval_json(p, "[data.t.same(1, 1), data.t.same(2, 2.0)]"), "[true,true]");
  EXPECT_EQ(eval_json(p, "data.t.same(1, 2)"), "undefined");
  EXPECT_EQ(eval_json(p, "data.t.many([1, 3, 4])"), "true");
  std::string err = eval_json(p, "data.t.size(12)");
  EXPECT_NE(err.find("eval_conflict_error"), std::string::npos) << err;
}

// A comprehension that depends on nothing but a few locals (constants, constant rules, pure
// functions) is remembered (CompileOptions::memo_comprehensions): the same values, errors and
// prints as without, in fewer steps; not while a `with` replaces a function or a rule.
TEST(RegoEval, ComprehensionsOfLocalsAloneAreRemembered) {
  const std::string policy = R"(package t
import rego.v1
policy_data := {"caps": ["CAP_A", "B", "CAP_C"]}
strip(s) := r if { startswith(s, "CAP_"); r := substring(s, 4, -1) } else := s
norm(caps) := {strip(c) | c := caps[_]}
defaults := {strip(c) | c := policy_data.caps[_]}
same_caps(p, i) if { {strip(c) | c := p[_]} == {strip(c) | c := i[_]} }
all_same := [x | some s in input.sets; x := {y | y := same_caps(policy_data.caps, s)}]
sums := [s | some xs in input.nums; s := sum([z | some y in xs; z := y * 2])]
marshalled := [m | some xs in input.nums; m := [json.marshal(y) | some y in xs]]
from_input := [x | some x in input.nums[0]]
printed(xs) := [x | some x in xs; print("saw", x)]
divs(xs) := [y | some x in xs; y := 10 / x]
repeated := [n | some _ in numbers.range(1, 40); xs := input.sets[0]; n := {y | some c in xs; y := strip(c)}]
mock_strip(s) := "m"
)";
  CompileOptions on;
  on.print_statements = true;
  CompileOptions off = on;
  off.memo_comprehensions = false;
  auto memo = Policy::compile({{"t.rego", policy}}, Value(), on);
  auto plain = Policy::compile({{"t.rego", policy}}, Value(), off);
  ASSERT_TRUE(memo.has_value() && plain.has_value()) << (memo ? "" : memo.error().message());
  const Value in = J(R"({"sets": [["CAP_A", "B", "C"], ["A", "B", "C"], ["CAP_A", "B", "C"], ["A"]],
                          "nums": [[1, 2], [1.0, 2], [1, 2], [0]]})");
  auto run = [&](const std::shared_ptr<const Policy>& p, const std::string& q, bool strict, std::uint64_t steps) {
    return outcome_of(p, q, in, strict, steps);
  };
  const std::vector<std::string> queries = {
      "data.t.defaults",
      "[data.t.defaults, data.t.defaults, data.t.norm(data.t.policy_data.caps)]",
      "data.t.all_same",
      "[data.t.sums, data.t.marshalled]",
      "data.t.from_input",
      "[data.t.printed([1, 2]), data.t.printed([1, 2])]",
      "[data.t.divs([1, 2]), data.t.divs([1, 2]), data.t.divs([5, 0])]",
      "data.t.repeated",
      R"([data.t.defaults, data.t.norm(["CAP_X"])] with data.t.strip as data.t.mock_strip)",
      R"(data.t.defaults with data.t.policy_data as {"caps": ["CAP_Z"]})",
      R"([data.t.norm(["CAP_X"]), data.t.defaults] with data.t.policy_data.caps as ["Y"])",
      "data.t.defaults",  // nothing of the `with` above is remembered
      R"([data.t.norm(["CAP_X"]), data.t.defaults, data.state] with data.state as {"caps": ["CAP_S"]})",
  };
  for (const auto& q : queries) {
    for (bool strict : {false, true}) {
      const std::string want = run(*plain, q, strict, 0);
      EXPECT_EQ(run(*memo, q, strict, 0), want) << q << " strict " << strict;
      EXPECT_EQ(run(*memo, q, strict, 0), want) << q << " strict " << strict << " (again)";
    }
  }
  EXPECT_EQ(run(*plain, "data.t.defaults", false, 0), R"(["A","B","C"])");
  EXPECT_EQ(run(*plain, "data.t.all_same", false, 0), "[[true],[true],[true],[]]");
  EXPECT_EQ(run(*plain, R"(data.t.defaults with data.t.policy_data as {"caps": ["CAP_Z"]})", false, 0), R"(["Z"])");
  EXPECT_EQ(run(*plain, "[data.t.printed([1, 2]), data.t.printed([1, 2])]", false, 0),
            "[[1,2],[1,2]] | saw 1 | saw 2 | saw 1 | saw 2");
  EXPECT_NE(run(*plain, "[data.t.divs([1, 2]), data.t.divs([5, 0])]", true, 0).find("divide by zero"), std::string::npos);
  // Fewer steps: the same comprehension over the same list 40 times is computed once.
  std::uint64_t lo = 1, hi = 1'000'000;
  while (lo < hi) {
    const std::uint64_t mid = (lo + hi) / 2;
    if (run(*memo, "data.t.repeated", false, mid).rfind("error", 0) != 0) hi = mid;
    else lo = mid + 1;
  }
  EXPECT_NE(run(*plain, "data.t.repeated", false, lo + 60).find("eval_limit_error"), std::string::npos)
      << "remembered, it needs " << lo << " steps";
}

// A loop calling a function whose every rule first compares a field of the loop's member with
// the same field of another argument (DataNode::join, as Kata's allow_mount calls check_mount) skips
// the members whose field differs, without the call: the same answers and errors as the plain loop
// (the same policy with each rule opened by `true`, which the join cannot see past), in fewer steps.
TEST(RegoEval, LoopsJoinOnTheFieldACalledFunctionCompares) {
  const std::string joined = R"(package t
import rego.v1
same(p, i) if { p == i }
same(p, i) if { p.d == i.d; p.t == i.t; p.o == i.o }
same(p, i) if { i.t == "sysfs"; p.t == i.t; p.d == i.d; count(i.o) == 1 }
same(p, i) if { i.t == "err"; p.d == i.d; 1 / 0 == 1 }
pick(ps, i) := k if { some k, p in ps; same(p, i) }
pick_all(ps, i) := {k | some k, p in ps; same(p, i)}
picks(ps, is) := [ks | some i in is; ks := pick_all(ps, i)]
values(ps, is) := [ks | some i in is; ks := {p | some p in ps; same(p, i)}]
default loose(_, _) := true
loose(p, i) if { p.d == i.d }
loose_all(ps, i) := {k | some k, p in ps; loose(p, i)}
default falls(_, _) := false
falls(p, i) if { p.d == i.d }
falls_all(ps, i) := {k | some k, p in ps; falls(p, i)}
mock(_, _) := true
)";
  std::string plain = joined;
  for (const std::string head : {"same(p, i) if {", "loose(p, i) if {", "falls(p, i) if {"}) {
    for (std::size_t at = plain.find(head); at != std::string::npos; at = plain.find(head, at + 1))
      plain.insert(at + head.size(), " true;");
  }
  CompileOptions general;
  general.compile_tests = false;
  auto a = compile_ok(joined);
  auto a_general = Policy::compile({{"t.rego", joined}}, Value(), general);
  auto b = compile_ok(plain);
  ASSERT_TRUE(a && b && a_general.has_value());
  const Value in = J(R"({
    "ps": [{"d": "/a", "t": "bind", "o": ["ro"]}, {"d": "/b", "t": "bind", "o": []}, {"t": "bind"},
           {"d": 1, "t": "x", "o": []}, {"d": "/s", "t": "sysfs", "o": ["rw"]}, {"d": "/a", "t": "tmpfs", "o": ["ro"]},
           7, {"d": "/e", "t": "err", "x": 1}, {"d": "/f", "t": "err"}],
    "is": [{"d": "/a", "t": "bind", "o": ["ro"]}, {"d": 1.0, "t": "x", "o": []}, {"t": "bind"},
           {"d": "/s", "t": "sysfs", "o": ["ro"]}, {"d": "/none"}, 7]})");
  const std::vector<std::string> queries = {
      "data.t.picks(input.ps, input.is)",
      "data.t.values(input.ps, input.is)",
      R"(data.t.picks({"k1": {"d": "/a"}, "k2": {"d": "/b"}, "k3": {"d": "/a"}}, [{"d": "/a"}, {"d": "/c"}]))",
      R"(data.t.values({{"d": "/a"}, {"d": "/b"}, {"d": "/a", "t": 1}}, [{"d": "/a"}, {"d": "/a", "t": 1}]))",
      R"(data.t.pick(input.ps, {"d": "/b", "t": "bind", "o": []}))",
      R"(data.t.pick([{"d": "/a"}, {"d": "/a"}], {"d": "/a"}))",  // one output per input: 0 and 1 conflict
      R"(data.t.pick_all(input.ps, {"d": "/e", "t": "err"}))",     // the error past the join test
      R"(data.t.pick_all(input.ps, {"d": "/g", "t": "err"}))",
      R"(data.t.pick_all("ps", {"d": "/a"}))",
      R"([data.t.loose_all(input.ps, {"d": "/b"}), data.t.falls_all(input.ps, {"d": "/b"})])",
      R"(data.t.picks(input.ps, input.is) with data.t.same as data.t.mock)",
      R"(data.t.picks(input.ps, input.is) with data.t.same as false)",
  };
  auto outcome = [&](const std::shared_ptr<const Policy>& p, const std::string& q, bool strict, std::uint64_t steps) {
    return outcome_of(p, q, in, strict, steps);
  };
  for (const auto& q : queries) {
    for (bool strict : {false, true}) {
      const std::string want = outcome(b, q, strict, 0);
      EXPECT_EQ(outcome(a, q, strict, 0), want) << q << " strict " << strict;
      // Both evaluators join, and count the same steps.
      for (std::uint64_t steps : {1, 2, 3, 5, 8, 13, 21, 34, 55, 89})
        EXPECT_EQ(outcome(a, q, strict, steps), outcome(*a_general, q, strict, steps)) << q << " steps " << steps;
    }
  }
  EXPECT_EQ(outcome(b, "data.t.picks(input.ps, input.is)", false, 0), R"([[0],[3],[2],[4],[],[6]])");
  EXPECT_NE(outcome(b, R"(data.t.pick_all(input.ps, {"d": "/e", "t": "err"}))", true, 0).find("eval_builtin_error: div"),
            std::string::npos);
  EXPECT_EQ(outcome(b, R"([data.t.loose_all(input.ps, {"d": "/b"}), data.t.falls_all(input.ps, {"d": "/b"})])", false, 0),
            "[[0,1,2,3,4,5,6,7,8],[1]]");
  // Fewer steps: over 60 members that differ, the joined loop needs far fewer than the same loop
  // while a `with` mocks a function (which turns the join off, and costs a step or two itself).
  std::string many = "[";
  for (int m = 0; m < 60; ++m) many += (m ? ", " : "") + std::string(R"({"d": "/m)") + std::to_string(m) + "\"}";
  many += "]";
  const std::string q = "data.t.pick(" + many + R"(, {"d": "/m59"}))";
  std::uint64_t lo = 1, hi = 1'000'000;  // the fewest steps the joined loop needs
  while (lo < hi) {
    const std::uint64_t mid = (lo + hi) / 2;
    if (outcome(a, q, false, mid) == "59") hi = mid;
    else lo = mid + 1;
  }
  const std::string unjoined = q + " with data.t.loose as data.t.mock";
  EXPECT_EQ(outcome(a, unjoined, false, 0), "59");
  EXPECT_NE(outcome(a, unjoined, false, lo + 60).find("eval_limit_error"), std::string::npos)
      << "the joined loop needs " << lo << " steps";
}

// Compiled tests (Rule::tests, Expr::test) must answer exactly as the general evaluator: the same
// policy compiled both ways gives the same value or error for every query, input and step limit.
TEST(RegoEval, CompiledTestsAnswerAsTheGeneralEvaluator) {
  const std::string policy = R"REGO(package t
import rego.v1
check(p, i) if not i.Extra.f
check(p, i) if p.Extra.f == i.Extra.f
check(p, i) if { some a in data.allowed; a == i.Extra.f }
env_ok(p_env, e) if e in p_env
env_ok(_, e) if { startswith(e, "HOST_"); not contains(e, "=") }
ns_ok(ns) if { ns.type == "network"; startswith(ns.path, "/var/run/netns/") }
ns_ok(ns) if ns.type != "network"
kind("a", _) := "letter"
kind(_, x) := "small" if x < 3
from_input(x) if input.k == x
sets(s) if s.a
typed(x) if startswith(x, 1)
bad(x) if { x; 1 / 0 == 1 }
truthy(x) if x
neg(x) if not x
ident(x) := x
outer(p, i, e) if { check(p, i); env_ok(["A=1"], e); ident(e) }
mock_true(_, _) := true
deep(x) if outer({"Extra": {"f": x}}, {"Extra": {"f": x}}, "A=1")
caps_ok(p, i) if { every c in i { c in p } }
keyed(i) if { every k, v in i { startswith(k, "a"); v } }
nested(xss) if { every xs in xss { every x in xs { x > 0 } } }
idx_of(xs, y) if { some i, x in xs; x == y; i > 0 }
prefixed(e) if { some prefix in data.prefixes; startswith(e, prefix) }
virtual_read(e) if { some v in data.t.vals; v == e }
vals := ["a", "b"]
field_in(xs, y) if { some x in xs; x.k == y }
keyed_field(xs, y) if { some i, x in xs; x.k == y; i != "k0"; i != 0 }
chain(a, b, c, d, e) if { some p in data.prefixes; p2 := concat("", [p, a]); p3 := concat("", [p2, b]); p4 := concat("", [p3, c]); p5 := concat("", [p4, d]); startswith(p5, e) }
chain8(a, b, c, d, e, f, g, h) if { some p in data.prefixes; p1 := concat("", [p, a]); p2 := concat("", [p1, b]); p3 := concat("", [p2, c]); p4 := concat("", [p3, d]); p5 := concat("", [p4, e]); p6 := concat("", [p5, f]); p7 := concat("", [p6, g]); p8 := concat("", [p7, h]); p8 == "HOabcdefgh" }
keyed_pos(xs, y) := i if { some i, x in xs; x.k == y }
counted(p, i) if count(p.Args) == count(i.Args)
args_ok(p, i) if { every idx, a in i.Args { ident(p.Args[idx]) == a } }
ann_ok(p, k, v) if p.Annotations[k] == v
getter(p, i, name) if object.get(p, name, []) == object.get(i, name, [])
nested_calls(x) if upper(trim_space(x)) == "AB"
to_num(x, y) if to_number(x) == y
short(x) if count(x.missing) == count(1)
assign_idx(xs, i) if { v := xs[i]; v > 1 }
assign_eq(xs, i) if { xs[i] = v; startswith(v, "a") }
size_ok(x) if count(x) <= 2
some_assign(xs) if { some x in xs; y := x.k; y == "a" }
pair_in(xs, a, b) if { some x in xs; x.k == a; b == x.j; x.z }
built_key(x) if { o := {k: x | some k in ["image"]}; field_of(o, x) }
field_of(o, x) if o.image == x
long_key(o) if o.a_key_longer_than_thirty_two_bytes_x == 1
data_join(y) if { some m in data.mounts; m.d == y; m.t == "bind"; startswith(m.s, "/") }
mixed(e) if e == "a"
mixed(e) if { p := concat("", [e, "!"]); endswith(p, "b!") }
mixed(e) if startswith(e, "c")
mixed_first(e) if { p := concat("", [e, "x"]); p == "bx" }
mixed_first(e) if e == "a"
mixed_val(e) := 1 if e == "a"
mixed_val(e) := 2 if { p := concat("", [e]); p == "a" }
mixed_val(e) := 1 if { p := concat("", [e]); p == "b" }
mixed_data(e) if { some pe in data.prefixes; p := concat("", ["^", pe]); regex.match(p, e) }
mixed_data(e) if e == "z"
calls_mixed(xs) if { every x in xs { mixed(x) } }
calls_first(x) if mixed_first(x)
calls_val(x) if mixed_val(x) == 1
calls_data(e) if mixed_data(e)
env_pattern(p_env, e) if {
  some pe in p_env
  contains(pe, "$(")
  pattern := concat("", ["^", replace(pe, "$(ip)", "[0-9.]+"), "$"])
  regex.match(pattern, e)
}
env_data(e) if env_pattern(data.env, e)
strip(s) := r if { startswith(s, "CAP_"); r := substring(s, 4, count(s) - 4) } else := r if { r := s }
norm_type(t) := n if { lower(t) == "mount"; n := "mnt" } else := n if { n := t }
concat_op(ops, op) := r if { op == null; r := ops }
concat_op(ops, op) := r if { op != null; r := array.concat(ops, [op]) }
pick_val(xs, i) := v if { v := xs[i] }
clash(x) := 1 if { x > 0 }
clash(x) := 2 if { x > 1 }
konst("a") := "A"
konst(x) := "other" if { x != "a" }
data_val(k) := v if { v := data.prefixes[k] }
call_val(x) := v if { ident(x) == x; v := x }
every_val(xs) := n if { every x in xs { x > 0 }; n := count(xs) }
chained(e) if { some pe in data.env; p1 := replace(pe, "$(ip)", "[0-9.]+"); p2 := replace(p1, "IP_", "I[P]_"); p3 := concat("", ["^", p2, "$"]); regex.match(p3, e) }
state_has(k) if { some s in data.pstate.seen; s == k }
state_and_prefix(e, k) if { prefixed(e); state_has(k) }
state_late(k) if { startswith(k, "a"); k != "ab"; some s in data.pstate.seen; s == k }
late_caller(k) if { count(k) > 0; state_late(k) }
plus_one(x, y) if { z := x + 1; z == y }
num_of(x, y) if { n := to_number(x); n == y }
two_vars(a, b) if { s := concat("-", [a, b]); startswith(s, "a-") }
filter_neg(xs) if { some x in xs; not startswith(x, "a"); y := upper(x); y == "B" }
mount_ok(p, i) if p == i
mount_ok(p, i) if { p.d == i.d; p.t == i.t; {x | some x in i.o} == {x | some x in p.o} }
mount_ok(p, i) if { i.t == "sysfs"; p.d == i.d; opts := {x | some x in i.o} | {"rw"}; opts == {x | some x in p.o} | {"ro"} }
mount_idx(ps, i) := idx if { some idx, p in ps; mount_ok(p, i) }
mounts_ok(ps, is) if { found := {idx | some i in is; idx := mount_idx(ps, i)}; count(found) == count(is) }
guarded_else(x) := "a" if { x.k == 1; ys := [v | some v in x.l]; count(ys) > 0 } else := "b" if { x.k == 2; zs := {v | some v in x.l}; count(zs) >= 0 } else := "c"
guard_const("n", x) := v if { x.t == "a"; v := {k | some k in x.l} }
guard_const(_, x) := v if { x.t == "b"; v := [k | some k in x.l] }
const_one(_) := 1
guard_call(x) if { ident(x.k) == 1; ys := [y | some y in x.l]; count(ys) == 1 }
guard_data(x) if { x.k in data.allowed; ys := [y | some y in x.l]; count(ys) >= 0 }
guard_builtin(x) if { startswith(x.s, "a"); ys := [y | some y in x.l]; count(ys) > 0 }
guard_error(x) if { x.k == 1; ys := [y | some y in x.l]; ys[0] / 0 == 1 }
all_checks if {
  p := {"Extra": {"f": "v"}}
  i := input
  check(p, i)
  env_ok(["A=1"], "A=1")
  l := "B=2"
  not l == "C"
  l != "C"
  input.list[_] == l
}
)REGO";
  std::string mounts;
  for (int m = 0; m < 20; ++m) {
    if (m) mounts += ", ";
    mounts += R"({"d": "/d)";
    mounts += std::to_string(m);
    mounts += R"(", "t": ")";
    mounts += m == 17 ? "tmpfs" : "bind";
    mounts += R"(", "s": ")";
    mounts += m == 5 ? "/src" : "src";
    mounts += R"("})";
  }
  std::string env;  // a template's env list: 20 entries, two of them patterns
  for (int e = 0; e < 20; ++e) {
    if (e) env += ", ";
    env += "\"";
    env += e % 10 == 3 ? "IP_" : "V_";
    env += std::to_string(e);
    env += e % 10 == 3 ? "=$(ip)\"" : "=1\"";
  }
  std::string data_text = R"({"allowed": ["w", "z"], "prefixes": ["KUBE_", "HO"], "letters": ["a", "b", "c"], "mounts": [)";
  data_text += mounts;
  data_text += "], \"env\": [";
  data_text += env;
  data_text += "]}";
  const Value data = J(data_text);
  auto compiled = compile_ok(policy, data);
  CompileOptions general_options;
  general_options.compile_tests = false;
  auto general = Policy::compile({{"t.rego", policy}}, data, general_options);
  ASSERT_TRUE(compiled && general.has_value());
  const std::vector<std::string> queries = {
      R"(data.t.check({"Extra": {"f": "v"}}, input))",
      R"(data.t.check({"Extra": {}}, input))",
      R"(data.t.check({}, input.OCI))",
      R"([data.t.env_ok(["A=1"], "A=1"), data.t.env_ok([], "HOST_X")])",
      R"(data.t.env_ok([], "HOST_X=1"))",
      R"(data.t.env_ok({"A=1"}, "A=1"))",
      R"(data.t.env_ok("A=1", "A=1"))",
      R"([data.t.ns_ok({"type": "network", "path": "/var/run/netns/x"}), data.t.ns_ok({"type": "pid"})])",
      R"(data.t.ns_ok({"type": "network", "path": "/proc/1/ns"}))",
      R"(data.t.ns_ok("network"))",
      R"([data.t.kind("a", 9), data.t.kind("b", 1)])",
      R"(data.t.kind("a", 1))",
      R"(data.t.from_input(1))",
      R"(data.t.from_input(1) with input as {"k": 1})",
      R"(data.t.sets({"a"}))",
      R"(data.t.sets({"b"}))",
      R"(data.t.typed("x"))",
      R"(data.t.bad(true))",
      R"([data.t.truthy(0), data.t.truthy(false), data.t.truthy(null)])",
      R"([data.t.neg(false), data.t.neg(1)])",
      R"(data.t.env_ok([], "HOST_X") with startswith as false)",
      R"(data.t.env_ok(["x"], "x") with internal.member_2 as false)",
      R"(data.t.all_checks)",
      R"([data.t.outer({}, {}, "A=1"), data.t.outer({}, {"Extra": {"f": 1}}, "A=1")])",
      R"(data.t.outer({}, {}, "B=1"))",
      R"(data.t.outer({}, {"Extra": {"f": 1}}, "A=1") with data.t.check as data.t.mock_true)",
      R"(data.t.outer({}, {}, "A=1") with data.t.ident as false)",
      R"(data.t.deep(1))",
      R"([data.t.caps_ok(["A", "B"], ["B"]), data.t.caps_ok({"A"}, []), data.t.caps_ok([], {"x": "A"})])",
      R"(data.t.caps_ok(["A"], ["A", "B"]))",
      R"(data.t.caps_ok(["A"], "A"))",
      R"([data.t.keyed({"ab": 1, "ac": true}), data.t.keyed({})])",
      R"(data.t.keyed({"ab": 1, "b": true}))",
      R"(data.t.keyed({"ab": false}))",
      R"([data.t.nested([[1, 2], [3]]), data.t.nested([[]])])",
      R"(data.t.nested([[1], [0]]))",
      R"(data.t.nested([[1], 2]))",
      R"(data.t.idx_of(["a", "b", "c"], "b"))",
      R"(data.t.idx_of(["a", "b", "c"], "a"))",
      R"(data.t.idx_of({"k": "a", "l": "b"}, "b"))",
      R"(data.t.idx_of(numbers.range(0, 40), 30))",
      R"(data.t.idx_of(numbers.range(0, 40), 0))",
      R"([data.t.prefixed("KUBE_X"), data.t.prefixed("HOME")])",
      R"(data.t.prefixed("PATH"))",
      R"(data.t.prefixed("PATH") with data.prefixes as ["PA"])",
      R"(data.t.check({"Extra": {"f": "q"}}, {"Extra": {"f": "q2"}}) with data.allowed as ["q2"])",
      R"(data.t.check({"Extra": {"f": "q"}}, {"Extra": {"f": "w"}}))",
      R"([data.t.virtual_read("a"), data.t.virtual_read("c")])",
      R"(data.t.field_in([{"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)], "35"))",
      R"(data.t.field_in([{"k": "1"}, {"k": 2}, {"j": 3}], "1"))",
      // Ten registers (five parameters, the loop's, four assignments), and seventeen (not compiled).
      R"([{x | x := data.t.chain("a", "b", "c", "d", "HOa")}, {x | x := data.t.chain("a", "b", "c", "d", "KUBE_abcd")}, {x | x := data.t.chain("a", "b", "c", "d", "x")}, {x | x := data.t.chain(1, "b", "c", "d", "x")}])",
      R"([{x | x := data.t.chain8("a", "b", "c", "d", "e", "f", "g", "h")}, {x | x := data.t.chain8("a", "b", "c", "d", "e", "f", "g", "i")}])",
      // Keyed loops over the same join: arrays (the key is the position) and objects, small and large.
      R"([{x | x := data.t.keyed_field([{"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)], "35")}, {x | x := data.t.keyed_field([{"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)], "0")}])",
      R"([{x | x := data.t.keyed_field({sprintf("k%d", [i]): {"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)}, "35")}, {x | x := data.t.keyed_field({sprintf("k%d", [i]): {"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)}, "0")}])",
      R"([{x | x := data.t.keyed_field([{"k": "1"}, {"k": "1"}], "1")}, {x | x := data.t.keyed_field([{"k": "1"}], "1")}, {x | x := data.t.keyed_field({"k0": {"k": 1}, "k1": {"k": 1}}, 1)}])",
      R"([data.t.keyed_pos([{"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)], "35"), data.t.keyed_pos({sprintf("k%d", [i]): {"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)}, "7"), data.t.keyed_pos([{"k": "a"}, {"k": "b"}], "b")])",
      R"(data.t.keyed_pos(array.concat([{"k": "x"}], [{"k": sprintf("%d", [i % 3])} | some i in numbers.range(0, 40)]), "2"))",
      R"([data.t.counted({"Args": [1, 2]}, {"Args": ["a", "b"]}), data.t.counted({"Args": []}, {})])",
      R"(data.t.counted({"Args": 1}, {"Args": [1]}))",
      R"([data.t.args_ok({"Args": ["a", "b"]}, {"Args": ["a", "b"]}), data.t.args_ok({"Args": ["a"]}, {"Args": ["a", "b"]})])",
      R"(data.t.args_ok({"Args": {"0": "a"}}, {"Args": ["a"]}))",
      R"([data.t.ann_ok({"Annotations": {"k": "v"}}, "k", "v"), data.t.ann_ok({"Annotations": {"k": "v"}}, "j", "v")])",
      R"(data.t.ann_ok({"Annotations": ["v"]}, 0, "v"))",
      R"([data.t.getter({"a": 1}, {"a": 1}, "a"), data.t.getter({}, {}, "b"), data.t.getter({"a": 1}, {}, "a")])",
      R"(data.t.getter([], {}, "a"))",
      R"([data.t.nested_calls(" ab "), data.t.nested_calls("x")])",
      R"(data.t.nested_calls(1))",
      R"([data.t.to_num("12", 12), data.t.to_num("x", 1)])",
      R"(data.t.short({}))",
      R"([data.t.assign_idx([1, 2], 1), data.t.assign_idx([1, 2], 0), data.t.assign_idx([1], 5)])",
      R"(data.t.assign_idx({"a": "x"}, "a"))",
      R"([data.t.assign_eq(["b", "ab"], 1), data.t.assign_eq(["b"], 0), data.t.assign_eq([1], 0)])",
      R"([data.t.size_ok([1]), data.t.size_ok([1, 2, 3])])",
      R"(data.t.size_ok(5))",
      R"([data.t.some_assign([{"k": "b"}, {"k": "a"}]), data.t.some_assign([{"j": "a"}])])",
      R"(data.t.some_assign([{"k": "b"}, 3]))",
      R"(data.t.field_in(array.concat([{"k": 7}], [{"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)]), "39"))",
      R"(data.t.field_in(array.concat([{"k": 7}], [{"k": sprintf("%d", [i])} | some i in numbers.range(0, 40)]), "x"))",
      R"([data.t.pair_in([{"k": sprintf("%d", [i]), "j": "j", "z": i > 30} | some i in numbers.range(0, 40)], "35", "j"), data.t.pair_in([{"k": sprintf("%d", [i]), "j": "j", "z": i > 30} | some i in numbers.range(0, 40)], "3", "j")])",
      R"(data.t.pair_in([{"k": sprintf("%d", [i]), "j": "j", "z": true} | some i in numbers.range(0, 40)], "35", 1))",
      R"([data.t.data_join("/d5"), data.t.data_join("/d17"), data.t.data_join("/x")])",
      R"([data.t.built_key(1), data.t.field_of(object.union({"image": 2}, {}), 2), data.t.field_of(json.unmarshal("{\"image\": 3}"), 3)])",
      R"([data.t.long_key({"a_key_longer_than_thirty_two_bytes_x": 1}), data.t.long_key({"a_key_longer_than_thirty_two_bytes_y": 1})])",
      R"(data.t.field_of({"imagf": 1, "image": 2}, 2))",
      R"(data.t.data_join("/d5") with data.mounts as [{"d": "/d5", "t": "bind", "s": "/"}])",
      R"([data.t.calls_mixed(["a", "b", "c"]), data.t.calls_mixed(["a", "d"]), data.t.calls_mixed([])])",
      R"(data.t.calls_mixed(["xb", 1]))",
      R"(data.t.calls_mixed(["b"]) with endswith as false)",
      R"([data.t.calls_first("b"), data.t.calls_first("a"), data.t.calls_first("c")])",
      R"(data.t.calls_first(1))",
      R"(data.t.calls_val("a"))",
      R"([data.t.calls_val("b"), data.t.calls_val("c")])",
      R"([data.t.calls_data("KUBE_1"), data.t.calls_data("z"), data.t.calls_data("HOME"), data.t.calls_data("y")])",
      R"(data.t.calls_data("y") with data.prefixes as ["y"])",
      // Pure filters and pure assignments (memo_filter, memo_assign) over base data, whose
      // verdicts and values are shared by later evaluations, and over request data.
      R"([data.t.env_data("IP_3=1.2.3.4"), data.t.env_data("IP_13=1"), data.t.env_data("IP_3=x"), data.t.env_data("V_1=1")])",
      R"([data.t.env_data("IP_13=1.2"), data.t.env_data("V_2=1"), data.t.env_data("IP_4=1")])",
      R"(data.t.env_data(7))",
      // Value functions whose rules (and `else` rules) compile (compile_value_chain).
      R"([data.t.strip("CAP_X"), data.t.strip("Y"), data.t.strip(1), data.t.strip("CAP_"), [data.t.strip(c) | some c in ["CAP_A", "B", "CAP_A"]]])",
      R"([data.t.norm_type("mount"), data.t.norm_type("MOUNT"), data.t.norm_type("pid"), data.t.norm_type(7)])",
      R"([data.t.concat_op(["a"], null), data.t.concat_op([], {"op": 1}), {x | x := data.t.concat_op("x", 1)}])",
      R"([{x | x := data.t.pick_val([1, 2], 1)}, {x | x := data.t.pick_val([1, 2], 5)}, {x | x := data.t.pick_val({"k": [3]}, "k")}])",
      R"([data.t.clash(1), {x | x := data.t.clash(0)}])",
      R"(data.t.clash(2))",
      R"([data.t.konst("a"), data.t.konst("b"), data.t.konst(1)])",
      R"([data.t.data_val(0), {x | x := data.t.data_val(9)}])",
      R"(data.t.data_val(0) with data.prefixes as ["P"])",
      R"([data.t.call_val("q"), {x | x := data.t.call_val(2) with data.t.ident as data.t.const_one}])",
      R"(data.t.call_val(1) with data.t.ident as data.t.const_one)",
      R"([data.t.every_val([1, 2]), {x | x := data.t.every_val([0, 1])}, data.t.every_val([])])",
      R"(data.t.strip("CAP_X") with startswith as false)",
      // A chain of pure assignments over a template entry: each link shared (DataIndexes::derived).
      R"([{x | x := data.t.chained("IP_3=1.2.3.4")}, {x | x := data.t.chained("IP_13=x")}, {x | x := data.t.chained("V_1=1")}])",
      R"([{x | x := data.t.chained("IP_3=1.2.3.4")}, {x | x := data.t.chained("IP_13=1")}])",
      R"Q({x | x := data.t.chained("IP_3=1")} with data.env as ["IP_3=$(ip)x"])Q",
      R"Q({x | x := data.t.chained("IP_3=1x")} with data.env as ["IP_3=$(ip)x"])Q",
      R"(data.t.env_pattern(data.env, "V_1=1") with data.t.mixed as data.t.mock_true)",  // no memo_filter
      R"Q(data.t.env_data("IP_3=1") with data.env as ["IP_3=$(ip)"])Q",
      R"Q([data.t.env_pattern(["A=$(ip)", "B"], "A=1.2"), data.t.env_pattern(["A=$(ip)", 1], "A=1")])Q",
      R"Q(data.t.env_pattern([sprintf("E_%d=$(ip)", [i]) | some i in numbers.range(0, 30)], "E_25=1.1"))Q",
      R"Q(data.t.env_pattern([sprintf("E_%d=$(ip)", [i]) | some i in numbers.range(0, 30)], "E_45=1.1"))Q",
      R"([data.t.plus_one(1, 2), data.t.plus_one(1, 3), data.t.plus_one(2.5, 3.5)])",
      R"(data.t.plus_one("a", 1))",
      R"([data.t.num_of("12", 12), data.t.num_of(true, 1), data.t.num_of(null, 0)])",
      R"(data.t.num_of("x", 1))",
      R"([data.t.two_vars("a", "b"), data.t.two_vars("b", "a"), data.t.two_vars("a", 1)])",
      R"([x | some x in ["a", "b", "a"]; data.t.two_vars(x, "b")])",  // one node for "b", two for x
      R"([data.t.filter_neg(["a", "b"]), data.t.filter_neg(data.letters), data.t.filter_neg(["a", 1])])",
      // A `with` replacing base data under one root leaves compiled the rules that read other roots
      // (Rule::data_mask): the state document here, absent from the base data at compile time.
      R"([data.t.state_has("a"), data.t.state_and_prefix("KUBE_1", "a")])",
      R"([data.t.state_has("a"), data.t.state_and_prefix("KUBE_1", "a"), data.t.prefixed("HOME")] with data.pstate as {"seen": ["a"]})",
      R"(data.t.state_and_prefix("PATH", "a") with data.pstate.seen as ["a"])",
      R"([data.t.data_join("/d5"), data.t.calls_data("KUBE_1")] with data.pstate as {"seen": []})",
      R"(data.t.state_and_prefix("Y", "b") with data.pstate as {"seen": ["b"]} with data.prefixes as ["Y"])",
      R"([data.t.prefixed("KUBE_X"), data.t.check({"Extra": {"f": "q"}}, {"Extra": {"f": "w"}})] with data.zz as 1)",
      R"(data.t.env_data("IP_3=1.2.3.4") with data.letters as [])",
      R"([data.t.late_caller("a"), data.t.late_caller("b")] with data.pstate as {"seen": ["a", "b"]})",
      R"(data.t.late_caller("a") with data.pstate.seen as ["a"])",
      // Guards (Rule::guards): the leading tests of rules the general evaluator runs. (Each
      // call is wrapped in a set comprehension, so that an undefined one shows as {}.)
      R"([{x | x := data.t.mount_ok({"d": "/a", "t": "bind", "o": ["ro"]}, {"d": "/a", "t": "bind", "o": ["ro"]})}, {x | x := data.t.mount_ok({"d": "/a", "t": "bind", "o": ["ro", "x"]}, {"d": "/a", "t": "bind", "o": ["x", "ro"]})}, {x | x := data.t.mount_ok({"d": "/s", "t": "sysfs", "o": ["rw"]}, {"d": "/s", "t": "sysfs", "o": ["ro"]})}])",
      R"([{x | x := data.t.mount_ok({}, {})}, {x | x := data.t.mount_ok(1, 1)}, {x | x := data.t.mount_ok({"d": "/a", "t": "bind", "o": ["ro"]}, {"d": "/b", "t": "bind", "o": ["ro"]})}, {x | x := data.t.mount_ok({"d": "/a", "t": "bind", "o": 1}, {"d": "/a", "t": "bind", "o": ["ro"]})}])",
      R"([{x | x := data.t.mount_idx([{"d": "/b"}, {"d": "/a", "t": "t", "o": []}], {"d": "/a", "t": "t", "o": []})}, {x | x := data.t.mount_idx([{"d": "/s", "t": "sysfs", "o": ["rw"]}], {"d": "/s", "t": "sysfs", "o": ["ro"]})}, {x | x := data.t.mount_idx([{"d": "/b"}], {"d": "/a"})}])",
      R"([{x | x := data.t.mounts_ok([{"d": "/b", "t": "t", "o": []}, {"d": "/a", "t": "t", "o": []}], [{"d": "/a", "t": "t", "o": []}, {"d": "/b", "t": "t", "o": []}])}, {x | x := data.t.mounts_ok([{"d": "/b", "t": "t", "o": []}], [{"d": "/a", "t": "t", "o": []}, {"d": "/b", "t": "t", "o": []}])}])",
      R"([data.t.guarded_else({"k": 1, "l": [1]}), data.t.guarded_else({"k": 1, "l": []}), data.t.guarded_else({"k": 2, "l": [1]}), data.t.guarded_else({"k": 3}), data.t.guarded_else({"k": 2, "l": 5})])",
      R"([{x | x := data.t.guard_const("n", {"t": "a", "l": [1]})}, {x | x := data.t.guard_const("m", {"t": "a", "l": [1]})}, {x | x := data.t.guard_const("m", {"t": "b", "l": [1]})}, {x | x := data.t.guard_const("n", {"t": "b", "l": [2]})}])",
      R"([{x | x := data.t.guard_call({"k": 1, "l": [1]})}, {x | x := data.t.guard_call({"k": 2, "l": [1]})}, {x | x := data.t.guard_call({"k": 1, "l": []})}])",
      R"([{x | x := data.t.guard_call({"k": 2, "l": [1]})}, {x | x := data.t.guard_call({"k": 1, "l": [1]})}] with data.t.ident as data.t.const_one)",
      R"([{x | x := data.t.guard_call({"k": 2, "l": [1]})}, {x | x := data.t.guard_call({"k": 1, "l": [1]})}] with data.t.ident as 2)",
      R"([{x | x := data.t.guard_data({"k": "w", "l": []})}, {x | x := data.t.guard_data({"k": "q", "l": []})}])",
      R"([{x | x := data.t.guard_data({"k": "w", "l": []})}, {x | x := data.t.guard_data({"k": "q", "l": []})}] with data.allowed as ["q"])",
      R"([{x | x := data.t.guard_builtin({"s": "ab", "l": [1]})}, {x | x := data.t.guard_builtin({"s": "b", "l": [1]})}, {x | x := data.t.guard_builtin({"s": "ab", "l": []})}])",
      R"(data.t.guard_builtin({"s": 1, "l": [1]}))",
      R"({x | x := data.t.guard_builtin({"s": "b", "l": [1]})} with startswith as true)",
      R"({x | x := data.t.guard_error({"k": 2, "l": [1]})})",
      R"(data.t.guard_error({"k": 1, "l": [1]}))",
  };
  const std::vector<std::string> inputs = {R"({"Extra": {"f": "v"}, "list": ["B=2"], "k": 1})",
                                           R"({"Extra": {"f": "w"}, "list": ["B=3"]})",
                                           R"({"Extra": {"f": "x"}, "OCI": {"Extra": {}}})", R"({})"};
  const auto& outcome = outcome_of;
  std::size_t defined = 0;
  for (const auto& q : queries) {
    for (const auto& in : inputs) {
      for (bool strict : {false, true}) {
        // A step limit cuts both at the same expression: the counts agree step by step.
        for (std::uint64_t steps : {0, 1, 2, 3, 5, 8, 13, 21}) {
          std::string want = outcome(*general, q, J(in), strict, steps);
          EXPECT_EQ(outcome(compiled, q, J(in), strict, steps), want) << q << " input " << in << " strict " << strict
                                                                     << " steps " << steps;
          if (steps == 0 && want != "undefined" && want.rfind("error", 0) != 0) ++defined;
        }
      }
    }
  }
  EXPECT_GT(defined, 150u);  // the cases exercise defined results, not only failures
  EXPECT_EQ(outcome(compiled, "data.t.all_checks", J(inputs[0]), false, 0), "true");
  EXPECT_EQ(outcome(compiled, "data.t.check({\"Extra\": {\"f\": \"v\"}}, input)", J(inputs[0]), false, 0), "true");
  EXPECT_EQ(outcome(compiled, "data.t.check({\"Extra\": {\"f\": \"v\"}}, input)", J(inputs[2]), false, 0),
            "undefined");
  EXPECT_NE(outcome(compiled, "data.t.typed(\"x\")", J("{}"), true, 0).find("eval_type_error"), std::string::npos);
  EXPECT_EQ(outcome(compiled, "data.t.state_and_prefix(\"KUBE_1\", \"a\")", J("{}"), false, 0), "undefined");
  EXPECT_EQ(outcome(compiled,
                    "[data.t.state_has(\"a\"), data.t.state_and_prefix(\"KUBE_1\", \"a\"), data.t.prefixed(\"HOME\")] "
                    "with data.pstate as {\"seen\": [\"a\"]}",
                    J("{}"), false, 0),
            "[true,true,true]");
  EXPECT_EQ(outcome(compiled, "data.t.state_and_prefix(\"Y\", \"b\") with data.pstate as {\"seen\": [\"b\"]} with data.prefixes as [\"Y\"]",
                    J("{}"), false, 0),
            "true");
  EXPECT_EQ(outcome(compiled, "data.t.outer({}, {\"Extra\": {\"f\": 1}}, \"A=1\") with data.t.check as data.t.mock_true",
                    J("{}"), false, 0),
            "true");
  // Calls made by compiled bodies count toward the call depth like any other.
  EvalOptions shallow;
  shallow.limits.max_call_depth = 2;
  auto deep = compiled->eval("data.t.deep(1)", shallow);
  ASSERT_FALSE(deep.has_value());
  EXPECT_NE(deep.error().message().find("call depth limit exceeded"), std::string::npos);
  auto deep_general = (*general)->eval("data.t.deep(1)", shallow);
  ASSERT_FALSE(deep_general.has_value());
  EXPECT_EQ(deep.error().message(), deep_general.error().message());
  EXPECT_NE(outcome(compiled, "data.t.bad(true)", J("{}"), true, 0).find("divide by zero"), std::string::npos);
}


// Values built by one evaluation are accounted while they live: a policy that grows a string
// without bound stops with eval_limit_error at the memory limit, the budget is per evaluation
// (the next one starts from zero), and values that are freed along the way give their bytes back.
TEST(RegoEval, MemoryLimitStopsRunawayValues) {
  auto p = compile_ok(R"(package t
import rego.v1
big := concat(",", [sprintf("item-%d-%s", [i, "................................"]) | some i in numbers.range(1, 200000)])
small := count([x | some i in numbers.range(1, 1000); x := sprintf("%d", [i])])
churn := count([n | some i in numbers.range(1, 2000); n := count(concat("", [sprintf("%d", [i]), "................................................................................................................................"]))])
)");
  EvalOptions o;
  o.limits.max_memory_bytes = 4 << 20;
  auto r = p->eval("data.t.big", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(error_code(r.error()), "eval_limit_error");
  EXPECT_NE(r.error().message().find("memory limit exceeded"), std::string::npos) << r.error().message();
  for (int i = 0; i < 3; ++i) {
    auto ok = p->eval("data.t.small", o);
    ASSERT_TRUE(ok.has_value()) << ok.error().message();
    EXPECT_EQ(to_json(ok->rows[0].value), "1000");
  }
  // 2,000 strings of ~140 bytes built and dropped one at a time: far more in total than the
  // limit below, never much of it alive at once.
  EvalOptions tight;
  tight.limits.max_memory_bytes = 256 << 10;
  auto churn = p->eval("data.t.churn", tight);
  ASSERT_TRUE(churn.has_value()) << churn.error().message();
  EXPECT_EQ(to_json(churn->rows[0].value), "2000");
  EvalOptions unlimited;
  unlimited.limits.max_memory_bytes = 0;
  EXPECT_TRUE(p->eval("data.t.small", unlimited).has_value());
}

// Brackets are read as OPA's parser reads them (parseArray, parseSetOrObject): only a single
// term directly before `|` opens a comprehension, and one whose body stops at a comma is read
// again as a list. Found by regorus's interpreter cases (array-vs-compr-tricky).
TEST(RegoEval, BracketsAreLiteralsOrComprehensionsAsOpaReadsThem) {
  auto p = compile_ok(R"(package t
x := {1}
y := {2}
a := [x | y, 5]
b := [x - {10} | y]
c := {x - {10} | y}
d := {"k": x | y, "j": 1}
e := [v | some v in [1, 2]]
f := {k: v | some k, v in {"a": 1}}
g := [, 1, 2]
h := {"k": {1} | {2}}
)");
  EXPECT_EQ(eval_json(p, "data.t.a"), "[[1,2],5]");      // an array whose first item is x | y
  EXPECT_EQ(eval_json(p, "data.t.b"), "[[1,2]]");        // (x - {10}) | y: no comprehension
  EXPECT_EQ(eval_json(p, "data.t.c"), "[[1,2]]");        // the same in a set
  EXPECT_EQ(eval_json(p, "data.t.d"), R"({"j":1,"k":[1,2]})");
  EXPECT_EQ(eval_json(p, "data.t.e"), "[1,2]");
  EXPECT_EQ(eval_json(p, "data.t.f"), R"({"a":1})");
  EXPECT_EQ(eval_json(p, "data.t.g"), "[1,2]");          // OPA's tolerated leading comma
  EXPECT_EQ(eval_json(p, "data.t.h"), R"({"k":[1]})");   // value {1}, body {2}: a comprehension
}

// After `if`, OPA reads one literal first and takes it unless it is a set literal: `{ 1 | 1 }` is
// a set comprehension, always defined, not a body computing `1 | 1` (an error on numbers).
TEST(RegoEval, IfBracesAreALiteralWhenOpaReadsOne) {
  auto p = compile_ok(R"(package t
a if { 1 | 1 }
b if { false | true }
c if { x := {1} | {2}; count(x) == 2 }
d if { true }
e if { {1} == {1} }
f if {1} == {1}
)");
  for (const char* r : {"a", "b", "c", "d", "e", "f"}) EXPECT_EQ(eval_json(p, std::string("data.t.") + r), "true") << r;
  EXPECT_EQ(error_of("package t\np if { 1 | 1 }\n"), "no error");
}

// OPA moves references in head values into the rule body, so a value that is undefined makes
// the body fail and the else branch apply (regorus's rule/else case).
TEST(RegoEval, UndefinedHeadValueFallsThroughToElse) {
  auto p = compile_ok(R"(package t
x := data.nope if { true } else := 2
f(v) := data.nope[v] if { v > 0 } else := "neg"
g(v) := v if { v > 0 } else := "neg"
y := [data.nope] if true else := 3
z := 1 if true else := 2
)");
  EXPECT_EQ(eval_json(p, "data.t.x"), "2");
  EXPECT_EQ(eval_json(p, "data.t.f(1)"), R"("neg")");
  EXPECT_EQ(eval_json(p, "data.t.g(1)"), "1");
  EXPECT_EQ(eval_json(p, "data.t.y"), "3");
  EXPECT_EQ(eval_json(p, "data.t.z"), "1");
}

// A comprehension runs after the expressions that bind the outer variables it uses, in its head
// too (OPA's reorderBodyForClosures; regorus's scheduler case).
TEST(RegoEval, ComprehensionsWaitForTheVariablesTheyCloseOver) {
  auto p = compile_ok(R"(package t
r := a if {
	a = [t[i] | i := 1]
	t = [8, 4]
}
s := a if {
	a = {v | true}
	v = 5
}
u := a if {
	a = [x | x := t[_]]
	t = [1, 2]
}
)");
  EXPECT_EQ(eval_json(p, "data.t.r"), "[4]");
  EXPECT_EQ(eval_json(p, "data.t.s"), "[5]");
  EXPECT_EQ(eval_json(p, "data.t.u"), "[1,2]");
}

// The part of OPA's type checker that needs no inference: `=` and `:=` between literal shapes
// that can never unify are compile errors ("match error"), as OPA reports them, not undefined.
TEST(RegoEval, ImpossibleUnificationsAreMatchErrors) {
  for (const char* body : {"[x] = {\"key\": 1}", "[x, y] = [1, 2, 3]", "{\"a\": v} = {\"a\": 1, \"b\": 2}",
                           "{\"a\": v} = {\"b\": 1}", "[a, b] := [1, 2, 3]", "1 = \"1\"", "[x, 1] = [2, \"a\"]",
                           "null = []", "[x] = {v | v := 1}"}) {
    const std::string err = error_of(std::string("package t\np if { ") + body + " }\n");
    EXPECT_NE(err.find("rego_type_error: match error"), std::string::npos) << body << ": " << err;
  }
  // Shapes that may unify, and values only known at run time, compile.
  auto p = compile_ok(R"(package t
a if { [x, 1] = [2, 1]; x == 2 }
b if { {"a": v} = {"a": 1}; v == 1 }
c if { [x] = input.xs; x == 3 }
d if { [x] = [[1] | true][_]; x == 1 }
e if { not [1, 2] = [1, 3] }
)");
  for (const char* r : {"a", "b", "c", "d", "e"})
    EXPECT_EQ(eval_json(p, std::string("data.t.") + r, J(R"({"xs": [3]})")), "true") << r;
  auto q = Policy::compile({{"t.rego", "package t\n"}});
  ASSERT_TRUE(q.has_value());
  auto r = (*q)->eval("[1, 2] = [1, 2, 3]");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("rego_type_error: match error"), std::string::npos) << r.error().message();
}

// References into a constant rule (genpolicy's `policy_data := {...}`) are resolved at compile
// time (Term::folded) and its values count as base data for the shared memos and indexes; a
// `with` on the rule or its package must still replace them everywhere: in the general
// evaluator, in compiled tests, in remembered assignments and in filter verdicts.
TEST(RegoEval, ConstantRulesAreFoldedYetReplaceableByWith) {
  const std::string text = R"REGO(package t
import rego.v1
policy_data := {"common": {"ip": "[0-9.]+", "prefixes": ["A_", "B_"]}, "pats": ["^X=$(ip)$", "^Y=$(ip)$"], "n": 2}
env_ok(e) if {
	some pat in policy_data.pats
	p2 := replace(pat, "$(ip)", policy_data.common.ip)
	regex.match(p2, e)
}
env_ok(e) if {
	some prefix in policy_data.common.prefixes
	startswith(e, prefix)
}
count_ok(xs) if count(xs) == policy_data.n
all_ok if {
	every e in input.env { env_ok(e) }
}
pats := policy_data.pats
missing := [1 | policy_data.nope]
)REGO";
  // Folded (the default) and not (CompileOptions::fold_constant_rules): the same answers.
  CompileOptions unfolded;
  unfolded.fold_constant_rules = false;
  for (const CompileOptions& o : {CompileOptions{}, unfolded}) {
    auto p = compile_ok(text, Value(), o);
    const Value in = J(R"({"env": ["X=1.2", "A_1", "Y=3"]})");
    EXPECT_EQ(eval_json(p, "data.t.all_ok", in), "true");
    EXPECT_EQ(eval_json(p, "data.t.count_ok([1, 2])"), "true");
    EXPECT_EQ(eval_json(p, "data.t.pats"), R"J(["^X=$(ip)$","^Y=$(ip)$"])J");
    EXPECT_EQ(eval_json(p, "data.t.missing"), "[]");
    // Replaced by `with`, twice in a row so remembered values would show.
    const char* swapped =
        R"Q(data.t.all_ok with data.t.policy_data as {"common": {"ip": "[a-z]+", "prefixes": ["Z_"]}, "pats": ["^X=$(ip)$"], "n": 3})Q";
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(eval_json(p, swapped, in), "undefined") << i;
      EXPECT_EQ(eval_json(p, swapped, J(R"({"env": ["X=abc", "Z_1"]})")), "true") << i;
      EXPECT_EQ(eval_json(p, R"(data.t.count_ok([1, 2]) with data.t.policy_data as {"n": 3})"), "undefined") << i;
      EXPECT_EQ(eval_json(p, R"(data.t.count_ok([1, 2, 3]) with data.t.policy_data as {"n": 3})"), "true") << i;
      EXPECT_EQ(eval_json(p, R"(data.t.pats with data.t as {"policy_data": {"pats": []}})"), "undefined") << i;
    }
    // And unchanged afterwards.
    EXPECT_EQ(eval_json(p, "data.t.all_ok", in), "true");
    EXPECT_EQ(eval_json(p, "data.t.all_ok", J(R"({"env": ["X=abc"]})")), "undefined");
  }
  // Not folded: a rule with a body, two definitions, or a default.
  auto q = compile_ok(R"(package t
import rego.v1
a := {"x": 1} if input.on
b := {"x": 1}
b := {"x": 1} if input.on
default c := {"x": 0}
c := {"x": 1} if input.on
ra := a.x
rb := b.x
rc := c.x
)");
  EXPECT_EQ(eval_json(q, "data.t.ra", J(R"({"on": true})")), "1");
  EXPECT_EQ(eval_json(q, "data.t.ra", J(R"({"on": false})")), "undefined");
  EXPECT_EQ(eval_json(q, "data.t.rb", J(R"({"on": true})")), "1");
  EXPECT_EQ(eval_json(q, "data.t.rc", J(R"({"on": false})")), "0");
}

// Found by rego-cpp's and regorus's cases: OPA's readings of calls and operators.
TEST(RegoEval, CallsAndContinuationLinesAsOpaReadsThem) {
  // A call with one argument too many is the output-argument form only as an expression of its
  // own; nested, OPA's type checker refuses it.
  EXPECT_NE(error_of("package t\np := abs(-9, 10)\n").find("rego_type_error: abs: arity mismatch"), std::string::npos);
  auto q = Policy::compile({{"t.rego", "package t\n"}});
  ASSERT_TRUE(q.has_value());
  auto r = (*q)->eval("[count([1], 1)]");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("rego_type_error: count: arity mismatch"), std::string::npos);
  auto p = compile_ok(R"(package t
import rego.v1
out if { abs(-9, x); x == 9 }
fruit["color.name"](f, color) := concat(" ", [color, f.name])
green := fruit["color.name"]({"name": "apple"}, "green")
joined := y if {
	y := {1}
		| {2}
}
sum := x if {
	x := 1
		+ 2
}
)");
  EXPECT_EQ(eval_json(p, "data.t.out"), "true");
  // A string key holding a dot names one segment, not two.
  EXPECT_EQ(eval_json(p, "data.t.green"), R"("green apple")");
  EXPECT_EQ(eval_json(p, R"(data.t.fruit["color.name"]({"name": "pear"}, "red"))"), R"("red pear")");
  // An operator at the start of a line continues the expression (OPA skips newlines there).
  EXPECT_EQ(eval_json(p, "data.t.joined"), "[1,2]");
  EXPECT_EQ(eval_json(p, "data.t.sum"), "3");
}

// Calls of functions whose bodies compute their value are remembered per evaluation by function
// and arguments, as OPA's virtual cache does; a `with` (and a mock's own run) must not see
// results made under other replacements.
TEST(RegoEval, FunctionResultsAreRememberedPerOverlay) {
  auto p = compile_ok(R"(package t
import rego.v1
g(x) := y if { y := x + 1 } else := 0
f(x) := y if { y := g(x) * 10 } else := 0
h(x) := x + 100
uses_g(x) := g(x) + 1000
k(s) := y if { startswith(s, "CAP_"); y := substring(s, 4, -1) } else := s
obj(o) := y if { y := o.a } else := "none"
a := [x, y, z, f(2)] if {
	x := f(1)
	y := f(1) with g as h
	z := f(1)
}
b := [x, y, w] if {
	x := uses_g(1)
	y := uses_g(1) with g as uses_g
	w := [uses_g(1), uses_g(1)] with g as uses_g
}
c := [k("CAP_X"), k("Y"), k("CAP_X"), k("Y")]
d := [obj({"a": 1}), obj({"a": 2}), obj({"b": 1}), obj({"a": 1})]
e := [g(1), g(1.0), g(2)]
)");
  EXPECT_EQ(eval_json(p, "data.t.a"), "[20,1010,20,30]");
  // Inside the mock the original g runs (mocks do not chain): uses_g(1) as g is 1002.
  EXPECT_EQ(eval_json(p, "data.t.b"), "[1002,2002,[2002,2002]]");
  EXPECT_EQ(eval_json(p, "data.t.c"), R"(["X","Y","X","Y"])");
  EXPECT_EQ(eval_json(p, "data.t.d"), R"([1,2,"none",1])");
  EXPECT_EQ(eval_json(p, "data.t.e"), "[2,2,3]");
}

}  // namespace
}  // namespace cloister::rego
