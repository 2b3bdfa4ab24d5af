#!/usr/bin/env bash
# run.sh DETLUA: ctest valgrind/representative. Runs tests/data/valgrind/playbook.lua with
# `detlua run --local` (emulator in process) under valgrind memcheck: any invalid access,
# use of uninitialised memory, or definitely/indirectly lost block fails the test
# (--error-exitcode). Suppressions (tests/valgrind.supp) cover only third-party libraries'
# one-time allocations. Skips (77) when valgrind is missing or DETLUA is a sanitizer build.
set -uo pipefail
cd "$(dirname "$0")/../../.."
DETLUA=${1:?usage: run.sh DETLUA}
if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind not installed: skipped"
  exit 77
fi
if nm -D "$DETLUA" 2>/dev/null | grep -q '__asan_init'; then
  echo "$DETLUA is built with AddressSanitizer, which cannot run under valgrind: skipped"
  exit 77
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
  --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
  --track-origins=yes --suppressions=tests/valgrind.supp --gen-suppressions=all \
  --log-file="$log" "$DETLUA" run --local tests/data/valgrind/playbook.lua
rc=$?
grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable' "$log" | sed 's/^==[0-9]*== /# /'
if [ $rc -ne 0 ]; then
  echo "not ok - valgrind reported errors (exit $rc):"
  cat "$log"
  exit 1
fi
echo "ok - memcheck clean on a representative playbook"
