/* wire.c: encodings shared by the protocol code (see wire.h).
 *
 * Small and rule-bound on purpose: the serializers decide what goes where, these helpers
 * only spell bytes. Output buffers live in GC-owned userdata so that a Lua error in the
 * middle of serializing cannot leak them. */
#include "wire.h"

#include <lauxlib.h>
#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char s_buffer_mt[] = "aws.core.protocol.Buffer";

void dt_wire_buffer_release(dt_buf *b) {
    if (b) dt_buf_free(b); /* idempotent: dt_buf_free leaves an empty buffer */
}

static int s_buffer_gc(lua_State *L) {
    dt_wire_buffer_release(luaL_checkudata(L, 1, s_buffer_mt));
    return 0;
}

dt_buf *dt_wire_buffer(lua_State *L) {
    dt_buf *b = lua_newuserdatauv(L, sizeof *b, 0);
    dt_buf_init(b, 0);
    if (luaL_newmetatable(L, s_buffer_mt)) {
        lua_pushcfunction(L, s_buffer_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, s_buffer_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    return b;
}

void dt_wire_add(lua_State *L, dt_buf *b, const void *data, size_t len) {
    if (dt_buf_append(b, data, len) != 0) luaL_error(L, "not enough memory");
}

void dt_wire_adds(lua_State *L, dt_buf *b, const char *s) {
    dt_wire_add(L, b, s, strlen(s));
}

void dt_wire_addc(lua_State *L, dt_buf *b, char c) {
    dt_wire_add(L, b, &c, 1);
}

void dt_wire_percent(lua_State *L, dt_buf *b, const char *s, size_t len, int keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            dt_wire_addc(L, b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            dt_wire_add(L, b, esc, 3);
        }
    }
}

void dt_wire_json_string(lua_State *L, dt_buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    dt_wire_addc(L, b, '"');
    size_t run = 0; /* bytes copied in one go between escapes */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        if (esc) {
            if (run) dt_wire_add(L, b, s + i - run, run);
            run = 0;
            dt_wire_adds(L, b, esc);
        } else {
            run++;
        }
    }
    if (run) dt_wire_add(L, b, s + len - run, run);
    dt_wire_addc(L, b, '"');
}

void dt_wire_format_double(double v, char *out) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, DT_WIRE_NUM_BUF, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void dt_wire_base64(lua_State *L, dt_buf *b, const unsigned char *p, size_t len) {
    size_t i = 0;
    char q[4];
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        q[0] = s_b64[v >> 18], q[1] = s_b64[(v >> 12) & 63], q[2] = s_b64[(v >> 6) & 63],
        q[3] = s_b64[v & 63];
        dt_wire_add(L, b, q, 4);
    }
    if (len - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        q[0] = s_b64[v >> 18], q[1] = s_b64[(v >> 12) & 63], q[2] = '=', q[3] = '=';
        dt_wire_add(L, b, q, 4);
    } else if (len - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        q[0] = s_b64[v >> 18], q[1] = s_b64[(v >> 12) & 63], q[2] = s_b64[(v >> 6) & 63],
        q[3] = '=';
        dt_wire_add(L, b, q, 4);
    }
}

int dt_wire_push_base64_decoded(lua_State *L, const char *s, size_t len) {
    luaL_Buffer out;
    unsigned acc = 0;
    int bits = 0;
    size_t pad = 0;
    luaL_buffinit(L, &out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad) goto bad; /* data after padding */
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else
            goto bad;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            luaL_addchar(&out, (char)((acc >> bits) & 0xFF));
        }
    }
    if (pad > 2 || bits >= 6) goto bad;
    luaL_pushresult(&out);
    return 1;
bad:
    luaL_pushresult(&out);
    lua_pop(L, 1);
    return 0;
}

void dt_wire_uuid4(char out[37]) {
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1) {
        /* RAND_bytes only fails when the OS has no entropy source at all; a token that is
         * merely unique per process is still a correct idempotency token. */
        static unsigned long long counter;
        unsigned long long mix =
            (unsigned long long)time(NULL) * 6364136223846793005ULL + ++counter;
        for (size_t i = 0; i < sizeof r; i++) {
            mix = mix * 6364136223846793005ULL + 1442695040888963407ULL;
            r[i] = (unsigned char)(mix >> 56);
        }
    }
    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

void dt_wire_push_error_code(lua_State *L, const char *s, size_t len) {
    const char *colon = memchr(s, ':', len);
    if (colon) len = (size_t)(colon - s);
    for (size_t i = len; i > 0; i--) {
        if (s[i - 1] == '#') {
            s += i;
            len -= i;
            break;
        }
    }
    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    lua_pushlstring(L, s, len);
}

void dt_wire_push_excerpt(lua_State *L, const char *body, size_t len, size_t max_chars) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t n = 0;
    int in_tag = 0, space = 0;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    int markup = i < len && body[i] == '<';
    for (; i < len && n < max_chars; i++) {
        unsigned char c = (unsigned char)body[i];
        if (markup && c == '<') {
            in_tag = 1;
            space = 1;
            continue;
        }
        if (in_tag) {
            if (c == '>') in_tag = 0;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = 1;
            continue;
        }
        if (space && n > 0) {
            luaL_addchar(&b, ' ');
            n++;
        }
        space = 0;
        if (c >= 0x80) {
            while (i + 1 < len && ((unsigned char)body[i + 1] & 0xC0) == 0x80)
                i++;
            c = '?';
        } else if (c < 0x20 || c == 0x7F) {
            c = '?';
        }
        luaL_addchar(&b, (char)c);
        n++;
    }
    if (i < len && n >= max_chars) luaL_addstring(&b, "...");
    luaL_pushresult(&b);
}

int dt_wire_get_header(lua_State *L, int headers_idx, const char *lower_name) {
    if (!lua_istable(L, headers_idx)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    headers_idx = lua_absindex(L, headers_idx);
    int t = lua_getfield(L, headers_idx, lower_name);
    if (t != LUA_TNIL) return t;
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, headers_idx)) {
        if (lua_type(L, -2) == LUA_TSTRING && strcasecmp(lua_tostring(L, -2), lower_name) == 0) {
            lua_remove(L, -2);
            return lua_type(L, -1);
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    return LUA_TNIL;
}
