/* config_lua.c: the Lua face of config, region, endpoint and credential resolution, module
 * "aws.core.config" (load, region, endpoint, credentials, profile_names).
 *
 * Every call takes one options table; an `env` table in it replaces the process environment
 * for that call (tests, and scripts that want to pin their settings). Option mistakes raise at
 * once; resolution failures return nil and a message. All C memory of a call (parsed files,
 * credentials) lives in one GC-owned userdata, so a raise while results are pushed leaks
 * nothing, and secrets are wiped when it is released. Policy (refresh, caching, which
 * defaults a client uses) belongs to aws/client.lua, not here. */
#include "config.h"
#include "credentials.h"
#include "endpoint.h"
#include "region.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#define S_CALL_MT "aws.core.config.call"

typedef struct s_env_pair {
    const char *name;
    const char *value;
} s_env_pair;

/* Scratch state of one call: released by __gc/__close, or earlier by s_release. */
typedef struct s_call {
    dt_config cfg;
    dt_credentials creds;
    s_env_pair *pairs; /* point into strings of the env table, which stays on the stack */
    size_t n_pairs;
    int use_pairs;
    dt_config_env env;
} s_call;

static void s_release(s_call *c) {
    dt_config_free(&c->cfg);
    dt_credentials_clear(&c->creds);
    free(c->pairs);
    c->pairs = NULL;
    c->n_pairs = 0;
}

static int s_call_gc(lua_State *L) {
    s_call *c = luaL_checkudata(L, 1, S_CALL_MT);
    s_release(c);
    return 0;
}

static const char *s_env_lookup(void *ud, const char *name) {
    const s_call *c = ud;
    for (size_t i = 0; i < c->n_pairs; i++)
        if (strcmp(c->pairs[i].name, name) == 0) return c->pairs[i].value;
    return NULL;
}

/* Checks the options table at index 1 against the names fn accepts. */
static void s_check_options(lua_State *L, const char *fn, const char *const *allowed) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    if (!lua_istable(L, 1))
        luaL_error(L, "aws.core.config.%s: expected an options table, got %s", fn,
                   luaL_typename(L, 1));
    lua_settop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        int ok = 0;
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -1);
            for (const char *const *a = allowed; *a && !ok; a++)
                ok = strcmp(k, *a) == 0;
            if (!ok) luaL_error(L, "aws.core.config.%s: unknown option \"%s\"", fn, k);
        } else {
            luaL_error(L, "aws.core.config.%s: option names must be strings", fn);
        }
    }
}

/* The string field of table t, or NULL when nil; the table keeps the string alive. */
static const char *s_opt_string(lua_State *L, int t, const char *fn, const char *field) {
    int ty = lua_getfield(L, t, field);
    const char *s = NULL;
    if (ty == LUA_TSTRING)
        s = lua_tostring(L, -1);
    else if (ty != LUA_TNIL)
        luaL_error(L, "aws.core.config.%s: %s: expected a string, got %s", fn, field,
                   luaL_typename(L, -1));
    lua_pop(L, 1);
    return s;
}

/* Creates the call userdata (left at the top of the stack) and snapshots opts.env. The env
 * table is pushed just below it so its strings outlive the call. */
static s_call *s_new_call(lua_State *L, const char *fn) {
    int ty = lua_getfield(L, 1, "env");
    if (ty != LUA_TNIL && ty != LUA_TTABLE)
        luaL_error(L, "aws.core.config.%s: env: expected a table, got %s", fn,
                   luaL_typename(L, -1));
    int env_idx = lua_gettop(L);
    size_t n = 0;
    if (ty == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, env_idx)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                luaL_error(L, "aws.core.config.%s: env: names must be strings", fn);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "aws.core.config.%s: env.%s: expected a string, got %s", fn,
                           lua_tostring(L, -2), luaL_typename(L, -1));
            lua_pop(L, 1);
            n++;
        }
    }
    s_call *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, S_CALL_MT);
    if (ty == LUA_TTABLE) {
        c->use_pairs = 1;
        c->env.getenv = s_env_lookup;
        c->env.ud = c;
        if (n) {
            c->pairs = calloc(n, sizeof *c->pairs);
            if (!c->pairs) luaL_error(L, "aws.core.config.%s: out of memory", fn);
            lua_pushnil(L);
            while (lua_next(L, env_idx)) {
                c->pairs[c->n_pairs].name = lua_tostring(L, -2);
                c->pairs[c->n_pairs].value = lua_tostring(L, -1);
                c->n_pairs++;
                lua_pop(L, 1);
            }
        }
    }
    return c;
}

static const dt_config_env *s_env(s_call *c) {
    return c->use_pairs ? &c->env : NULL;
}

static int s_load_files(lua_State *L, s_call *c, const char *fn, dt_config_error *err) {
    dt_config_load_options o = {
        .config_file = s_opt_string(L, 1, fn, "config_file"),
        .credentials_file = s_opt_string(L, 1, fn, "credentials_file"),
        .env = s_env(c),
    };
    return dt_config_load(&c->cfg, &o, err);
}

static int s_fail(lua_State *L, s_call *c, const dt_config_error *err) {
    s_release(c);
    lua_pushnil(L);
    lua_pushstring(L, err->message);
    return 2;
}

/* --- load -------------------------------------------------------------------------------- */

static void s_push_value(lua_State *L, const dt_config_value *v) {
    if (v->value) {
        lua_pushstring(L, v->value);
        return;
    }
    lua_createtable(L, 0, (int)v->n_sub);
    for (size_t i = 0; i < v->n_sub; i++) {
        lua_pushstring(L, v->sub[i].value);
        lua_setfield(L, -2, v->sub[i].key);
    }
}

/* Sets t[s->name][key] = value for every value of s, creating t[s->name] when needed. */
static void s_merge_section(lua_State *L, int t, const dt_config_section *s) {
    if (lua_getfield(L, t, s->name) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, t, s->name);
    }
    for (size_t i = 0; i < s->n_values; i++) {
        s_push_value(L, &s->values[i]);
        lua_setfield(L, -2, s->values[i].key);
    }
    lua_pop(L, 1);
}

static int s_load(lua_State *L) {
    static const char *const allowed[] = {"config_file", "credentials_file", "env", NULL};
    s_check_options(L, "load", allowed);
    s_call *c = s_new_call(L, "load");
    dt_config_error err;
    if (s_load_files(L, c, "load", &err) != 0) {
        s_release(c);
        return luaL_error(L, "%s", err.message);
    }
    lua_createtable(L, 0, 6);
    int out = lua_gettop(L);
    static const struct {
        const char *field;
        dt_config_section_kind kind;
    } groups[] = {{"profiles", DT_SECTION_PROFILE},
                  {"sso_sessions", DT_SECTION_SSO_SESSION},
                  {"services", DT_SECTION_SERVICES}};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        lua_newtable(L);
        int t = lua_gettop(L);
        /* config file first, then the credentials file's profiles on top (they win) */
        const dt_config_file *files[] = {&c->cfg.config, &c->cfg.credentials};
        for (size_t f = 0; f < 2; f++)
            for (size_t i = 0; i < files[f]->n_sections; i++)
                if (files[f]->sections[i].kind == groups[g].kind)
                    s_merge_section(L, t, &files[f]->sections[i]);
        lua_setfield(L, out, groups[g].field);
    }
    lua_pushstring(L, c->cfg.config.path);
    lua_setfield(L, out, "config_file");
    lua_pushstring(L, c->cfg.credentials.path);
    lua_setfield(L, out, "credentials_file");
    char warning[1200];
    if (dt_config_credentials_mode_warning(&c->cfg, warning, sizeof warning)) {
        lua_pushstring(L, warning);
        lua_setfield(L, out, "credentials_file_mode_warning");
    }
    s_release(c);
    return 1;
}

/* --- region ------------------------------------------------------------------------------ */

static int s_region(lua_State *L) {
    static const char *const allowed[] = {"region",      "profile",          "env",
                                          "config_file", "credentials_file", NULL};
    s_check_options(L, "region", allowed);
    const char *region = s_opt_string(L, 1, "region", "region");
    const char *profile = s_opt_string(L, 1, "region", "profile");
    s_call *c = s_new_call(L, "region");
    dt_config_error err;
    /* an explicit region consults no file, so a broken config cannot stand in its way */
    if (!(region && *region) && s_load_files(L, c, "region", &err) != 0) return s_fail(L, c, &err);
    dt_region_request req = {region, profile, &c->cfg, s_env(c)};
    char out[DT_REGION_MAX];
    if (dt_region_resolve(&req, out, NULL, &err) != 0) return s_fail(L, c, &err);
    s_release(c);
    lua_pushstring(L, out);
    return 1;
}

/* --- endpoint ---------------------------------------------------------------------------- */

static int s_endpoint(lua_State *L) {
    static const char *const allowed[] = {"service", "region",      "endpoint",         "profile",
                                          "env",     "config_file", "credentials_file", NULL};
    s_check_options(L, "endpoint", allowed);
    const char *service = s_opt_string(L, 1, "endpoint", "service");
    const char *region = s_opt_string(L, 1, "endpoint", "region");
    const char *endpoint = s_opt_string(L, 1, "endpoint", "endpoint");
    const char *profile = s_opt_string(L, 1, "endpoint", "profile");
    if (!service) luaL_error(L, "aws.core.config.endpoint: service: expected a string, got nil");
    if (!region) luaL_error(L, "aws.core.config.endpoint: region: expected a string, got nil");
    if (dt_endpoint_config_names(service, NULL, 0, NULL, 0) != 0)
        luaL_error(L,
                   "aws.core.config.endpoint: service: unknown service \"%s\" (known: detective, "
                   "guardduty, sts)",
                   service);
    s_call *c = s_new_call(L, "endpoint");
    dt_config_error err;
    /* an explicit endpoint consults no file, so a broken config cannot stand in its way */
    if (!(endpoint && *endpoint) && s_load_files(L, c, "endpoint", &err) != 0)
        return s_fail(L, c, &err);
    dt_endpoint_request req = {service, region, endpoint, profile, &c->cfg, s_env(c)};
    dt_endpoint ep;
    if (dt_endpoint_resolve(&req, &ep, &err) != 0) return s_fail(L, c, &err);
    s_release(c);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, ep.url);
    lua_setfield(L, -2, "url");
    lua_pushstring(L, ep.signing_region);
    lua_setfield(L, -2, "signing_region");
    lua_pushstring(L, ep.signing_name);
    lua_setfield(L, -2, "signing_name");
    lua_pushstring(L, ep.source);
    lua_setfield(L, -2, "source");
    lua_pushstring(L, ep.partition);
    lua_setfield(L, -2, "partition");
    return 1;
}

/* --- credentials ------------------------------------------------------------------------- */

static int s_credentials(lua_State *L) {
    static const char *const allowed[] = {"profile",     "credentials",      "env",
                                          "config_file", "credentials_file", NULL};
    /* account: informational (the account the keys belong to, as srv:admin_credentials()
     * gives it), checked to be a string and not used for signing */
    static const char *const cred_fields[] = {"access_key_id",
                                              "secret_access_key",
                                              "session_token",
                                              "expiration",
                                              "source",
                                              "account",
                                              NULL};
    s_check_options(L, "credentials", allowed);
    const char *profile = s_opt_string(L, 1, "credentials", "profile");
    dt_credentials_values values = {0};
    int have_values = 0;
    int ty = lua_getfield(L, 1, "credentials"); /* stays on the stack: its strings are used */
    if (ty == LUA_TTABLE) {
        int t = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, t)) {
            lua_pop(L, 1);
            int ok = 0;
            if (lua_type(L, -1) == LUA_TSTRING)
                for (const char *const *a = cred_fields; *a && !ok; a++)
                    ok = strcmp(lua_tostring(L, -1), *a) == 0;
            if (!ok)
                luaL_error(L, "aws.core.config.credentials: credentials: unknown field %s",
                           lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a name)");
        }
        values.access_key_id = s_opt_string(L, t, "credentials", "access_key_id");
        values.secret_access_key = s_opt_string(L, t, "credentials", "secret_access_key");
        values.session_token = s_opt_string(L, t, "credentials", "session_token");
        values.source = s_opt_string(L, t, "credentials", "source");
        (void)s_opt_string(L, t, "credentials", "account");
        int et = lua_getfield(L, t, "expiration");
        lua_Number exp = et == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
        if (et == LUA_TNUMBER && exp >= 0 && exp < 1e15)
            values.expiration = (int64_t)exp;
        else if (et != LUA_TNIL)
            luaL_error(L,
                       "aws.core.config.credentials: credentials.expiration: expected epoch "
                       "seconds (a number >= 0), got %s",
                       et == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
        lua_pop(L, 1);
        /* an empty table is no credentials at all: the chain goes on to the other sources */
        have_values = values.access_key_id || values.secret_access_key;
    } else if (ty != LUA_TNIL) {
        luaL_error(L, "aws.core.config.credentials: credentials: expected a table, got %s",
                   luaL_typename(L, -1));
    }
    s_call *c = s_new_call(L, "credentials");
    dt_config_error err;
    /* explicit values come first in the chain and consult no file */
    if (!have_values && s_load_files(L, c, "credentials", &err) != 0) return s_fail(L, c, &err);
    dt_credentials_request req = {profile, have_values ? &values : NULL, &c->cfg, s_env(c)};
    if (dt_credentials_resolve(&req, &c->creds, &err) != 0) return s_fail(L, c, &err);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, c->creds.access_key_id);
    lua_setfield(L, -2, "access_key_id");
    lua_pushstring(L, c->creds.secret_access_key);
    lua_setfield(L, -2, "secret_access_key");
    if (c->creds.session_token) {
        lua_pushstring(L, c->creds.session_token);
        lua_setfield(L, -2, "session_token");
    }
    if (c->creds.expiration) {
        lua_pushinteger(L, (lua_Integer)c->creds.expiration);
        lua_setfield(L, -2, "expiration");
    }
    lua_pushstring(L, c->creds.source);
    lua_setfield(L, -2, "source");
    s_release(c);
    return 1;
}

/* --- profile_names ----------------------------------------------------------------------- */

static int s_cmp_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int s_profile_names(lua_State *L) {
    static const char *const allowed[] = {"env", "config_file", "credentials_file", NULL};
    s_check_options(L, "profile_names", allowed);
    s_call *c = s_new_call(L, "profile_names");
    dt_config_error err;
    if (s_load_files(L, c, "profile_names", &err) != 0) return s_fail(L, c, &err);
    lua_newtable(L); /* set of names */
    int set = lua_gettop(L);
    const dt_config_file *files[] = {&c->cfg.config, &c->cfg.credentials};
    for (size_t f = 0; f < 2; f++)
        for (size_t i = 0; i < files[f]->n_sections; i++)
            if (files[f]->sections[i].kind == DT_SECTION_PROFILE) {
                lua_pushboolean(L, 1);
                lua_setfield(L, set, files[f]->sections[i].name);
            }
    s_release(c);
    /* the set's keys stay alive while it is on the stack; sort pointers to them */
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, set)) {
        lua_pop(L, 1);
        n++;
    }
    const char **names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, set)) {
        lua_pop(L, 1);
        names[i++] = lua_tostring(L, -1);
    }
    qsort(names, n, sizeof *names, s_cmp_names);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

int luaopen_aws_core_config(lua_State *L);
int luaopen_aws_core_config(lua_State *L) {
    static const luaL_Reg call_meta[] = {{"__gc", s_call_gc}, {"__close", s_call_gc}, {NULL, NULL}};
    static const luaL_Reg funcs[] = {{"load", s_load},
                                     {"region", s_region},
                                     {"endpoint", s_endpoint},
                                     {"credentials", s_credentials},
                                     {"profile_names", s_profile_names},
                                     {NULL, NULL}};
    if (luaL_newmetatable(L, S_CALL_MT)) luaL_setfuncs(L, call_meta, 0);
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
