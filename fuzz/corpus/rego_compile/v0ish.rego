package t
import future.keywords.in
import data.other as o
p[x] { x := o.v }
