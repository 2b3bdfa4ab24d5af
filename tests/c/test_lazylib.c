/* test_lazylib.c: libraries opened on first use (runtime/lazylib.c).
 *
 * Oracles are the libraries themselves: libm's results through the loaded pointers equal
 * the linked libm's, expat reports its version in its documented "expat_X.Y.Z" form, and
 * the dynamic loader (RTLD_NOLOAD) tells whether a library is in the process. Covers:
 * a library the test binary does not link (expat) is absent until loaded; a missing
 * soname and a missing symbol both fail naming it, with every slot left NULL; later calls
 * repeat the first answer; a second soname is tried; concurrent first calls. */
#include "lazylib.h"
#include "tap.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef double (*s_unary_fn)(double);
typedef const char *(*s_version_fn)(void);

static const char *const s_libm_names[] = {"libm.so.6", NULL};
static const char *const s_expat_names[] = {"libexpat.so.1", NULL};
static const char *const s_missing_names[] = {"libdetlua-no-such.so.7", NULL};
static const char *const s_fallback_names[] = {"libdetlua-no-such.so.7", "libm.so.6", NULL};
static const char *const s_two_missing_names[] = {"libdetlua-no-such.so.7",
                                                  "libdetlua-no-such.so.8", NULL};

static void s_libm(void) {
    static struct { s_unary_fn cos, sqrt; } m;
    static const dt_lazylib_symbol syms[] = {{"cos", &m.cos}, {"sqrt", &m.sqrt}};
    static dt_lazylib lib = {
        .sonames = s_libm_names, .package = "libc6", .symbols = syms, .n_symbols = 2};
    tap_streq(dt_lazylib_error(&lib), "", "no message before the first load");
    tap_ok(dt_lazylib_load(&lib) == 0, "libm loads");
    tap_ok(m.cos && m.sqrt, "both slots filled");
    volatile double x = 2.0; /* keep the compiler from folding the linked calls */
    tap_ok(m.cos && m.cos(x) == cos(x), "cos through the slot equals the linked cos");
    tap_ok(m.sqrt && m.sqrt(x) == sqrt(x), "sqrt through the slot equals the linked sqrt");
    tap_streq(dt_lazylib_error(&lib), "", "no message after a successful load");
    s_unary_fn before = m.cos;
    tap_ok(dt_lazylib_load(&lib) == 0 && m.cos == before, "a second call keeps the result");
}

static void s_not_linked(void) {
    static struct { s_version_fn version; } x;
    static const dt_lazylib_symbol syms[] = {{"XML_ExpatVersion", &x.version}};
    static dt_lazylib lib = {
        .sonames = s_expat_names, .package = "libexpat1", .symbols = syms, .n_symbols = 1};
    /* the point of lazylib: the binary (linked like detlua) does not load expat itself */
    tap_ok(dlopen("libexpat.so.1", RTLD_NOW | RTLD_NOLOAD) == NULL,
           "expat is not in the process before first use");
    tap_ok(dt_lazylib_load(&lib) == 0, "expat loads: %s", dt_lazylib_error(&lib));
    const char *v = x.version ? x.version() : "";
    tap_ok(strncmp(v, "expat_", 6) == 0, "XML_ExpatVersion answers %s", v);
    tap_ok(dlopen("libexpat.so.1", RTLD_NOW | RTLD_NOLOAD) != NULL, "expat is loaded after");
}

static void s_missing_library(void) {
    static struct { s_unary_fn cos; } m;
    static const dt_lazylib_symbol syms[] = {{"cos", &m.cos}};
    static dt_lazylib lib = {
        .sonames = s_missing_names, .package = "detlua-test-pkg", .symbols = syms, .n_symbols = 1};
    tap_ok(dt_lazylib_load(&lib) == -1, "a missing library fails");
    tap_ok(m.cos == NULL, "its slot stays NULL");
    const char *want = "libdetlua-no-such.so.7 is not available (Debian package detlua-test-pkg): ";
    char first[DT_LAZYLIB_ERROR_BYTES];
    snprintf(first, sizeof first, "%s", dt_lazylib_error(&lib));
    tap_ok(strncmp(first, want, strlen(want)) == 0, "message names soname and package: %s", first);
    tap_ok(strstr(first + strlen(want), "libdetlua-no-such.so.7") != NULL,
           "and carries the loader's reason");
    tap_ok(dt_lazylib_load(&lib) == -1, "a second call fails too");
    tap_streq(dt_lazylib_error(&lib), first, "with the same message");
}

static void s_missing_symbol(void) {
    static struct { s_unary_fn cos, missing, sqrt; } m;
    static const dt_lazylib_symbol syms[] = {
        {"cos", &m.cos}, {"dt_no_such_symbol_q7", &m.missing}, {"sqrt", &m.sqrt}};
    static dt_lazylib lib = {
        .sonames = s_libm_names, .package = "libc6", .symbols = syms, .n_symbols = 3};
    tap_ok(dt_lazylib_load(&lib) == -1, "a missing symbol fails the whole library");
    tap_ok(!m.cos && !m.missing && !m.sqrt, "no slot is set, before or after the missing one");
    const char *e = dt_lazylib_error(&lib);
    const char *want = "libm.so.6 is not available (Debian package libc6): ";
    tap_ok(strncmp(e, want, strlen(want)) == 0 && strstr(e, "dt_no_such_symbol_q7") != NULL,
           "message names the soname and the symbol: %s", e);
    char first[DT_LAZYLIB_ERROR_BYTES];
    snprintf(first, sizeof first, "%s", e);
    tap_ok(dt_lazylib_load(&lib) == -1 && !m.cos, "a second call fails, slots still NULL");
    tap_streq(dt_lazylib_error(&lib), first, "with the same message");
}

static void s_second_name(void) {
    static struct { s_unary_fn sqrt; } m;
    static const dt_lazylib_symbol syms[] = {{"sqrt", &m.sqrt}};
    static dt_lazylib lib = {
        .sonames = s_fallback_names, .package = "libc6", .symbols = syms, .n_symbols = 1};
    tap_ok(dt_lazylib_load(&lib) == 0 && m.sqrt && m.sqrt(4.0) == 2.0,
           "the second soname is tried when the first is missing");

    static dt_lazylib none = {.sonames = s_two_missing_names,
                              .package = "detlua-test-pkg",
                              .symbols = syms,
                              .n_symbols = 0};
    const char *want = "libdetlua-no-such.so.7 or libdetlua-no-such.so.8 is not available";
    int rc = dt_lazylib_load(&none);
    tap_ok(rc == -1 && strncmp(dt_lazylib_error(&none), want, strlen(want)) == 0,
           "all names tried are in the message: %s", dt_lazylib_error(&none));
}

/* --- concurrent first use --------------------------------------------------------- */

#define S_THREADS 8

static struct { s_unary_fn cbrt; } s_conc;
static const dt_lazylib_symbol s_conc_syms[] = {{"cbrt", &s_conc.cbrt}};
static dt_lazylib s_conc_lib = {
    .sonames = s_libm_names, .package = "libc6", .symbols = s_conc_syms, .n_symbols = 1};
static pthread_barrier_t s_start;

static void *s_racer(void *arg) {
    int *ok = arg;
    pthread_barrier_wait(&s_start);
    volatile double x = 27.0; /* no constant folding: both calls go to libm */
    *ok = dt_lazylib_load(&s_conc_lib) == 0 && s_conc.cbrt && s_conc.cbrt(x) == cbrt(x);
    return NULL;
}

static void s_concurrent(void) {
    pthread_t th[S_THREADS];
    int ok[S_THREADS] = {0};
    pthread_barrier_init(&s_start, NULL, S_THREADS);
    int started = 0;
    for (int i = 0; i < S_THREADS; i++)
        if (pthread_create(&th[i], NULL, s_racer, &ok[i]) == 0) started++;
    if (started != S_THREADS) {
        tap_ok(0, "could start only %d threads", started); /* the barrier would block */
        return;
    }
    int all = 1;
    for (int i = 0; i < S_THREADS; i++) {
        pthread_join(th[i], NULL);
        all = all && ok[i];
    }
    pthread_barrier_destroy(&s_start);
    tap_ok(all, "%d threads loading at once all see every slot filled", S_THREADS);
}

int main(void) {
    s_libm();
    s_not_linked();
    s_missing_library();
    s_missing_symbol();
    s_second_name();
    s_concurrent();
    return tap_done();
}
