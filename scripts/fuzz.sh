#!/usr/bin/env bash
# fuzz.sh [BUILD_DIR] [TARGET...]: `make fuzz`. Builds the libFuzzer targets (fuzz-build.sh)
# and runs each for FUZZ_SECONDS (default 60) from its committed seeds
# (tests/fuzz/corpus/<target>), after replaying its regression inputs
# (tests/fuzz/regressions/<target>). New inputs go to BUILD_DIR/fuzz-work/<target>/corpus,
# never into the repository; crashes are saved in BUILD_DIR/fuzz-work/<target>/ and make the
# script fail. Prints executions per target. FUZZ_JOBS (default 1) runs that many fuzzing
# processes per target.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build-fuzz}
shift || true
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SECS=${FUZZ_SECONDS:-60}
FJOBS=${FUZZ_JOBS:-1}

bash scripts/fuzz-build.sh "$BUILD"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi

failed=0
printf '%-10s %12s %10s %8s  %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
  bin="$BUILD/fuzz_$t"
  work="$BUILD/fuzz-work/$t"
  mkdir -p "$work/corpus"
  result=ok
  regs=(tests/fuzz/regressions/$t/*)
  if [ -e "${regs[0]}" ]; then
    "$bin" "${regs[@]}" >"$work/regressions.log" 2>&1 || result="REGRESSION (see $work/regressions.log)"
  fi
  seeds=()
  [ -d "tests/fuzz/corpus/$t" ] && seeds=("$ROOT/tests/fuzz/corpus/$t")
  args=(-max_total_time="$SECS" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096
        -artifact_prefix="$work/")
  if [ "$FJOBS" -gt 1 ]; then args+=(-jobs="$FJOBS" -workers="$FJOBS"); fi
  # (run from the work directory: with -jobs, libFuzzer writes fuzz-N.log files there)
  if ! (cd "$work" && "$bin" "${args[@]}" "$work/corpus" "${seeds[@]}") >"$work/fuzz.log" 2>&1; then
    result="CRASH (see $work/fuzz.log; inputs: $(ls "$work" | grep -E '^(crash|leak|timeout|oom)-' | tr '\n' ' '))"
  fi
  execs=$(grep -h 'stat::number_of_executed_units' "$work"/fuzz*.log 2>/dev/null | awk '{s+=$2} END {print s+0}')
  rate=$(grep -h 'stat::average_exec_per_sec' "$work"/fuzz*.log 2>/dev/null | awk '{s+=$2} END {print s+0}')
  units=$(ls "$work/corpus" | wc -l)
  printf '%-10s %12s %10s %8s  %s\n' "$t" "$execs" "$rate" "$units" "$result"
  [ "$result" = ok ] || failed=1
done
exit $failed
