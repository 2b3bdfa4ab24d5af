/* wire.h: encodings shared by the protocol serializers and parsers (restjson.c, query.c):
 * a GC-owned output buffer, percent-encoding, JSON strings and numbers, base64, uuid4,
 * error-code sanitizing, and reading response headers.
 *
 * Each helper follows one written rule (RFC 3986 unreserved set, RFC 8259 escapes,
 * RFC 4648 base64, Smithy's error-code sanitizing); none knows about shapes. */
#ifndef DT_WIRE_H
#define DT_WIRE_H

#include "buf.h"

#include <lua.h>
#include <stddef.h>

/* Pushes a userdata that owns a dt_buf (freed by __gc/__close, or by dt_wire_buffer_release)
 * and returns the buffer. Lets serializers grow output in C while calling Lua in between:
 * if Lua raises, the GC frees the memory. */
dt_buf *dt_wire_buffer(lua_State *L);
void dt_wire_buffer_release(dt_buf *b);

/* Appends; raise "not enough memory" on failure. */
void dt_wire_add(lua_State *L, dt_buf *b, const void *data, size_t len);
void dt_wire_adds(lua_State *L, dt_buf *b, const char *s);
void dt_wire_addc(lua_State *L, dt_buf *b, char c);

/* RFC 3986 percent-encoding: only A-Z a-z 0-9 - . _ ~ stay as they are ('/' too when
 * keep_slash, for greedy URI labels). Space is %20, never '+'. */
void dt_wire_percent(lua_State *L, dt_buf *b, const char *s, size_t len, int keep_slash);

/* A JSON string literal with the RFC 8259 escapes (input is valid UTF-8). */
void dt_wire_json_string(lua_State *L, dt_buf *b, const char *s, size_t len);

/* The shortest decimal form that reads back as the same double ("%.15g" .. "%.17g"). */
#define DT_WIRE_NUM_BUF 40
void dt_wire_format_double(double v, char *out);

void dt_wire_base64(lua_State *L, dt_buf *b, const unsigned char *data, size_t len);
/* Pushes the decoded bytes and returns 1, or pushes nothing and returns 0 when s is not
 * base64 (whitespace is ignored, padding optional). */
int dt_wire_push_base64_decoded(lua_State *L, const char *s, size_t len);

/* A random (version 4) UUID, lower case, for idempotency tokens. out: 37 bytes. */
void dt_wire_uuid4(char out[37]);

/* Pushes the error code as Smithy clients read it: the text before the first ':', then
 * the text after the last '#' ("ns#Name:uri" -> "Name"), trimmed. */
void dt_wire_push_error_code(lua_State *L, const char *s, size_t len);

/* Pushes a short printable excerpt of a body that is not the expected format (for error
 * messages): markup tags dropped, runs of white space collapsed, non-ASCII and control
 * bytes shown as '?', at most max_chars characters. */
void dt_wire_push_excerpt(lua_State *L, const char *body, size_t len, size_t max_chars);

/* Response header lookup in a table of lowercase name -> value (exact name tried first, then
 * any case). Pushes the value (string) or nil; returns the Lua type pushed. */
int dt_wire_get_header(lua_State *L, int headers_idx, const char *lower_name);

#endif
