/* validate.h: client-side checks of operation parameters against the service model.
 *
 * Runs before anything is serialized or sent, so that a caller's mistake is reported
 * with the operation and the parameter path ("detective:create_members:
 * Accounts[2].AccountId: ...") instead of as a service error after a round trip. */
#ifndef DT_VALIDATE_H
#define DT_VALIDATE_H

#include "operation.h"
#include "timestamp.h"

#include <lua.h>

/* Nesting of Lua tables allowed in parameters, and of values accepted in responses. */
#define DT_MAX_DEPTH 64
/* Strings longer than this are refused unless the model's max length allows more. */
#define DT_MAX_STRING_BYTES (1024u * 1024u)

/* Checks the value at stack index idx (nil or a table) against op's input shape.
 * Returns 1 when it is valid. Otherwise pushes the message
 * "<service>:<lua_op>: <Path>: <what is wrong>" and returns 0.
 * Raises only for memory errors, and when a pattern is to be checked but libpcre2-8
 * cannot be loaded (see lazylib.h). */
int dt_validate_input(lua_State *L, const dt_service *svc, const dt_operation *op, int idx);

/* Reads a timestamp parameter (ISO 8601 string or epoch number) at idx.
 * Returns 0, or -1 when the value is neither. */
int dt_validate_timestamp(lua_State *L, int idx, dt_timestamp *out);

/* Matches s against a model pattern the way validation does (PCRE2, UTF, a search; the
 * models' \uXXXX escapes understood). Returns 1 on a match, 0 on none, -1 when the pattern
 * does not compile (validation then skips it; tests make sure none of ours is in that case).
 * Raises like dt_validate_input. */
int dt_validate_pattern_match(lua_State *L, const char *pattern, const char *s, size_t len);

/* Pushes "<service>: unknown operation 'x'" with a "did you mean" suggestion when one is
 * close (used by the protocol module when the operation name is not found). */
void dt_validate_push_unknown_operation(lua_State *L, const dt_service *svc, const char *name);

#endif
