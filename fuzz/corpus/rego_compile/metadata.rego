# METADATA
# title: fuzz
# scope: subpackages
package f

# METADATA
# title: p
# authors:
# - A <a@b.c>
# related_resources:
# - https://x
p := rego.metadata.chain()

# METADATA
# scope: document
q := 1 if false

q := rego.metadata.rule()
