package t
g(2)
x if{ g(1)}x if{data with input as 3}