/* test_host.c: the host's state set-up (runtime/host.c): a module registered with
 * dt_host_preload is in package.preload of every state made afterwards and loads with
 * require; the table of such modules is bounded; embedded Lua modules are found by name
 * and unknown names fail with the searcher's message. */
#include "host.h"
#include "tap.h"

#include <lauxlib.h>
#include <string.h>

static int s_open_probe(lua_State *L) {
    lua_pushliteral(L, "probe loaded");
    return 1;
}

static const char *s_run(lua_State *L, const char *chunk) {
    if (luaL_dostring(L, chunk) != LUA_OK) return lua_tostring(L, -1);
    return lua_tostring(L, -1);
}

int main(void) {
    tap_ok(dt_host_preload("test.probe", s_open_probe) == 0, "a module can be registered");
    lua_State *a = dt_host_new_state();
    lua_State *b = dt_host_new_state();
    tap_ok(a && b, "states are created");
    if (!a || !b) return tap_done();
    const char *r = s_run(a, "return (require('test.probe'))");
    tap_streq(r, "probe loaded", "require finds the registered module");
    r = s_run(b, "return type(package.preload['test.probe'])");
    tap_streq(r, "function", "every later state has it in package.preload");
    r = s_run(a, "return type(require('aws.errors').new)");
    tap_streq(r, "function", "an embedded Lua module loads by name");
    r = s_run(a, "local ok, e = pcall(require, 'no.such.module') return tostring(ok) .. ' ' .. e");
    tap_ok(r && strstr(r, "false") == r &&
               strstr(r, "no module 'no.such.module' in the detlua binary"),
           "an unknown name fails with the embedded searcher's line: %s", r ? r : "(null)");
    lua_close(a);
    lua_close(b);
    int full = 0;
    for (int i = 0; i < 16; i++)
        if (dt_host_preload("test.more", s_open_probe) != 0) full = 1;
    tap_ok(full, "the table of registered modules is bounded");
    return tap_done();
}
