// A second Kata-shaped workload, written the way genpolicy's own rules are (measured on the real
// rules in session 14, docs/performance.md): the policy data is a rule of the policy
// (`policy_data := {...}`), not base data; request rules return an object with state operations;
// helper functions compute values and have `else` chains (`strip_prefix`), so they run in the
// general evaluator; capability sets are compared as set comprehensions; environment variables
// fall back to a list of patterns assembled with `replace` from the policy data; each input mount
// is matched by a function called in a comprehension, which loops over the template's mounts.
// kata_policy.h exercises the compiled test path; this one the paths around it.
#pragma once

#include <string>

#include "kata_policy.h"

namespace cloister::rego::bench {

inline KataWorkload make_rules_style_workload() {
  KataWorkload w;
  std::string& p = w.policy;
  p += R"REGO(package agent_policy

import rego.v1

default CreateContainerRequest := {"allowed": false}

CreateContainerRequest := {"ops": ops, "allowed": true} if {
	i_oci := input.OCI
	some idx, p_container in policy_data.containers
	p_container.name == input.name
	p_oci := p_container.OCI
	p_oci.Version == i_oci.Version
	allow_annotations(p_oci, i_oci)
	allow_process(p_oci.Process, i_oci.Process, i_oci.Annotations["io.kubernetes.cri.sandbox-name"])
	allow_mounts(p_oci, i_oci)
	ops := state_ops(input.container_id, idx)
}

state_ops(id, idx) := [{"op": "add", "path": concat("/", ["", "pstate", id]), "value": idx}]

allow_annotations(p_oci, i_oci) if {
	every k, v in i_oci.Annotations {
		allow_annotation(p_oci, k, v)
	}
}

allow_annotation(p_oci, k, v) if p_oci.Annotations[k] == v

allow_annotation(p_oci, k, v) if {
	pattern := p_oci.Annotations[k]
	startswith(pattern, "^")
	regex.match(pattern, v)
}

allow_annotation(_, k, _) if {
	some prefix in policy_data.common.ignored_annotation_prefixes
	startswith(k, prefix)
}

allow_process(p_process, i_process, s_name) if {
	p_process.Cwd == i_process.Cwd
	p_process.NoNewPrivileges == i_process.NoNewPrivileges
	allow_user(p_process.User, i_process.User)
	allow_args(p_process.Args, i_process.Args)
	allow_env(p_process.Env, i_process.Env, s_name)
	allow_caps(p_process.Capabilities, i_process.Capabilities)
}

allow_user(p_user, i_user) if {
	p_user.UID == i_user.UID
	p_user.GID == i_user.GID
	{g | some g in p_user.AdditionalGids} == {g | some g in i_user.AdditionalGids}
}

allow_args(p_args, i_args) if {
	count(p_args) == count(i_args)
	every i, a in i_args {
		allow_arg(p_args[i], a)
	}
}

allow_arg(p_arg, i_arg) if p_arg == i_arg

allow_arg(p_arg, i_arg) if {
	startswith(p_arg, "^")
	regex.match(p_arg, i_arg)
}

allow_env(p_env, i_env, s_name) if {
	every i_var in i_env {
		allow_var(p_env, i_var, s_name)
	}
}

allow_var(p_env, i_var, _) if {
	some p_var in p_env
	p_var == i_var
}

allow_var(p_env, i_var, s_name) if {
	some p_var in p_env
	p_parts := split(p_var, "=")
	count(p_parts) == 2
	p_parts[1] == "$(sandbox-name)"
	i_parts := split(i_var, "=")
	count(i_parts) == 2
	i_parts[0] == p_parts[0]
	i_parts[1] == s_name
}

allow_var(_, i_var, _) if {
	some p_regex1 in policy_data.request_defaults.CreateContainerRequest.allow_env_regex
	p_regex2 := replace(p_regex1, "$(ipv4_a)", policy_data.common.ipv4_a)
	p_regex3 := replace(p_regex2, "$(ip_p)", policy_data.common.ip_p)
	p_regex4 := replace(p_regex3, "$(svc_name)", policy_data.common.svc_name)
	regex.match(p_regex4, i_var)
}

allow_caps(p_caps, i_caps) if {
	every set_name in ["Ambient", "Bounding", "Effective", "Inheritable", "Permitted"] {
		match_caps(object.get(p_caps, set_name, []), object.get(i_caps, set_name, []))
	}
}

match_caps(p_caps, i_caps) if {
	{strip_prefix(c) | some c in p_caps} == {strip_prefix(c) | some c in i_caps}
}

match_caps(p_caps, i_caps) if {
	p_caps == ["$(default_caps)"]
	{strip_prefix(c) | some c in policy_data.common.default_caps} == {strip_prefix(c) | some c in i_caps}
}

strip_prefix(cap) := name if {
	startswith(cap, "CAP_")
	name := substring(cap, 4, -1)
} else := cap

allow_mounts(p_oci, i_oci) if {
	p_matches := {p_index | some i_mount in i_oci.Mounts; p_index := allow_mount(p_oci, i_mount)}
	count(p_matches) == count(i_oci.Mounts)
}

allow_mount(p_oci, i_mount) := p_index if {
	some p_index, p_mount in p_oci.Mounts
	check_mount(p_mount, i_mount)
}

check_mount(p_mount, i_mount) if p_mount == i_mount

check_mount(p_mount, i_mount) if {
	p_mount.destination == i_mount.destination
	p_mount.type == i_mount.type
	p_mount.options == i_mount.options
	mount_source_allows(p_mount.source, i_mount.source)
}

mount_source_allows(p_source, i_source) if {
	pattern := concat("", ["^", replace(p_source, "$(bundle-id)", "[a-z0-9]{64}"), "$"])
	regex.match(pattern, i_source)
}

)REGO";

  // policy_data, appended as genpolicy appends it: a constant rule of the policy.
  const char* caps[] = {"CAP_CHOWN",    "CAP_DAC_OVERRIDE", "CAP_FSETID",  "CAP_FOWNER",          "CAP_MKNOD",
                        "CAP_NET_RAW",  "CAP_SETGID",       "CAP_SETUID",  "CAP_SETFCAP",         "CAP_SETPCAP",
                        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};
  auto cap_list = [&] {
    std::string s = "[";
    for (std::size_t i = 0; i < std::size(caps); ++i) {
      if (i) s += ",";
      s += quote(caps[i]);
    }
    return s + "]";
  };
  constexpr int kMounts = 12;
  auto mounts = [&](bool policy) {
    std::string s = "[";
    for (int m = 0; m < kMounts; ++m) {
      if (m) s += ",";
      std::string src = m % 3 == 0 ? (policy ? "/run/kata-containers/shared/containers/$(bundle-id)-vol" + std::to_string(m)
                                             : "/run/kata-containers/shared/containers/" + std::string(64, 'c') + "-vol" +
                                                   std::to_string(m))
                                   : "/run/kata-containers/shared/containers/vol" + std::to_string(m);
      s += "{\"destination\":" + quote("/mnt/data" + std::to_string(m)) + ",\"type\":\"bind\",\"source\":" + quote(src) +
           ",\"options\":[\"rbind\",\"rprivate\",\"ro\"]}";
    }
    return s + "]";
  };
  auto container = [&](int c) {
    return "{\"name\":" + quote("container-" + std::to_string(c)) +
           ",\"OCI\":{\"Version\":\"1.1.0\",\"Annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
           "\"io.kubernetes.cri.sandbox-id\":\"^[a-z0-9]{64}$\",\"io.kubernetes.cri.sandbox-name\":\"^pod-[a-z0-9]+$\"},"
           "\"Process\":{\"Cwd\":\"/\",\"NoNewPrivileges\":false,\"User\":{\"UID\":0,\"GID\":0,\"AdditionalGids\":[0]},"
           "\"Args\":[\"/app/server\",\"--port\",\"^[0-9]+$\"],"
           "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"HOSTNAME=$(sandbox-name)\","
           "\"APP_MODE=production\"],"
           "\"Capabilities\":{\"Ambient\":[],\"Bounding\":[\"$(default_caps)\"],\"Effective\":[\"$(default_caps)\"],"
           "\"Inheritable\":[],\"Permitted\":[\"$(default_caps)\"]}},\"Mounts\":" +
           mounts(true) + "}}";
  };
  p += "policy_data := {\"containers\": [";
  constexpr int kContainers = 8;
  for (int c = 0; c < kContainers; ++c) {
    if (c) p += ",";
    p += container(c);
  }
  p += "], \"common\": {\"default_caps\": " + cap_list() +
       ", \"ignored_annotation_prefixes\": [\"io.katacontainers.pkg.\", \"io.kubernetes.cri.sandbox-log\"]"
       ", \"ipv4_a\": \"[0-9]{1,3}(\\\\.[0-9]{1,3}){3}\", \"ip_p\": \"[0-9]{1,5}\", \"svc_name\": \"[A-Z0-9_]+\"}"
       ", \"request_defaults\": {\"CreateContainerRequest\": {\"allow_env_regex\": ["
       "\"^$(svc_name)_PORT_$(ip_p)_TCP=tcp://$(ipv4_a):$(ip_p)$\", \"^$(svc_name)_PORT_$(ip_p)_TCP_PROTO=tcp$\","
       "\"^$(svc_name)_PORT_$(ip_p)_TCP_PORT=$(ip_p)$\", \"^$(svc_name)_PORT_$(ip_p)_TCP_ADDR=$(ipv4_a)$\","
       "\"^$(svc_name)_SERVICE_HOST=$(ipv4_a)$\", \"^$(svc_name)_SERVICE_PORT=$(ip_p)$\","
       "\"^$(svc_name)_PORT=tcp://$(ipv4_a):$(ip_p)$\", \"^TERM=xterm$\"]}}}\n";

  w.data = "{}";
  // The request: container-5 of a pod, as the runtime sends it (about 5 KB).
  std::string caps_in = cap_list();
  w.input = "{\"name\":\"container-5\",\"container_id\":" + quote(std::string(64, 'd')) +
            ",\"OCI\":{\"Version\":\"1.1.0\",\"Annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
            "\"io.kubernetes.cri.sandbox-id\":" + quote(std::string(64, 'b')) +
            ",\"io.kubernetes.cri.sandbox-name\":\"pod-5\",\"io.kubernetes.cri.sandbox-log-directory\":\"/var/log/pods/x\","
            "\"io.katacontainers.pkg.oci.bundle_path\":\"/run/containerd/k8s.io/x\"},"
            "\"Process\":{\"Cwd\":\"/\",\"NoNewPrivileges\":false,\"User\":{\"UID\":0,\"GID\":0,\"AdditionalGids\":[0]},"
            "\"Args\":[\"/app/server\",\"--port\",\"8080\"],"
            "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"HOSTNAME=pod-5\","
            "\"APP_MODE=production\",\"KUBERNETES_PORT_443_TCP_PROTO=tcp\",\"KUBERNETES_PORT_443_TCP_PORT=443\","
            "\"KUBERNETES_PORT_443_TCP_ADDR=10.0.0.1\",\"KUBERNETES_SERVICE_HOST=10.0.0.1\","
            "\"KUBERNETES_SERVICE_PORT=443\",\"KUBERNETES_PORT=tcp://10.0.0.1:443\","
            "\"KUBERNETES_PORT_443_TCP=tcp://10.0.0.1:443\"],"
            "\"Capabilities\":{\"Ambient\":[],\"Bounding\":" + caps_in + ",\"Effective\":" + caps_in +
            ",\"Inheritable\":[],\"Permitted\":" + caps_in + "}},\"Mounts\":" + mounts(false) + "}}";
  return w;
}

}  // namespace cloister::rego::bench
