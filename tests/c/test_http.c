/* test_http.c: the C API of runtime/http.h (what the client invoke and the scheduler
 * build on), against a small HTTP/1.1 server running in threads of this process on
 * 127.0.0.1. The server counts connections itself, so reuse is checked independently
 * of libcurl's own counters. Error classes and TLS are covered by tests/spec/http_spec.lua;
 * this file covers the API shapes: response header walking, multi ids, user pointers,
 * convert-then-release, cancel, and requests refused before any I/O. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "tap.h"

static int s_listen_fd = -1;
static int s_port;
static atomic_int s_conn_count;
static atomic_int s_request_count;

/* Reads one request: head up to the blank line, then Content-Length bytes of body. */
static int s_read_request(int fd, char *buf, size_t cap, char *method, char *path, char **body,
                          size_t *body_len, size_t *have, size_t *used) {
    char *end = NULL;
    for (;;) {
        buf[*have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n"))) break;
        if (*have + 1 >= cap) return -1;
        ssize_t n = read(fd, buf + *have, cap - 1 - *have);
        if (n <= 0) return -1;
        *have += (size_t)n;
    }
    size_t head = (size_t)(end - buf) + 4;
    if (sscanf(buf, "%15s %255s", method, path) != 2) return -1;
    size_t clen = 0;
    for (const char *p = buf; p < end; p++)
        if (strncasecmp(p, "\r\ncontent-length:", 17) == 0) clen = strtoul(p + 17, NULL, 10);
    while (*have < head + clen) {
        if (*have + 1 >= cap) return -1;
        ssize_t n = read(fd, buf + *have, cap - 1 - *have);
        if (n <= 0) return -1;
        *have += (size_t)n;
    }
    *body = buf + head;
    *body_len = clen;
    *used = head + clen;
    return 0;
}

static void s_write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void *s_conn_main(void *arg) {
    int fd = (int)(intptr_t)arg;
    int conn = atomic_fetch_add(&s_conn_count, 1) + 1;
    static char bufs[64][70000];
    static atomic_int next_buf;
    char *buf = bufs[atomic_fetch_add(&next_buf, 1) % 64];
    size_t have = 0;
    for (;;) {
        char method[16], path[256], *body;
        size_t body_len, used;
        if (s_read_request(fd, buf, 70000, method, path, &body, &body_len, &have, &used) != 0)
            break;
        atomic_fetch_add(&s_request_count, 1);
        char resp[70000 + 512];
        int n;
        if (strcmp(path, "/headers") == 0) {
            /* a repeated field and an obsolete folded line */
            n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Multi: a\r\n"
                         "X-Multi: b\r\nX-Fold: first\r\n  second\r\nX-Last:  v  \r\n\r\nok");
        } else {
            char text[70000];
            int tl = snprintf(text, sizeof text, "conn=%d method=%s path=%s body=%.*s", conn,
                              method, path, (int)body_len, body);
            n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
                         strncmp(path, "/status/", 8) == 0 ? path + 8 : "200 OK", tl, text);
        }
        s_write_all(fd, resp, (size_t)n);
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    close(fd);
    return NULL;
}

static void *s_accept_main(void *arg) {
    (void)arg;
    for (;;) {
        int fd = accept(s_listen_fd, NULL, NULL);
        if (fd < 0) return NULL;
        pthread_t th;
        if (pthread_create(&th, NULL, s_conn_main, (void *)(intptr_t)fd) == 0)
            pthread_detach(th);
        else
            close(fd);
    }
}

static int s_start_server(void) {
    s_listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (s_listen_fd < 0 || bind(s_listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s_listen_fd, 128) != 0 || getsockname(s_listen_fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    s_port = ntohs(a.sin_port);
    pthread_t th;
    if (pthread_create(&th, NULL, s_accept_main, NULL) != 0) return -1;
    pthread_detach(th);
    return 0;
}

static dt_http_request s_req(const char *method, const char *url, const dt_http_header *h,
                             size_t nh, const char *body) {
    dt_http_request r = {method, url, h, nh, body, body ? strlen(body) : 0};
    return r;
}

static char *s_body(const dt_http_response *r) {
    return r && r->body.data ? r->body.data : "";
}

static void test_codes(void) {
    const char *want[] = {
        "OK",         "ConnectionRefused", "ConnectTimeout",   "ReadTimeout", "ConnectionReset",
        "DNSFailure", "TLSError",          "ResponseTooLarge", "ProxyError",  "TransportError"};
    for (int c = DT_HTTP_OK; c <= DT_HTTP_TRANSPORT_ERROR; c++)
        tap_streq(dt_http_code_name((dt_http_code)c), want[c], "code name %d", c);
}

static void test_client(void) {
    char url[128];
    dt_http_error err;
    dt_http_client *c = dt_http_client_new(NULL, &err);
    TAP_OK(c != NULL);
    int conns_before = atomic_load(&s_conn_count);
    dt_http_header hs[] = {{"Content-Type", 12, "text/plain", 10}};
    const dt_http_response *r = NULL;
    for (int i = 0; i < 3; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d/echo/%d", s_port, i);
        dt_http_request q = s_req("POST", url, hs, 1, "hello");
        int rc = dt_http_client_perform(c, &q, &r, &err);
        tap_ok(rc == 0 && r && r->status == 200, "blocking request %d: %s", i,
               rc ? err.message : "ok");
        char want[128];
        snprintf(want, sizeof want, "conn=%d method=POST path=/echo/%d body=hello",
                 conns_before + 1, i);
        tap_streq(s_body(r), want, "request %d reached the server on the first connection", i);
    }
    tap_ok(atomic_load(&s_conn_count) == conns_before + 1, "server saw one connection");
    tap_ok(dt_http_client_connects(c) == 1, "client counted one connection");
    tap_ok(dt_http_client_requests(c) == 3, "client counted three requests");
    tap_streq(dt_http_response_header(r, "content-type"), "text/plain", "header lookup");

    snprintf(url, sizeof url, "http://127.0.0.1:%d/headers", s_port);
    dt_http_request q = s_req("GET", url, NULL, 0, NULL);
    TAP_OK(dt_http_client_perform(c, &q, &r, &err) == 0);
    size_t pos = 0, vl;
    const char *n, *v;
    int multi = 0;
    while (dt_http_response_next_header(r, &pos, &n, &v, &vl)) {
        tap_ok(strlen(v) == vl, "header %s: length matches", n);
        if (strcmp(n, "x-multi") == 0) {
            tap_streq(v, multi == 0 ? "a" : "b", "repeated header kept in order");
            multi++;
        }
    }
    TAP_OK(multi == 2);
    tap_streq(dt_http_response_header(r, "x-fold"), "first second", "folded line joined");
    tap_streq(dt_http_response_header(r, "x-last"), "v", "value trimmed");
    TAP_OK(dt_http_response_header(r, "X-Last") == NULL); /* names are stored lowercase */

    snprintf(url, sizeof url, "http://127.0.0.1:%d/status/503%%20Slow%%20Down", s_port);
    q = s_req("DELETE", url, NULL, 0, NULL);
    int rc = dt_http_client_perform(c, &q, &r, &err);
    tap_ok(rc == 0 && r->status == 503, "503 is a response, not a failure");

    /* requests refused before any I/O */
    int reqs = atomic_load(&s_request_count);
    dt_http_header bad[] = {{"X-Bad", 5, "a\r\nInjected: 1", 15}};
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", s_port);
    q = s_req("GET", url, bad, 1, NULL);
    rc = dt_http_client_perform(c, &q, &r, &err);
    tap_ok(rc == -1 && err.code == DT_HTTP_TRANSPORT_ERROR && !err.retryable && r == NULL,
           "CR/LF in a header value refused: %s", err.message);
    TAP_OK(strstr(err.message, "Injected") == NULL);
    q = s_req("G T", url, NULL, 0, NULL);
    TAP_OK(dt_http_client_perform(c, &q, &r, &err) == -1);
    q = s_req("GET", "file:///etc/passwd", NULL, 0, NULL);
    TAP_OK(dt_http_client_perform(c, &q, &r, &err) == -1);
    tap_ok(atomic_load(&s_request_count) == reqs, "no refused request reached the server");
    dt_http_client_free(c);
}

static void test_multi(void) {
    dt_http_error err;
    dt_http_options o;
    dt_http_options_init(&o);
    o.max_host_connections = 8;
    dt_http_multi *m = dt_http_multi_new(&o, &err);
    TAP_OK(m != NULL);
    enum { N = 40 };
    uint64_t ids[N];
    int tags[N];
    char url[128];
    for (int i = 0; i < N; i++) {
        char body[32];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/m/%d", s_port, i);
        snprintf(body, sizeof body, "b%d", i);
        dt_http_request q = s_req("POST", url, NULL, 0, body);
        tags[i] = i;
        ids[i] = dt_http_multi_add(m, &q, &tags[i], &err);
        /* the request was copied: scribble over the caller's buffers */
        memset(body, 'X', sizeof body - 1);
        memset(url, 'X', sizeof url - 1);
        TAP_OK(ids[i] > 0 && (i == 0 || ids[i] > ids[i - 1]));
    }
    TAP_OK(dt_http_multi_pending(m) == N);
    int seen[N] = {0}, done = 0, rounds = 0;
    while (done < N && rounds++ < 1000) {
        int k = dt_http_multi_perform(m, 1000, &err);
        if (k < 0) break;
        /* walk all completions first, release afterwards */
        int walked = 0;
        for (dt_http_transfer *t = dt_http_multi_next_done(m, NULL); t;
             t = dt_http_multi_next_done(m, t)) {
            int *tag = dt_http_transfer_user(t);
            const dt_http_response *r = dt_http_transfer_response(t);
            char want[64];
            snprintf(want, sizeof want, "method=POST path=/m/%d body=b%d", *tag, *tag);
            int ok = tag && dt_http_transfer_id(t) == ids[*tag] && r && r->status == 200 &&
                     strstr(s_body(r), want) != NULL && !dt_http_transfer_error(t);
            tap_ok(ok, "multi transfer %d completed with its own body", tag ? *tag : -1);
            if (tag) seen[*tag]++;
            walked++;
        }
        TAP_OK(walked == k);
        dt_http_transfer *t;
        while ((t = dt_http_multi_next_done(m, NULL)))
            dt_http_multi_release(m, t);
        done += walked;
    }
    int all = 1;
    for (int i = 0; i < N; i++)
        all = all && seen[i] == 1;
    tap_ok(all && done == N, "each of %d transfers completed exactly once", N);
    TAP_OK(dt_http_multi_pending(m) == 0);
    tap_ok(dt_http_multi_connects(m) <= 8, "max_host_connections kept (%ld connections)",
           dt_http_multi_connects(m));

    /* nothing in flight: perform returns at once with nothing */
    TAP_OK(dt_http_multi_perform(m, 5000, &err) == 0);

    /* cancel one of two; the other still completes */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/a", s_port);
    dt_http_request q = s_req("GET", url, NULL, 0, NULL);
    uint64_t a = dt_http_multi_add(m, &q, NULL, &err);
    uint64_t b = dt_http_multi_add(m, &q, NULL, &err);
    TAP_OK(dt_http_multi_cancel(m, a) == 1);
    TAP_OK(dt_http_multi_cancel(m, a) == 0);
    TAP_OK(dt_http_multi_pending(m) == 1);
    dt_http_transfer *t = NULL;
    for (int i = 0; i < 100 && !t; i++) {
        dt_http_multi_perform(m, 1000, &err);
        t = dt_http_multi_next_done(m, NULL);
    }
    TAP_OK(t && dt_http_transfer_id(t) == b && dt_http_transfer_response(t)->status == 200);
    if (t) dt_http_multi_release(m, t);

    /* an invalid request is refused by add */
    q = s_req("GET", "ftp://127.0.0.1/", NULL, 0, NULL);
    TAP_OK(dt_http_multi_add(m, &q, NULL, &err) == 0 && err.code == DT_HTTP_TRANSPORT_ERROR);

    /* freeing with transfers in flight */
    q = s_req("GET", url, NULL, 0, NULL);
    TAP_OK(dt_http_multi_add(m, &q, NULL, &err) > 0);
    dt_http_multi_free(m);
    TAP_OK(1);
}

int main(void) {
    /* requests go to 127.0.0.1 directly, whatever the environment says */
    const char *proxies[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof *proxies; i++)
        unsetenv(proxies[i]);
    if (s_start_server() != 0) tap_skip_all("cannot listen on 127.0.0.1");
    test_codes();
    test_client();
    test_multi();
    return tap_done();
}
