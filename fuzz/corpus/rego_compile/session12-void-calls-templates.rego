package t

import rego.v1

# print is a statement, never a value (checkVoidCalls); template expressions carry file positions.
p if {
	print("a", input.x)
	every x in [1] { print(x) }
	[1 | print(2)]
}

q := $`line one
  {input.y} and {count([1, 2])}
  {$"{1 + 2}"}`

r := cast_array({1}) if false

s := print(1)

t := $"v={print(1)}"

u := $`a
{-x}`

trace_ok if trace("note")
