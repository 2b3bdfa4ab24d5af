/* tap.h: a tiny test helper for the C unit tests: TAP output, a closing summary line,
 * exit status 0 when every check passed, 77 when the test asks to be skipped. */
#ifndef DT_TAP_H
#define DT_TAP_H

#include <stddef.h>

void tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* compares two strings; on a difference prints both (first differing offset marked) */
void tap_streq(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tap_skip_all(const char *why) __attribute__((noreturn));
/* prints "N passed, N failed" and returns the process exit status */
int tap_done(void);
/* $DT_SHARED when set and the directory exists, else NULL */
const char *tap_shared_dir(void);
/* reads a whole file into a malloc'd NUL-terminated string, or NULL */
char *tap_read_file(const char *path, size_t *len);

#define TAP_OK(c) tap_ok((c), "%s:%d: %s", __FILE__, __LINE__, #c)

#endif
