/* buf.h: a growable byte buffer with a hard size cap.
 *
 * Every buffer that holds network input is a dt_buf with a cap, so a hostile or
 * broken peer cannot make the process allocate without bound. Appends that would
 * pass the cap fail and leave the buffer as it was. This is not a string builder
 * for Lua (use luaL_Buffer there); it is for plain C code. */
#ifndef DT_BUF_H
#define DT_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct dt_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t alloc;
    size_t max_len; /* 0 = no cap (only for data we produce ourselves) */
} dt_buf;

void dt_buf_init(dt_buf *b, size_t max_len);
/* 0 on success, -1 on allocation failure or when the cap would be passed. */
int dt_buf_append(dt_buf *b, const void *data, size_t len);
/* Makes room for extra more bytes (and the NUL) without changing len, so a hot loop
 * can write at data + len and then advance len itself, keeping data[len] == '\0'.
 * 0 on success, -1 on allocation failure or when the cap would be passed. */
int dt_buf_reserve(dt_buf *b, size_t extra);
int dt_buf_puts(dt_buf *b, const char *s);
int dt_buf_putc(dt_buf *b, char c);
int dt_buf_printf(dt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dt_buf_reset(dt_buf *b);
/* Wipes the contents (for buffers that held secrets) and frees. */
void dt_buf_free_secure(dt_buf *b);
void dt_buf_free(dt_buf *b);

/* Overwrites memory in a way the compiler may not drop. */
void dt_wipe(void *p, size_t len);

#endif
