#!/usr/bin/env bash
# From a fresh Debian 12 machine to a running `signoff shell` on the example
# config with a local SQLite file (./signoff.db).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build -DSIGNOFF_TESTS=OFF -DSIGNOFF_BENCH=OFF
exec ./build/signoff shell --config config/signoff.example.toml --db "${SIGNOFF_DB:-./signoff.db}" "$@"
