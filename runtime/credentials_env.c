/* credentials_env.c: credentials from the environment, the variables every AWS SDK reads:
 * AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN (or the older
 * AWS_SECURITY_TOKEN) and AWS_CREDENTIAL_EXPIRATION (ISO 8601).
 *
 * Like botocore and the AWS CLI, a profile named explicitly (--profile) switches this
 * provider off: the user asked for that profile, so stray keys in the environment must not
 * win over it. $AWS_PROFILE does not count as explicit, so keys in the environment still
 * beat it, as in botocore. It does not read files. */
#include "credentials.h"

#include "timestamp.h"

#include <string.h>

static dt_credentials_status s_resolve(const dt_credentials_provider *self,
                                       const dt_credentials_context *ctx, dt_credentials *out,
                                       dt_buf *searched, dt_config_error *err) {
    (void)self;
    if (ctx->profile_explicit) {
        dt_credentials_searched_add(searched,
                                    "environment (not used: a profile was named explicitly)");
        return DT_CREDENTIALS_NOT_FOUND;
    }
    const char *id = dt_config_env_get(ctx->env, "AWS_ACCESS_KEY_ID");
    const char *secret = dt_config_env_get(ctx->env, "AWS_SECRET_ACCESS_KEY");
    if (!id && !secret) {
        dt_credentials_searched_add(searched,
                                    "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)");
        return DT_CREDENTIALS_NOT_FOUND;
    }
    if (!id || !secret) {
        dt_config_error_set(err, "environment: %s is set but %s is not",
                            id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                            id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return DT_CREDENTIALS_ERROR;
    }
    /* AWS_SESSION_TOKEN is the name the SDKs standardised on; botocore still reads the
     * older AWS_SECURITY_TOKEN, so it is the fallback */
    const char *token = dt_config_env_get(ctx->env, "AWS_SESSION_TOKEN");
    if (!token) token = dt_config_env_get(ctx->env, "AWS_SECURITY_TOKEN");
    int64_t expiration = 0;
    const char *exp = dt_config_env_get(ctx->env, "AWS_CREDENTIAL_EXPIRATION");
    if (exp) {
        dt_timestamp ts;
        if (dt_timestamp_parse(exp, strlen(exp), &ts) != 0) {
            dt_config_error_set(err, "environment: AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 "
                                     "timestamp (e.g. 2030-01-01T00:00:00Z)");
            return DT_CREDENTIALS_ERROR;
        }
        expiration = ts.seconds > 0 ? ts.seconds : 1;
    }
    if (dt_credentials_set(out, id, secret, token, expiration, "env") != 0) {
        dt_config_error_set(err, "environment credentials: out of memory");
        return DT_CREDENTIALS_ERROR;
    }
    return DT_CREDENTIALS_FOUND;
}

const dt_credentials_provider dt_credentials_provider_env = {
    .name = "env",
    .flags = 0,
    .resolve = s_resolve,
    .data = NULL,
};
