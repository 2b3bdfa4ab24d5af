/* server_lua.c: module "aws.core.emulator", the Lua face of the local emulator.
 *
 * E.start{...} creates a private lua_State (dt_host_new_state, so every embedded module is
 * there), builds the router in it (detlua.emulator.router.new(opts)) and starts the HTTP
 * listener (server.c) whose one thread runs each request through router:handle(req) in
 * that state, one request at a time under a mutex. The caller's state and the emulator's
 * state share no values: options go in and credentials come out as deep copies. E.serve
 * does the same and blocks until SIGINT/SIGTERM. The router's optional 4th result, a fault
 * directive
 * ({reset=, delay_ms=, truncate_to=, pad_to=}), is copied into the response for server.c
 * to carry out. It does not implement any AWS behaviour itself. */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "server.h"

int luaopen_aws_core_emulator(lua_State *L);

#define S_SERVER_MT "aws.core.emulator.Server"
#define S_DEFAULT_MAX_BODY_BYTES ((size_t)1 << 20)
#define S_MAX_COPY_DEPTH 64

typedef struct s_server {
    dt_server *srv;
    lua_State *L2; /* the emulator's own state; touched only under mu once serving */
    pthread_mutex_t mu;
    int mu_init;
    int app_ref;
} s_server;

/* --- copying values between the two states ------------------------------------ */

/* Copies the value at from[idx] onto to's stack. Only nil, booleans, numbers, strings and
 * tables (without metatables) cross; anything else raises in `to`. Reading `from` never
 * raises (no conversions, no metamethods), so a failure leaves `from` consistent apart
 * from extra stack slots that the caller trims. */
static void s_copy(lua_State *from, int idx, lua_State *to, int depth) {
    idx = lua_absindex(from, idx);
    if (!lua_checkstack(to, 4) || !lua_checkstack(from, 4)) luaL_error(to, "stack overflow");
    switch (lua_type(from, idx)) {
    case LUA_TNIL:
        lua_pushnil(to);
        break;
    case LUA_TBOOLEAN:
        lua_pushboolean(to, lua_toboolean(from, idx));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(from, idx))
            lua_pushinteger(to, lua_tointeger(from, idx));
        else
            lua_pushnumber(to, lua_tonumber(from, idx));
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(from, idx, &len);
        lua_pushlstring(to, s, len);
        break;
    }
    case LUA_TTABLE:
        if (depth > S_MAX_COPY_DEPTH) luaL_error(to, "table nested too deeply");
        lua_newtable(to);
        lua_pushnil(from);
        while (lua_next(from, idx) != 0) {
            int kt = lua_type(from, -2);
            if (kt == LUA_TSTRING || kt == LUA_TNUMBER || kt == LUA_TBOOLEAN) {
                s_copy(from, -2, to, depth + 1);
                s_copy(from, -1, to, depth + 1);
                lua_rawset(to, -3);
            }
            lua_pop(from, 1);
        }
        break;
    default:
        luaL_error(to, "cannot pass a %s to the emulator", lua_typename(from, lua_type(from, idx)));
    }
}

/* --- the request path (server thread) ------------------------------------------ */

static void s_set_lstring(lua_State *L, const char *key, const char *s, size_t len) {
    lua_pushlstring(L, s, len);
    lua_setfield(L, -2, key);
}

/* Reads the router's fault directive (table at idx) into resp->fault. */
static void s_read_directive(lua_State *L, int idx, dt_server_response *resp) {
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx)) return;
    if (lua_getfield(L, idx, "reset") != LUA_TNIL && lua_toboolean(L, -1)) resp->fault.reset = 1;
    lua_pop(L, 1);
    int isnum = 0;
    lua_getfield(L, idx, "delay_ms");
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if (isnum && v > 0)
        resp->fault.delay_ms = v > DT_SERVER_MAX_DELAY_MS ? DT_SERVER_MAX_DELAY_MS : (long)v;
    lua_pop(L, 1);
    lua_getfield(L, idx, "truncate_to");
    v = lua_tointegerx(L, -1, &isnum);
    if (isnum && v >= 0) {
        resp->fault.truncate = 1;
        resp->fault.truncate_to = (size_t)v;
    }
    lua_pop(L, 1);
    lua_getfield(L, idx, "pad_to");
    v = lua_tointegerx(L, -1, &isnum);
    if (isnum && v > 0) resp->fault.pad_to = (unsigned long long)v;
    lua_pop(L, 1);
}

/* Runs inside lua_pcall on the emulator's state: req table -> router:handle -> resp. */
static int s_call_router(lua_State *L) {
    s_server *ud = lua_touserdata(L, 1);
    const dt_server_request *req = lua_touserdata(L, 2);
    dt_server_response *resp = lua_touserdata(L, 3);

    lua_rawgeti(L, LUA_REGISTRYINDEX, ud->app_ref);
    lua_getfield(L, -1, "handle");
    lua_insert(L, -2);
    lua_createtable(L, 0, 5);
    s_set_lstring(L, "method", req->method, strlen(req->method));
    s_set_lstring(L, "path", req->path, strlen(req->path));
    s_set_lstring(L, "query", req->query, strlen(req->query));
    s_set_lstring(L, "body", req->body, req->body_len);
    lua_createtable(L, 0, (int)req->n_headers);
    for (size_t i = 0; i < req->n_headers; i++) {
        lua_pushstring(L, req->header_values[i]);
        lua_setfield(L, -2, req->header_names[i]);
    }
    lua_setfield(L, -2, "headers");
    lua_call(L, 2, 4);
    s_read_directive(L, -1, resp);
    lua_pop(L, 1);

    int isnum = 0;
    lua_Integer status = lua_tointegerx(L, -3, &isnum);
    if (!isnum || status < 100 || status > 599)
        return luaL_error(L, "router returned an invalid status");
    if (lua_istable(L, -2)) {
        lua_Integer n = luaL_len(L, -2);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, -2, i);
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            const char *name = lua_tostring(L, -2);
            const char *value = lua_tostring(L, -1);
            if (name && value && dt_server_response_add_header(resp, name, value) != 0)
                return luaL_error(L, "out of memory");
            lua_pop(L, 3);
        }
    }
    size_t len = 0;
    const char *body = lua_tolstring(L, -1, &len);
    if (body && dt_server_response_set_body(resp, body, len) != 0)
        return luaL_error(L, "out of memory");
    resp->status = (int)status;
    return 0;
}

static void s_handle(void *ctx, const dt_server_request *req, dt_server_response *resp) {
    s_server *ud = ctx;
    pthread_mutex_lock(&ud->mu);
    lua_State *L = ud->L2;
    lua_settop(L, 0);
    lua_pushcfunction(L, s_call_router);
    lua_pushlightuserdata(L, ud);
    lua_pushlightuserdata(L, (void *)req);
    lua_pushlightuserdata(L, resp);
    if (dt_host_pcall(L, 3, 0) != LUA_OK) {
        /* A router bug, not a service error (the router catches those): say so on stderr
         * and let server.c answer 500. The message carries no request data. */
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "detlua emulator: internal error: %s\n", msg ? msg : "(no message)");
        dt_buf_reset(&resp->headers);
        dt_buf_reset(&resp->body);
        resp->status = 0;
        memset(&resp->fault, 0, sizeof resp->fault);
    }
    lua_settop(L, 0);
    pthread_mutex_unlock(&ud->mu);
}

/* --- lifecycle --------------------------------------------------------------------- */

static void s_release(s_server *ud) {
    if (ud->srv) {
        dt_server_stop(ud->srv); /* joins the server thread: no request is in flight after */
        ud->srv = NULL;
    }
    if (ud->L2) {
        lua_close(ud->L2);
        ud->L2 = NULL;
    }
    if (ud->mu_init) {
        pthread_mutex_destroy(&ud->mu);
        ud->mu_init = 0;
    }
}

static s_server *s_check(lua_State *L) {
    return luaL_checkudata(L, 1, S_SERVER_MT);
}

/* Runs protected on the emulator's state: copies the options from the caller's state and
 * builds the router. Leaves {app, admin, region} on the stack. */
static int s_init_router(lua_State *L) {
    lua_State *from = lua_touserdata(L, 1);
    int idx = (int)lua_tointeger(L, 2);
    s_server *ud = lua_touserdata(L, 3);
    lua_settop(L, 0);
    s_copy(from, idx, L, 0);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "detlua.emulator.router");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "new");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1); /* app */
    lua_pushvalue(L, -1);
    ud->app_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "admin_credentials");
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    lua_getfield(L, -2, "region");
    if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, -3);
        lua_call(L, 1, 1);
    }
    return 2; /* admin, region */
}

static const char *s_opt_string(lua_State *L, const char *key, const char *def) {
    int t = lua_getfield(L, 1, key);
    const char *s = def;
    if (t == LUA_TSTRING)
        s = lua_tostring(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "emulator.start: %s: expected a string, got %s", key, luaL_typename(L, -1));
    lua_pop(L, 1); /* the string stays alive in the options table */
    return s;
}

static lua_Integer s_opt_integer(lua_State *L, const char *key, lua_Integer def) {
    int t = lua_getfield(L, 1, key);
    lua_Integer v = def;
    if (t != LUA_TNIL) {
        int ok = 0;
        v = lua_tointegerx(L, -1, &ok);
        if (t != LUA_TNUMBER || !ok)
            luaL_error(L, "emulator.start: %s: expected an integer, got %s", key,
                       luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return v;
}

/* start{host, port, scenario, scenario_table, state, region, settings, max_body_bytes,
 *       faults} */
static int s_start(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *host = s_opt_string(L, "host", "127.0.0.1");
    lua_Integer port = s_opt_integer(L, "port", 0);
    lua_Integer max_body =
        s_opt_integer(L, "max_body_bytes", (lua_Integer)S_DEFAULT_MAX_BODY_BYTES);
    (void)s_opt_string(L, "scenario", NULL);
    (void)s_opt_string(L, "state", NULL);
    (void)s_opt_string(L, "region", NULL);
    int ft = lua_getfield(L, 1, "faults");
    if (ft != LUA_TNIL && ft != LUA_TSTRING && ft != LUA_TTABLE)
        return luaL_error(L, "emulator.start: faults: expected a string or a table, got %s",
                          luaL_typename(L, -1));
    if (ft != LUA_TNIL) {
        /* a bad SPEC is the caller's mistake: say so here, before anything is started */
        lua_getglobal(L, "require");
        lua_pushliteral(L, "detlua.emulator.faults");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "parse");
        lua_pushvalue(L, -3);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK)
            return luaL_error(L, "emulator.start: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (!dt_server_host_is_loopback(host))
        return luaL_error(L,
                          "emulator.start: host: %s is not a loopback address (the emulator only "
                          "listens on 127.0.0.1, ::1 or localhost)",
                          host);
    if (port < 0 || port > 65535)
        return luaL_error(L, "emulator.start: port: %d is out of range 0-65535", (int)port);
    if (max_body < 1024 || max_body > (lua_Integer)1 << 30)
        return luaL_error(L, "emulator.start: max_body_bytes: expected 1024 .. 2^30");
    int t = lua_getfield(L, 1, "scenario_table");
    if (t != LUA_TNIL && t != LUA_TTABLE)
        return luaL_error(L, "emulator.start: scenario_table: expected a table, got %s",
                          luaL_typename(L, -1));
    t = lua_getfield(L, 1, "settings");
    if (t != LUA_TNIL && t != LUA_TTABLE)
        return luaL_error(L, "emulator.start: settings: expected a table, got %s",
                          luaL_typename(L, -1));
    lua_pop(L, 2);

    s_server *ud = lua_newuserdatauv(L, sizeof *ud, 1);
    memset(ud, 0, sizeof *ud);
    ud->app_ref = LUA_NOREF;
    luaL_setmetatable(L, S_SERVER_MT);
    int ud_idx = lua_gettop(L);

    ud->L2 = dt_host_new_state();
    if (!ud->L2) return luaL_error(L, "emulator.start: cannot create a Lua state: out of memory");
    if (pthread_mutex_init(&ud->mu, NULL) != 0)
        return luaL_error(L, "emulator.start: cannot create a mutex");
    ud->mu_init = 1;

    lua_State *L2 = ud->L2;
    int top1 = lua_gettop(L);
    lua_pushcfunction(L2, s_init_router);
    lua_pushlightuserdata(L2, L);
    lua_pushinteger(L2, 1);
    lua_pushlightuserdata(L2, ud);
    int st = dt_host_pcall(L2, 3, 2);
    lua_settop(L, top1);
    if (st != LUA_OK) {
        const char *msg = lua_tostring(L2, -1);
        lua_pushstring(L, msg ? msg : "emulator.start: failed (error object is not a string)");
        s_release(ud);
        return lua_error(L);
    }
    /* uservalue = {admin = {...}, region = "..."}, copied out of the emulator's state */
    lua_createtable(L, 0, 2);
    s_copy(L2, -2, L, 0);
    lua_setfield(L, -2, "admin");
    s_copy(L2, -1, L, 0);
    lua_setfield(L, -2, "region");
    lua_setiuservalue(L, ud_idx, 1);
    lua_settop(L2, 0);

    dt_server_config cfg = {
        .host = host,
        .port = (int)port,
        .max_body_bytes = (size_t)max_body,
        .timeout_s = 60,
        .handler = s_handle,
        .handler_ctx = ud,
    };
    char err[256];
    ud->srv = dt_server_start(&cfg, err, sizeof err);
    if (!ud->srv) {
        s_release(ud);
        return luaL_error(L, "emulator.start: %s", err);
    }
    lua_settop(L, ud_idx);
    return 1;
}

/* serve{...}: start, print the listening line, block until SIGINT or SIGTERM, stop.
 * The signals are blocked before the server thread exists so that it inherits the mask
 * and sigwait here is the only taker. Returns the signal number. */
static int s_serve(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    lua_settop(L, 1);
    lua_pushcfunction(L, s_start);
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return lua_error(L);
    }
    s_server *ud = luaL_checkudata(L, -1, S_SERVER_MT);
    fprintf(stdout, "listening on %s\n", dt_server_url(ud->srv));
    fflush(stdout);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    s_release(ud);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    lua_pushinteger(L, sig);
    return 1;
}

static int s_port(lua_State *L) {
    s_server *ud = s_check(L);
    if (!ud->srv) return luaL_error(L, "emulator: the server is stopped");
    lua_pushinteger(L, dt_server_port(ud->srv));
    return 1;
}

static int s_url(lua_State *L) {
    s_server *ud = s_check(L);
    if (!ud->srv) return luaL_error(L, "emulator: the server is stopped");
    lua_pushstring(L, dt_server_url(ud->srv));
    return 1;
}

static int s_stop(lua_State *L) {
    s_release(s_check(L));
    return 0;
}

static int s_running(lua_State *L) {
    lua_pushboolean(L, s_check(L)->srv != NULL);
    return 1;
}

/* admin_credentials() -> {access_key_id, secret_access_key, account}: a fresh copy */
static int s_admin_credentials(lua_State *L) {
    s_check(L);
    lua_getiuservalue(L, 1, 1);
    if (!lua_istable(L, -1) || lua_getfield(L, -1, "admin") != LUA_TTABLE)
        return luaL_error(L, "emulator: the server was not started");
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    return 1;
}

static int s_region(lua_State *L) {
    s_check(L);
    lua_getiuservalue(L, 1, 1);
    if (!lua_istable(L, -1)) return 0;
    lua_getfield(L, -1, "region");
    return 1;
}

static int s_tostring(lua_State *L) {
    s_server *ud = s_check(L);
    if (ud->srv)
        lua_pushfstring(L, "%s (%s)", S_SERVER_MT, dt_server_url(ud->srv));
    else
        lua_pushfstring(L, "%s (stopped)", S_SERVER_MT);
    return 1;
}

static const luaL_Reg s_methods[] = {{"port", s_port},
                                     {"url", s_url},
                                     {"stop", s_stop},
                                     {"running", s_running},
                                     {"admin_credentials", s_admin_credentials},
                                     {"region", s_region},
                                     {NULL, NULL}};

static const luaL_Reg s_meta[] = {{"__gc", s_stop},
                                  {"__close", s_stop},
                                  {"__tostring", s_tostring},
                                  {"__index", NULL},
                                  {NULL, NULL}};

static const luaL_Reg s_funcs[] = {{"start", s_start}, {"serve", s_serve}, {NULL, NULL}};

int luaopen_aws_core_emulator(lua_State *L) {
    if (luaL_newmetatable(L, S_SERVER_MT)) {
        luaL_setfuncs(L, s_meta, 0);
        luaL_newlib(L, s_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, s_funcs);
    return 1;
}
