/* tap.c: see tap.h. */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int s_passed, s_failed;

static void s_report(int cond, const char *fmt, va_list ap) {
    printf("%s %d - ", cond ? "ok" : "not ok", s_passed + s_failed + 1);
    vprintf(fmt, ap);
    printf("\n");
    if (cond)
        s_passed++;
    else
        s_failed++;
}

void tap_ok(int cond, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s_report(cond, fmt, ap);
    va_end(ap);
}

void tap_streq(const char *got, const char *want, const char *fmt, ...) {
    int same = got && want && strcmp(got, want) == 0;
    va_list ap;
    va_start(ap, fmt);
    s_report(same, fmt, ap);
    va_end(ap);
    if (!same) {
        size_t i = 0;
        if (got && want)
            while (got[i] && got[i] == want[i])
                i++;
        printf("# first difference at offset %zu\n# want: %s\n#  got: %s\n", i,
               want ? want : "(null)", got ? got : "(null)");
    }
}

void tap_skip_all(const char *why) {
    printf("1..0 # SKIP %s\n", why);
    exit(77);
}

int tap_done(void) {
    printf("1..%d\n%d passed, %d failed\n", s_passed + s_failed, s_passed, s_failed);
    return s_failed ? 1 : 0;
}

const char *tap_shared_dir(void) {
    const char *d = getenv("DT_SHARED");
    struct stat st;
    if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    return d;
}

char *tap_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    size_t r;
    while (p && (r = fread(p + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (!p) return NULL;
    p[n] = '\0';
    if (len) *len = n;
    return p;
}
