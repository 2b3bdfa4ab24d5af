#!/usr/bin/env bash
# Fails when a hand-written C file differs from what clang-format (the repo's
# .clang-format) would write. Generated tables (bindings/*_ops.c) are left out: the
# generator owns their layout. Skips (77) when clang-format or git is missing.
set -u
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || { echo "clang-format not installed"; exit 77; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "not a git checkout"; exit 77; }
bad=0
while IFS= read -r f; do
  case "$f" in bindings/*_ops.c) continue ;; esac
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "needs clang-format: $f"
    bad=1
  fi
done < <(git ls-files '*.c' '*.h')
[ "$bad" -eq 0 ] && echo "all C files formatted"
exit "$bad"
