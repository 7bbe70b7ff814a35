// strings.render_template: OPA's conformance topic "rendertemplate" and Go text/template rules
// (trim markers, range/else, variables, comparison functions).
#include "builtins_test_util.h"

namespace cloister::rego {
namespace {

using namespace testing;

TEST(RegoTemplate, RendersGoTemplates) {
  BuiltinCaller c;
  EXPECT_BUILTIN(c, "strings.render_template", R"j(["{{.test}}", {"test": "hello world"}])j", R"j("hello world")j");
  EXPECT_BUILTIN(c, "strings.render_template", R"j(["{{.test}}", {"test": 2023}])j", R"j("2023")j");
  EXPECT_BUILTIN(c, "strings.render_template",
                 R"j(["{{range $i, $name := .hellonames}}{{if $i}},{{end}}hello {{$name}}{{end}}", {"hellonames": ["rohan", "john doe"]}])j",
                 R"j("hello rohan,hello john doe")j");
  EXPECT_BUILTIN(c, "strings.render_template", R"j(["test {{.foo}} {{.bar}} {{.baz}}", {"baz": 1}])j",
                 R"j("test <undefined> <undefined> 1")j");
  EXPECT_BUILTIN(c, "strings.render_template", R"j(["a  {{- .x -}}  b{{/* note */}}", {"x": "X"}])j", R"j("aXb")j");
  EXPECT_BUILTIN(c, "strings.render_template",
                 R"j(["{{if eq .n 1}}one{{else if gt .n 1}}many{{else}}none{{end}}", {"n": 5}])j", R"j("many")j");
  EXPECT_BUILTIN(c, "strings.render_template", R"j(["{{range .xs}}[{{.}}]{{else}}empty{{end}}", {"xs": []}])j", R"j("empty")j");
  EXPECT_BUILTIN(c, "strings.render_template", R"j(["{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}", {"m": {"b": 2, "a": 1}}])j",
                 R"j("a=1;b=2;")j");
  EXPECT_BUILTIN(c, "strings.render_template", R"j(["{{with .o}}{{.k}}{{end}} {{len .l}} {{index .l 1}} {{.l}} {{.o}}", {"o": {"k": true}, "l": ["p", "q"]}])j",
                 R"j("true 2 q [p q] map[k:true]")j");
  EXPECT_BUILTIN(c, "strings.render_template", R"j(["{{$x := .a}}{{$x}}{{not .b | not}}", {"a": "A", "b": false}])j", R"j("Afalse")j");
  EXPECT_BUILTIN_ERROR(c, "strings.render_template", R"j(["{{if .a}}x", {"a": 1}])j", "eval_builtin_error",
                       "strings.render_template: template: unexpected EOF");
  EXPECT_BUILTIN_ERROR(c, "strings.render_template", R"j(["{{nosuch .a}}", {}])j", "eval_builtin_error", "function \"nosuch\" not defined");
}

}  // namespace
}  // namespace cloister::rego
