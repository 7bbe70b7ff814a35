// A synthetic policy shaped like a Kata Containers genpolicy output: one large rule file (several
// hundred rules, functions with many bodies, every/some over container lists, regular expressions
// built at runtime from policy data) plus a policy_data document, and a CreateContainer-style
// request of tens of KB. Shared by the benchmark and the tests that check the bench still decides
// "allow".
#pragma once

#include <string>

namespace cloister::rego::bench {

struct KataWorkload {
  std::string policy;  // Rego v1 source
  std::string data;    // JSON: {"policy_data": {...}}
  std::string input;   // JSON: CreateContainerRequest
};

// Sizes of the request and of the matching policy_data container template. The default is the
// heavy case (the request of tens of KB the issue asks for); `typical()` is a common pod's container.
struct KataShape {
  int env = 100;
  int mounts = 60;
  int annotations = 50;
  int storages = 20;
  static KataShape typical() { return {10, 10, 10, 4}; }
};

// `s` as a JSON string (the workloads' texts need no escapes).
inline std::string quote(const std::string& s) { return "\"" + s + "\""; }

inline KataWorkload make_kata_workload(const KataShape& shape = {}) {
  KataWorkload w;
  std::string& p = w.policy;
  p += R"REGO(package agent_policy

import rego.v1

default CreateContainerRequest := false

CreateContainerRequest if {
	i_oci := input.OCI
	some p_container in data.policy_data.containers
	p_container.name == input.name
	allow_container(p_container, i_oci, input)
}

allow_container(p, i_oci, req) if {
	p.OCI.Version == i_oci.Version
	allow_annotations(p.OCI, i_oci)
	allow_process(p.OCI.Process, i_oci.Process)
	allow_mounts(p, i_oci)
	allow_linux(p.OCI.Linux, i_oci.Linux)
	allow_storages(p.storages, req.storages)
	allow_checks(p, i_oci)
}

allow_annotations(p_oci, i_oci) if {
	every k, v in i_oci.Annotations {
		allow_annotation(p_oci, k, v)
	}
}

allow_annotation(p_oci, k, v) if {
	p_oci.Annotations[k] == v
}

allow_annotation(_, k, _) if {
	some prefix in data.policy_data.common.ignored_annotation_prefixes
	startswith(k, prefix)
}

allow_annotation(_, k, v) if {
	pattern := data.policy_data.common.annotation_patterns[k]
	regex.match(pattern, v)
}

allow_process(p, i) if {
	p.Terminal == i.Terminal
	p.User.UID == i.User.UID
	p.User.GID == i.User.GID
	count(p.Args) == count(i.Args)
	every idx, a in i.Args {
		allow_arg(p.Args[idx], a)
	}
	every e in i.Env {
		allow_env(p.Env, e)
	}
	allow_caps(p.Capabilities, i.Capabilities)
	p.NoNewPrivileges == i.NoNewPrivileges
}

allow_arg(p_arg, i_arg) if p_arg == i_arg

allow_arg(p_arg, i_arg) if {
	startswith(p_arg, "^")
	regex.match(p_arg, i_arg)
}

allow_env(p_env, e) if e in p_env

allow_env(p_env, e) if {
	some pe in p_env
	contains(pe, "$(")
	pattern := concat("", ["^", replace(replace(pe, "$(sandbox-id)", "[a-z0-9]{64}"), "$(ip)", "[0-9.]+"), "$"])
	regex.match(pattern, e)
}

allow_env(_, e) if {
	some prefix in data.policy_data.common.allowed_env_prefixes
	startswith(e, prefix)
}

allow_caps(p, i) if {
	every set_name in ["Bounding", "Effective", "Permitted", "Inheritable", "Ambient"] {
		allow_cap_set(object.get(p, set_name, []), object.get(i, set_name, []))
	}
}

allow_cap_set(p_caps, i_caps) if {
	every c in i_caps {
		c in p_caps
	}
}

allow_mounts(p, i_oci) if {
	every m in i_oci.Mounts {
		allow_mount(p.OCI.Mounts, m)
	}
}

allow_mount(p_mounts, m) if {
	some pm in p_mounts
	pm.destination == m.destination
	pm.type == m.type
	allow_mount_source(pm, m)
	allow_mount_options(pm.options, m.options)
}

allow_mount_source(pm, m) if pm.source == m.source

allow_mount_source(pm, m) if {
	contains(pm.source, "$(")
	pattern := concat("", ["^", replace(pm.source, "$(sandbox-id)", "[a-z0-9]{64}"), "$"])
	regex.match(pattern, m.source)
}

allow_mount_options(p_opts, i_opts) if {
	every o in i_opts {
		o in p_opts
	}
}

allow_linux(p, i) if {
	every ns in i.Namespaces {
		allow_namespace(p.Namespaces, ns)
	}
	p.MaskedPaths == i.MaskedPaths
	p.ReadonlyPaths == i.ReadonlyPaths
}

allow_namespace(p_nss, ns) if {
	some p_ns in p_nss
	p_ns.type == ns.type
	p_ns.path == ns.path
}

allow_namespace(_, ns) if {
	ns.type == "network"
	startswith(ns.path, "/var/run/netns/")
}

allow_storages(p_storages, i_storages) if {
	count(i_storages) <= count(p_storages)
	every s in i_storages {
		allow_storage(p_storages, s)
	}
}

allow_storage(p_storages, s) if {
	some ps in p_storages
	ps.driver == s.driver
	ps.fstype == s.fstype
	ps.mount_point == s.mount_point
}

allow_storage(_, s) if {
	s.driver == "local"
	regex.match("^/run/kata-containers/shared/containers/[a-z0-9]+-[a-z0-9]+$", s.mount_point)
}

)REGO";
  // Many small checks and request rules, as genpolicy emits per field and per API call.
  constexpr int kChecks = 230;
  p += "allow_checks(p, i) if {\n";
  for (int c = 0; c < kChecks; ++c) p += "\tcheck_" + std::to_string(c) + "(p, i)\n";
  p += "}\n\n";
  for (int c = 0; c < kChecks; ++c) {
    std::string n = std::to_string(c);
    std::string field = "f" + std::to_string(c % 12);
    p += "check_" + n + "(p, i) if {\n\tnot i.Extra." + field + "\n}\n\n";
    p += "check_" + n + "(p, i) if {\n\tp.Extra." + field + " == i.Extra." + field + "\n}\n\n";
    p += "check_" + n + "(p, i) if {\n\tsome allowed in data.policy_data.common.extra_values." + field +
         "\n\tallowed == i.Extra." + field + "\n}\n\n";
  }
  const char* requests[] = {"ExecProcessRequest", "CopyFileRequest", "ReadStreamRequest", "WriteStreamRequest",
                            "UpdateRoutesRequest", "UpdateInterfaceRequest", "StartContainerRequest",
                            "RemoveContainerRequest", "SignalProcessRequest", "WaitProcessRequest",
                            "StatsContainerRequest", "PullImageRequest", "GuestDetailsRequest",
                            "CreateSandboxRequest", "AddARPNeighborsRequest", "CloseStdinRequest",
                            "TtyWinResizeRequest", "ListRoutesRequest", "ListInterfacesRequest",
                            "OnlineCPUMemRequest", "SetPolicyRequest", "PauseContainerRequest",
                            "ResumeContainerRequest", "GetOOMEventRequest", "MemHotplugByProbeRequest"};
  for (const char* r : requests) {
    std::string name = r;
    p += "default " + name + " := false\n\n";
    p += name + " if {\n\tdata.policy_data.request_defaults." + name + " == true\n}\n\n";
    p += name + " if {\n\tsome allowed in data.policy_data.request_rules." + name +
         "\n\tevery k, v in allowed {\n\t\tinput[k] == v\n\t}\n}\n\n";
  }

  // policy_data: containers with OCI templates.
  auto env_list = [&](int n, bool pattern) {
    std::string s = "[";
    for (int e = 0; e < n; ++e) {
      if (e) s += ",";
      if (pattern && e % 10 == 3) s += quote("HOST_IP_" + std::to_string(e) + "=$(ip)");
      else s += quote("VAR_" + std::to_string(e) + "=value-" + std::to_string(e));
    }
    return s + "]";
  };
  auto mounts = [&](int n, bool pattern) {
    std::string s = "[";
    for (int m = 0; m < n; ++m) {
      if (m) s += ",";
      std::string src = pattern && m % 5 == 0 ? "/run/kata-containers/shared/containers/$(sandbox-id)-vol" + std::to_string(m)
                                              : "/run/kata-containers/shared/containers/vol" + std::to_string(m);
      if (!pattern && m % 5 == 0) {
        src = "/run/kata-containers/shared/containers/" + std::string(64, 'a') + "-vol" + std::to_string(m);
      }
      s += "{\"destination\":" + quote("/mnt/data" + std::to_string(m)) + ",\"type\":\"bind\",\"source\":" + quote(src) +
           ",\"options\":[\"rbind\",\"rprivate\",\"ro\"]}";
    }
    return s + "]";
  };
  auto annotations = [&](int n) {
    std::string s = "{";
    for (int a = 0; a < n; ++a) {
      if (a) s += ",";
      s += quote("io.kubernetes.cri.annotation" + std::to_string(a)) + ":" + quote("value" + std::to_string(a));
    }
    return s + "}";
  };
  auto caps = std::string(
      R"({"Bounding":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"],"Effective":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"],"Permitted":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]})");
  auto namespaces = std::string(
      R"([{"type":"ipc","path":""},{"type":"uts","path":""},{"type":"mount","path":""},{"type":"pid","path":""},{"type":"network","path":"/var/run/netns/cni-1234"}])");
  auto masked = std::string(
      R"(["/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware"])");
  auto readonly = std::string(R"(["/proc/asound","/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"])");
  auto storages = [&](int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) {
      if (i) s += ",";
      s += "{\"driver\":\"blk\",\"fstype\":\"ext4\",\"mount_point\":" + quote("/run/kata-containers/sandbox/storage/" + std::to_string(i)) +
           ",\"options\":[\"ro\"]}";
    }
    return s + "]";
  };
  auto extra = [&](bool input_side) {
    std::string s = "{";
    for (int f = 0; f < 12; ++f) {
      if (f) s += ",";
      s += quote("f" + std::to_string(f)) + ":" + quote((input_side && f % 4 == 1 ? "alt" : "v") + std::to_string(f));
    }
    return s + "}";
  };
  constexpr int kContainers = 8;
  std::string& d = w.data;
  d = "{\"policy_data\":{\"containers\":[";
  for (int c = 0; c < kContainers; ++c) {
    if (c) d += ",";
    d += "{\"name\":" + quote("container-" + std::to_string(c)) + ",\"OCI\":{\"Version\":\"1.1.0\",\"Annotations\":" +
         annotations(shape.annotations) + ",\"Process\":{\"Terminal\":false,\"User\":{\"UID\":0,\"GID\":0},\"Args\":[\"/app/server\",\"--port\",\"^[0-9]+$\",\"--verbose\"],\"Env\":" +
         env_list(shape.env, true) + ",\"Capabilities\":" + caps + ",\"NoNewPrivileges\":false},\"Mounts\":" + mounts(shape.mounts, true) +
         ",\"Linux\":{\"Namespaces\":" + namespaces + ",\"MaskedPaths\":" + masked + ",\"ReadonlyPaths\":" + readonly +
         "}},\"storages\":" + storages(shape.storages) + ",\"Extra\":" + extra(false) + "}";
  }
  d += "],\"common\":{\"ignored_annotation_prefixes\":[\"io.katacontainers.pkg.\",\"io.kubernetes.cri.sandbox-\"],"
       "\"annotation_patterns\":{\"io.kubernetes.cri.sandbox-id\":\"^[a-z0-9]{64}$\"},"
       "\"allowed_env_prefixes\":[\"KUBERNETES_\",\"HOSTNAME=\"],\"extra_values\":{";
  for (int f = 0; f < 12; ++f) {
    if (f) d += ",";
    d += quote("f" + std::to_string(f)) + ":[" + quote("alt" + std::to_string(f)) + "]";
  }
  d += "}},\"request_defaults\":{\"ExecProcessRequest\":false,\"CopyFileRequest\":true},\"request_rules\":{}}}";

  // The request: container-5 with sandbox-specific values that only regexes admit.
  std::string& in = w.input;
  std::string env = "[";
  for (int e = 0; e < shape.env; ++e) {
    if (e) env += ",";
    if (e % 10 == 3) env += quote("HOST_IP_" + std::to_string(e) + "=10.0.0." + std::to_string(e));
    else env += quote("VAR_" + std::to_string(e) + "=value-" + std::to_string(e));
  }
  env += ",\"KUBERNETES_SERVICE_HOST=10.96.0.1\",\"KUBERNETES_SERVICE_PORT=443\",\"HOSTNAME=pod-5\"]";
  std::string ann = annotations(shape.annotations);
  ann.pop_back();
  ann += ",\"io.kubernetes.cri.sandbox-id\":" + quote(std::string(64, 'b')) +
         ",\"io.katacontainers.pkg.oci.bundle_path\":\"/run/containerd/io.containerd.runtime.v2.task/k8s.io/x\"}";
  in = "{\"name\":\"container-5\",\"container_id\":" + quote(std::string(64, 'c')) + ",\"OCI\":{\"Version\":\"1.1.0\",\"Annotations\":" +
       ann + ",\"Process\":{\"Terminal\":false,\"User\":{\"UID\":0,\"GID\":0},\"Args\":[\"/app/server\",\"--port\",\"8080\",\"--verbose\"],\"Env\":" +
       env + ",\"Capabilities\":" + caps + ",\"NoNewPrivileges\":false},\"Mounts\":" + mounts(shape.mounts, false) +
       ",\"Linux\":{\"Namespaces\":" + namespaces + ",\"MaskedPaths\":" + masked + ",\"ReadonlyPaths\":" + readonly +
       "},\"Extra\":" + extra(true) + "},\"storages\":" + storages(shape.storages) + "}";
  return w;
}

}  // namespace cloister::rego::bench
