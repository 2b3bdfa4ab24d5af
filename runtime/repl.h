/* repl.h: the terminal side of the REPL: line editing with libedit (native el_* API),
 * an in-memory history, the persisted history file, and Tab completion through a
 * callback. Ctrl-C while a line is being edited cancels that line (dt_repl_read returns
 * DT_REPL_INTERRUPTED) instead of killing the process.
 *
 * It knows nothing about Lua: what to complete, what to keep in the history and where
 * the history file lives are decided by the caller (runtime/repl_lua.c and
 * detlua.repl). It evaluates nothing and prints nothing but the editor's own output. */
#ifndef DT_REPL_H
#define DT_REPL_H

#include <stddef.h>

typedef struct dt_repl dt_repl;

typedef struct dt_repl_error {
    char message[320];
} dt_repl_error;

/* Called from inside dt_repl_read when Tab is pressed, with the text left of the cursor
 * (multibyte, not NUL-terminated). It answers, while it runs, with dt_repl_insert and/or
 * dt_repl_show; doing neither leaves the line as it was. */
typedef void (*dt_repl_complete_fn)(dt_repl *r, void *ud, const char *before, size_t len);

enum dt_repl_status {
    DT_REPL_LINE = 0,    /* *line holds the text without its newline */
    DT_REPL_EOF,         /* Ctrl-D on an empty line, or end of input */
    DT_REPL_INTERRUPTED, /* Ctrl-C: the line was discarded */
    DT_REPL_FAILED       /* read error; err filled */
};

/* An editor on stdin/stdout. Returns NULL (err filled) when libedit cannot start, for
 * instance when stdin is not a terminal. Reads ~/.editrc (or $EDITRC) like other
 * libedit programs. */
dt_repl *dt_repl_new(const char *prog, dt_repl_error *err);
void dt_repl_free(dt_repl *r);

void dt_repl_set_completer(dt_repl *r, dt_repl_complete_fn fn, void *ud);

/* Shows prompt (at most 255 bytes are used), edits one line. On DT_REPL_LINE, *line
 * and *len point into the editor's buffer, valid until the next call. SIGINT is handled
 * by the editor for the duration of the call; the previous disposition is restored. */
int dt_repl_read(dt_repl *r, const char *prompt, const char **line, size_t *len,
                 dt_repl_error *err);

/* Inside a completion callback: inserts text at the cursor. */
void dt_repl_insert(dt_repl *r, const char *text);
/* Inside a completion callback: deletes n characters left of the cursor. */
void dt_repl_delete(dt_repl *r, int n);
/* Inside a completion callback: prints text below the line being edited, then the
 * prompt and the line are drawn again. */
void dt_repl_show(dt_repl *r, const char *text);

/* Adds an entry to the in-memory history (Up/Down, Ctrl-R). Entries may span lines. */
void dt_repl_history_add(dt_repl *r, const char *entry);

/* Terminal width of stdout in columns (80 when unknown). */
int dt_repl_columns(void);

/* --- the history file: one entry per line, backslash and newline escaped as \\ and \n.
 * Written with mode 0600 (an existing file is narrowed to 0600); parent directories are
 * created with mode 0700. */

/* Adds the file's entries to r's history (the newest max_entries of them) and, when
 * the file holds more than that, rewrites it with only those. A missing file is not an
 * error (returns 0). Returns the number of entries loaded, or -1 with err filled. */
int dt_repl_history_load(dt_repl *r, const char *path, size_t max_entries, dt_repl_error *err);
/* Appends one entry, creating the file and its directories if needed. 0 or -1. */
int dt_repl_history_append(const char *path, const char *entry, dt_repl_error *err);

#endif
