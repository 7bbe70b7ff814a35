package j

xs := [{"n": sprintf("%d", [i]), "k": "a"} | some i in numbers.range(1, 20)]
hits := [x | some q in ["1", "5", "9"]; some x in xs; x.n == q; x.k == "a"]
pure := [x | some x in ["a1", "b2", "a3", "c4", "a5", "b6", "a7", "c8", "a9", "b10", "a11", "c12", "a13", "b14", "a15", "c16"]; startswith(x, "a")]
memo := [p | some e in ["x", "y", "x"]; p := concat("", ["^", e, "$"])]
f(x) := true if x == 1
g := [f(1), f(2)]
