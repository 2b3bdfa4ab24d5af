/* crypto.h: the few cryptographic primitives detlua needs, over OpenSSL 3: SHA-256,
 * HMAC-SHA256, lowercase hex, base64 (standard alphabet), secure random bytes and
 * version-4 UUIDs; SHA-1 hex only for cache file names that other tools chose (the AWS
 * CLI's SSO token cache), never for anything that must resist collisions.
 *
 * OpenSSL's algorithm objects are fetched once per process (thread-safe), and callers
 * on a hot path can keep a dt_sha256_ctx to avoid an allocation per digest. This is
 * not a general crypto toolkit: no other digests, no ciphers, no key management. */
#ifndef DT_CRYPTO_H
#define DT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define DT_SHA256_LEN 32
#define DT_SHA256_HEX_LEN 64
#define DT_SHA1_HEX_LEN 40
#define DT_UUID_STR_LEN 36
/* bytes base64 needs for n input bytes, without the NUL */
#define DT_BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)
/* upper bound of the bytes decoding len characters can produce */
#define DT_BASE64_DECODED_MAX(len) ((((len) + 3) / 4) * 3)

/* A reusable digest context (wraps an EVP_MD_CTX). Not shared between threads. */
typedef struct dt_sha256_ctx dt_sha256_ctx;

/* NULL on allocation failure or when OpenSSL has no SHA-256. */
dt_sha256_ctx *dt_sha256_ctx_new(void);
void dt_sha256_ctx_free(dt_sha256_ctx *ctx);

/* All digest functions return 0 on success, -1 on an OpenSSL failure. ctx may be NULL
 * (a temporary context is then used). */
int dt_sha256(dt_sha256_ctx *ctx, const void *data, size_t len, uint8_t out[DT_SHA256_LEN]);
/* out receives 64 lowercase hex digits and a NUL */
int dt_sha256_hex(dt_sha256_ctx *ctx, const void *data, size_t len,
                  char out[DT_SHA256_HEX_LEN + 1]);
/* SHA-1 (FIPS 180-4) as 40 lowercase hex digits and a NUL: a file-name key, not a security
 * primitive. 0 on success, -1 on an OpenSSL failure. */
int dt_sha1_hex(const void *data, size_t len, char out[DT_SHA1_HEX_LEN + 1]);
/* RFC 2104 HMAC with SHA-256; keys longer than the block are hashed first. */
int dt_hmac_sha256(dt_sha256_ctx *ctx, const void *key, size_t key_len, const void *msg,
                   size_t msg_len, uint8_t out[DT_SHA256_LEN]);

/* Lowercase hex of len bytes into out (2*len characters and a NUL). */
void dt_hex_encode(const void *data, size_t len, char *out);

/* Standard base64 with '=' padding; out needs DT_BASE64_ENCODED_LEN(len)+1 bytes.
 * Returns the encoded length (a NUL follows). */
size_t dt_base64_encode(const void *data, size_t len, char *out);
/* Decodes standard base64, padded or not. Rejects characters outside the alphabet
 * (whitespace included), misplaced '=' and impossible lengths. out needs
 * DT_BASE64_DECODED_MAX(len) bytes. Returns 0 and sets *out_len, or -1. */
int dt_base64_decode(const char *in, size_t len, uint8_t *out, size_t *out_len);

/* Bytes from OpenSSL's CSPRNG. 0 on success, -1 on failure. */
int dt_random_bytes(void *out, size_t len);
/* A random (version 4, RFC 9562) UUID, lowercase "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
 * 0 on success, -1 when no random bytes could be had. */
int dt_uuid4(char out[DT_UUID_STR_LEN + 1]);

#endif
