/* tty.c: reading one line from the controlling terminal, optionally without echo (see
 * tty.h). Canonical mode stays on, so the terminal does the line editing and read() hands
 * over whole lines; only ECHO is cleared, with ECHONL set so that the newline still shows.
 * It never reads stdin and never retries a read a signal interrupted: Ctrl-C must reach
 * the host's handler, with the terminal's settings put back first. */
#include "tty.h"
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

__attribute__((format(printf, 2, 3))) static long s_fail(dt_tty_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

long dt_tty_read_line(const char *prompt, int echo, char *buf, size_t cap, dt_tty_error *err) {
    if (!buf || cap == 0) return s_fail(err, "no room for the line");
    buf[0] = '\0';
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return s_fail(err, "/dev/tty: %s", strerror(errno));
    struct termios saved;
    int restore = 0;
    if (!echo) {
        if (tcgetattr(fd, &saved) != 0) {
            int e = errno;
            close(fd);
            return s_fail(err, "/dev/tty: %s", strerror(e));
        }
        struct termios quiet = saved;
        quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK);
        quiet.c_lflag |= ECHONL;
        /* TCSAFLUSH: what was typed ahead of the prompt (with echo on) is not taken */
        if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
            int e = errno;
            close(fd);
            return s_fail(err, "/dev/tty: %s", strerror(e));
        }
        restore = 1;
    }
    long rc;
    if (prompt && dt_write_all(fd, prompt, strlen(prompt)) != 0) {
        rc = s_fail(err, "/dev/tty: %s", strerror(errno));
        goto out;
    }
    size_t len = 0;
    for (;;) {
        if (len == cap - 1) {
            rc = s_fail(err, "the line is longer than %zu bytes", cap - 1);
            goto out;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0) {
            rc = errno == EINTR ? s_fail(err, "interrupted")
                                : s_fail(err, "/dev/tty: %s", strerror(errno));
            goto out;
        }
        if (r == 0) {
            rc = s_fail(err, "end of input before a line was typed");
            goto out;
        }
        char *nl = memchr(buf + len, '\n', (size_t)r);
        len += (size_t)r;
        if (nl) {
            *nl = '\0';
            rc = (long)(nl - buf);
            goto out;
        }
    }
out:
    if (rc < 0) buf[0] = '\0';
    if (restore) tcsetattr(fd, TCSAFLUSH, &saved);
    close(fd);
    return rc;
}
