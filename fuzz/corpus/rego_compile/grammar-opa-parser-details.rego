package t

p := 1 if { false } { true } { 2 > 1 }

f(x) if { x == .5 } { x == -.5 }

q := [0, 0.5, 0e3, -0, .25e2]

r if f(.5)
