package t

default allow := false

allow if {
	input.user == "admin"
	some role in input.roles
	role in {"ops", "dev"}
}

names contains n if some n in ["a", "b"]

obj[k] := v if { some k, v in {"x": 1, "y": 2} }

f(x) := y if { y := x * 2 } else := 0

every_ok if every x in [1, 2, 3] { x > 0 }

c := [x | some x in numbers.range(1, 5); x % 2 == 0]

s := $"value {count(c)}"
