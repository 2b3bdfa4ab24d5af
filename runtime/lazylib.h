/* lazylib.h: shared libraries opened with dlopen on first use instead of at start-up.
 *
 * libedit (REPL), libmicrohttpd (emulator), expat (STS XML) and libpcre2-8 (model
 * patterns) are needed by few runs, yet every linked library costs every process its
 * loading and relocation. A file that uses one declares a descriptor: the soname(s) to
 * try, the Debian package that ships it (for the message), and a table of symbol names
 * with the address of the function pointer each one fills. dt_lazylib_load loads the
 * library once per process (thread-safe), and either fills every slot or none.
 *
 * It never unloads (the libraries keep threads and atexit state), never retries after a
 * failure (later calls give the same answer), and knows nothing about the libraries'
 * APIs: the user file types its pointers from the real headers. */
#ifndef DT_LAZYLIB_H
#define DT_LAZYLIB_H

#include <stdatomic.h>
#include <stddef.h>

#define DT_LAZYLIB_ERROR_BYTES 320

typedef struct dt_lazylib_symbol {
    const char *name; /* the exported name (for PCRE2 the _8 one the header macros name) */
    void *slot;       /* address of the function pointer to fill (pointer-to-function type) */
} dt_lazylib_symbol;

typedef struct dt_lazylib {
    const char *const *sonames; /* NULL-terminated, tried in order, e.g. "libedit.so.2" */
    const char *package;        /* Debian package that provides it, e.g. "libedit2" */
    const dt_lazylib_symbol *symbols;
    size_t n_symbols;
    /* set by dt_lazylib_load; zero-initialised (a static descriptor needs nothing more) */
    atomic_int state; /* 0 not tried, 1 loaded, -1 failed */
    char error[DT_LAZYLIB_ERROR_BYTES];
} dt_lazylib;

/* Loads lib and resolves every symbol, on the first call only; later calls (from any
 * thread) return the first call's result at the cost of one atomic load. 0 when every
 * slot is filled. -1 when the library cannot be opened or a symbol is missing: then no
 * slot was changed and dt_lazylib_error(lib) says
 * "<soname> is not available (Debian package <pkg>): <dlerror text>". */
int dt_lazylib_load(dt_lazylib *lib);
/* The failure message, or "" when lib loaded or was never tried. */
const char *dt_lazylib_error(const dt_lazylib *lib);

#endif
