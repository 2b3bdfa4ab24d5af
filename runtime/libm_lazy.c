/* libm_lazy.c: the libm functions detlua's statically linked Lua refers to, each resolving
 * the real one in libm.so.6 (runtime/lazylib.c) the first time it is called.
 *
 * libcurl's dependencies do not include libm, so linking it costs every process one more
 * library to map and relocate (~0.08 ms of a 5 ms `detlua call`, measured with and without
 * it), while a call into Detective uses none of its functions: Lua needs them for math.*,
 * float `%` and `^`, and float-to-integer conversion. The definitions are hidden: they bind
 * the calls inside this executable only (Lua's and our own), never another library's, and
 * are not exported with Lua's API. Only the detlua executable links this file, and only with
 * the static Lua; everything else links libm as usual. A libm that cannot be opened (it
 * ships with libc6, so only a broken system) ends the process with a message: a math
 * function has no way to report an error. */
#include "lazylib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* X(name, arity): every libm-only function referenced by liblua5.4.a and runtime/ (the
 * linker reports any that is missing, since libm is not linked) */
#define DT_LIBM_FUNCTIONS(X)                                                                       \
    X(acos, 1)                                                                                     \
    X(asin, 1)                                                                                     \
    X(atan2, 2)                                                                                    \
    X(cos, 1)                                                                                      \
    X(cosh, 1)                                                                                     \
    X(exp, 1)                                                                                      \
    X(floor, 1)                                                                                    \
    X(fmod, 2)                                                                                     \
    X(log, 1)                                                                                      \
    X(log10, 1)                                                                                    \
    X(log2, 1)                                                                                     \
    X(nearbyint, 1)                                                                                \
    X(pow, 2)                                                                                      \
    X(sin, 1)                                                                                      \
    X(sinh, 1)                                                                                     \
    X(sqrt, 1)                                                                                     \
    X(tan, 1)                                                                                      \
    X(tanh, 1)

#define S_ARGS_1 double
#define S_ARGS_2 double, double
#define S_POINTER(name, n) static double (*p_##name)(S_ARGS_##n);
DT_LIBM_FUNCTIONS(S_POINTER)

#define S_SYMBOL(name, n) {#name, &p_##name},
static const dt_lazylib_symbol s_symbols[] = {DT_LIBM_FUNCTIONS(S_SYMBOL)};
static dt_lazylib s_libm = {
    .sonames = (const char *const[]){"libm.so.6", NULL},
    .package = "libc6",
    .symbols = s_symbols,
    .n_symbols = sizeof s_symbols / sizeof s_symbols[0],
};

static void s_need(void) {
    if (dt_lazylib_load(&s_libm) != 0) {
        fprintf(stderr, "detlua: %s\n", dt_lazylib_error(&s_libm));
        abort();
    }
}

#define S_HIDDEN __attribute__((visibility("hidden")))
#define S_DEFINE_1(name)                                                                           \
    S_HIDDEN double name(double x) {                                                               \
        s_need();                                                                                  \
        return p_##name(x);                                                                        \
    }
#define S_DEFINE_2(name)                                                                           \
    S_HIDDEN double name(double x, double y) {                                                     \
        s_need();                                                                                  \
        return p_##name(x, y);                                                                     \
    }
#define S_DEFINE(name, n) S_DEFINE_##n(name)
DT_LIBM_FUNCTIONS(S_DEFINE)
