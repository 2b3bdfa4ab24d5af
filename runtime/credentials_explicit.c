/* credentials_explicit.c: credentials the caller passes directly (aws.client{credentials=},
 * the emulator's keys under --local). First in the chain, so they beat every other source.
 * It only checks the pair is complete; it does not validate key formats. */
#include "credentials.h"

#include <string.h>

static int s_set(const char *s) {
    return s && *s;
}

static dt_credentials_status s_resolve(const dt_credentials_provider *self,
                                       const dt_credentials_context *ctx, dt_credentials *out,
                                       dt_buf *searched, dt_config_error *err) {
    (void)ctx;
    const dt_credentials_values *v = self->data;
    if (!v || (!s_set(v->access_key_id) && !s_set(v->secret_access_key))) {
        dt_credentials_searched_add(searched, "explicit credentials");
        return DT_CREDENTIALS_NOT_FOUND;
    }
    if (!s_set(v->access_key_id) || !s_set(v->secret_access_key)) {
        dt_config_error_set(err, "explicit credentials: %s is set but %s is not",
                            s_set(v->access_key_id) ? "access_key_id" : "secret_access_key",
                            s_set(v->access_key_id) ? "secret_access_key" : "access_key_id");
        return DT_CREDENTIALS_ERROR;
    }
    if (dt_credentials_set(out, v->access_key_id, v->secret_access_key, v->session_token,
                           v->expiration, v->source && *v->source ? v->source : "explicit") != 0) {
        dt_config_error_set(err, "explicit credentials: out of memory");
        return DT_CREDENTIALS_ERROR;
    }
    return DT_CREDENTIALS_FOUND;
}

void dt_credentials_provider_explicit(dt_credentials_provider *p,
                                      const dt_credentials_values *values) {
    memset(p, 0, sizeof *p);
    p->name = "explicit";
    p->resolve = s_resolve;
    p->data = values;
}
