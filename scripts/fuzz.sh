#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGNOFF_FUZZ=ON -DSIGNOFF_TESTS=OFF -DSIGNOFF_BENCH=OFF >/dev/null
targets=$(cd tests/fuzz && ls *_fuzz.cpp | sed 's/\.cpp$//')
ninja -C build-fuzz -j "${JOBS:-2}" $targets
for t in $targets; do
  corpus="tests/fuzz/corpus/${t%_fuzz}"
  work="build-fuzz/corpus-$t"
  mkdir -p "$work"
  echo "fuzz: $t for ${secs}s (seed corpus $corpus)"
  ./build-fuzz/"$t" -max_total_time="$secs" -max_len=4096 -timeout=10 -print_final_stats=1 \
    "$work" "$corpus" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|INFO: Seed|==|SUMMARY|Done)" || true
  # libFuzzer exits non-zero on a crash; grep above hides the status, so check artifacts.
  if ls crash-* leak-* timeout-* oom-* >/dev/null 2>&1; then
    echo "fuzz: $t found a failure:"; ls crash-* leak-* timeout-* oom-* 2>/dev/null; exit 1
  fi
done
