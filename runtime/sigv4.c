/* sigv4.c: AWS Signature Version 4 signing and presigning (see sigv4.h).
 *
 * Follows the SigV4 rules as AWS documents them and as botocore and the JS SDK apply them
 * to every service but S3: double URI-encoding of the path, RFC 3986 encoding of query
 * names and values, lowercased and trimmed headers, and a signing key derived from the
 * secret by the HMAC chain date -> region -> service -> "aws4_request".
 *
 * Speed: a small request costs three SHA-256 runs (body, canonical request, the secret's
 * cache identity) and one HMAC; the four-HMAC key derivation happens once per day,
 * region and service thanks to a small cache keyed by a hash of the secret. Scratch
 * space lives in the caller's result, so a reused result allocates nothing.
 * Not here: reading clocks or credentials, sending, S3 rules, chunked payloads. */
#include "sigv4.h"
#include "civil_time.h"
#include "crypto.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

/* ------------------------------------------------------------------ scratch */

struct s_hdr {
    size_t name_off, name_len; /* lowercase name in scratch->names */
    const char *name;          /* set once names stop growing */
    const char *value;
    size_t order; /* position in the request, to keep duplicates in order */
};

struct s_pair {
    size_t key_off, key_len, val_off, val_len; /* encoded, in scratch->query */
    const char *base;                          /* scratch->query.data once complete */
};

struct dt_sigv4_scratch {
    struct s_hdr *hdrs;
    size_t n_hdrs, cap_hdrs;
    struct s_pair *pairs;
    size_t n_pairs, cap_pairs;
    dt_buf names;
    dt_buf query;
    dt_buf path;
    bool query_secret; /* query holds a session token (presign) */
    dt_sha256_ctx *md;
};

static void s_scratch_free(struct dt_sigv4_scratch *s) {
    if (!s) return;
    free(s->hdrs);
    free(s->pairs);
    dt_buf_free_secure(&s->names);
    dt_buf_free_secure(&s->query); /* may hold a session token (presign) */
    dt_buf_free(&s->path);
    dt_sha256_ctx_free(s->md);
    free(s);
}

static int s_grow(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p) return -1;
    *arr = p;
    *cap = n;
    return 0;
}

/* ------------------------------------------------------------------ result */

void dt_sigv4_request_init(dt_sigv4_request *req) {
    memset(req, 0, sizeof *req);
    req->normalize_path = true;
    req->sign_session_token = true;
    req->expires_s = 3600;
}

void dt_sigv4_result_init(dt_sigv4_result *res) {
    memset(res, 0, sizeof *res);
    dt_buf_init(&res->canonical_request, 0);
    dt_buf_init(&res->string_to_sign, 0);
    dt_buf_init(&res->signed_headers, 0);
    dt_buf_init(&res->credential_scope, 0);
    dt_buf_init(&res->authorization, 0);
    dt_buf_init(&res->url, 0);
    dt_buf_init(&res->host, 0);
    dt_buf_init(&res->session_token, 0);
}

void dt_sigv4_result_clean_up(dt_sigv4_result *res) {
    dt_buf_free_secure(&res->canonical_request);
    dt_buf_free_secure(&res->string_to_sign);
    dt_buf_free(&res->signed_headers);
    dt_buf_free(&res->credential_scope);
    dt_buf_free(&res->authorization);
    dt_buf_free_secure(&res->url);
    dt_buf_free(&res->host);
    dt_buf_free_secure(&res->session_token);
    s_scratch_free(res->scratch);
    res->scratch = NULL;
    res->n_added = 0;
}

static int s_fail(dt_sigv4_result *res, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(dt_sigv4_result *res, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->error, sizeof res->error, fmt, ap);
    va_end(ap);
    return code;
}

/* ------------------------------------------------------------------ encoding */

static const char s_hex_upper[] = "0123456789ABCDEF";

/* Room for n more bytes at the end of b: the caller writes there, then s_commit. */
static inline char *s_room(dt_buf *b, size_t n) {
    return dt_buf_reserve(b, n) == 0 ? b->data + b->len : NULL;
}

static inline void s_commit(dt_buf *b, char *end) {
    b->len = (size_t)(end - b->data);
    b->data[b->len] = '\0';
}

static inline int s_putc(dt_buf *b, char c) {
    char *p = s_room(b, 1);
    if (!p) return -1;
    *p++ = c;
    s_commit(b, p);
    return 0;
}

static inline int s_puts(dt_buf *b, const char *str) {
    return dt_buf_append(b, str, strlen(str));
}

/* RFC 3986 unreserved characters A-Z a-z 0-9 - _ . ~ as a bitmap of the ASCII range:
 * word 0 holds '-' '.' and the digits, word 1 the letters, '_' and '~'. */
static const uint64_t s_unreserved_bits[2] = {
    (1ULL << '-') | (1ULL << '.') | (0x3FFULL << '0'),
    (0x7FFFFFEULL << 0) | (1ULL << ('_' - 64)) | (0x7FFFFFEULL << 32) | (1ULL << ('~' - 64)),
};

static inline bool s_unreserved(unsigned char c) {
    return c < 128 && ((s_unreserved_bits[c >> 6] >> (c & 63)) & 1);
}

static inline char *s_encode_byte(char *p, unsigned char c, bool keep_slash) {
    if (s_unreserved(c) || (keep_slash && c == '/')) {
        *p++ = (char)c;
    } else {
        *p++ = '%';
        *p++ = s_hex_upper[c >> 4];
        *p++ = s_hex_upper[c & 15];
    }
    return p;
}

int dt_sigv4_uri_encode(dt_buf *out, const char *s, size_t len, bool keep_slash) {
    if (len > ((size_t)-1) / 4) return -1;
    char *p = s_room(out, 3 * len);
    if (!p) return -1;
    for (size_t i = 0; i < len; i++)
        p = s_encode_byte(p, (unsigned char)s[i], keep_slash);
    s_commit(out, p);
    return 0;
}

static int s_hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s and encodes the result in one pass. */
static int s_reencode(dt_buf *out, const char *s, size_t len) {
    if (len > ((size_t)-1) / 4) return -1;
    char *p = s_room(out, 3 * len);
    if (!p) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < len) {
            int hi = s_hexval((unsigned char)s[i + 1]), lo = s_hexval((unsigned char)s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (unsigned char)(hi << 4 | lo);
                i += 2;
            }
        }
        p = s_encode_byte(p, c, false);
    }
    s_commit(out, p);
    return 0;
}

int dt_sigv4_normalize_path(dt_buf *out, const char *path, size_t len) {
    if (len == 0) return s_putc(out, '/');
    /* Segments are kept as (offset, length) on a small stack so that ".." can pop. */
    size_t start_len = out->len;
    size_t stack_small[64];
    size_t *stack = stack_small, cap = 64, depth = 0;
    int rc = 0;
    if (path[0] == '/') rc = s_putc(out, '/');
    size_t i = 0;
    while (rc == 0 && i <= len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t seg = j - i;
        if (seg == 0 || (seg == 1 && path[i] == '.')) {
            /* empty segment (from "//") or ".": dropped */
        } else if (seg == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (depth > 0) {
                depth--;
                out->len = stack[depth];
                out->data[out->len] = '\0';
            }
        } else {
            if (depth == cap) {
                size_t *n = malloc(2 * cap * sizeof *n);
                if (!n) {
                    rc = -1;
                    break;
                }
                memcpy(n, stack, depth * sizeof *n);
                if (stack != stack_small) free(stack);
                stack = n;
                cap *= 2;
            }
            /* remember where this segment (with its separating '/') starts */
            size_t mark = out->len;
            bool need_sep = out->len > start_len && out->data[out->len - 1] != '/';
            stack[depth++] = mark;
            if (need_sep) rc = s_putc(out, '/');
            if (rc == 0) rc = dt_buf_append(out, path + i, seg);
        }
        i = j + 1;
    }
    if (rc == 0 && path[len - 1] == '/' && depth > 0) rc = s_putc(out, '/');
    if (stack != stack_small) free(stack);
    if (rc == 0 && out->len == start_len) rc = s_putc(out, '/');
    return rc;
}

/* ------------------------------------------------------------------ query */

static int s_pair_add(struct dt_sigv4_scratch *s, const char *k, size_t klen, const char *v,
                      size_t vlen, bool decode) {
    if (s_grow((void **)&s->pairs, &s->cap_pairs, s->n_pairs + 1, sizeof *s->pairs) != 0) return -1;
    struct s_pair *p = &s->pairs[s->n_pairs];
    p->key_off = s->query.len;
    if ((decode ? s_reencode(&s->query, k, klen)
                : dt_sigv4_uri_encode(&s->query, k, klen, false)) != 0)
        return -1;
    p->key_len = s->query.len - p->key_off;
    p->val_off = s->query.len;
    if ((decode ? s_reencode(&s->query, v, vlen)
                : dt_sigv4_uri_encode(&s->query, v, vlen, false)) != 0)
        return -1;
    p->val_len = s->query.len - p->val_off;
    s->n_pairs++;
    return 0;
}

static int s_pairs_parse(struct dt_sigv4_scratch *s, const char *q, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t klen = eq ? (size_t)(eq - (q + i)) : j - i;
            const char *v = eq ? eq + 1 : q + j;
            size_t vlen = eq ? (size_t)(q + j - v) : 0;
            if (s_pair_add(s, q + i, klen, v, vlen, true) != 0) return -1;
        }
        i = j + 1;
    }
    return 0;
}

static int s_cmp_bytes(const char *a, size_t alen, const char *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

static int s_pair_cmp(const void *pa, const void *pb) {
    const struct s_pair *a = pa, *b = pb;
    int c = s_cmp_bytes(a->base + a->key_off, a->key_len, b->base + b->key_off, b->key_len);
    if (c) return c;
    return s_cmp_bytes(a->base + a->val_off, a->val_len, b->base + b->val_off, b->val_len);
}

static int s_pairs_emit(struct dt_sigv4_scratch *s, dt_buf *out) {
    for (size_t i = 0; i < s->n_pairs; i++)
        s->pairs[i].base = s->query.data;
    if (s->n_pairs > 1) qsort(s->pairs, s->n_pairs, sizeof *s->pairs, s_pair_cmp);
    for (size_t i = 0; i < s->n_pairs; i++) {
        const struct s_pair *p = &s->pairs[i];
        if ((i && s_putc(out, '&') != 0) ||
            dt_buf_append(out, p->base + p->key_off, p->key_len) != 0 || s_putc(out, '=') != 0 ||
            dt_buf_append(out, p->base + p->val_off, p->val_len) != 0)
            return -1;
    }
    return 0;
}

int dt_sigv4_canonical_query(dt_buf *out, const char *query, size_t len) {
    struct dt_sigv4_scratch s;
    memset(&s, 0, sizeof s);
    dt_buf_init(&s.query, 0);
    int rc = s_pairs_parse(&s, query, len);
    if (rc == 0) rc = s_pairs_emit(&s, out);
    free(s.pairs);
    dt_buf_free_secure(&s.query); /* a presigned query carries X-Amz-Security-Token */
    return rc;
}

/* ------------------------------------------------------------------ time */

#define S_MAX_TIME_S 253402300799LL /* 9999-12-31T23:59:59Z */

int dt_sigv4_format_amz_date(int64_t time_s, char out[DT_SIGV4_AMZ_DATE_LEN + 1]) {
    if (time_s < 0 || time_s > S_MAX_TIME_S) return -1;
    int y, m, d;
    int64_t days = time_s / 86400, secs = time_s % 86400;
    dt_civil_from_days(days, &y, &m, &d);
    int hh = (int)(secs / 3600), mm = (int)(secs / 60 % 60), ss = (int)(secs % 60);
    int fields[] = {y / 100, y % 100, m, d, hh, mm, ss};
    char *o = out;
    for (int i = 0; i < 7; i++) {
        if (i == 4) *o++ = 'T';
        *o++ = (char)('0' + fields[i] / 10);
        *o++ = (char)('0' + fields[i] % 10);
    }
    *o++ = 'Z';
    *o = '\0';
    return 0;
}

static int s_digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int dt_sigv4_parse_amz_date(const char *s, int64_t *time_s) {
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != DT_SIGV4_AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z') return -1;
    int y = s_digits(s, 4), m = s_digits(s + 4, 2), d = s_digits(s + 6, 2);
    int hh = s_digits(s + 9, 2), mi = s_digits(s + 11, 2), ss = s_digits(s + 13, 2);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || hh < 0 || hh > 23 || mi < 0 ||
        mi > 59 || ss < 0 || ss > 59)
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap) return -1;
    *time_s = dt_days_from_civil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss;
    return 0;
}

/* ------------------------------------------------------------------ signing key cache */

/* A handful of entries covers a process signing for a few regions and credentials at
 * once; evicted and cleared entries are wiped. The secret itself is never stored: an
 * entry is found by SHA-256 of the secret. */
#define S_CACHE_SLOTS 8
#define S_CACHE_NAME_MAX 64

struct s_key_entry {
    bool used;
    uint64_t last_used;
    uint8_t secret_id[DT_SHA256_LEN];
    char date[9];
    char region[S_CACHE_NAME_MAX];
    char service[S_CACHE_NAME_MAX];
    uint8_t key[DT_SHA256_LEN];
};

static pthread_mutex_t s_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct s_key_entry s_cache[S_CACHE_SLOTS];
static uint64_t s_cache_clock;

void dt_sigv4_cache_clear(void) {
    pthread_mutex_lock(&s_cache_lock);
    dt_wipe(s_cache, sizeof s_cache);
    memset(s_cache, 0, sizeof s_cache);
    pthread_mutex_unlock(&s_cache_lock);
}

static bool s_entry_matches(const struct s_key_entry *e, const uint8_t id[DT_SHA256_LEN],
                            const char *date, const char *region, const char *service) {
    return e->used && memcmp(e->date, date, 8) == 0 && strcmp(e->region, region) == 0 &&
           strcmp(e->service, service) == 0 && CRYPTO_memcmp(e->secret_id, id, DT_SHA256_LEN) == 0;
}

static int s_derive_key(dt_sha256_ctx *md, const char *secret, const char *date8,
                        const char *region, const char *service, uint8_t key[DT_SHA256_LEN]) {
    size_t slen = strlen(secret);
    char small[256];
    char *ksecret = slen + 4 <= sizeof small ? small : malloc(slen + 4);
    if (!ksecret) return -1;
    memcpy(ksecret, "AWS4", 4);
    memcpy(ksecret + 4, secret, slen);
    uint8_t k[DT_SHA256_LEN];
    int rc = dt_hmac_sha256(md, ksecret, slen + 4, date8, 8, k);
    if (rc == 0) rc = dt_hmac_sha256(md, k, sizeof k, region, strlen(region), k);
    if (rc == 0) rc = dt_hmac_sha256(md, k, sizeof k, service, strlen(service), k);
    if (rc == 0) rc = dt_hmac_sha256(md, k, sizeof k, "aws4_request", 12, key);
    dt_wipe(k, sizeof k);
    dt_wipe(ksecret, slen + 4);
    if (ksecret != small) free(ksecret);
    return rc;
}

static int s_signing_key(dt_sha256_ctx *md, const char *secret, const char *date8,
                         const char *region, const char *service, uint8_t key[DT_SHA256_LEN]) {
    bool cacheable = strlen(region) < S_CACHE_NAME_MAX && strlen(service) < S_CACHE_NAME_MAX;
    if (!cacheable) return s_derive_key(md, secret, date8, region, service, key);
    uint8_t id[DT_SHA256_LEN];
    if (dt_sha256(md, secret, strlen(secret), id) != 0) return -1;
    pthread_mutex_lock(&s_cache_lock);
    for (int i = 0; i < S_CACHE_SLOTS; i++) {
        struct s_key_entry *e = &s_cache[i];
        if (s_entry_matches(e, id, date8, region, service)) {
            memcpy(key, e->key, DT_SHA256_LEN);
            e->last_used = ++s_cache_clock;
            pthread_mutex_unlock(&s_cache_lock);
            dt_wipe(id, sizeof id);
            return 0;
        }
    }
    pthread_mutex_unlock(&s_cache_lock);
    /* derive without holding the lock: another thread may insert the same key
     * meanwhile, which only costs a duplicate entry until it ages out */
    int rc = s_derive_key(md, secret, date8, region, service, key);
    if (rc == 0) {
        pthread_mutex_lock(&s_cache_lock);
        struct s_key_entry *victim = &s_cache[0];
        for (int i = 0; i < S_CACHE_SLOTS; i++) {
            if (!s_cache[i].used) {
                victim = &s_cache[i];
                break;
            }
            if (s_cache[i].last_used < victim->last_used) victim = &s_cache[i];
        }
        dt_wipe(victim, sizeof *victim);
        victim->used = true;
        victim->last_used = ++s_cache_clock;
        memcpy(victim->secret_id, id, sizeof id);
        memcpy(victim->date, date8, 8);
        victim->date[8] = '\0';
        memcpy(victim->region, region, strlen(region) + 1);
        memcpy(victim->service, service, strlen(service) + 1);
        memcpy(victim->key, key, DT_SHA256_LEN);
        pthread_mutex_unlock(&s_cache_lock);
    }
    dt_wipe(id, sizeof id);
    return rc;
}

/* ------------------------------------------------------------------ input checks */

static bool s_is_tchar(unsigned char c) {
    /* RFC 9110 token characters */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool s_is_token(const char *s) {
    if (!s || !*s) return false;
    for (; *s; s++)
        if (!s_is_tchar((unsigned char)*s)) return false;
    return true;
}

/* Scope parts and the key id go into "a/b/c" and a header value: printable, no '/',
 * no space, no ','. */
static bool s_is_scope_part(const char *s) {
    if (!s || !*s) return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',') return false;
    }
    return true;
}

static bool s_has_ctl(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
    return false;
}

static bool s_valid_payload_hash(const char *h) {
    size_t n = strlen(h);
    if (n == DT_SHA256_HEX_LEN) {
        size_t i = 0;
        while (i < n && ((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            i++;
        if (i == n) return true;
    }
    /* constants such as UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER */
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') || h[i] == '-'))
            return false;
    return true;
}

static int s_check(const dt_sigv4_request *req, dt_sigv4_result *res, bool presign) {
    if (!s_is_token(req->method))
        return s_fail(res, DT_SIGV4_EINVAL, "method: expected an HTTP method");
    if (!req->url || !*req->url) return s_fail(res, DT_SIGV4_EINVAL, "url: missing");
    if (!s_is_scope_part(req->region))
        return s_fail(res, DT_SIGV4_EINVAL, "region: expected a region name such as us-east-1");
    if (!s_is_scope_part(req->service))
        return s_fail(res, DT_SIGV4_EINVAL, "service: expected a signing name such as detective");
    const dt_sigv4_credentials *c = &req->credentials;
    if (!s_is_scope_part(c->access_key_id))
        return s_fail(res, DT_SIGV4_EINVAL,
                      "credentials.access_key_id: expected a key id (printable, no '/')");
    if (!c->secret_access_key || !*c->secret_access_key)
        return s_fail(res, DT_SIGV4_EINVAL, "credentials.secret_access_key: empty");
    if (c->session_token && s_has_ctl(c->session_token))
        return s_fail(res, DT_SIGV4_EINVAL,
                      "credentials.session_token: contains a control character");
    if (req->payload_hash && !s_valid_payload_hash(req->payload_hash))
        return s_fail(res, DT_SIGV4_EINVAL,
                      "payload_hash: expected 64 lowercase hex digits or UNSIGNED-PAYLOAD");
    if (req->n_headers && !req->headers)
        return s_fail(res, DT_SIGV4_EINVAL, "headers: NULL with a count");
    for (size_t i = 0; i < req->n_headers; i++) {
        if (!s_is_token(req->headers[i].name))
            return s_fail(res, DT_SIGV4_EINVAL, "headers[%zu]: invalid header name", i + 1);
        if (!req->headers[i].value)
            return s_fail(res, DT_SIGV4_EINVAL, "headers[%zu]: missing value", i + 1);
    }
    for (size_t i = 0; i < req->n_signed_headers; i++) {
        const char *n = req->signed_headers ? req->signed_headers[i] : NULL;
        bool ok = s_is_token(n);
        for (const char *p = n; ok && *p; p++)
            if (*p >= 'A' && *p <= 'Z') ok = false;
        if (!ok)
            return s_fail(res, DT_SIGV4_EINVAL,
                          "signed_headers[%zu]: expected a lowercase header name", i + 1);
    }
    if (req->body_len && !req->body)
        return s_fail(res, DT_SIGV4_EINVAL, "body: NULL with a length");
    if (presign && (req->expires_s < 1 || req->expires_s > DT_SIGV4_MAX_EXPIRES_S))
        return s_fail(res, DT_SIGV4_EINVAL, "expires: expected 1..%d seconds",
                      DT_SIGV4_MAX_EXPIRES_S);
    return DT_SIGV4_OK;
}

/* ------------------------------------------------------------------ URL */

struct s_url {
    const char *scheme;
    size_t scheme_len;
    const char *host; /* without userinfo and port */
    size_t host_len;
    const char *port; /* digits after ':' or NULL */
    size_t port_len;
    const char *path;
    size_t path_len;
    const char *query; /* after '?', NULL when none */
    size_t query_len;
    size_t end; /* length of the URL without its fragment */
};

static int s_parse_url(const char *url, struct s_url *u) {
    memset(u, 0, sizeof *u);
    const char *p = url;
    const char *sep = strstr(url, "://");
    const char *first_delim = url + strcspn(url, "/?#");
    if (sep && sep < first_delim) {
        u->scheme = url;
        u->scheme_len = (size_t)(sep - url);
        const char *a = sep + 3;
        const char *aend = a + strcspn(a, "/?#");
        const char *at = NULL;
        for (const char *q = a; q < aend; q++)
            if (*q == '@') at = q;
        if (at) a = at + 1;
        const char *hend = aend;
        if (*a == '[') {
            const char *rb = memchr(a, ']', (size_t)(aend - a));
            if (!rb) return -1;
            hend = rb + 1;
        } else {
            const char *colon = memchr(a, ':', (size_t)(aend - a));
            if (colon) hend = colon;
        }
        u->host = a;
        u->host_len = (size_t)(hend - a);
        if (hend < aend) {
            if (*hend != ':') return -1;
            u->port = hend + 1;
            u->port_len = (size_t)(aend - hend - 1);
            for (size_t i = 0; i < u->port_len; i++)
                if (u->port[i] < '0' || u->port[i] > '9') return -1;
        }
        if (u->host_len == 0) return -1;
        p = aend;
    } else if (*url != '/') {
        return -1;
    }
    u->path = p;
    u->path_len = strcspn(p, "?#");
    const char *q = p + u->path_len;
    if (*q == '?') {
        u->query = q + 1;
        u->query_len = strcspn(q + 1, "#");
        q = u->query + u->query_len;
    }
    u->end = (size_t)(q - url);
    return 0;
}

static bool s_ieq(const char *a, size_t alen, const char *b) {
    return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/* Host as an HTTP client sends it for this URL: lowercase, no userinfo, no default
 * port. */
static int s_host_from_url(const struct s_url *u, dt_buf *out) {
    for (size_t i = 0; i < u->host_len; i++) {
        char c = u->host[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (s_putc(out, c) != 0) return -1;
    }
    if (u->port_len) {
        bool dflt =
            (s_ieq(u->scheme, u->scheme_len, "https") && s_ieq(u->port, u->port_len, "443")) ||
            (s_ieq(u->scheme, u->scheme_len, "http") && s_ieq(u->port, u->port_len, "80"));
        if (!dflt && (s_putc(out, ':') != 0 || dt_buf_append(out, u->port, u->port_len) != 0))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ headers */

/* Headers AWS SDKs never sign: the Authorization being computed, values proxies and
 * clients rewrite (User-Agent, the X-Ray trace id, Expect) and hop-by-hop headers
 * (RFC 9110 7.6.1), which need not reach the service unchanged. */
static bool s_skipped(const char *lname, size_t len) {
#define S_NAME(x)                                                                                  \
    { x, sizeof x - 1 }
    static const struct {
        const char *name;
        size_t len;
    } skip[] = {
        S_NAME("authorization"),
        S_NAME("user-agent"),
        S_NAME("x-amzn-trace-id"),
        S_NAME("expect"),
        S_NAME("connection"),
        S_NAME("keep-alive"),
        S_NAME("proxy-authenticate"),
        S_NAME("proxy-authorization"),
        S_NAME("te"),
        S_NAME("trailer"),
        S_NAME("transfer-encoding"),
        S_NAME("upgrade"),
    };
#undef S_NAME
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (skip[i].len == len && memcmp(skip[i].name, lname, len) == 0) return true;
    return false;
}

static bool s_is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trimall: no leading or trailing whitespace, inner runs become one space. */
static int s_put_trimmed(dt_buf *out, const char *v) {
    char *p = s_room(out, strlen(v));
    if (!p) return -1;
    while (*v && s_is_ws(*v))
        v++;
    while (*v) {
        while (*v && !s_is_ws(*v))
            *p++ = *v++;
        while (*v && s_is_ws(*v))
            v++;
        if (*v) *p++ = ' ';
    }
    s_commit(out, p);
    return 0;
}

static int s_hdr_push(struct dt_sigv4_scratch *s, const char *name, const char *value) {
    if (s_grow((void **)&s->hdrs, &s->cap_hdrs, s->n_hdrs + 1, sizeof *s->hdrs) != 0) return -1;
    struct s_hdr *h = &s->hdrs[s->n_hdrs];
    h->name_off = s->names.len;
    size_t len = strlen(name);
    char *p = s_room(&s->names, len + 1);
    if (!p) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        p[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    p[len] = '\0';
    s_commit(&s->names, p + len + 1);
    h->name_len = len;
    h->value = value;
    h->order = s->n_hdrs;
    s->n_hdrs++;
    return 0;
}

static int s_hdr_cmp(const void *pa, const void *pb) {
    const struct s_hdr *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c) return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

static bool s_name_is(const struct s_hdr *h, const char *lname) {
    return strcmp(h->name, lname) == 0;
}

static bool s_name_eq_ci(const char *name, const char *lname) {
    return strcasecmp(name, lname) == 0;
}

/* ------------------------------------------------------------------ the signer */

struct s_generated {
    const char *name; /* lowercase */
    const char *value;
};

static int s_sign(const dt_sigv4_request *req, dt_sigv4_result *res, bool presign) {
    res->error[0] = '\0';
    res->n_added = 0;
    res->signature[0] = '\0';
    dt_buf_reset(&res->canonical_request);
    dt_buf_reset(&res->string_to_sign);
    dt_buf_reset(&res->signed_headers);
    dt_buf_reset(&res->credential_scope);
    dt_buf_reset(&res->authorization);
    dt_buf_reset(&res->url);
    dt_buf_reset(&res->host);
    if (res->session_token.len) dt_wipe(res->session_token.data, res->session_token.len);
    dt_buf_reset(&res->session_token);

    int rc = s_check(req, res, presign);
    if (rc != DT_SIGV4_OK) return rc;
    if (!res->scratch) {
        res->scratch = calloc(1, sizeof *res->scratch);
        if (!res->scratch) return s_fail(res, DT_SIGV4_ENOMEM, "out of memory");
        dt_buf_init(&res->scratch->names, 0);
        dt_buf_init(&res->scratch->query, 0);
        dt_buf_init(&res->scratch->path, 0);
    }
    struct dt_sigv4_scratch *s = res->scratch;
    if (!s->md && !(s->md = dt_sha256_ctx_new()))
        return s_fail(res, DT_SIGV4_ECRYPTO, "SHA-256 unavailable");
    s->n_hdrs = 0;
    s->n_pairs = 0;
    dt_buf_reset(&s->names);
    if (s->query_secret && s->query.len) dt_wipe(s->query.data, s->query.len);
    s->query_secret = false;
    dt_buf_reset(&s->query);
    dt_buf_reset(&s->path);

    struct s_url u;
    if (s_parse_url(req->url, &u) != 0)
        return s_fail(res, DT_SIGV4_EINVAL,
                      "url: expected scheme://host[:port]/path?query or /path?query");
    if (dt_sigv4_format_amz_date(req->time_s, res->amz_date) != 0)
        return s_fail(res, DT_SIGV4_EINVAL, "time: outside 1970..9999");

    const char *token = req->credentials.session_token;
    bool has_token = token && *token;
    bool sign_token = has_token && req->sign_session_token;
    if (has_token && s_puts(&res->session_token, token) != 0) goto nomem;

    /* payload hash */
    if (req->payload_hash) {
        memcpy(res->payload_hash, req->payload_hash, strlen(req->payload_hash) + 1);
    } else if (req->body_len == 0) {
        /* sha256("") */
        memcpy(res->payload_hash,
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 65);
    } else if (dt_sha256_hex(s->md, req->body, req->body_len, res->payload_hash) != 0) {
        goto crypto;
    }

    /* host: the first Host header when given, else the URL's authority */
    bool host_given = false;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (s_name_eq_ci(req->headers[i].name, "host")) {
            if (s_put_trimmed(&res->host, req->headers[i].value) != 0) goto nomem;
            host_given = true;
            break;
        }
    }
    if (!host_given) {
        if (!u.host)
            return s_fail(res, DT_SIGV4_EINVAL,
                          "url: has no host (give an absolute URL or a Host header)");
        if (s_host_from_url(&u, &res->host) != 0) goto nomem;
    }

    /* headers the signer adds; they replace request headers of the same name */
    struct s_generated gen[4];
    size_t n_gen = 0;
    if (!host_given) gen[n_gen++] = (struct s_generated){"host", res->host.data};
    if (!presign) {
        gen[n_gen++] = (struct s_generated){"x-amz-date", res->amz_date};
        if (sign_token) gen[n_gen++] = (struct s_generated){"x-amz-security-token", token};
        if (req->content_sha256_header)
            gen[n_gen++] = (struct s_generated){"x-amz-content-sha256", res->payload_hash};
    }

    bool explicit_list = req->signed_headers != NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *name = req->headers[i].name;
        bool replaced = false;
        for (size_t g = 0; g < n_gen && !replaced; g++)
            replaced = s_name_eq_ci(name, gen[g].name);
        /* the token travels separately (added after signing, or in the query) */
        if (has_token && (presign || !sign_token) && s_name_eq_ci(name, "x-amz-security-token"))
            replaced = true;
        if (replaced) continue;
        if (s_hdr_push(s, name, req->headers[i].value) != 0) goto nomem;
        if (!explicit_list && s_skipped(s->names.data + s->hdrs[s->n_hdrs - 1].name_off,
                                        s->hdrs[s->n_hdrs - 1].name_len)) {
            s->n_hdrs--;
            s->names.len = s->hdrs[s->n_hdrs].name_off;
            s->names.data[s->names.len] = '\0';
        }
    }
    for (size_t g = 0; g < n_gen; g++)
        if (s_hdr_push(s, gen[g].name, gen[g].value) != 0) goto nomem;
    for (size_t i = 0; i < s->n_hdrs; i++)
        s->hdrs[i].name = s->names.data + s->hdrs[i].name_off;
    if (s->n_hdrs > 1) qsort(s->hdrs, s->n_hdrs, sizeof *s->hdrs, s_hdr_cmp);

    /* keep only the listed names when the caller says which were signed */
    if (explicit_list) {
        size_t kept = 0;
        for (size_t i = 0; i < s->n_hdrs; i++) {
            bool listed = false;
            for (size_t k = 0; k < req->n_signed_headers && !listed; k++)
                listed = s_name_is(&s->hdrs[i], req->signed_headers[k]);
            if (listed) s->hdrs[kept++] = s->hdrs[i];
        }
        s->n_hdrs = kept;
        for (size_t k = 0; k < req->n_signed_headers; k++) {
            bool found = false;
            for (size_t i = 0; i < s->n_hdrs && !found; i++)
                found = s_name_is(&s->hdrs[i], req->signed_headers[k]);
            if (!found)
                return s_fail(res, DT_SIGV4_EINVAL, "signed_headers: '%.64s' is not in the request",
                              req->signed_headers[k]);
        }
    }

    /* signed headers list: distinct names in order */
    for (size_t i = 0; i < s->n_hdrs; i++) {
        if (i > 0 && s_name_is(&s->hdrs[i], s->hdrs[i - 1].name)) continue;
        if ((res->signed_headers.len && s_putc(&res->signed_headers, ';') != 0) ||
            dt_buf_append(&res->signed_headers, s->hdrs[i].name, s->hdrs[i].name_len) != 0)
            goto nomem;
    }

    /* credential scope */
    dt_buf *scope = &res->credential_scope;
    if (dt_buf_append(scope, res->amz_date, 8) != 0 || s_putc(scope, '/') != 0 ||
        s_puts(scope, req->region) != 0 || s_putc(scope, '/') != 0 ||
        s_puts(scope, req->service) != 0 || s_puts(scope, "/aws4_request") != 0)
        goto nomem;

    /* --- canonical request */
    dt_buf *cr = &res->canonical_request;
    {
        size_t mlen = strlen(req->method);
        char *p = s_room(cr, mlen + 1);
        if (!p) goto nomem;
        for (size_t i = 0; i < mlen; i++) {
            char c = req->method[i];
            *p++ = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
        }
        *p++ = '\n';
        s_commit(cr, p);
    }
    const char *path = u.path;
    size_t path_len = u.path_len;
    if (req->normalize_path) {
        if (dt_sigv4_normalize_path(&s->path, path, path_len) != 0) goto nomem;
        path = s->path.data;
        path_len = s->path.len;
    } else if (path_len == 0) {
        path = "/";
        path_len = 1;
    }
    if (dt_sigv4_uri_encode(cr, path, path_len, true) != 0 || s_putc(cr, '\n') != 0) goto nomem;

    if (u.query && s_pairs_parse(s, u.query, u.query_len) != 0) goto nomem;
    size_t first_auth_pair = s->n_pairs;
    if (presign) {
        char expires[24];
        snprintf(expires, sizeof expires, "%lld", (long long)req->expires_s);
        char credential[512];
        int n = snprintf(credential, sizeof credential, "%s/%s", req->credentials.access_key_id,
                         res->credential_scope.data);
        if (n < 0 || (size_t)n >= sizeof credential)
            return s_fail(res, DT_SIGV4_EINVAL, "credentials.access_key_id: too long");
        if (s_pair_add(s, "X-Amz-Algorithm", 15, DT_SIGV4_ALGORITHM, strlen(DT_SIGV4_ALGORITHM),
                       false) != 0 ||
            s_pair_add(s, "X-Amz-Credential", 16, credential, (size_t)n, false) != 0 ||
            s_pair_add(s, "X-Amz-Date", 10, res->amz_date, DT_SIGV4_AMZ_DATE_LEN, false) != 0 ||
            s_pair_add(s, "X-Amz-Expires", 13, expires, strlen(expires), false) != 0 ||
            s_pair_add(s, "X-Amz-SignedHeaders", 19, res->signed_headers.data,
                       res->signed_headers.len, false) != 0 ||
            (sign_token &&
             s_pair_add(s, "X-Amz-Security-Token", 20, token, strlen(token), false) != 0))
            goto nomem;
        s->query_secret = sign_token;
        /* the URL gets the same encoded pairs, in this order, before sorting moves them */
        if (dt_buf_append(&res->url, req->url, u.end) != 0) goto nomem;
        char last = u.end ? req->url[u.end - 1] : '\0';
        const char *join = !u.query ? "?" : (last == '?' || last == '&') ? "" : "&";
        if (s_puts(&res->url, join) != 0) goto nomem;
        for (size_t i = first_auth_pair; i < s->n_pairs; i++) {
            const struct s_pair *p = &s->pairs[i];
            if ((i > first_auth_pair && s_putc(&res->url, '&') != 0) ||
                dt_buf_append(&res->url, s->query.data + p->key_off, p->key_len) != 0 ||
                s_putc(&res->url, '=') != 0 ||
                dt_buf_append(&res->url, s->query.data + p->val_off, p->val_len) != 0)
                goto nomem;
        }
    }
    if (s_pairs_emit(s, cr) != 0 || s_putc(cr, '\n') != 0) goto nomem;

    for (size_t i = 0; i < s->n_hdrs; i++) {
        const struct s_hdr *h = &s->hdrs[i];
        bool cont = i > 0 && s_name_is(h, s->hdrs[i - 1].name);
        if (cont) {
            if (s_putc(cr, ',') != 0) goto nomem;
        } else {
            if ((i > 0 && s_putc(cr, '\n') != 0) || dt_buf_append(cr, h->name, h->name_len) != 0 ||
                s_putc(cr, ':') != 0)
                goto nomem;
        }
        if (s_put_trimmed(cr, h->value) != 0) goto nomem;
    }
    if (s_puts(cr, s->n_hdrs ? "\n\n" : "\n") != 0 ||
        dt_buf_append(cr, res->signed_headers.data, res->signed_headers.len) != 0 ||
        s_putc(cr, '\n') != 0 || s_puts(cr, res->payload_hash) != 0)
        goto nomem;

    /* --- string to sign */
    char cr_hash[DT_SHA256_HEX_LEN + 1];
    if (dt_sha256_hex(s->md, cr->data, cr->len, cr_hash) != 0) goto crypto;
    dt_buf *sts = &res->string_to_sign;
    if (s_puts(sts, DT_SIGV4_ALGORITHM "\n") != 0 ||
        dt_buf_append(sts, res->amz_date, DT_SIGV4_AMZ_DATE_LEN) != 0 || s_putc(sts, '\n') != 0 ||
        dt_buf_append(sts, res->credential_scope.data, res->credential_scope.len) != 0 ||
        s_putc(sts, '\n') != 0 || dt_buf_append(sts, cr_hash, DT_SHA256_HEX_LEN) != 0)
        goto nomem;

    /* --- signature */
    uint8_t key[DT_SHA256_LEN], sig[DT_SHA256_LEN];
    rc = s_signing_key(s->md, req->credentials.secret_access_key, res->amz_date, req->region,
                       req->service, key);
    if (rc == 0) rc = dt_hmac_sha256(s->md, key, sizeof key, sts->data, sts->len, sig);
    dt_wipe(key, sizeof key);
    if (rc != 0) goto crypto;
    dt_hex_encode(sig, sizeof sig, res->signature);

    /* --- outputs */
    if (!host_given) res->added[res->n_added++] = (dt_sigv4_added_header){"Host", res->host.data};
    if (presign) {
        if (s_puts(&res->url, "&X-Amz-Signature=") != 0 || s_puts(&res->url, res->signature) != 0)
            goto nomem;
        if (has_token && !sign_token) {
            if (s_puts(&res->url, "&X-Amz-Security-Token=") != 0 ||
                dt_sigv4_uri_encode(&res->url, token, strlen(token), false) != 0)
                goto nomem;
        }
        return DT_SIGV4_OK;
    }
    dt_buf *auth = &res->authorization;
    if (s_puts(auth, DT_SIGV4_ALGORITHM " Credential=") != 0 ||
        s_puts(auth, req->credentials.access_key_id) != 0 || s_putc(auth, '/') != 0 ||
        dt_buf_append(auth, res->credential_scope.data, res->credential_scope.len) != 0 ||
        s_puts(auth, ", SignedHeaders=") != 0 ||
        dt_buf_append(auth, res->signed_headers.data, res->signed_headers.len) != 0 ||
        s_puts(auth, ", Signature=") != 0 || dt_buf_append(auth, res->signature, 64) != 0)
        goto nomem;
    res->added[res->n_added++] = (dt_sigv4_added_header){"X-Amz-Date", res->amz_date};
    if (has_token)
        res->added[res->n_added++] =
            (dt_sigv4_added_header){"X-Amz-Security-Token", res->session_token.data};
    if (req->content_sha256_header)
        res->added[res->n_added++] =
            (dt_sigv4_added_header){"X-Amz-Content-Sha256", res->payload_hash};
    res->added[res->n_added++] = (dt_sigv4_added_header){"Authorization", res->authorization.data};
    return DT_SIGV4_OK;

nomem:
    return s_fail(res, DT_SIGV4_ENOMEM, "out of memory");
crypto:
    return s_fail(res, DT_SIGV4_ECRYPTO, "OpenSSL SHA-256/HMAC failed");
}

int dt_sigv4_sign(const dt_sigv4_request *req, dt_sigv4_result *res) {
    return s_sign(req, res, false);
}

int dt_sigv4_presign(const dt_sigv4_request *req, dt_sigv4_result *res) {
    return s_sign(req, res, true);
}
