/* fuzz_build.c: libFuzzer target for the Lua-table-to-request serializer with model
 * validation (bindings/validate.c, restjson.c, query.c through aws.core.protocol.build).
 *
 * Input: byte 0 picks an operation of Detective, GuardDuty or STS; the rest is decoded by
 * a tiny structured decoder into one Lua value (the parameters), so that every Lua shape
 * can appear: nil, booleans, integers, any double (NaN, infinities, -0.0), strings (model
 * member names and enum values from a dictionary, raw bytes, invalid UTF-8, embedded NULs,
 * huge ones), tables with any keys, arrays, and cycles back to an enclosing table.
 *
 * A raised validation error is fine (it must be a string naming "<service>:<lua_op>:"); a
 * crash, a sanitizer report or another kind of error is a finding. validate() must agree
 * with build() on every input. */
#include "fuzz_lua.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_MAX_DEPTH 80
#define S_MAX_ITEMS 16

typedef struct s_in {
    const uint8_t *p;
    size_t n;
} s_in;

static uint8_t s_u8(s_in *in) {
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}

static uint64_t s_u64(s_in *in) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)s_u8(in) << (8 * i);
    return v;
}

static const char **s_dict;
static size_t s_n_dict;

static const char *const s_extra[] = {
    "arn:aws:detective:us-east-1:111122223333:graph:027c7c4610ea4aacaf0b883093cab899",
    "arn:aws:iam::111122223333:role/DetectiveMember",
    "444455556666",
    "member@example.com",
    "2023-06-01T12:00:00Z",
    "2023-06-01T12:00:00.123456+02:00",
    "00000000-0000-4000-8000-000000000000",
    "12abc34d567e8fa901bc2d34e56789f0",
    "",
    "x",
};

static void s_dict_add(const char *s, size_t *cap) {
    if (!s) return;
    if (s_n_dict == *cap) {
        *cap = *cap ? 2 * *cap : 1024;
        s_dict = realloc(s_dict, *cap * sizeof *s_dict);
        FZ_CHECK(s_dict != NULL, "out of memory");
    }
    s_dict[s_n_dict++] = s;
}

static void s_dict_init(void) {
    size_t cap = 0;
    const dt_service *svcs[] = {&dt_service_detective, &dt_service_guardduty, &dt_service_sts};
    for (size_t k = 0; k < sizeof svcs / sizeof svcs[0]; k++) {
        for (size_t i = 0; i < svcs[k]->n_shapes; i++) {
            const dt_shape *sh = &svcs[k]->shapes[i];
            for (uint16_t j = 0; j < sh->n_members; j++)
                s_dict_add(dt_str(svcs[k], dt_shape_members(svcs[k], sh)[j].name), &cap);
            for (uint16_t j = 0; j < sh->n_enums; j++)
                s_dict_add(dt_shape_enum(svcs[k], sh, j), &cap);
        }
    }
    for (size_t i = 0; i < sizeof s_extra / sizeof s_extra[0]; i++)
        s_dict_add(s_extra[i], &cap);
}

static const dt_operation *s_pick(uint8_t b, const dt_service **svc) {
    size_t n1 = dt_service_detective.n_operations, n2 = dt_service_guardduty.n_operations;
    size_t i = b % (n1 + n2 + dt_service_sts.n_operations);
    if (i < n1) {
        *svc = &dt_service_detective;
        return &dt_service_detective.operations[i];
    }
    if (i < n1 + n2) {
        *svc = &dt_service_guardduty;
        return &dt_service_guardduty.operations[i - n1];
    }
    *svc = &dt_service_sts;
    return &dt_service_sts.operations[i - n1 - n2];
}

static const char *const s_bad_utf8[] = {"\xff",     "a\xc3\x28z",       "\xed\xa0\x80",
                                         "\xc0\xaf", "\xf4\x90\x80\x80", "\xe2\x82"};

/* Pushes one value decoded from in. open[] holds the absolute indices of the tables being
 * filled (for cycles). */
static void s_value(lua_State *L, s_in *in, int *open, int depth) {
    if (!lua_checkstack(L, 8)) FZ_CHECK(0, "Lua stack");
    uint8_t tag = in->n ? s_u8(in) % 16 : 0;
    switch (tag) {
    case 0:
        lua_pushnil(L);
        break;
    case 1:
    case 2:
        lua_pushboolean(L, tag == 2);
        break;
    case 3:
        lua_pushinteger(L, (int8_t)s_u8(in));
        break;
    case 4:
        lua_pushinteger(L, (lua_Integer)s_u64(in));
        break;
    case 5: {
        uint64_t bits = s_u64(in);
        double d;
        memcpy(&d, &bits, sizeof d);
        lua_pushnumber(L, d);
        break;
    }
    case 6: {
        static const double special[] = {NAN,           INFINITY, -INFINITY,          -0.0,
                                         1e308,         0.5,      9007199254740993.0, 2147483648.0,
                                         -2147483649.0, 1.0};
        lua_pushnumber(L, special[s_u8(in) % (sizeof special / sizeof special[0])]);
        break;
    }
    case 7: {
        size_t len = s_u8(in);
        if (len > in->n) len = in->n;
        lua_pushlstring(L, (const char *)in->p, len);
        in->p += len;
        in->n -= len;
        break;
    }
    case 8:
    case 15: {
        size_t i = (size_t)s_u8(in) | (size_t)s_u8(in) << 8;
        lua_pushstring(L, s_dict[i % s_n_dict]);
        if (tag == 15) {
            size_t len = s_u8(in) % 8;
            if (len > in->n) len = in->n;
            lua_pushlstring(L, (const char *)in->p, len);
            in->p += len;
            in->n -= len;
            lua_concat(L, 2);
        }
        break;
    }
    case 9:
    case 10: {
        if (depth >= S_MAX_DEPTH) {
            lua_pushnil(L);
            break;
        }
        int n = s_u8(in) % S_MAX_ITEMS;
        lua_createtable(L, tag == 10 ? n : 0, tag == 9 ? n : 0);
        open[depth] = lua_gettop(L);
        for (int i = 0; i < n && in->n; i++) {
            if (tag == 10) {
                s_value(L, in, open, depth + 1);
                lua_rawseti(L, -2, i + 1);
            } else {
                s_value(L, in, open, depth + 1);
                s_value(L, in, open, depth + 1);
                if (lua_isnil(L, -2) ||
                    (lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) != lua_tonumber(L, -2)))
                    lua_pop(L, 2); /* nil and NaN cannot be keys */
                else
                    lua_rawset(L, -3);
            }
        }
        break;
    }
    case 11:
        if (depth == 0)
            lua_pushnil(L);
        else
            lua_pushvalue(L, open[s_u8(in) % depth]);
        break;
    case 12: {
        size_t len = ((size_t)s_u8(in) + 1) * 8192;
        char c = (char)s_u8(in);
        luaL_Buffer b;
        char *p = luaL_buffinitsize(L, &b, len);
        memset(p, c ? c : 'a', len);
        luaL_pushresultsize(&b, len);
        break;
    }
    case 13:
        lua_pushstring(L, s_bad_utf8[s_u8(in) % (sizeof s_bad_utf8 / sizeof s_bad_utf8[0])]);
        break;
    default: /* 14: an embedded NUL */
        lua_pushlstring(L, "ab\0cd", 5);
        break;
    }
}

static int s_decode(lua_State *L) {
    s_in *in = lua_touserdata(L, 1);
    int open[S_MAX_DEPTH];
    lua_settop(L, 0);
    s_value(L, in, open, 0);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!s_dict) s_dict_init();
    const dt_service *svc;
    const dt_operation *op = s_pick(data[0], &svc);
    lua_State *L = fz_lua();
    int top = lua_gettop(L);
    s_in in = {data + 1, size - 1};
    lua_pushcfunction(L, s_decode);
    lua_pushlightuserdata(L, &in);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_settop(L, top);
        return 0; /* out of memory while decoding: not a finding */
    }
    int params = lua_gettop(L);

    fz_require_field(L, "aws.core.protocol", "validate");
    lua_pushstring(L, svc->name);
    lua_pushstring(L, dt_str(svc, op->lua_name));
    lua_pushvalue(L, params);
    int vrc = lua_pcall(L, 3, 2, 0);
    int valid = vrc == LUA_OK && lua_toboolean(L, -2);
    FZ_CHECK(vrc == LUA_OK || fz_is_memory_error(vrc), "validate raised: %s",
             luaL_tolstring(L, -1, NULL));

    fz_require_field(L, "aws.core.protocol", "build");
    lua_pushstring(L, svc->name);
    lua_pushstring(L, dt_str(svc, op->name));
    lua_pushvalue(L, params);
    int rc = lua_pcall(L, 3, 1, 0);
    if (rc == LUA_OK) {
        FZ_CHECK(vrc != LUA_OK || valid, "build accepted what validate refused");
        FZ_CHECK(lua_istable(L, -1), "build returned a %s", luaL_typename(L, -1));
        static const char *const fields[] = {"method", "path", "body"};
        for (size_t i = 0; i < 3; i++) {
            lua_getfield(L, -1, fields[i]);
            FZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "request.%s is a %s", fields[i],
                     luaL_typename(L, -1));
            lua_pop(L, 1);
        }
        lua_getfield(L, -1, "headers");
        FZ_CHECK(lua_istable(L, -1), "request.headers is a %s", luaL_typename(L, -1));
    } else if (!fz_is_memory_error(rc)) {
        FZ_CHECK(vrc != LUA_OK || !valid, "build refused what validate accepted: %s",
                 luaL_tolstring(L, -1, NULL));
        const char *msg = lua_tostring(L, -1);
        char prefix[160];
        snprintf(prefix, sizeof prefix, "%s:%s: ", svc->name, dt_str(svc, op->lua_name));
        FZ_CHECK(msg && strncmp(msg, prefix, strlen(prefix)) == 0, "unexpected error: %s",
                 msg ? msg : luaL_tolstring(L, -1, NULL));
    }
    lua_settop(L, top);
    return 0;
}
