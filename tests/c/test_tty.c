/* test_tty.c: dt_tty_read_line against a real pseudo-terminal. A child process makes the
 * pty's slave its controlling terminal and reads lines through /dev/tty; the parent plays
 * the user on the master side and reads back what the terminal displayed. Checks: the line
 * arrives without its newline, nothing typed is displayed with echo off (only the newline),
 * it is displayed with echo on, the terminal's settings are restored, and a line longer
 * than the buffer and a missing terminal are errors. */
#include "tap.h"
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Reads what the terminal shows until `until` appears (or 5 s pass); returns the text. */
static char *s_read_screen(int master, const char *until, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (int waited_ms = 0; waited_ms < 5000 && !strstr(buf, until);) {
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) {
            waited_ms += 50;
            continue;
        }
        ssize_t r = read(master, buf + len, cap - 1 - len);
        if (r <= 0) break;
        len += (size_t)r;
        buf[len] = '\0';
    }
    return buf;
}

/* The child: becomes a session leader with the slave as controlling terminal, reads two
 * lines (echo off, then on) and reports them, and whether ECHO is set afterwards, on the
 * pipe. */
static void s_child(int slave, int report) {
    setsid();
    ioctl(slave, TIOCSCTTY, 0);
    char line[64], out[256];
    dt_tty_error err;
    long n1 = dt_tty_read_line("code: ", 0, line, sizeof line, &err);
    int len = snprintf(out, sizeof out, "1:%ld:%s|", n1, n1 >= 0 ? line : err.message);
    struct termios t;
    tcgetattr(slave, &t);
    len += snprintf(out + len, sizeof out - (size_t)len, "echo:%d|", (t.c_lflag & ECHO) ? 1 : 0);
    long n2 = dt_tty_read_line("name: ", 1, line, sizeof line, &err);
    len += snprintf(out + len, sizeof out - (size_t)len, "2:%ld:%s|", n2,
                    n2 >= 0 ? line : err.message);
    char small[4];
    long n3 = dt_tty_read_line("short: ", 0, small, sizeof small, &err);
    len += snprintf(out + len, sizeof out - (size_t)len, "3:%ld:%s|", n3,
                    n3 >= 0 ? small : err.message);
    tcgetattr(slave, &t);
    len += snprintf(out + len, sizeof out - (size_t)len, "echo:%d", (t.c_lflag & ECHO) ? 1 : 0);
    if (write(report, out, (size_t)len) < 0) _exit(2);
    _exit(0);
}

int main(void) {
    int master, slave;
    if (openpty(&master, &slave, NULL, NULL, NULL) != 0) tap_skip_all("no pseudo-terminal");
    int pipefd[2];
    if (pipe(pipefd) != 0) tap_skip_all("no pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(master);
        close(pipefd[0]);
        s_child(slave, pipefd[1]);
    }
    close(slave);
    close(pipefd[1]);

    char screen[1024];
    s_read_screen(master, "code: ", screen, sizeof screen);
    TAP_OK(strstr(screen, "code: ") != NULL);
    if (write(master, "246810\n", 7) != 7) tap_ok(0, "typing the code");
    s_read_screen(master, "name: ", screen, sizeof screen);
    tap_ok(strstr(screen, "246810") == NULL, "echo off: the code is not displayed (%s)", screen);
    tap_ok(strchr(screen, '\n') != NULL, "echo off: the newline is");
    if (write(master, "alice\n", 6) != 6) tap_ok(0, "typing the name");
    s_read_screen(master, "short: ", screen, sizeof screen);
    tap_ok(strstr(screen, "alice") != NULL, "echo on: the name is displayed (%s)", screen);
    if (write(master, "toolong\n", 8) != 8) tap_ok(0, "typing the long line");

    char report[512];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof report - 1 &&
           (r = read(pipefd[0], report + got, sizeof report - 1 - got)) > 0)
        got += (size_t)r;
    report[got] = '\0';
    int status = 0;
    waitpid(pid, &status, 0);
    TAP_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    tap_streq(report, "1:6:246810|echo:1|2:5:alice|3:-1:the line is longer than 3 bytes|echo:1",
              "the lines read, the errors, and ECHO restored after each read");

    /* without a controlling terminal: an error naming /dev/tty */
    pid = fork();
    if (pid == 0) {
        setsid();
        char line[16];
        dt_tty_error err;
        long n = dt_tty_read_line("x: ", 0, line, sizeof line, &err);
        _exit(n == -1 && strncmp(err.message, "/dev/tty: ", 10) == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "no controlling terminal: /dev/tty error");
    close(master);
    return tap_done();
}
