/* restjson.h: the AWS rest-json protocol (Detective, GuardDuty): requests from validated
 * parameters, results and errors from responses. The model decides every detail (where a
 * member goes, its wire name, [] versus {}, the timestamp format); nothing is guessed from
 * the Lua values. */
#ifndef DT_RESTJSON_H
#define DT_RESTJSON_H

#include "operation.h"

#include <lua.h>

/* Pushes {method=, path=, headers={{name, value}, ...}, body=} for the parameters at idx
 * (nil or a table that dt_validate_input accepted). */
void dt_restjson_build(lua_State *L, const dt_service *svc, const dt_operation *op, int idx);

/* Pushes the result table of a successful response. Raises "<service>:<lua_op>: ..." when
 * the body is not JSON. headers_idx: table lowercase name -> value (or nil). */
void dt_restjson_parse(lua_State *L, const dt_service *svc, const dt_operation *op,
                       lua_Integer status, int headers_idx, const char *body, size_t len);

/* Pushes {code=, message=, fields={...}, request_id=} for an error response. Never raises
 * on bad input: an unreadable body gives code "HTTP <status>" and an excerpt as message. */
void dt_restjson_parse_error(lua_State *L, const dt_service *svc, const dt_operation *op,
                             lua_Integer status, int headers_idx, const char *body, size_t len);

/* Finds the error shape for a code: the operation's modeled errors first, then any
 * exception shape of the service (by error code or shape name). NULL when none. */
const dt_shape *dt_restjson_error_shape(const dt_service *svc, const dt_operation *op,
                                        const char *code);

#endif
