#!/usr/bin/env bash
# The end-to-end demo (`make demo`). Every step checks its own outcome: the script exits non-zero
# as soon as anything misbehaves, so the demo doubles as a smoke test.
# Usage: scripts/demo.sh [BUILD_DIR]
#
# Sections run in order; later components add theirs (a function demo_<name> plus an entry in
# `sections` at the bottom).
set -euo pipefail

build_dir=${1:-build}
cloister="$build_dir/bin/cloister"
if [ ! -x "$cloister" ]; then
  echo "demo: $cloister not found (build first: make build)" >&2
  exit 2
fi
cloister=$(cd "$(dirname "$cloister")" && pwd)/cloister

work=$(mktemp -d "${TMPDIR:-/tmp}/cloister-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT

step=0
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
info() { printf '   %s\n' "$*"; }
ok() { step=$((step + 1)); printf '   [ok %d] %s\n' "$step" "$*"; }
fail() { printf '   [FAIL] %s\n' "$*" >&2; exit 1; }

# Runs a command expecting exit status $1; its output is kept in $out for the caller.
expect_exit() {
  local want=$1; shift
  set +e
  out=$("$@" 2>&1)
  local got=$?
  set -e
  if [ "$got" -ne "$want" ]; then
    printf '%s\n' "$out" >&2
    fail "expected exit $want, got $got: $*"
  fi
}

field() { printf '%s\n' "$out" | sed -n "s/^$1:[[:space:]]*//p" | head -n1; }

flip_byte() {  # file offset
  local file=$1 offset=$2 byte
  byte=$(od -An -tu1 -j "$offset" -N1 "$file" | tr -d ' ')
  printf "$(printf '\\%03o' $(( (byte ^ 0x5a) & 0xff )))" | dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

veritysetup_bin() {
  for v in "$(command -v veritysetup 2>/dev/null || true)" /usr/sbin/veritysetup /sbin/veritysetup; do
    [ -n "$v" ] && [ -x "$v" ] && { echo "$v"; return; }
  done
}

demo_verity() {
  say "dm-verity: an OCI layer becomes a verified layer"
  local root="$work/rootfs" zeros
  zeros=$(printf '0%.0s' $(seq 64))
  mkdir -p "$root/etc" "$root/usr/bin" "$root/usr/share/demo" "$root/var/empty"
  printf 'ID=cloister\nNAME="cloister demo"\n' > "$root/etc/os-release"
  printf '#!/bin/sh\necho hello from a verified layer\n' > "$root/usr/bin/hello"
  chmod 755 "$root/usr/bin/hello"
  head -c $((3 * 1024 * 1024 + 777)) /dev/urandom > "$root/usr/share/demo/payload.bin"
  ln -s ../usr/bin/hello "$root/etc/hello-link"
  info "file tree: $(find "$root" | wc -l) paths, $(du -sh "$root" | cut -f1) under $root"

  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$work/layer.tar" .
  gzip -n -c "$work/layer.tar" > "$work/layer.tar.gz"
  ok "OCI layer: layer.tar ($(stat -c %s "$work/layer.tar") bytes), layer.tar.gz ($(stat -c %s "$work/layer.tar.gz") bytes)"

  expect_exit 0 "$cloister" verity layer --output "$work/layer.verified.tar" "$work/layer.tar.gz"
  printf '%s\n' "$out" | sed 's/^/     /'
  local root_hash
  root_hash=$(field "Root hash")
  [ ${#root_hash} -eq 64 ] || fail "no root hash in the output"
  ok "verified layer written; root hash (what a policy pins): $root_hash"

  expect_exit 0 "$cloister" verity layer --output "$work/plain.verified.tar" "$work/layer.tar"
  [ "$(field "Root hash")" = "$root_hash" ] || fail "plain tar and gzip tar give different root hashes"
  ok "the plain tar gives the same root hash as the gzip layer"

  local data="$work/layer.verified.tar" tree="$work/layer.verified.tar.hashtree"
  expect_exit 0 "$cloister" verity verify --no-superblock --salt "$zeros" "$data" "$tree" "$root_hash"
  ok "cloister verity verify: intact ($out)"

  local vs
  vs=$(veritysetup_bin)
  if [ -n "$vs" ]; then
    expect_exit 0 "$vs" verify --no-superblock --salt "$zeros" "$data" "$tree" "$root_hash"
    expect_exit 0 "$vs" format --no-superblock --salt "$zeros" "$data" "$work/vs.hashtree"
    [ "$(field "Root hash")" = "$root_hash" ] || fail "veritysetup computes a different root hash"
    cmp -s "$tree" "$work/vs.hashtree" || fail "veritysetup's hash tree differs from ours"
    ok "veritysetup ($vs) accepts the layer and builds the identical tree"
  else
    info "veritysetup not installed: cross-check skipped"
  fi

  local offset=$(( 700 * 1024 + 123 ))
  flip_byte "$data" "$offset"
  expect_exit 1 "$cloister" verity verify --no-superblock --salt "$zeros" "$data" "$tree" "$root_hash"
  printf '%s\n' "$out" | grep -q "data block $((offset / 4096)) " || fail "wrong block reported: $out"
  ok "flipped byte $offset of the verified tar: caught at data block $((offset / 4096)): $out"
  flip_byte "$data" "$offset"

  flip_byte "$tree" 4200
  expect_exit 1 "$cloister" verity verify --no-superblock --salt "$zeros" "$data" "$tree" "$root_hash"
  printf '%s\n' "$out" | grep -q "hash block 1 " || fail "wrong hash block reported: $out"
  ok "flipped byte 4200 of the hash tree: caught at hash block 1: $out"
  flip_byte "$tree" 4200

  head -c $(( $(stat -c %s "$work/layer.tar.gz") / 2 )) "$work/layer.tar.gz" > "$work/broken.tar.gz"
  expect_exit 2 "$cloister" verity layer --output "$work/broken.verified.tar" "$work/broken.tar.gz"
  [ ! -e "$work/broken.verified.tar" ] && [ ! -e "$work/broken.verified.tar.hashtree" ] || fail "partial output left behind"
  ok "a truncated layer is rejected with nothing written: $out"
}

sections=(demo_verity)
for s in "${sections[@]}"; do "$s"; done
say "demo complete: $step checks passed"
