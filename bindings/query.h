/* query.h: the AWS query protocol (STS): form-encoded requests, XML responses and errors. */
#ifndef DT_QUERY_H
#define DT_QUERY_H

#include "operation.h"

#include <lua.h>

/* Pushes {method="POST", path="/", headers={{"Content-Type", ...}}, body="Action=..."} for
 * validated parameters at idx (nil or a table). */
void dt_query_build(lua_State *L, const dt_service *svc, const dt_operation *op, int idx);

/* Pushes the result table from an <OpResponse><OpResult>...</OpResult></OpResponse> body.
 * Raises "<service>:<lua_op>: ..." when the body is not XML. */
void dt_query_parse(lua_State *L, const dt_service *svc, const dt_operation *op, lua_Integer status,
                    int headers_idx, const char *body, size_t len);

/* Pushes {code=, message=, type=, fields={...}, request_id=} from an <ErrorResponse> body;
 * never raises on bad input (code "HTTP <status>" and an excerpt instead). */
void dt_query_parse_error(lua_State *L, const dt_service *svc, const dt_operation *op,
                          lua_Integer status, int headers_idx, const char *body, size_t len);

#endif
