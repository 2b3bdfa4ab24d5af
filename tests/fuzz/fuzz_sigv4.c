/* fuzz_sigv4.c: libFuzzer target for the SigV4 canonicalizer and signer (runtime/sigv4.c).
 *
 * First byte, low two bits: 0 path normalization, 1 URI encoding, 2 canonical query, 3 a
 * whole request signed (bits 2-7: presign, region, session token, path normalization off,
 * token unsigned, X-Amz-Content-Sha256). The rest is the raw input, or for mode 3 a message
 * (fuzz_util.h): method line, URL line, headers, empty line, body. Three pseudo-headers are
 * options, not sent: "x-fuzz-signed-headers: a;b" (an explicit signed-header list, the
 * verifier's path), "x-fuzz-payload-hash: h" and "x-fuzz-expires: seconds".
 *
 * Besides "no crash", it checks properties the rules imply: normalization and canonical
 * query are idempotent, URI encoding leaves only unreserved bytes and %XX escapes, and
 * signing is deterministic (the second call goes through the signing-key cache). */
#include "fuzz_util.h"
#include "sigv4.h"

#include <ctype.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_unreserved(unsigned char c) {
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void s_check_encoding(const dt_buf *b, int keep_slash) {
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        if (c == '%') {
            FZ_CHECK(i + 2 < b->len && isxdigit((unsigned char)b->data[i + 1]) &&
                         isxdigit((unsigned char)b->data[i + 2]) &&
                         !islower((unsigned char)b->data[i + 1]) &&
                         !islower((unsigned char)b->data[i + 2]),
                     "bad escape at %zu", i);
            i += 2;
        } else {
            FZ_CHECK(s_unreserved(c) || (keep_slash && c == '/'), "byte 0x%02x left unencoded", c);
        }
    }
}

static int s_same(const dt_buf *a, const dt_buf *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void s_pieces(int mode, const char *in, size_t len) {
    dt_buf a, b;
    dt_buf_init(&a, 0);
    dt_buf_init(&b, 0);
    if (mode == 0) {
        if (dt_sigv4_normalize_path(&a, in, len) == 0 &&
            dt_sigv4_normalize_path(&b, a.data, a.len) == 0) {
            FZ_CHECK(a.len > 0, "empty normalized path");
            FZ_CHECK(s_same(&a, &b), "normalization not idempotent: '%s' -> '%s'", a.data, b.data);
            FZ_CHECK(strstr(a.data, "//") == NULL, "empty segment left: '%s'", a.data);
        }
    } else if (mode == 1) {
        int keep = len > 0 && (in[0] & 1);
        if (dt_sigv4_uri_encode(&a, in, len, keep) == 0) {
            FZ_CHECK(a.len >= len && a.len <= 3 * len, "encoded length %zu for %zu", a.len, len);
            s_check_encoding(&a, keep);
        }
    } else {
        if (dt_sigv4_canonical_query(&a, in, len) == 0 &&
            dt_sigv4_canonical_query(&b, a.data, a.len) == 0) {
            FZ_CHECK(s_same(&a, &b), "canonical query not idempotent: '%s' -> '%s'", a.data,
                     b.data);
        }
    }
    dt_buf_free(&a);
    dt_buf_free(&b);
}

static void s_sign(int flags, const uint8_t *data, size_t size) {
    fz_msg m;
    if (fz_msg_parse(&m, data, size) != 0) return;
    dt_sigv4_header headers[FZ_MAX_HEADERS];
    size_t n = 0;
    const char *signed_list = NULL;
    const char *payload_hash = NULL, *expires = NULL;
    for (size_t i = 0; i < m.n_headers; i++) {
        const char *name = m.headers[i].name;
        if (strcasecmp(name, "x-fuzz-signed-headers") == 0) {
            signed_list = m.headers[i].value;
        } else if (strcasecmp(name, "x-fuzz-payload-hash") == 0) {
            payload_hash = m.headers[i].value;
        } else if (strcasecmp(name, "x-fuzz-expires") == 0) {
            expires = m.headers[i].value;
        } else {
            headers[n].name = name;
            headers[n].value = m.headers[i].value;
            n++;
        }
    }
    /* "a;b;c" -> {"a", "b", "c"} in a scratch copy */
    char *names_copy = signed_list ? strdup(signed_list) : NULL;
    const char *names[FZ_MAX_HEADERS];
    size_t n_names = 0;
    if (names_copy) {
        for (char *save = NULL, *t = strtok_r(names_copy, ";", &save);
             t && n_names < FZ_MAX_HEADERS; t = strtok_r(NULL, ";", &save))
            names[n_names++] = t;
    }

    dt_sigv4_request req;
    dt_sigv4_request_init(&req);
    req.method = m.start;
    req.url = m.target;
    req.headers = headers;
    req.n_headers = n;
    req.body = m.body;
    req.body_len = m.body_len;
    req.region = (flags & 0x02) ? "eu-west-3" : "us-east-1";
    req.service = "detective";
    req.credentials.access_key_id = "AKIDEXAMPLE";
    req.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    req.credentials.session_token = (flags & 0x04) ? "FQoGZXIvYXdzEXAMPLETOKEN==" : NULL;
    req.time_s = 1440938160;
    req.normalize_path = (flags & 0x08) == 0;
    req.sign_session_token = (flags & 0x10) == 0;
    req.content_sha256_header = (flags & 0x20) != 0;
    req.payload_hash = payload_hash;
    if (expires) req.expires_s = strtoll(expires, NULL, 10);
    if (names_copy) {
        req.signed_headers = names;
        req.n_signed_headers = n_names;
    }
    int presign = (flags & 0x01) != 0;

    dt_sigv4_result r1, r2;
    dt_sigv4_result_init(&r1);
    dt_sigv4_result_init(&r2);
    int rc1 = presign ? dt_sigv4_presign(&req, &r1) : dt_sigv4_sign(&req, &r1);
    if (rc1 == DT_SIGV4_OK) {
        FZ_CHECK(strlen(r1.signature) == 64, "signature '%s'", r1.signature);
        int rc2 = presign ? dt_sigv4_presign(&req, &r2) : dt_sigv4_sign(&req, &r2);
        FZ_CHECK(rc2 == DT_SIGV4_OK, "second signing failed: %s", r2.error);
        FZ_CHECK(strcmp(r1.signature, r2.signature) == 0, "signing is not deterministic");
        FZ_CHECK(s_same(&r1.canonical_request, &r2.canonical_request),
                 "canonical request differs between calls");
    } else {
        FZ_CHECK(r1.error[0] != '\0', "failure %d without a message", rc1);
    }
    dt_sigv4_result_clean_up(&r1);
    dt_sigv4_result_clean_up(&r2);
    free(names_copy);
    fz_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] & 3;
    if (mode == 3)
        s_sign(data[0] >> 2, data + 1, size - 1);
    else
        s_pieces(mode, (const char *)data + 1, size - 1);
    return 0;
}
