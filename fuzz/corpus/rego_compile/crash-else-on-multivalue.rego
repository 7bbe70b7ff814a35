package t.u

a.b[x] contains y if { some x in ["p", "eq"]; y := upper(x) }
else
a.c := 1

g(1) := "one"
g(2) 