/* warmup.h: one-time library set-up started early on a helper thread (see warmup.c). */
#ifndef DT_WARMUP_H
#define DT_WARMUP_H

/* Starts the helper thread once per process; later calls do nothing. Returns 0 when the
 * thread runs (or ran), -1 when it could not be started (the set-up then happens on first
 * use, as it would without this). */
int dt_warmup_start(void);

/* Waits for the helper thread when one was started. Called before the process exits. */
void dt_warmup_finish(void);

#endif
