#!/usr/bin/env bash
# Installs dependencies, builds everything and runs the whole test suite.
# Usage: scripts/test.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dir="${1:-build}"
shift || true
bash scripts/build.sh "$dir" -DSIGNOFF_TESTS=ON -DSIGNOFF_BENCH=ON "$@"
ctest --test-dir "$dir" --output-on-failure -j 2 --timeout 300
