/* server.h: the emulator's HTTP listener (libmicrohttpd), in plain C.
 *
 * It accepts loopback connections, collects one request at a time (raw path and query
 * exactly as on the wire, lowercased headers, a body capped at max_body_bytes) and hands
 * it to a handler callback that fills a response. All requests are handled on MHD's one
 * internal polling thread, so the handler is never entered concurrently; other clients
 * queue in MHD until it returns. For fault injection the handler may ask for an answer to
 * be withheld (connection reset), delayed (the connection is suspended and a timer thread
 * resumes it), cut short or padded (see dt_server_fault). It knows nothing about Lua, SigV4 or AWS
 * protocols: server_lua.c supplies the handler. */
#ifndef DT_EMULATOR_SERVER_H
#define DT_EMULATOR_SERVER_H

#include <stddef.h>

#include "buf.h"

typedef struct dt_server dt_server;

typedef struct dt_server_request {
    const char *method;
    const char *path;  /* raw request-target path, not percent-decoded */
    const char *query; /* raw query string after '?', or "" */
    size_t n_headers;
    const char *const *header_names;  /* lowercased; duplicates joined with "," */
    const char *const *header_values; /* "" for headers sent without a value */
    const char *body;
    size_t body_len;
} dt_server_request;

/* How to deliver an answer when a fault is being injected (all zero = normally). The
 * handler decides; server.c carries it out. */
typedef struct dt_server_fault {
    int reset;     /* close the connection without answering (RST where possible) */
    long delay_ms; /* hold the answer this long; the connection is suspended, the
                      server thread keeps serving others (capped at
                      DT_SERVER_MAX_DELAY_MS) */
    int truncate;  /* 1: declare the whole body's Content-Length, send only
                      truncate_to bytes of it, then close */
    size_t truncate_to;
    unsigned long long pad_to; /* > body length: declare this Content-Length and send the
                                  body followed by spaces; 0 = off */
} dt_server_fault;

#define DT_SERVER_MAX_DELAY_MS 120000L

typedef struct dt_server_response {
    int status;
    dt_buf headers; /* "name\0value\0" pairs, see dt_server_response_add_header */
    dt_buf body;
    dt_server_fault fault;
} dt_server_response;

/* 0 on success, -1 when out of memory. */
int dt_server_response_add_header(dt_server_response *resp, const char *name, const char *value);
int dt_server_response_set_body(dt_server_response *resp, const char *data, size_t len);

/* Fills resp (status, headers, body). Runs on the server thread. A handler that leaves
 * status 0 gets a generic 500 answer. */
typedef void (*dt_server_handler)(void *ctx, const dt_server_request *req,
                                  dt_server_response *resp);

typedef struct dt_server_config {
    const char *host;      /* loopback literal: 127.x.x.x, ::1 or "localhost" */
    int port;              /* 0 = let the kernel pick a free port */
    size_t max_body_bytes; /* larger bodies get 413 without reaching the handler */
    unsigned timeout_s;    /* idle connection timeout */
    dt_server_handler handler;
    void *handler_ctx;
} dt_server_config;

/* 1 if host is a loopback address literal or "localhost", else 0. */
int dt_server_host_is_loopback(const char *host);

/* Starts listening and serving. On failure returns NULL and writes a message to err. */
dt_server *dt_server_start(const dt_server_config *cfg, char *err, size_t err_len);
int dt_server_port(const dt_server *srv);
/* "http://127.0.0.1:PORT" (brackets for IPv6). */
const char *dt_server_url(const dt_server *srv);
/* Stops accepting, waits for the server thread to finish the request in progress, frees.
 * NULL is accepted. */
void dt_server_stop(dt_server *srv);

#endif
