/* credentials.c: the credentials struct, the provider chain and the default chain (see
 * credentials.h). Individual sources live in credentials_<name>.c; this file only orders
 * them and composes the final "nothing found" message. No caching or refresh here. */
#include "credentials.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_free_secret(char **p) {
    if (!*p) return;
    dt_wipe(*p, strlen(*p));
    free(*p);
    *p = NULL;
}

void dt_credentials_clear(dt_credentials *c) {
    if (!c) return;
    s_free_secret(&c->access_key_id);
    s_free_secret(&c->secret_access_key);
    s_free_secret(&c->session_token);
    memset(c, 0, sizeof *c);
}

int dt_credentials_set(dt_credentials *c, const char *access_key_id, const char *secret_access_key,
                       const char *session_token, int64_t expiration, const char *source) {
    dt_credentials_clear(c);
    c->access_key_id = strdup(access_key_id);
    c->secret_access_key = strdup(secret_access_key);
    if (session_token && *session_token) c->session_token = strdup(session_token);
    if (!c->access_key_id || !c->secret_access_key ||
        (session_token && *session_token && !c->session_token)) {
        dt_credentials_clear(c);
        return -1;
    }
    c->expiration = expiration;
    snprintf(c->source, sizeof c->source, "%s", source ? source : "explicit");
    return 0;
}

void dt_credentials_searched_add(dt_buf *searched, const char *fmt, ...) {
    char item[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    if (searched->len) dt_buf_puts(searched, ", ");
    dt_buf_puts(searched, item);
}

int dt_credentials_chain_resolve(const dt_credentials_provider *const *providers, size_t n,
                                 const dt_credentials_context *ctx, dt_credentials *out,
                                 dt_config_error *err) {
    dt_buf searched;
    dt_buf_init(&searched, 8192);
    int profile_checked = 0, rc = -1;
    dt_credentials_clear(out);
    for (size_t i = 0; i < n; i++) {
        const dt_credentials_provider *p = providers[i];
        if ((p->flags & DT_CREDENTIALS_USES_PROFILE) && !profile_checked) {
            profile_checked = 1;
            if (dt_config_check_profile(ctx->config, ctx->profile, err) != 0) goto done;
        }
        dt_credentials_status st = p->resolve(p, ctx, out, &searched, err);
        if (st == DT_CREDENTIALS_FOUND) {
            rc = 0;
            goto done;
        }
        if (st == DT_CREDENTIALS_ERROR) {
            dt_credentials_clear(out);
            goto done;
        }
    }
    dt_config_error_set(err, "no credentials found for profile \"%s\": looked in %s", ctx->profile,
                        searched.data ? searched.data : "nothing");
done:
    dt_buf_free(&searched);
    return rc;
}

int dt_credentials_resolve(const dt_credentials_request *req, dt_credentials *out,
                           dt_config_error *err) {
    dt_credentials_provider explicit_p;
    dt_credentials_provider_explicit(&explicit_p, req->values);
    const dt_credentials_provider *chain[] = {&explicit_p, &dt_credentials_provider_env,
                                              &dt_credentials_provider_profile};
    dt_credentials_context ctx = {
        .profile = dt_config_profile_name(req->profile, req->env),
        .profile_explicit = req->profile != NULL && *req->profile != '\0',
        .config = req->config,
        .env = req->env,
    };
    return dt_credentials_chain_resolve(chain, sizeof chain / sizeof chain[0], &ctx, out, err);
}
