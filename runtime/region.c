/* region.c: region resolution and validation (see region.h). Plain C, no Lua. */
#include "region.h"

#include <stdio.h>
#include <string.h>

void dt_region_quote(const char *s, char *out, size_t cap, size_t max_len) {
    size_t n = 0;
    for (; s[n] && n < max_len && n + 4 < cap; n++) {
        unsigned char c = (unsigned char)s[n];
        out[n] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    if (s[n] && n + 4 < cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

int dt_region_check(const char *region, dt_config_error *err) {
    size_t n = strlen(region);
    int digits_only = 1, bad = n == 0 || n > 63, upper = 0;
    for (size_t i = 0; i < n; i++) {
        char c = region[i];
        if (c >= 'A' && c <= 'Z') upper = 1;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) bad = 1;
        if (c < '0' || c > '9') digits_only = 0;
    }
    if (n > 0 && (region[0] == '-' || region[n - 1] == '-')) bad = 1;
    if (!bad && !digits_only) return 0;
    char shown[80];
    dt_region_quote(region, shown, sizeof shown, 64);
    dt_config_error_set(err,
                        "invalid region \"%s\": a region is one DNS label of lower-case letters, "
                        "digits and '-' (for example us-east-1)%s%s",
                        shown, upper ? "; regions are written in lower case" : "",
                        strpbrk(region, "#;") ? "; in the config files a comment must be on a line "
                                                "of its own"
                                              : "");
    return -1;
}

int dt_region_resolve(const dt_region_request *req, char *out, const char **source,
                      dt_config_error *err) {
    static const char *const env_vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
    const char *value = NULL, *from = NULL, *where = NULL;
    char where_buf[600];
    if (req->region && *req->region) {
        value = req->region;
        from = "explicit";
        where = "the explicit region";
    }
    for (size_t i = 0; !value && i < sizeof env_vars / sizeof env_vars[0]; i++) {
        value = dt_config_env_get(req->env, env_vars[i]);
        from = "env";
        where = env_vars[i];
    }
    const char *profile = dt_config_profile_name(req->profile, req->env);
    if (!value) {
        if (dt_config_check_profile(req->config, profile, err) != 0) return -1;
        const dt_config_value *v = dt_config_profile_find(req->config, profile, "region");
        if (v && !v->value) {
            dt_config_error_set(err, "region in profile \"%s\" (line %d) must be a plain value",
                                profile, v->line);
            return -1;
        }
        if (v && *v->value) {
            value = v->value;
            from = "profile";
            snprintf(where_buf, sizeof where_buf, "region in profile \"%s\"", profile);
            where = where_buf;
        }
    }
    if (!value) {
        char header[300];
        dt_config_profile_header(DT_CONFIG_FILE_CONFIG, profile, header, sizeof header);
        const char *cfg = req->config->config.path;
        dt_config_error_set(err,
                            "no region configured: pass --region (or region=), set AWS_REGION "
                            "or AWS_DEFAULT_REGION, or add \"region = ...\" to %s in %s",
                            header, cfg ? cfg : "~/.aws/config");
        return -1;
    }
    if (dt_region_check(value, err) != 0) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%s", err->message);
        dt_config_error_set(err, "%s (from %s)", msg, where);
        return -1;
    }
    snprintf(out, DT_REGION_MAX, "%s", value);
    if (source) *source = from;
    return 0;
}
