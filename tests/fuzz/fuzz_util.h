/* fuzz_util.h: input decoding shared by the libFuzzer targets in tests/fuzz/.
 *
 * Most targets read their input as a small text "message" so that seeds can be written
 * by hand: a start line, a target line, "name: value" header lines, an empty line, then
 * the body bytes (the layout of an HTTP/1.1 request without the version). Everything is
 * copied into one allocation so that every string is NUL-terminated. Test code only. */
#ifndef DT_FUZZ_UTIL_H
#define DT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_MAX_HEADERS 32

/* Stops the run with a message: libFuzzer records the input as a crash. */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant failed (%s:%d): ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct fz_header {
    const char *name;
    const char *value;
} fz_header;

typedef struct fz_msg {
    const char *start;  /* first line ("" when absent) */
    const char *target; /* second line */
    fz_header headers[FZ_MAX_HEADERS];
    size_t n_headers;
    const char *body; /* raw bytes after the empty line (not NUL-terminated inside data) */
    size_t body_len;
    char *store;
} fz_msg;

/* Splits data into the message parts: n_lines (0, 1 or 2) leading lines (start, target),
 * then headers, an empty line and the body. Header lines without ':' get an empty value; one
 * leading space of the value is dropped (the rest is kept, for the signer to trim). The
 * body is copied too, NUL-terminated. 0, or -1 when out of memory. */
static inline int fz_msg_parse_n(fz_msg *m, const uint8_t *data, size_t size, int n_lines) {
    memset(m, 0, sizeof *m);
    m->store = malloc(size + 1);
    if (!m->store) return -1;
    memcpy(m->store, data, size);
    m->store[size] = '\0';
    char *p = m->store, *end = m->store + size;
    int line = 2 - n_lines;
    m->start = m->target = "";
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        size_t len = (size_t)(e - p);
        if (len > 0 && p[len - 1] == '\r') len--;
        char *next = nl ? nl + 1 : end;
        p[len] = '\0';
        if (line == 0) {
            m->start = p;
        } else if (line == 1) {
            m->target = p;
        } else if (len == 0) {
            p = next;
            break;
        } else if (m->n_headers < FZ_MAX_HEADERS) {
            char *colon = strchr(p, ':');
            fz_header *h = &m->headers[m->n_headers++];
            h->name = p;
            h->value = "";
            if (colon) {
                *colon = '\0';
                h->value = colon[1] == ' ' ? colon + 2 : colon + 1;
            }
        }
        line++;
        p = next;
    }
    m->body = p < end ? p : end;
    m->body_len = (size_t)(end - (char *)m->body);
    return 0;
}

static inline int fz_msg_parse(fz_msg *m, const uint8_t *data, size_t size) {
    return fz_msg_parse_n(m, data, size, 2);
}

static inline void fz_msg_free(fz_msg *m) {
    free(m->store);
    m->store = NULL;
}

/* The first header with this name (any case), or NULL. */
static inline const char *fz_msg_header(const fz_msg *m, const char *name) {
    for (size_t i = 0; i < m->n_headers; i++) {
        const char *a = m->headers[i].name, *b = name;
        while (*a && *b && ((*a | 0x20) == (*b | 0x20)))
            a++, b++;
        if (*a == '\0' && *b == '\0') return m->headers[i].value;
    }
    return NULL;
}

#endif
