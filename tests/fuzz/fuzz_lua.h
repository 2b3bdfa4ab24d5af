/* fuzz_lua.h: the Lua side of the fuzz targets: one interpreter state per process, made
 * like the product makes them (dt_host_new_state: every embedded module preloaded), and
 * small helpers to call into it. Test code only. */
#ifndef DT_FUZZ_LUA_H
#define DT_FUZZ_LUA_H

#include "fuzz_util.h"
#include "host.h"
#include "operation.h"

#include <lauxlib.h>
#include <lua.h>

/* libFuzzer only sees the coverage of instrumented C code. The emulator and the client
 * layer are mostly Lua, so a line hook feeds Lua's own coverage to the fuzzer as "extra
 * counters": one 8-bit counter per (chunk, line) hash. */
#define FZ_LUA_COUNTERS (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"),
               used)) static uint8_t fz_lua_counters[FZ_LUA_COUNTERS];

static void fz_line_hook(lua_State *L, lua_Debug *ar) {
    if (!lua_getinfo(L, "S", ar)) return;
    uintptr_t h = (uintptr_t)ar->source * 2654435761u ^ (uintptr_t)ar->currentline * 40503u;
    uint8_t *c = &fz_lua_counters[(h ^ (h >> 16)) & (FZ_LUA_COUNTERS - 1)];
    if (*c < 255) (*c)++;
}

/* The process's state, created on first use, with Lua line coverage reported to the fuzzer.
 * Inputs leave nothing on its stack. */
static inline lua_State *fz_lua(void) {
    static lua_State *L;
    if (!L) {
        L = dt_host_new_state();
        FZ_CHECK(L != NULL, "cannot create a Lua state");
        const char *off = getenv("FUZZ_NO_LUA_COVERAGE");
        if (!(off && *off == '1')) lua_sethook(L, fz_line_hook, LUA_MASKLINE, 0);
    }
    return L;
}

/* Pushes require(name)[field]. */
static inline void fz_require_field(lua_State *L, const char *module, const char *field) {
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) FZ_CHECK(0, "require %s: %s", module, lua_tostring(L, -1));
    lua_getfield(L, -1, field);
    lua_remove(L, -2);
}

/* Pushes a table of the message's headers, lowercase name -> value (later ones win). */
static inline void fz_push_headers(lua_State *L, const fz_msg *m) {
    lua_createtable(L, 0, (int)m->n_headers);
    for (size_t i = 0; i < m->n_headers; i++) {
        lua_pushstring(L, m->headers[i].name);
        lua_getglobal(L, "string");
        lua_getfield(L, -1, "lower");
        lua_remove(L, -2);
        lua_insert(L, -2);
        lua_call(L, 1, 1);
        lua_pushstring(L, m->headers[i].value);
        lua_rawset(L, -3);
    }
}

/* A memory error is not a finding (the fuzzer may make a huge input); anything else is
 * checked by the caller. */
static inline int fz_is_memory_error(int status) {
    return status == LUA_ERRMEM;
}

/* Runs a fuzzed response (m: status line, headers, body) through aws.core.protocol: parse
 * for a 2xx status, parse_error otherwise (a status outside 100-599 becomes 200 or 400 by the
 * body's length). Rules: parse returns a table or raises a string starting
 * "<service>:<lua_op>: "; parse_error never raises and gives a table with a string code. */
static inline void fz_check_parse(const dt_service *svc, const dt_operation *op, const fz_msg *m) {
    long status = strtol(m->start, NULL, 10);
    if (status < 100 || status > 599) status = 200 + (long)(m->body_len % 2) * 200;
    int ok_status = status >= 200 && status < 300;
    lua_State *L = fz_lua();
    int top = lua_gettop(L);
    fz_require_field(L, "aws.core.protocol", ok_status ? "parse" : "parse_error");
    lua_pushstring(L, svc->name);
    lua_pushstring(L, dt_str(svc, op->name));
    lua_pushinteger(L, status);
    fz_push_headers(L, m);
    lua_pushlstring(L, m->body, m->body_len);
    int rc = lua_pcall(L, 5, 1, 0);
    if (rc == LUA_OK) {
        FZ_CHECK(lua_istable(L, -1), "%s %s: result is a %s", svc->name, dt_str(svc, op->name),
                 luaL_typename(L, -1));
        if (!ok_status) {
            lua_getfield(L, -1, "code");
            FZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "%s %s: error code is a %s", svc->name,
                     dt_str(svc, op->name), luaL_typename(L, -1));
        }
    } else if (!fz_is_memory_error(rc)) {
        const char *msg = lua_tostring(L, -1);
        FZ_CHECK(ok_status, "parse_error raised: %s", msg ? msg : "(not a string)");
        char prefix[160];
        snprintf(prefix, sizeof prefix, "%s:%s: ", svc->name, dt_str(svc, op->lua_name));
        FZ_CHECK(msg && strncmp(msg, prefix, strlen(prefix)) == 0, "unexpected error: %s",
                 msg ? msg : "(not a string)");
    }
    lua_settop(L, top);
}

#endif
