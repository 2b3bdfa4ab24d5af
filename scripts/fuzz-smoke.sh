#!/usr/bin/env bash
# fuzz-smoke.sh BUILD_DIR: ctest fuzz/smoke. Builds the libFuzzer targets into BUILD_DIR
# (its own clang build; fuzz-build.sh), replays every committed regression input
# (tests/fuzz/regressions/<target>/), then runs each target over its seed corpus plus
# FUZZ_SMOKE_RUNS (default 2000) mutated inputs, at most FUZZ_SMOKE_SECONDS (default 10)
# each. Exits 77 (skipped) when clang or the fuzzer runtime is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:?usage: fuzz-smoke.sh BUILD_DIR}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
RUNS=${FUZZ_SMOKE_RUNS:-2000}
SECS=${FUZZ_SMOKE_SECONDS:-10}

bash scripts/fuzz-build.sh "$BUILD"
rc=$?
[ $rc -eq 0 ] || exit $rc

failed=0
n_regs=0
for src in tests/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  t=${t#fuzz_}
  bin="$BUILD/fuzz_$t"
  work="$BUILD/smoke/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus"
  regs=(tests/fuzz/regressions/$t/*)
  if [ -e "${regs[0]}" ]; then
    n_regs=$((n_regs + ${#regs[@]}))
    if ! "$bin" "${regs[@]}" >"$work/regressions.log" 2>&1; then
      echo "not ok - $t: a regression input fails again:"
      grep -E 'ERROR|SUMMARY|invariant|runtime error|Running:' "$work/regressions.log" | tail -8
      failed=1
      continue
    fi
  fi
  seeds=()
  [ -d "tests/fuzz/corpus/$t" ] && seeds=("$PWD/tests/fuzz/corpus/$t")
  if "$bin" -runs="$RUNS" -max_total_time="$SECS" -seed=1 -timeout=30 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus" "${seeds[@]}" >"$work/fuzz.log" 2>&1; then
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/fuzz.log")
    echo "ok - $t: $execs executions"
  else
    echo "not ok - $t: crash (inputs saved in $work):"
    grep -E 'ERROR|SUMMARY|invariant|runtime error' "$work/fuzz.log" | head -8
    failed=1
  fi
done
echo "# $n_regs regression inputs replayed"
exit $failed
