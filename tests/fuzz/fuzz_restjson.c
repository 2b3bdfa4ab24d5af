/* fuzz_restjson.c: libFuzzer target for rest-json response parsing and error extraction
 * (bindings/restjson.c through aws.core.protocol.parse / parse_error).
 *
 * Input: byte 0 picks an operation of Detective or GuardDuty; then a message
 * (fuzz_util.h) whose first line is the HTTP status, then response headers, an empty line
 * and the body. A 2xx status goes to parse, anything else to parse_error. Rules checked:
 * parse returns a table or raises a string naming "<service>:<lua_op>:"; parse_error
 * never raises and always gives a table with a string code. */
#include "fuzz_lua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const dt_operation *s_pick(uint8_t b, const dt_service **svc) {
    size_t n_det = dt_service_detective.n_operations;
    size_t total = n_det + dt_service_guardduty.n_operations;
    size_t i = b % total;
    *svc = i < n_det ? &dt_service_detective : &dt_service_guardduty;
    return i < n_det ? &dt_service_detective.operations[i]
                     : &dt_service_guardduty.operations[i - n_det];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const dt_service *svc;
    const dt_operation *op = s_pick(data[0], &svc);
    fz_msg m;
    if (fz_msg_parse_n(&m, data + 1, size - 1, 1) != 0) return 0;
    long status = strtol(m.start, NULL, 10);
    if (status < 100 || status > 599) status = 200 + (long)(m.body_len % 2) * 200;
    int ok_status = status >= 200 && status < 300;

    lua_State *L = fz_lua();
    int top = lua_gettop(L);
    fz_require_field(L, "aws.core.protocol", ok_status ? "parse" : "parse_error");
    lua_pushstring(L, svc->name);
    lua_pushstring(L, dt_str(svc, op->name));
    lua_pushinteger(L, status);
    fz_push_headers(L, &m);
    lua_pushlstring(L, m.body, m.body_len);
    int rc = lua_pcall(L, 5, 1, 0);
    if (rc == LUA_OK) {
        FZ_CHECK(lua_istable(L, -1), "%s %s: result is a %s", svc->name, dt_str(svc, op->name),
                 luaL_typename(L, -1));
        if (!ok_status) {
            lua_getfield(L, -1, "code");
            FZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "%s %s: error code is a %s", svc->name,
                     dt_str(svc, op->name), luaL_typename(L, -1));
        }
    } else if (!fz_is_memory_error(rc)) {
        const char *msg = lua_tostring(L, -1);
        FZ_CHECK(ok_status, "parse_error raised: %s", msg ? msg : "(not a string)");
        char prefix[160];
        snprintf(prefix, sizeof prefix, "%s:%s: ", svc->name, dt_str(svc, op->lua_name));
        FZ_CHECK(msg && strncmp(msg, prefix, strlen(prefix)) == 0, "unexpected error: %s",
                 msg ? msg : "(not a string)");
    }
    lua_settop(L, top);
    fz_msg_free(&m);
    return 0;
}
