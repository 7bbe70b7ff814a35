package t

p if { some x in ["a"]; eq(x) }
