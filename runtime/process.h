/* process.h: run a program without a shell and collect what it prints, with a deadline.
 *
 * For credential_process (and nothing else yet): the argument vector is executed directly
 * (PATH lookup for argv[0], as execvp does), stdin is inherited so a helper can prompt on
 * the terminal, stdout and stderr are captured into capped buffers, and a child still
 * running at the deadline is killed. It does not split command lines (the Lua side does
 * that), interpret exit codes or parse output, and knows nothing of Lua. */
#ifndef DT_PROCESS_H
#define DT_PROCESS_H

#include <stddef.h>

#include "buf.h"

typedef struct dt_process_options {
    const char *const *argv; /* NULL-terminated, argv[0] non-empty */
    const char *const *envp; /* NULL-terminated "NAME=value" list, or NULL to inherit */
    long timeout_ms;         /* > 0: the child is killed (SIGKILL) when it runs longer */
    size_t max_stdout_bytes; /* more output than this kills the child; stdout_overflow set */
    size_t max_stderr_bytes; /* the first bytes are kept, the rest read and dropped */
} dt_process_options;

typedef struct dt_process_result {
    int exited; /* 1: exit_code is valid */
    int exit_code;
    int signal;          /* the signal that ended the child, else 0 */
    int timed_out;       /* killed at the deadline */
    int stdout_overflow; /* killed for printing more than max_stdout_bytes */
    int interrupted;     /* killed because the user pressed Ctrl-C (dt_interrupt_pending) */
    dt_buf out;          /* wiped when freed: it usually holds secrets */
    dt_buf err;
} dt_process_result;

/* 0 when the child ran (whatever its status), -1 when it could not be started (errmsg
 * says why, e.g. "cannot run 'x': No such file or directory"). r is always initialised
 * and must be released with dt_process_result_free. */
int dt_process_run(const dt_process_options *o, dt_process_result *r, char *errmsg,
                   size_t errmsg_len);

void dt_process_result_free(dt_process_result *r);

#endif
