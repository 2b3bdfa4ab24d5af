#!/usr/bin/env bash
# fuzz-build.sh BUILD_DIR: configures BUILD_DIR with clang and DETLUA_FUZZ=ON and builds the
# libFuzzer targets of tests/fuzz (target `fuzzers`). Used by fuzz.sh (`make fuzz`) and
# fuzz-smoke.sh (ctest fuzz/smoke). Exits 77 when clang or its libFuzzer/sanitizer runtime
# (Debian: clang, libclang-rt-14-dev) is missing, so callers can skip. -Werror stays off
# here: the gcc build enforces warnings, and a clang-only warning must not hide a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:?usage: fuzz-build.sh BUILD_DIR}
CLANG=${FUZZ_CC:-clang}

if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "fuzz-build: $CLANG not found (install clang and libclang-rt-14-dev)" >&2
  exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >"$probe/log" 2>&1; then
  echo "fuzz-build: $CLANG cannot link -fsanitize=fuzzer,address,undefined (install libclang-rt-14-dev):" >&2
  sed -n 1,5p "$probe/log" >&2
  exit 77
fi

JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDETLUA_FUZZ=ON -DDETLUA_WERROR=OFF -DDETLUA_LUA_MODULE=OFF >"$probe/cmake.log" 2>&1 ||
  { cat "$probe/cmake.log" >&2; exit 1; }
cmake --build "$BUILD" --target fuzzers -j "$JOBS" >"$probe/build.log" 2>&1 ||
  { grep -E 'error|Error' "$probe/build.log" | head -40 >&2; exit 1; }
