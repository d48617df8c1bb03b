#!/usr/bin/env bash
# Installs every Debian 12 package signoff needs to build, test and fuzz.
# Idempotent: packages already present are skipped by apt. Never installs
# libboost-all-dev / libboost-dev (1.74), which conflict with the 1.81 packages.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libssl-dev libsqlite3-dev sqlite3
  libspdlog-dev libfmt-dev libtomlplusplus-dev
  catch2
  clang libclang-rt-14-dev
  openssl
  python3 python3-cryptography   # tests: scripts/verify-inclusion.py, the independent verifier
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
