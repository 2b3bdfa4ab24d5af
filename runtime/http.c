/* http.c: the HTTP transport on libcurl (see http.h for the contract).
 *
 * One dt_http_transfer wraps one easy handle plus the buffers it reuses from request to
 * request: the response body and headers (dt_buf with caps), an arena holding the
 * request header lines and our own curl_slist nodes pointing into it (libcurl only
 * reads the list, so no per-header malloc), and, for the multi, a copy of the body.
 * The blocking client owns one transfer; the multi owns a pool of them.
 *
 * Deliberately absent: an option to turn TLS verification off, CURLOPT_PROXY (libcurl
 * reads the proxy variables itself as long as we do not set it), redirects, HTTP/2,
 * content decoding, logging. This file does not include lua.h. */
#include "http.h"
#include "interrupt.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#ifndef DETLUA_VERSION
#define DETLUA_VERSION "0"
#endif

/* Buffers that grew past this for one large response are given back afterwards. */
#define S_KEEP_BUF_BYTES ((size_t)1 << 20)
/* Idle transfers kept by a multi beyond its in-flight ones. */
#define S_POOL_MIN 32
/* Idle connections a multi keeps when max_total_connections is not set. */
#define S_DEFAULT_MAX_IDLE_CONNECTIONS 64L

enum s_abort {
    S_ABORT_NONE = 0,
    S_ABORT_BODY_CAP,
    S_ABORT_HEADER_CAP,
    S_ABORT_BAD_HEADER,
    S_ABORT_NOMEM
};

/* The resolved, owned copy of the options shared by every transfer of a client/multi. */
struct s_cfg {
    long connect_timeout_ms;
    long timeout_ms; /* 0 = none */
    long read_timeout_ms;
    size_t max_response_bytes;
    size_t max_header_bytes;
    char *ca_bundle; /* NULL = libcurl's default store */
    char *user_agent;
    long max_total_connections;
    long max_host_connections;
};

struct dt_http_transfer {
    CURL *easy;
    const struct s_cfg *cfg;
    uint64_t id;
    void *user;
    dt_http_response resp;
    size_t header_bytes;
    enum s_abort abort_reason;
    int failed;
    dt_http_error err;
    dt_buf arena;             /* request header lines, NUL-separated */
    struct curl_slist *slist; /* nodes point into arena */
    size_t slist_cap;
    dt_buf body; /* multi: the request body copied once */
    char errbuf[CURL_ERROR_SIZE];
    struct dt_http_transfer *prev, *next;
    int where; /* S_IN_POOL, S_IN_FLIGHT, S_IN_DONE */
};

enum { S_IN_NONE = 0, S_IN_POOL, S_IN_FLIGHT, S_IN_DONE };

struct s_list {
    dt_http_transfer *head, *tail;
    long len;
};

struct dt_http_client {
    struct s_cfg cfg;
    dt_http_transfer *t;
    long connects;
    long requests;
};

struct dt_http_multi {
    struct s_cfg cfg;
    CURLM *multi;
    CURLSH *share; /* TLS sessions shared across the pooled easy handles */
    struct s_list pool, flight, done;
    uint64_t next_id;
    long connects;
    long requests;
};

/* ------------------------------------------------------------------ errors */

const char *dt_http_code_name(dt_http_code code) {
    switch (code) {
    case DT_HTTP_OK:
        return "OK";
    case DT_HTTP_CONNECTION_REFUSED:
        return "ConnectionRefused";
    case DT_HTTP_CONNECT_TIMEOUT:
        return "ConnectTimeout";
    case DT_HTTP_READ_TIMEOUT:
        return "ReadTimeout";
    case DT_HTTP_CONNECTION_RESET:
        return "ConnectionReset";
    case DT_HTTP_DNS_FAILURE:
        return "DNSFailure";
    case DT_HTTP_TLS_ERROR:
        return "TLSError";
    case DT_HTTP_RESPONSE_TOO_LARGE:
        return "ResponseTooLarge";
    case DT_HTTP_PROXY_ERROR:
        return "ProxyError";
    case DT_HTTP_TRANSPORT_ERROR:
        return "TransportError";
    }
    return "TransportError";
}

__attribute__((format(printf, 4, 5))) static void s_err(dt_http_error *err, dt_http_code code,
                                                        int retryable, const char *fmt, ...) {
    if (!err) return;
    err->code = code;
    err->retryable = retryable;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static CURLcode s_global_rc = CURLE_OK;

static void s_global_init_once(void) {
    s_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int s_global_init(dt_http_error *err) {
    pthread_once(&s_once, s_global_init_once);
    if (s_global_rc != CURLE_OK) {
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "libcurl initialisation failed: %s",
              curl_easy_strerror(s_global_rc));
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------------- options */

void dt_http_options_init(dt_http_options *o) {
    memset(o, 0, sizeof *o);
}

static void s_cfg_free(struct s_cfg *c) {
    free(c->ca_bundle);
    free(c->user_agent);
    memset(c, 0, sizeof *c);
}

static int s_cfg_init(struct s_cfg *c, const dt_http_options *o, dt_http_error *err) {
    dt_http_options dflt;
    if (!o) {
        dt_http_options_init(&dflt);
        o = &dflt;
    }
    memset(c, 0, sizeof *c);
    c->connect_timeout_ms =
        o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DT_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = o->timeout_ms > 0   ? o->timeout_ms
                    : o->timeout_ms < 0 ? 0
                                        : DT_HTTP_DEFAULT_TIMEOUT_MS;
    c->read_timeout_ms = o->read_timeout_ms > 0 ? o->read_timeout_ms : 0;
    c->max_response_bytes =
        o->max_response_bytes ? o->max_response_bytes : DT_HTTP_DEFAULT_MAX_RESPONSE_BYTES;
    c->max_header_bytes =
        o->max_header_bytes ? o->max_header_bytes : DT_HTTP_DEFAULT_MAX_HEADER_BYTES;
    c->max_total_connections = o->max_total_connections > 0 ? o->max_total_connections : 0;
    c->max_host_connections = o->max_host_connections > 0 ? o->max_host_connections : 0;

    /* The explicit option wins over the variable, as in the AWS CLI. */
    const char *ca = o->ca_bundle;
    if (!ca || !*ca) ca = getenv("AWS_CA_BUNDLE");
    if (ca && *ca && !(c->ca_bundle = strdup(ca))) goto nomem;

    const char *sfx = o->user_agent_suffix;
    size_t n = strlen("detlua/" DETLUA_VERSION) + (sfx ? strlen(sfx) + 1 : 0) + 1;
    if (!(c->user_agent = malloc(n))) goto nomem;
    snprintf(c->user_agent, n, "detlua/%s%s%s", DETLUA_VERSION, sfx && *sfx ? " " : "",
             sfx ? sfx : "");
    for (char *p = c->user_agent; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
    return 0;
nomem:
    s_cfg_free(c);
    s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory");
    return -1;
}

/* ---------------------------------------------------------------- callbacks */

static size_t s_on_body(char *p, size_t size, size_t n, void *ud) {
    dt_http_transfer *t = ud;
    size_t len = size * n;
    if (dt_buf_append(&t->resp.body, p, len) != 0) {
        /* Covers chunked and close-delimited bodies; a too-large Content-Length is
         * refused earlier by CURLOPT_MAXFILESIZE_LARGE. */
        t->abort_reason =
            t->resp.body.len + len > t->cfg->max_response_bytes ? S_ABORT_BODY_CAP : S_ABORT_NOMEM;
        return CURL_WRITEFUNC_ERROR;
    }
    return len;
}

static int s_is_ws(char c) {
    return c == ' ' || c == '\t';
}

/* libcurl hands over one complete header line per call, status lines included. Only the
 * last response's headers are kept (1xx and proxy responses reset the list), while the
 * cap counts every header byte of the exchange. */
static size_t s_on_header(char *p, size_t size, size_t n, void *ud) {
    dt_http_transfer *t = ud;
    size_t len = size * n;
    t->header_bytes += len;
    if (t->header_bytes > t->cfg->max_header_bytes) {
        t->abort_reason = S_ABORT_HEADER_CAP;
        return 0;
    }
    size_t l = len;
    while (l && (p[l - 1] == '\r' || p[l - 1] == '\n'))
        l--;
    if (l >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        dt_buf_reset(&t->resp.headers);
        return len;
    }
    if (l == 0) return len;
    if (memchr(p, '\0', l)) {
        t->abort_reason = S_ABORT_BAD_HEADER;
        return 0;
    }
    dt_buf *h = &t->resp.headers;
    if (s_is_ws(p[0])) {
        /* obsolete line folding: the text continues the previous value */
        if (h->len == 0) return len;
        size_t i = 0;
        while (i < l && s_is_ws(p[i]))
            i++;
        if (i == l) return len;
        h->len--; /* drop the value's NUL, append " text" NUL */
        if (dt_buf_putc(h, ' ') || dt_buf_append(h, p + i, l - i) || dt_buf_putc(h, '\0')) {
            t->abort_reason = S_ABORT_NOMEM;
            return 0;
        }
        return len;
    }
    const char *colon = memchr(p, ':', l);
    if (!colon || colon == p) return len; /* not a field line: ignore */
    size_t nlen = (size_t)(colon - p);
    size_t vs = nlen + 1, ve = l;
    while (vs < ve && s_is_ws(p[vs]))
        vs++;
    while (ve > vs && s_is_ws(p[ve - 1]))
        ve--;
    size_t start = h->len;
    if (dt_buf_append(h, p, nlen) || dt_buf_putc(h, '\0') || dt_buf_append(h, p + vs, ve - vs) ||
        dt_buf_putc(h, '\0')) {
        t->abort_reason = S_ABORT_NOMEM;
        return 0;
    }
    for (size_t i = start; i < start + nlen; i++)
        h->data[i] = (char)tolower((unsigned char)h->data[i]);
    return len;
}

int dt_http_response_next_header(const dt_http_response *r, size_t *pos, const char **name,
                                 const char **value, size_t *value_len) {
    if (!r->headers.data || *pos >= r->headers.len) return 0;
    const char *n = r->headers.data + *pos;
    size_t nl = strlen(n);
    const char *v = n + nl + 1;
    size_t vl = strlen(v);
    *name = n;
    *value = v;
    *value_len = vl;
    *pos += nl + 1 + vl + 1;
    return 1;
}

const char *dt_http_response_header(const dt_http_response *r, const char *lname) {
    size_t pos = 0, vl;
    const char *n, *v;
    while (dt_http_response_next_header(r, &pos, &n, &v, &vl))
        if (strcmp(n, lname) == 0) return v;
    return NULL;
}

/* ---------------------------------------------------------------- transfers */

static int s_on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow) {
    (void)ud, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return dt_interrupt_pending() ? 1 : 0;
}

static void s_transfer_free(dt_http_transfer *t) {
    if (!t) return;
    if (t->easy) curl_easy_cleanup(t->easy);
    dt_buf_free(&t->resp.headers);
    /* STS answers carry secret keys and session tokens; the arena holds the request's
     * X-Amz-Security-Token; request bodies may carry web identity tokens */
    dt_buf_free_secure(&t->resp.body);
    dt_buf_free_secure(&t->arena);
    dt_buf_free_secure(&t->body);
    free(t->slist);
    free(t);
}

#define S_SET(opt, val)                                                                            \
    do {                                                                                           \
        if (curl_easy_setopt(e, opt, val) != CURLE_OK) goto bad_opt;                               \
    } while (0)

/* Everything that stays the same from request to request is set once here. */
static dt_http_transfer *s_transfer_new(const struct s_cfg *cfg, CURLSH *share,
                                        dt_http_error *err) {
    dt_http_transfer *t = calloc(1, sizeof *t);
    if (!t || !(t->easy = curl_easy_init())) {
        s_transfer_free(t);
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory creating an HTTP handle");
        return NULL;
    }
    t->cfg = cfg;
    dt_buf_init(&t->resp.headers, cfg->max_header_bytes);
    dt_buf_init(&t->resp.body, cfg->max_response_bytes);
    dt_buf_init(&t->arena, 0);
    dt_buf_init(&t->body, 0);
    CURL *e = t->easy;
    S_SET(CURLOPT_PRIVATE, (void *)t);
    S_SET(CURLOPT_ERRORBUFFER, t->errbuf);
    S_SET(CURLOPT_WRITEFUNCTION, s_on_body);
    S_SET(CURLOPT_WRITEDATA, (void *)t);
    S_SET(CURLOPT_HEADERFUNCTION, s_on_header);
    S_SET(CURLOPT_HEADERDATA, (void *)t);
    S_SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    S_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    S_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    S_SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    S_SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    S_SET(CURLOPT_FOLLOWLOCATION, 0L);
    S_SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* SigV4 signs the path exactly as given: libcurl must not squash "/./" or "/../". */
    S_SET(CURLOPT_PATH_AS_IS, 1L);
    S_SET(CURLOPT_SSL_VERIFYPEER, 1L);
    S_SET(CURLOPT_SSL_VERIFYHOST, 2L);
    S_SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    S_SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    if (cfg->ca_bundle) {
        /* The bundle is the whole trust store, as with AWS_CA_BUNDLE in the AWS CLI. */
        S_SET(CURLOPT_CAINFO, cfg->ca_bundle);
        S_SET(CURLOPT_CAPATH, (char *)NULL);
        S_SET(CURLOPT_PROXY_CAINFO, cfg->ca_bundle);
        S_SET(CURLOPT_PROXY_CAPATH, (char *)NULL);
    }
    S_SET(CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
    S_SET(CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    if (cfg->read_timeout_ms > 0) {
        S_SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
        S_SET(CURLOPT_LOW_SPEED_TIME, (cfg->read_timeout_ms + 999) / 1000);
    }
    S_SET(CURLOPT_USERAGENT, cfg->user_agent);
    S_SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    S_SET(CURLOPT_TCP_KEEPALIVE, 1L);
    /* Ctrl-C sets a process-wide flag (interrupt.c); a blocked transfer notices it here. */
    S_SET(CURLOPT_XFERINFOFUNCTION, s_on_progress);
    S_SET(CURLOPT_NOPROGRESS, 0L);
    if (share) S_SET(CURLOPT_SHARE, share);
    return t;
bad_opt:
    s_transfer_free(t);
    s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "libcurl refused an option");
    return NULL;
}

static int s_tchar(unsigned char c) {
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int s_token(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!s_tchar((unsigned char)s[i])) return 0;
    return 1;
}

static int s_name_is(const dt_http_header *h, const char *lname) {
    return h->name_len == strlen(lname) && strncasecmp(h->name, lname, h->name_len) == 0;
}

/* Lines into the arena first (it may move while growing), then the nodes. */
static int s_build_headers(dt_http_transfer *t, const dt_http_request *req, int has_body,
                           dt_http_error *err) {
    dt_buf *a = &t->arena;
    dt_buf_reset(a);
    size_t count = 0;
    int have_expect = 0, have_ctype = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const dt_http_header *h = &req->headers[i];
        if (!s_token(h->name, h->name_len)) {
            s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "invalid request: header %zu has a bad name",
                  i + 1);
            return -1;
        }
        for (size_t k = 0; k < h->value_len; k++) {
            char c = h->value[k];
            if (c == '\r' || c == '\n' || c == '\0') {
                s_err(err, DT_HTTP_TRANSPORT_ERROR, 0,
                      "invalid request: header %zu has CR, LF or NUL in its value", i + 1);
                return -1;
            }
        }
        /* libcurl computes Content-Length from the body it sends; a second, possibly
         * different one from the caller would make the message ambiguous. */
        if (s_name_is(h, "content-length")) continue;
        if (s_name_is(h, "expect")) have_expect = 1;
        if (s_name_is(h, "content-type")) have_ctype = 1;
        /* "Name;" is libcurl's spelling of a header with an empty value. */
        if (dt_buf_append(a, h->name, h->name_len) ||
            dt_buf_append(a, h->value_len ? ": " : ";", h->value_len ? 2 : 1) ||
            dt_buf_append(a, h->value, h->value_len) || dt_buf_putc(a, '\0'))
            goto nomem;
        count++;
    }
    /* Without these libcurl would add "Expect: 100-continue" (a stall of up to a second
     * on servers that ignore it) and a form-urlencoded Content-Type to bodies. */
    if (has_body && !have_expect) {
        if (dt_buf_append(a, "Expect:", 8)) goto nomem;
        count++;
    }
    if (has_body && !have_ctype) {
        if (dt_buf_append(a, "Content-Type:", 14)) goto nomem;
        count++;
    }
    if (count > t->slist_cap) {
        size_t cap = count < 16 ? 16 : count;
        struct curl_slist *s = realloc(t->slist, cap * sizeof *s);
        if (!s) goto nomem;
        t->slist = s;
        t->slist_cap = cap;
    }
    char *p = a->data;
    for (size_t i = 0; i < count; i++) {
        t->slist[i].data = p;
        t->slist[i].next = i + 1 < count ? &t->slist[i + 1] : NULL;
        p += strlen(p) + 1;
    }
    return curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, count ? t->slist : NULL) == CURLE_OK
               ? 0
               : (s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "libcurl refused the header list"), -1);
nomem:
    s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory building the request");
    return -1;
}

static void s_trim_buf(dt_buf *b) {
    if (b->alloc > S_KEEP_BUF_BYTES)
        dt_buf_free_secure(b); /* bodies may hold credentials (see s_transfer_free) */
    else
        dt_buf_reset(b);
}

/* Sets the per-request options. body points at memory that lives until completion. */
static int s_prepare(dt_http_transfer *t, const dt_http_request *req, const char *body,
                     size_t body_len, dt_http_error *err) {
    CURL *e = t->easy;
    if (!req->method || !s_token(req->method, strlen(req->method))) {
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "invalid request: bad method");
        return -1;
    }
    if (!req->url ||
        (strncasecmp(req->url, "http://", 7) != 0 && strncasecmp(req->url, "https://", 8) != 0)) {
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "invalid request: URL must be http:// or https://");
        return -1;
    }
    const char *m = req->method;
    int is_get = strcmp(m, "GET") == 0, is_head = strcmp(m, "HEAD") == 0,
        is_post = strcmp(m, "POST") == 0;
    int has_body = body_len > 0 || is_post || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;

    t->resp.status = 0;
    s_trim_buf(&t->resp.headers);
    s_trim_buf(&t->resp.body);
    t->header_bytes = 0;
    t->abort_reason = S_ABORT_NONE;
    t->failed = 0;
    t->errbuf[0] = '\0';
    memset(&t->err, 0, sizeof t->err);

    if (s_build_headers(t, req, has_body, err) != 0) return -1;
    S_SET(CURLOPT_URL, req->url);
    S_SET(CURLOPT_NOBODY, 0L);
    S_SET(CURLOPT_CUSTOMREQUEST, (char *)NULL);
    /* A HEAD answer's Content-Length describes a body that is never sent. */
    S_SET(CURLOPT_MAXFILESIZE_LARGE,
          is_head ? (curl_off_t)0 : (curl_off_t)t->cfg->max_response_bytes);
    if (has_body) {
        S_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        S_SET(CURLOPT_POSTFIELDS, body_len ? body : "");
        if (!is_post) S_SET(CURLOPT_CUSTOMREQUEST, m);
    } else if (is_head) {
        S_SET(CURLOPT_NOBODY, 1L);
    } else {
        S_SET(CURLOPT_HTTPGET, 1L);
        if (!is_get) S_SET(CURLOPT_CUSTOMREQUEST, m);
    }
    return 0;
bad_opt:
    s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "libcurl refused the request options");
    return -1;
}

/* --- naming the peer in messages: host and port only (never path, query or userinfo). */

static void s_url_hostport(const char *url, char *out, size_t outsz) {
    snprintf(out, outsz, "(unknown host)");
    if (!url) return;
    CURLU *u = curl_url();
    if (!u) return;
    char *host = NULL, *port = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
            snprintf(out, outsz, "%s:%s", host, port);
        else
            snprintf(out, outsz, "%s", host);
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static void s_url_host_scheme(const char *url, char *host_out, size_t hsz, char *scheme_out,
                              size_t ssz) {
    host_out[0] = scheme_out[0] = '\0';
    CURLU *u = curl_url();
    if (!u) return;
    char *h = NULL, *s = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) snprintf(host_out, hsz, "%s", h);
        if (curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK)
            snprintf(scheme_out, ssz, "%s", s);
    }
    curl_free(h);
    curl_free(s);
    curl_url_cleanup(u);
}

/* no_proxy matching as libcurl documents it: "*" matches every host; otherwise a
 * comma or space separated list of names (a leading dot optional) matching the host or
 * any of its parent domains, or literal addresses. Used only to say in an error that
 * the connection that failed was the proxy's; libcurl makes the actual decision. */
static int s_no_proxy_matches(const char *list, const char *host) {
    if (!list || !*list) return 0;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[') { /* [::1] */
        host++;
        hl -= 2;
    }
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *s = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - s);
        if (n == 1 && *s == '*') return 1;
        if (n && *s == '.') {
            s++;
            n--;
        }
        if (n == 0) continue;
        if (n == hl && strncasecmp(s, host, n) == 0) return 1;
        if (hl > n && host[hl - n - 1] == '.' && strncasecmp(host + hl - n, s, n) == 0) return 1;
    }
    return 0;
}

/* Writes the proxy's host:port for this URL per the environment, or returns 0. */
static int s_env_proxy_for(const char *url, char *out, size_t outsz) {
    char host[256], scheme[16];
    s_url_host_scheme(url, host, sizeof host, scheme, sizeof scheme);
    if (!host[0] || !scheme[0]) return 0;
    const char *np = getenv("no_proxy");
    if (!np) np = getenv("NO_PROXY");
    if (s_no_proxy_matches(np, host)) return 0;
    char name[32];
    snprintf(name, sizeof name, "%s_proxy", scheme);
    const char *v = getenv(name);
    if (!v && strcmp(name, "http_proxy") != 0) {
        for (char *c = name; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        v = getenv(name);
    }
    if (!v) v = getenv("all_proxy");
    if (!v) v = getenv("ALL_PROXY");
    if (!v || !*v) return 0;
    /* "host:port" without a scheme is valid in these variables. */
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", strstr(v, "://") ? "" : "http://", v);
    s_url_hostport(buf, out, outsz);
    return 1;
}

/* Turns a libcurl result into one of the documented codes and a message that names the
 * host. The rules: failures before anything was sent (connect, reset, timeouts) may be
 * retried; certificate and size failures will not get better by retrying. */
static void s_classify(dt_http_transfer *t, CURLcode rc, dt_http_error *err) {
    CURL *e = t->easy;
    char *eff = NULL;
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
    char hp[300];
    s_url_hostport(eff, hp, sizeof hp);
    const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    long oserr = 0, connect_code = 0;
    curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &oserr);
    curl_easy_getinfo(e, CURLINFO_HTTP_CONNECTCODE, &connect_code);
    char proxy[300];
    int via_proxy = eff && s_env_proxy_for(eff, proxy, sizeof proxy);

    switch (t->abort_reason) {
    case S_ABORT_BODY_CAP:
        s_err(err, DT_HTTP_RESPONSE_TOO_LARGE, 0,
              "response from %s exceeds max_response_bytes (%zu)", hp, t->cfg->max_response_bytes);
        return;
    case S_ABORT_HEADER_CAP:
        s_err(err, DT_HTTP_RESPONSE_TOO_LARGE, 0,
              "response headers from %s exceed max_header_bytes (%zu)", hp,
              t->cfg->max_header_bytes);
        return;
    case S_ABORT_BAD_HEADER:
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "malformed response header from %s (NUL byte)", hp);
        return;
    case S_ABORT_NOMEM:
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory reading the response from %s", hp);
        return;
    case S_ABORT_NONE:
        break;
    }

    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
        s_err(err, DT_HTTP_PROXY_ERROR, 1, "cannot resolve the proxy for %s: %s", hp, detail);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
        s_err(err, DT_HTTP_DNS_FAILURE, 1, "cannot resolve host name of %s: %s", hp, detail);
        return;
    case CURLE_COULDNT_CONNECT:
        if (via_proxy)
            s_err(err, DT_HTTP_PROXY_ERROR, 1, "cannot connect to proxy %s (for %s): %s", proxy, hp,
                  detail);
        else if (oserr == ECONNREFUSED)
            s_err(err, DT_HTTP_CONNECTION_REFUSED, 1, "connection refused by %s", hp);
        else if (oserr == ETIMEDOUT)
            s_err(err, DT_HTTP_CONNECT_TIMEOUT, 1, "timed out connecting to %s", hp);
        else
            s_err(err, DT_HTTP_TRANSPORT_ERROR, 1, "cannot connect to %s: %s", hp, detail);
        return;
    case CURLE_OPERATION_TIMEDOUT: {
        /* libcurl words connect-phase timeouts "Connection timed out" / "Resolving timed
         * out" / "SSL connection timeout"; failing that, a transfer that never got as far
         * as sending (pretransfer unset; connect time is 0 on a reused connection too)
         * was still connecting. Anything later is a read timeout. */
        curl_off_t connect_us = 0, pretransfer_us = 0;
        curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect_us);
        curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
        int connecting = strncmp(detail, "Connection timed out", 20) == 0 ||
                         strncmp(detail, "Resolving timed out", 19) == 0 ||
                         strncmp(detail, "SSL connection timeout", 22) == 0 ||
                         (connect_us == 0 && pretransfer_us == 0);
        if (connecting && via_proxy)
            s_err(err, DT_HTTP_PROXY_ERROR, 1, "timed out connecting to proxy %s (for %s)", proxy,
                  hp);
        else if (connecting)
            s_err(err, DT_HTTP_CONNECT_TIMEOUT, 1, "timed out connecting to %s after %ld ms", hp,
                  t->cfg->timeout_ms > 0 && t->cfg->timeout_ms < t->cfg->connect_timeout_ms
                      ? t->cfg->timeout_ms
                      : t->cfg->connect_timeout_ms);
        else if (strncmp(detail, "Operation too slow", 18) == 0)
            s_err(err, DT_HTTP_READ_TIMEOUT, 1, "no data from %s for read_timeout_ms (%ld)", hp,
                  t->cfg->read_timeout_ms);
        else
            s_err(err, DT_HTTP_READ_TIMEOUT, 1, "request to %s timed out after %ld ms", hp,
                  t->cfg->timeout_ms);
        return;
    }
    case CURLE_FILESIZE_EXCEEDED:
        s_err(err, DT_HTTP_RESPONSE_TOO_LARGE, 0,
              "response from %s exceeds max_response_bytes (%zu)", hp, t->cfg->max_response_bytes);
        return;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        if (connect_code >= 300) {
            s_err(err, DT_HTTP_PROXY_ERROR, connect_code >= 500,
                  "proxy refused the tunnel to %s (HTTP %ld)", hp, connect_code);
            return;
        }
        /* fall through */
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        s_err(err, DT_HTTP_CONNECTION_RESET, 1, "connection to %s was reset or closed early: %s",
              hp, detail);
        return;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        s_err(err, DT_HTTP_TLS_ERROR, 0, "TLS failure with %s: %s", hp, detail);
        return;
    case CURLE_PROXY:
        s_err(err, DT_HTTP_PROXY_ERROR, 0, "proxy failure for %s: %s", hp, detail);
        return;
    case CURLE_ABORTED_BY_CALLBACK:
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "request to %s interrupted", hp);
        return;
    case CURLE_OUT_OF_MEMORY:
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory talking to %s", hp);
        return;
    default:
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "transfer with %s failed: %s", hp, detail);
        return;
    }
}

/* After a transfer ends: counts connections and records the outcome. 0 = response. */
static int s_finish(dt_http_transfer *t, CURLcode rc, long *connects) {
    long n = 0;
    if (curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK) *connects += n;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->resp.status);
        t->failed = 0;
        return 0;
    }
    s_classify(t, rc, &t->err);
    t->failed = 1;
    return -1;
}

/* ------------------------------------------------------------ blocking client */

dt_http_client *dt_http_client_new(const dt_http_options *o, dt_http_error *err) {
    if (s_global_init(err) != 0) return NULL;
    dt_http_client *c = calloc(1, sizeof *c);
    if (!c) {
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory");
        return NULL;
    }
    if (s_cfg_init(&c->cfg, o, err) != 0) {
        free(c);
        return NULL;
    }
    if (!(c->t = s_transfer_new(&c->cfg, NULL, err))) {
        s_cfg_free(&c->cfg);
        free(c);
        return NULL;
    }
    return c;
}

int dt_http_client_perform(dt_http_client *c, const dt_http_request *req,
                           const dt_http_response **resp, dt_http_error *err) {
    dt_http_transfer *t = c->t;
    *resp = NULL;
    if (s_prepare(t, req, req->body, req->body_len, err) != 0) return -1;
    CURLcode rc = curl_easy_perform(t->easy);
    c->requests++;
    /* The caller's memory is not ours to keep pointing at. */
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, (char *)NULL);
    if (s_finish(t, rc, &c->connects) != 0) {
        if (err) *err = t->err;
        return -1;
    }
    *resp = &t->resp;
    return 0;
}

long dt_http_client_connects(const dt_http_client *c) {
    return c->connects;
}

long dt_http_client_requests(const dt_http_client *c) {
    return c->requests;
}

void dt_http_client_free(dt_http_client *c) {
    if (!c) return;
    s_transfer_free(c->t);
    s_cfg_free(&c->cfg);
    free(c);
}

/* ---------------------------------------------------------------------- multi */

static void s_list_push(struct s_list *l, dt_http_transfer *t, int where) {
    t->next = NULL;
    t->prev = l->tail;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    l->len++;
    t->where = where;
}

static void s_list_remove(struct s_list *l, dt_http_transfer *t) {
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
    l->len--;
    t->where = S_IN_NONE;
}

dt_http_multi *dt_http_multi_new(const dt_http_options *o, dt_http_error *err) {
    if (s_global_init(err) != 0) return NULL;
    dt_http_multi *m = calloc(1, sizeof *m);
    if (!m) {
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory");
        return NULL;
    }
    if (s_cfg_init(&m->cfg, o, err) != 0) {
        free(m);
        return NULL;
    }
    m->multi = curl_multi_init();
    m->share = curl_share_init();
    if (!m->multi || !m->share) goto fail;
    /* One thread drives the multi, so the share needs no lock callbacks. */
    if (curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
        goto fail;
    /* Left alone, libcurl sizes the idle-connection cache from the number of handles
     * currently added, which shrinks as transfers finish and closes connections a
     * moment later wanted again. */
    long cache = m->cfg.max_total_connections > 0 ? m->cfg.max_total_connections
                                                  : S_DEFAULT_MAX_IDLE_CONNECTIONS;
    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, cache);
    if (m->cfg.max_total_connections > 0)
        curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, m->cfg.max_total_connections);
    if (m->cfg.max_host_connections > 0)
        curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, m->cfg.max_host_connections);
    curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    m->next_id = 1;
    return m;
fail:
    if (m->multi) curl_multi_cleanup(m->multi);
    if (m->share) curl_share_cleanup(m->share);
    s_cfg_free(&m->cfg);
    free(m);
    s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory creating the multi handle");
    return NULL;
}

uint64_t dt_http_multi_add(dt_http_multi *m, const dt_http_request *req, void *user,
                           dt_http_error *err) {
    dt_http_transfer *t = m->pool.head;
    if (t)
        s_list_remove(&m->pool, t);
    else if (!(t = s_transfer_new(&m->cfg, m->share, err)))
        return 0;
    dt_buf_reset(&t->body);
    if (req->body_len && dt_buf_append(&t->body, req->body, req->body_len) != 0) {
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "out of memory copying the request body");
        goto back_to_pool;
    }
    if (s_prepare(t, req, t->body.data, req->body_len, err) != 0) goto back_to_pool;
    CURLMcode mc = curl_multi_add_handle(m->multi, t->easy);
    if (mc != CURLM_OK) {
        s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "cannot start the transfer: %s",
              curl_multi_strerror(mc));
        goto back_to_pool;
    }
    t->id = m->next_id++;
    t->user = user;
    s_list_push(&m->flight, t, S_IN_FLIGHT);
    m->requests++;
    return t->id;
back_to_pool:
    s_list_push(&m->pool, t, S_IN_POOL);
    return 0;
}

static void s_collect(dt_http_multi *m) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        dt_http_transfer *t = (dt_http_transfer *)(void *)priv;
        CURLcode rc = msg->data.result; /* msg is invalid after remove_handle */
        curl_multi_remove_handle(m->multi, msg->easy_handle);
        if (!t || t->where != S_IN_FLIGHT) continue;
        s_finish(t, rc, &m->connects);
        s_list_remove(&m->flight, t);
        s_list_push(&m->done, t, S_IN_DONE);
    }
}

static long s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dt_http_multi_perform(dt_http_multi *m, long timeout_ms, dt_http_error *err) {
    long deadline = s_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(m->multi, &running);
        if (mc != CURLM_OK) {
            s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "multi perform failed: %s",
                  curl_multi_strerror(mc));
            return -1;
        }
        s_collect(m);
        if (m->done.len > 0 || m->flight.len == 0) break;
        long left = deadline - s_now_ms();
        if (left <= 0) break;
        mc = curl_multi_poll(m->multi, NULL, 0, left > 0x7fffffff ? 0x7fffffff : (int)left, NULL);
        if (mc != CURLM_OK) {
            s_err(err, DT_HTTP_TRANSPORT_ERROR, 0, "multi poll failed: %s",
                  curl_multi_strerror(mc));
            return -1;
        }
    }
    return (int)m->done.len;
}

dt_http_transfer *dt_http_multi_next_done(dt_http_multi *m, dt_http_transfer *prev) {
    if (!prev) return m->done.head;
    return prev->where == S_IN_DONE ? prev->next : NULL;
}

static void s_to_pool(dt_http_multi *m, dt_http_transfer *t) {
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, (char *)NULL);
    t->user = NULL;
    /* Keep roughly as many idle handles as the concurrency the caller has shown. */
    long keep = m->flight.len > S_POOL_MIN ? m->flight.len : S_POOL_MIN;
    if (m->pool.len >= keep) {
        s_transfer_free(t);
        return;
    }
    s_trim_buf(&t->resp.body);
    s_trim_buf(&t->body);
    s_list_push(&m->pool, t, S_IN_POOL);
}

void dt_http_multi_release(dt_http_multi *m, dt_http_transfer *t) {
    if (!t || t->where != S_IN_DONE) return;
    s_list_remove(&m->done, t);
    s_to_pool(m, t);
}

int dt_http_multi_cancel(dt_http_multi *m, uint64_t id) {
    for (dt_http_transfer *t = m->flight.head; t; t = t->next) {
        if (t->id != id) continue;
        curl_multi_remove_handle(m->multi, t->easy);
        s_list_remove(&m->flight, t);
        s_to_pool(m, t);
        return 1;
    }
    for (dt_http_transfer *t = m->done.head; t; t = t->next) {
        if (t->id != id) continue;
        s_list_remove(&m->done, t);
        s_to_pool(m, t);
        return 1;
    }
    return 0;
}

long dt_http_multi_pending(const dt_http_multi *m) {
    return m->flight.len;
}

long dt_http_multi_connects(const dt_http_multi *m) {
    return m->connects;
}

long dt_http_multi_requests(const dt_http_multi *m) {
    return m->requests;
}

static void s_free_list(dt_http_multi *m, struct s_list *l, int in_multi) {
    dt_http_transfer *t;
    while ((t = l->head)) {
        s_list_remove(l, t);
        if (in_multi) curl_multi_remove_handle(m->multi, t->easy);
        s_transfer_free(t);
    }
}

void dt_http_multi_free(dt_http_multi *m) {
    if (!m) return;
    s_free_list(m, &m->flight, 1);
    s_free_list(m, &m->done, 0);
    s_free_list(m, &m->pool, 0);
    curl_multi_cleanup(m->multi);
    curl_share_cleanup(m->share);
    s_cfg_free(&m->cfg);
    free(m);
}

uint64_t dt_http_transfer_id(const dt_http_transfer *t) {
    return t->id;
}

void *dt_http_transfer_user(const dt_http_transfer *t) {
    return t->user;
}

const dt_http_response *dt_http_transfer_response(const dt_http_transfer *t) {
    return t->failed ? NULL : &t->resp;
}

const dt_http_error *dt_http_transfer_error(const dt_http_transfer *t) {
    return t->failed ? &t->err : NULL;
}
