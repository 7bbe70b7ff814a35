package t
import rego.v1
policy_data := {"caps": ["CAP_A", "B"], "mounts": [{"d": "/a", "t": "bind", "o": ["ro"]}, {"d": "/s", "t": "sysfs", "o": ["rw"]}]}
strip(s) := r if { startswith(s, "CAP_"); r := substring(s, 4, -1) } else := s
defaults := {strip(c) | c := policy_data.caps[_]}
same(p, i) if { p == i }
same(p, i) if { p.d == i.d; p.t == i.t; {x | some x in i.o} == {x | some x in p.o} | {"rw"} }
same(p, i) if { i.t == "sysfs"; p.d == i.d; count(i.o) == 1 }
pick(ps, i) := k if { some k, p in ps; same(p, i) }
picks := {k | some i in [{"d": "/a", "t": "bind", "o": ["ro"]}, {"d": "/s", "t": "sysfs", "o": ["ro"]}, {"d": "/x"}]; k := pick(policy_data.mounts, i)}
keyed := [k | some k, m in policy_data.mounts; m.d == "/s"]
default loose(_, _) := true
loose(p, i) if { p.d == i.d }
all_loose := [k | some k, p in policy_data.mounts; loose(p, {"d": "/a"})]
norms := [n | some xs in [["CAP_A"], ["CAP_A"], [1]]; n := {y | some c in xs; y := strip(c)}]
