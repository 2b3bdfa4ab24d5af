/* host_lua.c: the small OS services the Lua layer needs and plain Lua lacks
 * (module aws.core.host): terminal detection, a line from the controlling terminal (echo
 * off for codes), replacing a private file atomically, a monotonic clock, sleeping, UTC wall
 * time with sub-second precision, and exiting with a status. Nothing AWS-specific. */
#include <lauxlib.h>
#include <lua.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "host.h"
#include "tty.h"

int luaopen_aws_core_host(lua_State *L);

static int s_isatty(lua_State *L) {
    lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
    return 1;
}

/* tty_read(prompt [, echo]) -> line | nil, why. echo defaults to true. The line is read into
 * a stack buffer and copied once into a Lua string: no C heap is alive if pushing raises. */
static int s_tty_read(lua_State *L) {
    const char *prompt = luaL_checkstring(L, 1);
    int echo = lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2);
    char line[1024];
    dt_tty_error err;
    long n = dt_tty_read_line(prompt, echo, line, sizeof line, &err);
    if (n < 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.message);
        return 2;
    }
    lua_pushlstring(L, line, (size_t)n);
    memset(line, 0, sizeof line);
    return 1;
}

/* write_file_atomic(path, data) -> true | nil, message: a new private (0600) file renamed
 * over path (atomic_file.c); a failure leaves the old file as it was. */
static int s_write_file_atomic(lua_State *L) {
    size_t len;
    const char *path = luaL_checkstring(L, 1);
    const char *data = luaL_checklstring(L, 2, &len);
    char err[512];
    if (dt_write_file_atomic(path, data, len, err, sizeof err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int s_monotonic_ms(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec * 1e3 + (lua_Number)ts.tv_nsec / 1e6);
    return 1;
}

/* Wall clock as seconds since the epoch, with fractions. */
static int s_realtime(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

static int s_sleep_ms(lua_State *L) {
    lua_Number ms = luaL_checknumber(L, 1);
    if (ms <= 0) return 0;
    struct timespec ts = {(time_t)(ms / 1000),
                          (long)((ms - (lua_Number)(time_t)(ms / 1000) * 1000) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    return 0;
}

static int s_pid(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

static int s_interruptible(lua_State *L) {
    if (lua_toboolean(L, 1))
        dt_host_install_interrupt(L);
    else
        dt_host_remove_interrupt();
    return 0;
}

int luaopen_aws_core_host(lua_State *L) {
    static const luaL_Reg fns[] = {{"isatty", s_isatty},
                                   {"tty_read", s_tty_read},
                                   {"write_file_atomic", s_write_file_atomic},
                                   {"monotonic_ms", s_monotonic_ms},
                                   {"realtime", s_realtime},
                                   {"sleep_ms", s_sleep_ms},
                                   {"pid", s_pid},
                                   {"interruptible", s_interruptible},
                                   {NULL, NULL}};
    luaL_newlib(L, fns);
    return 1;
}
