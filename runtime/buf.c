/* buf.c: bounded growable buffer (see buf.h). Knows nothing of Lua. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

void dt_buf_init(dt_buf *b, size_t max_len) {
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max_len = max_len;
}

static int s_reserve(dt_buf *b, size_t extra) {
    if (extra > ((size_t)-1) - b->len - 1) return -1;
    size_t need = b->len + extra + 1;
    if (b->max_len && b->len + extra > b->max_len) return -1;
    if (need <= b->alloc) return 0;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need) {
        if (n > ((size_t)-1) / 2) return -1;
        n *= 2;
    }
    /* Not realloc: the block left behind may hold a secret (a session token in an STS
     * answer, a secret key in a config file), and realloc would free it unwiped. */
    char *p = malloc(n);
    if (!p) return -1;
    if (b->data) {
        memcpy(p, b->data, b->len + 1);
        dt_wipe(b->data, b->alloc);
        free(b->data);
    }
    b->data = p;
    b->alloc = n;
    return 0;
}

int dt_buf_reserve(dt_buf *b, size_t extra) {
    return s_reserve(b, extra);
}

int dt_buf_append(dt_buf *b, const void *data, size_t len) {
    if (s_reserve(b, len) != 0) return -1;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int dt_buf_puts(dt_buf *b, const char *s) {
    return dt_buf_append(b, s, strlen(s));
}

int dt_buf_putc(dt_buf *b, char c) {
    return dt_buf_append(b, &c, 1);
}

int dt_buf_printf(dt_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || s_reserve(b, (size_t)n) != 0) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void dt_buf_reset(dt_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void dt_wipe(void *p, size_t len) {
    if (p && len) OPENSSL_cleanse(p, len);
}

void dt_buf_free_secure(dt_buf *b) {
    if (b->data) dt_wipe(b->data, b->alloc);
    dt_buf_free(b);
}

void dt_buf_free(dt_buf *b) {
    free(b->data);
    dt_buf_init(b, b->max_len);
}
