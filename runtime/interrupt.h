/* interrupt.h: the process-wide "the user asked to stop" flag (Ctrl-C).
 *
 * The SIGINT handler requests; long waits in C (a transfer blocked in libcurl, whose
 * progress callback can poll this) check it and give up; whoever reports the stop to
 * the user clears it before the next command. Async-signal-safe and thread-safe (a
 * lock-free atomic). It does not install signal handlers and raises nothing itself. */
#ifndef DT_INTERRUPT_H
#define DT_INTERRUPT_H

/* Sets the flag. Safe to call from a signal handler. */
void dt_interrupt_request(void);
/* 1 when a stop was requested and not yet cleared, else 0. */
int dt_interrupt_pending(void);
void dt_interrupt_clear(void);

#endif
