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
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

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

# The shared test vectors (real AMD reports, OVMF fixtures) live beside the repository.
shared_testdata() {
  local d
  d=${CLOISTER_SHARED_TESTDATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/testdata}
  [ -d "$d" ] && (cd "$d" && pwd)
}

sha256_hex() { sha256sum "$1" | cut -d' ' -f1; }

demo_rego() {
  say "Rego: the agent's policy decides every request (deny by default)"
  # A Kata-style agent policy: rules per agent API request, the pod's allowed containers in
  # policy_data. Its SHA-256 is what the host binds into the TEE as HOST_DATA (next section).
  cat > "$work/policy.rego" <<'EOF'
package agent_policy

import rego.v1

policy_data := {"containers": [{
  "image": "registry.example/nginx@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac",
  "args": ["nginx", "-g", "daemon off;"],
  "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  "env_regex": ["^HOSTNAME=[a-z0-9-]{1,63}$", "^KUBERNETES_[A-Z_]+=[0-9.:a-z/]*$"],
}]}

default CreateContainerRequest := false

CreateContainerRequest if {
  some c in policy_data.containers
  input.image == c.image
  input.process.args == c.args
  every e in input.process.env {
    allowed_env(c, e)
  }
}

allowed_env(c, e) if e in c.env

allowed_env(c, e) if {
  some pattern in c.env_regex
  regex.match(pattern, e)
}

default ExecProcessRequest := false
EOF
  local image='registry.example/nginx@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac'
  cat > "$work/create-ok.json" <<EOF
{"image": "$image", "process": {"args": ["nginx", "-g", "daemon off;"],
 "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web-7f9c", "KUBERNETES_SERVICE_HOST=10.0.0.1"]}}
EOF
  sed 's|"HOSTNAME=web-7f9c"|"LD_PRELOAD=/tmp/evil.so"|' "$work/create-ok.json" > "$work/create-env.json"
  sed 's|"daemon off;"\]|"daemon off;", "-c", "/tmp/evil.conf"]|' "$work/create-ok.json" > "$work/create-args.json"
  info "policy.rego: $(stat -c %s "$work/policy.rego") bytes, sha256 $(sha256_hex "$work/policy.rego")"

  expect_exit 0 "$cloister" rego check "$work/policy.rego"
  ok "cloister rego check: the policy parses and compiles"

  expect_exit 0 "$cloister" rego eval -d "$work/policy.rego" -i "$work/create-ok.json" data.agent_policy.CreateContainerRequest
  [ "$out" = "true" ] || fail "the pod's own container was not allowed: $out"
  ok "CreateContainer of the pod's nginx container: $out"

  expect_exit 0 "$cloister" rego eval -d "$work/policy.rego" -i "$work/create-env.json" data.agent_policy.CreateContainerRequest
  [ "$out" = "false" ] || fail "an injected LD_PRELOAD was allowed: $out"
  ok "the same request with an injected LD_PRELOAD env var: $out"

  expect_exit 0 "$cloister" rego eval -d "$work/policy.rego" -i "$work/create-args.json" data.agent_policy.CreateContainerRequest
  [ "$out" = "false" ] || fail "changed arguments were allowed: $out"
  ok "the same request with extra command-line arguments: $out"

  expect_exit 0 "$cloister" rego eval -d "$work/policy.rego" -i "$work/create-ok.json" data.agent_policy.ExecProcessRequest
  [ "$out" = "false" ] || fail "exec was allowed: $out"
  ok "ExecProcess (not allowed by this policy): $out"

  printf 'package leaky\n\nimport rego.v1\n\nallow if http.send({"method": "get", "url": "http://attacker.example"}).status_code == 200\n' > "$work/leaky.rego"
  expect_exit 1 "$cloister" rego check "$work/leaky.rego"
  printf '%s\n' "$out" | grep -q "unsupported builtin http.send" || fail "no clear error for http.send: $out"
  ok "a policy that calls out to the network is refused: $out"
}

demo_attest() {
  say "SEV-SNP attestation: real AMD evidence, and the simulated firmware binding the policy"
  local td
  td=$(shared_testdata) || true
  if [ -n "$td" ] && [ -f "$td/snp/virtee-sev/report_milan.bin" ]; then
    expect_exit 0 "$cloister" attest verify "$td/snp/virtee-sev/report_milan.bin" --vcek "$td/snp/virtee-sev/vcek_milan.der" \
      --expect-measurement 7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f
    ok "a real Milan report verifies against the built-in AMD roots (ARK -> ASK -> VCEK)"
    cp "$td/snp/virtee-sev/report_milan.bin" "$work/milan.bin"
    flip_byte "$work/milan.bin" $((0x90))
    expect_exit 1 "$cloister" attest verify "$work/milan.bin" --vcek "$td/snp/virtee-sev/vcek_milan.der"
    ok "the same report with one measurement byte changed is rejected: $out"
  else
    info "../shared/testdata not found: real-report check skipped"
  fi

  local state="$work/sim" sock="$work/sim.sock" host_data nonce ovmf
  host_data=$(sha256_hex "$work/policy.rego")
  nonce=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  expect_exit 0 "$cloister" attest sim init --state "$state" --product genoa
  ok "simulated SNP firmware (INSECURE, for machines without SEV): sim ARK/ASK/VCEK in $state"

  # What the host launches: firmware, kernel, initrd, command line. The simulator measures them
  # exactly as the PSP would (same code as `cloister attest measure`).
  ovmf="$td/snp-measure/ovmf_AmdSev_suffix.bin"
  if [ -z "$td" ] || [ ! -f "$ovmf" ]; then
    info "no OVMF fixture (../shared/testdata/snp-measure): sim launch skipped"
    return 0
  fi
  printf 'demo kernel image\n' > "$work/vmlinuz"
  printf 'demo initrd\n' > "$work/initrd.img"
  local launch=(--ovmf "$ovmf" --vcpus 2 --vcpu-type EPYC-v4 --kernel "$work/vmlinuz" --initrd "$work/initrd.img"
    --append "console=hvc0 agent.policy_hash=$host_data")
  expect_exit 0 "$cloister" attest measure --mode snp "${launch[@]}"
  local measurement=$out
  ok "expected launch measurement: $measurement"

  "$cloister" attest sim serve --state "$state" --socket "$sock" "${launch[@]}" --host-data "$host_data" \
    > "$work/serve.log" 2>&1 &
  local serve_pid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  [ -S "$sock" ] || { cat "$work/serve.log" >&2; fail "sim serve did not start"; }
  ok "sandbox launched: HOST_DATA = sha256(policy.rego) = $host_data"

  expect_exit 0 "$cloister" attest sim report --socket "$sock" --report-data "$nonce" --out "$work/sim-report.bin" \
    --evidence "$work/sim-evidence.json"
  ok "the guest asked for a report bound to the verifier's nonce"

  expect_exit 0 "$cloister" attest verify --evidence "$work/sim-evidence.json" --trust-sim-root "$state" \
    --expect-measurement "$measurement" --expect-host-data "$host_data" --expect-report-data "$nonce"
  printf '%s\n' "$out" | grep -q '"tee": *"snp-sim"' || fail "claims do not say snp-sim: $out"
  ok "verifier accepts: measurement, policy hash and nonce match (tee snp-sim)"

  expect_exit 1 "$cloister" attest verify --evidence "$work/sim-evidence.json" \
    --expect-measurement "$measurement" --expect-host-data "$host_data"
  ok "without --trust-sim-root the simulator's chain is not trusted: $out"

  printf '\n# edited by the host\n' >> "$work/policy.rego"
  expect_exit 1 "$cloister" attest verify --evidence "$work/sim-evidence.json" --trust-sim-root "$state" \
    --expect-measurement "$measurement" --expect-host-data "$(sha256_hex "$work/policy.rego")"
  ok "a verifier expecting a different policy's hash rejects: $out"

  kill "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
}

sections=(demo_verity demo_rego demo_attest)
for s in "${sections[@]}"; do "$s"; done
say "demo complete: $step checks passed"
