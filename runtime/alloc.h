/* alloc.h: allocation-failure injection for tests.
 *
 * Once a test arms it with dt_alloc_fail_after(n), the n-th counted allocation and every
 * later one fail, so a test can walk n = 1, 2, ... over a representative call and check
 * that each failure ends in a clean error rather than a crash or a leak. Counted are the
 * Lua states made by dt_host_new_state while dt_alloc_hook_states(1) is on (their
 * allocator becomes dt_alloc_lua) and any allocation whose wrapper asks
 * dt_alloc_should_fail (tests/c/test_alloc_fail.c wraps malloc, calloc, realloc and
 * strdup of the project's own objects at link time).
 *
 * It is inert unless a test turns it on: the product never arms it, and it does not
 * replace the C library's allocator. Plain C; it does not include lua.h. */
#ifndef DT_ALLOC_H
#define DT_ALLOC_H

#include <stddef.h>

/* Arms (n >= 1) or disarms (n == 0) failure injection and resets the counters. */
void dt_alloc_fail_after(unsigned long n);
/* Allocations counted since the last dt_alloc_fail_after (refused ones included). */
unsigned long dt_alloc_count(void);
/* Allocations refused since the last dt_alloc_fail_after. */
unsigned long dt_alloc_refused(void);

/* Counts one allocation request; 1 when it must fail. Cheap when disarmed. */
int dt_alloc_should_fail(void);

/* From now on, states made by dt_host_new_state allocate through dt_alloc_lua. */
void dt_alloc_hook_states(int on);
int dt_alloc_states_hooked(void);

/* A lua_Alloc (same signature; realloc/free underneath, so it can replace the allocator
 * of a state made by luaL_newstate). Shrinking and freeing never fail, as Lua requires. */
void *dt_alloc_lua(void *ud, void *ptr, size_t osize, size_t nsize);

/* The realloc/free pair under dt_alloc_lua (default: the C library's). A test that wraps
 * the C library's functions passes the unwrapped ones, so Lua's blocks are not counted
 * twice. NULL restores the default. */
typedef void *(*dt_alloc_realloc_fn)(void *ptr, size_t n);
typedef void (*dt_alloc_free_fn)(void *ptr);
void dt_alloc_set_backend(dt_alloc_realloc_fn realloc_fn, dt_alloc_free_fn free_fn);

#endif
