/* config.c: parser and loader for the shared config and credentials files (see config.h).
 *
 * The line rules are those of Python's RawConfigParser with botocore's settings, because
 * that is what the AWS CLI accepts and users' files are written against it; the section
 * naming rules are botocore's build_profile_map. This file does not interpret settings and
 * never puts a line's text in an error message (a malformed line may hold a secret). */
#include "config.h"

#include "buf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void dt_config_error_set(dt_config_error *err, const char *fmt, ...) {
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* --- environment -------------------------------------------------------------------------- */

const char *dt_config_env_get(const dt_config_env *env, const char *name) {
    const char *v = (env && env->getenv) ? env->getenv(env->ud, name) : getenv(name);
    return (v && *v) ? v : NULL;
}

int dt_config_is_true(const char *value) {
    return value && strcasecmp(value, "true") == 0;
}

static int s_home_of(const char *user, size_t user_len, const dt_config_env *env, dt_buf *out) {
    if (user_len == 0) {
        const char *home = dt_config_env_get(env, "HOME");
        if (home) return dt_buf_puts(out, home);
    }
    char name[256], scratch[4096];
    if (user_len >= sizeof name) return -1;
    memcpy(name, user, user_len);
    name[user_len] = '\0';
    struct passwd pw, *found = NULL;
    int rc = user_len == 0 ? getpwuid_r(getuid(), &pw, scratch, sizeof scratch, &found)
                           : getpwnam_r(name, &pw, scratch, sizeof scratch, &found);
    if (rc != 0 || !found || !found->pw_dir) return -1;
    return dt_buf_puts(out, found->pw_dir);
}

int dt_config_expand_path(const char *path, const dt_config_env *env, char *out, size_t cap,
                          dt_config_error *err) {
    dt_buf vars, res;
    dt_buf_init(&vars, 4096);
    dt_buf_init(&res, 4096);
    int rc = 0;
    /* $NAME and ${NAME}, names of [A-Za-z0-9_]; unknown ones stay as written. */
    for (const char *p = path; *p && rc == 0;) {
        if (*p == '$') {
            const char *start = p + 1, *end;
            int braced = *start == '{';
            if (braced) start++;
            end = start;
            while (isalnum((unsigned char)*end) || *end == '_')
                end++;
            if (end > start && (!braced || *end == '}')) {
                char name[128];
                size_t n = (size_t)(end - start);
                const char *val = NULL;
                if (n < sizeof name) {
                    memcpy(name, start, n);
                    name[n] = '\0';
                    val = dt_config_env_get(env, name);
                }
                const char *after = braced ? end + 1 : end;
                if (val)
                    rc = dt_buf_puts(&vars, val);
                else
                    rc = dt_buf_append(&vars, p, (size_t)(after - p));
                p = after;
                continue;
            }
        }
        rc = dt_buf_putc(&vars, *p++);
    }
    const char *v = vars.data ? vars.data : "";
    if (rc == 0 && v[0] == '~') {
        size_t ulen = strcspn(v + 1, "/");
        if (s_home_of(v + 1, ulen, env, &res) != 0) {
            rc = dt_buf_puts(&res, v); /* no such user or no home: left as written */
        } else {
            rc = dt_buf_puts(&res, v + 1 + ulen);
        }
    } else if (rc == 0) {
        rc = dt_buf_puts(&res, v);
    }
    if (rc != 0 || res.len >= cap) {
        dt_config_error_set(err, "path too long after expansion: %.200s", path);
        rc = -1;
    } else {
        memcpy(out, res.data ? res.data : "", res.len + 1);
    }
    dt_buf_free(&vars);
    dt_buf_free(&res);
    return rc;
}

/* --- values and sections ------------------------------------------------------------------- */

static void s_free_str(char *s) {
    if (!s) return;
    dt_wipe(s, strlen(s));
    free(s);
}

static void s_value_clear(dt_config_value *v) {
    s_free_str(v->key);
    s_free_str(v->value);
    for (size_t i = 0; i < v->n_sub; i++)
        s_value_clear(&v->sub[i]);
    free(v->sub);
    memset(v, 0, sizeof *v);
}

static void s_section_clear(dt_config_section *s) {
    for (size_t i = 0; i < s->n_values; i++)
        s_value_clear(&s->values[i]);
    free(s->values);
    s_free_str(s->name);
    memset(s, 0, sizeof *s);
}

void dt_config_file_free(dt_config_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n_sections; i++)
        s_section_clear(&f->sections[i]);
    free(f->sections);
    free(f->path);
    memset(f, 0, sizeof *f);
}

void dt_config_free(dt_config *c) {
    if (!c) return;
    dt_config_file_free(&c->config);
    dt_config_file_free(&c->credentials);
}

static char *s_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static int s_value_copy(dt_config_value *dst, const dt_config_value *src) {
    memset(dst, 0, sizeof *dst);
    dst->line = src->line;
    dst->key = strdup(src->key);
    if (!dst->key) return -1;
    if (src->value) {
        dst->value = strdup(src->value);
        return dst->value ? 0 : -1;
    }
    if (src->n_sub) {
        dst->sub = calloc(src->n_sub, sizeof *dst->sub);
        if (!dst->sub) return -1;
        for (size_t i = 0; i < src->n_sub; i++) {
            dst->n_sub++;
            if (s_value_copy(&dst->sub[i], &src->sub[i]) != 0) return -1;
        }
    }
    return 0;
}

/* Takes ownership of v's strings and sub array: replaces an existing key (later wins). */
static int s_section_put(dt_config_section *s, dt_config_value *v) {
    for (size_t i = 0; i < s->n_values; i++) {
        if (strcmp(s->values[i].key, v->key) == 0) {
            s_value_clear(&s->values[i]);
            s->values[i] = *v;
            return 0;
        }
    }
    if (s->n_values == s->cap_values) {
        size_t n = s->cap_values ? s->cap_values * 2 : 8;
        dt_config_value *p = realloc(s->values, n * sizeof *p);
        if (!p) return -1;
        s->values = p;
        s->cap_values = n;
    }
    s->values[s->n_values++] = *v;
    return 0;
}

/* --- shlex ------------------------------------------------------------------------------- */

/* Python's shlex.split (POSIX mode, no comments), which botocore applies to "profile x"
 * style headers: returns the token count (or -1 for an unclosed quote or a trailing
 * backslash) and copies the second token into second. */
static int s_shlex_split(const char *s, char *second, size_t cap) {
    enum { WS, WORD, SQ, DQ, ESC } st = WS, esc_from = WORD;
    int ntok = 0;
    dt_buf tok;
    dt_buf_init(&tok, 0);
    int in_token = 0;
    second[0] = '\0';
    for (const char *p = s;; p++) {
        char c = *p;
        int ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        if (c == '\0') {
            if (st == SQ || st == DQ || st == ESC) {
                dt_buf_free(&tok);
                return -1;
            }
        }
        if (st == WS || st == WORD) {
            if (c == '\0' || ws) {
                if (in_token) {
                    ntok++;
                    if (ntok == 2) snprintf(second, cap, "%s", tok.data ? tok.data : "");
                    dt_buf_reset(&tok);
                    in_token = 0;
                }
                st = WS;
                if (c == '\0') break;
                continue;
            }
            in_token = 1;
            if (c == '\\') {
                esc_from = WORD;
                st = ESC;
            } else if (c == '\'') {
                st = SQ;
            } else if (c == '"') {
                st = DQ;
            } else {
                dt_buf_putc(&tok, c);
                st = WORD;
            }
        } else if (st == SQ) {
            if (c == '\'')
                st = WORD;
            else
                dt_buf_putc(&tok, c);
        } else if (st == DQ) {
            if (c == '"') {
                st = WORD;
            } else if (c == '\\') {
                esc_from = DQ;
                st = ESC;
            } else {
                dt_buf_putc(&tok, c);
            }
        } else { /* ESC */
            /* inside double quotes only \" and \\ are escapes; other backslashes stay */
            if (esc_from == DQ && c != '"' && c != '\\') dt_buf_putc(&tok, '\\');
            dt_buf_putc(&tok, c);
            st = esc_from;
        }
    }
    dt_buf_free(&tok);
    return ntok;
}

/* --- parser ------------------------------------------------------------------------------ */

enum { S_NONE = -1, S_DEFAULTS = -2, S_DISCARD = -3 };

typedef struct s_parser {
    dt_config_file *f;
    dt_config_file_kind kind;
    const char *name;
    dt_config_error *err;
    dt_config_section defaults; /* [DEFAULT] */
    dt_config_section discard;  /* headers botocore ignores ("[profile]", "[profile a b]") */
    long cur;                   /* index into f->sections, or S_* */
    /* the setting being read, which continuation lines extend */
    int have_opt;
    char *opt_key;
    int opt_line;
    dt_buf opt_val;      /* pieces joined by '\n' */
    int opt_first_empty; /* value after the delimiter was empty: a nested sub-section may follow */
    int opt_bad_line;    /* first continuation line without '=' (bad only if nested) */
    int indent_level;
} s_parser;

static dt_config_section *s_cur(s_parser *p) {
    if (p->cur >= 0) return &p->f->sections[p->cur];
    if (p->cur == S_DEFAULTS) return &p->defaults;
    if (p->cur == S_DISCARD) return &p->discard;
    return NULL;
}

static int s_is_space(char c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n';
}

static void s_strip(const char **b, const char **e) {
    while (*b < *e && s_is_space(**b))
        (*b)++;
    while (*e > *b && s_is_space((*e)[-1]))
        (*e)--;
}

static int s_oom(s_parser *p) {
    dt_config_error_set(p->err, "%s: out of memory", p->name);
    return -1;
}

/* Turns "\nk = v\nk2 = v2" into sub-settings, as botocore's _parse_nested. */
static int s_parse_nested(s_parser *p, const char *text, dt_config_value *v) {
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *b = line, *e = end;
        s_strip(&b, &e);
        if (b < e) {
            const char *eq = memchr(b, '=', (size_t)(e - b));
            if (!eq) {
                dt_config_error_set(p->err,
                                    "%s:%d: expected \"key = value\" in the nested settings of "
                                    "\"%s\"",
                                    p->name, p->opt_bad_line ? p->opt_bad_line : p->opt_line,
                                    v->key);
                return -1;
            }
            const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
            s_strip(&kb, &ke);
            s_strip(&vb, &ve);
            dt_config_value sub = {0};
            sub.line = p->opt_line;
            sub.key = s_strndup(kb, (size_t)(ke - kb));
            sub.value = s_strndup(vb, (size_t)(ve - vb));
            if (!sub.key || !sub.value) {
                s_value_clear(&sub);
                return s_oom(p);
            }
            /* later nested keys win, like the dict botocore builds */
            size_t i;
            for (i = 0; i < v->n_sub; i++) {
                if (strcmp(v->sub[i].key, sub.key) == 0) break;
            }
            if (i < v->n_sub) {
                s_value_clear(&v->sub[i]);
                v->sub[i] = sub;
            } else {
                dt_config_value *n = realloc(v->sub, (v->n_sub + 1) * sizeof *n);
                if (!n) {
                    s_value_clear(&sub);
                    return s_oom(p);
                }
                v->sub = n;
                v->sub[v->n_sub++] = sub;
            }
        }
        if (!nl) break;
        line = nl + 1;
    }
    return 0;
}

/* Ends the current setting: joins its lines, right-strips, and stores it. */
static int s_finish_opt(s_parser *p) {
    if (!p->have_opt) return 0;
    p->have_opt = 0;
    dt_config_value v = {0};
    v.key = p->opt_key;
    v.line = p->opt_line;
    p->opt_key = NULL;
    const char *text = p->opt_val.data ? p->opt_val.data : "";
    size_t len = p->opt_val.len;
    while (len > 0 && s_is_space(text[len - 1]))
        len--;
    int rc = 0;
    if (len > 0 && text[0] == '\n') {
        char *copy = s_strndup(text, len);
        if (!copy) {
            rc = s_oom(p);
        } else {
            rc = s_parse_nested(p, copy, &v);
            s_free_str(copy);
        }
    } else {
        v.value = s_strndup(text, len);
        if (!v.value) rc = s_oom(p);
    }
    dt_wipe(p->opt_val.data, p->opt_val.alloc);
    dt_buf_reset(&p->opt_val);
    if (rc == 0) rc = s_section_put(s_cur(p), &v) == 0 ? 0 : s_oom(p);
    if (rc != 0) s_value_clear(&v);
    return rc;
}

static long s_open_section(s_parser *p, dt_config_section_kind kind, const char *name, int line) {
    dt_config_file *f = p->f;
    for (size_t i = 0; i < f->n_sections; i++) {
        if (f->sections[i].kind == kind && strcmp(f->sections[i].name, name) == 0) return (long)i;
    }
    if (f->n_sections == f->cap_sections) {
        size_t n = f->cap_sections ? f->cap_sections * 2 : 8;
        dt_config_section *s = realloc(f->sections, n * sizeof *s);
        if (!s) return S_NONE;
        f->sections = s;
        f->cap_sections = n;
    }
    dt_config_section *s = &f->sections[f->n_sections];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    if (!s->name) return S_NONE;
    s->kind = kind;
    s->line = line;
    return (long)f->n_sections++;
}

/* Maps a header to a section the way botocore's build_profile_map names them. */
static int s_header(s_parser *p, const char *header, int line) {
    if (strcmp(header, "DEFAULT") == 0) {
        /* configparser's default section: not a section of its own; its keys are inherited */
        p->cur = S_DEFAULTS;
        return 0;
    }
    dt_config_section_kind kind = DT_SECTION_PROFILE;
    size_t cap = strlen(header) + 1;
    char *name = malloc(cap);
    if (!name) return s_oom(p);
    memcpy(name, header, cap);
    if (p->kind == DT_CONFIG_FILE_CONFIG) {
        static const struct {
            const char *prefix;
            dt_config_section_kind kind;
        } prefixed[] = {{"profile", DT_SECTION_PROFILE},
                        {"sso-session", DT_SECTION_SSO_SESSION},
                        {"services", DT_SECTION_SERVICES}};
        size_t i;
        for (i = 0; i < sizeof prefixed / sizeof prefixed[0]; i++) {
            if (strncmp(header, prefixed[i].prefix, strlen(prefixed[i].prefix)) == 0) break;
        }
        if (i < sizeof prefixed / sizeof prefixed[0]) {
            kind = prefixed[i].kind;
            if (s_shlex_split(header, name, cap) != 2) {
                free(name);
                p->cur = S_DISCARD; /* botocore ignores such a section */
                return 0;
            }
        } else if (strcmp(header, "default") != 0) {
            kind = DT_SECTION_OTHER;
        }
    }
    p->cur = s_open_section(p, kind, name, line);
    free(name);
    return p->cur == S_NONE ? s_oom(p) : 0;
}

static int s_line(s_parser *p, const char *line, size_t len, int lineno) {
    const char *b = line, *e = line + len;
    s_strip(&b, &e);
    if (b == e || *b == '#' || *b == ';') {
        /* a blank line inside a value is kept (configparser's empty_lines_in_values);
         * a comment line is dropped and does not end the value */
        if (b == e && p->have_opt && s_cur(p)) {
            if (dt_buf_putc(&p->opt_val, '\n') != 0) return s_oom(p);
        }
        return 0;
    }
    int indent = (int)(b - line);
    if (p->have_opt && s_cur(p) && indent > p->indent_level) {
        /* continuation line */
        if (dt_buf_putc(&p->opt_val, '\n') != 0 ||
            dt_buf_append(&p->opt_val, b, (size_t)(e - b)) != 0)
            return s_oom(p);
        if (p->opt_first_empty && !p->opt_bad_line && !memchr(b, '=', (size_t)(e - b)))
            p->opt_bad_line = lineno;
        return 0;
    }
    if (s_finish_opt(p) != 0) return -1;
    p->indent_level = indent;
    /* "[" header "]": the header runs to the last "]" on the line and may not be empty */
    if (*b == '[') {
        const char *close = NULL;
        for (const char *q = b + 2; q < e; q++)
            if (*q == ']') close = q;
        if (close) {
            char *header = s_strndup(b + 1, (size_t)(close - b - 1));
            if (!header) return s_oom(p);
            int rc = s_header(p, header, lineno);
            free(header);
            p->have_opt = 0;
            return rc;
        }
    }
    if (p->cur == S_NONE) {
        dt_config_error_set(p->err,
                            "%s:%d: expected a section header such as [default] before the "
                            "first setting",
                            p->name, lineno);
        return -1;
    }
    const char *d = b;
    while (d < e && *d != '=' && *d != ':')
        d++;
    const char *ke = d;
    while (ke > b && s_is_space(ke[-1]))
        ke--;
    if (d == e || ke == b) {
        dt_config_error_set(p->err, "%s:%d: expected \"key = value\"%s", p->name, lineno,
                            d == e ? "" : " (the key is empty)");
        return -1;
    }
    p->opt_key = s_strndup(b, (size_t)(ke - b));
    if (!p->opt_key) return s_oom(p);
    /* configparser lower-cases option names (optionxform) */
    for (char *k = p->opt_key; *k; k++)
        *k = (char)tolower((unsigned char)*k);
    const char *vb = d + 1, *ve = e;
    s_strip(&vb, &ve);
    dt_buf_reset(&p->opt_val);
    if (dt_buf_append(&p->opt_val, vb, (size_t)(ve - vb)) != 0) return s_oom(p);
    p->have_opt = 1;
    p->opt_line = lineno;
    p->opt_first_empty = vb == ve;
    p->opt_bad_line = 0;
    return 0;
}

/* [DEFAULT] keys reach every section that does not set them itself. */
static int s_apply_defaults(s_parser *p) {
    if (p->defaults.n_values == 0) return 0;
    for (size_t i = 0; i < p->f->n_sections; i++) {
        dt_config_section *s = &p->f->sections[i];
        for (size_t j = 0; j < p->defaults.n_values; j++) {
            if (dt_config_section_find(s, p->defaults.values[j].key)) continue;
            dt_config_value v;
            if (s_value_copy(&v, &p->defaults.values[j]) != 0 || s_section_put(s, &v) != 0) {
                s_value_clear(&v);
                return s_oom(p);
            }
        }
    }
    return 0;
}

int dt_config_parse(dt_config_file *f, dt_config_file_kind kind, const char *name, const char *text,
                    size_t len, dt_config_error *err) {
    s_parser p;
    memset(&p, 0, sizeof p);
    p.f = f;
    p.kind = kind;
    p.name = name ? name : "(config)";
    p.err = err;
    p.cur = S_NONE;
    dt_buf_init(&p.opt_val, 0);
    int rc = 0;
    if (len > DT_CONFIG_MAX_FILE_BYTES) {
        dt_config_error_set(err, "%s: larger than the %zu KiB limit for a config file", p.name,
                            DT_CONFIG_MAX_FILE_BYTES / 1024);
        rc = -1;
    }
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) i = 3; /* UTF-8 byte order mark */
    int lineno = 0;
    while (rc == 0 && i < len) {
        /* universal newlines, as Python reads text files: \n, \r\n and \r end a line */
        size_t start = i;
        while (i < len && text[i] != '\n' && text[i] != '\r')
            i++;
        size_t end = i;
        if (i < len) i += (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
        lineno++;
        if (memchr(text + start, '\0', end - start)) {
            dt_config_error_set(err, "%s:%d: contains a NUL byte", p.name, lineno);
            rc = -1;
            break;
        }
        rc = s_line(&p, text + start, end - start, lineno);
    }
    if (rc == 0) rc = s_finish_opt(&p);
    if (rc == 0) rc = s_apply_defaults(&p);
    s_free_str(p.opt_key);
    dt_wipe(p.opt_val.data, p.opt_val.alloc);
    dt_buf_free(&p.opt_val);
    s_section_clear(&p.defaults);
    s_section_clear(&p.discard);
    if (rc != 0) {
        char *path = f->path;
        f->path = NULL;
        dt_config_file_free(f);
        f->path = path;
    }
    return rc;
}

int dt_config_file_read(dt_config_file *f, dt_config_file_kind kind, const char *path,
                        dt_config_error *err) {
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) {
        dt_config_error_set(err, "%s: out of memory", path);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return 0; /* missing: an empty file */
        dt_config_error_set(err, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        dt_config_error_set(err, "cannot read %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        dt_config_error_set(err, "cannot read %s: it is a directory", path);
        close(fd);
        return -1;
    }
    f->exists = 1;
    f->mode = (unsigned)st.st_mode & 07777u;
    dt_buf b;
    dt_buf_init(&b, DT_CONFIG_MAX_FILE_BYTES);
    char chunk[8192];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            dt_config_error_set(err, "cannot read %s: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        if (n == 0) break;
        if (dt_buf_append(&b, chunk, (size_t)n) != 0) {
            dt_config_error_set(err, "%s: larger than the %zu KiB limit for a config file", path,
                                DT_CONFIG_MAX_FILE_BYTES / 1024);
            rc = -1;
            break;
        }
    }
    dt_wipe(chunk, sizeof chunk);
    close(fd);
    if (rc == 0) rc = dt_config_parse(f, kind, path, b.data ? b.data : "", b.len, err);
    dt_buf_free_secure(&b);
    return rc;
}

int dt_config_load(dt_config *c, const dt_config_load_options *o, dt_config_error *err) {
    memset(c, 0, sizeof *c);
    const dt_config_env *env = o ? o->env : NULL;
    const char *cfg = o && o->config_file ? o->config_file : NULL;
    const char *cred = o && o->credentials_file ? o->credentials_file : NULL;
    if (!cfg) cfg = dt_config_env_get(env, "AWS_CONFIG_FILE");
    if (!cfg) cfg = "~/.aws/config";
    if (!cred) cred = dt_config_env_get(env, "AWS_SHARED_CREDENTIALS_FILE");
    if (!cred) cred = "~/.aws/credentials";
    char path[4096];
    if (dt_config_expand_path(cfg, env, path, sizeof path, err) != 0 ||
        dt_config_file_read(&c->config, DT_CONFIG_FILE_CONFIG, path, err) != 0 ||
        dt_config_expand_path(cred, env, path, sizeof path, err) != 0 ||
        dt_config_file_read(&c->credentials, DT_CONFIG_FILE_CREDENTIALS, path, err) != 0) {
        dt_config_free(c);
        return -1;
    }
    return 0;
}

/* --- lookups ----------------------------------------------------------------------------- */

const char *dt_config_profile_name(const char *explicit_profile, const dt_config_env *env) {
    if (explicit_profile && *explicit_profile) return explicit_profile;
    const char *p = dt_config_env_get(env, "AWS_PROFILE");
    return p ? p : "default";
}

const dt_config_section *dt_config_file_section(const dt_config_file *f,
                                                dt_config_section_kind kind, const char *name) {
    for (size_t i = 0; f && i < f->n_sections; i++) {
        if (f->sections[i].kind == kind && strcmp(f->sections[i].name, name) == 0)
            return &f->sections[i];
    }
    return NULL;
}

const dt_config_value *dt_config_section_find(const dt_config_section *s, const char *key) {
    for (size_t i = 0; s && i < s->n_values; i++) {
        if (strcmp(s->values[i].key, key) == 0) return &s->values[i];
    }
    return NULL;
}

const char *dt_config_section_get(const dt_config_section *s, const char *key) {
    const dt_config_value *v = dt_config_section_find(s, key);
    return v ? v->value : NULL;
}

const dt_config_value *dt_config_profile_find(const dt_config *c, const char *profile,
                                              const char *key) {
    const dt_config_value *v = dt_config_section_find(
        dt_config_file_section(&c->credentials, DT_SECTION_PROFILE, profile), key);
    if (v) return v;
    return dt_config_section_find(dt_config_file_section(&c->config, DT_SECTION_PROFILE, profile),
                                  key);
}

const char *dt_config_profile_get(const dt_config *c, const char *profile, const char *key) {
    const dt_config_value *v = dt_config_profile_find(c, profile, key);
    return v ? v->value : NULL;
}

int dt_config_profile_exists(const dt_config *c, const char *profile) {
    return dt_config_file_section(&c->credentials, DT_SECTION_PROFILE, profile) ||
           dt_config_file_section(&c->config, DT_SECTION_PROFILE, profile);
}

int dt_config_check_profile(const dt_config *c, const char *profile, dt_config_error *err) {
    if (strcmp(profile, "default") == 0 || dt_config_profile_exists(c, profile)) return 0;
    char hc[300], hk[300];
    const dt_config_file *cf = &c->config, *kf = &c->credentials;
    dt_config_profile_header(DT_CONFIG_FILE_CONFIG, profile, hc, sizeof hc);
    dt_config_profile_header(DT_CONFIG_FILE_CREDENTIALS, profile, hk, sizeof hk);
    dt_config_error_set(
        err, "profile \"%s\" not found: looked for %s in %s%s and %s in %s%s", profile, hc,
        cf->path ? cf->path : "(no config file)", cf->exists ? "" : " (missing)", hk,
        kf->path ? kf->path : "(no credentials file)", kf->exists ? "" : " (missing)");
    return -1;
}

void dt_config_profile_header(dt_config_file_kind kind, const char *profile, char *out,
                              size_t cap) {
    if (kind == DT_CONFIG_FILE_CONFIG && strcmp(profile, "default") != 0)
        snprintf(out, cap, "[profile %s]", profile);
    else
        snprintf(out, cap, "[%s]", profile);
}

int dt_config_credentials_mode_warning(const dt_config *c, char *out, size_t cap) {
    const dt_config_file *f = &c->credentials;
    if (!f->exists || (f->mode & 077u) == 0) return 0;
    snprintf(out, cap, "%s is accessible by group or others (mode %04o); restrict it: chmod 600 %s",
             f->path, f->mode, f->path);
    return 1;
}
