/* repl.c: line editing for the REPL on libedit's native API (see repl.h).
 *
 * Why the native API and our own read function: libedit's readline emulation cannot
 * tell Ctrl-C from end of input, and its stock reader retries a read interrupted by a
 * signal once before giving up, so the first Ctrl-C would be swallowed. Our reader
 * (EL_GETCFN) returns an error as soon as SIGINT arrived, el_gets then returns NULL
 * with a negative count, and the next el_gets starts from an empty line.
 *
 * The history file is ours too (not libedit's H_SAVE format) so that we control its
 * mode, can append one entry at a time (a crash loses nothing) and can trim it. This
 * file does not decide what is worth keeping; the caller filters secrets out. */
#include "repl.h"
#include "fdio.h"

#include "lazylib.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#define S_HISTORY_MEMORY_ENTRIES 1000
#define S_MAX_HISTORY_LINE_BYTES ((size_t)1 << 20) /* longer lines in the file are skipped */

/* libedit is opened on first use (lazylib.h): most runs never edit a line. The pointers are
 * typed from histedit.h, so every call is checked as if it were linked. CMake passes the
 * soname of the library the header belongs to. */
#ifndef DT_SONAME_EDIT
#define DT_SONAME_EDIT "libedit.so.2"
#endif

static struct {
    __typeof__(el_init) *el_init;
    __typeof__(el_end) *el_end;
    __typeof__(el_set) *el_set;
    __typeof__(el_get) *el_get;
    __typeof__(el_gets) *el_gets;
    __typeof__(el_line) *el_line;
    __typeof__(el_insertstr) *el_insertstr;
    __typeof__(el_deletestr) *el_deletestr;
    __typeof__(el_resize) *el_resize;
    __typeof__(el_source) *el_source;
    __typeof__(history_init) *history_init;
    __typeof__(history_end) *history_end;
    __typeof__(history) *history;
} s_ed;

#define S_SYM(f)                                                                                   \
    { #f, &s_ed.f }
static const dt_lazylib_symbol s_ed_symbols[] = {
    S_SYM(el_init),   S_SYM(el_end),    S_SYM(el_set),       S_SYM(el_get),
    S_SYM(el_gets),   S_SYM(el_line),   S_SYM(el_insertstr), S_SYM(el_deletestr),
    S_SYM(el_resize), S_SYM(el_source), S_SYM(history_init), S_SYM(history_end),
    S_SYM(history),
};
#undef S_SYM

static dt_lazylib s_ed_lib = {
    .sonames = (const char *const[]){DT_SONAME_EDIT, NULL},
    .package = "libedit2",
    .symbols = s_ed_symbols,
    .n_symbols = sizeof s_ed_symbols / sizeof s_ed_symbols[0],
};

struct dt_repl {
    EditLine *el;
    History *hist;
    dt_repl_complete_fn complete;
    void *complete_ud;
    int shown;       /* the completer printed a listing: redraw prompt and line */
    int inserted;    /* the completer changed the line */
    int interrupted; /* our reader saw SIGINT */
    char prompt[256];
};

static volatile sig_atomic_t s_sigint;
static volatile sig_atomic_t s_sigwinch;

static void s_on_sigint(int sig) {
    (void)sig;
    s_sigint = 1;
}

static void s_on_sigwinch(int sig) {
    (void)sig;
    s_sigwinch = 1;
}

static void s_set_error(dt_repl_error *err, const char *what, const char *detail) {
    if (err)
        snprintf(err->message, sizeof err->message, "%s%s%s", what, detail ? ": " : "",
                 detail ? detail : "");
}

static dt_repl *s_self(EditLine *el) {
    void *p = NULL;
    s_ed.el_get(el, EL_CLIENTDATA, &p);
    return p;
}

static char *s_prompt(EditLine *el) {
    dt_repl *r = s_self(el);
    return r ? r->prompt : (char *)"";
}

/* One character from the terminal. A read interrupted by SIGINT fails at once (errno
 * EINTR); one interrupted by SIGWINCH resizes and carries on. Invalid UTF-8 is dropped
 * byte by byte, as libedit's own reader does. */
static int s_getc(EditLine *el, wchar_t *wc) {
    dt_repl *r = s_self(el);
    char buf[MB_LEN_MAX];
    size_t n = 0;
    for (;;) {
        if (s_sigint) {
            s_sigint = 0;
            if (r) r->interrupted = 1;
            *wc = L'\0';
            errno = EINTR;
            return -1;
        }
        if (s_sigwinch) {
            s_sigwinch = 0;
            s_ed.el_resize(el);
        }
        char c;
        ssize_t k = read(STDIN_FILENO, &c, 1);
        if (k < 0) {
            if (errno == EINTR) continue;
            *wc = L'\0';
            return -1;
        }
        if (k == 0) {
            *wc = L'\0';
            return 0;
        }
        buf[n++] = c;
        mbstate_t st;
        memset(&st, 0, sizeof st);
        size_t rc = mbrtowc(wc, buf, n, &st);
        if (rc == (size_t)-2 && n < sizeof buf) continue; /* incomplete sequence */
        if (rc == (size_t)-1 || rc == (size_t)-2) {
            n = 0;
            continue;
        }
        if (rc == 0) *wc = L'\0';
        return 1;
    }
}

static unsigned char s_complete(EditLine *el, int ch) {
    (void)ch;
    dt_repl *r = s_self(el);
    if (!r || !r->complete) return CC_ERROR;
    const LineInfo *li = s_ed.el_line(el);
    r->shown = 0;
    r->inserted = 0;
    r->complete(r, r->complete_ud, li->buffer, (size_t)(li->cursor - li->buffer));
    if (r->shown) return CC_REDISPLAY;
    return r->inserted ? CC_REFRESH : CC_NORM;
}

dt_repl *dt_repl_new(const char *prog, dt_repl_error *err) {
    if (!isatty(STDIN_FILENO)) {
        s_set_error(err, "line editing needs a terminal on stdin", NULL);
        return NULL;
    }
    if (dt_lazylib_load(&s_ed_lib) != 0) {
        s_set_error(err, dt_lazylib_error(&s_ed_lib), NULL);
        return NULL;
    }
    /* libedit decodes input with the locale's charset; without this, UTF-8 is lost. */
    setlocale(LC_CTYPE, "");
    dt_repl *r = calloc(1, sizeof *r);
    if (!r) {
        s_set_error(err, "out of memory", NULL);
        return NULL;
    }
    r->el = s_ed.el_init(prog ? prog : "detlua", stdin, stdout, stderr);
    r->hist = s_ed.history_init();
    if (!r->el || !r->hist) {
        s_set_error(err, "cannot start libedit", NULL);
        dt_repl_free(r);
        return NULL;
    }
    HistEvent ev;
    s_ed.history(r->hist, &ev, H_SETSIZE, S_HISTORY_MEMORY_ENTRIES);
    s_ed.history(r->hist, &ev, H_SETUNIQUE, 1);
    s_ed.el_set(r->el, EL_CLIENTDATA, (void *)r);
    s_ed.el_set(r->el, EL_EDITOR, "emacs");
    s_ed.el_set(r->el, EL_PROMPT, s_prompt);
    s_ed.el_set(r->el, EL_HIST, s_ed.history, r->hist);
    s_ed.el_set(r->el, EL_GETCFN, s_getc);
    s_ed.el_set(r->el, EL_ADDFN, "detlua-complete", "Complete from the API model", s_complete);
    s_ed.el_set(r->el, EL_BIND, "^I", "detlua-complete", NULL);
    s_ed.el_set(r->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
    s_ed.el_source(r->el, NULL); /* the user's ~/.editrc may rebind keys */
    return r;
}

void dt_repl_free(dt_repl *r) {
    if (!r) return;
    if (r->el) s_ed.el_end(r->el); /* also restores the terminal mode */
    if (r->hist) s_ed.history_end(r->hist);
    free(r);
}

void dt_repl_set_completer(dt_repl *r, dt_repl_complete_fn fn, void *ud) {
    r->complete = fn;
    r->complete_ud = ud;
}

int dt_repl_read(dt_repl *r, const char *prompt, const char **line, size_t *len,
                 dt_repl_error *err) {
    snprintf(r->prompt, sizeof r->prompt, "%s", prompt ? prompt : "");
    *line = NULL;
    *len = 0;
    /* No SA_RESTART: the blocked read must return EINTR so that s_getc sees Ctrl-C. */
    struct sigaction sa, old_int, old_winch;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = s_on_sigint;
    s_sigint = 0;
    r->interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sa.sa_handler = s_on_sigwinch;
    sigaction(SIGWINCH, &sa, &old_winch);

    /* Raw mode before the prompt is drawn, so that keys typed as soon as it appears are
     * not echoed (or taken as end of input) by the terminal's line discipline first. */
    s_ed.el_set(r->el, EL_PREP_TERM, 1);
    int count = 0;
    errno = 0;
    const char *s = s_ed.el_gets(r->el, &count);
    int saved_errno = errno;
    int interrupted = r->interrupted || s_sigint;

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
    s_sigint = 0;
    r->interrupted = 0;

    if (!s) {
        if (interrupted) return DT_REPL_INTERRUPTED;
        if (count < 0 && saved_errno != 0 && saved_errno != EINTR) {
            s_set_error(err, "cannot read the terminal", strerror(saved_errno));
            return DT_REPL_FAILED;
        }
        return DT_REPL_EOF;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    *line = s;
    *len = n;
    return DT_REPL_LINE;
}

void dt_repl_insert(dt_repl *r, const char *text) {
    if (text && *text && s_ed.el_insertstr(r->el, text) == 0) r->inserted = 1;
}

void dt_repl_delete(dt_repl *r, int n) {
    const LineInfo *li = s_ed.el_line(r->el);
    int before = (int)(li->cursor - li->buffer); /* bytes: at least as many as characters */
    if (n > before) n = before;
    if (n > 0) {
        s_ed.el_deletestr(r->el, n);
        r->inserted = 1;
    }
}

void dt_repl_show(dt_repl *r, const char *text) {
    if (!text || !*text) return;
    FILE *out = stdout;
    fputc('\n', out);
    fputs(text, out);
    if (text[strlen(text) - 1] != '\n') fputc('\n', out);
    fflush(out);
    r->shown = 1;
}

void dt_repl_history_add(dt_repl *r, const char *entry) {
    HistEvent ev;
    if (entry && *entry) s_ed.history(r->hist, &ev, H_ENTER, entry);
}

int dt_repl_columns(void) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

/* ---------------------------------------------------------------- history file */

/* mkdir -p of path's directory part, new directories private to the user. */
static int s_make_parents(const char *path, dt_repl_error *err) {
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p) {
        s_set_error(err, "out of memory", NULL);
        return -1;
    }
    memcpy(p, path, n + 1);
    char *slash = strrchr(p, '/');
    int rc = 0;
    if (slash && slash != p) {
        *slash = '\0';
        for (char *q = p + 1; rc == 0; q++) {
            if (*q == '/' || *q == '\0') {
                char saved = *q;
                *q = '\0';
                if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                    s_set_error(err, "cannot create the history directory", strerror(errno));
                    rc = -1;
                }
                *q = saved;
                if (saved == '\0') break;
            }
        }
    }
    free(p);
    return rc;
}

/* entry with '\\' and '\n' escaped, plus a final newline; NULL when out of memory. */
static char *s_escape(const char *entry, size_t *out_len) {
    size_t n = strlen(entry);
    char *out = malloc(2 * n + 2);
    if (!out) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (entry[i] == '\\') {
            out[j++] = '\\';
            out[j++] = '\\';
        } else if (entry[i] == '\n') {
            out[j++] = '\\';
            out[j++] = 'n';
        } else {
            out[j++] = entry[i];
        }
    }
    out[j++] = '\n';
    out[j] = '\0';
    *out_len = j;
    return out;
}

static void s_unescape(char *s) {
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p == '\\' && (p[1] == 'n' || p[1] == '\\')) {
            *w++ = p[1] == 'n' ? '\n' : '\\';
            p++;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
}

static int s_open_private(const char *path, int flags, dt_repl_error *err) {
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT && (flags & O_CREAT)) {
        if (s_make_parents(path, err) != 0) return -1;
        fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0) {
        s_set_error(err, "cannot open the history file", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) (void)fchmod(fd, 0600);
    return fd;
}

int dt_repl_history_append(const char *path, const char *entry, dt_repl_error *err) {
    size_t len;
    char *line = s_escape(entry, &len);
    if (!line) {
        s_set_error(err, "out of memory", NULL);
        return -1;
    }
    int fd = s_open_private(path, O_WRONLY | O_APPEND | O_CREAT, err);
    int rc = -1;
    if (fd >= 0) {
        rc = dt_write_all(fd, line, len);
        if (rc != 0) s_set_error(err, "cannot write the history file", strerror(errno));
        if (close(fd) != 0 && rc == 0) {
            s_set_error(err, "cannot write the history file", strerror(errno));
            rc = -1;
        }
    }
    free(line);
    return rc;
}

/* Replaces the file with the given entries (already unescaped), via a private temporary
 * file renamed over it, so that a failure leaves the old file whole. */
static int s_rewrite(const char *path, char **entries, size_t n, size_t first, size_t cap,
                     dt_repl_error *err) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) {
        s_set_error(err, "out of memory", NULL);
        return -1;
    }
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = fd >= 0 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t len;
        char *line = s_escape(entries[(first + i) % cap], &len);
        rc = line ? dt_write_all(fd, line, len) : -1;
        free(line);
    }
    if (fd >= 0 && close(fd) != 0) rc = -1;
    if (rc == 0 && rename(tmp, path) != 0) rc = -1;
    if (rc != 0) {
        s_set_error(err, "cannot rewrite the history file", strerror(errno));
        (void)unlink(tmp);
    }
    free(tmp);
    return rc;
}

int dt_repl_history_load(dt_repl *r, const char *path, size_t max_entries, dt_repl_error *err) {
    if (max_entries == 0) return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        s_set_error(err, "cannot open the history file", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) (void)fchmod(fd, 0600);
    FILE *f = fdopen(fd, "r");
    if (!f) {
        s_set_error(err, "cannot open the history file", strerror(errno));
        close(fd);
        return -1;
    }
    /* A ring of the newest max_entries lines. */
    char **ring = calloc(max_entries, sizeof *ring);
    if (!ring) {
        fclose(f);
        s_set_error(err, "out of memory", NULL);
        return -1;
    }
    size_t total = 0, cap = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) >= 0) {
        if ((size_t)got > S_MAX_HISTORY_LINE_BYTES) continue;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0) continue;
        size_t slot = total % max_entries;
        free(ring[slot]);
        ring[slot] = line;
        line = NULL;
        cap = 0;
        total++;
    }
    free(line);
    fclose(f);
    size_t kept = total < max_entries ? total : max_entries;
    size_t first = total < max_entries ? 0 : total % max_entries;
    for (size_t i = 0; i < kept; i++) {
        s_unescape(ring[(first + i) % max_entries]);
        dt_repl_history_add(r, ring[(first + i) % max_entries]);
    }
    int rc = (int)kept;
    if (total > max_entries && s_rewrite(path, ring, kept, first, max_entries, err) != 0) rc = -1;
    for (size_t i = 0; i < max_entries; i++)
        free(ring[i]);
    free(ring);
    return rc;
}
