#!/usr/bin/env bash
# check-install.sh: installs a build into a temporary prefix with `cmake --install`, checks
# that the binary, man page, pkg-config file, Lua modules and the C module aws/core.so
# land where the pkg-config variables say, then runs tests/lib/install_probe.lua under a
# stock lua5.4 pointed at that prefix (LUA_PATH/LUA_CPATH only) and under the installed
# detlua binary, and requires identical output: the same model tables, SigV4 result and
# serialized request whether the bindings are embedded or loaded as a module.
# Usage: check-install.sh BUILD_DIR [DETLUA]. Exit 77 (skipped) when lua5.4 is missing or
# the build was configured with -DDETLUA_LUA_MODULE=OFF.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: check-install.sh BUILD_DIR [DETLUA]}
build=$(cd "$build" && pwd)
lua=${LUA:-lua5.4}

if ! command -v "$lua" >/dev/null 2>&1; then
    echo "skip: no $lua to load the installed modules with"
    exit 77
fi
if grep -q '^DETLUA_LUA_MODULE:BOOL=OFF' "$build/CMakeCache.txt" 2>/dev/null; then
    echo "skip: configured with DETLUA_LUA_MODULE=OFF"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

status=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; status=1; }

pc=$(find "$prefix" -name detlua.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] && ok "detlua.pc installed" || { notok "no detlua.pc under $prefix"; cat "$tmp/install.log"; exit 1; }
var() { PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable="$1" detlua; }
bindir=$(var bindir); mandir=$(var mandir); lmod=$(var INSTALL_LMOD); cmod=$(var INSTALL_CMOD)
[ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --modversion detlua)" = "$(sed -n 's/^project(detlua VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")" ] \
    && ok "pkg-config version matches the project" || notok "pkg-config --modversion detlua"

check_file() { if [ -e "$1" ]; then ok "$2"; else notok "$2 ($1 missing)"; fi; }
check_file "$bindir/detlua" "binary in bindir"
check_file "$mandir/man1/detlua.1" "man page in mandir/man1"
check_file "$cmod/aws/core.so" "C module at INSTALL_CMOD/aws/core.so"
check_file "$(var luals_types)/aws/detective.lua" "LuaLS stubs at the luals_types variable"
for f in "$repo"/runtime/lua/aws/*.lua; do
    check_file "$lmod/aws/$(basename "$f")" "Lua module aws/$(basename "$f")"
done
if command -v man >/dev/null 2>&1; then
    if MANPATH="$mandir" man -w detlua >/dev/null 2>&1; then ok "man finds the page"; else notok "man -w detlua with MANPATH=$mandir"; fi
fi
# The module must register the same C modules the binary preloads (the REPL excepted).
cmods() { sed -n 's/^ *X("\(aws\.[a-z0-9.]*\)", luaopen_[a-z0-9_]*).*/\1/p' "$1" | grep -vx 'aws.core.repl' | sort; }
if [ "$(cmods "$repo/runtime/host.c")" = "$(cmods "$repo/runtime/module/core_lua.c")" ]; then
    ok "aws/core.so registers the C modules the binary preloads"
else
    notok "C module lists differ: runtime/host.c DT_CMODULES vs runtime/module/core_lua.c"
    diff <(cmods "$repo/runtime/host.c") <(cmods "$repo/runtime/module/core_lua.c") || true
fi
# The rockspec is Lua: it must load and name this version and the CMake build.
version=$(sed -n 's/^project(detlua VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
rockspec="$repo/rockspecs/detlua-$version-1.rockspec"
if "$lua" -e "local t = {} assert(loadfile([==[$rockspec]==], 't', t))() assert(t.package == 'detlua', 'package')
    assert(t.version == '$version-1', 'version ' .. tostring(t.version)) assert(t.build.type == 'cmake', 'build.type')" \
    2>"$tmp/rockspec.err"; then
    ok "rockspec $(basename "$rockspec") loads and matches version $version"
else
    notok "rockspec $rockspec: $(cat "$tmp/rockspec.err")"
fi
[ $status -eq 0 ] || exit $status

# The probe under stock Lua: only the installed prefix on the search paths (plus the
# system's own, for lua-cjson).
export LUA_PATH="$lmod/?.lua;$lmod/?/init.lua;;"
export LUA_CPATH="$cmod/?.so;;"
if PROBE_ORACLE=1 "$lua" "$repo/tests/lib/install_probe.lua" >"$tmp/stock.out" 2>"$tmp/stock.err"; then
    ok "stock $lua ran the probe"
else
    notok "stock $lua failed the probe"; cat "$tmp/stock.err"; cat "$tmp/stock.out"; exit 1
fi
sed 's/^/# stock: /' "$tmp/stock.out" | cut -c1-160

# The same probe inside the installed binary (its embedded modules, not the prefix's).
unset LUA_PATH LUA_CPATH
if "$bindir/detlua" -e 'os.exit(0)' >/dev/null 2>"$tmp/host.err"; then
    "$bindir/detlua" "$repo/tests/lib/install_probe.lua" >"$tmp/host.out" 2>>"$tmp/host.err" || true
    if diff -u "$tmp/host.out" "$tmp/stock.out" >"$tmp/diff"; then
        ok "stock $lua and the detlua binary agree ($(wc -l <"$tmp/stock.out") facts)"
    else
        notok "stock $lua and the detlua binary disagree"; cat "$tmp/diff"; cat "$tmp/host.err"
    fi
else
    echo "ok - # SKIP the installed binary cannot run a chunk yet: $(head -n 1 "$tmp/host.err")"
fi
exit $status
