/* main.c: process entry. Registers the C modules linked into this program only (lua-cjson,
 * when CMake found Debian's library: see CMakeLists.txt), hands argv to the host, and leaves
 * the process. It does no argument handling of its own. */
#include "host.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef DT_LINKED_CJSON
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);
#endif

/* By the time dt_host_main returns, the Lua state is closed (finalizers have run and the
 * files Lua opened are flushed and closed), or was left to the kernel because the command
 * said nothing in it needs finalizing (see host.h). What exit() would still do is free memory the
 * kernel takes back anyway: OpenSSL's atexit clean-up and the destructors of the ~35 shared
 * libraries libcurl pulls in, about 0.2 ms of a 5 ms `detlua call`. So stdio is flushed here
 * and the process leaves with _exit. Unlike exit(), a failed flush of standard output (full
 * disk, closed pipe) is reported and fails the run rather than being lost. Sanitizer builds
 * leave through exit(), where LeakSanitizer does its check. */
static int s_leave(int rc) {
    int flush_failed = fflush(stdout) != 0;
    int flush_errno = errno;
    /* ferror also catches what print() wrote and flushed itself, ignoring the failure */
    if (flush_failed || ferror(stdout)) {
        fprintf(stderr, "detlua: cannot write to standard output%s%s\n", flush_failed ? ": " : "",
                flush_failed ? strerror(flush_errno) : "");
        if (rc == 0) rc = 1;
    }
#ifndef DT_FULL_TEARDOWN
    fflush(NULL);
    _exit(rc);
#endif
    return rc;
}

int main(int argc, char **argv) {
#ifdef DT_LINKED_CJSON
    dt_host_preload("cjson", luaopen_cjson);
    dt_host_preload("cjson.safe", luaopen_cjson_safe);
#endif
    return s_leave(dt_host_main(argc, argv));
}
