/* alloc.c: the test-only allocation-failure switch (see alloc.h).
 *
 * Counters are atomics because the emulator serves from its own thread; the switch is a
 * process-wide setting on purpose, as the allocations it targets happen deep inside code
 * that has no context to pass it through. It is not an allocator of its own: memory
 * still comes from realloc/free. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

static atomic_ulong s_fail_at; /* 0 = disarmed */
static atomic_ulong s_count;
static atomic_ulong s_refused;
static atomic_int s_hook_states;
static dt_alloc_realloc_fn s_realloc = realloc;
static dt_alloc_free_fn s_free = free;

void dt_alloc_set_backend(dt_alloc_realloc_fn realloc_fn, dt_alloc_free_fn free_fn) {
    s_realloc = realloc_fn ? realloc_fn : realloc;
    s_free = free_fn ? free_fn : free;
}

void dt_alloc_fail_after(unsigned long n) {
    atomic_store(&s_fail_at, 0);
    atomic_store(&s_count, 0);
    atomic_store(&s_refused, 0);
    atomic_store(&s_fail_at, n);
}

unsigned long dt_alloc_count(void) {
    return atomic_load(&s_count);
}

unsigned long dt_alloc_refused(void) {
    return atomic_load(&s_refused);
}

int dt_alloc_should_fail(void) {
    unsigned long at = atomic_load(&s_fail_at);
    if (at == 0) return 0;
    unsigned long n = atomic_fetch_add(&s_count, 1) + 1;
    if (n < at) return 0;
    atomic_fetch_add(&s_refused, 1);
    return 1;
}

void dt_alloc_hook_states(int on) {
    atomic_store(&s_hook_states, on != 0);
}

int dt_alloc_states_hooked(void) {
    return atomic_load(&s_hook_states);
}

void *dt_alloc_lua(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    if (nsize == 0) {
        s_free(ptr);
        return NULL;
    }
    /* Lua's contract: a block that shrinks (or keeps its size) is never refused. ptr NULL
     * means a new block, and osize then encodes the object type, not a size. */
    if ((ptr == NULL || nsize > osize) && dt_alloc_should_fail()) return NULL;
    return s_realloc(ptr, nsize);
}
