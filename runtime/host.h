/* host.h: the embedding of Lua. Creates interpreter states with every detlua module
 * preloaded (C modules and the Lua sources compiled into the binary), and runs the
 * command line through the Lua-side CLI under a message handler. It does not parse
 * arguments itself, and holds no global state besides the signal flag. */
#ifndef DT_HOST_H
#define DT_HOST_H

#include <lua.h>

/* A fresh state: standard libraries, package.preload filled, arg table absent.
 * Returns NULL on allocation failure. Used by the host and by the emulator thread. */
lua_State *dt_host_new_state(void);

/* lua_pcall with a message handler that adds a traceback to string errors and
 * leaves non-string error objects (aws.Error tables) as they are. */
int dt_host_pcall(lua_State *L, int nargs, int nresults);

/* Set by SIGINT while a Lua call is running; the hook turns it into an error. */
void dt_host_install_interrupt(lua_State *L);
void dt_host_remove_interrupt(void);

/* Adds a C module to package.preload of every state made from now on (the program's own
 * link-time modules, such as lua-cjson in detlua; see main.c). At most 8; call before any
 * state exists. Returns 0, or -1 when the table is full. */
int dt_host_preload(const char *name, lua_CFunction open);

/* The process's main: runs argv through detlua.cli and returns the exit status. The Lua state
 * is closed before it returns, unless the command marked it disposable (detlua.cli's
 * state_disposable) in a build without DT_FULL_TEARDOWN: call it once, then end the process. */
int dt_host_main(int argc, char **argv);

#endif
