/* process_lua.c: module aws.core.process, the Lua face of process.c:
 *
 *   run{argv = {"prog", "arg", ...}, env = {NAME = "value"} | nil, timeout_ms = 60000,
 *       max_stdout_bytes = 1048576, max_stderr_bytes = 4096}
 *     -> {exit_code = n | nil, signal = n | nil, timed_out = bool, stdout_overflow = bool,
 *         interrupted = bool, stdout = "...", stderr = "..."}
 *     or nil, message when the program cannot be started.
 *
 * Option mistakes raise before anything runs. `env`, when given, is the child's whole
 * environment (the caller's env table replaces the process environment, as everywhere in
 * aws.core.config). The argument vector, environment and captured output all live in one
 * GC-owned userdata, so a raise while results are pushed leaks nothing, and the captured
 * stdout (credentials, usually) is wiped when it is released. No shell, no parsing. */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "process.h"

int luaopen_aws_core_process(lua_State *L);

#define S_RUN_MT "aws.core.process.run"
#define S_FN "aws.core.process.run"

typedef struct s_run {
    dt_process_result r;
    int have_result;
} s_run;

static int s_run_gc(lua_State *L) {
    s_run *c = luaL_checkudata(L, 1, S_RUN_MT);
    if (c->have_result) dt_process_result_free(&c->r);
    c->have_result = 0;
    return 0;
}

static lua_Integer s_opt_int(lua_State *L, const char *name, lua_Integer dflt, lua_Integer min,
                             lua_Integer max) {
    lua_getfield(L, 1, name);
    lua_Integer v = dflt;
    if (!lua_isnil(L, -1)) {
        int ok = 0;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "%s: %s: expected an integer, got %s", S_FN, name, luaL_typename(L, -1));
        if (v < min || v > max)
            luaL_error(L, "%s: %s: must be from %d to %d", S_FN, name, (int)min, (int)max);
    }
    lua_pop(L, 1);
    return v;
}

static int s_run_fn(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
        if (strcmp(k, "argv") && strcmp(k, "env") && strcmp(k, "timeout_ms") &&
            strcmp(k, "max_stdout_bytes") && strcmp(k, "max_stderr_bytes"))
            luaL_error(L, "%s: unknown option %s", S_FN, *k ? k : luaL_typename(L, -1));
    }
    dt_process_options o = {0};
    o.timeout_ms = (long)s_opt_int(L, "timeout_ms", 60000, 1, 24 * 3600 * 1000);
    o.max_stdout_bytes = (size_t)s_opt_int(L, "max_stdout_bytes", 1 << 20, 1, 64 << 20);
    o.max_stderr_bytes = (size_t)s_opt_int(L, "max_stderr_bytes", 4096, 0, 64 << 20);

    /* argv: the strings stay anchored by the argv table (stack index 2) */
    if (lua_getfield(L, 1, "argv") != LUA_TTABLE)
        luaL_error(L, "%s: argv: expected a list of strings, got %s", S_FN, luaL_typename(L, -1));
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    if (n < 1 || n > 4096) luaL_error(L, "%s: argv: expected 1 to 4096 strings", S_FN);
    const char **argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
            luaL_error(L, "%s: argv[%d]: expected a string, got %s", S_FN, (int)i,
                       luaL_typename(L, -1));
        size_t len;
        argv[i - 1] = lua_tolstring(L, -1, &len);
        if (strlen(argv[i - 1]) != len)
            luaL_error(L, "%s: argv[%d]: contains a NUL byte", S_FN, (int)i);
        lua_pop(L, 1);
    }
    argv[n] = NULL;
    if (!*argv[0]) luaL_error(L, "%s: argv[1]: the program name is empty", S_FN);
    o.argv = argv;

    /* env: "NAME=value" strings anchored by a scratch table that stays on the stack */
    int et = lua_getfield(L, 1, "env");
    if (et == LUA_TTABLE) {
        int env_idx = lua_gettop(L);
        lua_newtable(L);
        int strs = lua_gettop(L);
        lua_Integer count = 0;
        lua_pushnil(L);
        while (lua_next(L, env_idx)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "%s: env: names and values must be strings", S_FN);
            size_t kl, vl;
            const char *k = lua_tolstring(L, -2, &kl);
            const char *v = lua_tolstring(L, -1, &vl);
            if (kl == 0 || strchr(k, '=') || strlen(k) != kl || strlen(v) != vl)
                luaL_error(L, "%s: env: invalid variable %s", S_FN, k);
            lua_pushfstring(L, "%s=%s", k, v);
            lua_rawseti(L, strs, ++count);
            lua_pop(L, 1);
        }
        const char **envp = lua_newuserdatauv(L, (size_t)(count + 1) * sizeof *envp, 0);
        for (lua_Integer i = 1; i <= count; i++) {
            lua_rawgeti(L, strs, i);
            envp[i - 1] = lua_tostring(L, -1);
            lua_pop(L, 1); /* still anchored by strs */
        }
        envp[count] = NULL;
        o.envp = envp;
    } else if (et != LUA_TNIL) {
        luaL_error(L, "%s: env: expected a table, got %s", S_FN, luaL_typename(L, -1));
    }

    s_run *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, S_RUN_MT);
    char msg[512];
    int rc = dt_process_run(&o, &c->r, msg, sizeof msg);
    c->have_result = 1;
    if (rc != 0) {
        dt_process_result_free(&c->r);
        c->have_result = 0;
        lua_pushnil(L);
        lua_pushstring(L, msg);
        return 2;
    }
    lua_createtable(L, 0, 6);
    if (c->r.exited) {
        lua_pushinteger(L, c->r.exit_code);
        lua_setfield(L, -2, "exit_code");
    }
    if (c->r.signal) {
        lua_pushinteger(L, c->r.signal);
        lua_setfield(L, -2, "signal");
    }
    lua_pushboolean(L, c->r.timed_out);
    lua_setfield(L, -2, "timed_out");
    lua_pushboolean(L, c->r.stdout_overflow);
    lua_setfield(L, -2, "stdout_overflow");
    lua_pushboolean(L, c->r.interrupted);
    lua_setfield(L, -2, "interrupted");
    lua_pushlstring(L, c->r.out.data ? c->r.out.data : "", c->r.out.len);
    lua_setfield(L, -2, "stdout");
    lua_pushlstring(L, c->r.err.data ? c->r.err.data : "", c->r.err.len);
    lua_setfield(L, -2, "stderr");
    dt_process_result_free(&c->r);
    c->have_result = 0;
    return 1;
}

int luaopen_aws_core_process(lua_State *L) {
    static const luaL_Reg meta[] = {{"__gc", s_run_gc}, {"__close", s_run_gc}, {NULL, NULL}};
    static const luaL_Reg fns[] = {{"run", s_run_fn}, {NULL, NULL}};
    if (luaL_newmetatable(L, S_RUN_MT)) luaL_setfuncs(L, meta, 0);
    lua_pop(L, 1);
    luaL_newlib(L, fns);
    return 1;
}
