/* credentials.h: the credential provider interface and the default provider chain.
 *
 * A provider is a name, a few flags and one resolve function; each lives in its own
 * credentials_<name>.c and knows only its own source. The chain asks providers in order:
 * the first that finds credentials wins, a hard error (a half key pair, an unparsable
 * expiration) stops the search, and when every provider reports "not found here" the error
 * lists every place that was searched, in order.
 *
 * Secrets are wiped before they are freed and never appear in a message. This layer does
 * not cache or refresh (callers re-resolve before expiration) and knows nothing of Lua. */
#ifndef DT_CREDENTIALS_H
#define DT_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

typedef struct dt_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when the credentials have none */
    int64_t expiration;  /* epoch seconds; 0 = does not expire */
    char source[64];     /* which provider found them: "explicit", "env", ... */
} dt_credentials;

/* Wipes the secrets, frees, and zeroes c. Safe on a zeroed or already cleared struct. */
void dt_credentials_clear(dt_credentials *c);

/* Copies the given strings into c (NULL/empty token = none). 0, or -1 on allocation failure. */
int dt_credentials_set(dt_credentials *c, const char *access_key_id, const char *secret_access_key,
                       const char *session_token, int64_t expiration, const char *source);

/* Borrowed values a caller supplies directly (aws.client{credentials=...}, --local). */
typedef struct dt_credentials_values {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    int64_t expiration;
    const char *source; /* NULL = "explicit" */
} dt_credentials_values;

/* What every provider may look at. */
typedef struct dt_credentials_context {
    const char *profile;     /* the active profile name (explicit, $AWS_PROFILE, "default") */
    int profile_explicit;    /* the caller named it (--profile): environment keys are skipped */
    const dt_config *config; /* both files, parsed */
    const dt_config_env *env;
} dt_credentials_context;

typedef enum dt_credentials_status {
    DT_CREDENTIALS_ERROR = -1,   /* err set; the chain stops */
    DT_CREDENTIALS_FOUND = 0,    /* out filled */
    DT_CREDENTIALS_NOT_FOUND = 1 /* what was searched appended to `searched` */
} dt_credentials_status;

/* Provider reads the profile: before the first such provider runs, the chain checks that a
 * profile other than "default" exists in one of the files (botocore's ProfileNotFound). */
#define DT_CREDENTIALS_USES_PROFILE 1u

typedef struct dt_credentials_provider dt_credentials_provider;
struct dt_credentials_provider {
    const char *name;
    unsigned flags;
    dt_credentials_status (*resolve)(const dt_credentials_provider *self,
                                     const dt_credentials_context *ctx, dt_credentials *out,
                                     dt_buf *searched, dt_config_error *err);
    const void *data; /* provider-specific (the explicit provider's values) */
};

/* Appends one searched place to the list ("a, b, c"). */
void dt_credentials_searched_add(dt_buf *searched, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The providers of this release, in default chain order (one file each). */
void dt_credentials_provider_explicit(dt_credentials_provider *p,
                                      const dt_credentials_values *values);
extern const dt_credentials_provider dt_credentials_provider_env;
extern const dt_credentials_provider dt_credentials_provider_profile;

/* out must be zeroed or hold earlier credentials (they are cleared first).
 * Runs providers in order. Returns 0 with out filled, or -1 with err set: a provider's hard
 * error, a missing named profile, or "no credentials found for profile "x": looked in ...". */
int dt_credentials_chain_resolve(const dt_credentials_provider *const *providers, size_t n,
                                 const dt_credentials_context *ctx, dt_credentials *out,
                                 dt_config_error *err);

typedef struct dt_credentials_request {
    const char *profile;                 /* explicit profile (--profile) or NULL */
    const dt_credentials_values *values; /* explicit credentials or NULL */
    const dt_config *config;
    const dt_config_env *env;
} dt_credentials_request;

/* The default chain: explicit values, then the environment (skipped when a profile is
 * named explicitly, as botocore and the AWS CLI do), then the profile's static keys in the
 * credentials file, then in the config file. */
int dt_credentials_resolve(const dt_credentials_request *req, dt_credentials *out,
                           dt_config_error *err);

#endif
