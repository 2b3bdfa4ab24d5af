/* http_lua.c: module aws.core.http, the Lua face of runtime/http.c: connections
 * (H.new, blocking, one kept-alive connection) and multis (H.multi, many transfers in
 * flight, driven by m:perform) for the scheduler.
 *
 * Caller mistakes (types, bad method, non-http URL, header syntax, unknown fields) raise
 * before any I/O; transport failures are returned as nil, {kind="transport", ...}.
 * Requests are read with raw table access and their strings used in place (the request
 * table anchors them during the call), so no C heap is held across a call that can
 * raise: the only C memory is owned by the userdata. No retries and no signing here. */
#include <lauxlib.h>
#include <lua.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

int luaopen_aws_core_http(lua_State *L);

#define S_CONN_MT "aws.http.Connection"
#define S_MULTI_MT "aws.http.Multi"

/* The header array passed to C is scratch owned by the userdata, reused per request. */
typedef struct s_scratch {
    dt_http_header *hdrs;
    size_t cap;
} s_scratch;

typedef struct s_conn {
    dt_http_client *c;
    s_scratch s;
} s_conn;

typedef struct s_multi {
    dt_http_multi *m;
    s_scratch s;
} s_multi;

/* ---------------------------------------------------------------- options */

static const char *const s_conn_opts[] = {
    "connect_timeout_ms", "timeout_ms", "read_timeout_ms",   "max_response_bytes",
    "max_header_bytes",   "ca_bundle",  "user_agent_suffix", NULL};
static const char *const s_multi_opts[] = {
    "connect_timeout_ms",   "timeout_ms", "read_timeout_ms",   "max_response_bytes",
    "max_header_bytes",     "ca_bundle",  "user_agent_suffix", "max_total_connections",
    "max_host_connections", NULL};

static lua_Integer s_opt_int(lua_State *L, int idx, const char *fn, const char *name,
                             lua_Integer min, lua_Integer dflt) {
    lua_getfield(L, idx, name);
    lua_Integer v = dflt;
    if (!lua_isnil(L, -1)) {
        int isint = 0;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "%s: %s: expected an integer, got %s", fn, name, luaL_typename(L, -1));
        if (v < min) luaL_error(L, "%s: %s: must be >= %d", fn, name, (int)min);
    }
    lua_pop(L, 1);
    return v;
}

/* Leaves the string on the stack (it must outlive the constructor call). */
static const char *s_opt_str(lua_State *L, int idx, const char *fn, const char *name) {
    lua_getfield(L, idx, name);
    if (lua_isnil(L, -1)) return NULL;
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: %s: expected a string, got %s", fn, name, luaL_typename(L, -1));
    return lua_tostring(L, -1);
}

static void s_read_options(lua_State *L, int idx, const char *fn, const char *const *known,
                           dt_http_options *o) {
    dt_http_options_init(o);
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int ok = 0;
        for (int i = 0; k && known[i]; i++)
            ok = ok || strcmp(k, known[i]) == 0;
        if (!ok) luaL_error(L, "%s: unknown option %s", fn, k ? k : luaL_typename(L, -1));
    }
    o->connect_timeout_ms = (long)s_opt_int(L, idx, fn, "connect_timeout_ms", 1, 0);
    /* Lua's 0 means "no whole-transfer timeout"; C spells that -1 (0 is its default). */
    lua_Integer to = s_opt_int(L, idx, fn, "timeout_ms", 0, -2);
    o->timeout_ms = to == -2 ? 0 : to == 0 ? -1 : (long)to;
    o->read_timeout_ms = (long)s_opt_int(L, idx, fn, "read_timeout_ms", 0, 0);
    o->max_response_bytes = (size_t)s_opt_int(L, idx, fn, "max_response_bytes", 1, 0);
    o->max_header_bytes = (size_t)s_opt_int(L, idx, fn, "max_header_bytes", 1, 0);
    if (known == s_multi_opts) {
        o->max_total_connections = (long)s_opt_int(L, idx, fn, "max_total_connections", 0, 0);
        o->max_host_connections = (long)s_opt_int(L, idx, fn, "max_host_connections", 0, 0);
    }
    o->ca_bundle = s_opt_str(L, idx, fn, "ca_bundle");
    if (o->ca_bundle) {
        FILE *f = fopen(o->ca_bundle, "r");
        if (!f)
            luaL_error(L, "%s: ca_bundle: cannot read %s: %s", fn, o->ca_bundle, strerror(errno));
        fclose(f);
    }
    o->user_agent_suffix = s_opt_str(L, idx, fn, "user_agent_suffix");
    if (o->user_agent_suffix && strpbrk(o->user_agent_suffix, "\r\n"))
        luaL_error(L, "%s: user_agent_suffix: must not contain CR or LF", fn);
}

/* ---------------------------------------------------------------- requests */

static int s_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int s_token(const char *s, size_t n) {
    int ok = n > 0;
    for (size_t k = 0; ok && k < n; k++)
        ok = s_tchar((unsigned char)s[k]);
    return ok;
}

static void s_check_value(lua_State *L, const char *fn, const char *s, size_t n, const char *what) {
    for (size_t k = 0; k < n; k++)
        if (s[k] == '\r' || s[k] == '\n' || s[k] == '\0')
            luaL_error(L, "%s: request.headers%s: value contains CR, LF or NUL", fn, what);
}

static void s_grow(lua_State *L, s_scratch *s, size_t n) {
    if (n <= s->cap) return;
    size_t cap = n < 16 ? 16 : n;
    dt_http_header *h = realloc(s->hdrs, cap * sizeof *h);
    if (!h) luaL_error(L, "not enough memory");
    s->hdrs = h;
    s->cap = cap;
}

/* Fills req from the table at idx. Pushes nothing that must stay (all strings are
 * anchored by the request table, read raw so no metamethod can hand back a temporary). */
static void s_read_request(lua_State *L, int idx, const char *fn, s_scratch *sc,
                           dt_http_request *req) {
    luaL_checktype(L, idx, LUA_TTABLE);
    memset(req, 0, sizeof *req);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
        if (strcmp(k, "method") && strcmp(k, "url") && strcmp(k, "headers") && strcmp(k, "body")) {
            luaL_error(L, "%s: request: unknown field %s", fn, *k ? k : luaL_typename(L, -1));
        }
    }
    lua_pushliteral(L, "method");
    if (lua_rawget(L, idx) != LUA_TSTRING)
        luaL_error(L, "%s: request.method: expected a string, got %s", fn, luaL_typename(L, -1));
    size_t ml;
    req->method = lua_tolstring(L, -1, &ml);
    if (!s_token(req->method, ml))
        luaL_error(L, "%s: request.method: not an HTTP method: %s", fn, req->method);
    lua_pop(L, 1);

    lua_pushliteral(L, "url");
    if (lua_rawget(L, idx) != LUA_TSTRING)
        luaL_error(L, "%s: request.url: expected a string, got %s", fn, luaL_typename(L, -1));
    req->url = lua_tostring(L, -1);
    if (strncasecmp(req->url, "http://", 7) != 0 && strncasecmp(req->url, "https://", 8) != 0)
        luaL_error(L, "%s: request.url: expected an http:// or https:// URL", fn);
    lua_pop(L, 1);

    lua_pushliteral(L, "body");
    int bt = lua_rawget(L, idx);
    if (bt == LUA_TSTRING)
        req->body = lua_tolstring(L, -1, &req->body_len);
    else if (bt != LUA_TNIL)
        luaL_error(L, "%s: request.body: expected a string, got %s", fn, luaL_typename(L, -1));
    lua_pop(L, 1);

    lua_pushliteral(L, "headers");
    int ht = lua_rawget(L, idx);
    if (ht == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (ht != LUA_TTABLE)
        luaL_error(L, "%s: request.headers: expected a table, got %s", fn, luaL_typename(L, -1));
    int h = lua_gettop(L);
    /* pass 1: validate and count; pairs {name, value} in the array part, or name = value */
    lua_Integer n_arr = (lua_Integer)lua_rawlen(L, h);
    size_t count = 0;
    lua_Integer n_int = 0;
    lua_pushnil(L);
    while (lua_next(L, h)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            size_t nl, vl;
            const char *name = lua_tolstring(L, -2, &nl);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "%s: request.headers.%s: expected a string, got %s", fn, name,
                           luaL_typename(L, -1));
            const char *v = lua_tolstring(L, -1, &vl);
            if (!s_token(name, nl)) luaL_error(L, "%s: request.headers: invalid header name", fn);
            lua_pushfstring(L, ".%s", name);
            s_check_value(L, fn, v, vl, lua_tostring(L, -1));
            lua_pop(L, 1);
        } else {
            int isint = 0;
            lua_Integer i = lua_tointegerx(L, -2, &isint);
            if (!isint || i < 1 || i > n_arr)
                luaL_error(L, "%s: request.headers: keys must be 1..n or header names", fn);
            if (lua_type(L, -1) != LUA_TTABLE)
                luaL_error(L, "%s: request.headers[%d]: expected {name, value}, got %s", fn, (int)i,
                           luaL_typename(L, -1));
            if (lua_rawgeti(L, -1, 1) != LUA_TSTRING || lua_rawgeti(L, -2, 2) != LUA_TSTRING)
                luaL_error(L, "%s: request.headers[%d]: expected {name, value} strings", fn,
                           (int)i);
            size_t nl, vl;
            const char *name = lua_tolstring(L, -2, &nl);
            const char *v = lua_tolstring(L, -1, &vl);
            if (!s_token(name, nl))
                luaL_error(L, "%s: request.headers[%d][1]: invalid header name", fn, (int)i);
            n_int++;
            lua_pushfstring(L, "[%d]", (int)i);
            s_check_value(L, fn, v, vl, lua_tostring(L, -1));
            lua_pop(L, 3);
        }
        count++;
        lua_pop(L, 1);
    }
    if (n_int != n_arr) luaL_error(L, "%s: request.headers: the list has holes", fn);
    s_grow(L, sc, count);
    /* pass 2: fill, array part first so the order is the caller's */
    size_t j = 0;
    for (lua_Integer i = 1; i <= n_arr; i++) {
        lua_rawgeti(L, h, i);
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        dt_http_header *d = &sc->hdrs[j++];
        d->name = lua_tolstring(L, -2, &d->name_len);
        d->value = lua_tolstring(L, -1, &d->value_len);
        lua_pop(L, 3);
    }
    lua_pushnil(L);
    while (lua_next(L, h)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            dt_http_header *d = &sc->hdrs[j++];
            d->name = lua_tolstring(L, -2, &d->name_len);
            d->value = lua_tolstring(L, -1, &d->value_len);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    req->headers = sc->hdrs;
    req->n_headers = j;
}

/* ---------------------------------------------------------------- results */

/* name -> value; a repeated name gets its values joined with ", " (RFC 9110 5.3). */
static void s_push_headers(lua_State *L, const dt_http_response *r) {
    size_t pos = 0, vl, n = 0;
    const char *name, *value;
    while (dt_http_response_next_header(r, &pos, &name, &value, &vl))
        n++;
    lua_createtable(L, 0, (int)n);
    pos = 0;
    while (dt_http_response_next_header(r, &pos, &name, &value, &vl)) {
        if (lua_getfield(L, -1, name) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, value, vl);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushlstring(L, value, vl);
        }
        lua_setfield(L, -2, name);
    }
}

static void s_push_error(lua_State *L, const dt_http_error *e) {
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "transport");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, dt_http_code_name(e->code));
    lua_setfield(L, -2, "code");
    lua_pushstring(L, e->message);
    lua_setfield(L, -2, "message");
    lua_pushboolean(L, e->retryable);
    lua_setfield(L, -2, "retryable");
}

static void s_push_stats(lua_State *L, long connects, long requests) {
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, connects);
    lua_setfield(L, -2, "connects");
    lua_pushinteger(L, requests);
    lua_setfield(L, -2, "requests");
}

/* ---------------------------------------------------------------- connection */

static s_conn *s_check_conn(lua_State *L) {
    s_conn *c = luaL_checkudata(L, 1, S_CONN_MT);
    if (!c->c) luaL_error(L, "aws.core.http: connection is closed");
    return c;
}

static int s_conn_release(lua_State *L) {
    s_conn *c = luaL_checkudata(L, 1, S_CONN_MT);
    dt_http_client_free(c->c);
    c->c = NULL;
    free(c->s.hdrs);
    c->s.hdrs = NULL;
    c->s.cap = 0;
    return 0;
}

static int s_new(lua_State *L) {
    dt_http_options o;
    s_read_options(L, 1, "aws.core.http.new", s_conn_opts, &o);
    s_conn *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, S_CONN_MT);
    dt_http_error err;
    c->c = dt_http_client_new(&o, &err);
    if (!c->c) return luaL_error(L, "aws.core.http.new: %s", err.message);
    return 1;
}

static int s_request(lua_State *L) {
    s_conn *c = s_check_conn(L);
    dt_http_request req;
    s_read_request(L, 2, "aws.http.Connection:request", &c->s, &req);
    const dt_http_response *r;
    dt_http_error err;
    if (dt_http_client_perform(c->c, &req, &r, &err) != 0) {
        lua_pushnil(L);
        s_push_error(L, &err);
        return 2;
    }
    /* The response buffers belong to the client: raising from here leaks nothing. */
    lua_pushinteger(L, r->status);
    s_push_headers(L, r);
    lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
    return 3;
}

static int s_conn_stats(lua_State *L) {
    s_conn *c = s_check_conn(L);
    s_push_stats(L, dt_http_client_connects(c->c), dt_http_client_requests(c->c));
    return 1;
}

static int s_conn_tostring(lua_State *L) {
    s_conn *c = luaL_checkudata(L, 1, S_CONN_MT);
    if (c->c)
        lua_pushfstring(L, "aws.http.Connection (%p)", (void *)c);
    else
        lua_pushliteral(L, "aws.http.Connection (closed)");
    return 1;
}

/* ---------------------------------------------------------------- multi */

static s_multi *s_check_multi(lua_State *L) {
    s_multi *m = luaL_checkudata(L, 1, S_MULTI_MT);
    if (!m->m) luaL_error(L, "aws.core.http: multi is closed");
    return m;
}

static int s_multi_release(lua_State *L) {
    s_multi *m = luaL_checkudata(L, 1, S_MULTI_MT);
    dt_http_multi_free(m->m);
    m->m = NULL;
    free(m->s.hdrs);
    m->s.hdrs = NULL;
    m->s.cap = 0;
    return 0;
}

static int s_multi_new(lua_State *L) {
    dt_http_options o;
    s_read_options(L, 1, "aws.core.http.multi", s_multi_opts, &o);
    s_multi *m = lua_newuserdatauv(L, sizeof *m, 0);
    memset(m, 0, sizeof *m);
    luaL_setmetatable(L, S_MULTI_MT);
    dt_http_error err;
    m->m = dt_http_multi_new(&o, &err);
    if (!m->m) return luaL_error(L, "aws.core.http.multi: %s", err.message);
    return 1;
}

static int s_multi_add(lua_State *L) {
    s_multi *m = s_check_multi(L);
    dt_http_request req;
    s_read_request(L, 2, "aws.http.Multi:add", &m->s, &req);
    dt_http_error err;
    uint64_t id = dt_http_multi_add(m->m, &req, NULL, &err);
    if (id == 0) {
        lua_pushnil(L);
        s_push_error(L, &err);
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)id);
    return 1;
}

static void s_push_done(lua_State *L, dt_http_transfer *t) {
    const dt_http_response *r = dt_http_transfer_response(t);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)dt_http_transfer_id(t));
    lua_setfield(L, -2, "id");
    if (!r) {
        s_push_error(L, dt_http_transfer_error(t));
        lua_setfield(L, -2, "error");
        return;
    }
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
    s_push_headers(L, r);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
    lua_setfield(L, -2, "body");
}

static int s_multi_perform(lua_State *L) {
    s_multi *m = s_check_multi(L);
    lua_Integer timeout_ms = luaL_optinteger(L, 2, 0);
    if (timeout_ms < 0) return luaL_argerror(L, 2, "timeout_ms must be >= 0");
    dt_http_error err;
    int n = dt_http_multi_perform(m->m, (long)timeout_ms, &err);
    if (n < 0) return luaL_error(L, "aws.http.Multi:perform: %s", err.message);
    /* Convert every completion before releasing any, so that a memory error while
     * building the list leaves them all queued for the next call. */
    lua_createtable(L, n, 0);
    int i = 0;
    for (dt_http_transfer *t = dt_http_multi_next_done(m->m, NULL); t;
         t = dt_http_multi_next_done(m->m, t)) {
        s_push_done(L, t);
        lua_rawseti(L, -2, ++i);
    }
    dt_http_transfer *t;
    while (i-- > 0 && (t = dt_http_multi_next_done(m->m, NULL)))
        dt_http_multi_release(m->m, t);
    return 1;
}

static int s_multi_pending(lua_State *L) {
    s_multi *m = s_check_multi(L);
    lua_pushinteger(L, dt_http_multi_pending(m->m));
    return 1;
}

static int s_multi_cancel(lua_State *L) {
    s_multi *m = s_check_multi(L);
    lua_Integer id = luaL_checkinteger(L, 2);
    lua_pushboolean(L, id > 0 && dt_http_multi_cancel(m->m, (uint64_t)id));
    return 1;
}

static int s_multi_stats(lua_State *L) {
    s_multi *m = s_check_multi(L);
    s_push_stats(L, dt_http_multi_connects(m->m), dt_http_multi_requests(m->m));
    return 1;
}

static int s_multi_tostring(lua_State *L) {
    s_multi *m = luaL_checkudata(L, 1, S_MULTI_MT);
    if (m->m)
        lua_pushfstring(L, "aws.http.Multi (%p)", (void *)m);
    else
        lua_pushliteral(L, "aws.http.Multi (closed)");
    return 1;
}

/* H.stats(x) for either kind of object. */
static int s_stats(lua_State *L) {
    if (luaL_testudata(L, 1, S_CONN_MT)) return s_conn_stats(L);
    if (luaL_testudata(L, 1, S_MULTI_MT)) return s_multi_stats(L);
    return luaL_typeerror(L, 1, "aws.http.Connection or aws.http.Multi");
}

static void s_new_type(lua_State *L, const char *name, const luaL_Reg *methods,
                       lua_CFunction release, lua_CFunction tostring) {
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_pushcfunction(L, release);
    lua_setfield(L, -2, "close");
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, release);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

int luaopen_aws_core_http(lua_State *L) {
    static const luaL_Reg conn_methods[] = {
        {"request", s_request}, {"stats", s_conn_stats}, {NULL, NULL}};
    static const luaL_Reg multi_methods[] = {
        {"add", s_multi_add},       {"perform", s_multi_perform}, {"pending", s_multi_pending},
        {"cancel", s_multi_cancel}, {"stats", s_multi_stats},     {NULL, NULL}};
    static const luaL_Reg fns[] = {
        {"new", s_new}, {"multi", s_multi_new}, {"stats", s_stats}, {NULL, NULL}};
    s_new_type(L, S_CONN_MT, conn_methods, s_conn_release, s_conn_tostring);
    s_new_type(L, S_MULTI_MT, multi_methods, s_multi_release, s_multi_tostring);
    luaL_newlib(L, fns);
    lua_pushliteral(L, "detlua/" DETLUA_VERSION);
    lua_setfield(L, -2, "user_agent");
    return 1;
}
