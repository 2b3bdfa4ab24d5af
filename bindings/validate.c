/* validate.c: parameter validation against the generated model tables (see validate.h).
 *
 * Walks the caller's Lua table and the input shape together and stops at the first
 * problem: required members, Lua types, enums, lengths, numeric ranges, list and map
 * sizes, model patterns (PCRE2, compiled once per pattern and cached in the registry),
 * unknown names (with an edit-distance suggestion), timestamps, UTF-8, cycles and depth.
 * Patterns follow Smithy's rule that they are not implicitly anchored (a search, not a
 * full match). Values of `sensitive` shapes never appear in messages.
 * It does not convert or serialize anything: the serializers assume a validated table. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "validate.h"

#include "lazylib.h"

#include <lauxlib.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PATH_MAX 480
#define S_SHOW_BYTES 64 /* at most this much of a value is quoted in a message */
#define S_MATCH_LIMIT 1000000u

typedef struct s_ctx {
    lua_State *L;
    const dt_service *svc;
    const dt_operation *op;
    int visiting; /* stack index of the table of tables being walked (cycle check) */
    int depth;
    size_t path_len;
    char path[S_PATH_MAX + 8];
} s_ctx;

/* --- messages -------------------------------------------------------------------- */

static void s_path_push(s_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_path_push(s_ctx *c, const char *fmt, ...) {
    if (c->path_len >= S_PATH_MAX) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->path_len, S_PATH_MAX - c->path_len + 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > S_PATH_MAX - c->path_len) {
        c->path_len = S_PATH_MAX;
        memcpy(c->path + S_PATH_MAX, "...", 4);
    } else {
        c->path_len += (size_t)n;
    }
}

static void s_path_member(s_ctx *c, const char *name) {
    if (c->path_len == 0)
        s_path_push(c, "%s", name);
    else
        s_path_push(c, ".%s", name);
}

/* Shortest "%.Ng" that reads back as the same double. */
static void s_fmt_double(double v, char *out, size_t cap) {
    if (isnan(v)) {
        snprintf(out, cap, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* Appends s (len bytes) quoted, with control bytes escaped and cut after S_SHOW_BYTES. */
static void s_quote(luaL_Buffer *b, const char *s, size_t len) {
    luaL_addchar(b, '"');
    size_t show = len;
    if (show > S_SHOW_BYTES) {
        show = S_SHOW_BYTES;
        while (show > 0 && ((unsigned char)s[show] & 0xC0) == 0x80)
            show--; /* whole chars */
    }
    for (size_t i = 0; i < show; i++) {
        unsigned char ch = (unsigned char)s[i];
        char tmp[8];
        if (ch == '"' || ch == '\\') {
            luaL_addchar(b, '\\');
            luaL_addchar(b, (char)ch);
        } else if (ch == '\n') {
            luaL_addstring(b, "\\n");
        } else if (ch == '\t') {
            luaL_addstring(b, "\\t");
        } else if (ch < 0x20 || ch == 0x7F) {
            snprintf(tmp, sizeof tmp, "\\x%02X", ch);
            luaL_addstring(b, tmp);
        } else {
            luaL_addchar(b, (char)ch);
        }
    }
    if (show < len) luaL_addstring(b, "...");
    luaL_addchar(b, '"');
}

/* Pushes a short printable form of the value at idx ("<redacted>" when sensitive). */
static void s_push_repr(lua_State *L, int idx, int sensitive) {
    if (sensitive) {
        lua_pushliteral(L, "<redacted>");
        return;
    }
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        s_quote(&b, s, len);
        luaL_pushresult(&b);
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        if (lua_isinteger(L, idx)) {
            lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
        } else {
            char tmp[40];
            s_fmt_double(lua_tonumber(L, idx), tmp, sizeof tmp);
            lua_pushstring(L, tmp);
        }
    } else {
        lua_pushstring(L, luaL_typename(L, idx));
    }
}

/* Pushes "<svc>:<op>: <path>: <what>" and returns 0 (so callers can `return s_fail(...)`).
 * The stack keeps whatever the caller had; dt_validate_input trims it. */
static int s_fail(s_ctx *c, const char *fmt, ...) {
    lua_State *L = c->L;
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    if (c->path_len > 0)
        lua_pushfstring(L, "%s:%s: %s: ", c->svc->name, dt_str(c->svc, c->op->lua_name), c->path);
    else
        lua_pushfstring(L, "%s:%s: ", c->svc->name, dt_str(c->svc, c->op->lua_name));
    lua_insert(L, -2);
    lua_concat(L, 2);
    return 0;
}

/* "12 characters", "1 to 64 characters", "at least 1 character", "at most 64 characters" */
static void s_push_bounds(lua_State *L, const dt_shape *sh, const char *one, const char *many) {
    char lo[40], hi[40];
    s_fmt_double(sh->min, lo, sizeof lo);
    s_fmt_double(sh->max, hi, sizeof hi);
    int has_min = (sh->flags & DT_SF_HAS_MIN) != 0, has_max = (sh->flags & DT_SF_HAS_MAX) != 0;
    if (has_min && has_max && sh->min == sh->max)
        lua_pushfstring(L, "%s %s", lo, sh->min == 1 ? one : many);
    else if (has_min && has_max)
        lua_pushfstring(L, "%s to %s %s", lo, hi, sh->max == 1 ? one : many);
    else if (has_min)
        lua_pushfstring(L, "at least %s %s", lo, sh->min == 1 ? one : many);
    else if (has_max)
        lua_pushfstring(L, "at most %s %s", hi, sh->max == 1 ? one : many);
    else
        lua_pushliteral(L, "");
}

static int s_count_ok(const dt_shape *sh, double n) {
    if ((sh->flags & DT_SF_HAS_MIN) && n < sh->min) return 0;
    if ((sh->flags & DT_SF_HAS_MAX) && n > sh->max) return 0;
    return 1;
}

/* --- PCRE2 patterns, compiled once per pattern string and kept in the registry ----- */

/* libpcre2-8 is opened on first use (lazylib.h): only parameters with a model pattern need
 * it. pcre2.h names the API with macros (pcre2_compile is pcre2_compile_8 for 8-bit code
 * units), so the pointers are typed from those macros and the symbol names are their
 * expansions, as the linker would have seen them. CMake passes the soname of the library
 * the header belongs to. */
#ifndef DT_SONAME_PCRE2
#define DT_SONAME_PCRE2 "libpcre2-8.so.0"
#endif

static struct {
    __typeof__(pcre2_compile) *compile;
    __typeof__(pcre2_code_free) *code_free;
    __typeof__(pcre2_match) *match;
    __typeof__(pcre2_match_data_create_from_pattern) *match_data_create_from_pattern;
    __typeof__(pcre2_match_data_free) *match_data_free;
    __typeof__(pcre2_match_context_create) *match_context_create;
    __typeof__(pcre2_match_context_free) *match_context_free;
    __typeof__(pcre2_set_match_limit) *set_match_limit;
} s_pcre2;

#define S_STR(x) S_STR2(x)
#define S_STR2(x) #x
#define S_SYM(f)                                                                                   \
    { S_STR(pcre2_##f), &s_pcre2.f }
static const dt_lazylib_symbol s_pcre2_symbols[] = {
    S_SYM(compile),
    S_SYM(code_free),
    S_SYM(match),
    S_SYM(match_data_create_from_pattern),
    S_SYM(match_data_free),
    S_SYM(match_context_create),
    S_SYM(match_context_free),
    S_SYM(set_match_limit),
};
#undef S_SYM
#undef S_STR2
#undef S_STR

static dt_lazylib s_pcre2_lib = {
    .sonames = (const char *const[]){DT_SONAME_PCRE2, NULL},
    .package = "libpcre2-8-0",
    .symbols = s_pcre2_symbols,
    .n_symbols = sizeof s_pcre2_symbols / sizeof s_pcre2_symbols[0],
};

static const char s_patterns_key[] = "aws.core.protocol.patterns";
static const char s_pattern_mt[] = "aws.core.protocol.Pattern";

typedef struct s_pattern_box {
    pcre2_code *code;
    int failed;
} s_pattern_box;

static int s_pattern_gc(lua_State *L) {
    s_pattern_box *box = luaL_checkudata(L, 1, s_pattern_mt);
    if (box->code) {
        s_pcre2.code_free(box->code);
        box->code = NULL;
    }
    return 0;
}

/* The models write code points as \uXXXX (Java / ECMAScript), which PCRE2 does not read;
 * rewrite them as \x{...}. Up to 6 hex digits are taken while the value stays a code point,
 * so the STS range "\u10000-\u10FFFF" means what its author meant. Returns a malloc'd
 * string or NULL. */
static char *s_translate_pattern(const char *p) {
    size_t len = strlen(p);
    char *out = malloc(len * 2 + 16);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\' && i + 1 < len) {
            if (p[i + 1] == 'u') {
                size_t j = i + 2;
                unsigned long v = 0;
                size_t ndig = 0;
                while (j < len && ndig < 6) {
                    int h = p[j] >= '0' && p[j] <= '9'   ? p[j] - '0'
                            : p[j] >= 'a' && p[j] <= 'f' ? p[j] - 'a' + 10
                            : p[j] >= 'A' && p[j] <= 'F' ? p[j] - 'A' + 10
                                                         : -1;
                    if (h < 0 || v * 16 + (unsigned long)h > 0x10FFFF) break;
                    v = v * 16 + (unsigned long)h;
                    ndig++;
                    j++;
                }
                if (ndig >= 4) {
                    o += (size_t)sprintf(out + o, "\\x{%lX}", v);
                    i = j - 1;
                    continue;
                }
            }
            out[o++] = p[i++];
            out[o++] = p[i];
            continue;
        }
        out[o++] = p[i];
    }
    out[o] = '\0';
    return out;
}

/* Returns the compiled pattern, or NULL when it does not compile (then it is not checked:
 * a model pattern we cannot read must not block the caller; tests compile them all). */
static pcre2_code *s_pattern_code(lua_State *L, const char *pattern) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, s_patterns_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, s_patterns_key);
    }
    if (lua_rawgetp(L, -1, pattern) == LUA_TUSERDATA) {
        s_pattern_box *box = lua_touserdata(L, -1);
        lua_pop(L, 2); /* the cache table in the registry keeps the box alive */
        return box->code;
    }
    lua_pop(L, 1);
    s_pattern_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->code = NULL;
    box->failed = 0;
    if (luaL_newmetatable(L, s_pattern_mt)) {
        lua_pushcfunction(L, s_pattern_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    char *translated = s_translate_pattern(pattern);
    if (translated) {
        int errcode;
        PCRE2_SIZE erroff;
        box->code = s_pcre2.compile((PCRE2_SPTR)translated, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                    &errcode, &erroff, NULL);
        free(translated);
    }
    box->failed = box->code == NULL;
    lua_rawsetp(L, -2, pattern);
    lua_pop(L, 1);
    return box->code;
}

/* 1 match, 0 no match (or the match limit was hit: such input is refused too), -1 the
 * pattern could not be compiled. */
static int s_pattern_match(lua_State *L, const char *pattern, const char *s, size_t len) {
    if (dt_lazylib_load(&s_pcre2_lib) != 0) {
        /* not a caller mistake and not a reason to skip the check: raise */
        lua_pushstring(L, dt_lazylib_error(&s_pcre2_lib));
        lua_error(L);
    }
    pcre2_code *code = s_pattern_code(L, pattern);
    if (!code) return -1;
    pcre2_match_data *md = s_pcre2.match_data_create_from_pattern(code, NULL);
    pcre2_match_context *mc = s_pcre2.match_context_create(NULL);
    int rc = PCRE2_ERROR_NOMEMORY;
    if (md && mc) {
        s_pcre2.set_match_limit(mc, S_MATCH_LIMIT);
        rc = s_pcre2.match(code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK, md, mc);
    }
    s_pcre2.match_data_free(md);
    s_pcre2.match_context_free(mc);
    if (rc == PCRE2_ERROR_NOMEMORY) luaL_error(L, "not enough memory");
    return rc >= 0;
}

/* --- strings --------------------------------------------------------------------- */

/* Counts code points; returns -1 and the offending offset for invalid UTF-8 (overlongs,
 * surrogates and values past U+10FFFF are invalid, as in RFC 3629). */
static long long s_utf8_count(const char *s, size_t len, size_t *bad_at) {
    const unsigned char *p = (const unsigned char *)s;
    long long n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t need;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            n++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            *bad_at = i;
            return -1;
        }
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= len || (p[i + k] & 0xC0) != 0x80) {
                *bad_at = i;
                return -1;
            }
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *bad_at = i;
            return -1;
        }
        i += need + 1;
        n++;
    }
    return n;
}

int dt_validate_pattern_match(lua_State *L, const char *pattern, const char *s, size_t len) {
    size_t bad_at;
    if (s_utf8_count(s, len, &bad_at) < 0) return 0; /* PCRE2 is told the subject is valid */
    return s_pattern_match(L, pattern, s, len);
}

/* what: "" for values, "key " for map keys (prefixes the quoted value) */
static int s_check_string(s_ctx *c, const dt_shape *sh, int idx, int sensitive, const char *what) {
    lua_State *L = c->L;
    if (lua_type(L, idx) != LUA_TSTRING)
        return s_fail(c, "expected %sstring, got %s", what, luaL_typename(L, idx));
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    double cap = DT_MAX_STRING_BYTES;
    if ((sh->flags & DT_SF_HAS_MAX) && sh->max * 4 > cap) cap = sh->max * 4;
    if ((double)len > cap)
        return s_fail(c, "%sstring of %I bytes is over the limit of %I bytes", what,
                      (LUAI_UACINT)len, (LUAI_UACINT)cap);
    size_t bad_at = 0;
    long long chars = s_utf8_count(s, len, &bad_at);
    if (chars < 0)
        return s_fail(c, "%sstring is not valid UTF-8 (bad byte at offset %I)", what,
                      (LUAI_UACINT)bad_at);
    if (sh->n_enums > 0) {
        int found = 0;
        for (uint16_t i = 0; i < sh->n_enums && !found; i++) {
            const char *e = dt_shape_enum(c->svc, sh, i);
            found = strlen(e) == len && memcmp(e, s, len) == 0;
        }
        if (!found) {
            luaL_Buffer b;
            s_push_repr(L, idx, sensitive);
            luaL_buffinit(L, &b);
            for (uint16_t i = 0; i < sh->n_enums; i++) {
                if (i > 0) luaL_addstring(&b, ", ");
                luaL_addstring(&b, dt_shape_enum(c->svc, sh, i));
            }
            luaL_pushresult(&b);
            return s_fail(c, "%s%s is not one of %s", what, lua_tostring(L, -2),
                          lua_tostring(L, -1));
        }
    }
    int len_ok = s_count_ok(sh, (double)chars);
    int pat_ok = 1;
    const char *pattern = dt_str(c->svc, sh->pattern);
    if (pattern) pat_ok = s_pattern_match(L, pattern, s, len) != 0;
    if (pattern && (!len_ok || !pat_ok)) {
        s_push_repr(L, idx, sensitive);
        s_push_bounds(L, sh, "character", "characters");
        if (lua_rawlen(L, -1) > 0)
            return s_fail(c, "%s%s does not match %s (%s)", what, lua_tostring(L, -2), pattern,
                          lua_tostring(L, -1));
        return s_fail(c, "%s%s does not match %s", what, lua_tostring(L, -2), pattern);
    }
    if (!len_ok) {
        s_push_repr(L, idx, sensitive);
        s_push_bounds(L, sh, "character", "characters");
        return s_fail(c, "%s%s has %I character%s, expected %s", what, lua_tostring(L, -2),
                      (LUAI_UACINT)chars, chars == 1 ? "" : "s", lua_tostring(L, -1));
    }
    return 1;
}

/* --- scalars --------------------------------------------------------------------- */

static int s_check_integer(s_ctx *c, const dt_shape *sh, int idx, int sensitive) {
    lua_State *L = c->L;
    const char *tname = sh->type == DT_T_LONG ? "integer (64-bit)" : "integer";
    if (lua_type(L, idx) != LUA_TNUMBER)
        return s_fail(c, "expected %s, got %s", tname, luaL_typename(L, idx));
    lua_Integer v;
    if (lua_isinteger(L, idx)) {
        v = lua_tointeger(L, idx);
    } else {
        double d = lua_tonumber(L, idx);
        if (!isfinite(d) || d != floor(d)) {
            s_push_repr(L, idx, sensitive && isfinite(d));
            return s_fail(c, "expected %s, got %s", tname, lua_tostring(L, -1));
        }
        if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
            s_push_repr(L, idx, sensitive);
            return s_fail(c, "%s is out of range for a 64-bit integer", lua_tostring(L, -1));
        }
        v = (lua_Integer)d;
    }
    s_push_repr(L, idx, sensitive);
    const char *shown = lua_tostring(L, -1);
    if (sh->type == DT_T_INTEGER && (v < -2147483648LL || v > 2147483647LL))
        return s_fail(c, "%s is out of range for a 32-bit integer", shown);
    char bound[40];
    if ((sh->flags & DT_SF_HAS_MIN) && (double)v < sh->min) {
        s_fmt_double(sh->min, bound, sizeof bound);
        return s_fail(c, "%s is below the minimum %s", shown, bound);
    }
    if ((sh->flags & DT_SF_HAS_MAX) && (double)v > sh->max) {
        s_fmt_double(sh->max, bound, sizeof bound);
        return s_fail(c, "%s is above the maximum %s", shown, bound);
    }
    lua_pop(L, 1);
    return 1;
}

static int s_check_double(s_ctx *c, const dt_shape *sh, int idx, int sensitive) {
    lua_State *L = c->L;
    if (lua_type(L, idx) != LUA_TNUMBER)
        return s_fail(c, "expected number, got %s", luaL_typename(L, idx));
    double d = lua_tonumber(L, idx);
    if (!isfinite(d)) {
        s_push_repr(L, idx, 0);
        return s_fail(c, "expected a finite number, got %s", lua_tostring(L, -1));
    }
    s_push_repr(L, idx, sensitive);
    char bound[40];
    if ((sh->flags & DT_SF_HAS_MIN) && d < sh->min) {
        s_fmt_double(sh->min, bound, sizeof bound);
        return s_fail(c, "%s is below the minimum %s", lua_tostring(L, -1), bound);
    }
    if ((sh->flags & DT_SF_HAS_MAX) && d > sh->max) {
        s_fmt_double(sh->max, bound, sizeof bound);
        return s_fail(c, "%s is above the maximum %s", lua_tostring(L, -1), bound);
    }
    lua_pop(L, 1);
    return 1;
}

int dt_validate_timestamp(lua_State *L, int idx, dt_timestamp *out) {
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return dt_timestamp_parse(s, len, out);
    }
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (lua_isinteger(L, idx)) {
            lua_Integer v = lua_tointeger(L, idx);
            if (v < DT_TIMESTAMP_MIN_SECONDS || v > DT_TIMESTAMP_MAX_SECONDS) return -1;
            out->seconds = (int64_t)v;
            out->micros = 0;
            return 0;
        }
        return dt_timestamp_from_epoch(lua_tonumber(L, idx), out);
    }
    return -1;
}

static int s_check_timestamp(s_ctx *c, int idx, int sensitive) {
    lua_State *L = c->L;
    int t = lua_type(L, idx);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        return s_fail(c, "expected timestamp (ISO 8601 string or epoch seconds), got %s",
                      luaL_typename(L, idx));
    dt_timestamp ts;
    if (dt_validate_timestamp(L, idx, &ts) == 0) return 1;
    s_push_repr(L, idx, sensitive);
    if (t == LUA_TSTRING)
        return s_fail(c, "%s is not an ISO 8601 timestamp (such as 2024-05-01T10:00:00Z)",
                      lua_tostring(L, -1));
    return s_fail(c, "%s is not a valid time in epoch seconds (years 1 to 9999)",
                  lua_tostring(L, -1));
}

static int s_check_blob(s_ctx *c, const dt_shape *sh, int idx) {
    lua_State *L = c->L;
    if (lua_type(L, idx) != LUA_TSTRING)
        return s_fail(c, "expected string (bytes), got %s", luaL_typename(L, idx));
    size_t len = lua_rawlen(L, idx);
    double cap = DT_MAX_STRING_BYTES;
    if ((sh->flags & DT_SF_HAS_MAX) && sh->max > cap) cap = sh->max;
    if ((double)len > cap)
        return s_fail(c, "string of %I bytes is over the limit of %I bytes", (LUAI_UACINT)len,
                      (LUAI_UACINT)cap);
    if (!s_count_ok(sh, (double)len)) {
        s_push_bounds(L, sh, "byte", "bytes");
        return s_fail(c, "has %I byte%s, expected %s", (LUAI_UACINT)len, len == 1 ? "" : "s",
                      lua_tostring(L, -1));
    }
    return 1;
}

/* --- tables ---------------------------------------------------------------------- */

static int s_enter(s_ctx *c, int idx) {
    lua_State *L = c->L;
    if (c->depth >= DT_MAX_DEPTH)
        return s_fail(c, "tables nested deeper than %d levels", DT_MAX_DEPTH);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, c->visiting) != LUA_TNIL) {
        lua_pop(L, 1);
        return s_fail(c, "cyclic table (it contains itself)");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, c->visiting);
    c->depth++;
    return 1;
}

static void s_leave(s_ctx *c, int idx) {
    lua_pushvalue(c->L, idx);
    lua_pushnil(c->L);
    lua_rawset(c->L, c->visiting);
    c->depth--;
}

static int s_check_value(s_ctx *c, uint16_t shape, int idx, int sensitive);

/* Levenshtein distance, ignoring ASCII case; names are short (capped at 64). */
static size_t s_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z') ca = (char)(ca - 'A' + 'a');
            if (cb >= 'A' && cb <= 'Z') cb = (char)(cb - 'A' + 'a');
            size_t best = diag + (ca != cb);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = row[j];
            row[j] = best;
        }
    }
    return row[lb];
}

/* The candidate closest to name, or NULL when none is close enough to be a likely typo.
 * The candidates are n structures of size stride from base, each holding at byte field the
 * offset of its name in svc's string pool. */
static const char *s_suggest(const dt_service *svc, const char *name, const void *base, size_t n,
                             size_t stride, size_t field) {
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        uint32_t off;
        memcpy(&off, (const char *)base + i * stride + field, sizeof off);
        const char *cand = svc->strings + off;
        size_t d = s_distance(name, cand);
        if (d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    size_t len = strlen(name);
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    return best && best_d <= limit ? best : NULL;
}

static const dt_member *s_find_member(const dt_service *svc, const dt_shape *sh, const char *name) {
    const dt_member *members = dt_shape_members(svc, sh);
    size_t lo = 0, hi = sh->n_members;
    while (lo < hi) { /* the generator sorts members by name */
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(name, dt_str(svc, members[mid].name));
        if (cmp == 0) return &members[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (uint16_t i = 0; i < sh->n_members; i++) /* in case a table is not sorted */
        if (strcmp(name, dt_str(svc, members[i].name)) == 0) return &members[i];
    return NULL;
}

static int s_unknown_member(s_ctx *c, const dt_shape *sh, const char *name) {
    lua_State *L = c->L;
    int top_level = c->path_len == 0;
    s_path_member(c, name);
    if (sh->n_members == 0) {
        if (top_level)
            return s_fail(c, "unknown parameter (%s takes no parameters)",
                          dt_str(c->svc, c->op->name));
        return s_fail(c, "unknown parameter (%s has no fields)", dt_str(c->svc, sh->name));
    }
    const dt_member *members = dt_shape_members(c->svc, sh);
    const char *hint = s_suggest(c->svc, name, members, sh->n_members, sizeof(dt_member),
                                 offsetof(dt_member, name));
    if (hint) return s_fail(c, "unknown parameter (did you mean %s?)", hint);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (uint16_t i = 0; i < sh->n_members && i < 16; i++) {
        if (i > 0) luaL_addstring(&b, ", ");
        luaL_addstring(&b, dt_str(c->svc, members[i].name));
    }
    if (sh->n_members > 16) luaL_addstring(&b, ", ...");
    luaL_pushresult(&b);
    return s_fail(c, "unknown parameter (expected one of %s)", lua_tostring(L, -1));
}

static int s_check_structure(s_ctx *c, const dt_shape *sh, int idx, int sensitive) {
    lua_State *L = c->L;
    if (!lua_istable(L, idx))
        return s_fail(c, "expected a table (structure %s), got %s", dt_str(c->svc, sh->name),
                      luaL_typename(L, idx));
    if (!s_enter(c, idx)) return 0;
    /* names first: a misspelt name explains a "missing" required one */
    const char *unknown = NULL;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            if (lua_type(L, -1) == LUA_TNUMBER)
                return s_fail(c, "expected a structure (table with named fields), got a list");
            return s_fail(c, "field names must be strings, got a %s key", luaL_typename(L, -1));
        }
        const char *key = lua_tostring(L, -1); /* anchored by the table, which we leave alone */
        if (!s_find_member(c->svc, sh, key) && (!unknown || strcmp(key, unknown) < 0))
            unknown = key;
    }
    if (unknown) return s_unknown_member(c, sh, unknown);
    size_t saved = c->path_len;
    const dt_member *members = dt_shape_members(c->svc, sh);
    for (uint16_t i = 0; i < sh->n_members; i++) {
        const dt_member *m = &members[i];
        const char *mname = dt_str(c->svc, m->name);
        lua_pushstring(L, mname);
        int t = lua_rawget(L, idx);
        s_path_member(c, mname);
        if (t == LUA_TNIL) {
            if ((m->flags & DT_MF_REQUIRED) && !(m->flags & DT_MF_IDEMPOTENCY_TOKEN))
                return s_fail(c, "required parameter missing");
        } else if (!s_check_value(c, m->shape, lua_gettop(L), sensitive)) {
            return 0;
        }
        lua_pop(L, 1);
        c->path_len = saved;
        c->path[saved] = '\0';
    }
    s_leave(c, idx);
    return 1;
}

static int s_check_list(s_ctx *c, const dt_shape *sh, int idx, int sensitive) {
    lua_State *L = c->L;
    if (!lua_istable(L, idx))
        return s_fail(c, "expected a list (table), got %s", luaL_typename(L, idx));
    if (!s_enter(c, idx)) return 0;
    lua_Integer count = 0, maxk = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        int isnum = 0;
        lua_Integer k = lua_tointegerx(L, -1, &isnum);
        if (lua_type(L, -1) != LUA_TNUMBER || !isnum || k < 1) {
            if (lua_type(L, -1) == LUA_TSTRING) {
                s_push_repr(L, -1, 0);
                return s_fail(c, "expected a list (sequence table), got a table with key %s",
                              lua_tostring(L, -1));
            }
            s_push_repr(L, -1, 0);
            return s_fail(c, "expected a list (sequence table), got a table with key [%s]",
                          lua_tostring(L, -1));
        }
        count++;
        if (k > maxk) maxk = k;
    }
    if (count != maxk)
        return s_fail(c,
                      "expected a list (sequence table), got a table with holes (%I values, "
                      "highest index %I)",
                      (LUAI_UACINT)count, (LUAI_UACINT)maxk);
    if (!s_count_ok(sh, (double)count)) {
        s_push_bounds(L, sh, "item", "items");
        return s_fail(c, "has %I item%s, expected %s", (LUAI_UACINT)count, count == 1 ? "" : "s",
                      lua_tostring(L, -1));
    }
    size_t saved = c->path_len;
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, idx, i);
        s_path_push(c, "[%lld]", (long long)i);
        if (!s_check_value(c, sh->member, lua_gettop(L), sensitive)) return 0;
        lua_pop(L, 1);
        c->path_len = saved;
        c->path[saved] = '\0';
    }
    s_leave(c, idx);
    return 1;
}

static void s_path_key(s_ctx *c, const char *key, size_t len) {
    char shown[S_SHOW_BYTES * 4 + 16];
    size_t o = 0;
    shown[o++] = '"';
    for (size_t i = 0; i < len && i < 40; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (ch == '"' || ch == '\\') {
            shown[o++] = '\\';
            shown[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7F) {
            o += (size_t)snprintf(shown + o, 8, "\\x%02X", ch);
        } else {
            shown[o++] = (char)ch;
        }
    }
    if (len > 40) {
        memcpy(shown + o, "...", 3);
        o += 3;
    }
    shown[o++] = '"';
    shown[o] = '\0';
    s_path_push(c, "[%s]", shown);
}

static int s_check_map(s_ctx *c, const dt_shape *sh, int idx, int sensitive) {
    lua_State *L = c->L;
    if (!lua_istable(L, idx))
        return s_fail(c, "expected a map (table with string keys), got %s", luaL_typename(L, idx));
    if (!s_enter(c, idx)) return 0;
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            if (lua_type(L, -1) == LUA_TNUMBER)
                return s_fail(c, "expected a map (table with string keys), got a list");
            return s_fail(c, "map keys must be strings, got a %s key", luaL_typename(L, -1));
        }
        count++;
    }
    if (!s_count_ok(sh, (double)count)) {
        s_push_bounds(L, sh, "entry", "entries");
        return s_fail(c, "has %I entr%s, expected %s", (LUAI_UACINT)count, count == 1 ? "y" : "ies",
                      lua_tostring(L, -1));
    }
    const dt_shape *key_shape = &c->svc->shapes[sh->key];
    size_t saved = c->path_len;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int vidx = lua_gettop(L), kidx = vidx - 1;
        size_t klen;
        const char *key = lua_tolstring(L, kidx, &klen);
        s_path_key(c, key, klen);
        if (!s_check_string(c, key_shape, kidx, sensitive || (key_shape->flags & DT_SF_SENSITIVE),
                            "key "))
            return 0;
        if (!s_check_value(c, sh->value, vidx, sensitive)) return 0;
        lua_settop(L, kidx);
        c->path_len = saved;
        c->path[saved] = '\0';
    }
    s_leave(c, idx);
    return 1;
}

static int s_check_value(s_ctx *c, uint16_t shape, int idx, int sensitive) {
    if (shape >= c->svc->n_shapes) return 1; /* unreachable with generated tables */
    const dt_shape *sh = &c->svc->shapes[shape];
    if (sh->flags & DT_SF_SENSITIVE) sensitive = 1;
    lua_State *L = c->L;
    switch (sh->type) {
    case DT_T_STRUCTURE:
        return s_check_structure(c, sh, idx, sensitive);
    case DT_T_LIST:
        return s_check_list(c, sh, idx, sensitive);
    case DT_T_MAP:
        return s_check_map(c, sh, idx, sensitive);
    case DT_T_STRING:
        return s_check_string(c, sh, idx, sensitive, "");
    case DT_T_INTEGER:
    case DT_T_LONG:
        return s_check_integer(c, sh, idx, sensitive);
    case DT_T_DOUBLE:
    case DT_T_FLOAT:
        return s_check_double(c, sh, idx, sensitive);
    case DT_T_BOOLEAN:
        if (lua_type(L, idx) != LUA_TBOOLEAN)
            return s_fail(c, "expected boolean, got %s", luaL_typename(L, idx));
        return 1;
    case DT_T_TIMESTAMP:
        return s_check_timestamp(c, idx, sensitive);
    case DT_T_BLOB:
        return s_check_blob(c, sh, idx);
    default:
        return 1;
    }
}

int dt_validate_input(lua_State *L, const dt_service *svc, const dt_operation *op, int idx) {
    idx = lua_absindex(L, idx);
    int base = lua_gettop(L);
    luaL_checkstack(L, 4 * DT_MAX_DEPTH + 40, "parameters nested too deeply");
    s_ctx c;
    memset(&c, 0, sizeof c);
    c.L = L;
    c.svc = svc;
    c.op = op;
    int t = lua_type(L, idx);
    if (t != LUA_TNIL && t != LUA_TTABLE) {
        s_fail(&c, "expected a table of parameters, got %s", luaL_typename(L, idx));
        lua_insert(L, base + 1);
        lua_settop(L, base + 1);
        return 0;
    }
    lua_newtable(L);
    c.visiting = lua_gettop(L);
    int ok;
    if (op->input == DT_NO_SHAPE) {
        ok = 1;
        if (t == LUA_TTABLE) {
            lua_pushnil(L);
            if (lua_next(L, idx)) {
                lua_pop(L, 1);
                if (lua_type(L, -1) == LUA_TSTRING) s_path_member(&c, lua_tostring(L, -1));
                ok =
                    s_fail(&c, "unknown parameter (%s takes no parameters)", dt_str(svc, op->name));
            }
        }
    } else if (t == LUA_TNIL) {
        lua_newtable(L); /* nil means no parameters: still check the required ones */
        ok = s_check_value(&c, op->input, lua_gettop(L), 0);
    } else {
        ok = s_check_value(&c, op->input, idx, 0);
    }
    if (ok) {
        lua_settop(L, base);
        return 1;
    }
    lua_insert(L, base + 1);
    lua_settop(L, base + 1);
    return 0;
}

void dt_validate_push_unknown_operation(lua_State *L, const dt_service *svc, const char *name) {
    /* compare in lua_name form so that ListMember, list_member and list-member all match */
    char norm[96];
    size_t o = 0;
    for (const char *p = name; *p && o + 2 < sizeof norm; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            if (o > 0) norm[o++] = '_';
            norm[o++] = (char)(*p - 'A' + 'a');
        } else {
            norm[o++] = *p == '-' ? '_' : *p;
        }
    }
    norm[o] = '\0';
    const char *hint = NULL;
    if (svc->n_operations > 0)
        hint = s_suggest(svc, norm, svc->operations, svc->n_operations, sizeof(dt_operation),
                         offsetof(dt_operation, lua_name));
    if (hint)
        lua_pushfstring(L, "%s: unknown operation '%s' (did you mean %s?)", svc->name, name, hint);
    else
        lua_pushfstring(L, "%s: unknown operation '%s'", svc->name, name);
}
