/* core_lua.c: the entry point of the C module aws/core.so, which lets a stock `lua5.4`
 * use detlua's bindings without the detlua binary.
 *
 * `require "aws.core"` registers every C submodule (aws.sigv4, aws.core.model, ...) in
 * package.preload, so the installed Lua modules (aws/init.lua and friends) find them by the
 * same names the host binary preloads. It also preloads the embedded detlua.* Lua modules
 * (the emulator's service code runs in whatever state starts it, and detlua.apidoc is handy
 * from any Lua), but not the aws.* ones: those come from the installed .lua files, so a user
 * reads and runs the same source. The REPL module (terminal, line editing) belongs to the
 * binary and is left out. Keep the C list in step with DT_CMODULES in runtime/host.c; the
 * install/stock-lua test compares the two. */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

/* The table cmake/embed_lua.cmake generates (as in host.c). */
struct dt_embedded_lua {
    const char *name;
    const char *chunkname;
    const char *src;
    size_t len;
};
extern const struct dt_embedded_lua dt_embedded_lua[];

static int s_load_embedded(lua_State *L) {
    const struct dt_embedded_lua *e = lua_touserdata(L, lua_upvalueindex(1));
    if (luaL_loadbufferx(L, e->src, e->len, e->chunkname, "bt") != LUA_OK) return lua_error(L);
    lua_pushvalue(L, 1); /* module name */
    lua_call(L, 1, 1);
    return 1;
}

/* "aws" and "aws.<anything>" are the installed files' to provide. */
static int s_is_aws_module(const char *name) {
    return strncmp(name, "aws", 3) == 0 && (name[3] == '\0' || name[3] == '.');
}

/* Weak, as in host.c: a submodule not built yet leaves its name unregistered. */
#define S_CMODULES(X)                                                                              \
    X("aws.sigv4", luaopen_aws_sigv4)                                                              \
    X("aws.core.crypto", luaopen_aws_core_crypto)                                                  \
    X("aws.core.model", luaopen_aws_core_model)                                                    \
    X("aws.core.protocol", luaopen_aws_core_protocol)                                              \
    X("aws.core.config", luaopen_aws_core_config)                                                  \
    X("aws.core.http", luaopen_aws_core_http)                                                      \
    X("aws.core.emulator", luaopen_aws_core_emulator)                                              \
    X("aws.core.host", luaopen_aws_core_host)                                                      \
    X("aws.core.process", luaopen_aws_core_process)

#define X(name, fn) extern int fn(lua_State *L) __attribute__((weak));
S_CMODULES(X)
#undef X

/* The only symbol the shared object exports (the target builds with hidden visibility). */
__attribute__((visibility("default"))) int luaopen_aws_core(lua_State *L);

int luaopen_aws_core(lua_State *L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_newtable(L); /* the module: {modules = {C modules registered}, VERSION} */
    lua_newtable(L);
    lua_Integer n = 0;
#define X(name, fn)                                                                                \
    if (fn) {                                                                                      \
        lua_pushcfunction(L, fn);                                                                  \
        lua_setfield(L, -4, name);                                                                 \
        lua_pushliteral(L, name);                                                                  \
        lua_rawseti(L, -2, ++n);                                                                   \
    }
    S_CMODULES(X)
#undef X
    lua_setfield(L, -2, "modules");
    for (const struct dt_embedded_lua *e = dt_embedded_lua; e->name; e++) {
        if (s_is_aws_module(e->name)) continue;
        if (lua_getfield(L, -2, e->name) != LUA_TNIL) { /* already preloaded: keep it */
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        lua_pushlightuserdata(L, (void *)e);
        lua_pushcclosure(L, s_load_embedded, 1);
        lua_setfield(L, -3, e->name);
    }
    lua_pushliteral(L, DETLUA_VERSION);
    lua_setfield(L, -2, "VERSION");
    return 1;
}
