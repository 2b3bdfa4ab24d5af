/* http.h: the HTTP transport on libcurl. Two shapes over the same request and response
 * types: a blocking client (one easy handle, one kept-alive connection reused from call
 * to call) and a multi driver (many transfers in flight on one curl multi handle, easy
 * handles taken from a small pool, connections shared through the multi's cache) for the
 * coroutine scheduler.
 *
 * Policy it enforces: TLS peer and host verification always on (there is no switch);
 * CA bundle from the ca_bundle option, else AWS_CA_BUNDLE, else the system store; proxy
 * variables left to libcurl (http_proxy, https_proxy/HTTPS_PROXY, all_proxy, no_proxy);
 * HTTP/1.1 only; no redirects followed; response body and header sizes capped.
 * It does not sign, retry, or interpret AWS errors: 4xx/5xx are ordinary responses.
 * It never logs and never copies request headers into error messages. */
#ifndef DT_HTTP_H
#define DT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Transport failure classes. The names (dt_http_code_name) are the aws.Error codes. */
typedef enum dt_http_code {
    DT_HTTP_OK = 0,
    DT_HTTP_CONNECTION_REFUSED, /* "ConnectionRefused" */
    DT_HTTP_CONNECT_TIMEOUT,    /* "ConnectTimeout" */
    DT_HTTP_READ_TIMEOUT,       /* "ReadTimeout" (whole-transfer or idle timeout once connected) */
    DT_HTTP_CONNECTION_RESET,   /* "ConnectionReset" (reset, closed early, empty reply) */
    DT_HTTP_DNS_FAILURE,        /* "DNSFailure" */
    DT_HTTP_TLS_ERROR,          /* "TLSError" (handshake, certificate, host name, CA file) */
    DT_HTTP_RESPONSE_TOO_LARGE, /* "ResponseTooLarge" (body or headers over their cap) */
    DT_HTTP_PROXY_ERROR,        /* "ProxyError" */
    DT_HTTP_TRANSPORT_ERROR     /* "TransportError" (anything else) */
} dt_http_code;

typedef struct dt_http_error {
    dt_http_code code;
    int retryable;     /* 1: a retry may succeed (connect failures, resets, timeouts) */
    char message[320]; /* names the host (and proxy), never headers, path or query */
} dt_http_error;

const char *dt_http_code_name(dt_http_code code);

#define DT_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 3100L
#define DT_HTTP_DEFAULT_TIMEOUT_MS 60000L
#define DT_HTTP_DEFAULT_MAX_RESPONSE_BYTES ((size_t)64 << 20)
#define DT_HTTP_DEFAULT_MAX_HEADER_BYTES ((size_t)64 << 10)

/* Options are copied by the constructors; strings need not outlive the call. */
typedef struct dt_http_options {
    long connect_timeout_ms;       /* TCP + TLS handshake; 0 = default */
    long timeout_ms;               /* whole transfer; 0 = default, -1 = none */
    long read_timeout_ms;          /* idle: abort when nothing arrives for this long (rounded up to
                                      whole seconds, libcurl's low-speed check); 0 = off */
    size_t max_response_bytes;     /* body cap; 0 = default */
    size_t max_header_bytes;       /* cap on all header bytes of a response; 0 = default */
    const char *ca_bundle;         /* PEM file; NULL = $AWS_CA_BUNDLE, else the system store */
    const char *user_agent_suffix; /* appended after "detlua/<version> "; NULL = none */
    /* multi only */
    long max_total_connections; /* 0 = unlimited */
    long max_host_connections;  /* 0 = unlimited */
} dt_http_options;

void dt_http_options_init(dt_http_options *o);

typedef struct dt_http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} dt_http_header;

/* A request as the caller describes it. method is an HTTP token ("GET", "POST", ...);
 * url is absolute http:// or https://. Names and values must not contain CR, LF or NUL
 * (checked: such a request fails with TransportError before any I/O). */
typedef struct dt_http_request {
    const char *method;
    const char *url;
    const dt_http_header *headers;
    size_t n_headers;
    const char *body; /* may be NULL when body_len is 0 */
    size_t body_len;
} dt_http_request;

/* The final response (interim 1xx responses are dropped). Header names are lowercased
 * and values trimmed; they are packed in `headers` as name NUL value NUL ...; walk them
 * with dt_http_response_next_header. Both buffers are owned by the client or transfer
 * and reused by the next request. */
typedef struct dt_http_response {
    long status;
    dt_buf headers;
    dt_buf body;
} dt_http_response;

/* Iterates headers in arrival order: start with *pos = 0; returns 0 at the end. */
int dt_http_response_next_header(const dt_http_response *r, size_t *pos, const char **name,
                                 const char **value, size_t *value_len);
/* First value of a header (name in lowercase), or NULL. */
const char *dt_http_response_header(const dt_http_response *r, const char *lname);

/* --- blocking client: one easy handle, so one kept-alive connection reused. --- */
typedef struct dt_http_client dt_http_client;

/* NULL on failure (err filled: out of memory, or curl refusing an option). */
dt_http_client *dt_http_client_new(const dt_http_options *o, dt_http_error *err);
/* Blocks until the response is complete or the transfer fails. The request's strings
 * are used in place (not copied) and need only live during the call. Returns 0 and
 * sets *resp (valid until the next perform or free) or -1 with err filled. */
int dt_http_client_perform(dt_http_client *c, const dt_http_request *req,
                           const dt_http_response **resp, dt_http_error *err);
/* Number of new connections made so far (1 for any number of kept-alive requests). */
long dt_http_client_connects(const dt_http_client *c);
long dt_http_client_requests(const dt_http_client *c);
void dt_http_client_free(dt_http_client *c);

/* --- multi: many transfers on one curl multi handle, driven by the caller. --- */
typedef struct dt_http_multi dt_http_multi;
typedef struct dt_http_transfer dt_http_transfer;

dt_http_multi *dt_http_multi_new(const dt_http_options *o, dt_http_error *err);
/* Copies the request (url, headers, body) into a pooled transfer and starts it. user is
 * returned with the completion. Returns the transfer id (> 0) or 0 with err filled. */
uint64_t dt_http_multi_add(dt_http_multi *m, const dt_http_request *req, void *user,
                           dt_http_error *err);
/* Runs ready transfers and waits up to timeout_ms (0 = do not wait) for activity when none
 * has completed yet; never waits when nothing is in flight. Completed transfers are queued
 * for dt_http_multi_next_done. Returns the number queued, or -1 with err filled when the
 * multi handle itself fails. */
int dt_http_multi_perform(dt_http_multi *m, long timeout_ms, dt_http_error *err);
/* Walks the completed transfers, oldest first: prev NULL gives the first; NULL at the end.
 * They stay queued (and valid) until released, so a caller can convert them all before
 * releasing any. */
dt_http_transfer *dt_http_multi_next_done(dt_http_multi *m, dt_http_transfer *prev);
/* Returns a completed transfer to the pool; its response buffers become invalid. */
void dt_http_multi_release(dt_http_multi *m, dt_http_transfer *t);
/* Removes an in-flight or completed transfer (a cancelled coroutine); 0 if unknown id. */
int dt_http_multi_cancel(dt_http_multi *m, uint64_t id);
long dt_http_multi_pending(const dt_http_multi *m); /* transfers in flight */
long dt_http_multi_connects(const dt_http_multi *m);
long dt_http_multi_requests(const dt_http_multi *m);
void dt_http_multi_free(dt_http_multi *m); /* also aborts transfers in flight */

uint64_t dt_http_transfer_id(const dt_http_transfer *t);
void *dt_http_transfer_user(const dt_http_transfer *t);
/* NULL when the transfer failed; then dt_http_transfer_error says why. */
const dt_http_response *dt_http_transfer_response(const dt_http_transfer *t);
const dt_http_error *dt_http_transfer_error(const dt_http_transfer *t);

#endif
