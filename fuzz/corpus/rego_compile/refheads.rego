package t.u

a.b[x] contains y if { some x in ["p", "q"]; y := upper(x) }

a.c := 1

g(1) := "one"
g(2) := "two"

w := x if { x := g(1) with input.z as 3 }
