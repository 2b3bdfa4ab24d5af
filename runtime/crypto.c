/* crypto.c: SHA-256, HMAC-SHA256, SHA-1 hex (cache file names only), hex, base64, random
 * bytes and UUIDs (see crypto.h).
 *
 * SHA-256 is fetched from OpenSSL's default provider once per process: an implicit fetch
 * on every digest costs a locked table lookup, which is most of the time of a short
 * hash. HMAC is built here from that digest (RFC 2104) so that a caller's reusable
 * context serves both, with no MAC object to allocate per call. Key pads and inner
 * digests are wiped after use. Knows nothing of Lua. */
#include "crypto.h"
#include "buf.h"

#include <pthread.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define S_BLOCK 64 /* SHA-256 block size, the HMAC pad length */

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static EVP_MD *s_sha256;
static EVP_MD *s_sha1;

static void s_fetch(void) {
    s_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    s_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static const EVP_MD *s_md(void) {
    pthread_once(&s_once, s_fetch);
    return s_sha256;
}

dt_sha256_ctx *dt_sha256_ctx_new(void) {
    if (!s_md()) return NULL;
    return (dt_sha256_ctx *)EVP_MD_CTX_new();
}

void dt_sha256_ctx_free(dt_sha256_ctx *ctx) {
    EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
}

/* Runs digest over up to two pieces (HMAC's pad then message). */
static int s_digest2(EVP_MD_CTX *c, const void *a, size_t alen, const void *b, size_t blen,
                     uint8_t out[DT_SHA256_LEN]) {
    unsigned int n = 0;
    if (EVP_DigestInit_ex2(c, s_md(), NULL) != 1) return -1;
    if (alen && EVP_DigestUpdate(c, a, alen) != 1) return -1;
    if (blen && EVP_DigestUpdate(c, b, blen) != 1) return -1;
    if (EVP_DigestFinal_ex(c, out, &n) != 1 || n != DT_SHA256_LEN) return -1;
    return 0;
}

int dt_sha256(dt_sha256_ctx *ctx, const void *data, size_t len, uint8_t out[DT_SHA256_LEN]) {
    if (!s_md()) return -1;
    EVP_MD_CTX *c = ctx ? (EVP_MD_CTX *)ctx : EVP_MD_CTX_new();
    if (!c) return -1;
    int rc = s_digest2(c, data, len, NULL, 0, out);
    if (!ctx) EVP_MD_CTX_free(c);
    return rc;
}

int dt_sha256_hex(dt_sha256_ctx *ctx, const void *data, size_t len,
                  char out[DT_SHA256_HEX_LEN + 1]) {
    uint8_t md[DT_SHA256_LEN];
    if (dt_sha256(ctx, data, len, md) != 0) return -1;
    dt_hex_encode(md, sizeof md, out);
    return 0;
}

int dt_sha1_hex(const void *data, size_t len, char out[DT_SHA1_HEX_LEN + 1]) {
    pthread_once(&s_once, s_fetch);
    if (!s_sha1) return -1;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, s_sha1, NULL) != 1 || n * 2 != DT_SHA1_HEX_LEN) return -1;
    dt_hex_encode(md, n, out);
    return 0;
}

int dt_hmac_sha256(dt_sha256_ctx *ctx, const void *key, size_t key_len, const void *msg,
                   size_t msg_len, uint8_t out[DT_SHA256_LEN]) {
    if (!s_md()) return -1;
    EVP_MD_CTX *c = ctx ? (EVP_MD_CTX *)ctx : EVP_MD_CTX_new();
    if (!c) return -1;
    uint8_t pad[S_BLOCK], inner[DT_SHA256_LEN];
    int rc = 0;
    memset(pad, 0, sizeof pad);
    if (key_len > S_BLOCK)
        rc = s_digest2(c, key, key_len, NULL, 0, pad);
    else if (key_len)
        memcpy(pad, key, key_len);
    if (rc == 0) {
        for (int i = 0; i < S_BLOCK; i++)
            pad[i] ^= 0x36;
        rc = s_digest2(c, pad, S_BLOCK, msg, msg_len, inner);
    }
    if (rc == 0) {
        /* 0x36 ^ 0x5c turns the inner pad into the outer one */
        for (int i = 0; i < S_BLOCK; i++)
            pad[i] ^= 0x36 ^ 0x5c;
        rc = s_digest2(c, pad, S_BLOCK, inner, sizeof inner, out);
    }
    dt_wipe(pad, sizeof pad);
    dt_wipe(inner, sizeof inner);
    if (!ctx) EVP_MD_CTX_free(c);
    return rc;
}

void dt_hex_encode(const void *data, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t dt_base64_encode(const void *data, size_t len, char *out) {
    const uint8_t *p = data;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = s_b64[(v >> 6) & 63];
        out[o++] = s_b64[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = s_b64[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int s_b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int dt_base64_decode(const char *in, size_t len, uint8_t *out, size_t *out_len) {
    /* '=' may only end the text, and only to complete its last quantum */
    size_t n = len;
    if (len % 4 == 0 && n > 0 && in[n - 1] == '=') n--;
    if (len % 4 == 0 && n > 0 && in[n - 1] == '=') n--;
    if (n % 4 == 1) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = s_b64_value((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out_len = o;
    return 0;
}

int dt_random_bytes(void *out, size_t len) {
    uint8_t *p = out;
    while (len > 0) {
        /* RAND_bytes takes an int length */
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (RAND_bytes(p, chunk) != 1) return -1;
        p += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

int dt_uuid4(char out[DT_UUID_STR_LEN + 1]) {
    uint8_t b[16];
    char hex[33];
    if (dt_random_bytes(b, sizeof b) != 0) return -1;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10xx */
    dt_hex_encode(b, sizeof b, hex);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
    return 0;
}
