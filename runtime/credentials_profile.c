/* credentials_profile.c: static keys of the active profile (aws_access_key_id,
 * aws_secret_access_key, optional aws_session_token) from the shared credentials file's
 * [name] section, then from the config file's [profile name] / [default] section.
 *
 * Each file is considered on its own, as botocore's SharedCredentialProvider and
 * ConfigProvider do: the credentials file wins, and a key pair is never assembled from two
 * files. A section holding only half a pair is a hard error rather than a silent fall
 * through. Role assumption, SSO and credential_process are other providers' business. */
#include "credentials.h"

#include <string.h>

typedef struct s_source {
    const dt_config_file *file;
    dt_config_file_kind kind;
    const char *source; /* botocore's names for these methods */
} s_source;

static int s_plain(const dt_config_file *f, const char *header, const dt_config_value *v,
                   const char **out, dt_config_error *err) {
    *out = NULL;
    if (!v) return 0;
    if (!v->value) {
        dt_config_error_set(err, "%s:%d: %s in %s must be a plain value, not a sub-section",
                            f->path ? f->path : "(config)", v->line, v->key, header);
        return -1;
    }
    *out = *v->value ? v->value : NULL;
    return 0;
}

static dt_credentials_status s_from_file(const s_source *src, const dt_credentials_context *ctx,
                                         dt_credentials *out, dt_buf *searched,
                                         dt_config_error *err) {
    const dt_config_file *f = src->file;
    const char *path = f->path ? f->path : "(config)";
    char header[300];
    dt_config_profile_header(src->kind, ctx->profile, header, sizeof header);
    if (!f->exists) {
        dt_credentials_searched_add(searched, "%s %s (file missing)", path, header);
        return DT_CREDENTIALS_NOT_FOUND;
    }
    const dt_config_section *s = dt_config_file_section(f, DT_SECTION_PROFILE, ctx->profile);
    if (!s) {
        dt_credentials_searched_add(searched, "%s %s (no such section)", path, header);
        return DT_CREDENTIALS_NOT_FOUND;
    }
    const dt_config_value *vid = dt_config_section_find(s, "aws_access_key_id");
    const dt_config_value *vsec = dt_config_section_find(s, "aws_secret_access_key");
    const dt_config_value *vtok = dt_config_section_find(s, "aws_session_token");
    if (!vtok) vtok = dt_config_section_find(s, "aws_security_token");
    const char *id, *secret, *token;
    if (s_plain(f, header, vid, &id, err) != 0 || s_plain(f, header, vsec, &secret, err) != 0 ||
        s_plain(f, header, vtok, &token, err) != 0)
        return DT_CREDENTIALS_ERROR;
    if (!id && !secret) {
        dt_credentials_searched_add(searched, "%s %s", path, header);
        return DT_CREDENTIALS_NOT_FOUND;
    }
    if (!id || !secret) {
        const dt_config_value *have = id ? vid : vsec;
        dt_config_error_set(err, "%s:%d: %s has %s but no %s (both keys of the pair are needed)",
                            path, have->line, header,
                            id ? "aws_access_key_id" : "aws_secret_access_key",
                            id ? "aws_secret_access_key" : "aws_access_key_id");
        return DT_CREDENTIALS_ERROR;
    }
    if (dt_credentials_set(out, id, secret, token, 0, src->source) != 0) {
        dt_config_error_set(err, "%s: out of memory", path);
        return DT_CREDENTIALS_ERROR;
    }
    return DT_CREDENTIALS_FOUND;
}

static dt_credentials_status s_resolve(const dt_credentials_provider *self,
                                       const dt_credentials_context *ctx, dt_credentials *out,
                                       dt_buf *searched, dt_config_error *err) {
    (void)self;
    const s_source sources[] = {
        {&ctx->config->credentials, DT_CONFIG_FILE_CREDENTIALS, "shared-credentials-file"},
        {&ctx->config->config, DT_CONFIG_FILE_CONFIG, "config-file"},
    };
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        dt_credentials_status st = s_from_file(&sources[i], ctx, out, searched, err);
        if (st != DT_CREDENTIALS_NOT_FOUND) return st;
    }
    return DT_CREDENTIALS_NOT_FOUND;
}

const dt_credentials_provider dt_credentials_provider_profile = {
    .name = "profile",
    .flags = DT_CREDENTIALS_USES_PROFILE,
    .resolve = s_resolve,
    .data = NULL,
};
