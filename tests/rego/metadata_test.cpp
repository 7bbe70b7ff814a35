// METADATA annotations and rego.metadata.chain()/rule() (src/rego/metadata.cpp).
#include <gtest/gtest.h>

#include "cloister/rego/rego.h"

namespace cloister::rego {
namespace {

std::string eval_modules(const std::vector<ModuleSource>& modules, std::string_view query) {
  auto p = Policy::compile(modules);
  if (!p) return "compile error: " + p.error().message();
  auto r = (*p)->eval(query);
  if (!r) return "error: " + r.error().message();
  if (r->rows.empty()) return "undefined";
  return to_json(r->rows[0].value);
}

TEST(RegoMetadata, RuleAnnotationsAuthorsAndResources) {
  std::string m = R"(# METADATA
# title: Pod rules
# scope: subpackages
package a

# METADATA
# title: Allowed
# description: Admits a request
# authors:
# - Jane Doe <jane@example.com>
# - John
# related_resources:
# - https://example.com/doc
# - ref: https://example.com/other
#   description: more
# custom:
#   severity: high
allow := rego.metadata.rule()

plain := rego.metadata.rule()
)";
  EXPECT_EQ(eval_modules({{"a.rego", m}}, "data.a.allow"),
            R"({"authors":[{"email":"jane@example.com","name":"Jane Doe"},{"name":"John"}],"custom":{"severity":"high"},)"
            R"("description":"Admits a request","related_resources":[{"ref":"https://example.com/doc"},)"
            R"({"description":"more","ref":"https://example.com/other"}],"scope":"rule","title":"Allowed"})");
  EXPECT_EQ(eval_modules({{"a.rego", m}}, "data.a.plain"), "{}");
}

TEST(RegoMetadata, ChainGoesFromTheRuleToTheOutermostPackage) {
  std::string outer = R"(# METADATA
# scope: subpackages
# title: Everything under a
package a
)";
  std::string inner = R"(# METADATA
# description: b
package a.b

# METADATA
# scope: document
# title: the p document
p := 1 if false

p := rego.metadata.chain()
)";
  EXPECT_EQ(eval_modules({{"outer.rego", outer}, {"inner.rego", inner}}, "data.a.b.p"),
            R"([{"path":["a","b","p"]},)"
            R"({"annotations":{"scope":"document","title":"the p document"},"path":["a","b","p"]},)"
            R"({"annotations":{"description":"b","scope":"package"},"path":["a","b"]},)"
            R"({"annotations":{"scope":"subpackages","title":"Everything under a"},"path":["a"]}])");
}

TEST(RegoMetadata, BlocksMustSitDirectlyAboveTheirStatement) {
  std::string m = R"(package a

# METADATA
# title: detached

p := rego.metadata.rule()
)";
  EXPECT_EQ(eval_modules({{"a.rego", m}}, "data.a.p"), "{}");
}

TEST(RegoMetadata, InvalidBlocksAreParseErrors) {
  auto bad_scope = eval_modules({{"a.rego", "package a\n\n# METADATA\n# scope: package\np := 1\n"}}, "data.a.p");
  EXPECT_NE(bad_scope.find("rego_parse_error"), std::string::npos) << bad_scope;
  EXPECT_NE(bad_scope.find("a.rego:3"), std::string::npos) << bad_scope;
  auto bad_key = eval_modules({{"a.rego", "# METADATA\n# colour: red\npackage a\n"}}, "data.a");
  EXPECT_NE(bad_key.find("invalid annotation key 'colour'"), std::string::npos) << bad_key;
  auto bad_yaml = eval_modules({{"a.rego", "# METADATA\n# title: [unclosed\npackage a\n"}}, "data.a");
  EXPECT_NE(bad_yaml.find("invalid METADATA block"), std::string::npos) << bad_yaml;
}

TEST(RegoMetadata, OutsideARuleTheCallIsAnError) {
  auto p = Policy::compile({{"a.rego", "package a\n"}});
  ASSERT_TRUE(p.has_value());
  EvalOptions strict;
  strict.strict_builtin_errors = true;
  auto r = (*p)->eval("x := rego.metadata.chain()", strict);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("only available inside a rule"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace cloister::rego
