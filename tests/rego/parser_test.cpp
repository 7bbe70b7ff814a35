#include "parser.h"
#include "cloister/rego/rego.h"

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
  // OPA's excerpt (ParserErrorDetail.Lines): leading tabs dropped, the caret indented by spaces
  // under the byte of the error.
  auto t = parse_module("tab.rego", 0, "package t\np := 1\n\t\tq := {1 2}\n", ParseOptions{});
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().message(),
            "tab.rego:3:11: rego_parse_error: unexpected number token: expected }\n\tq := {1 2}\n\t        ^");
}

// OPA scans the ident after a reference's `.` without skipping whitespace (parseRef: scanWS).
TEST(RegoParser, NoWhitespaceAfterAReferenceDot) {
  for (const char* text : {"package t\np := regex.\nmatch(\"a\", \"b\")\n", "package t\np := input. x\n",
                           "package a. b\n"}) {
    auto m = parse_module("ws.rego", 0, text, ParseOptions{});
    ASSERT_FALSE(m.has_value()) << text;
    EXPECT_NE(m.error().message().find("rego_parse_error: unexpected whitespace token: expected ident"),
              std::string::npos)
        << m.error().message();
  }
  auto m = parse_module("ws.rego", 0, "package t\np := regex.\nmatch(\"a\", \"b\")\n", ParseOptions{});
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().message().substr(0, 11), "ws.rego:2:1") << m.error().message();  // just after the dot
  EXPECT_TRUE(parse_module("ok.rego", 0, "package t\np := input.x.y\n", ParseOptions{}).has_value());
}

// A reading of brackets that is abandoned (a comprehension body stopping at a comma) is followed
// by another; nested, each level used to parse everything inside it twice more (22 levels took
// 71 s, and as long again when the innermost term is an error). What a speculative reading
// parsed, or the error it met, is kept, so 60 levels parse at once: were the work doubling
// again, this test would not finish.
TEST(RegoParser, AbandonedReadingsDoNotReparseNestedBrackets) {
  auto nested = [](const std::string& open, const std::string& inner, const std::string& close) {
    std::string s = "package t\np := ";
    for (int i = 0; i < 60; ++i) s += open;
    s += inner;
    for (int i = 0; i < 60; ++i) s += close;
    return s + "\n";
  };
  ParseOptions o;
  o.max_depth = 1000;
  for (const std::string& text : {nested("[x | ", "y", ", 5]"), nested("{x | ", "y", ", 5}"),
                                  nested("{\"k\": x | ", "y", ", \"j\": 5}"), nested("[x | a, ", "y", "]")}) {
    auto m = parse_module("nest.rego", 0, text, o);
    ASSERT_TRUE(m.has_value()) << m.error().message().substr(0, 200);
  }
  // The same with an error at the bottom: each level's abandoned reading met it too.
  for (const std::string& text : {nested("[x | ", "y +", ", 5]"), nested("[x | a, ", "y +", "]"),
                                  nested("{\"k\": x | ", "y +", "}"), nested("{x | a, ", "y +", "}")}) {
    auto m = parse_module("nest.rego", 0, text, o);
    ASSERT_FALSE(m.has_value());
    EXPECT_NE(m.error().message().find("rego_parse_error"), std::string::npos) << m.error().message().substr(0, 200);
  }
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

std::string parse_error(std::string_view text, bool v0 = false) {
  ParseOptions o;
  o.v0 = v0;
  auto m = parse_module("m.rego", 0, text, o);
  return m ? "parsed" : m.error().message();
}

// Number literals are scanned and checked as OPA does (ast/internal/scanner scanNumber, ast/parser.go
// parseNumber): `.5` is a number, a leading zero is refused, and a malformed literal is an error at
// its position instead of a number followed by another token.
TEST(RegoParser, NumberLiteralsFollowOpa) {
  auto b = parse_query("q", 0, "x := [.5, -.5, .25e2, 0, 0.5, 0e3, -0]", ParseOptions{});
  ASSERT_TRUE(b.has_value()) << b.error().message();
  const Term& arr = *(*b)->exprs[0].term->items[1];
  ASSERT_EQ(arr.items.size(), 7u);
  EXPECT_EQ(to_json(arr.items[0]->value), "0.5");
  EXPECT_EQ(to_json(arr.items[1]->value), "-0.5");
  EXPECT_EQ(to_json(arr.items[2]->value), "25");
  EXPECT_EQ(arr.items[0]->loc.col, 7u);
  EXPECT_NE(parse_error("package t\np := 01\n").find("m.rego:2:6: rego_parse_error: expected number without leading zero"),
            std::string::npos);
  EXPECT_NE(parse_error("package t\np := -007\n").find("expected number without leading zero"), std::string::npos);
  EXPECT_NE(parse_error("package t\np := 1.\n").find("m.rego:2:8: rego_parse_error: expected fraction"), std::string::npos);
  EXPECT_NE(parse_error("package t\np := 1.x\n").find("expected fraction"), std::string::npos);
  EXPECT_NE(parse_error("package t\np := 2e+\n").find("expected exponent"), std::string::npos);
  EXPECT_NE(parse_error("package t\np := 1a2\n").find("illegal number format"), std::string::npos);
  EXPECT_NE(parse_error("package t\np := .x\n").find("expected number"), std::string::npos);
}

// `p if { a } { b }` is two rules sharing one head, in v1 as in v0 (OPA parseRules), each body at
// its own position; after an `else` chain a further body is an error.
TEST(RegoParser, FurtherBodiesShareTheHead) {
  auto m = parse_module("m.rego", 0, "package t\np := 1 if { false }\n{ true } { 2 > 1 }\nf(x) if { x } { not x }\n",
                        ParseOptions{});
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_EQ(m->rules.size(), 5u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m->rules[i]->ref, m->rules[0]->ref);
    EXPECT_EQ(to_json(m->rules[i]->value->value), "1");
  }
  EXPECT_FALSE(m->rules[0]->shares_head);
  EXPECT_TRUE(m->rules[1]->shares_head);
  EXPECT_EQ(m->rules[1]->loc.line, 3u);
  EXPECT_EQ(m->rules[2]->loc.col, 10u);
  EXPECT_EQ(m->rules[4]->kind, RuleKind::Function);
  EXPECT_EQ(m->rules[4]->args.size(), 1u);
  EXPECT_NE(parse_error("package t\np := 1 if { false } else := 2 if { false } { true }\n").find("expected else keyword"),
            std::string::npos);
  EXPECT_EQ(parse_error("package t\np { false } { true }\n", true), "parsed");
}

// A head alone is a rule as OPA reads module statements (parser_ext.go ParseRuleFromExpr): in v0
// `a.b.c` is `a.b.c = true` and `p[x]` or `a.b` a partial set; v1 asks for `contains` or a value.
TEST(RegoParser, BareHeadsAreRulesOrClearErrors) {
  ParseOptions v0;
  v0.v0 = true;
  auto m = parse_module("m.rego", 0, "package t\na.b.c\nx.y\nq[1]\nf(1)\n", v0);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_EQ(m->rules.size(), 4u);
  EXPECT_EQ(m->rules[0]->kind, RuleKind::Complete);
  ASSERT_TRUE(m->rules[0]->value);
  EXPECT_EQ(to_json(m->rules[0]->value->value), "true");
  EXPECT_EQ(m->rules[1]->kind, RuleKind::MultiValue);
  EXPECT_EQ(to_json(m->rules[1]->key->value), R"("y")");
  EXPECT_EQ(m->rules[2]->kind, RuleKind::MultiValue);
  EXPECT_EQ(m->rules[3]->kind, RuleKind::Function);
  EXPECT_NE(parse_error("package t\nq[1]\n").find("m.rego:2:1: rego_parse_error: `contains` keyword is required for partial set rules"),
            std::string::npos);
  EXPECT_NE(parse_error("package t\na.b.c\n").find("m.rego:2:1: rego_parse_error: rule must have value assignment and/or body declaration"),
            std::string::npos);
  EXPECT_NE(parse_error("package t\nq\n").find("var cannot be used for rule name"), std::string::npos);
  EXPECT_NE(parse_error("package t\nq\n", true).find("var cannot be used for rule name"), std::string::npos);
}

// Default rules, imports and keywords as OPA's parser checks them (validateDefaultRuleValue,
// validateDefaultRuleArgs, statements in any order, keywords that cannot name a rule).
TEST(RegoParser, DefaultRulesImportsAndKeywordsAsOpaChecksThem) {
  EXPECT_NE(parse_error("package t\ndefault p := input.x\n").find("m.rego:2:1: rego_parse_error: illegal default rule (value cannot contain ref)"),
            std::string::npos);
  EXPECT_NE(parse_error("package t\ndefault p := [x]\n").find("illegal default rule (value cannot contain var)"), std::string::npos);
  EXPECT_NE(parse_error("package t\ndefault p := count([1])\n").find("illegal default rule (value cannot contain call)"),
            std::string::npos);
  EXPECT_NE(parse_error("package t\ndefault f(1) := 1\n").find("illegal default rule (arguments cannot contain number)"),
            std::string::npos);
  EXPECT_NE(parse_error("package t\ndefault f(x, x) := 1\n").find("illegal default rule (arguments cannot be repeated x)"),
            std::string::npos);
  EXPECT_EQ(parse_error("package t\ndefault p := [x | some x in [1]]\ndefault q := {\"a\": - 1}\ndefault f(_, _, y) := $\"s\"\n"),
            "parsed");
  // Imports after rules, keyword imports taking effect from there.
  ParseOptions v0;
  v0.v0 = true;
  auto m = parse_module("m.rego", 0, "package t\np := x\nimport data.y as x\nimport future.keywords.if\nq if true\n", v0);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->imports.size(), 2u);
  EXPECT_EQ(m->rules.size(), 2u);
  EXPECT_NE(parse_error("package t\np := 1\npackage u\n").find("m.rego:3:1: rego_parse_error: unexpected package"), std::string::npos);
  EXPECT_NE(parse_error("package t\nin := 1\n").find("unexpected in keyword"), std::string::npos);
  EXPECT_EQ(parse_error("package t\nin := 1\n", true), "parsed");  // v0 without the import: a name
  EXPECT_EQ(parse_error("package t\nif.x := 1\nimport.y := 2\n"), "parsed");  // ref heads
  // `every` binds variables only (OPA parseEvery), reported at the body's brace as OPA does.
  EXPECT_NE(parse_error("package t\np if { every [a, b] in [[1, 2]] { a < b } }\n")
                .find("m.rego:2:33: rego_parse_error: unexpected { token: expected value to be a variable"),
            std::string::npos);
  EXPECT_NE(parse_error("package t\np if { every 1, v in [1] { v } }\n").find("expected key to be a variable"), std::string::npos);
  // `- 1` is a number literal (OPA parseNumber skips the whitespace), `-x` subtraction from 0.
  auto b = parse_query("q", 0, "x := [- 1, -y]", ParseOptions{});
  ASSERT_TRUE(b.has_value()) << b.error().message();
  const Term& arr = *(*b)->exprs[0].term->items[1];
  EXPECT_EQ(arr.items[0]->kind, TermKind::Scalar);
  EXPECT_EQ(to_json(arr.items[0]->value), "-1");
  EXPECT_EQ(arr.items[1]->kind, TermKind::Call);
}

// OPA's import checks (parseImport, futureImport, regoV1Import), at the import's path, and its
// function head check (parseHead). Before session 12 `import future.keywords.foo`, `import rego.v2`
// and `f(x) contains y` were accepted silently.
TEST(RegoParser, ImportsAndFunctionHeadsAsOpaChecksThem) {
  auto err = [](const std::string& import, bool v0 = false) { return parse_error("package t\n" + import + "\np := 1\n", v0); };
  EXPECT_NE(err("import foo.bar").find("m.rego:2:8: rego_parse_error: unexpected import path, must begin with one of: "
                                       "{data, future, input, rego}, got: foo"),
            std::string::npos);
  EXPECT_NE(err("import future.keywords.foo").find("m.rego:2:8: rego_parse_error: unexpected keyword, must be one of [contains every if in]"),
            std::string::npos);
  EXPECT_NE(err("import future").find("invalid import, must be `future.keywords`"), std::string::npos);
  EXPECT_NE(err("import future.keywords as k", true).find("`future` imports cannot be aliased"), std::string::npos);
  EXPECT_NE(err("import rego.v2").find("invalid import `rego.v2`, must be `rego.v1`"), std::string::npos);
  EXPECT_NE(err("import rego.v1.x").find("invalid import `rego.v1.x`, must be `rego.v1`"), std::string::npos);
  EXPECT_NE(err("import rego.v1 as r", true).find("`rego` imports cannot be aliased"), std::string::npos);
  EXPECT_EQ(err("import rego.v1 as r"), "parsed");  // a no-op in a v1 module, alias and all
  EXPECT_NE(err("import input.x[1]").find("m.rego:2:16: rego_parse_error: unexpected number token: expecting string"),
            std::string::npos);
  EXPECT_NE(err("import data[x]").find("unexpected var token: expecting string"), std::string::npos);
  EXPECT_EQ(err("import data[\"a b\"].c as d\nimport input\nimport future.keywords.in.x", true), "parsed");
  // A function head cannot use `contains` (OPA's parseHead, at the keyword).
  EXPECT_NE(parse_error("package t\nf(x) contains y if y := x\n")
                .find("m.rego:2:6: rego_parse_error: unexpected contains keyword: the contains keyword can only be used with "
                      "multi-value rule definitions (e.g., f contains <VALUE> { ... })"),
            std::string::npos);
  EXPECT_NE(parse_error("package t\na.b(x) contains 1\n").find("(e.g., a.b contains <VALUE> { ... })"), std::string::npos);
}

// `import future.keywords.every` makes `in` a keyword as well, from the import on, as OPA's parser
// does ("every" kw implies "in" kw): Trustee's attestation-service default policy is a v0 module
// that imports only `every` and writes `every x in xs`. Until session 13 that was a parse error.
TEST(RegoParser, EveryImportImpliesIn) {
  const std::string src =
      "package t\nimport future.keywords.every\n"
      "p { every x in [1, 2] { x > 0 } }\nq { every k, v in {\"a\": 1} { k == \"a\"; v == 1 } }\nr { 2 in [1, 2] }\n";
  EXPECT_EQ(parse_error(src, true), "parsed");
  auto p = Policy::compile({{"m.rego", src}}, Value(), CompileOptions{.v0 = true});
  ASSERT_TRUE(p.has_value()) << p.error().message();
  for (const char* rule : {"data.t.p", "data.t.q", "data.t.r"}) {
    auto r = (*p)->eval(rule);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    ASSERT_EQ(r->rows.size(), 1u) << rule;
    EXPECT_TRUE(r->rows[0].value.is_true()) << rule;
  }
  // Without the import, `every` is a name and the next token is misplaced: OPA's wording, with its
  // hint when the text reads as an `every` expression (parser_test.go TestEvery), else without.
  const std::string hint = " (hint: `import future.keywords.every` for `every x in xs { ... }` expressions)";
  EXPECT_NE(parse_error("package t\nimport future.keywords.in\np { every x in [1] { x } }\n", true)
                .find("m.rego:3:11: rego_parse_error: unexpected ident token: expected \\n or ; or }" + hint),
            std::string::npos);
  EXPECT_NE(parse_error("package t\np {\n\tevery x, y in {\"foo\": \"bar\"} { is_string(x); is_string(y) }\n}\n", true)
                .find("unexpected ident token: expected \\n or ; or }" + hint),
            std::string::npos);
  const std::string no_hint = parse_error("package t\np {\n\tevery x\n}\n", true);
  EXPECT_NE(no_hint.find("unexpected ident token: expected \\n or ; or }\n\tevery x\n"), std::string::npos) << no_hint;
  EXPECT_NE(parse_error("package t\np { 1 2 }\n", true).find("unexpected number token: expected \\n or ; or }\n"),
            std::string::npos);
}

// An unexpected token is named as OPA's Parser.illegal names it: punctuation by its text, operators
// by their token names, OPA's keywords as keywords. Found on the Kata genpolicy rules of commit
// 00485f9b (`print ("...")`, which OPA rejects too); until session 13 this read "unexpected token token".
TEST(RegoParser, UnexpectedTokensAreNamedAsOpaNamesThem) {
  auto first_line = [](const std::string& body) {
    const std::string e = parse_error("package t\np if {\n" + body + "\n}\n");
    return e.substr(0, e.find('\n'));
  };
  EXPECT_EQ(first_line("  print (\"x\")"), "m.rego:3:9: rego_parse_error: unexpected ( token: expected \\n or ; or }");
  EXPECT_EQ(first_line("  x := 1 ]"), "m.rego:3:10: rego_parse_error: unexpected ] token: expected \\n or ; or }");
  EXPECT_EQ(first_line("  x := 1 := 2"), "m.rego:3:10: rego_parse_error: unexpected assign token: expected \\n or ; or }");
  EXPECT_EQ(first_line("  true not"), "m.rego:3:8: rego_parse_error: unexpected not keyword: expected \\n or ; or }");
  EXPECT_EQ(first_line("  x := 1 y"), "m.rego:3:10: rego_parse_error: unexpected ident token: expected \\n or ; or }");
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
  // The expressions' terms carry their positions in the file, across lines of a raw template.
  auto m = parse_query("q", 0, "x := $`a\n  b {input.y} {\n count(z)}`", ParseOptions{});
  ASSERT_TRUE(m.has_value()) << m.error().message();
  const Term& raw = *(*m)->exprs[0].term->items[1];
  ASSERT_EQ(raw.items.size(), 4u);
  EXPECT_EQ(raw.items[1]->loc.line, 2u);
  EXPECT_EQ(raw.items[1]->loc.col, 6u);  // input.y
  EXPECT_EQ(raw.items[3]->loc.line, 3u);
  EXPECT_EQ(raw.items[3]->loc.col, 2u);  // count(z)
}

}  // namespace
}  // namespace cloister::rego
