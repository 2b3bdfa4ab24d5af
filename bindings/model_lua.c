/* model_lua.c: module "aws.core.model", the generated C model tables seen from Lua.
 *
 * Feeds REPL help and completion, docs, the emulator's router and editor stubs, so it
 * mirrors the tables exactly and hides nothing. A service's Lua view is built on first use
 * and cached in the registry; later calls return the same tables (treat them as read-only).
 * Shapes and operations are built one by one as they are first looked up (s_lazy_index):
 * a process that makes one call needs a handful of them, and building all was most of the
 * cost of its first call. pairs() builds the rest first, so it sees every entry (next()
 * alone sees only those built so far).
 * It does not validate or serialize anything: validate.c and restjson.c work on the C tables
 * directly. */
#include "operation.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <string.h>

int luaopen_aws_core_model(lua_State *L);

static const char s_cache_key[] = "aws.core.model.cache";

static const char *const s_type_names[] = {"string",    "integer", "long",      "double",
                                           "float",     "boolean", "timestamp", "blob",
                                           "structure", "list",    "map"};
static const char *const s_location_names[] = {"body",   "uri",     "querystring",
                                               "header", "headers", "statusCode"};
static const char *const s_ts_names[] = {NULL, "iso8601", "unixTimestamp", "rfc822"};

static const dt_service *const s_services[] = {&dt_service_detective, &dt_service_guardduty,
                                               &dt_service_sts};
#define S_N_SERVICES (sizeof s_services / sizeof s_services[0])

static void s_setstr(lua_State *L, const char *key, const char *value) {
    if (!value) return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void s_setbool(lua_State *L, const char *key, int value) {
    lua_pushboolean(L, value != 0);
    lua_setfield(L, -2, key);
}

/* Model bounds are integers in practice; give Lua integers when exact so that math.type and
 * string.format("%d") behave, floats otherwise. */
static void s_setnum(lua_State *L, const char *key, double value) {
    if (value == floor(value) && value >= -9007199254740992.0 && value <= 9007199254740992.0)
        lua_pushinteger(L, (lua_Integer)value);
    else
        lua_pushnumber(L, value);
    lua_setfield(L, -2, key);
}

static const char *s_shape_name(const dt_service *svc, uint16_t idx) {
    return idx < svc->n_shapes ? dt_str(svc, svc->shapes[idx].name) : NULL;
}

static void s_push_member(lua_State *L, const dt_service *svc, const dt_member *m) {
    lua_createtable(L, 0, 8);
    s_setstr(L, "name", dt_str(svc, m->name));
    s_setstr(L, "wire_name", dt_str(svc, m->wire_name ? m->wire_name : m->name));
    s_setstr(L, "shape", s_shape_name(svc, m->shape));
    s_setstr(L, "location",
             m->location < sizeof s_location_names / sizeof s_location_names[0]
                 ? s_location_names[m->location]
                 : "body");
    s_setbool(L, "required", m->flags & DT_MF_REQUIRED);
    s_setbool(L, "idempotency_token", m->flags & DT_MF_IDEMPOTENCY_TOKEN);
    s_setbool(L, "deprecated", m->flags & DT_MF_DEPRECATED);
    s_setbool(L, "greedy", m->flags & DT_MF_GREEDY_LABEL);
}

static void s_push_shape(lua_State *L, const dt_service *svc, const dt_shape *sh) {
    lua_createtable(L, 0, 16);
    s_setstr(L, "name", dt_str(svc, sh->name));
    s_setstr(L, "type",
             sh->type < sizeof s_type_names / sizeof s_type_names[0] ? s_type_names[sh->type]
                                                                     : "unknown");
    if (sh->flags & DT_SF_HAS_MIN) s_setnum(L, "min", sh->min);
    if (sh->flags & DT_SF_HAS_MAX) s_setnum(L, "max", sh->max);
    s_setstr(L, "pattern", dt_str(svc, sh->pattern));
    if (sh->n_enums > 0) {
        lua_createtable(L, sh->n_enums, 0);
        for (uint16_t i = 0; i < sh->n_enums; i++) {
            lua_pushstring(L, dt_shape_enum(svc, sh, i));
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "enum");
    }
    s_setbool(L, "sensitive", sh->flags & DT_SF_SENSITIVE);
    if (sh->type == DT_T_TIMESTAMP && sh->ts_format < sizeof s_ts_names / sizeof s_ts_names[0])
        s_setstr(L, "timestamp_format", s_ts_names[sh->ts_format]);
    if (sh->type == DT_T_STRUCTURE) {
        lua_createtable(L, sh->n_members, 0); /* members */
        lua_createtable(L, 0, sh->n_members); /* member_index */
        const dt_member *members = dt_shape_members(svc, sh);
        for (uint16_t i = 0; i < sh->n_members; i++) {
            s_push_member(L, svc, &members[i]);
            lua_rawseti(L, -3, (lua_Integer)i + 1);
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_setfield(L, -2, dt_str(svc, members[i].name));
        }
        lua_setfield(L, -3, "member_index");
        lua_setfield(L, -2, "members");
    } else if (sh->type == DT_T_LIST) {
        s_setstr(L, "member", s_shape_name(svc, sh->member));
    } else if (sh->type == DT_T_MAP) {
        s_setstr(L, "key", s_shape_name(svc, sh->key));
        s_setstr(L, "value", s_shape_name(svc, sh->value));
    }
    s_setbool(L, "exception", sh->flags & DT_SF_EXCEPTION);
    s_setbool(L, "fault", sh->flags & DT_SF_FAULT);
    s_setbool(L, "deprecated", sh->flags & DT_SF_DEPRECATED);
    if (sh->error_code) {
        s_setstr(L, "error_code", dt_str(svc, sh->error_code));
        lua_pushinteger(L, sh->error_status);
        lua_setfield(L, -2, "error_status");
    }
}

static void s_push_operation(lua_State *L, const dt_service *svc, const dt_operation *op) {
    lua_createtable(L, 0, 12);
    s_setstr(L, "name", dt_str(svc, op->name));
    s_setstr(L, "lua_name", dt_str(svc, op->lua_name));
    s_setstr(L, "service", svc->name);
    s_setstr(L, "http_method", dt_str(svc, op->http_method));
    s_setstr(L, "request_uri", dt_str(svc, op->request_uri));
    lua_pushinteger(L, op->success_status);
    lua_setfield(L, -2, "success_status");
    s_setstr(L, "input", s_shape_name(svc, op->input));
    s_setstr(L, "output", s_shape_name(svc, op->output));
    lua_createtable(L, op->n_errors, 0);
    for (uint16_t i = 0; i < op->n_errors; i++) {
        lua_pushstring(L, s_shape_name(svc, dt_op_error(svc, op, i)));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "errors");
    s_setbool(L, "deprecated", op->deprecated);
    if (op->input_token) {
        lua_createtable(L, 0, 4);
        s_setstr(L, "input_token", dt_str(svc, op->input_token));
        s_setstr(L, "output_token", dt_str(svc, op->output_token));
        s_setstr(L, "limit_key", dt_str(svc, op->limit_key));
        s_setstr(L, "result_key", dt_str(svc, op->result_key));
        lua_setfield(L, -2, "paging");
    }
}

/* svc.shapes and svc.operations fill themselves (see the file comment); both are indexed by
 * model name. */
enum { S_SHAPES, S_OPERATIONS };

/* __index(t, name) of svc.shapes / svc.operations: builds, stores and returns the entry */
static int s_lazy_index(lua_State *L) {
    const dt_service *svc = lua_touserdata(L, lua_upvalueindex(1));
    int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
    const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    if (!name) return 0;
    if (kind == S_SHAPES) {
        const dt_shape *sh = dt_shape_find(svc, name);
        if (!sh) return 0;
        lua_pushstring(L, dt_str(svc, sh->name));
        s_push_shape(L, svc, sh);
    } else {
        /* by model name only (dt_operation_find also takes Lua names) */
        const dt_operation *op =
            name[0] >= 'A' && name[0] <= 'Z' ? dt_operation_find(svc, name) : NULL;
        if (!op) return 0;
        lua_pushstring(L, dt_str(svc, op->name));
        s_push_operation(L, svc, op);
    }
    lua_pushvalue(L, -1);
    lua_insert(L, -3);
    lua_rawset(L, 1);
    return 1;
}

static int s_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

/* __pairs: builds every entry not built yet, then walks the table */
static int s_lazy_pairs(lua_State *L) {
    const dt_service *svc = lua_touserdata(L, lua_upvalueindex(1));
    int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
    size_t n = kind == S_SHAPES ? svc->n_shapes : svc->n_operations;
    for (size_t i = 0; i < n; i++) {
        lua_getfield(L, 1,
                     dt_str(svc, kind == S_SHAPES ? svc->shapes[i].name : svc->operations[i].name));
        lua_pop(L, 1);
    }
    lua_pushcfunction(L, s_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Pushes an empty table (sized for n entries) that fills itself as described above. */
static void s_push_lazy_table(lua_State *L, const dt_service *svc, int kind, size_t n) {
    lua_createtable(L, 0, (int)n);
    lua_createtable(L, 0, 2);
    lua_pushlightuserdata(L, (void *)svc);
    lua_pushinteger(L, kind);
    lua_pushcclosure(L, s_lazy_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushlightuserdata(L, (void *)svc);
    lua_pushinteger(L, kind);
    lua_pushcclosure(L, s_lazy_pairs, 2);
    lua_setfield(L, -2, "__pairs");
    lua_setmetatable(L, -2);
}

static void s_build_service(lua_State *L, const dt_service *svc) {
    lua_createtable(L, 0, 16);
    s_setstr(L, "name", svc->name);
    s_setstr(L, "service_id", svc->service_id);
    s_setstr(L, "full_name", svc->full_name);
    s_setstr(L, "api_version", svc->api_version);
    s_setstr(L, "protocol", svc->protocol);
    s_setstr(L, "signing_name", svc->signing_name);
    s_setstr(L, "endpoint_prefix", svc->endpoint_prefix);
    s_setstr(L, "xml_namespace", svc->xml_namespace);
    s_setstr(L, "global_endpoint", svc->global_endpoint);
    s_setstr(L, "model_sha256", svc->model_sha256);

    s_push_lazy_table(L, svc, S_SHAPES, svc->n_shapes);
    lua_setfield(L, -2, "shapes");
    s_push_lazy_table(L, svc, S_OPERATIONS, svc->n_operations);
    lua_setfield(L, -2, "operations");

    /* operations are stored sorted by name, which gives operation_names its order */
    lua_createtable(L, (int)svc->n_operations, 0);
    for (size_t i = 0; i < svc->n_operations; i++) {
        lua_pushstring(L, dt_str(svc, svc->operations[i].name));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "operation_names");
}

/* Pushes the cached Lua view of svc, building it on first use. */
static void s_push_service(lua_State *L, const dt_service *svc) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, s_cache_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, s_cache_key);
    }
    if (lua_getfield(L, -1, svc->name) != LUA_TTABLE) {
        lua_pop(L, 1);
        s_build_service(L, svc);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, svc->name);
    }
    lua_remove(L, -2);
}

static int s_services_fn(lua_State *L) {
    lua_createtable(L, (int)S_N_SERVICES, 0);
    for (size_t i = 0; i < S_N_SERVICES; i++) {
        lua_pushstring(L, s_services[i]->name);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* service(name) -> table, or nil and a message when no such service is bound */
static int s_service_fn(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    const dt_service *svc = dt_service_find(name);
    if (!svc) {
        luaL_pushfail(L);
        lua_pushfstring(L, "unknown service '%s' (known: detective, guardduty, sts)", name);
        return 2;
    }
    s_push_service(L, svc);
    return 1;
}

/* operation(service, name) -> op table or nil; name may be ListMembers, list_members or
 * list-members */
static int s_operation_fn(lua_State *L) {
    const dt_service *svc = dt_service_find(luaL_checkstring(L, 1));
    const char *name = luaL_checkstring(L, 2);
    const dt_operation *op = svc ? dt_operation_find(svc, name) : NULL;
    if (!op) {
        luaL_pushfail(L);
        return 1;
    }
    s_push_service(L, svc);
    lua_getfield(L, -1, "operations");
    lua_getfield(L, -1, dt_str(svc, op->name));
    return 1;
}

/* shape(service, ShapeName) -> shape table or nil */
static int s_shape_fn(lua_State *L) {
    const dt_service *svc = dt_service_find(luaL_checkstring(L, 1));
    const char *name = luaL_checkstring(L, 2);
    if (!svc) {
        luaL_pushfail(L);
        return 1;
    }
    s_push_service(L, svc);
    lua_getfield(L, -1, "shapes");
    lua_getfield(L, -1, name);
    return 1;
}

static const luaL_Reg s_funcs[] = {{"services", s_services_fn},
                                   {"service", s_service_fn},
                                   {"operation", s_operation_fn},
                                   {"shape", s_shape_fn},
                                   {NULL, NULL}};

int luaopen_aws_core_model(lua_State *L) {
    luaL_newlib(L, s_funcs);
    return 1;
}
