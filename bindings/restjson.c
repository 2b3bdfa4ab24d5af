/* restjson.c: the rest-json protocol (see restjson.h), checked against botocore 1.29.27.
 *
 * Requests: URI labels percent-encoded with only -._~ left alone ('/' kept for greedy
 * {Label+}); query members repeated for lists, spread for maps; header members; a JSON
 * body of the body members, written here from the shape so that an empty list is [] and an
 * empty structure or map is {}. Like botocore, an input with body members but none given
 * sends "{}", an input with no body members (or no input) sends no body, and Content-Type
 * is application/json exactly when there is a body. Absent idempotency tokens get a uuid4.
 * Responses are decoded with lua-cjson, then walked with the output shape: wire names become
 * member names, JSON null disappears, integer shapes become Lua integers, blobs are decoded,
 * keys the model does not know are kept (forward compatibility). Timestamps stay as the
 * service sent them: a string for iso8601 shapes, epoch seconds as a number otherwise.
 * It does not validate (validate.c ran before) and does no I/O. */
#include "restjson.h"

#include "timestamp.h"
#include "validate.h"
#include "wire.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_EXCERPT_CHARS 160

static const dt_shape *s_shape(const dt_service *svc, uint16_t idx) {
    return idx < svc->n_shapes ? &svc->shapes[idx] : NULL;
}

/* --- request ------------------------------------------------------------------------- */

/* Pushes the member's value from params (a uuid4 for an absent idempotency token).
 * Returns the Lua type pushed. */
static int s_get_member(lua_State *L, const dt_service *svc, int params, const dt_member *m) {
    int t = LUA_TNIL;
    if (params) {
        lua_pushstring(L, dt_str(svc, m->name));
        t = lua_rawget(L, params);
    } else {
        lua_pushnil(L);
    }
    if (t == LUA_TNIL && (m->flags & DT_MF_IDEMPOTENCY_TOKEN)) {
        char uuid[37];
        dt_wire_uuid4(uuid);
        lua_pop(L, 1);
        lua_pushstring(L, uuid);
        t = LUA_TSTRING;
    }
    return t;
}

static void s_timestamp_text(lua_State *L, int idx, int format, char *out) {
    dt_timestamp ts = {0, 0};
    dt_validate_timestamp(L, idx, &ts);
    if (format == DT_TS_EPOCH)
        dt_timestamp_format_epoch(&ts, out);
    else if (format == DT_TS_RFC822)
        dt_timestamp_format_rfc822(&ts, out);
    else
        dt_timestamp_format_iso8601(&ts, out);
}

/* Text form of a scalar for URI labels, query values and headers. default_ts: the format
 * used when the shape names none (iso8601 in the URI and query, rfc822 in headers). */
static void s_add_scalar_text(lua_State *L, dt_buf *b, const dt_shape *sh, int idx,
                              int default_ts) {
    char tmp[DT_TIMESTAMP_BUF > DT_WIRE_NUM_BUF ? DT_TIMESTAMP_BUF : DT_WIRE_NUM_BUF];
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        dt_wire_adds(L, b, lua_toboolean(L, idx) ? "true" : "false");
        return;
    case LUA_TNUMBER:
        if (sh && sh->type == DT_T_TIMESTAMP) break;
        if (lua_isinteger(L, idx) || (sh && (sh->type == DT_T_INTEGER || sh->type == DT_T_LONG))) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, idx));
        } else {
            dt_wire_format_double(lua_tonumber(L, idx), tmp);
        }
        dt_wire_adds(L, b, tmp);
        return;
    case LUA_TSTRING:
        if (sh && sh->type == DT_T_TIMESTAMP) break;
        if (sh && sh->type == DT_T_BLOB) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            dt_wire_base64(L, b, (const unsigned char *)s, len);
            return;
        }
        {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            dt_wire_add(L, b, s, len);
        }
        return;
    default:
        return;
    }
    s_timestamp_text(L, idx, sh->ts_format == DT_TS_DEFAULT ? default_ts : sh->ts_format, tmp);
    dt_wire_adds(L, b, tmp);
}

/* Scalar text, percent-encoded, appended to out (scratch is a GC-owned buffer). */
static void s_add_encoded(lua_State *L, dt_buf *out, dt_buf *scratch, const dt_shape *sh, int idx,
                          int keep_slash) {
    dt_buf_reset(scratch);
    s_add_scalar_text(L, scratch, sh, idx, DT_TS_ISO8601);
    dt_wire_percent(L, out, scratch->data ? scratch->data : "", scratch->len, keep_slash);
}

static void s_json_value(lua_State *L, dt_buf *b, const dt_service *svc, uint16_t shape, int idx);

static void s_json_structure(lua_State *L, dt_buf *b, const dt_service *svc, const dt_shape *sh,
                             int idx, int body_only) {
    int first = 1;
    const dt_member *members = dt_shape_members(svc, sh);
    dt_wire_addc(L, b, '{');
    for (uint16_t i = 0; i < sh->n_members; i++) {
        const dt_member *m = &members[i];
        if (body_only && m->location != DT_LOC_BODY) continue;
        if (s_get_member(L, svc, idx, m) != LUA_TNIL) {
            const char *wire = dt_str(svc, m->wire_name);
            if (!first) dt_wire_addc(L, b, ',');
            first = 0;
            dt_wire_json_string(L, b, wire, strlen(wire));
            dt_wire_addc(L, b, ':');
            s_json_value(L, b, svc, m->shape, lua_gettop(L));
        }
        lua_pop(L, 1);
    }
    dt_wire_addc(L, b, '}');
}

static void s_json_value(lua_State *L, dt_buf *b, const dt_service *svc, uint16_t shape, int idx) {
    const dt_shape *sh = s_shape(svc, shape);
    char tmp[DT_TIMESTAMP_BUF > DT_WIRE_NUM_BUF ? DT_TIMESTAMP_BUF : DT_WIRE_NUM_BUF];
    luaL_checkstack(L, 8, "parameters nested too deeply");
    if (!sh) {
        dt_wire_adds(L, b, "null");
        return;
    }
    switch (sh->type) {
    case DT_T_STRUCTURE:
        s_json_structure(L, b, svc, sh, idx, 0);
        return;
    case DT_T_LIST: {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        dt_wire_addc(L, b, '[');
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1) dt_wire_addc(L, b, ',');
            lua_rawgeti(L, idx, i);
            s_json_value(L, b, svc, sh->member, lua_gettop(L));
            lua_pop(L, 1);
        }
        dt_wire_addc(L, b, ']');
        return;
    }
    case DT_T_MAP: {
        int first = 1;
        dt_wire_addc(L, b, '{');
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen); /* validated: keys are strings */
            if (!first) dt_wire_addc(L, b, ',');
            first = 0;
            dt_wire_json_string(L, b, k, klen);
            dt_wire_addc(L, b, ':');
            s_json_value(L, b, svc, sh->value, lua_gettop(L));
            lua_pop(L, 1);
        }
        dt_wire_addc(L, b, '}');
        return;
    }
    case DT_T_STRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        dt_wire_json_string(L, b, s ? s : "", s ? len : 0);
        return;
    }
    case DT_T_INTEGER:
    case DT_T_LONG:
        snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, idx));
        dt_wire_adds(L, b, tmp);
        return;
    case DT_T_DOUBLE:
    case DT_T_FLOAT:
        if (lua_isinteger(L, idx))
            snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, idx));
        else
            dt_wire_format_double(lua_tonumber(L, idx), tmp);
        dt_wire_adds(L, b, tmp);
        return;
    case DT_T_BOOLEAN:
        dt_wire_adds(L, b, lua_toboolean(L, idx) ? "true" : "false");
        return;
    case DT_T_TIMESTAMP:
        /* rest-json's default is epoch seconds as a JSON number */
        if (sh->ts_format == DT_TS_ISO8601 || sh->ts_format == DT_TS_RFC822) {
            s_timestamp_text(L, idx, sh->ts_format, tmp);
            dt_wire_json_string(L, b, tmp, strlen(tmp));
        } else {
            s_timestamp_text(L, idx, DT_TS_EPOCH, tmp);
            dt_wire_adds(L, b, tmp);
        }
        return;
    case DT_T_BLOB: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        dt_wire_addc(L, b, '"');
        dt_wire_base64(L, b, (const unsigned char *)s, len);
        dt_wire_addc(L, b, '"');
        return;
    }
    default:
        dt_wire_adds(L, b, "null");
    }
}

static const dt_member *s_uri_member(const dt_service *svc, const dt_shape *in, const char *label,
                                     size_t len) {
    for (uint16_t i = 0; in && i < in->n_members; i++) {
        const dt_member *m = &dt_shape_members(svc, in)[i];
        const char *wire = dt_str(svc, m->wire_name);
        if (m->location == DT_LOC_URI && strlen(wire) == len && memcmp(wire, label, len) == 0)
            return m;
    }
    return NULL;
}

static void s_query_pair(lua_State *L, dt_buf *q, dt_buf *scratch, const char *name, size_t nlen,
                         const dt_shape *sh, int vidx) {
    if (q->len > 0) dt_wire_addc(L, q, '&');
    dt_wire_percent(L, q, name, nlen, 0);
    dt_wire_addc(L, q, '=');
    s_add_encoded(L, q, scratch, sh, vidx, 0);
}

static void s_add_header(lua_State *L, int headers, const char *name, size_t nlen,
                         const char *value, size_t vlen) {
    lua_createtable(L, 2, 0);
    lua_pushlstring(L, name, nlen);
    lua_rawseti(L, -2, 1);
    lua_pushlstring(L, value, vlen);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, headers, (lua_Integer)lua_rawlen(L, headers) + 1);
}

void dt_restjson_build(lua_State *L, const dt_service *svc, const dt_operation *op, int idx) {
    idx = lua_absindex(L, idx);
    int params = lua_istable(L, idx) ? idx : 0;
    const dt_shape *in = op->input == DT_NO_SHAPE ? NULL : s_shape(svc, op->input);
    luaL_checkstack(L, 20, NULL);
    int top = lua_gettop(L);

    dt_buf *path = dt_wire_buffer(L);
    dt_buf *query = dt_wire_buffer(L);
    dt_buf *scratch = dt_wire_buffer(L);
    dt_buf *body = dt_wire_buffer(L);
    lua_newtable(L);
    int headers = lua_gettop(L);

    /* the URI template; a literal query after '?' is kept as written */
    const char *uri = op->request_uri ? dt_str(svc, op->request_uri) : "/";
    const char *qmark = strchr(uri, '?');
    size_t uri_len = qmark ? (size_t)(qmark - uri) : strlen(uri);
    for (size_t i = 0; i < uri_len; i++) {
        if (uri[i] != '{') {
            dt_wire_addc(L, path, uri[i]);
            continue;
        }
        const char *end = memchr(uri + i, '}', uri_len - i);
        if (!end) {
            dt_wire_add(L, path, uri + i, uri_len - i);
            break;
        }
        const char *label = uri + i + 1;
        size_t llen = (size_t)(end - label);
        int greedy = llen > 0 && label[llen - 1] == '+';
        if (greedy) llen--;
        const dt_member *m = s_uri_member(svc, in, label, llen);
        if (m && s_get_member(L, svc, params, m) != LUA_TNIL)
            s_add_encoded(L, path, scratch, s_shape(svc, m->shape), lua_gettop(L), greedy);
        if (m) lua_pop(L, 1);
        i = (size_t)(end - uri);
    }
    if (qmark && qmark[1]) dt_wire_adds(L, query, qmark + 1);

    int has_body_members = 0, body_given = 0;
    for (uint16_t i = 0; in && i < in->n_members; i++) {
        const dt_member *m = &dt_shape_members(svc, in)[i];
        const dt_shape *sh = s_shape(svc, m->shape);
        const char *wire = dt_str(svc, m->wire_name);
        if (m->location == DT_LOC_BODY) {
            has_body_members = 1;
            lua_pushstring(L, dt_str(svc, m->name));
            if ((params && lua_rawget(L, params) != LUA_TNIL) ||
                (m->flags & DT_MF_IDEMPOTENCY_TOKEN))
                body_given = 1;
            lua_pop(L, 1);
            continue;
        }
        if (m->location == DT_LOC_URI || m->location == DT_LOC_STATUS) continue;
        if (s_get_member(L, svc, params, m) == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        int v = lua_gettop(L);
        size_t wlen = strlen(wire);
        if (m->location == DT_LOC_QUERY) {
            if (sh->type == DT_T_LIST) {
                lua_Integer n = (lua_Integer)lua_rawlen(L, v);
                for (lua_Integer k = 1; k <= n; k++) {
                    lua_rawgeti(L, v, k);
                    s_query_pair(L, query, scratch, wire, wlen, s_shape(svc, sh->member),
                                 lua_gettop(L));
                    lua_pop(L, 1);
                }
            } else if (sh->type == DT_T_MAP) {
                /* a map spreads into the query: each key is a parameter name */
                const dt_shape *vsh = s_shape(svc, sh->value);
                lua_pushnil(L);
                while (lua_next(L, v)) {
                    size_t klen;
                    const char *k = lua_tolstring(L, -2, &klen);
                    if (vsh && vsh->type == DT_T_LIST) {
                        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
                        for (lua_Integer e = 1; e <= n; e++) {
                            lua_rawgeti(L, -1, e);
                            s_query_pair(L, query, scratch, k, klen, s_shape(svc, vsh->member),
                                         lua_gettop(L));
                            lua_pop(L, 1);
                        }
                    } else {
                        s_query_pair(L, query, scratch, k, klen, vsh, lua_gettop(L));
                    }
                    lua_pop(L, 1);
                }
            } else {
                s_query_pair(L, query, scratch, wire, wlen, sh, v);
            }
        } else if (m->location == DT_LOC_HEADER) {
            dt_buf_reset(scratch);
            if (sh->type == DT_T_LIST) {
                lua_Integer n = (lua_Integer)lua_rawlen(L, v);
                for (lua_Integer k = 1; k <= n; k++) {
                    if (k > 1) dt_wire_addc(L, scratch, ',');
                    lua_rawgeti(L, v, k);
                    s_add_scalar_text(L, scratch, s_shape(svc, sh->member), lua_gettop(L),
                                      DT_TS_RFC822);
                    lua_pop(L, 1);
                }
                if (n > 0) s_add_header(L, headers, wire, wlen, scratch->data, scratch->len);
            } else {
                s_add_scalar_text(L, scratch, sh, v, DT_TS_RFC822);
                s_add_header(L, headers, wire, wlen, scratch->data ? scratch->data : "",
                             scratch->len);
            }
        } else if (m->location == DT_LOC_HEADERS && sh->type == DT_T_MAP) {
            lua_pushnil(L);
            while (lua_next(L, v)) {
                dt_buf_reset(scratch);
                dt_wire_add(L, scratch, wire, wlen);
                size_t klen;
                const char *k = lua_tolstring(L, -2, &klen);
                dt_wire_add(L, scratch, k, klen);
                size_t name_len = scratch->len;
                s_add_scalar_text(L, scratch, s_shape(svc, sh->value), lua_gettop(L), DT_TS_RFC822);
                s_add_header(L, headers, scratch->data, name_len, scratch->data + name_len,
                             scratch->len - name_len);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }

    if (in && body_given)
        s_json_structure(L, body, svc, in, params, 1);
    else if (in && has_body_members)
        dt_wire_adds(L, body, "{}");
    if (body->len > 0) {
        lua_createtable(L, 2, 0);
        lua_pushliteral(L, "Content-Type");
        lua_rawseti(L, -2, 1);
        lua_pushliteral(L, "application/json");
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, headers, (lua_Integer)lua_rawlen(L, headers) + 1);
    }

    lua_createtable(L, 0, 4);
    lua_pushstring(L, op->http_method ? dt_str(svc, op->http_method) : "POST");
    lua_setfield(L, -2, "method");
    if (query->len > 0) {
        dt_wire_addc(L, path, '?');
        dt_wire_add(L, path, query->data, query->len);
    }
    lua_pushlstring(L, path->data ? path->data : "/", path->data ? path->len : 1);
    lua_setfield(L, -2, "path");
    lua_pushvalue(L, headers);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, body->data ? body->data : "", body->len);
    lua_setfield(L, -2, "body");

    dt_wire_buffer_release(path);
    dt_wire_buffer_release(query);
    dt_wire_buffer_release(scratch);
    dt_wire_buffer_release(body);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
}

/* --- responses ------------------------------------------------------------------------ */

static const char s_cjson_key[] = "aws.core.protocol.cjson";

/* Pushes the decoded body, or nil and a message. An empty body decodes to an empty table. */
static void s_json_decode(lua_State *L, const char *body, size_t len) {
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len) {
        lua_newtable(L);
        lua_pushnil(L);
        return;
    }
    if (lua_getfield(L, LUA_REGISTRYINDEX, s_cjson_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_getglobal(L, "require");
        lua_pushliteral(L, "cjson.safe");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "new"); /* our own instance: settings do not leak to other users */
        lua_call(L, 0, 1);
        lua_remove(L, -2);
        lua_getfield(L, -1, "decode_max_depth");
        lua_pushinteger(L, DT_MAX_DEPTH);
        lua_call(L, 1, 0);
        lua_getfield(L, -1, "decode_invalid_numbers");
        lua_pushboolean(L, 0);
        lua_call(L, 1, 0);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, s_cjson_key);
    }
    lua_getfield(L, -1, "decode");
    lua_remove(L, -2);
    lua_pushlstring(L, body, len);
    lua_call(L, 1, 2);
}

static int s_is_null(lua_State *L, int idx) {
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* Pushes a number as a Lua integer when it is integral and exactly representable. */
static void s_push_integral(lua_State *L, int idx) {
    if (!lua_isinteger(L, idx)) {
        double d = lua_tonumber(L, idx);
        if (d == floor(d) && fabs(d) <= 9007199254740992.0) {
            lua_pushinteger(L, (lua_Integer)d);
            return;
        }
    }
    lua_pushvalue(L, idx);
}

/* Values the model does not describe: copied with nulls removed and integral numbers
 * made integers. */
static void s_generic(lua_State *L, int idx, int depth) {
    luaL_checkstack(L, 6, NULL);
    if (lua_type(L, idx) == LUA_TNUMBER) {
        s_push_integral(L, idx);
        return;
    }
    if (!lua_istable(L, idx) || depth > DT_MAX_DEPTH) {
        if (s_is_null(L, idx))
            lua_pushnil(L);
        else
            lua_pushvalue(L, idx);
        return;
    }
    lua_newtable(L);
    int out = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), next = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        s_generic(L, lua_gettop(L), depth + 1);
        if (!lua_isnil(L, -1)) {
            if (lua_isinteger(L, -3) && lua_tointeger(L, -3) >= 1 && lua_tointeger(L, -3) <= n) {
                lua_rawseti(L, out, next++); /* arrays stay sequences without the nulls */
            } else {
                lua_pushvalue(L, -3);
                lua_insert(L, -2);
                lua_rawset(L, out);
            }
        } else {
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    (void)next;
}

static void s_from_json(lua_State *L, const dt_service *svc, uint16_t shape, int idx, int depth);

static const dt_member *s_member_by_wire(const dt_service *svc, const dt_shape *sh,
                                         const char *wire) {
    const dt_member *members = dt_shape_members(svc, sh);
    for (uint16_t i = 0; i < sh->n_members; i++)
        if (strcmp(dt_str(svc, members[i].wire_name), wire) == 0) return &members[i];
    return NULL;
}

/* Sets out[name] from the JSON object at idx for each body member, then copies unknown keys. */
static void s_structure_from_json(lua_State *L, const dt_service *svc, const dt_shape *sh, int idx,
                                  int out, int depth) {
    const dt_member *members = dt_shape_members(svc, sh);
    for (uint16_t i = 0; i < sh->n_members; i++) {
        const dt_member *m = &members[i];
        if (m->location != DT_LOC_BODY) continue;
        lua_getfield(L, idx, dt_str(svc, m->wire_name));
        if (!lua_isnil(L, -1)) {
            s_from_json(L, svc, m->shape, lua_gettop(L), depth + 1);
            if (!lua_isnil(L, -1))
                lua_setfield(L, out, dt_str(svc, m->name));
            else
                lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const dt_member *m =
            lua_type(L, -2) == LUA_TSTRING ? s_member_by_wire(svc, sh, lua_tostring(L, -2)) : NULL;
        if (!m) {
            s_generic(L, lua_gettop(L), depth + 1);
            if (!lua_isnil(L, -1)) {
                lua_pushvalue(L, -3);
                lua_insert(L, -2);
                lua_rawset(L, out);
            } else {
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
}

static void s_from_json(lua_State *L, const dt_service *svc, uint16_t shape, int idx, int depth) {
    const dt_shape *sh = s_shape(svc, shape);
    luaL_checkstack(L, 8, NULL);
    if (s_is_null(L, idx)) {
        lua_pushnil(L);
        return;
    }
    if (!sh || depth > DT_MAX_DEPTH) {
        s_generic(L, idx, depth);
        return;
    }
    int t = lua_type(L, idx);
    switch (sh->type) {
    case DT_T_STRUCTURE:
        if (t != LUA_TTABLE) break;
        lua_newtable(L);
        s_structure_from_json(L, svc, sh, idx, lua_gettop(L), depth);
        return;
    case DT_T_LIST: {
        if (t != LUA_TTABLE) break;
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx), k = 0;
        lua_createtable(L, (int)(n < 1024 ? n : 1024), 0);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            s_from_json(L, svc, sh->member, lua_gettop(L), depth + 1);
            if (!lua_isnil(L, -1))
                lua_rawseti(L, -3, ++k);
            else
                lua_pop(L, 1);
            lua_pop(L, 1);
        }
        return;
    }
    case DT_T_MAP: {
        if (t != LUA_TTABLE) break;
        lua_newtable(L);
        int out = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            s_from_json(L, svc, sh->value, lua_gettop(L), depth + 1);
            if (!lua_isnil(L, -1)) {
                lua_pushvalue(L, -3);
                lua_insert(L, -2);
                lua_rawset(L, out);
            } else {
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        return;
    }
    case DT_T_INTEGER:
    case DT_T_LONG:
    case DT_T_TIMESTAMP:
        if (t == LUA_TNUMBER) {
            s_push_integral(L, idx);
            return;
        }
        break;
    case DT_T_DOUBLE:
    case DT_T_FLOAT:
        if (t == LUA_TNUMBER) {
            lua_pushnumber(L, lua_tonumber(L, idx));
            return;
        }
        break;
    case DT_T_BLOB:
        if (t == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            if (dt_wire_push_base64_decoded(L, s, len)) return;
        }
        break;
    default:
        break;
    }
    s_generic(L, idx, depth); /* the service sent something else: keep it as it came */
}

/* header-bound and statusCode output members */
static void s_fill_from_http(lua_State *L, const dt_service *svc, const dt_shape *sh, int out,
                             lua_Integer status, int headers) {
    char lower[128];
    const dt_member *members = dt_shape_members(svc, sh);
    for (uint16_t i = 0; i < sh->n_members; i++) {
        const dt_member *m = &members[i];
        const dt_shape *msh = s_shape(svc, m->shape);
        const char *mname = dt_str(svc, m->name);
        if (m->location == DT_LOC_STATUS) {
            lua_pushinteger(L, status);
            lua_setfield(L, out, mname);
            continue;
        }
        if (m->location != DT_LOC_HEADER && m->location != DT_LOC_HEADERS) continue;
        size_t n = 0;
        for (const char *p = dt_str(svc, m->wire_name); *p && n + 1 < sizeof lower; p++)
            lower[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        lower[n] = '\0';
        if (m->location == DT_LOC_HEADERS) {
            if (!lua_istable(L, headers)) continue;
            lua_newtable(L);
            int any = 0;
            lua_pushnil(L);
            while (lua_next(L, headers)) {
                if (lua_type(L, -2) == LUA_TSTRING &&
                    strncasecmp(lua_tostring(L, -2), lower, n) == 0) {
                    lua_pushstring(L, lua_tostring(L, -2) + n);
                    lua_insert(L, -2);
                    lua_rawset(L, -4);
                    any = 1;
                } else {
                    lua_pop(L, 1);
                }
            }
            if (any)
                lua_setfield(L, out, mname);
            else
                lua_pop(L, 1);
            continue;
        }
        if (dt_wire_get_header(L, headers, lower) != LUA_TSTRING) {
            lua_pop(L, 1);
            continue;
        }
        int v = lua_gettop(L);
        if (msh && (msh->type == DT_T_INTEGER || msh->type == DT_T_LONG ||
                    msh->type == DT_T_DOUBLE || msh->type == DT_T_FLOAT)) {
            if (lua_stringtonumber(L, lua_tostring(L, v)) == 0) lua_pushvalue(L, v);
        } else if (msh && msh->type == DT_T_BOOLEAN) {
            lua_pushboolean(L, strcmp(lua_tostring(L, v), "true") == 0);
        } else {
            lua_pushvalue(L, v);
        }
        lua_setfield(L, out, mname);
        lua_pop(L, 1);
    }
}

static void s_raise(lua_State *L, const dt_service *svc, const dt_operation *op, const char *what,
                    const char *detail) {
    lua_pushfstring(L, "%s:%s: %s: %s", svc->name, dt_str(svc, op->lua_name), what, detail);
    lua_error(L);
}

void dt_restjson_parse(lua_State *L, const dt_service *svc, const dt_operation *op,
                       lua_Integer status, int headers_idx, const char *body, size_t len) {
    headers_idx = lua_absindex(L, headers_idx);
    int top = lua_gettop(L);
    s_json_decode(L, body, len);
    if (lua_isnil(L, -2))
        s_raise(L, svc, op, "cannot parse the response as JSON", lua_tostring(L, -1));
    lua_pop(L, 1);
    int decoded = lua_gettop(L);
    if (!lua_istable(L, decoded) && !s_is_null(L, decoded)) {
        s_raise(L, svc, op, "cannot parse the response as JSON",
                "expected an object at the top level");
    }
    const dt_shape *out_shape = op->output == DT_NO_SHAPE ? NULL : s_shape(svc, op->output);
    lua_newtable(L);
    int out = lua_gettop(L);
    if (out_shape && lua_istable(L, decoded)) {
        s_structure_from_json(L, svc, out_shape, decoded, out, 1);
    } else if (lua_istable(L, decoded)) {
        /* no output shape: keep whatever came, like unknown keys */
        s_generic(L, decoded, 1);
        lua_replace(L, out);
    }
    if (out_shape) s_fill_from_http(L, svc, out_shape, out, status, headers_idx);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
}

/* 1 when code names the error shape sh (by its error code or its shape name) */
static int s_is_error(const dt_service *svc, const dt_shape *sh, const char *code) {
    return (sh->error_code && strcmp(dt_str(svc, sh->error_code), code) == 0) ||
           strcmp(dt_str(svc, sh->name), code) == 0;
}

const dt_shape *dt_restjson_error_shape(const dt_service *svc, const dt_operation *op,
                                        const char *code) {
    for (uint16_t i = 0; op && i < op->n_errors; i++) {
        const dt_shape *sh = s_shape(svc, dt_op_error(svc, op, i));
        if (sh && s_is_error(svc, sh, code)) return sh;
    }
    for (size_t i = 0; i < svc->n_shapes; i++) {
        const dt_shape *sh = &svc->shapes[i];
        if ((sh->flags & DT_SF_EXCEPTION) && s_is_error(svc, sh, code)) return sh;
    }
    return NULL;
}

/* 1 when the table at idx has any entry */
static int s_nonempty(lua_State *L, int idx) {
    lua_pushnil(L);
    if (lua_next(L, idx)) {
        lua_pop(L, 2);
        return 1;
    }
    return 0;
}

/* pushes the first string among body[k1], body[k2], ... or returns 0 */
static int s_body_string(lua_State *L, int body, const char *const *keys) {
    if (!lua_istable(L, body)) return 0;
    for (; *keys; keys++) {
        if (lua_getfield(L, body, *keys) == LUA_TSTRING) return 1;
        lua_pop(L, 1);
    }
    return 0;
}

void dt_restjson_parse_error(lua_State *L, const dt_service *svc, const dt_operation *op,
                             lua_Integer status, int headers_idx, const char *body, size_t len) {
    static const char *const code_keys[] = {"code", "Code", "__type", NULL};
    static const char *const message_keys[] = {"message", "Message", NULL};
    headers_idx = lua_absindex(L, headers_idx);
    int top = lua_gettop(L);
    luaL_checkstack(L, 20, NULL);
    lua_createtable(L, 0, 6);
    int e = lua_gettop(L);

    s_json_decode(L, body, len);
    lua_pop(L, 1);
    int decoded = lua_gettop(L);
    int is_object = lua_istable(L, decoded);

    /* Smithy restJson1: the X-Amzn-Errortype header wins, then the body's code / __type. */
    int have_code = 0;
    if (dt_wire_get_header(L, headers_idx, "x-amzn-errortype") == LUA_TSTRING &&
        lua_rawlen(L, -1) > 0) {
        have_code = 1;
    } else {
        lua_pop(L, 1);
        have_code = s_body_string(L, decoded, code_keys);
    }
    if (have_code) {
        size_t clen;
        const char *c = lua_tolstring(L, -1, &clen);
        dt_wire_push_error_code(L, c, clen);
        lua_remove(L, -2);
        if (lua_rawlen(L, -1) == 0) {
            lua_pop(L, 1);
            have_code = 0;
        }
    }
    if (!have_code) lua_pushfstring(L, "HTTP %I", (LUAI_UACINT)status);
    lua_setfield(L, e, "code");

    if (s_body_string(L, decoded, message_keys)) {
        /* keep */
    } else if (!is_object && len > 0) {
        dt_wire_push_excerpt(L, body, len, S_EXCERPT_CHARS);
    } else if (!have_code && lua_rawlen(L, decoded) == 0 && !s_nonempty(L, decoded)) {
        lua_pushliteral(L, "no error details in the response");
    } else {
        lua_pushliteral(L, "");
    }
    lua_setfield(L, e, "message");

    lua_newtable(L);
    int fields = lua_gettop(L);
    lua_getfield(L, e, "code");
    const dt_shape *esh = dt_restjson_error_shape(svc, op, lua_tostring(L, -1));
    lua_pop(L, 1);
    if (esh && is_object) {
        const dt_member *members = dt_shape_members(svc, esh);
        for (uint16_t i = 0; i < esh->n_members; i++) {
            const dt_member *m = &members[i];
            const char *mname = dt_str(svc, m->name);
            if (strcasecmp(mname, "message") == 0) continue;
            if (m->location != DT_LOC_BODY) continue;
            lua_getfield(L, decoded, dt_str(svc, m->wire_name));
            if (!lua_isnil(L, -1)) {
                s_from_json(L, svc, m->shape, lua_gettop(L), 1);
                if (!lua_isnil(L, -1))
                    lua_setfield(L, fields, mname);
                else
                    lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        s_fill_from_http(L, svc, esh, fields, status, headers_idx);
    }
    lua_setfield(L, e, "fields");
    if (esh) {
        lua_pushstring(L, dt_str(svc, esh->name));
        lua_setfield(L, e, "shape");
        lua_pushstring(L, esh->flags & DT_SF_FAULT ? "Receiver" : "Sender");
        lua_setfield(L, e, "type");
    }
    if (dt_wire_get_header(L, headers_idx, "x-amzn-requestid") == LUA_TSTRING ||
        (lua_pop(L, 1), dt_wire_get_header(L, headers_idx, "x-amz-request-id")) == LUA_TSTRING)
        lua_setfield(L, e, "request_id");
    else
        lua_pop(L, 1);
    lua_settop(L, e); /* e == top + 1 */
    (void)top;
}
