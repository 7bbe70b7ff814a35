#include "parser.h"

#include <gtest/gtest.h>

namespace cloister::rego {
namespace {

TEST(RegoParser, RulesOfEveryShape) {
  auto m = parse_module("m.rego", 0, R"(package a.b
import rego.v1
import data.x.y as z
default allow := false
allow if { input.x == 1 }
s contains v if some v in input.xs
o[k] := v if { some k, v in input.m }
p.q[r] contains w if { r := "a"; w := 1 }
f(x, y) := x + y
g(x) := 1 if x > 0 else := 2
t := `raw \n string`
)", ParseOptions{});
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->package.size(), 2u);
  EXPECT_EQ(m->imports.size(), 2u);
  ASSERT_EQ(m->rules.size(), 8u);
  EXPECT_TRUE(m->rules[0]->is_default);
  EXPECT_EQ(m->rules[2]->kind, RuleKind::MultiValue);
  EXPECT_EQ(m->rules[5]->kind, RuleKind::Function);
  EXPECT_EQ(m->rules[6]->elses.size(), 1u);
  EXPECT_EQ(m->rules[7]->value->value.as_string(), "raw \\n string");
}

TEST(RegoParser, ErrorsHaveLineColumnAndCaret) {
  auto m = parse_module("bad.rego", 0, "package t\n\np if {\n  x := [1, 2\n}\n", ParseOptions{});
  ASSERT_FALSE(m.has_value());
  const std::string& msg = m.error().message();
  EXPECT_NE(msg.find("bad.rego:5:1: rego_parse_error"), std::string::npos) << msg;
  EXPECT_NE(msg.find("^"), std::string::npos) << msg;
}

TEST(RegoParser, DeepNestingIsRejectedNotRecursed) {
  std::string deep = "package t\np := " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  auto m = parse_module("deep.rego", 0, deep, ParseOptions{});
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("nesting too deep"), std::string::npos);
}

TEST(RegoParser, V0SyntaxNeedsFlagOrImports) {
  const char* v0 = "package t\np[x] { x := 1 }\nq { true }\n";
  EXPECT_FALSE(parse_module("v0.rego", 0, v0, ParseOptions{}).has_value());
  ParseOptions o;
  o.v0 = true;
  auto m = parse_module("v0.rego", 0, v0, o);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->rules[0]->kind, RuleKind::MultiValue);
  // `import rego.v1` switches a v0-mode module to v1.
  auto m1 = parse_module("v1.rego", 0, "package t\nimport rego.v1\ns contains 1 if true\n", o);
  EXPECT_TRUE(m1.has_value());
}

TEST(RegoParser, OperatorPrecedenceAndMembership) {
  auto b = parse_query("q", 0, "x := 1 + 2 * 3 == 7", ParseOptions{});
  ASSERT_TRUE(b.has_value());
  const Term& assign = *(*b)->exprs[0].term;
  ASSERT_EQ(assign.name, "assign");
  EXPECT_EQ(assign.items[1]->name, "equal");
  EXPECT_EQ(assign.items[1]->items[0]->name, "plus");
  auto m = parse_query("q", 0, "1, 2 in [2] in [false, true]", ParseOptions{});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ((*m)->exprs[0].term->name, "internal.member_2");
  EXPECT_EQ((*m)->exprs[0].term->items[0]->name, "internal.member_3");
}

TEST(RegoParser, TemplateStrings) {
  auto b = parse_query("q", 0, R"(x := $"a {1 + 2} \{b}")", ParseOptions{});
  ASSERT_TRUE(b.has_value()) << b.error().message();
  const Term& t = *(*b)->exprs[0].term->items[1];
  EXPECT_EQ(t.name, "internal.template_string");
  ASSERT_EQ(t.items.size(), 3u);
  EXPECT_EQ(t.items[2]->value.as_string(), " {b}");
}

}  // namespace
}  // namespace cloister::rego
