/* lazylib.c: dlopen on first use (see lazylib.h).
 *
 * One process-wide mutex serialises first loads (they are rare; the emulator's server
 * thread and the main thread may race for one); after that the state is read with an
 * acquire load, published with a release store once every slot is written, so a caller
 * that sees "loaded" also sees the slots. RTLD_NOW: a library missing one of its own
 * dependencies fails here, with a message, rather than at some later call.
 * RTLD_LOCAL: the library's symbols do not become visible to other code we load.
 * It does not call dlclose, even after a failed symbol lookup: the handle stays open for
 * the rest of the process, which is what a linked library does too. */
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* POSIX requires that a dlsym result can be converted to a function pointer; we copy
 * the bytes, which is valid ISO C (a cast between void * and function pointers is not). */
typedef void (*s_any_fn)(void);
_Static_assert(sizeof(s_any_fn) == sizeof(void *), "function pointers must be pointer-sized");

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

/* "libfoo.so.1" or "libfoo.so.1 or libfoo.so.2" */
static void s_describe(const dt_lazylib *lib, char *out, size_t cap) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; lib->sonames[i] && o < cap; i++) {
        int n = snprintf(out + o, cap - o, "%s%s", i ? " or " : "", lib->sonames[i]);
        if (n < 0) break;
        o += (size_t)n;
    }
}

static void s_fail(dt_lazylib *lib, const char *why) {
    char names[160];
    s_describe(lib, names, sizeof names);
    snprintf(lib->error, sizeof lib->error, "%s is not available (Debian package %s): %s", names,
             lib->package ? lib->package : "?", why ? why : "unknown error");
}

static void s_clear_slots(const dt_lazylib *lib, size_t n) {
    s_any_fn none = NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(lib->symbols[i].slot, &none, sizeof none);
}

/* With s_lock held. 0 or -1 (lib->error set). */
static int s_load_locked(dt_lazylib *lib) {
    if (!lib->sonames || !lib->sonames[0]) {
        s_fail(lib, "no library name given");
        return -1;
    }
    void *handle = NULL;
    char why[DT_LAZYLIB_ERROR_BYTES] = "";
    for (size_t i = 0; !handle && lib->sonames[i]; i++) {
        handle = dlopen(lib->sonames[i], RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char *e = dlerror();
            if (i == 0)
                snprintf(why, sizeof why, "%s", e ? e : "cannot open"); /* the preferred name's */
        }
    }
    if (!handle) {
        s_fail(lib, why);
        return -1;
    }
    for (size_t i = 0; i < lib->n_symbols; i++) {
        (void)dlerror(); /* a NULL result is an error only if dlerror then says so */
        void *p = dlsym(handle, lib->symbols[i].name);
        const char *e = p ? NULL : dlerror();
        if (!p) {
            /* a symbol whose value is NULL is no use to a caller either */
            if (e)
                snprintf(why, sizeof why, "%s", e);
            else
                snprintf(why, sizeof why, "symbol %s is NULL", lib->symbols[i].name);
            s_clear_slots(lib, i); /* not yet published: nobody has seen them */
            s_fail(lib, why);
            return -1;
        }
        memcpy(lib->symbols[i].slot, &p, sizeof p);
    }
    return 0;
}

int dt_lazylib_load(dt_lazylib *lib) {
    int st = atomic_load_explicit(&lib->state, memory_order_acquire);
    if (st == 0) {
        pthread_mutex_lock(&s_lock);
        st = atomic_load_explicit(&lib->state, memory_order_relaxed);
        if (st == 0) {
            st = s_load_locked(lib) == 0 ? 1 : -1;
            atomic_store_explicit(&lib->state, st, memory_order_release);
        }
        pthread_mutex_unlock(&s_lock);
    }
    return st > 0 ? 0 : -1;
}

const char *dt_lazylib_error(const dt_lazylib *lib) {
    /* the message is written before the state is published, and never changes after */
    int st = atomic_load_explicit(&((dt_lazylib *)lib)->state, memory_order_acquire);
    return st < 0 ? lib->error : "";
}
