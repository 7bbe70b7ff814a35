#!/usr/bin/env bash
# Installs the Debian 12 packages cloister needs to build, test and run its demo.
# Idempotent and non-interactive: it only calls apt when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev
  libssl-dev libgmp-dev zlib1g-dev
  libexpected-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libre2-dev
  libarchive-dev libsqlite3-dev libcurl4-openssl-dev libcpp-httplib-dev
  libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev
  cryptsetup-bin openssl
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
