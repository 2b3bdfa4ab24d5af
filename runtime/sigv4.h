/* sigv4.h: AWS Signature Version 4 (HMAC-SHA256) for one HTTP request, in stages:
 * canonical request -> string to sign -> signature, then either the headers to add
 * (Authorization, X-Amz-Date, ...) or a presigned URL (query authentication).
 *
 * The rules are those of the non-S3 services: the URL path is taken as it goes on the
 * wire and URI-encoded once more; query parameters are decoded and re-encoded; the
 * derived signing key is cached per (secret, date, region, service). Plain C: it reads
 * no clock, no environment and no credentials source, and sends nothing; the caller
 * passes the time and the credentials. Chunked (streaming) payload signing, SigV4a and
 * S3's single-encoding rules are not implemented. */
#ifndef DT_SIGV4_H
#define DT_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DT_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define DT_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define DT_SIGV4_AMZ_DATE_LEN 16      /* "20150830T123600Z" */
#define DT_SIGV4_MAX_EXPIRES_S 604800 /* 7 days: the longest presign AWS accepts */

enum {
    DT_SIGV4_OK = 0,
    DT_SIGV4_EINVAL = -1, /* a caller mistake; the result's error says which input */
    DT_SIGV4_ENOMEM = -2,
    DT_SIGV4_ECRYPTO = -3, /* OpenSSL failed */
};

/* One header as the caller has it (any case, value untrimmed). NUL-terminated. */
typedef struct dt_sigv4_header {
    const char *name;
    const char *value;
} dt_sigv4_header;

typedef struct dt_sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" when the credentials have none */
} dt_sigv4_credentials;

typedef struct dt_sigv4_request {
    const char *method; /* uppercased for signing */
    /* "scheme://host[:port]/path?query" or origin-form "/path?query" (then a Host
     * header is required). The path and query are as they go on the wire; a fragment
     * is ignored. */
    const char *url;
    const dt_sigv4_header *headers; /* duplicates and order kept */
    size_t n_headers;
    const void *body; /* hashed unless payload_hash is set; NULL = empty */
    size_t body_len;
    const char *region;
    const char *service;
    dt_sigv4_credentials credentials;
    int64_t time_s; /* signing time, seconds since the epoch (UTC) */

    /* options (dt_sigv4_request_init sets the defaults) */
    bool normalize_path;        /* true: remove "." / ".." segments and empty ones */
    bool sign_session_token;    /* false: the token header/parameter is added unsigned */
    bool content_sha256_header; /* true: add and sign X-Amz-Content-Sha256 (header mode) */
    /* 64 lowercase hex digits or an upper-case constant such as "UNSIGNED-PAYLOAD":
     * used as the payload hash instead of hashing body. NULL = hash body. */
    const char *payload_hash;
    /* When set: sign exactly these (lowercase) header names, taking values from the
     * headers above and the ones the signer adds; every name must be present. The skip
     * list does not apply. Used to verify a received request. */
    const char *const *signed_headers;
    size_t n_signed_headers;
    int64_t expires_s; /* presign: X-Amz-Expires, 1..DT_SIGV4_MAX_EXPIRES_S */
} dt_sigv4_request;

/* A header the caller must add to the request; the value points into the result. */
typedef struct dt_sigv4_added_header {
    const char *name;
    const char *value;
} dt_sigv4_added_header;

struct dt_sigv4_scratch;

/* Outputs. Reuse one result across calls to avoid allocations: buffers keep their
 * capacity, and everything is rewritten by each call. */
typedef struct dt_sigv4_result {
    dt_buf canonical_request;
    dt_buf string_to_sign;
    dt_buf signed_headers;   /* "host;x-amz-date" */
    dt_buf credential_scope; /* "20150830/us-east-1/service/aws4_request" */
    dt_buf authorization;    /* header mode: the Authorization value */
    dt_buf url;              /* presign: the URL with the authentication parameters */
    dt_buf host;             /* the host signed (from the Host header or the URL) */
    dt_buf session_token;    /* copy of the token, the value of its added header */
    char signature[65];      /* lowercase hex */
    char amz_date[DT_SIGV4_AMZ_DATE_LEN + 1];
    char payload_hash[65];
    /* Header mode: Host (when absent from the request), X-Amz-Date,
     * X-Amz-Security-Token, X-Amz-Content-Sha256 (when asked), Authorization, in this
     * order. Presign: Host when absent. */
    dt_sigv4_added_header added[5];
    size_t n_added;
    char error[256]; /* why the last call failed; never holds a secret */
    struct dt_sigv4_scratch *scratch;
} dt_sigv4_result;

/* Zeroes the request and sets the defaults: normalize_path = true,
 * sign_session_token = true, content_sha256_header = false, expires_s = 3600. */
void dt_sigv4_request_init(dt_sigv4_request *req);

void dt_sigv4_result_init(dt_sigv4_result *res);
/* Wipes (the canonical request may hold the session token) and frees. Idempotent. */
void dt_sigv4_result_clean_up(dt_sigv4_result *res);

/* Header (Authorization) signing. Returns DT_SIGV4_OK or a negative DT_SIGV4_E*, with
 * res->error set. Safe to call from several threads with distinct results. */
int dt_sigv4_sign(const dt_sigv4_request *req, dt_sigv4_result *res);
/* Query signing: res->url receives the URL (fragment dropped) with X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 * X-Amz-Security-Token and X-Amz-Signature appended. X-Amz-Date is not a header here
 * and content_sha256_header does not apply. */
int dt_sigv4_presign(const dt_sigv4_request *req, dt_sigv4_result *res);

/* --- the pieces, exposed for tests and for the emulator's verification --- */

/* Appends the RFC 3986 encoding of s: A-Z a-z 0-9 - _ . ~ stay, every other byte
 * becomes %XX (upper-case hex); '/' stays when keep_slash. */
int dt_sigv4_uri_encode(dt_buf *out, const char *s, size_t len, bool keep_slash);
/* Appends the path with "." and ".." segments resolved and empty segments dropped, as
 * the AWS SDKs do it: a leading '/' is kept, a trailing '/' is kept when segments
 * remain, "" becomes "/". */
int dt_sigv4_normalize_path(dt_buf *out, const char *path, size_t len);
/* Appends the canonical query string of a raw query (without '?'): pieces split on
 * '&', empty pieces dropped, name and value split on the first '=', both
 * percent-decoded (invalid escapes kept as they are; '+' is a plus) and re-encoded,
 * pairs sorted by encoded name then value, "name=" for an empty value. */
int dt_sigv4_canonical_query(dt_buf *out, const char *query, size_t len);

/* "20150830T123600Z" of epoch seconds; -1 outside years 1970..9999. */
int dt_sigv4_format_amz_date(int64_t time_s, char out[DT_SIGV4_AMZ_DATE_LEN + 1]);
/* Reads "YYYYMMDDTHHMMSSZ" (X-Amz-Date). 0 on success, -1 otherwise. */
int dt_sigv4_parse_amz_date(const char *s, int64_t *time_s);

/* Wipes and empties the signing key cache (tests, or after credentials rotate). */
void dt_sigv4_cache_clear(void);

#endif
