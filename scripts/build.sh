#!/usr/bin/env bash
# Configures and builds signoff with Ninja and ccache.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DSIGNOFF_WERROR="$werror" "$@" >/dev/null
# Beast-free so far, but keep memory in check on 2-core machines.
ninja -C "$dir" -j "${JOBS:-2}"
