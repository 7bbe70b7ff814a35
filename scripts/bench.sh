#!/usr/bin/env bash
# Runs every benchmark binary that exists in BUILD_DIR/bin (areas not built are skipped).
# Usage: scripts/bench.sh [BUILD_DIR]   (make bench)
set -euo pipefail

build_dir=${1:-build}
bin="$build_dir/bin"
if [ ! -d "$bin" ]; then
  echo "bench: no $bin (build first: make build)" >&2
  exit 2
fi

# Known benchmark binaries, one per area; add new ones here.
benchmarks=(
  verity_bench
  rego_bench
  attest_bench
  snp_measure_bench
)

ran=0
failed=0
for name in "${benchmarks[@]}"; do
  exe="$bin/$name"
  if [ ! -x "$exe" ]; then
    echo "== $name: not built, skipped"
    continue
  fi
  echo "== $name"
  if "$exe"; then
    ran=$((ran + 1))
  else
    echo "bench: $name failed" >&2
    failed=$((failed + 1))
  fi
done

# Benchmarks added since this list was written still run.
for exe in "$bin"/*_bench; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  case " ${benchmarks[*]} " in *" $name "*) continue ;; esac
  echo "== $name"
  if "$exe"; then ran=$((ran + 1)); else echo "bench: $name failed" >&2; failed=$((failed + 1)); fi
done

echo "== $ran benchmark(s) ran, $failed failed"
[ "$failed" -eq 0 ]
