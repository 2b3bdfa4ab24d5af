/* main.c: process entry. Registers the C modules linked into this program only (lua-cjson,
 * when CMake found Debian's library: see CMakeLists.txt) and hands argv to the host. */
#include "host.h"

#ifdef DT_LINKED_CJSON
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);
#endif

int main(int argc, char **argv) {
#ifdef DT_LINKED_CJSON
    dt_host_preload("cjson", luaopen_cjson);
    dt_host_preload("cjson.safe", luaopen_cjson_safe);
#endif
    return dt_host_main(argc, argv);
}
