/* endpoint.c: endpoint resolution (see endpoint.h): configured endpoints, the partitions
 * table, and the standard-endpoint rules of Detective, GuardDuty and STS. Plain C. */
#include "endpoint.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* --- partitions ---------------------------------------------------------------------------- */

/* The published partitions data (botocore/data/partitions.json, smithy's partition
 * function): each partition's outputs, its region pattern "^(p1|p2)\-\w+\-\d+$" given as
 * the prefixes, and the pseudo regions it lists by name. */
typedef struct s_partition_def {
    dt_partition p;
    const char *prefixes[10];
    const char *named[2];
} s_partition_def;

static const s_partition_def s_partitions[] = {
    {{"aws", "amazonaws.com", "api.aws", 1, 1},
     {"us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", NULL},
     {"aws-global", NULL}},
    {{"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn", 1, 1},
     {"cn", NULL},
     {"aws-cn-global", NULL}},
    {{"aws-us-gov", "amazonaws.com", "api.aws", 1, 1},
     {"us-gov", NULL},
     {"aws-us-gov-global", NULL}},
    {{"aws-iso", "c2s.ic.gov", "c2s.ic.gov", 1, 0}, {"us-iso", NULL}, {"aws-iso-global", NULL}},
    {{"aws-iso-b", "sc2s.sgov.gov", "sc2s.sgov.gov", 1, 0},
     {"us-isob", NULL},
     {"aws-iso-b-global", NULL}},
    {{"aws-iso-e", "cloud.adc-e.uk", "cloud.adc-e.uk", 1, 0}, {"eu-isoe", NULL}, {NULL}},
    {{"aws-iso-f", "csp.hci.ic.gov", "csp.hci.ic.gov", 1, 0}, {"us-isof", NULL}, {NULL}},
};
#define S_N_PARTITIONS (sizeof s_partitions / sizeof s_partitions[0])

/* After "<prefix>-": \w+ \- \d+ to the end, with no other '-' (\w has none). */
static int s_match_tail(const char *s) {
    const char *dash = strchr(s, '-');
    if (!dash || dash == s || strchr(dash + 1, '-')) return 0;
    for (const char *p = s; p < dash; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') return 0;
    if (!dash[1]) return 0;
    for (const char *p = dash + 1; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    return 1;
}

const dt_partition *dt_partition_for_region(const char *region) {
    for (size_t i = 0; i < S_N_PARTITIONS; i++)
        for (size_t j = 0; s_partitions[i].named[j]; j++)
            if (strcmp(region, s_partitions[i].named[j]) == 0) return &s_partitions[i].p;
    for (size_t i = 0; i < S_N_PARTITIONS; i++) {
        for (size_t j = 0; s_partitions[i].prefixes[j]; j++) {
            const char *pre = s_partitions[i].prefixes[j];
            size_t n = strlen(pre);
            if (strncmp(region, pre, n) == 0 && region[n] == '-' && s_match_tail(region + n + 1))
                return &s_partitions[i].p;
        }
    }
    return &s_partitions[0].p;
}

/* --- services ------------------------------------------------------------------------------ */

typedef enum { S_RULES_DETECTIVE, S_RULES_GUARDDUTY, S_RULES_STS } s_rules;

typedef struct s_service {
    const char *name;
    const char *service_id; /* the model's serviceId: names the configuration settings */
    const char *signing_name;
    s_rules rules;
} s_service;

static const s_service s_services[] = {
    {"detective", "Detective", "detective", S_RULES_DETECTIVE},
    {"guardduty", "GuardDuty", "guardduty", S_RULES_GUARDDUTY},
    {"sts", "STS", "sts", S_RULES_STS},
};

static const s_service *s_service_find(const char *name, dt_config_error *err) {
    for (size_t i = 0; i < sizeof s_services / sizeof s_services[0]; i++) {
        if (strcmp(name, s_services[i].name) == 0 ||
            strcasecmp(name, s_services[i].service_id) == 0)
            return &s_services[i];
    }
    char shown[80];
    dt_region_quote(name, shown, sizeof shown, 40);
    dt_config_error_set(err, "unknown service \"%s\" (known: detective, guardduty, sts)", shown);
    return NULL;
}

int dt_endpoint_config_names(const char *service, char *env_var, size_t env_cap, char *config_key,
                             size_t key_cap) {
    const s_service *svc = s_service_find(service, NULL);
    if (!svc) return -1;
    char up[64], low[64];
    size_t i = 0;
    for (; svc->service_id[i] && i + 1 < sizeof up; i++) {
        char c = svc->service_id[i];
        up[i] = c == ' ' ? '_' : (char)toupper((unsigned char)c);
        low[i] = c == ' ' ? '_' : (char)tolower((unsigned char)c);
    }
    up[i] = low[i] = '\0';
    if (env_var) snprintf(env_var, env_cap, "AWS_ENDPOINT_URL_%s", up);
    if (config_key) snprintf(config_key, key_cap, "%s", low);
    return 0;
}

/* The regions whose STS calls used the global endpoint before regional endpoints became the
 * default (the STS rule set's UseGlobalEndpoint branch). */
static const char *const s_sts_legacy_global[] = {
    "ap-northeast-1", "ap-south-1",   "ap-southeast-1", "ap-southeast-2",
    "aws-global",     "ca-central-1", "eu-central-1",   "eu-north-1",
    "eu-west-1",      "eu-west-2",    "eu-west-3",      "sa-east-1",
    "us-east-1",      "us-east-2",    "us-west-1",      "us-west-2",
};

static int s_is_sts_legacy_global(const char *region) {
    for (size_t i = 0; i < sizeof s_sts_legacy_global / sizeof s_sts_legacy_global[0]; i++)
        if (strcmp(region, s_sts_legacy_global[i]) == 0) return 1;
    return 0;
}

/* botocore's pseudo-region rule: every "fips-" and then every "-fips" is removed. out has
 * DT_REGION_MAX bytes; region was checked to be a label of at most 63 bytes. */
static int s_strip_fips(const char *region, char *out) {
    char tmp[DT_REGION_MAX];
    size_t len = strlen(region);
    if (len >= sizeof tmp) len = sizeof tmp - 1;
    memcpy(tmp, region, len);
    tmp[len] = '\0';
    static const char *const pats[] = {"fips-", "-fips"};
    for (size_t k = 0; k < 2; k++) {
        char res[DT_REGION_MAX];
        size_t n = 0, pl = strlen(pats[k]);
        for (const char *p = tmp; *p;) {
            if (strncmp(p, pats[k], pl) == 0) {
                p += pl;
            } else {
                res[n++] = *p++;
            }
        }
        res[n] = '\0';
        memcpy(tmp, res, n + 1);
    }
    memcpy(out, tmp, strlen(tmp) + 1);
    return strcmp(out, region) != 0;
}

static int s_unsupported(const s_service *svc, const char *region, const dt_partition *p,
                         const char *what, dt_config_error *err) {
    dt_config_error_set(err, "%s: %s endpoints are not available in partition %s (region %s)",
                        svc->name, what, p->name, region);
    return -1;
}

int dt_endpoint_standard(const char *service, const char *region_in, const dt_endpoint_flags *flags,
                         dt_endpoint *out, dt_config_error *err) {
    memset(out, 0, sizeof *out);
    const s_service *svc = s_service_find(service, err);
    if (!svc) return -1;
    char region[DT_REGION_MAX];
    if (dt_region_check(region_in, err) != 0) return -1;
    int fips = flags && flags->use_fips;
    int ds = flags && flags->use_dualstack;
    if (s_strip_fips(region_in, region)) {
        fips = 1;
        if (dt_region_check(region, err) != 0) return -1;
    }
    const dt_partition *p = dt_partition_for_region(region);
    int aws_or_gov = strcmp(p->name, "aws") == 0 || strcmp(p->name, "aws-us-gov") == 0;
    int gov = strcmp(p->name, "aws-us-gov") == 0;
    const char *host = NULL, *suffix = p->dns_suffix;
    const char *signing_region = region;
    char global[64] = "";

    if (fips && ds && !(p->supports_fips && p->supports_dualstack) &&
        !(svc->rules == S_RULES_DETECTIVE && aws_or_gov))
        return s_unsupported(svc, region, p, "FIPS dual-stack", err);
    if (fips && !p->supports_fips) return s_unsupported(svc, region, p, "FIPS", err);
    if (ds && !p->supports_dualstack) return s_unsupported(svc, region, p, "dual-stack", err);
    if (ds) suffix = p->dualstack_dns_suffix;

    switch (svc->rules) {
    case S_RULES_DETECTIVE:
        /* dual-stack in aws and aws-us-gov drops the "api." label */
        if (ds && aws_or_gov)
            host = fips ? "detective-fips" : "detective";
        else
            host = fips ? "api.detective-fips" : "api.detective";
        break;
    case S_RULES_GUARDDUTY:
        host = fips ? "guardduty-fips" : "guardduty";
        /* GovCloud's GuardDuty endpoints are FIPS endpoints already */
        if (fips && !ds && gov) host = "guardduty";
        break;
    case S_RULES_STS:
        if (!fips && !ds &&
            ((flags && flags->sts_global && s_is_sts_legacy_global(region)) ||
             strcmp(region, "aws-global") == 0)) {
            snprintf(global, sizeof global, "https://sts.amazonaws.com");
            signing_region = "us-east-1";
            break;
        }
        host = fips ? "sts-fips" : "sts";
        if (fips && !ds && gov) host = "sts";
        break;
    }
    if (global[0])
        snprintf(out->url, sizeof out->url, "%s", global);
    else
        snprintf(out->url, sizeof out->url, "https://%s.%s.%s", host, region, suffix);
    snprintf(out->signing_region, sizeof out->signing_region, "%s", signing_region);
    snprintf(out->signing_name, sizeof out->signing_name, "%s", svc->signing_name);
    out->source = "standard";
    out->partition = dt_partition_for_region(signing_region)->name;
    return 0;
}

/* --- configured endpoints ------------------------------------------------------------------ */

/* An endpoint must be an absolute http(s) URL with a host: the signer and the transport both
 * rely on that. Printable ASCII only, so it can go into a request line and a message. */
static int s_check_url(const char *url, const char *where, dt_config_error *err) {
    const char *rest = NULL;
    if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    int printable = 1;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) printable = 0;
    if (rest && printable && *rest && !strchr("/?#", *rest)) return 0;
    char shown[160];
    dt_region_quote(url, shown, sizeof shown, 120);
    dt_config_error_set(err,
                        "invalid endpoint URL \"%s\" (from %s): expected http:// or https:// "
                        "followed by a host, e.g. https://api.detective.us-east-1.amazonaws.com",
                        shown, where);
    return -1;
}

static int s_profile_plain(const dt_config *c, const char *profile, const char *key,
                           const char **out, dt_config_error *err) {
    const dt_config_value *v = dt_config_profile_find(c, profile, key);
    *out = NULL;
    if (!v) return 0;
    if (!v->value) {
        dt_config_error_set(err, "%s in profile \"%s\" (line %d) must be a plain value", key,
                            profile, v->line);
        return -1;
    }
    *out = *v->value ? v->value : NULL;
    return 0;
}

/* A boolean setting: the variable when set (even to "false"), else the profile's key. */
static int s_flag(const dt_endpoint_request *req, const char *profile, const char *var,
                  const char *key, int *out, dt_config_error *err) {
    const char *v = dt_config_env_get(req->env, var);
    if (!v && s_profile_plain(req->config, profile, key, &v, err) != 0) return -1;
    *out = dt_config_is_true(v);
    return 0;
}

static int s_configured(const dt_endpoint_request *req, const s_service *svc, const char *profile,
                        const char **url, const char **source, char *where, size_t where_cap,
                        dt_config_error *err) {
    char env_var[96], key[64];
    dt_endpoint_config_names(svc->name, env_var, sizeof env_var, key, sizeof key);
    *url = NULL;
    if ((*url = dt_config_env_get(req->env, env_var)) != NULL) {
        *source = "env";
        snprintf(where, where_cap, "%s", env_var);
        return 0;
    }
    if ((*url = dt_config_env_get(req->env, "AWS_ENDPOINT_URL")) != NULL) {
        *source = "env";
        snprintf(where, where_cap, "AWS_ENDPOINT_URL");
        return 0;
    }
    const char *services;
    if (s_profile_plain(req->config, profile, "services", &services, err) != 0) return -1;
    if (services) {
        const dt_config_section *s =
            dt_config_file_section(&req->config->config, DT_SECTION_SERVICES, services);
        if (!s) {
            dt_config_error_set(
                err,
                "profile \"%s\" sets services = %s but %s has no [services %s] "
                "section",
                profile, services,
                req->config->config.path ? req->config->config.path : "the config file", services);
            return -1;
        }
        const dt_config_value *v = dt_config_section_find(s, key);
        for (size_t i = 0; v && !v->value && i < v->n_sub; i++) {
            if (strcmp(v->sub[i].key, "endpoint_url") == 0 && *v->sub[i].value) {
                *url = v->sub[i].value;
                *source = "profile";
                snprintf(where, where_cap, "%s in [services %s]", key, services);
                return 0;
            }
        }
    }
    if (s_profile_plain(req->config, profile, "endpoint_url", url, err) != 0) return -1;
    if (*url) {
        *source = "profile";
        snprintf(where, where_cap, "endpoint_url in profile \"%s\"", profile);
    }
    return 0;
}

static int s_custom(const char *url, const char *source, const char *where, const s_service *svc,
                    const char *region, dt_endpoint *out, dt_config_error *err) {
    if (s_check_url(url, where, err) != 0) return -1;
    if (strlen(url) >= sizeof out->url) {
        dt_config_error_set(err, "endpoint URL from %s is too long", where);
        return -1;
    }
    char signing[DT_REGION_MAX];
    if (dt_region_check(region, err) != 0) return -1;
    s_strip_fips(region, signing);
    if (dt_region_check(signing, err) != 0) return -1;
    snprintf(out->url, sizeof out->url, "%s", url);
    snprintf(out->signing_region, sizeof out->signing_region, "%s", signing);
    snprintf(out->signing_name, sizeof out->signing_name, "%s", svc->signing_name);
    out->source = source;
    out->partition = dt_partition_for_region(signing)->name;
    return 0;
}

int dt_endpoint_resolve(const dt_endpoint_request *req, dt_endpoint *out, dt_config_error *err) {
    memset(out, 0, sizeof *out);
    const s_service *svc = s_service_find(req->service ? req->service : "", err);
    if (!svc) return -1;
    if (!req->region || !*req->region) {
        dt_config_error_set(err, "%s: no region to resolve an endpoint for", svc->name);
        return -1;
    }
    if (req->endpoint && *req->endpoint)
        return s_custom(req->endpoint, "explicit", "the explicit endpoint", svc, req->region, out,
                        err);

    const char *profile = dt_config_profile_name(req->profile, req->env);
    if (dt_config_check_profile(req->config, profile, err) != 0) return -1;
    int ignore;
    if (s_flag(req, profile, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
               "ignore_configured_endpoint_urls", &ignore, err) != 0)
        return -1;
    if (!ignore) {
        const char *url = NULL, *source = NULL;
        char where[200];
        if (s_configured(req, svc, profile, &url, &source, where, sizeof where, err) != 0)
            return -1;
        if (url) return s_custom(url, source, where, svc, req->region, out, err);
    }

    dt_endpoint_flags flags = {0};
    if (s_flag(req, profile, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint", &flags.use_fips, err) !=
            0 ||
        s_flag(req, profile, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint",
               &flags.use_dualstack, err) != 0)
        return -1;
    if (svc->rules == S_RULES_STS) {
        const char *mode = dt_config_env_get(req->env, "AWS_STS_REGIONAL_ENDPOINTS");
        const char *where = "AWS_STS_REGIONAL_ENDPOINTS";
        if (!mode) {
            if (s_profile_plain(req->config, profile, "sts_regional_endpoints", &mode, err) != 0)
                return -1;
            where = "sts_regional_endpoints";
        }
        if (mode && strcmp(mode, "legacy") != 0 && strcmp(mode, "regional") != 0) {
            char shown[80];
            dt_region_quote(mode, shown, sizeof shown, 40);
            dt_config_error_set(err, "%s: invalid value \"%s\" (expected legacy or regional)",
                                where, shown);
            return -1;
        }
        flags.sts_global = mode && strcmp(mode, "legacy") == 0;
    }
    return dt_endpoint_standard(svc->name, req->region, &flags, out, err);
}
