/* sigv4_lua.c: the Lua face of sigv4.c and crypto.c, modules "aws.sigv4" (sign,
 * presign) and "aws.core.crypto" (digests, encodings, random bytes, UUIDs).
 *
 * Everything the caller can get wrong is checked here and raised before signing, with
 * the parameter path in the message. Strings are borrowed from the argument table while
 * the C signer runs; the signer's result and scratch live in a userdata shared by sign
 * and presign, so repeated calls allocate no C memory and nothing leaks when a push
 * raises. Neither results nor messages ever carry the secret key or the signing key.
 * This file does not read clocks other than for the default signing time, nor
 * credentials sources: callers pass credentials in. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "sigv4.h"
#include "timestamp.h"

#define S_STATE_MT "aws.sigv4.State"

/* Reused across calls: the signer's result plus the arrays handed to it. */
typedef struct s_state {
    dt_sigv4_result res;
    dt_sigv4_header *hdrs;
    size_t cap_hdrs;
    const char **signed_names;
    size_t cap_signed;
    int live;
} s_state;

static int s_state_release(lua_State *L) {
    s_state *st = luaL_checkudata(L, 1, S_STATE_MT);
    if (st->live) {
        dt_sigv4_result_clean_up(&st->res);
        free(st->hdrs);
        free((void *)st->signed_names);
        st->hdrs = NULL;
        st->signed_names = NULL;
        st->cap_hdrs = st->cap_signed = 0;
        st->live = 0;
    }
    return 0;
}

static void *s_grow(lua_State *L, void *arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return arr;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(arr, n * elem);
    if (!p) luaL_error(L, "aws.sigv4: out of memory");
    *cap = n;
    return p;
}

/* ------------------------------------------------------------------ argument reading */

/* The parameter table is argument 1; values fetched from it stay on the stack until the
 * signer has run, which keeps the borrowed strings alive. */
typedef struct s_args {
    lua_State *L;
    const char *fn; /* "aws.sigv4.sign" */
    int anchor;     /* stack index of a table holding converted numbers */
} s_args;

static int s_fail_type(s_args *a, const char *path, const char *expected, int idx) {
    return luaL_error(a->L, "%s: %s: expected %s, got %s", a->fn, path, expected,
                      luaL_typename(a->L, idx));
}

/* Pointer to a NUL-free string at idx (numbers accepted when numbers_ok). */
static const char *s_string_at(s_args *a, int idx, const char *path, int numbers_ok) {
    lua_State *L = a->L;
    int t = lua_type(L, idx);
    if (t != LUA_TSTRING && !(numbers_ok && t == LUA_TNUMBER)) s_fail_type(a, path, "string", idx);
    size_t len;
    const char *s;
    if (t == LUA_TNUMBER) {
        /* convert a copy and keep the string alive in the anchor table */
        lua_pushvalue(L, idx);
        s = lua_tolstring(L, -1, &len);
        lua_rawseti(L, a->anchor, (lua_Integer)lua_rawlen(L, a->anchor) + 1);
    } else {
        s = lua_tolstring(L, idx, &len);
    }
    if (strlen(s) != len) luaL_error(L, "%s: %s: contains a NUL byte", a->fn, path);
    return s;
}

/* Field of the parameter table, pushed (stays on the stack). NULL when nil. */
static const char *s_opt_string(s_args *a, const char *field) {
    if (lua_getfield(a->L, 1, field) == LUA_TNIL) return NULL;
    return s_string_at(a, -1, field, 0);
}

static const char *s_req_string(s_args *a, const char *field) {
    const char *s = s_opt_string(a, field);
    if (!s) s_fail_type(a, field, "string", -1);
    return s;
}

static bool s_opt_bool(s_args *a, const char *field, bool dflt) {
    lua_State *L = a->L;
    int t = lua_getfield(L, 1, field);
    bool v = dflt;
    if (t == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (t != LUA_TNIL)
        s_fail_type(a, field, "boolean", -1);
    lua_pop(L, 1);
    return v;
}

static const char *const s_sign_fields[] = {"method",
                                            "url",
                                            "headers",
                                            "body",
                                            "region",
                                            "service",
                                            "credentials",
                                            "time",
                                            "normalize_path",
                                            "sign_session_token",
                                            "content_sha256_header",
                                            "payload_hash",
                                            "signed_headers",
                                            NULL};

/* Edit distance, for "did you mean" on misspelt fields. */
static size_t s_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40) return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static void s_check_fields(s_args *a, bool presign) {
    lua_State *L = a->L;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: parameter keys must be field names, got a %s key", a->fn,
                       luaL_typename(L, -1));
        const char *k = lua_tostring(L, -1);
        bool known = presign && strcmp(k, "expires") == 0;
        for (const char *const *f = s_sign_fields; *f && !known; f++)
            known = strcmp(*f, k) == 0;
        if (known) continue;
        const char *near = NULL;
        size_t best = 3;
        for (const char *const *f = s_sign_fields; *f; f++) {
            size_t d = s_distance(*f, k);
            if (d < best) best = d, near = *f;
        }
        if (near) luaL_error(L, "%s: unknown field '%s' (did you mean %s?)", a->fn, k, near);
        luaL_error(L, "%s: unknown field '%s'", a->fn, k);
    }
}

/* One header value: a string or number, or in map form also a list of them. */
static void s_push_header(s_args *a, s_state *st, size_t *n, const char *name, int vidx,
                          const char *path) {
    st->hdrs = s_grow(a->L, st->hdrs, &st->cap_hdrs, *n + 1, sizeof *st->hdrs);
    st->hdrs[*n].name = name;
    st->hdrs[*n].value = s_string_at(a, vidx, path, 1);
    (*n)++;
}

/* The headers value sits at stack index hidx, fetched before any other field so that
 * from here to the end of signing only raw accesses happen: no metamethod can run and
 * re-enter sign while st's arrays are being filled. */
static size_t s_read_headers(s_args *a, s_state *st, int hidx) {
    lua_State *L = a->L;
    size_t n = 0;
    int t = lua_type(L, hidx);
    if (t == LUA_TNIL) return 0;
    if (t != LUA_TTABLE) s_fail_type(a, "headers", "table", hidx);
    char path[128];
    lua_Integer len = (lua_Integer)lua_rawlen(L, hidx);
    if (len > 0) {
        /* list of {name, value} pairs: order and duplicates are the caller's */
        size_t entries = 0;
        lua_pushnil(L);
        while (lua_next(L, hidx)) {
            lua_pop(L, 1);
            entries++;
        }
        if (entries != (size_t)len)
            luaL_error(L, "%s: headers: mixes a list of {name, value} pairs with named fields",
                       a->fn);
        luaL_checkstack(L, (int)(2 * len + 10), "too many headers");
        for (lua_Integer i = 1; i <= len; i++) {
            int pidx = lua_gettop(L) + 1;
            snprintf(path, sizeof path, "headers[%lld]", (long long)i);
            if (lua_rawgeti(L, hidx, i) != LUA_TTABLE)
                s_fail_type(a, path, "a {name, value} pair", -1);
            lua_rawgeti(L, pidx, 1);
            snprintf(path, sizeof path, "headers[%lld][1]", (long long)i);
            const char *name = s_string_at(a, -1, path, 0);
            lua_rawgeti(L, pidx, 2);
            snprintf(path, sizeof path, "headers[%lld][2]", (long long)i);
            s_push_header(a, st, &n, name, lua_gettop(L), path);
            /* leave pair, name and value on the stack: they keep the strings alive */
        }
        return n;
    }
    /* map form: name -> value (or list of values); sorted by name for determinism */
    lua_pushnil(L);
    while (lua_next(L, hidx)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "%s: headers: expected header names as keys, got a %s key", a->fn,
                       luaL_typename(L, -2));
        const char *name = lua_tostring(L, -2);
        snprintf(path, sizeof path, "headers.%.40s", name);
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_Integer m = (lua_Integer)lua_rawlen(L, -1);
            if (m == 0) s_fail_type(a, path, "string or list of strings", -1);
            for (lua_Integer j = 1; j <= m; j++) {
                lua_rawgeti(L, -1, j);
                snprintf(path, sizeof path, "headers.%.40s[%lld]", name, (long long)j);
                s_push_header(a, st, &n, name, lua_gettop(L), path);
                lua_pop(L, 1); /* the value stays referenced by the table */
            }
        } else {
            s_push_header(a, st, &n, name, lua_gettop(L), path);
        }
        lua_pop(L, 1);
    }
    /* by name, for determinism; insertion sort is stable, so the values of a list
     * keep their order */
    dt_sigv4_header *h = st->hdrs;
    for (size_t i = 1; i < n; i++) {
        dt_sigv4_header x = h[i];
        size_t j = i;
        while (j > 0 && strcmp(h[j - 1].name, x.name) > 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = x;
    }
    return n;
}

static size_t s_read_signed_headers(s_args *a, s_state *st, int idx, bool *present) {
    lua_State *L = a->L;
    int t = lua_type(L, idx);
    *present = false;
    if (t == LUA_TNIL) return 0;
    if (t != LUA_TTABLE) s_fail_type(a, "signed_headers", "list of header names", idx);
    *present = true;
    size_t n = (size_t)lua_rawlen(L, idx);
    st->signed_names =
        s_grow(L, st->signed_names, &st->cap_signed, n + 1, sizeof *st->signed_names);
    char path[48];
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        snprintf(path, sizeof path, "signed_headers[%zu]", i + 1);
        st->signed_names[i] = s_string_at(a, -1, path, 0);
        lua_pop(L, 1); /* referenced by the list */
    }
    return n;
}

static int64_t s_read_time(s_args *a) {
    lua_State *L = a->L;
    int t = lua_getfield(L, 1, "time");
    int64_t v = 0;
    if (t == LUA_TNIL) {
        v = (int64_t)time(NULL);
    } else if (t == LUA_TNUMBER) {
        lua_Number x = lua_tonumber(L, -1);
        if (!isfinite(x) || x < 0 || x > 253402300799.0)
            luaL_error(L, "%s: time: epoch seconds out of range", a->fn);
        v = (int64_t)x; /* x >= 0: truncation is floor, without a libm call */
    } else if (t == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        dt_timestamp ts;
        if (dt_sigv4_parse_amz_date(s, &v) == 0) {
            /* X-Amz-Date form */
        } else if (dt_timestamp_parse(s, len, &ts) == 0 && ts.seconds >= 0) {
            v = ts.seconds;
        } else {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "%s: time: expected ISO 8601 (\"2015-08-30T12:36:00Z\"), "
                     "\"20150830T123600Z\" or epoch seconds, got \"%.40s\"",
                     a->fn, s);
            luaL_error(L, "%s", msg);
        }
    } else {
        s_fail_type(a, "time", "string or number", -1);
    }
    lua_pop(L, 1);
    return v;
}

static void s_read_credentials(s_args *a, dt_sigv4_credentials *c) {
    lua_State *L = a->L;
    int t = lua_getfield(L, 1, "credentials");
    if (t != LUA_TTABLE && t != LUA_TUSERDATA) s_fail_type(a, "credentials", "table", -1);
    int cidx = lua_gettop(L);
    lua_getfield(L, cidx, "access_key_id");
    if (lua_type(L, -1) != LUA_TSTRING) s_fail_type(a, "credentials.access_key_id", "string", -1);
    c->access_key_id = s_string_at(a, -1, "credentials.access_key_id", 0);
    lua_getfield(L, cidx, "secret_access_key");
    if (lua_type(L, -1) != LUA_TSTRING)
        s_fail_type(a, "credentials.secret_access_key", "string", -1);
    c->secret_access_key = s_string_at(a, -1, "credentials.secret_access_key", 0);
    t = lua_getfield(L, cidx, "session_token");
    c->session_token = NULL;
    if (t == LUA_TSTRING)
        c->session_token = s_string_at(a, -1, "credentials.session_token", 0);
    else if (t != LUA_TNIL && !(t == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
        s_fail_type(a, "credentials.session_token", "string or nil", -1);
    if (!*c->access_key_id) luaL_error(L, "%s: credentials.access_key_id: empty", a->fn);
    if (!*c->secret_access_key) luaL_error(L, "%s: credentials.secret_access_key: empty", a->fn);
}

/* ------------------------------------------------------------------ results */

static void s_set_str(lua_State *L, const char *field, const char *s, size_t len) {
    lua_pushlstring(L, s, len);
    lua_setfield(L, -2, field);
}

static void s_set_buf(lua_State *L, const char *field, const dt_buf *b) {
    s_set_str(L, field, b->data ? b->data : "", b->len);
}

static void s_push_added(lua_State *L, const dt_sigv4_result *res) {
    lua_createtable(L, (int)res->n_added, 0);
    for (size_t i = 0; i < res->n_added; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, res->added[i].name);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, res->added[i].value);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "headers");
}

static void s_wipe_buf(dt_buf *b) {
    if (b->data && b->len) dt_wipe(b->data, b->len);
}

static int s_run(lua_State *L, bool presign) {
    s_args a = {L, presign ? "aws.sigv4.presign" : "aws.sigv4.sign", 0};
    if (lua_type(L, 1) != LUA_TTABLE)
        return luaL_error(L, "%s: expected a table of parameters, got %s", a.fn,
                          luaL_typename(L, 1));
    lua_settop(L, 1);
    luaL_checkstack(L, 40, "aws.sigv4");
    s_state *st = luaL_checkudata(L, lua_upvalueindex(1), S_STATE_MT);
    if (!st->live) return luaL_error(L, "%s: signer state closed", a.fn);
    lua_newtable(L);
    a.anchor = lua_gettop(L);
    s_check_fields(&a, presign);
    /* fetched first: see s_read_headers */
    lua_getfield(L, 1, "headers");
    int headers_idx = lua_gettop(L);
    lua_getfield(L, 1, "signed_headers");
    int signed_idx = lua_gettop(L);

    dt_sigv4_request req;
    dt_sigv4_request_init(&req);
    req.method = s_req_string(&a, "method");
    req.url = s_req_string(&a, "url");
    req.region = s_req_string(&a, "region");
    req.service = s_req_string(&a, "service");
    if (lua_getfield(L, 1, "body") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING) s_fail_type(&a, "body", "string", -1);
        req.body = lua_tolstring(L, -1, &req.body_len);
    }
    s_read_credentials(&a, &req.credentials);
    req.time_s = s_read_time(&a);
    req.normalize_path = s_opt_bool(&a, "normalize_path", true);
    req.sign_session_token = s_opt_bool(&a, "sign_session_token", true);
    req.content_sha256_header = s_opt_bool(&a, "content_sha256_header", false);
    req.payload_hash = s_opt_string(&a, "payload_hash");
    if (presign) {
        int t = lua_getfield(L, 1, "expires");
        if (t != LUA_TNIL) {
            int isint = 0;
            lua_Integer e = lua_tointegerx(L, -1, &isint);
            if (t != LUA_TNUMBER || !isint) s_fail_type(&a, "expires", "integer (seconds)", -1);
            if (e < 1 || e > DT_SIGV4_MAX_EXPIRES_S)
                luaL_error(L, "%s: expires: expected 1..%d seconds, got %I", a.fn,
                           DT_SIGV4_MAX_EXPIRES_S, e);
            req.expires_s = e;
        }
    }
    req.n_headers = s_read_headers(&a, st, headers_idx);
    req.headers = st->hdrs;
    bool have_list;
    req.n_signed_headers = s_read_signed_headers(&a, st, signed_idx, &have_list);
    if (have_list) req.signed_headers = st->signed_names;

    dt_sigv4_result *res = &st->res;
    int rc = presign ? dt_sigv4_presign(&req, res) : dt_sigv4_sign(&req, res);
    if (rc != DT_SIGV4_OK) return luaL_error(L, "%s: %s", a.fn, res->error);

    lua_createtable(L, 0, 12);
    s_set_buf(L, "canonical_request", &res->canonical_request);
    s_set_buf(L, "string_to_sign", &res->string_to_sign);
    s_set_str(L, "signature", res->signature, strlen(res->signature));
    s_set_str(L, "amz_date", res->amz_date, strlen(res->amz_date));
    s_set_buf(L, "signed_headers", &res->signed_headers);
    s_set_buf(L, "credential_scope", &res->credential_scope);
    s_set_str(L, "payload_hash", res->payload_hash, strlen(res->payload_hash));
    if (presign)
        s_set_buf(L, "url", &res->url);
    else
        s_set_buf(L, "authorization", &res->authorization);
    s_push_added(L, res);
    /* the C copies may hold the session token; Lua has its own now */
    s_wipe_buf(&res->canonical_request);
    s_wipe_buf(&res->url);
    s_wipe_buf(&res->session_token);
    return 1;
}

static int s_sign(lua_State *L) {
    return s_run(L, false);
}

static int s_presign(lua_State *L) {
    return s_run(L, true);
}

int luaopen_aws_sigv4(lua_State *L);
int luaopen_aws_sigv4(lua_State *L) {
    static const luaL_Reg meta[] = {
        {"__gc", s_state_release}, {"__close", s_state_release}, {NULL, NULL}};
    static const luaL_Reg fns[] = {{"sign", s_sign}, {"presign", s_presign}, {NULL, NULL}};
    lua_newtable(L);
    s_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    memset(st, 0, sizeof *st);
    dt_sigv4_result_init(&st->res);
    st->live = 1;
    if (luaL_newmetatable(L, S_STATE_MT)) {
        luaL_setfuncs(L, meta, 0);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    luaL_setfuncs(L, fns, 1);
    lua_pushstring(L, DT_SIGV4_ALGORITHM);
    lua_setfield(L, -2, "ALGORITHM");
    lua_pushstring(L, DT_SIGV4_UNSIGNED_PAYLOAD);
    lua_setfield(L, -2, "UNSIGNED_PAYLOAD");
    return 1;
}

/* ================================================================== aws.core.crypto */

static int s_c_sha256(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    uint8_t md[DT_SHA256_LEN];
    if (dt_sha256(NULL, s, len, md) != 0) return luaL_error(L, "sha256: OpenSSL failure");
    lua_pushlstring(L, (const char *)md, sizeof md);
    return 1;
}

static int s_c_sha256_hex(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[DT_SHA256_HEX_LEN + 1];
    if (dt_sha256_hex(NULL, s, len, hex) != 0) return luaL_error(L, "sha256_hex: OpenSSL failure");
    lua_pushlstring(L, hex, DT_SHA256_HEX_LEN);
    return 1;
}

/* For cache file names chosen by other tools (the SSO token cache); not for integrity. */
static int s_c_sha1_hex(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[DT_SHA1_HEX_LEN + 1];
    if (dt_sha1_hex(s, len, hex) != 0) return luaL_error(L, "sha1_hex: OpenSSL failure");
    lua_pushlstring(L, hex, DT_SHA1_HEX_LEN);
    return 1;
}

static int s_c_hmac_sha256(lua_State *L) {
    size_t klen, mlen;
    const char *k = luaL_checklstring(L, 1, &klen);
    const char *m = luaL_checklstring(L, 2, &mlen);
    uint8_t md[DT_SHA256_LEN];
    if (dt_hmac_sha256(NULL, k, klen, m, mlen, md) != 0)
        return luaL_error(L, "hmac_sha256: OpenSSL failure");
    lua_pushlstring(L, (const char *)md, sizeof md);
    dt_wipe(md, sizeof md);
    return 1;
}

static int s_c_hex(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, 2 * len + 1);
    dt_hex_encode(s, len, out);
    luaL_pushresultsize(&b, 2 * len);
    return 1;
}

static int s_c_base64_encode(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (len > ((size_t)-1) / 2) return luaL_error(L, "base64_encode: input too large");
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, DT_BASE64_ENCODED_LEN(len) + 1);
    size_t n = dt_base64_encode(s, len, out);
    luaL_pushresultsize(&b, n);
    return 1;
}

static int s_c_base64_decode(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    uint8_t *out = (uint8_t *)luaL_buffinitsize(L, &b, DT_BASE64_DECODED_MAX(len) + 1);
    size_t n = 0;
    if (dt_base64_decode(s, len, out, &n) != 0) {
        luaL_pushresultsize(&b, 0);
        lua_pushnil(L);
        lua_pushstring(L, "invalid base64");
        return 2;
    }
    luaL_pushresultsize(&b, n);
    return 1;
}

#define S_RANDOM_MAX (1 << 20)

static int s_c_random_bytes(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= S_RANDOM_MAX, 1, "expected 0..1048576 bytes");
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, (size_t)n + 1);
    if (dt_random_bytes(out, (size_t)n) != 0)
        return luaL_error(L, "random_bytes: no random bytes available");
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

static int s_c_uuid4(lua_State *L) {
    char u[DT_UUID_STR_LEN + 1];
    if (dt_uuid4(u) != 0) return luaL_error(L, "uuid4: no random bytes available");
    lua_pushlstring(L, u, DT_UUID_STR_LEN);
    return 1;
}

int luaopen_aws_core_crypto(lua_State *L);
int luaopen_aws_core_crypto(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"sha256", s_c_sha256},
        {"sha256_hex", s_c_sha256_hex},
        {"sha1_hex", s_c_sha1_hex},
        {"hmac_sha256", s_c_hmac_sha256},
        {"hex", s_c_hex},
        {"base64_encode", s_c_base64_encode},
        {"base64_decode", s_c_base64_decode},
        {"random_bytes", s_c_random_bytes},
        {"uuid4", s_c_uuid4},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    return 1;
}
