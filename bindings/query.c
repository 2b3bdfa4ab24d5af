/* query.c: the query protocol used by STS (see query.h), checked against botocore 1.29.27.
 *
 * Requests are POST / with a form body: Action and Version first, then the members by wire
 * name, structures as Name.Field, lists as Name.member.N (an empty list is sent as "Name="
 * so the service sees it was given), maps as Name.entry.N.key / .value; timestamps ISO 8601
 * unless the model says otherwise. Responses are XML: the <OpResult> element is walked with
 * the output shape (lists from their <member> children, numbers and booleans converted,
 * timestamps kept as the service's strings). Errors come from
 * <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
 * XML is parsed by expat into a capped tree owned by a GC box (xml_tree.c), so a Lua error
 * while building results cannot leak it; the tree is wiped when released because STS
 * responses carry credentials. No I/O and no validation here. */
#include "query.h"

#include "restjson.h"
#include "timestamp.h"
#include "validate.h"
#include "wire.h"
#include "xml_tree.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_EXCERPT_CHARS 160

static const dt_shape *s_shape(const dt_service *svc, uint16_t idx) {
    return idx < svc->n_shapes ? &svc->shapes[idx] : NULL;
}

/* --- request ------------------------------------------------------------------------- */

static void s_form_pair(lua_State *L, dt_buf *body, const dt_buf *key, const char *v, size_t vlen) {
    dt_wire_addc(L, body, '&');
    dt_wire_percent(L, body, key->data ? key->data : "", key->len, 0);
    dt_wire_addc(L, body, '=');
    dt_wire_percent(L, body, v, vlen, 0);
}

static void s_form_value(lua_State *L, dt_buf *body, dt_buf *key, dt_buf *scratch,
                         const dt_service *svc, uint16_t shape, int idx);

static void s_form_structure(lua_State *L, dt_buf *body, dt_buf *key, dt_buf *scratch,
                             const dt_service *svc, const dt_shape *sh, int idx) {
    size_t saved = key->len;
    const dt_member *members = dt_shape_members(svc, sh);
    for (uint16_t i = 0; i < sh->n_members; i++) {
        const dt_member *m = &members[i];
        lua_pushstring(L, dt_str(svc, m->name));
        if (idx && lua_rawget(L, idx) != LUA_TNIL) {
            if (saved > 0) dt_wire_addc(L, key, '.');
            dt_wire_adds(L, key, dt_str(svc, m->wire_name));
            s_form_value(L, body, key, scratch, svc, m->shape, lua_gettop(L));
            key->len = saved;
            key->data[saved] = '\0';
        }
        lua_pop(L, 1);
    }
}

static void s_form_value(lua_State *L, dt_buf *body, dt_buf *key, dt_buf *scratch,
                         const dt_service *svc, uint16_t shape, int idx) {
    const dt_shape *sh = s_shape(svc, shape);
    char tmp[DT_TIMESTAMP_BUF > DT_WIRE_NUM_BUF ? DT_TIMESTAMP_BUF : DT_WIRE_NUM_BUF];
    luaL_checkstack(L, 8, "parameters nested too deeply");
    if (!sh) return;
    size_t saved = key->len;
    switch (sh->type) {
    case DT_T_STRUCTURE:
        s_form_structure(L, body, key, scratch, svc, sh, idx);
        return;
    case DT_T_LIST: {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        if (n == 0) {
            s_form_pair(L, body, key, "", 0);
            return;
        }
        for (lua_Integer i = 1; i <= n; i++) {
            snprintf(tmp, sizeof tmp, ".member.%lld", (long long)i);
            dt_wire_adds(L, key, tmp);
            lua_rawgeti(L, idx, i);
            s_form_value(L, body, key, scratch, svc, sh->member, lua_gettop(L));
            lua_pop(L, 1);
            key->len = saved;
            key->data[saved] = '\0';
        }
        return;
    }
    case DT_T_MAP: {
        lua_Integer i = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            i++;
            snprintf(tmp, sizeof tmp, ".entry.%lld.key", (long long)i);
            dt_wire_adds(L, key, tmp);
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen);
            s_form_pair(L, body, key, k, klen);
            key->len = saved;
            snprintf(tmp, sizeof tmp, ".entry.%lld.value", (long long)i);
            dt_wire_adds(L, key, tmp);
            s_form_value(L, body, key, scratch, svc, sh->value, lua_gettop(L));
            key->len = saved;
            key->data[saved] = '\0';
            lua_pop(L, 1);
        }
        return;
    }
    case DT_T_BOOLEAN:
        s_form_pair(L, body, key, lua_toboolean(L, idx) ? "true" : "false",
                    lua_toboolean(L, idx) ? 4 : 5);
        return;
    case DT_T_INTEGER:
    case DT_T_LONG:
        snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, idx));
        s_form_pair(L, body, key, tmp, strlen(tmp));
        return;
    case DT_T_DOUBLE:
    case DT_T_FLOAT:
        if (lua_isinteger(L, idx))
            snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, idx));
        else
            dt_wire_format_double(lua_tonumber(L, idx), tmp);
        s_form_pair(L, body, key, tmp, strlen(tmp));
        return;
    case DT_T_TIMESTAMP: {
        dt_timestamp ts = {0, 0};
        dt_validate_timestamp(L, idx, &ts);
        if (sh->ts_format == DT_TS_EPOCH)
            dt_timestamp_format_epoch(&ts, tmp);
        else if (sh->ts_format == DT_TS_RFC822)
            dt_timestamp_format_rfc822(&ts, tmp);
        else
            dt_timestamp_format_iso8601(&ts, tmp);
        s_form_pair(L, body, key, tmp, strlen(tmp));
        return;
    }
    case DT_T_BLOB: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        dt_buf_reset(scratch);
        dt_wire_base64(L, scratch, (const unsigned char *)s, len);
        s_form_pair(L, body, key, scratch->data ? scratch->data : "", scratch->len);
        return;
    }
    default: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (s) s_form_pair(L, body, key, s, len);
        return;
    }
    }
}

void dt_query_build(lua_State *L, const dt_service *svc, const dt_operation *op, int idx) {
    idx = lua_absindex(L, idx);
    int params = lua_istable(L, idx) ? idx : 0;
    int top = lua_gettop(L);
    luaL_checkstack(L, 20, NULL);
    dt_buf *body = dt_wire_buffer(L);
    dt_buf *key = dt_wire_buffer(L);
    dt_buf *scratch = dt_wire_buffer(L);
    const char *op_name = dt_str(svc, op->name);
    dt_wire_adds(L, body, "Action=");
    dt_wire_percent(L, body, op_name, strlen(op_name), 0);
    dt_wire_adds(L, body, "&Version=");
    dt_wire_percent(L, body, svc->api_version, strlen(svc->api_version), 0);
    const dt_shape *in = op->input == DT_NO_SHAPE ? NULL : s_shape(svc, op->input);
    dt_wire_adds(L, key, ""); /* make key->data non-NULL for the truncations */
    if (in && params) s_form_structure(L, body, key, scratch, svc, in, params);

    lua_createtable(L, 0, 4);
    lua_pushstring(L, op->http_method ? dt_str(svc, op->http_method) : "POST");
    lua_setfield(L, -2, "method");
    lua_pushstring(L, op->request_uri ? dt_str(svc, op->request_uri) : "/");
    lua_setfield(L, -2, "path");
    lua_createtable(L, 1, 0);
    lua_createtable(L, 2, 0);
    lua_pushliteral(L, "Content-Type");
    lua_rawseti(L, -2, 1);
    lua_pushliteral(L, "application/x-www-form-urlencoded; charset=utf-8");
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, 1);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, body->data, body->len);
    lua_setfield(L, -2, "body");
    dt_wire_buffer_release(body);
    dt_wire_buffer_release(key);
    dt_wire_buffer_release(scratch);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
}

/* --- responses ------------------------------------------------------------------------ */

static const char s_tree_mt[] = "aws.core.protocol.XmlTree";

static int s_tree_gc(lua_State *L) {
    dt_xml_tree_free(luaL_checkudata(L, 1, s_tree_mt));
    return 0;
}

static dt_xml_tree *s_new_tree(lua_State *L) {
    dt_xml_tree *t = lua_newuserdatauv(L, sizeof *t, 0);
    dt_xml_tree_init(t);
    if (luaL_newmetatable(L, s_tree_mt)) {
        lua_pushcfunction(L, s_tree_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, s_tree_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    return t;
}

static const char *s_trimmed(const dt_xml_tree *t, int32_t node, size_t *len) {
    const char *s = dt_xml_text(t, node, len);
    while (*len > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++, (*len)--;
    while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\n' || s[*len - 1] == '\r' ||
                        s[*len - 1] == '\t'))
        (*len)--;
    return s;
}

/* Elements the model does not describe: text for leaves, else a table of children (a name
 * seen more than once becomes a list). */
static void s_generic_xml(lua_State *L, const dt_xml_tree *t, int32_t node, int depth) {
    luaL_checkstack(L, 6, NULL);
    if (t->nodes[node].first_child < 0 || depth > DT_MAX_DEPTH) {
        size_t len;
        const char *s = dt_xml_text(t, node, &len);
        lua_pushlstring(L, s, len);
        return;
    }
    lua_newtable(L);
    int out = lua_gettop(L);
    lua_newtable(L); /* names already turned into lists */
    int repeated = out + 1;
    for (int32_t c = t->nodes[node].first_child; c >= 0; c = t->nodes[c].next_sibling) {
        const char *name = dt_xml_name(t, c);
        s_generic_xml(L, t, c, depth + 1);
        if (lua_getfield(L, out, name) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_setfield(L, out, name);
        } else if (lua_getfield(L, repeated, name) != LUA_TNIL) {
            lua_pop(L, 1); /* value, list */
            lua_insert(L, -2);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
            lua_pop(L, 1);
        } else {
            lua_pop(L, 1); /* value, first */
            lua_createtable(L, 2, 0);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 2);
            lua_setfield(L, out, name);
            lua_pushboolean(L, 1);
            lua_setfield(L, repeated, name);
        }
    }
    lua_settop(L, out);
}

static void s_from_xml(lua_State *L, const dt_xml_tree *t, const dt_service *svc, uint16_t shape,
                       int32_t node, int depth);

static const dt_member *s_member_by_wire(const dt_service *svc, const dt_shape *sh,
                                         const char *wire) {
    const dt_member *members = dt_shape_members(svc, sh);
    for (uint16_t i = 0; i < sh->n_members; i++)
        if (strcmp(dt_str(svc, members[i].wire_name), wire) == 0) return &members[i];
    return NULL;
}

static void s_structure_from_xml(lua_State *L, const dt_xml_tree *t, const dt_service *svc,
                                 const dt_shape *sh, int32_t node, int out, int depth) {
    for (int32_t c = t->nodes[node].first_child; c >= 0; c = t->nodes[c].next_sibling) {
        const char *name = dt_xml_name(t, c);
        const dt_member *m = s_member_by_wire(svc, sh, name);
        if (m) {
            s_from_xml(L, t, svc, m->shape, c, depth + 1);
            lua_setfield(L, out, dt_str(svc, m->name));
        } else {
            s_generic_xml(L, t, c, depth + 1);
            lua_setfield(L, out, name);
        }
    }
}

static void s_from_xml(lua_State *L, const dt_xml_tree *t, const dt_service *svc, uint16_t shape,
                       int32_t node, int depth) {
    const dt_shape *sh = s_shape(svc, shape);
    luaL_checkstack(L, 8, NULL);
    if (!sh || depth > DT_MAX_DEPTH) {
        s_generic_xml(L, t, node, depth);
        return;
    }
    size_t len;
    const char *s;
    switch (sh->type) {
    case DT_T_STRUCTURE:
        lua_newtable(L);
        s_structure_from_xml(L, t, svc, sh, node, lua_gettop(L), depth);
        return;
    case DT_T_LIST: {
        lua_newtable(L);
        lua_Integer k = 0;
        for (int32_t c = t->nodes[node].first_child; c >= 0; c = t->nodes[c].next_sibling) {
            s_from_xml(L, t, svc, sh->member, c, depth + 1);
            lua_rawseti(L, -2, ++k);
        }
        return;
    }
    case DT_T_MAP: {
        lua_newtable(L);
        for (int32_t c = t->nodes[node].first_child; c >= 0; c = t->nodes[c].next_sibling) {
            int32_t k = dt_xml_child(t, c, "key"), v = dt_xml_child(t, c, "value");
            if (k < 0) continue;
            s = dt_xml_text(t, k, &len);
            lua_pushlstring(L, s, len);
            if (v >= 0)
                s_from_xml(L, t, svc, sh->value, v, depth + 1);
            else
                lua_pushliteral(L, "");
            lua_rawset(L, -3);
        }
        return;
    }
    case DT_T_INTEGER:
    case DT_T_LONG:
    case DT_T_DOUBLE:
    case DT_T_FLOAT:
        s = s_trimmed(t, node, &len);
        lua_pushlstring(L, s, len);
        if (lua_stringtonumber(L, lua_tostring(L, -1)) != 0) {
            lua_remove(L, -2);
            if (sh->type == DT_T_DOUBLE || sh->type == DT_T_FLOAT) {
                lua_Number n = lua_tonumber(L, -1);
                lua_pop(L, 1);
                lua_pushnumber(L, n);
            }
        }
        return;
    case DT_T_BOOLEAN:
        s = s_trimmed(t, node, &len);
        if (len == 4 && memcmp(s, "true", 4) == 0)
            lua_pushboolean(L, 1);
        else if (len == 5 && memcmp(s, "false", 5) == 0)
            lua_pushboolean(L, 0);
        else
            lua_pushlstring(L, s, len);
        return;
    case DT_T_TIMESTAMP:
        s = s_trimmed(t, node, &len);
        lua_pushlstring(L, s, len);
        return;
    case DT_T_BLOB:
        s = dt_xml_text(t, node, &len);
        if (!dt_wire_push_base64_decoded(L, s, len)) lua_pushlstring(L, s, len);
        return;
    default:
        s = dt_xml_text(t, node, &len);
        lua_pushlstring(L, s, len);
        return;
    }
}

void dt_query_parse(lua_State *L, const dt_service *svc, const dt_operation *op, lua_Integer status,
                    int headers_idx, const char *body, size_t len) {
    (void)status, (void)headers_idx;
    int top = lua_gettop(L);
    luaL_checkstack(L, 20, NULL);
    dt_xml_tree *t = s_new_tree(L);
    if (dt_xml_tree_parse(t, body, len) != 0) {
        lua_pushfstring(L, "%s:%s: cannot parse the response as XML: %s", svc->name,
                        dt_str(svc, op->lua_name), t->error);
        dt_xml_tree_free(t);
        lua_error(L);
    }
    const dt_shape *out = op->output == DT_NO_SHAPE ? NULL : s_shape(svc, op->output);
    if (!out) {
        lua_newtable(L);
    } else {
        /* botocore's resultWrapper for query operations is always "<Operation>Result" */
        char wrapper[128];
        snprintf(wrapper, sizeof wrapper, "%sResult", dt_str(svc, op->name));
        int32_t node = dt_xml_child(t, 0, wrapper);
        if (node < 0) node = 0;
        s_from_xml(L, t, svc, op->output, node, 1);
    }
    dt_xml_tree_free(t);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
}

static int s_push_child_text(lua_State *L, const dt_xml_tree *t, int32_t node, const char *name) {
    int32_t c = node >= 0 ? dt_xml_child(t, node, name) : -1;
    if (c < 0) return 0;
    size_t len;
    const char *s = s_trimmed(t, c, &len);
    lua_pushlstring(L, s, len);
    return 1;
}

void dt_query_parse_error(lua_State *L, const dt_service *svc, const dt_operation *op,
                          lua_Integer status, int headers_idx, const char *body, size_t len) {
    int top = lua_gettop(L);
    luaL_checkstack(L, 20, NULL);
    lua_createtable(L, 0, 6);
    int e = lua_gettop(L);
    dt_xml_tree *t = s_new_tree(L);
    int parsed = dt_xml_tree_parse(t, body, len) == 0;
    int32_t err = parsed ? dt_xml_find(t, 0, "Error") : -1;

    int have_code = 0;
    if (err >= 0 && s_push_child_text(L, t, err, "Code")) {
        size_t clen;
        const char *c = lua_tolstring(L, -1, &clen);
        dt_wire_push_error_code(L, c, clen);
        lua_remove(L, -2);
        have_code = lua_rawlen(L, -1) > 0;
        if (!have_code) lua_pop(L, 1);
    }
    if (!have_code) lua_pushfstring(L, "HTTP %I", (LUAI_UACINT)status);
    lua_setfield(L, e, "code");

    if (err >= 0 && s_push_child_text(L, t, err, "Message")) {
        /* keep */
    } else if (!parsed && len > 0) {
        dt_wire_push_excerpt(L, body, len, S_EXCERPT_CHARS);
    } else if (len == 0) {
        lua_pushliteral(L, "no error details in the response");
    } else {
        lua_pushliteral(L, "");
    }
    lua_setfield(L, e, "message");

    lua_getfield(L, e, "code");
    const dt_shape *esh = dt_restjson_error_shape(svc, op, lua_tostring(L, -1));
    lua_pop(L, 1);
    if (err >= 0 && s_push_child_text(L, t, err, "Type")) {
        lua_setfield(L, e, "type");
    } else if (esh) {
        lua_pushstring(L, esh->flags & DT_SF_FAULT ? "Receiver" : "Sender");
        lua_setfield(L, e, "type");
    }
    if (esh) {
        lua_pushstring(L, dt_str(svc, esh->name));
        lua_setfield(L, e, "shape");
    }

    lua_newtable(L);
    if (esh && err >= 0) {
        const dt_member *members = dt_shape_members(svc, esh);
        for (uint16_t i = 0; i < esh->n_members; i++) {
            const dt_member *m = &members[i];
            const char *mname = dt_str(svc, m->name);
            if (strcmp(mname, "Message") == 0 || strcmp(mname, "message") == 0) continue;
            int32_t c = dt_xml_child(t, err, dt_str(svc, m->wire_name));
            if (c < 0) continue;
            s_from_xml(L, t, svc, m->shape, c, 1);
            lua_setfield(L, -2, mname);
        }
    }
    lua_setfield(L, e, "fields");

    int32_t rid = parsed ? dt_xml_find(t, 0, "RequestId") : -1;
    if (rid >= 0) {
        size_t rlen;
        const char *r = s_trimmed(t, rid, &rlen);
        lua_pushlstring(L, r, rlen);
        lua_setfield(L, e, "request_id");
    } else if (dt_wire_get_header(L, headers_idx, "x-amzn-requestid") == LUA_TSTRING) {
        lua_setfield(L, e, "request_id");
    } else {
        lua_pop(L, 1);
    }
    dt_xml_tree_free(t);
    lua_settop(L, e); /* e == top + 1 */
    (void)top;
}
