#!/usr/bin/env bash
# Benchmarks: builds the `benchmarks` target in the given build directory (default build)
# and prints each section's figures. Informative only: never fails on a figure, only on a
# build error or a benchmark that cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

cmake -S . -B "$BUILD" >/dev/null
cmake --build "$BUILD" --target benchmarks -j "$JOBS" >/dev/null

# --- signing -----------------------------------------------------------------
# CPU time per SigV4 signature of a small Detective POST (target: at most 2 us).
echo "== signing"
"$BUILD/bench_sigv4" "${BENCH_SIGV4_ITERATIONS:-200000}"
