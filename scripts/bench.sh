#!/usr/bin/env bash
# Runs every benchmark binary that exists in BUILD_DIR (areas not built are skipped).
# Usage: scripts/bench.sh [BUILD_DIR]   (make bench)
set -euo pipefail

build_dir=${1:-build}
if [ ! -d "$build_dir" ]; then
  echo "bench: no $build_dir (build first: make build)" >&2
  exit 2
fi

# Known benchmark binaries, one per area (add new ones here); each is looked for in
# BUILD_DIR/bench and BUILD_DIR/bin.
benchmarks=(
  bench_verity
  bench_rego
  bench_attest
  bench_snp_measure
)

find_bench() {
  for d in "$build_dir/bench" "$build_dir/bin"; do
    [ -x "$d/$1" ] && { echo "$d/$1"; return; }
  done
}

ran=0
failed=0
run() {  # name exe
  echo "== $1"
  if "$2"; then ran=$((ran + 1)); else echo "bench: $1 failed" >&2; failed=$((failed + 1)); fi
}

for name in "${benchmarks[@]}"; do
  exe=$(find_bench "$name")
  if [ -z "$exe" ]; then
    echo "== $name: not built, skipped"
    continue
  fi
  run "$name" "$exe"
done

# Benchmarks added since this list was written still run.
for exe in "$build_dir"/bench/bench_* "$build_dir"/bin/*_bench; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  case " ${benchmarks[*]} " in *" $name "*) continue ;; esac
  run "$name" "$exe"
done

echo "== $ran benchmark(s) ran, $failed failed"
[ "$failed" -eq 0 ]
