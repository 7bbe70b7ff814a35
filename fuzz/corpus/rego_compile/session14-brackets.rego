package t

x := {1}
y := {2}
a := [x | y, 5]
b := [x - {10} | y]
c := {"k": x | y, "j": 1}
d if { 1 | 1 }
e := data.nope if { true } else := 2
f := v if {
	v = [t[i] | i := 1]
	t = [8, 4]
}
g if { [p] = [q | q := 1][_] }
h := z if {
	z := {1}
		| {2}
}
fruit["color.name"](f, c) := concat(" ", [c, f.name])
k := fruit["color.name"]({"name": "a"}, "b")
