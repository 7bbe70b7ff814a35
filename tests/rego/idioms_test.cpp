// Policies written the way people write them (Kubernetes admission, Envoy authorization, a
// Kata-genpolicy-style v0 agent policy): they must compile and answer, whatever compile checks
// the engine gains. They guard the checks that follow OPA's compiler against refusing more than
// OPA does.
#include <string>

#include <gtest/gtest.h>

#include "cloister/rego/rego.h"
#include "rules_style_policy.h"

namespace cloister::rego {
namespace {

constexpr const char* kAdmission = R"(package kubernetes.admission

import rego.v1
import data.lib.helpers as h

default allow := false

deny contains msg if {
	input.request.kind.kind == "Pod"
	some container in input.request.object.spec.containers
	not startswith(container.image, "registry.example/")
	msg := sprintf("image %v is not from the trusted registry", [container.image])
}

deny contains msg if {
	some i
	container := input.request.object.spec.containers[i]
	not container.securityContext.runAsNonRoot
	msg := sprintf("container %d must run as non-root", [i])
}

allow if count(deny) == 0

labels := {k: v | some k, v in input.request.object.metadata.labels; not startswith(k, "internal.")}

missing_labels contains l if {
	some l in h.required_labels
	not labels[l]
}

port_ok(p) if p.containerPort > 1024

port_ok(p) if p.containerPort == 443

all_ports_ok if {
	every c in input.request.object.spec.containers {
		every p in object.get(c, "ports", []) {
			port_ok(p)
		}
	}
}

severity(msg) := "high" if contains(msg, "root")
else := "low"

summary := {"allowed": allow, "violations": [{"msg": m, "severity": severity(m)} | some m in deny]}
)";

constexpr const char* kHelpers = R"(package lib.helpers

import rego.v1

required_labels := {"app", "owner"}

first_or(xs, d) := xs[0] if count(xs) > 0
else := d
)";

constexpr const char* kEnvoy = R"(package envoy.authz

import rego.v1

default allow := false

token := {"valid": valid, "payload": payload} if {
	[_, encoded] := split(input.attributes.request.http.headers.authorization, " ")
	[valid, _, payload] := io.jwt.decode_verify(encoded, {"secret": "secret"})
}

allow if {
	token.valid
	action_allowed
}

action_allowed if {
	input.attributes.request.http.method == "GET"
	glob.match("/people/*", ["/"], input.attributes.request.http.path)
}

routes[method] := ps if {
	some method in {"GET", "POST"}
	ps := [p | some p in data.routes[method]]
}
)";

constexpr const char* kKataV0 = R"(package agent_policy

import future.keywords.in
import future.keywords.every

default CreateContainerRequest := {"ops": [], "allowed": false}

CreateContainerRequest := {"ops": ops, "allowed": true} {
    print("CreateContainerRequest:", input.OCI)
    i_oci := input.OCI
    some p_container in policy_data.containers
    allow_anno(p_container, i_oci)
    ops := []
}

allow_anno(p, i) {
    every k, v in i.Annotations {
        allow_anno_key(p, k, v)
    }
}

allow_anno_key(p, k, v) {
    p.OCI.Annotations[k] == v
}

allow_anno_key(p, k, v) {
    some prefix in policy_data.common.ignored
    startswith(k, prefix)
}

deny[msg] {
    some c in input.containers
    not c.ok
    msg := c.name
}

policy_data := {
  "containers": [{"OCI": {"Annotations": {"a": "1"}}}],
  "common": {"ignored": ["io.k8s."]},
}
)";

std::string first_value(const std::shared_ptr<const Policy>& p, std::string_view query, std::string_view input) {
  EvalOptions o;
  o.input = *parse_json(input);
  auto r = p->eval(query, o);
  if (!r) return "error: " + r.error().message();
  return r->rows.empty() ? "undefined" : to_json(r->rows[0].value);
}

TEST(RegoIdioms, AdmissionAndAuthorizationPoliciesCompileAndAnswer) {
  auto p = Policy::compile({{"admission.rego", kAdmission}, {"helpers.rego", kHelpers}, {"envoy.rego", kEnvoy}},
                           *parse_json(R"({"routes": {"GET": ["/people"]}})"));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  const char* pod = R"({"request": {"kind": {"kind": "Pod"}, "object": {"metadata": {"labels": {"app": "x", "internal.y": "z"}},
      "spec": {"containers": [{"image": "evil/x", "ports": [{"containerPort": 80}]}]}}}})";
  EXPECT_EQ(first_value(*p, "data.kubernetes.admission.summary", pod),
            R"({"allowed":false,"violations":[{"msg":"container 0 must run as non-root","severity":"high"},)"
            R"({"msg":"image evil/x is not from the trusted registry","severity":"low"}]})");
  EXPECT_EQ(first_value(*p, "data.kubernetes.admission.missing_labels", pod), R"(["owner"])");
  EXPECT_EQ(first_value(*p, "data.kubernetes.admission.all_ports_ok", pod), "undefined");
  EXPECT_EQ(first_value(*p, "data.lib.helpers.first_or([], 7)", "{}"), "7");
  EXPECT_EQ(first_value(*p, "data.envoy.authz.routes", "{}"), R"({"GET":["/people"],"POST":[]})");
  EXPECT_EQ(first_value(*p, "data.envoy.authz.allow", "{}"), "false");
}

TEST(RegoIdioms, KataStyleV0AgentPolicyCompilesAndAnswers) {
  CompileOptions o;
  o.v0 = true;
  auto p = Policy::compile({{"kata.rego", kKataV0}}, Value(), o);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  const char* req = R"({"OCI": {"Annotations": {"a": "1", "io.k8s.x": "y"}}, "containers": [{"name": "c1", "ok": false}]})";
  EXPECT_EQ(first_value(*p, "data.agent_policy.CreateContainerRequest", req), R"({"allowed":true,"ops":[]})");
  EXPECT_EQ(first_value(*p, "data.agent_policy.deny", req), R"(["c1"])");
  const char* bad = R"({"OCI": {"Annotations": {"b": "2"}}})";
  EXPECT_EQ(first_value(*p, "data.agent_policy.CreateContainerRequest", bad), R"({"allowed":false,"ops":[]})");
}

// The benchmark workload written the way genpolicy writes its rules (bench/rego/
// rules_style_policy.h) decides as intended, so its timing measures a real decision: the request
// is allowed, with its state operation, and changing any checked field denies it. It answers the
// same with the compiled test path off, and with constant rules not folded.
TEST(RegoIdioms, RulesStyleWorkloadAllowsItsRequestAndNothingElse) {
  const auto w = bench::make_rules_style_workload();
  CompileOptions general;
  general.compile_tests = false;
  CompileOptions unfolded;  // references into policy_data walk the rule tree, as before session 14
  unfolded.fold_constant_rules = false;
  for (const CompileOptions& o : {CompileOptions{}, general, unfolded}) {
    auto p = Policy::compile({{"rules.rego", w.policy}}, *parse_json(w.data), o);
    ASSERT_TRUE(p.has_value()) << p.error().message();
    auto decide = [&](const std::string& input) {
      EvalOptions eo;
      eo.input = *parse_json(input);
      auto r = (*p)->eval("data.agent_policy.CreateContainerRequest", eo);
      EXPECT_TRUE(r.has_value()) << r.error().message();
      return r && !r->rows.empty() ? to_json(r->rows[0].value) : std::string("undefined");
    };
    EXPECT_EQ(decide(w.input), R"({"allowed":true,"ops":[{"op":"add","path":"/pstate/)" + std::string(64, 'd') +
                                   R"(","value":5}]})");
    const std::pair<const char*, const char*> changes[] = {
        {"APP_MODE=production", "APP_MODE=debug"},          // an environment variable
        {"\"CAP_AUDIT_WRITE\"]", "\"CAP_SYS_ADMIN\"]"},     // a capability
        {"vol4\"", "volX\""},                               // a mount source
        {"\"8080\"", "\"80a\""},                            // an argument matched by pattern
        {"\"pod-5\"", "\"Pod-5\""},                         // the sandbox name
        {"\"AdditionalGids\":[0]", "\"AdditionalGids\":[1]"}  // the groups, compared as sets
    };
    for (const auto& [from, to] : changes) {
      std::string input = w.input;
      const auto at = input.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      input.replace(at, std::string_view(from).size(), to);
      EXPECT_EQ(decide(input), R"({"allowed":false})") << from << " -> " << to;
    }
  }
}

}  // namespace
}  // namespace cloister::rego
