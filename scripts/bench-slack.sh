#!/usr/bin/env bash
# Chat benchmark: signoff (every decision durable) through the fake Slack
# against a Bolt for JavaScript app that only acks, signoff through the fake
# Discord and the fake Mattermost, and one signoff process serving all three
# at once (tests/bench/slack_bench.cpp prints the table).
#
# Usage: scripts/bench-slack.sh [BUILD_DIR] [bench options...]
#   BUILD_DIR  default build-release (a Release build of its own, so a
#              RelWithDebInfo `build/` used by the tests is not reconfigured)
#   options    passed to signoff_bench_slack: --platform all (default), both
#              (slack,discord) or a comma list of slack, discord,
#              mattermost, mixed; --n N, --no-bolt, --quick
#
# Needs Node.js >= 20.18.1 and npm for the Bolt half; without them, or when
# the npm registry cannot be reached, it says so and runs the signoff half only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

dir=build-release
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  dir=$1
  shift
fi
args=("$@")
bolt_dir="$root/tests/bench/bolt"

want_bolt=1
prev=
for a in "${args[@]}"; do
  case "$a" in --no-bolt|--quick) want_bolt=0 ;; esac
  # Bolt is a Slack subject: a run without Slack needs no Node.
  if [ "$prev" = --platform ]; then
    case ",$a," in *,slack,*|*,both,*|*,all,*) ;; *) want_bolt=0 ;; esac
  fi
  prev=$a
done

skip_bolt() {
  echo "bench-slack: $1" >&2
  echo "bench-slack: running the signoff half only (--no-bolt)" >&2
  want_bolt=0
  args+=(--no-bolt)
}

# --- the Bolt app's dependencies (tests/bench/bolt/node_modules) -------------
if [ "$want_bolt" = 1 ]; then
  if ! command -v node >/dev/null 2>&1; then
    skip_bolt "node is not installed (Bolt for JavaScript needs Node.js >= 20.18.1)"
  elif ! node -e 'const [a,b,c]=process.versions.node.split(".").map(Number);
                  process.exit(a>20||(a===20&&(b>18||(b===18&&c>=1)))?0:1)'; then
    skip_bolt "node $(node --version) is too old: Bolt 5 and undici 7 need >= 20.18.1"
  elif [ -f "$bolt_dir/node_modules/.package-lock.json" ] &&
       [ "$bolt_dir/node_modules/.package-lock.json" -nt "$bolt_dir/package-lock.json" ] &&
       [ -d "$bolt_dir/node_modules/@slack/bolt" ]; then
    echo "bench-slack: Bolt dependencies already installed ($bolt_dir/node_modules)"
  elif ! command -v npm >/dev/null 2>&1; then
    skip_bolt "npm is not installed, so @slack/bolt cannot be installed"
  else
    echo "bench-slack: npm ci in tests/bench/bolt (pinned by package-lock.json)"
    # Short retries: an unreachable registry should fail in about a minute,
    # not after npm's default back-off.
    if ! (cd "$bolt_dir" && timeout 600 npm ci --no-audit --no-fund --fetch-retries=1 \
            --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 --fetch-timeout=30000 \
            --loglevel=error); then
      skip_bolt "npm ci failed (is the npm registry reachable?)"
    fi
  fi
fi

# --- build (Release): only what the benchmark runs ---------------------------
command -v ninja >/dev/null 2>&1 || { echo "bench-slack: ninja missing: run scripts/install-deps.sh" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$dir" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DSIGNOFF_TESTS=ON -DSIGNOFF_BENCH=ON >/dev/null
ninja -C "$dir" -j "${JOBS:-2}" signoff signoff_bench_slack

# --- run -------------------------------------------------------------------
exec "$dir/signoff_bench_slack" --signoff "$dir/signoff" --bolt-app "$bolt_dir/app.js" "${args[@]}"
