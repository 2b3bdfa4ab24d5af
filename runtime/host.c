/* host.c: the Lua embedding (lua_State creation, module preloading, message handler,
 * Ctrl-C handling) and the bridge to the Lua-side command line (detlua.cli).
 *
 * C modules are registered by name below; Lua modules come from the table that
 * cmake/embed_lua.cmake generates. Argument handling, commands and output formats
 * live in runtime/lua/detlua/cli.lua, not here. */
#include "host.h"
#include "interrupt.h"

#include "alloc.h"

#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dt_embedded_lua {
    const char *name;
    const char *chunkname;
    const char *src;
    size_t len;
};
extern const struct dt_embedded_lua dt_embedded_lua[];

/* C modules, registered in package.preload under the names the Lua layer requires
 * (runtime/module/core_lua.c keeps the same list for the stock-Lua module). */
#define DT_CMODULES(X)                                                                             \
    X("aws.sigv4", luaopen_aws_sigv4)                                                              \
    X("aws.core.crypto", luaopen_aws_core_crypto)                                                  \
    X("aws.core.model", luaopen_aws_core_model)                                                    \
    X("aws.core.protocol", luaopen_aws_core_protocol)                                              \
    X("aws.core.config", luaopen_aws_core_config)                                                  \
    X("aws.core.http", luaopen_aws_core_http)                                                      \
    X("aws.core.emulator", luaopen_aws_core_emulator)                                              \
    X("aws.core.host", luaopen_aws_core_host)                                                      \
    X("aws.core.process", luaopen_aws_core_process)                                                \
    X("aws.core.repl", luaopen_aws_core_repl)

#define X(name, fn) extern int fn(lua_State *L);
DT_CMODULES(X)
#undef X

/* loader(name, entry): runs the embedded chunk with the module name as its argument. */
static int s_load_embedded(lua_State *L) {
    const struct dt_embedded_lua *e = lua_touserdata(L, 2);
    if (luaL_loadbufferx(L, e->src, e->len, e->chunkname, "bt") != LUA_OK) return lua_error(L);
    lua_pushvalue(L, 1); /* module name */
    lua_call(L, 1, 1);
    return 1;
}

/* package.searchers entry for the Lua modules compiled into the binary, right after the
 * preload searcher: a process requires a few dozen of the ~130 modules, so they are found
 * by name when required rather than each given a package.preload closure at start-up. */
static int s_search_embedded(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    for (const struct dt_embedded_lua *e = dt_embedded_lua; e->name; e++) {
        if (strcmp(e->name, name) == 0) {
            lua_pushcfunction(L, s_load_embedded);
            lua_pushlightuserdata(L, (void *)e);
            return 2;
        }
    }
    lua_pushfstring(L, "no module '%s' in the detlua binary", name);
    return 1;
}

static struct {
    const char *name;
    lua_CFunction open;
} s_extra[8];
static size_t s_n_extra;

int dt_host_preload(const char *name, lua_CFunction open) {
    if (s_n_extra == sizeof s_extra / sizeof s_extra[0]) return -1;
    s_extra[s_n_extra].name = name;
    s_extra[s_n_extra].open = open;
    s_n_extra++;
    return 0;
}

static int s_preload_all(lua_State *L) {
    luaL_openlibs(L); /* here, under lua_pcall: it allocates, and may run out of memory */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
#define X(name, fn)                                                                                \
    lua_pushcfunction(L, fn);                                                                      \
    lua_setfield(L, -2, name);
    DT_CMODULES(X)
#undef X
    for (size_t i = 0; i < s_n_extra; i++) {
        lua_pushcfunction(L, s_extra[i].open);
        lua_setfield(L, -2, s_extra[i].name);
    }
    lua_pop(L, 1);
    /* insert s_search_embedded at package.searchers[2], shifting the file searchers */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    for (lua_Integer i = (lua_Integer)luaL_len(L, -1); i >= 2; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, s_search_embedded);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
    return 0;
}

/* Only for states made by the allocation-failure tests (luaL_newstate installs its own). */
static int s_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "detlua: unprotected Lua error: %s\n", msg ? msg : "(not a string)");
    return 0; /* Lua aborts */
}

lua_State *dt_host_new_state(void) {
    lua_State *L;
    if (dt_alloc_states_hooked()) {
        /* Allocation-failure tests (runtime/alloc.h) count this state's allocations: the
         * counting allocator serves it from the very first block, so that every block is
         * counted by the allocator that frees it (with Lua linked statically, the default
         * allocator's blocks would go through the test's wrapped malloc instead). */
        L = lua_newstate(dt_alloc_lua, NULL);
        if (L) lua_atpanic(L, s_panic);
    } else {
        L = luaL_newstate();
    }
    if (!L) return NULL;
    lua_pushcfunction(L, s_preload_all);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        lua_close(L);
        return NULL;
    }
    return L;
}

static int s_msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        /* aws.Error and other objects travel unchanged: the CLI prints them with
         * __tostring and decides the exit status from their kind. */
        return 1;
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int dt_host_pcall(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, s_msghandler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

/* --- Ctrl-C: as in lua.c, the signal handler only sets a hook; the hook raises
 * "interrupted!" inside Lua, where it can be caught like any error. */
static lua_State *volatile s_running;

static void s_stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void s_on_sigint(int sig) {
    (void)sig;
    dt_interrupt_request(); /* for waits in C that Lua's hook cannot reach (libcurl) */
    lua_State *L = s_running;
    if (L) lua_sethook(L, s_stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void dt_host_install_interrupt(lua_State *L) {
    s_running = L;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

void dt_host_remove_interrupt(void) {
    s_running = NULL;
    signal(SIGINT, SIG_DFL);
}

static int s_run_cli(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "detlua.cli");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "main");
    lua_createtable(L, argc, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_call(L, 1, 1);
    lua_getfield(L, -2, "state_disposable");
    return 2; /* exit status, state_disposable */
}

int dt_host_main(int argc, char **argv) {
    lua_State *L = dt_host_new_state();
    if (!L) {
        fprintf(stderr, "detlua: cannot create Lua state: not enough memory\n");
        return 1;
    }
    lua_pushcfunction(L, s_run_cli);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = dt_host_pcall(L, 2, 2);
    int rc, disposable = 0;
    if (status != LUA_OK) {
        /* The CLI handles its own errors; reaching here means the CLI itself broke. */
        const char *msg = luaL_tolstring(L, -1, NULL);
        fprintf(stderr, "detlua: %s\n", msg ? msg : "(error object is not a string)");
        rc = 1;
    } else {
        rc = (int)luaL_optinteger(L, -2, 0);
        disposable = lua_toboolean(L, -1);
    }
#ifndef DT_FULL_TEARDOWN
    /* The command said its state holds nothing a finalizer must see to; closing it would
     * only free memory, and the process ends now (dt_host_main is its main). */
    if (disposable) return rc;
#else
    (void)disposable;
#endif
    lua_close(L);
    return rc;
}
