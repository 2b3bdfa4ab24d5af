/* process.c: posix_spawnp a program, read its stdout and stderr through pipes until both
 * close, wait for it, and kill it at the deadline (see process.h).
 *
 * No shell is involved, so nothing in the arguments is expanded or interpreted. SIGPIPE
 * goes back to its default disposition and the signal mask is cleared in the child, as
 * Python's subprocess does for botocore, so helpers behave as they do under the AWS CLI.
 * The child stays in our process group, so it can still read the terminal (MFA prompts);
 * at the deadline (or on Ctrl-C, through the interrupt flag) only the child is killed. */
#include "process.h"
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int s_cloexec_pipe(int fds[2]) {
    if (pipe(fds) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFD);
        if (fl < 0 || fcntl(fds[i], F_SETFD, fl | FD_CLOEXEC) != 0) {
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
    }
    return 0;
}

static void s_close(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Reads what is available on *fd into b (up to cap; beyond it, dropped or overflow). Closes
 * *fd at EOF. Returns 1 when more than cap arrived and overflow_is_error is set. */
static int s_drain(int *fd, dt_buf *b, size_t cap, int overflow_is_error) {
    char chunk[4096];
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return 0;
        s_close(fd);
        return 0;
    }
    if (n == 0) {
        s_close(fd);
        return 0;
    }
    size_t room = cap > b->len ? cap - b->len : 0;
    size_t keep = (size_t)n < room ? (size_t)n : room;
    if (keep && dt_buf_append(b, chunk, keep) != 0) keep = 0;
    dt_wipe(chunk, (size_t)n);
    return overflow_is_error && keep < (size_t)n;
}

/* Waits for the child until deadline_ms; kills it when the deadline passes. */
static void s_reap(pid_t pid, long deadline_ms, dt_process_result *r) {
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return;
        if (w == 0 && s_now_ms() >= deadline_ms) {
            r->timed_out = 1;
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status)) {
        r->exited = 1;
        r->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r->signal = WTERMSIG(status);
    }
}

int dt_process_run(const dt_process_options *o, dt_process_result *r, char *errmsg,
                   size_t errmsg_len) {
    memset(r, 0, sizeof *r);
    dt_buf_init(&r->out, o->max_stdout_bytes);
    dt_buf_init(&r->err, o->max_stderr_bytes);
    errmsg[0] = '\0';
    int out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    if (s_cloexec_pipe(out_p) != 0 || s_cloexec_pipe(err_p) != 0) {
        snprintf(errmsg, errmsg_len, "cannot create a pipe: %s", strerror(errno));
        s_close(&out_p[0]);
        s_close(&out_p[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, out_p[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err_p[1], STDERR_FILENO);
    sigset_t none, deflt;
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &deflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    char *const *envp = o->envp ? (char *const *)o->envp : environ;
    int rc = posix_spawnp(&pid, o->argv[0], &fa, &attr, (char *const *)o->argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    s_close(&out_p[1]);
    s_close(&err_p[1]);
    if (rc != 0) {
        snprintf(errmsg, errmsg_len, "cannot run '%s': %s", o->argv[0], strerror(rc));
        s_close(&out_p[0]);
        s_close(&err_p[0]);
        return -1;
    }
    long deadline = s_now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 60000);
    while (out_p[0] >= 0 || err_p[0] >= 0) {
        long left = deadline - s_now_ms();
        if (left <= 0) break;
        if (dt_interrupt_pending()) {
            r->interrupted = 1;
            break;
        }
        struct pollfd p[2];
        nfds_t n = 0;
        int *fds[2];
        if (out_p[0] >= 0) {
            p[n] = (struct pollfd){.fd = out_p[0], .events = POLLIN};
            fds[n++] = &out_p[0];
        }
        if (err_p[0] >= 0) {
            p[n] = (struct pollfd){.fd = err_p[0], .events = POLLIN};
            fds[n++] = &err_p[0];
        }
        int k = poll(p, n, left > 200 ? 200 : (int)left);
        if (k < 0 && errno != EINTR) break;
        for (nfds_t i = 0; k > 0 && i < n; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (fds[i] == &out_p[0]) {
                if (s_drain(fds[i], &r->out, o->max_stdout_bytes, 1)) {
                    r->stdout_overflow = 1;
                    kill(pid, SIGKILL);
                    s_close(&out_p[0]);
                    s_close(&err_p[0]);
                    break;
                }
            } else {
                s_drain(fds[i], &r->err, o->max_stderr_bytes, 0);
            }
        }
    }
    if (out_p[0] >= 0 || err_p[0] >= 0) {
        /* deadline passed with the pipes still open: the child (or one it left behind)
         * is still writing or holding them */
        s_close(&out_p[0]);
        s_close(&err_p[0]);
        if (!r->stdout_overflow && !r->interrupted) r->timed_out = 1;
        deadline = s_now_ms();
    }
    s_reap(pid, deadline, r);
    return 0;
}

void dt_process_result_free(dt_process_result *r) {
    dt_buf_free_secure(&r->out);
    dt_buf_free_secure(&r->err);
}
