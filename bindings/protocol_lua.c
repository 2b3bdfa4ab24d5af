/* protocol_lua.c: module "aws.core.protocol", the one entry from Lua to validation,
 * serialization and response parsing for every bound service.
 *
 *   P.build(service, op, params)   -> {method, path, headers, body}; raises on a bad parameter
 *   P.validate(service, op, params) -> true | false, message (never raises for bad params)
 *   P.parse(service, op, status, headers, body)       -> result table
 *   P.parse_error(service, op, status, headers, body) -> {code, message, fields, type?,
 *                                                         request_id?, shape?}
 * service: "detective" | "guardduty" | "sts"; op: ListMembers, list_members or list-members.
 * The protocol (rest-json or query) comes from the model. Messages raised here are plain
 * strings without a "file:line:" prefix and start with "<service>:<lua_op>:". This file only
 * routes; it does no I/O and keeps no state besides the caches the workers own. */
#include "operation.h"
#include "query.h"
#include "restjson.h"
#include "validate.h"

#include <lauxlib.h>
#include <lua.h>
#include <string.h>

int luaopen_aws_core_protocol(lua_State *L);

static const dt_service *s_check_service(lua_State *L, int arg) {
    const char *name = luaL_checkstring(L, arg);
    const dt_service *svc = dt_service_find(name);
    if (!svc) {
        lua_pushfstring(L, "unknown service '%s' (known: detective, guardduty, sts)", name);
        lua_error(L);
    }
    return svc;
}

static const dt_operation *s_check_operation(lua_State *L, const dt_service *svc, int arg) {
    const char *name = luaL_checkstring(L, arg);
    const dt_operation *op = dt_operation_find(svc, name);
    if (!op) {
        dt_validate_push_unknown_operation(L, svc, name);
        lua_error(L);
    }
    return op;
}

static int s_is_query(const dt_service *svc) {
    return svc->protocol && strcmp(svc->protocol, "query") == 0;
}

static int s_build(lua_State *L) {
    const dt_service *svc = s_check_service(L, 1);
    const dt_operation *op = s_check_operation(L, svc, 2);
    lua_settop(L, 3);
    if (!dt_validate_input(L, svc, op, 3)) return lua_error(L);
    if (s_is_query(svc))
        dt_query_build(L, svc, op, 3);
    else
        dt_restjson_build(L, svc, op, 3);
    return 1;
}

static int s_validate(lua_State *L) {
    const char *svc_name = luaL_checkstring(L, 1);
    const char *op_name = luaL_checkstring(L, 2);
    lua_settop(L, 3);
    const dt_service *svc = dt_service_find(svc_name);
    const dt_operation *op = svc ? dt_operation_find(svc, op_name) : NULL;
    if (!op) {
        lua_pushboolean(L, 0);
        if (svc)
            dt_validate_push_unknown_operation(L, svc, op_name);
        else
            lua_pushfstring(L, "unknown service '%s' (known: detective, guardduty, sts)", svc_name);
        return 2;
    }
    if (dt_validate_input(L, svc, op, 3)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

typedef void (*s_parser)(lua_State *L, const dt_service *svc, const dt_operation *op,
                         lua_Integer status, int headers_idx, const char *body, size_t len);

static int s_parse_common(lua_State *L, s_parser rest, s_parser query) {
    const dt_service *svc = s_check_service(L, 1);
    const dt_operation *op = s_check_operation(L, svc, 2);
    lua_Integer status = luaL_checkinteger(L, 3);
    if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TTABLE);
    size_t len = 0;
    const char *body = luaL_optlstring(L, 5, "", &len);
    lua_settop(L, 5);
    (s_is_query(svc) ? query : rest)(L, svc, op, status, 4, body, len);
    return 1;
}

static int s_parse(lua_State *L) {
    return s_parse_common(L, dt_restjson_parse, dt_query_parse);
}

static int s_parse_error(lua_State *L) {
    return s_parse_common(L, dt_restjson_parse_error, dt_query_parse_error);
}

int luaopen_aws_core_protocol(lua_State *L) {
    static const luaL_Reg fns[] = {{"build", s_build},
                                   {"validate", s_validate},
                                   {"parse", s_parse},
                                   {"parse_error", s_parse_error},
                                   {NULL, NULL}};
    luaL_newlib(L, fns);
    return 1;
}
