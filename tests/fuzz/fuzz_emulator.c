/* fuzz_emulator.c: libFuzzer target for the emulator's request parsing and routing:
 * detlua.emulator.router's App:handle(req), run in a state made by dt_host_new_state with
 * the built-in scenario (the same path server_lua.c takes for every HTTP request).
 *
 * Input: a message (fuzz_util.h): method line, request-target line ("/path?query", raw),
 * headers, empty line, body. With a pseudo-header "x-fuzz-sign: <service>" the harness
 * signs the request (SigV4, the scenario's administrator credentials, the current time,
 * region from "x-fuzz-region" or the emulator's), so inputs get past authentication into
 * the codecs, validation and the service modules; without it the request goes as written.
 * Each fresh world gets a behavior graph, and the example ids the seeds carry (the API
 * reference's graph id and detector id) are replaced by the world's real ones, so that
 * seeds reach existing resources.
 *
 * Rules checked: handle never raises, and answers a status in 100..599, a header list
 * and a string body. A 500 that the router made from a Lua error inside the emulator
 * (its "The emulator failed while handling" answer) is a bug too: set
 * FUZZ_EMULATOR_ALLOW_500=1 to let the run go on past those. FUZZ_EMULATOR_VERBOSE=1 prints
 * each answer's status and the start of its body (to see what an input reaches). */
#include "fuzz_lua.h"
#include "sigv4.h"

#include <string.h>
#include <strings.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_RECREATE_EVERY 2000

/* ids the seeds use (the API reference's examples), and the world's real ones */
#define S_GRAPH_PLACEHOLDER "027c7c4610ea4aacaf0b883093cab899"
#define S_DETECTOR_PLACEHOLDER "12abc34d567e8fa901bc2d34e56789f0"

static int s_app_ref = LUA_NOREF;
static char s_akid[128], s_secret[128], s_region[64];
static char s_graph_id[33] = S_GRAPH_PLACEHOLDER, s_detector_id[33] = S_DETECTOR_PLACEHOLDER;
static unsigned long s_runs;
static int s_reset;

static int s_exchange(lua_State *L, fz_msg *m, char *body_out, size_t body_cap);

static void s_new_app(lua_State *L) {
    if (s_app_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, s_app_ref);
    fz_require_field(L, "detlua.emulator.router", "new");
    lua_createtable(L, 0, 0);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) FZ_CHECK(0, "router.new: %s", lua_tostring(L, -1));
    lua_getfield(L, -1, "admin_credentials");
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "access_key_id");
    lua_getfield(L, -2, "secret_access_key");
    snprintf(s_akid, sizeof s_akid, "%s", lua_tostring(L, -2));
    snprintf(s_secret, sizeof s_secret, "%s", lua_tostring(L, -1));
    lua_pop(L, 3);
    lua_getfield(L, -1, "region");
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    snprintf(s_region, sizeof s_region, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    s_app_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s_reset = 0;

    /* a behavior graph for the administrator, and the id of its GuardDuty detector */
    static const char create_graph[] = "POST\n/graph\nx-fuzz-sign: detective\n"
                                       "Content-Type: application/json\n\n{}";
    static const char list_detectors[] = "GET\n/detector\nx-fuzz-sign: guardduty\n\n";
    char body[4096];
    fz_msg m;
    const char *p;
    if (fz_msg_parse(&m, (const uint8_t *)create_graph, sizeof create_graph - 1) == 0) {
        if (s_exchange(L, &m, body, sizeof body) == 200 && (p = strstr(body, ":graph:")) &&
            strlen(p + 7) >= 32)
            snprintf(s_graph_id, sizeof s_graph_id, "%.32s", p + 7);
        fz_msg_free(&m);
    }
    if (fz_msg_parse(&m, (const uint8_t *)list_detectors, sizeof list_detectors - 1) == 0) {
        if (s_exchange(L, &m, body, sizeof body) == 200 && (p = strstr(body, "[\"")) &&
            strlen(p + 2) >= 33 && p[34] == '"')
            snprintf(s_detector_id, sizeof s_detector_id, "%.32s", p + 2);
        fz_msg_free(&m);
    }
}

/* Adds name=value to the headers table at -1, joining repeats with "," as server.c does. */
static void s_add_header(lua_State *L, const char *name, const char *value) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *p = name; *p; p++)
        luaL_addchar(&b, (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p));
    luaL_pushresult(&b);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, -3) == LUA_TSTRING) {
        lua_pushliteral(L, ",");
        lua_pushstring(L, value);
        lua_concat(L, 3);
    } else {
        lua_pop(L, 1);
        lua_pushstring(L, value);
    }
    lua_rawset(L, -3);
}

static void s_push_request(lua_State *L, const fz_msg *m, const char *path, const char *query) {
    lua_createtable(L, 0, 5);
    lua_pushstring(L, m->start[0] ? m->start : "GET");
    lua_setfield(L, -2, "method");
    lua_pushstring(L, path[0] ? path : "/");
    lua_setfield(L, -2, "path");
    lua_pushstring(L, query);
    lua_setfield(L, -2, "query");
    lua_pushlstring(L, m->body, m->body_len);
    lua_setfield(L, -2, "body");
    lua_newtable(L);
    const char *service = NULL, *region = NULL;
    dt_sigv4_header hs[FZ_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < m->n_headers; i++) {
        const char *name = m->headers[i].name, *value = m->headers[i].value;
        if (strcasecmp(name, "x-fuzz-sign") == 0) {
            service = value;
        } else if (strcasecmp(name, "x-fuzz-region") == 0) {
            region = value;
        } else {
            hs[n].name = name;
            hs[n].value = value;
            n++;
            s_add_header(L, name, value);
        }
    }
    if (service) {
        char url[4096];
        snprintf(url, sizeof url, "http://127.0.0.1:4566%s%s%s", path[0] ? path : "/",
                 query[0] ? "?" : "", query);
        dt_sigv4_request req;
        dt_sigv4_request_init(&req);
        req.method = m->start[0] ? m->start : "GET";
        req.url = url;
        req.headers = hs;
        req.n_headers = n;
        req.body = m->body;
        req.body_len = m->body_len;
        req.region = region ? region : s_region;
        req.service = service;
        req.credentials.access_key_id = s_akid;
        req.credentials.secret_access_key = s_secret;
        req.time_s = (int64_t)time(NULL);
        dt_sigv4_result res;
        dt_sigv4_result_init(&res);
        if (dt_sigv4_sign(&req, &res) == DT_SIGV4_OK) {
            for (size_t i = 0; i < res.n_added; i++)
                s_add_header(L, res.added[i].name, res.added[i].value);
        }
        dt_sigv4_result_clean_up(&res);
    }
    lua_setfield(L, -2, "headers");
}

static int s_is_internal_error(lua_State *L, int status) {
    if (status != 500) return 0;
    const char *body = lua_tostring(L, -1);
    return body && strstr(body, "The emulator failed while handling") != NULL;
}

/* Runs one message through App:handle and checks the answer. When body_out is set, copies
 * the answer's body there (setup requests). Returns the status (0 after a memory error). */
static int s_exchange(lua_State *L, fz_msg *m, char *body_out, size_t body_cap) {
    char *target = strdup(m->target);
    if (!target) return 0;
    char *q = strchr(target, '?');
    const char *query = "";
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s_app_ref);
    lua_getfield(L, -1, "handle");
    lua_insert(L, -2);
    s_push_request(L, m, target, query);
    int rc = lua_pcall(L, 2, 3, 0);
    int result = 0;
    if (rc == LUA_OK) {
        int isnum = 0;
        lua_Integer status = lua_tointegerx(L, -3, &isnum);
        FZ_CHECK(isnum && status >= 100 && status <= 599, "handle returned status %s",
                 luaL_tolstring(L, -3, NULL));
        FZ_CHECK(lua_istable(L, -2), "handle returned headers of type %s", luaL_typename(L, -2));
        FZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "handle returned a body of type %s",
                 luaL_typename(L, -1));
        if (getenv("FUZZ_EMULATOR_VERBOSE"))
            fprintf(stderr, "-> %d %.300s\n", (int)status, lua_tostring(L, -1));
        const char *allow = getenv("FUZZ_EMULATOR_ALLOW_500");
        FZ_CHECK(!s_is_internal_error(L, (int)status) || (allow && *allow == '1'),
                 "the emulator failed internally (see its message above)");
        if (body_out) snprintf(body_out, body_cap, "%s", lua_tostring(L, -1));
        result = (int)status;
    } else {
        FZ_CHECK(fz_is_memory_error(rc), "handle raised: %s", luaL_tolstring(L, -1, NULL));
    }
    lua_settop(L, top);
    /* fixture hooks, the clock and deletions (DeleteGraph, GuardDuty's DELETEs) change the
     * world for every later input: start from the scenario again */
    if (strncmp(target, "/_emulator", 10) == 0 || strstr(target, "/removal") ||
        strcmp(m->start, "DELETE") == 0)
        s_reset = 1;
    free(target);
    return result;
}

/* Replaces every occurrence of from with to (same length) in buf. */
static void s_substitute(char *buf, size_t len, const char *from, const char *to) {
    size_t n = strlen(from);
    if (strlen(to) != n || len < n) return;
    for (size_t i = 0; i + n <= len; i++) {
        if (buf[i] == from[0] && memcmp(buf + i, from, n) == 0) {
            memcpy(buf + i, to, n);
            i += n - 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lua_State *L = fz_lua();
    if (s_app_ref == LUA_NOREF || s_reset || ++s_runs % S_RECREATE_EVERY == 0) s_new_app(L);
    fz_msg m;
    if (fz_msg_parse(&m, data, size) != 0) return 0;
    /* the placeholder ids of the seeds stand for the world's real graph and detector */
    s_substitute(m.store, size, S_GRAPH_PLACEHOLDER, s_graph_id);
    s_substitute(m.store, size, S_DETECTOR_PLACEHOLDER, s_detector_id);
    (void)s_exchange(L, &m, NULL, 0);
    fz_msg_free(&m);
    return 0;
}
