-- detlua-0.1.0-1.rockspec: builds detlua's bindings as the C module aws/core.so and installs
-- the Lua modules (aws, aws.detective, aws.guardduty, aws.sts), so that a stock Lua 5.4 can
--   local detective = require("aws.detective").new{ region = "us-east-1" }
-- without the detlua binary. The build is the project's own CMake build (build type
-- "cmake"), told to put Lua modules and the C module where LuaRocks wants them; the
-- detlua binary is built and installed into the rock's bin directory as well.
-- From a checkout:  luarocks --lua-version=5.4 make rockspecs/detlua-0.1.0-1.rockspec
rockspec_format = "3.0"
package = "detlua"
version = "0.1.0-1"

source = {
  url = "git+https://github.com/detlua/detlua.git",
  tag = "v0.1.0",
}

description = {
  summary = "Lua bindings for Amazon Detective, GuardDuty and STS, with SigV4 and a local emulator",
  detailed = [[
Every operation of Amazon Detective, Amazon GuardDuty and the STS calls credentials need,
as methods of a client generated from the service models: parameters validated before
sending, SigV4 signing, retries, paging helpers, and an embedded emulator of the services
for offline development.]],
  homepage = "https://github.com/detlua/detlua",
  license = "MIT",
}

dependencies = {
  "lua >= 5.4, < 5.5",
  "lua-cjson",
}

-- System libraries (development packages): libcurl, OpenSSL's libcrypto, PCRE2, GNU
-- libmicrohttpd, Expat, libedit, and pkg-config. The CMake build finds them with pkg-config
-- and names any that is missing; they are not declared as external_dependencies because
-- LuaRocks' header search misses multiarch include directories (Debian's curl/curl.h).

build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    DETLUA_LUA_MODULE = "ON",
    DETLUA_LUA_LMOD_DIR = "$(LUADIR)",
    DETLUA_LUA_CMOD_DIR = "$(LIBDIR)",
    -- a user's newer compiler may warn where ours does not; warnings must not fail an install
    DETLUA_WERROR = "OFF",
  },
  copy_directories = { "docs" },
}
