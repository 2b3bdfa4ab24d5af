/* server.c: the emulator's HTTP listener on libmicrohttpd (see server.h).
 *
 * Protocol choices made here, before any AWS logic runs:
 * - the request-target is taken from MHD's URI log callback, so the router sees the path
 *   and query byte for byte as the client signed them (MHD's unescaping is disabled too);
 * - header names are lowercased and repeated headers joined with "," (the SigV4 rule for
 *   canonical headers), a header sent without a value becomes "";
 * - bodies are capped: a declared Content-Length above the cap is refused at once, a
 *   chunked body that grows past it is drained and refused at the end, both with 413.
 * Injected faults (dt_server_fault, decided by the handler) are carried out here because
 * they live below HTTP: a reset closes the socket with SO_LINGER 0 (an RST, no answer); a
 * delay suspends the connection and a timer thread resumes it, so the one server thread
 * keeps serving other clients meanwhile; truncation and padding stream the body from a
 * callback whose declared Content-Length differs from what is sent.
 * It deliberately does not parse bodies, check signatures or know any service. */
#include "server.h"

#include "lazylib.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* libmicrohttpd is opened on first use (lazylib.h): only the emulator serves HTTP. The
 * pointers are typed from microhttpd.h, so every call is checked as if it were linked. CMake
 * passes the soname of the library the header belongs to. */
#ifndef DT_SONAME_MHD
#define DT_SONAME_MHD "libmicrohttpd.so.12"
#endif

static struct {
    __typeof__(MHD_add_response_header) *MHD_add_response_header;
    __typeof__(MHD_create_response_from_buffer) *MHD_create_response_from_buffer;
    __typeof__(MHD_create_response_from_callback) *MHD_create_response_from_callback;
    __typeof__(MHD_destroy_response) *MHD_destroy_response;
    __typeof__(MHD_get_connection_info) *MHD_get_connection_info;
    __typeof__(MHD_get_connection_values) *MHD_get_connection_values;
    __typeof__(MHD_get_daemon_info) *MHD_get_daemon_info;
    __typeof__(MHD_lookup_connection_value) *MHD_lookup_connection_value;
    __typeof__(MHD_queue_response) *MHD_queue_response;
    __typeof__(MHD_resume_connection) *MHD_resume_connection;
    __typeof__(MHD_start_daemon) *MHD_start_daemon;
    __typeof__(MHD_stop_daemon) *MHD_stop_daemon;
    __typeof__(MHD_suspend_connection) *MHD_suspend_connection;
} s_mhd;

#define S_SYM(f)                                                                                   \
    { #f, &s_mhd.f }
static const dt_lazylib_symbol s_mhd_symbols[] = {
    S_SYM(MHD_add_response_header),
    S_SYM(MHD_create_response_from_buffer),
    S_SYM(MHD_create_response_from_callback),
    S_SYM(MHD_destroy_response),
    S_SYM(MHD_get_connection_info),
    S_SYM(MHD_get_connection_values),
    S_SYM(MHD_get_daemon_info),
    S_SYM(MHD_lookup_connection_value),
    S_SYM(MHD_queue_response),
    S_SYM(MHD_resume_connection),
    S_SYM(MHD_start_daemon),
    S_SYM(MHD_stop_daemon),
    S_SYM(MHD_suspend_connection),
};
#undef S_SYM

static dt_lazylib s_mhd_lib = {
    .sonames = (const char *const[]){DT_SONAME_MHD, NULL},
    .package = "libmicrohttpd12",
    .symbols = s_mhd_symbols,
    .n_symbols = sizeof s_mhd_symbols / sizeof s_mhd_symbols[0],
};

/* A connection held for a delay fault, and when to resume it. */
typedef struct s_held {
    struct MHD_Connection *conn;
    struct timespec due; /* CLOCK_MONOTONIC */
} s_held;

struct dt_server {
    struct MHD_Daemon *daemon;
    dt_server_config cfg;
    int port;
    char url[64];
    /* delay faults: the timer thread and the connections it will resume */
    pthread_mutex_t tmu;
    pthread_cond_t tcv;
    int timer_sync_init;
    int timer_started;
    int stopping;
    pthread_t timer;
    s_held *held;
    size_t n_held, cap_held;
};

/* Per-request state, created by the URI log callback and freed on completion. */
typedef struct s_request {
    char *uri; /* raw request-target */
    int started;
    int too_large;
    dt_buf body;
    dt_server_response *pending; /* an answer held by a delay fault */
} s_request;

/* --- response helpers ------------------------------------------------------ */

int dt_server_response_add_header(dt_server_response *resp, const char *name, const char *value) {
    size_t before = resp->headers.len;
    if (dt_buf_append(&resp->headers, name, strlen(name) + 1) != 0 ||
        dt_buf_append(&resp->headers, value, strlen(value) + 1) != 0) {
        resp->headers.len = before;
        return -1;
    }
    return 0;
}

int dt_server_response_set_body(dt_server_response *resp, const char *data, size_t len) {
    dt_buf_reset(&resp->body);
    return dt_buf_append(&resp->body, data, len);
}

static void s_request_id(char out[37]) {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) memset(b, 0, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* An error produced before (or instead of) the handler: XML for query-protocol (form)
 * requests, JSON otherwise, with the same headers the router would send. */
static void s_error(dt_server_response *resp, int status, const char *code, const char *message,
                    int xml) {
    char rid[37];
    s_request_id(rid);
    dt_buf_reset(&resp->headers);
    dt_buf_reset(&resp->body);
    resp->status = status;
    dt_server_response_add_header(resp, "x-amzn-RequestId", rid);
    if (xml) {
        dt_server_response_add_header(resp, "Content-Type", "text/xml");
        dt_buf_printf(&resp->body,
                      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                      "<Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
                      "<RequestId>%s</RequestId></ErrorResponse>",
                      status >= 500 ? "Receiver" : "Sender", code, message, rid);
    } else {
        dt_server_response_add_header(resp, "Content-Type", "application/json");
        dt_server_response_add_header(resp, "x-amzn-ErrorType", code);
        dt_buf_printf(&resp->body, "{\"message\":\"%s\"}", message);
    }
}

/* --- MHD callbacks ------------------------------------------------------------ */

static void *s_on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
    (void)conn;
    dt_server *srv = cls;
    s_request *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->uri = strdup(uri ? uri : "/");
    if (!r->uri) {
        free(r);
        return NULL;
    }
    dt_buf_init(&r->body, srv->cfg.max_body_bytes);
    return r;
}

static void s_response_free(dt_server_response *resp) {
    dt_buf_free(&resp->headers);
    /* bodies may hold credentials (STS answers) */
    dt_buf_free_secure(&resp->body);
}

static void s_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    s_request *r = *req_cls;
    if (!r) return;
    if (r->pending) {
        s_response_free(r->pending);
        free(r->pending);
    }
    /* request bodies may hold credentials (STS form posts carry tokens) */
    dt_buf_free_secure(&r->body);
    free(r->uri);
    free(r);
    *req_cls = NULL;
}

/* The router must see the raw bytes: leave percent-escapes alone. */
static size_t s_no_unescape(void *cls, struct MHD_Connection *conn, char *s) {
    (void)cls;
    (void)conn;
    return strlen(s);
}

typedef struct s_headers {
    size_t n, alloc;
    char **names;
    char **values;
    int failed;
} s_headers;

static enum MHD_Result s_collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value) {
    (void)kind;
    s_headers *h = cls;
    if (!key) return MHD_YES;
    if (!value) value = "";
    char *name = strdup(key);
    if (!name) {
        h->failed = 1;
        return MHD_NO;
    }
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->names[i], name) == 0) {
            size_t a = strlen(h->values[i]), b = strlen(value);
            char *joined = malloc(a + b + 2);
            if (!joined) {
                free(name);
                h->failed = 1;
                return MHD_NO;
            }
            memcpy(joined, h->values[i], a);
            joined[a] = ',';
            memcpy(joined + a + 1, value, b + 1);
            free(h->values[i]);
            h->values[i] = joined;
            free(name);
            return MHD_YES;
        }
    }
    if (h->n == h->alloc) {
        size_t n = h->alloc ? h->alloc * 2 : 16;
        char **nn = realloc(h->names, n * sizeof *nn);
        if (nn) h->names = nn;
        char **nv = nn ? realloc(h->values, n * sizeof *nv) : NULL;
        if (nv) h->values = nv;
        if (!nn || !nv) {
            free(name);
            h->failed = 1;
            return MHD_NO;
        }
        h->alloc = n;
    }
    char *v = strdup(value);
    if (!v) {
        free(name);
        h->failed = 1;
        return MHD_NO;
    }
    h->names[h->n] = name;
    h->values[h->n] = v;
    h->n++;
    return MHD_YES;
}

static void s_headers_free(s_headers *h) {
    for (size_t i = 0; i < h->n; i++) {
        free(h->names[i]);
        /* header values may carry session tokens and signatures */
        dt_wipe(h->values[i], strlen(h->values[i]));
        free(h->values[i]);
    }
    free(h->names);
    free(h->values);
}

static int s_is_form(struct MHD_Connection *conn) {
    const char *ct = s_mhd.MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* A body streamed for a truncation or padding fault: `total` is declared as the
 * Content-Length, `limit` bytes are sent (the body, then spaces), and when limit < total
 * the connection is closed after them. */
typedef struct s_stream {
    char *data;
    size_t len;
    uint64_t limit;
    uint64_t total;
} s_stream;

static ssize_t s_stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    s_stream *st = cls;
    if (pos >= st->limit)
        return st->limit < st->total ? MHD_CONTENT_READER_END_WITH_ERROR
                                     : MHD_CONTENT_READER_END_OF_STREAM;
    uint64_t n = st->limit - pos;
    if (n > max) n = max;
    size_t done = 0;
    if (pos < st->len) {
        done = st->len - (size_t)pos;
        if (done > n) done = (size_t)n;
        memcpy(buf, st->data + pos, done);
    }
    if (done < n) memset(buf + done, ' ', (size_t)n - done);
    return (ssize_t)n;
}

static void s_stream_free(void *cls) {
    s_stream *st = cls;
    dt_wipe(st->data, st->len);
    free(st->data);
    free(st);
}

static struct MHD_Response *s_stream_response(dt_server_response *resp) {
    s_stream *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->len = resp->body.len;
    st->data = malloc(st->len ? st->len : 1);
    if (!st->data) {
        free(st);
        return NULL;
    }
    if (st->len) memcpy(st->data, resp->body.data, st->len);
    if (resp->fault.truncate) {
        st->total = st->len;
        st->limit = resp->fault.truncate_to < st->len ? resp->fault.truncate_to : st->len;
    } else {
        st->total = resp->fault.pad_to;
        st->limit = st->total;
    }
    struct MHD_Response *mr = s_mhd.MHD_create_response_from_callback(
        st->total, 16 * 1024, s_stream_read, st, s_stream_free);
    if (!mr) s_stream_free(st);
    return mr;
}

static enum MHD_Result s_send(struct MHD_Connection *conn, dt_server_response *resp) {
    struct MHD_Response *mr;
    if (resp->fault.truncate || resp->fault.pad_to > resp->body.len)
        mr = s_stream_response(resp);
    else
        mr = s_mhd.MHD_create_response_from_buffer(
            resp->body.len, resp->body.data ? resp->body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!mr) return MHD_NO;
    const char *p = resp->headers.data;
    const char *end = p ? p + resp->headers.len : NULL;
    while (p && p < end) {
        const char *name = p;
        const char *value = name + strlen(name) + 1;
        if (value >= end) break;
        /* MHD refuses a few framing headers it manages itself; that is fine. */
        (void)s_mhd.MHD_add_response_header(mr, name, value);
        p = value + strlen(value) + 1;
    }
    int status = resp->status;
    if (status < 100 || status > 999) status = 500;
    enum MHD_Result ret = s_mhd.MHD_queue_response(conn, (unsigned int)status, mr);
    s_mhd.MHD_destroy_response(mr);
    return ret;
}

/* A reset fault: no answer at all. SO_LINGER 0 makes the close an RST rather than a FIN,
 * so the client sees "connection reset by peer" (or an empty reply, as it may race). */
static enum MHD_Result s_reset(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci =
        s_mhd.MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    return MHD_NO; /* MHD closes the connection */
}

static enum MHD_Result s_finish(struct MHD_Connection *conn, dt_server_response *resp) {
    enum MHD_Result ret = resp->fault.reset ? s_reset(conn) : s_send(conn, resp);
    s_response_free(resp);
    return ret;
}

/* --- delay faults: held connections and the timer thread that resumes them ------ */

static int s_ts_before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *s_timer_main(void *arg) {
    dt_server *srv = arg;
    pthread_mutex_lock(&srv->tmu);
    while (!srv->stopping) {
        if (srv->n_held == 0) {
            pthread_cond_wait(&srv->tcv, &srv->tmu);
            continue;
        }
        size_t k = 0;
        for (size_t i = 1; i < srv->n_held; i++)
            if (s_ts_before(&srv->held[i].due, &srv->held[k].due)) k = i;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (s_ts_before(&now, &srv->held[k].due)) {
            struct timespec due = srv->held[k].due;
            pthread_cond_timedwait(&srv->tcv, &srv->tmu, &due);
            continue;
        }
        struct MHD_Connection *conn = srv->held[k].conn;
        srv->held[k] = srv->held[--srv->n_held];
        pthread_mutex_unlock(&srv->tmu);
        s_mhd.MHD_resume_connection(conn);
        pthread_mutex_lock(&srv->tmu);
    }
    /* Stopping: MHD must not be stopped with suspended connections, so release them all
     * (their answers go out at once or are dropped with the daemon). */
    while (srv->n_held > 0) {
        struct MHD_Connection *conn = srv->held[--srv->n_held].conn;
        pthread_mutex_unlock(&srv->tmu);
        s_mhd.MHD_resume_connection(conn);
        pthread_mutex_lock(&srv->tmu);
    }
    pthread_mutex_unlock(&srv->tmu);
    return NULL;
}

/* With tmu held: queue conn for resumption in delay_ms, starting the timer thread on
 * first use. 0, or -1 when that is impossible (then the answer goes out undelayed). */
static int s_hold_locked(dt_server *srv, struct MHD_Connection *conn, long delay_ms) {
    if (srv->stopping || !srv->timer_sync_init) return -1;
    if (srv->n_held == srv->cap_held) {
        size_t n = srv->cap_held ? srv->cap_held * 2 : 8;
        s_held *nh = realloc(srv->held, n * sizeof *nh);
        if (!nh) return -1;
        srv->held = nh;
        srv->cap_held = n;
    }
    if (!srv->timer_started) {
        /* like the server thread, the timer thread must not take the host's signals */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int rc = pthread_create(&srv->timer, NULL, s_timer_main, srv);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) return -1;
        srv->timer_started = 1;
    }
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    due.tv_sec += delay_ms / 1000;
    due.tv_nsec += (delay_ms % 1000) * 1000000L;
    if (due.tv_nsec >= 1000000000L) {
        due.tv_sec++;
        due.tv_nsec -= 1000000000L;
    }
    srv->held[srv->n_held].conn = conn;
    srv->held[srv->n_held].due = due;
    srv->n_held++;
    return 0;
}

/* Delivers resp now, or holds it on the suspended connection when a delay is asked. */
static enum MHD_Result s_deliver(dt_server *srv, struct MHD_Connection *conn, s_request *r,
                                 dt_server_response *resp) {
    long delay_ms = resp->fault.delay_ms;
    resp->fault.delay_ms = 0;
    if (delay_ms <= 0) return s_finish(conn, resp);
    if (delay_ms > DT_SERVER_MAX_DELAY_MS) delay_ms = DT_SERVER_MAX_DELAY_MS;
    dt_server_response *held = malloc(sizeof *held);
    if (!held) return s_finish(conn, resp);
    pthread_mutex_lock(&srv->tmu);
    int ok = s_hold_locked(srv, conn, delay_ms) == 0;
    if (ok) {
        /* under tmu, so the timer cannot resume conn before it is suspended */
        *held = *resp;
        r->pending = held;
        s_mhd.MHD_suspend_connection(conn);
        pthread_cond_signal(&srv->tcv);
    }
    pthread_mutex_unlock(&srv->tmu);
    if (!ok) {
        free(held);
        return s_finish(conn, resp);
    }
    return MHD_YES;
}

static enum MHD_Result s_dispatch(dt_server *srv, struct MHD_Connection *conn, s_request *r,
                                  const char *method) {
    dt_server_response resp;
    memset(&resp, 0, sizeof resp);
    dt_buf_init(&resp.headers, 0);
    dt_buf_init(&resp.body, 0);

    s_headers h = {0};
    s_mhd.MHD_get_connection_values(conn, MHD_HEADER_KIND, s_collect_header, &h);
    if (h.failed) {
        s_headers_free(&h);
        s_error(&resp, 500, "InternalServerException", "The emulator ran out of memory.",
                s_is_form(conn));
        return s_finish(conn, &resp);
    }

    char *q = strchr(r->uri, '?');
    if (q) *q++ = '\0';
    dt_server_request req = {
        .method = method,
        .path = r->uri,
        .query = q ? q : "",
        .n_headers = h.n,
        .header_names = (const char *const *)h.names,
        .header_values = (const char *const *)h.values,
        .body = r->body.data ? r->body.data : "",
        .body_len = r->body.len,
    };
    srv->cfg.handler(srv->cfg.handler_ctx, &req, &resp);
    s_headers_free(&h);
    if (resp.status == 0 && !resp.fault.reset) {
        memset(&resp.fault, 0, sizeof resp.fault);
        s_error(&resp, 500, "InternalServerException", "The emulator failed to produce a response.",
                s_is_form(conn));
    }
    return s_deliver(srv, conn, r, &resp);
}

static enum MHD_Result s_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls) {
    (void)url;
    (void)version;
    dt_server *srv = cls;
    s_request *r = *req_cls;
    if (!r) return MHD_NO; /* out of memory in the URI callback: drop the connection */
    if (r->pending) {
        /* resumed after a delay fault: send what the handler produced back then */
        dt_server_response *held = r->pending;
        r->pending = NULL;
        enum MHD_Result ret = s_finish(conn, held);
        free(held);
        return ret;
    }

    if (!r->started) {
        r->started = 1;
        const char *cl = s_mhd.MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end != cl && *end == '\0' && n > srv->cfg.max_body_bytes) {
                dt_server_response resp = {0};
                char msg[96];
                snprintf(msg, sizeof msg, "The request body exceeds the limit of %zu bytes.",
                         srv->cfg.max_body_bytes);
                s_error(&resp, 413, "RequestEntityTooLargeException", msg, s_is_form(conn));
                return s_finish(conn, &resp);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!r->too_large && dt_buf_append(&r->body, upload_data, *upload_data_size) != 0) {
            r->too_large = 1;
            dt_buf_free(&r->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large) {
        dt_server_response resp = {0};
        char msg[96];
        snprintf(msg, sizeof msg, "The request body exceeds the limit of %zu bytes.",
                 srv->cfg.max_body_bytes);
        s_error(&resp, 413, "RequestEntityTooLargeException", msg, s_is_form(conn));
        return s_finish(conn, &resp);
    }
    return s_dispatch(srv, conn, r, method);
}

/* --- lifecycle ---------------------------------------------------------------- */

int dt_server_host_is_loopback(const char *host) {
    if (!host) return 0;
    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0) return 1;
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
    return 0;
}

dt_server *dt_server_start(const dt_server_config *cfg, char *err, size_t err_len) {
    if (!dt_server_host_is_loopback(cfg->host)) {
        snprintf(err, err_len, "host %s is not a loopback address", cfg->host ? cfg->host : "?");
        return NULL;
    }
    if (cfg->port < 0 || cfg->port > 65535) {
        snprintf(err, err_len, "port %d is out of range 0-65535", cfg->port);
        return NULL;
    }
    if (dt_lazylib_load(&s_mhd_lib) != 0) {
        snprintf(err, err_len, "%s", dt_lazylib_error(&s_mhd_lib));
        return NULL;
    }
    dt_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    if (srv->cfg.timeout_s == 0) srv->cfg.timeout_s = 60;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) == 0) {
        if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
            pthread_mutex_init(&srv->tmu, NULL) == 0) {
            if (pthread_cond_init(&srv->tcv, &ca) == 0)
                srv->timer_sync_init = 1;
            else
                pthread_mutex_destroy(&srv->tmu);
        }
        pthread_condattr_destroy(&ca);
    }

    int v6 = strcmp(cfg->host, "::1") == 0;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    memset(&sin, 0, sizeof sin);
    memset(&sin6, 0, sizeof sin6);
    if (v6) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)cfg->port);
        sin6.sin6_addr = in6addr_loopback;
        sa = (const struct sockaddr *)&sin6;
    } else {
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)cfg->port);
        if (strcmp(cfg->host, "localhost") == 0)
            sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else
            inet_pton(AF_INET, cfg->host, &sin.sin_addr);
        sa = (const struct sockaddr *)&sin;
    }

    /* One internal polling thread: requests reach the handler one at a time. Suspending
     * (delay faults) needs MHD_ALLOW_SUSPEND_RESUME. */
    unsigned int flags =
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (v6) flags |= MHD_USE_IPv6;
    /* The server thread inherits the signal mask: block everything while it is created so
     * that SIGINT/SIGTERM keep reaching the host's thread (its handlers and sigwait). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    srv->daemon = s_mhd.MHD_start_daemon(
        flags, 0, NULL, NULL, s_on_request, srv, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_URI_LOG_CALLBACK, s_on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, s_on_completed,
        srv, MHD_OPTION_UNESCAPE_CALLBACK, s_no_unescape, srv, MHD_OPTION_CONNECTION_TIMEOUT,
        srv->cfg.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!srv->daemon) {
        snprintf(err, err_len, "cannot listen on %s port %d (address in use?)", cfg->host,
                 cfg->port);
        if (srv->timer_sync_init) {
            pthread_cond_destroy(&srv->tcv);
            pthread_mutex_destroy(&srv->tmu);
        }
        free(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        s_mhd.MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? (int)info->port : cfg->port;
    const char *shown = strcmp(cfg->host, "localhost") == 0 ? "127.0.0.1" : cfg->host;
    if (v6)
        snprintf(srv->url, sizeof srv->url, "http://[%s]:%d", shown, srv->port);
    else
        snprintf(srv->url, sizeof srv->url, "http://%s:%d", shown, srv->port);
    return srv;
}

int dt_server_port(const dt_server *srv) {
    return srv->port;
}

const char *dt_server_url(const dt_server *srv) {
    return srv->url;
}

void dt_server_stop(dt_server *srv) {
    if (!srv) return;
    if (srv->timer_sync_init) {
        pthread_mutex_lock(&srv->tmu);
        srv->stopping = 1; /* no new holds; the timer thread resumes the held ones */
        pthread_cond_signal(&srv->tcv);
        int started = srv->timer_started;
        pthread_mutex_unlock(&srv->tmu);
        if (started) pthread_join(srv->timer, NULL);
    }
    if (srv->daemon) s_mhd.MHD_stop_daemon(srv->daemon);
    if (srv->timer_sync_init) {
        pthread_cond_destroy(&srv->tcv);
        pthread_mutex_destroy(&srv->tmu);
    }
    free(srv->held);
    free(srv);
}
