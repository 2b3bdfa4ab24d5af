#!/usr/bin/env bash
# Installs the Debian packages detlua needs to build and test, and nothing else.
# A no-op (no apt call at all) when every package is already installed.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4        # the embedded interpreter (and the generator's Lua)
  libcurl4-openssl-dev        # HTTP transport
  libssl-dev                  # SigV4 (SHA-256, HMAC), TLS
  lua-cjson                   # JSON for Lua (the module, for stock lua5.4 and aws/core.so)
  lua-cjson-dev               # its static archive, linked into detlua: one shared object fewer to load
  lua-busted                  # Lua test runner
  libpcre2-dev                # model patterns
  libmicrohttpd-dev           # emulator HTTP server
  libexpat1-dev               # STS XML
  libedit-dev                 # REPL line editing
  python3-botocore awscli     # reference clients used as test oracles
  nginx-light                 # canned-response server for benchmarks
  tmux                        # drives the REPL through a real terminal in tests
  clang libclang-rt-14-dev    # libFuzzer + sanitizer runtimes for tests/fuzz (make fuzz, ctest fuzz/smoke)
  valgrind                    # memcheck run of a representative playbook (ctest valgrind/representative)
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
