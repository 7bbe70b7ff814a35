package t
import future.keywords.every
p { every x in [1, 2] { x > 0 } }
q { every k, v in {"a": 1} { k == "a"; v == 1 } }
r { 2 in [1, 2] }
s {
	every x, y in {"foo": "bar"} { is_string(x) }
}
