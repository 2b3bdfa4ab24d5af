/* tty.h: one line read from the controlling terminal, with echo off when asked, for the
 * prompts that must not come from stdin (a pipe, or a playbook's own input): MFA codes. It
 * does not know about Lua, keeps nothing it reads beyond the caller's buffer, and does no
 * line editing beyond the terminal's own (erase and kill work in canonical mode). */
#ifndef DT_TTY_H
#define DT_TTY_H

#include <stddef.h>

typedef struct dt_tty_error {
    char message[256];
} dt_tty_error;

/* Opens /dev/tty, writes prompt to it, and reads one line into buf (NUL-terminated, without
 * its newline; at most cap - 1 bytes). With echo == 0 the terminal does not echo what is
 * typed, only the final newline, and its settings are restored before returning, whatever
 * happens (an interrupted read included). Returns the line's length, or -1 with err set: no
 * controlling terminal, end of input before a newline, a line longer than buf, a signal. */
long dt_tty_read_line(const char *prompt, int echo, char *buf, size_t cap, dt_tty_error *err);

#endif
