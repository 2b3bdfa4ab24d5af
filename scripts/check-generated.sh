#!/usr/bin/env bash
# check-generated.sh: regenerates bindings/{detective,guardduty,sts}_ops.c from the service
# models into a temporary directory and fails on any difference from the committed files, so
# that the committed tables can never drift from the generator or be edited by hand.
# With --write it regenerates into bindings/ instead (the `make generate` target).
# The models live outside the repo ($DT_SHARED/models, default <repo>/../shared/models); when
# they are absent this exits 77, which ctest reports as skipped. It does not fetch models.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${DT_SHARED:-$repo/../shared}
models=$shared/models
write=0
if [ "${1:-}" = "--write" ]; then write=1; fi

if [ ! -d "$models" ]; then
    echo "skip: no service models at $models (set DT_SHARED)"
    exit 77
fi
lua=${LUA:-lua5.4}
if ! command -v "$lua" >/dev/null 2>&1 || ! "$lua" -e 'require "cjson"' >/dev/null 2>&1; then
    echo "skip: $lua with lua-cjson is needed to run the generator"
    [ "$write" = 1 ] && exit 1
    exit 77
fi

if [ "$write" = 1 ]; then
    outdir=$repo/bindings
else
    outdir=$(mktemp -d)
    trap 'rm -rf "$outdir"' EXIT
fi

status=0
for svc in detective guardduty sts; do
    args=(--name "$svc" --model "$models/$svc/service-2.json")
    # every paginator file of the service, in a fixed (glob-sorted) order
    for p in "$models/$svc"/paginators*.json; do
        [ -e "$p" ] && args+=(--paginators "$p")
    done
    "$lua" "$repo/scripts/gen-bindings.lua" "${args[@]}" --out "$outdir/${svc}_ops.c"
    if [ "$write" = 1 ]; then
        echo "wrote bindings/${svc}_ops.c"
    elif diff -u "$repo/bindings/${svc}_ops.c" "$outdir/${svc}_ops.c" >"$outdir/$svc.diff"; then
        echo "ok - bindings/${svc}_ops.c matches its model"
    else
        echo "not ok - bindings/${svc}_ops.c differs from a fresh generation (run: make generate)"
        head -n 40 "$outdir/$svc.diff"
        status=1
    fi
done
exit $status
