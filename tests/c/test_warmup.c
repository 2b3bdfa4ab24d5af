/* test_warmup.c: the helper thread that starts OpenSSL's set-up early (runtime/warmup.c).
 * Digests are right whether the thread finished, is still running or never ran; starting
 * twice and finishing twice are harmless; and a process that exits while the thread is
 * still inside OpenSSL's initialisation exits cleanly (the atexit ordering warmup.c relies
 * on), checked over many fresh child processes exiting at moments spread over the
 * thread's work. */
#include "../../runtime/crypto.h"
#include "../../runtime/warmup.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_CHILDREN 600

/* FIPS 180-2 appendix B.1: SHA-256("abc") */
static const char *const s_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static int s_abc_ok(void) {
    char hex[DT_SHA256_HEX_LEN + 1];
    return dt_sha256_hex(NULL, "abc", 3, hex) == 0 && strcmp(hex, s_abc) == 0;
}

/* In a fresh child: start the thread and exit at once (mode 0), after a digest racing the
 * thread (mode 1), or through exit() from deep inside (mode 2, as os.exit does). */
static int s_child_status(int mode, int delay_us) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        alarm(20); /* a child stuck at exit is a failure, not a hung test */
        if (dt_warmup_start() != 0) _exit(3);
        if (mode == 1 && !s_abc_ok()) _exit(4);
        if (mode == 2) {
            /* exit at a different moment of the thread's work in each child */
            struct timespec pause = {0, (long)(delay_us * 1000)};
            nanosleep(&pause, NULL);
            exit(0);
        }
        dt_warmup_finish();
        _exit(0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void) {
    int bad = 0;
    for (int i = 0; i < S_CHILDREN; i++) {
        int st = s_child_status(i % 3, (i * 7) % 1200);
        if (st != 0) {
            bad++;
            tap_ok(0, "child %d (mode %d) exited with %d", i, i % 3, st);
        }
    }
    tap_ok(bad == 0, "%d fresh processes start the thread and exit cleanly (%d failed)", S_CHILDREN,
           bad);

    tap_ok(dt_warmup_start() == 0, "the thread starts");
    tap_ok(dt_warmup_start() == 0, "a second start is harmless");
    tap_ok(s_abc_ok(), "SHA-256 is right while or after the thread runs");
    dt_warmup_finish();
    dt_warmup_finish();
    tap_ok(dt_crypto_prepare() == 0, "after the thread, the digest is ready");
    tap_ok(s_abc_ok(), "SHA-256 is right after finish");
    tap_ok(dt_warmup_start() == 0, "start after finish does not start a second thread");
    return tap_done();
}
