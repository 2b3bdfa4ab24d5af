/* test_alloc_fail.c: every allocation of a representative call fails in turn, and each
 * failure must end in a clean error, never a crash, a wrong error or a leak.
 *
 * Two scenarios, each run for n = 1, 2, ... until a run completes without a refusal:
 *  - Lua: a fresh state from dt_host_new_state (allocating through runtime/alloc.c's
 *    counting allocator), then aws.core.protocol.build of a CreateMembers request,
 *    aws.sigv4.sign of it, protocol.parse of its response, parse_error of an error
 *    response, the STS XML parser, and aws.core.config reading a config and a
 *    credentials file. A failure must be dt_host_new_state returning NULL, or a Lua error
 *    that says it ran out of memory.
 *  - C: dt_config_parse of a file using every construct, which must return -1 with a
 *    message and leave the file empty.
 * The project's own malloc family is wrapped at link time (-Wl,--wrap, see CMakeLists.txt)
 * so that C allocations are counted, refused in turn and balanced: after each run the
 * number of live C blocks must be back where it started. Under ASan/LSan (make test-asan)
 * any other leak or invalid access fails the run too. */
#include "alloc.h"
#include "config.h"
#include "host.h"
#include "tap.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- the wrapped allocator ------------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static long s_live; /* blocks allocated through the wrappers and not yet freed */

void *__wrap_malloc(size_t n) {
    if (dt_alloc_should_fail()) return NULL;
    void *p = __real_malloc(n);
    if (p) s_live++;
    return p;
}

void *__wrap_calloc(size_t n, size_t size) {
    if (dt_alloc_should_fail()) return NULL;
    void *p = __real_calloc(n, size);
    if (p) s_live++;
    return p;
}

void *__wrap_realloc(void *p, size_t n) {
    if (n > 0 && dt_alloc_should_fail()) return NULL;
    void *q = __real_realloc(p, n);
    if (!p && q) s_live++;
    if (p && n == 0 && !q) s_live--;
    return q;
}

void __wrap_free(void *p);
void __wrap_free(void *p) {
    if (p) s_live--;
    __real_free(p);
}

char *__wrap_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = __wrap_malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

char *__wrap_strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *p = __wrap_malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* --- the Lua scenario ------------------------------------------------------------------ */

static char s_config_path[64], s_credentials_path[64];

static const char s_config_text[] = "[default]\n"
                                    "region = us-east-1\n"
                                    "[profile dev]\n"
                                    "region = eu-west-1\n"
                                    "s3 =\n"
                                    "  addressing_style = path\n"
                                    "services = local\n"
                                    "[services local]\n"
                                    "detective =\n"
                                    "  endpoint_url = http://127.0.0.1:4566\n";
static const char s_credentials_text[] = "[default]\n"
                                         "aws_access_key_id = AKIDEXAMPLE\n"
                                         "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n"
                                         "[dev]\n"
                                         "aws_access_key_id = AKIDDEV\n"
                                         "aws_secret_access_key = devsecret\n"
                                         "aws_session_token = devtoken\n";

static const char s_chunk[] =
    "local cfg_path, cred_path = ...\n"
    "local P = require 'aws.core.protocol'\n"
    "local sigv4 = require 'aws.sigv4'\n"
    "local graph = 'arn:aws:detective:us-east-1:111122223333:graph:"
    "027c7c4610ea4aacaf0b883093cab899'\n"
    "local req = P.build('detective', 'create_members', { GraphArn = graph,\n"
    "  Message = 'Welcome to the security graph', DisableEmailNotification = false,\n"
    "  Accounts = { { AccountId = '444455556666', EmailAddress = 'a@example.com' },\n"
    "               { AccountId = '777788889999', EmailAddress = 'b@example.com' } } })\n"
    "local s = sigv4.sign{ method = req.method,\n"
    "  url = 'https://api.detective.us-east-1.amazonaws.com' .. req.path,\n"
    "  headers = req.headers, body = req.body, region = 'us-east-1', service = 'detective',\n"
    "  credentials = { access_key_id = 'AKIDEXAMPLE', secret_access_key = 'secret',\n"
    "                  session_token = 'token' }, time = 1700000000 }\n"
    "assert(#s.signature == 64)\n"
    "local r = P.parse('detective', 'CreateMembers', 200,\n"
    "  { ['content-type'] = 'application/json', ['x-amzn-requestid'] = 'r1' },\n"
    "  '{\"Members\":[{\"AccountId\":\"444455556666\",\"EmailAddress\":\"a@example.com\",'\n"
    "  .. '\"GraphArn\":\"' .. graph .. '\",\"Status\":\"INVITED\",'\n"
    "  .. '\"InvitedTime\":\"2023-06-01T12:00:00.123Z\",\"VolumeUsageInBytes\":12}],'\n"
    "  .. '\"UnprocessedAccounts\":[{\"AccountId\":\"777788889999\",\"Reason\":\"no\"}]}')\n"
    "assert(r.Members[1].Status == 'INVITED')\n"
    "local e = P.parse_error('detective', 'CreateMembers', 400,\n"
    "  { ['x-amzn-errortype'] = 'ValidationException:http://internal/' },\n"
    "  '{\"message\":\"bad\",\"ErrorCode\":\"INVALID_GRAPH_ARN\"}')\n"
    "assert(e.code == 'ValidationException')\n"
    "local a = P.parse('sts', 'AssumeRole', 200, {}, '<AssumeRoleResponse xmlns=\"x\">'\n"
    "  .. '<AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId>'\n"
    "  .. '<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>'\n"
    "  .. '<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>'\n"
    "  .. '</AssumeRoleResult></AssumeRoleResponse>')\n"
    "assert(a.Credentials.AccessKeyId == 'ASIA1')\n"
    "local ae = P.parse_error('sts', 'AssumeRole', 403, {}, '<ErrorResponse><Error>'\n"
    "  .. '<Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>')\n"
    "assert(ae.code == 'AccessDenied')\n"
    "local config = require 'aws.core.config'\n"
    "local loaded = assert(config.load{ config_file = cfg_path, credentials_file = cred_path,\n"
    "  env = {} })\n"
    "local c = assert(config.credentials{ profile = 'dev', config_file = cfg_path,\n"
    "  credentials_file = cred_path, env = {} })\n"
    "return s.signature\n";

static int s_scenario(lua_State *L) {
    if (luaL_loadstring(L, s_chunk) != LUA_OK) return lua_error(L);
    lua_pushstring(L, s_config_path);
    lua_pushstring(L, s_credentials_path);
    lua_call(L, 2, 1);
    return 1;
}

/* A memory failure as Lua reports it: LUA_ERRMEM, or a message that says so (C code that
 * gets NULL raises "out of memory" / "not enough memory" itself). */
static int s_is_memory_error(int status, lua_State *L) {
    if (status == LUA_ERRMEM) return 1;
    const char *msg = lua_tostring(L, -1);
    return msg && (strstr(msg, "not enough memory") || strstr(msg, "out of memory"));
}

/* Runs the scenario with the n-th allocation refused. Returns 1 when it completed without a
 * refusal (n is past the last allocation), 0 after a clean failure, -1 on a wrong result. */
static int s_lua_run(unsigned long n, char *why, size_t why_len) {
    long live0 = s_live;
    int rc = 0;
    dt_alloc_hook_states(1);
    dt_alloc_fail_after(n);
    lua_State *L = dt_host_new_state();
    if (L) {
        /* everything that allocates happens inside the protected call */
        lua_pushcfunction(L, s_scenario);
        int status = dt_host_pcall(L, 0, 1);
        if (status == LUA_OK) {
            if (dt_alloc_refused() == 0)
                rc = 1;
            else if (!lua_isstring(L, -1) || lua_rawlen(L, -1) != 64) {
                /* a refusal was absorbed (Lua's emergency collection retries): still fine
                 * as long as the result is right */
                snprintf(why, why_len, "completed with a wrong result after a refusal");
                rc = -1;
            }
        } else if (!s_is_memory_error(status, L)) {
            const char *msg = lua_tostring(L, -1);
            snprintf(why, why_len, "error is not about memory: %.300s",
                     msg ? msg : "(not a string)");
            rc = -1;
        }
        dt_alloc_fail_after(0);
        lua_close(L);
    }
    dt_alloc_fail_after(0);
    dt_alloc_hook_states(0);
    if (rc >= 0 && s_live != live0) {
        snprintf(why, why_len, "%ld C blocks leaked", s_live - live0);
        rc = -1;
    }
    return rc;
}

/* --- the C scenario ---------------------------------------------------------------------- */

static const char s_parse_text[] = "\xef\xbb\xbf# a comment\n"
                                   "[DEFAULT]\n"
                                   "output = json\n"
                                   "[default]\n"
                                   "region = us-east-1\n"
                                   "[profile dev]\n"
                                   "region: eu-west-1\n"
                                   "role_arn = arn:aws:iam::123456789012:role/Admin\n"
                                   "source_profile = default\n"
                                   "long = first\n"
                                   "  second\n"
                                   "s3 =\n"
                                   "  max_concurrent_requests = 10\n"
                                   "  addressing_style = path\n"
                                   "[profile dev]\n"
                                   "region = eu-west-2\n"
                                   "[sso-session corp]\n"
                                   "sso_region = us-east-1\n"
                                   "[services local]\n"
                                   "detective =\n"
                                   "  endpoint_url = http://127.0.0.1:4566\n"
                                   "[plugins]\n"
                                   "x = y\n";

static int s_c_run(unsigned long n, char *why, size_t why_len) {
    long live0 = s_live;
    dt_config_file f;
    memset(&f, 0, sizeof f);
    dt_config_error err;
    err.message[0] = '\0';
    dt_alloc_fail_after(n);
    int status = dt_config_parse(&f, DT_CONFIG_FILE_CONFIG, "alloc.ini", s_parse_text,
                                 sizeof s_parse_text - 1, &err);
    unsigned long refused = dt_alloc_refused();
    dt_alloc_fail_after(0);
    int rc = 0;
    if (status == 0) {
        const dt_config_section *s = dt_config_file_section(&f, DT_SECTION_PROFILE, "dev");
        const char *region = dt_config_section_get(s, "region");
        if (!region || strcmp(region, "eu-west-2") != 0) {
            snprintf(why, why_len, "parse succeeded with a wrong result");
            rc = -1;
        } else {
            rc = refused == 0 ? 1 : 0;
        }
    } else if (err.message[0] == '\0' || f.n_sections != 0) {
        snprintf(why, why_len, "failed without a message or left sections behind");
        rc = -1;
    }
    dt_config_file_free(&f);
    if (rc >= 0 && s_live != live0) {
        snprintf(why, why_len, "%ld C blocks leaked", s_live - live0);
        rc = -1;
    }
    return rc;
}

/* --- driver ------------------------------------------------------------------------------- */

typedef int (*s_runner)(unsigned long n, char *why, size_t why_len);

static void s_every_n(const char *name, s_runner run, unsigned long limit) {
    char why[512];
    unsigned long n, bad = 0;
    for (n = 1; n <= limit; n++) {
        why[0] = '\0';
        int rc = run(n, why, sizeof why);
        if (rc == 1) break;
        if (rc < 0 && bad++ < 10) tap_ok(0, "%s: allocation %lu refused: %s", name, n, why);
    }
    tap_ok(n <= limit, "%s: completes once allocations stop failing (after %lu)", name, n - 1);
    tap_ok(bad == 0, "%s: each of the %lu refused allocations ended in a clean error", name, n - 1);
    printf("# %s: %lu allocation points, each refused in turn\n", name, n - 1);
}

static int s_write(char *path, size_t cap, const char *tag, const char *text) {
    snprintf(path, cap, "/tmp/dt_alloc_%s_XXXXXX", tag);
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

int main(void) {
    /* Lua's blocks are counted by dt_alloc_lua itself, not again by the wrappers */
    dt_alloc_set_backend(__real_realloc, __real_free);
    if (s_write(s_config_path, sizeof s_config_path, "config", s_config_text) != 0 ||
        s_write(s_credentials_path, sizeof s_credentials_path, "creds", s_credentials_text) != 0)
        tap_skip_all("cannot write temporary files");

    /* the scenario must work when nothing fails, or the loop proves nothing */
    char why[512] = "";
    tap_ok(s_lua_run(1000000000ul, why, sizeof why) == 1, "Lua scenario runs cleanly: %s", why);
    tap_ok(s_c_run(1000000000ul, why, sizeof why) == 1, "config parse runs cleanly: %s", why);

    s_every_n("config parse", s_c_run, 100000);
    s_every_n("state + protocol.build/parse + sigv4.sign + config", s_lua_run, 200000);

    unlink(s_config_path);
    unlink(s_credentials_path);
    return tap_done();
}
