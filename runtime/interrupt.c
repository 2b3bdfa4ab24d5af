/* interrupt.c: see interrupt.h. A single atomic int: stores from a signal handler are
 * allowed for lock-free atomics (C11 7.14.1.1), and the other threads (the emulator,
 * curl callbacks) read it without a lock. */
#include "interrupt.h"

#include <stdatomic.h>

static atomic_int s_pending;

void dt_interrupt_request(void) {
    atomic_store(&s_pending, 1);
}

int dt_interrupt_pending(void) {
    return atomic_load(&s_pending) != 0;
}

void dt_interrupt_clear(void) {
    atomic_store(&s_pending, 0);
}
