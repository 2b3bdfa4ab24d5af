/* test_endpoint.c: region validation, partitions, standard endpoints and configured
 * endpoints (runtime/endpoint.c, runtime/region.c).
 *
 * The expected URLs are written from the services' endpoint rule sets and the published
 * partitions data, read by hand; config_spec.lua additionally runs botocore's rule engine on
 * the rule sets and botocore's clients as oracles over many more regions. The service names
 * are cross-checked against the generated model tables. */
#include "config.h"
#include "endpoint.h"
#include "operation.h"
#include "region.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

typedef struct s_case {
    const char *service, *region;
    int fips, ds, global;
    const char *url;            /* NULL: an error is expected */
    const char *signing_region; /* NULL: the region itself */
} s_case;

static const s_case s_cases[] = {
    /* Detective: api.detective.<region>.<dnsSuffix>; FIPS "api.detective-fips"; dual-stack in
     * aws and aws-us-gov drops "api." */
    {"detective", "us-east-1", 0, 0, 0, "https://api.detective.us-east-1.amazonaws.com", NULL},
    {"detective", "eu-west-3", 0, 0, 0, "https://api.detective.eu-west-3.amazonaws.com", NULL},
    {"detective", "il-central-1", 0, 0, 0, "https://api.detective.il-central-1.amazonaws.com",
     NULL},
    {"detective", "cn-north-1", 0, 0, 0, "https://api.detective.cn-north-1.amazonaws.com.cn", NULL},
    {"detective", "cn-northwest-1", 1, 0, 0,
     "https://api.detective-fips.cn-northwest-1.amazonaws.com.cn", NULL},
    {"detective", "cn-north-1", 0, 1, 0,
     "https://api.detective.cn-north-1.api.amazonwebservices.com.cn", NULL},
    {"detective", "cn-north-1", 1, 1, 0,
     "https://api.detective-fips.cn-north-1.api.amazonwebservices.com.cn", NULL},
    {"detective", "us-gov-west-1", 0, 0, 0, "https://api.detective.us-gov-west-1.amazonaws.com",
     NULL},
    {"detective", "us-gov-west-1", 1, 0, 0,
     "https://api.detective-fips.us-gov-west-1.amazonaws.com", NULL},
    {"detective", "us-gov-east-1", 0, 1, 0, "https://detective.us-gov-east-1.api.aws", NULL},
    {"detective", "us-gov-east-1", 1, 1, 0, "https://detective-fips.us-gov-east-1.api.aws", NULL},
    {"detective", "us-east-1", 1, 0, 0, "https://api.detective-fips.us-east-1.amazonaws.com", NULL},
    {"detective", "us-east-1", 0, 1, 0, "https://detective.us-east-1.api.aws", NULL},
    {"detective", "us-east-1", 1, 1, 0, "https://detective-fips.us-east-1.api.aws", NULL},
    {"detective", "us-iso-east-1", 0, 0, 0, "https://api.detective.us-iso-east-1.c2s.ic.gov", NULL},
    {"detective", "us-iso-east-1", 1, 0, 0, "https://api.detective-fips.us-iso-east-1.c2s.ic.gov",
     NULL},
    {"detective", "us-iso-east-1", 0, 1, 0, NULL, NULL},
    {"detective", "us-iso-east-1", 1, 1, 0, NULL, NULL},
    {"detective", "us-isob-east-1", 0, 0, 0, "https://api.detective.us-isob-east-1.sc2s.sgov.gov",
     NULL},
    {"detective", "eu-isoe-west-1", 0, 0, 0, "https://api.detective.eu-isoe-west-1.cloud.adc-e.uk",
     NULL},
    {"detective", "us-isof-south-1", 0, 0, 0,
     "https://api.detective.us-isof-south-1.csp.hci.ic.gov", NULL},
    {"detective", "xx-unknown-9", 0, 0, 0, "https://api.detective.xx-unknown-9.amazonaws.com",
     NULL},
    {"detective", "fips-us-east-1", 0, 0, 0, "https://api.detective-fips.us-east-1.amazonaws.com",
     "us-east-1"},
    {"detective", "us-gov-west-1-fips", 0, 0, 0,
     "https://api.detective-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
    /* GuardDuty: guardduty[-fips].<region>; GovCloud FIPS is the plain host */
    {"guardduty", "us-east-1", 0, 0, 0, "https://guardduty.us-east-1.amazonaws.com", NULL},
    {"guardduty", "us-east-1", 1, 0, 0, "https://guardduty-fips.us-east-1.amazonaws.com", NULL},
    {"guardduty", "us-east-1", 0, 1, 0, "https://guardduty.us-east-1.api.aws", NULL},
    {"guardduty", "us-east-1", 1, 1, 0, "https://guardduty-fips.us-east-1.api.aws", NULL},
    {"guardduty", "us-gov-west-1", 1, 0, 0, "https://guardduty.us-gov-west-1.amazonaws.com", NULL},
    {"guardduty", "us-gov-west-1", 1, 1, 0, "https://guardduty-fips.us-gov-west-1.api.aws", NULL},
    {"guardduty", "cn-north-1", 0, 0, 0, "https://guardduty.cn-north-1.amazonaws.com.cn", NULL},
    {"guardduty", "us-isob-east-1", 1, 0, 0, "https://guardduty-fips.us-isob-east-1.sc2s.sgov.gov",
     NULL},
    {"guardduty", "us-isob-east-1", 0, 1, 0, NULL, NULL},
    /* STS: regional by default; the global endpoint for legacy regions with legacy mode */
    {"sts", "us-east-1", 0, 0, 0, "https://sts.us-east-1.amazonaws.com", NULL},
    {"sts", "us-east-1", 0, 0, 1, "https://sts.amazonaws.com", "us-east-1"},
    {"sts", "eu-west-1", 0, 0, 1, "https://sts.amazonaws.com", "us-east-1"},
    {"sts", "ap-southeast-2", 0, 0, 1, "https://sts.amazonaws.com", "us-east-1"},
    {"sts", "eu-south-1", 0, 0, 1, "https://sts.eu-south-1.amazonaws.com", NULL},
    {"sts", "cn-north-1", 0, 0, 1, "https://sts.cn-north-1.amazonaws.com.cn", NULL},
    {"sts", "us-east-1", 1, 0, 1, "https://sts-fips.us-east-1.amazonaws.com", NULL},
    {"sts", "us-west-2", 0, 1, 1, "https://sts.us-west-2.api.aws", NULL},
    {"sts", "aws-global", 0, 0, 0, "https://sts.amazonaws.com", "us-east-1"},
    {"sts", "aws-global", 1, 0, 0, "https://sts-fips.aws-global.amazonaws.com", NULL},
    {"sts", "us-gov-east-1", 1, 0, 0, "https://sts.us-gov-east-1.amazonaws.com", NULL},
    {"sts", "us-gov-east-1", 1, 1, 0, "https://sts-fips.us-gov-east-1.api.aws", NULL},
    {"sts", "us-iso-west-1", 0, 0, 0, "https://sts.us-iso-west-1.c2s.ic.gov", NULL},
};

static void test_standard(void) {
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const s_case *c = &s_cases[i];
        dt_endpoint_flags flags = {c->fips, c->ds, c->global};
        dt_endpoint ep;
        dt_config_error err = {{0}};
        int rc = dt_endpoint_standard(c->service, c->region, &flags, &ep, &err);
        if (!c->url) {
            tap_ok(rc == -1 && strstr(err.message, "not available"),
                   "%s %s fips=%d ds=%d -> error: %s", c->service, c->region, c->fips, c->ds,
                   err.message);
            continue;
        }
        tap_streq(rc == 0 ? ep.url : err.message, c->url, "%s %s fips=%d ds=%d global=%d",
                  c->service, c->region, c->fips, c->ds, c->global);
        tap_streq(ep.signing_region, c->signing_region ? c->signing_region : c->region,
                  "  signing region");
        tap_streq(ep.signing_name, c->service, "  signing name");
    }
}

static void test_partitions(void) {
    static const struct {
        const char *region, *partition;
    } cases[] = {
        {"us-east-1", "aws"},
        {"mx-central-1", "aws"},
        {"aws-global", "aws"},
        {"cn-north-1", "aws-cn"},
        {"aws-cn-global", "aws-cn"},
        {"us-gov-west-1", "aws-us-gov"},
        {"aws-us-gov-global", "aws-us-gov"},
        {"us-iso-east-1", "aws-iso"},
        {"aws-iso-global", "aws-iso"},
        {"us-isob-east-1", "aws-iso-b"},
        {"aws-iso-b-global", "aws-iso-b"},
        {"eu-isoe-west-1", "aws-iso-e"},
        {"us-isof-south-1", "aws-iso-f"},
        {"us-gov-west", "aws"},
        {"cn-north-x", "aws"},
        {"local", "aws"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tap_streq(dt_partition_for_region(cases[i].region)->name, cases[i].partition,
                  "partition of %s", cases[i].region);
}

static void test_region_check(void) {
    static const char *const good[] = {"us-east-1", "a", "local", "x1", "eu-isoe-west-1"};
    static const char *const bad[] = {
        "",
        "US-EAST-1",
        "us east 1",
        "-us-east-1",
        "us-east-1-",
        "123",
        "us_east_1",
        "us.east.1",
        "us-east-1/",
        "us-east-1 # comment",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    dt_config_error err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        tap_ok(dt_region_check(good[i], &err) == 0, "valid region %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        tap_ok(dt_region_check(bad[i], &err) == -1 && strstr(err.message, "invalid region"),
               "invalid region \"%s\": %s", bad[i], err.message);
    dt_region_check("US-EAST-1", &err);
    tap_ok(strstr(err.message, "lower case") != NULL, "upper case hint");
    dt_region_check("us-east-1 # comment", &err);
    tap_ok(strstr(err.message, "comment") != NULL, "inline comment hint");
    dt_region_check("bad\x01\xff", &err);
    tap_ok(strstr(err.message, "bad??") != NULL, "control bytes not echoed raw: %s", err.message);
    dt_endpoint ep;
    tap_ok(dt_endpoint_standard("detective", "us east 1", NULL, &ep, &err) == -1,
           "invalid region refused by the endpoint rules too");
    tap_ok(dt_endpoint_standard("detective", "fips-", NULL, &ep, &err) == -1,
           "a pseudo region that strips to nothing is invalid");
    tap_ok(dt_endpoint_standard("s3", "us-east-1", NULL, &ep, &err) == -1 &&
               strstr(err.message, "unknown service"),
           "unknown service: %s", err.message);
}

static const char *s_env_table(void *ud, const char *name) {
    const char *const *kv = ud;
    for (; kv[0]; kv += 2)
        if (strcmp(kv[0], name) == 0) return kv[1];
    return NULL;
}

typedef struct s_fixture {
    dt_config cfg;
    dt_config_env env;
} s_fixture;

static void s_fixture_init(s_fixture *fx, const char *config_text, const char *const *vars) {
    memset(fx, 0, sizeof *fx);
    dt_config_error err;
    dt_config_parse(&fx->cfg.config, DT_CONFIG_FILE_CONFIG, "cfg", config_text, strlen(config_text),
                    &err);
    fx->cfg.config.exists = 1;
    fx->cfg.config.path = strdup("/fake/config");
    fx->env.getenv = s_env_table;
    fx->env.ud = (void *)vars;
}

static void s_expect(const char *what, const char *config_text, const char *const *vars,
                     const char *service, const char *region, const char *explicit_url,
                     const char *profile, const char *want_url, const char *want_source) {
    s_fixture fx;
    s_fixture_init(&fx, config_text, vars);
    dt_endpoint_request req = {service, region, explicit_url, profile, &fx.cfg, &fx.env};
    dt_endpoint ep;
    dt_config_error err = {{0}};
    int rc = dt_endpoint_resolve(&req, &ep, &err);
    if (!want_url) {
        tap_ok(rc == -1, "%s -> error: %s", what, err.message);
    } else {
        tap_streq(rc == 0 ? ep.url : err.message, want_url, "%s", what);
        tap_streq(rc == 0 ? ep.source : "", want_source, "  source");
    }
    dt_config_free(&fx.cfg);
}

static void test_configured(void) {
    const char *cfg = "[default]\n"
                      "endpoint_url = http://profile-global:1\n"
                      "services = local\n"
                      "[services local]\n"
                      "detective =\n"
                      "  endpoint_url = http://profile-detective:2\n"
                      "[profile fips]\n"
                      "use_fips_endpoint = true\n"
                      "[profile dual]\n"
                      "use_dualstack_endpoint = TRUE\n"
                      "[profile ignore]\n"
                      "ignore_configured_endpoint_urls = true\n"
                      "endpoint_url = http://ignored:3\n"
                      "[profile broken]\n"
                      "services = nowhere\n"
                      "[profile legacy]\n"
                      "sts_regional_endpoints = legacy\n"
                      "[profile badsts]\n"
                      "sts_regional_endpoints = global\n";
    const char *none[] = {NULL, NULL};
    const char *svc_env[] = {"AWS_ENDPOINT_URL_DETECTIVE",
                             "http://env-detective:4",
                             "AWS_ENDPOINT_URL",
                             "http://env-global:5",
                             NULL,
                             NULL};
    const char *global_env[] = {"AWS_ENDPOINT_URL", "http://env-global:5", NULL, NULL};
    const char *ignore_env[] = {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                "true",
                                "AWS_ENDPOINT_URL",
                                "http://env-global:5",
                                NULL,
                                NULL};
    const char *fips_env[] = {"AWS_USE_FIPS_ENDPOINT", "true", NULL, NULL};
    const char *nofips_env[] = {"AWS_USE_FIPS_ENDPOINT", "false", NULL, NULL};
    const char *legacy_env[] = {"AWS_STS_REGIONAL_ENDPOINTS", "legacy", NULL, NULL};
    const char *gd_env[] = {"AWS_ENDPOINT_URL_GUARDDUTY", "https://gd.local", NULL, NULL};
    const char *bad_env[] = {"AWS_ENDPOINT_URL", "localhost:4566", NULL, NULL};

    s_expect("explicit beats everything", cfg, svc_env, "detective", "us-east-1",
             "https://explicit.example", NULL, "https://explicit.example", "explicit");
    s_expect("explicit beats FIPS settings", cfg, fips_env, "detective", "us-east-1",
             "http://127.0.0.1:9", "fips", "http://127.0.0.1:9", "explicit");
    s_expect("AWS_ENDPOINT_URL_DETECTIVE", cfg, svc_env, "detective", "us-east-1", NULL, NULL,
             "http://env-detective:4", "env");
    s_expect("AWS_ENDPOINT_URL beats the config file", cfg, global_env, "detective", "us-east-1",
             NULL, NULL, "http://env-global:5", "env");
    s_expect("services section for the service", cfg, none, "detective", "us-east-1", NULL, NULL,
             "http://profile-detective:2", "profile");
    s_expect("profile endpoint_url for a service not in the services section", cfg, none,
             "guardduty", "us-east-1", NULL, NULL, "http://profile-global:1", "profile");
    s_expect("AWS_ENDPOINT_URL_GUARDDUTY is per service", cfg, gd_env, "guardduty", "us-east-1",
             NULL, NULL, "https://gd.local", "env");
    s_expect("AWS_ENDPOINT_URL_GUARDDUTY does not reach detective", cfg, gd_env, "detective",
             "us-east-1", NULL, NULL, "http://profile-detective:2", "profile");
    s_expect("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", cfg, ignore_env, "detective", "us-east-1", NULL,
             NULL, "https://api.detective.us-east-1.amazonaws.com", "standard");
    s_expect("ignore_configured_endpoint_urls in the profile", cfg, none, "detective", "eu-west-1",
             NULL, "ignore", "https://api.detective.eu-west-1.amazonaws.com", "standard");
    s_expect("use_fips_endpoint in the profile", cfg, none, "detective", "us-east-1", NULL, "fips",
             "https://api.detective-fips.us-east-1.amazonaws.com", "standard");
    s_expect("AWS_USE_FIPS_ENDPOINT=false beats the profile", cfg, nofips_env, "detective",
             "us-east-1", NULL, "fips", "https://api.detective.us-east-1.amazonaws.com",
             "standard");
    s_expect("AWS_USE_FIPS_ENDPOINT=true", cfg, fips_env, "guardduty", "us-west-2", NULL, "dual",
             "https://guardduty-fips.us-west-2.api.aws", "standard");
    s_expect("use_dualstack_endpoint in the profile", cfg, none, "sts", "eu-west-1", NULL, "dual",
             "https://sts.eu-west-1.api.aws", "standard");
    s_expect("services = a missing section", cfg, none, "detective", "us-east-1", NULL, "broken",
             NULL, NULL);
    s_expect("AWS_STS_REGIONAL_ENDPOINTS=legacy", cfg, legacy_env, "sts", "us-east-1", NULL, "fips",
             "https://sts-fips.us-east-1.amazonaws.com", "standard");
    s_expect("sts_regional_endpoints = legacy", cfg, none, "sts", "us-west-1", NULL, "legacy",
             "https://sts.amazonaws.com", "standard");
    s_expect("sts legacy setting ignored for other services", cfg, none, "detective", "us-west-1",
             NULL, "legacy", "https://api.detective.us-west-1.amazonaws.com", "standard");
    s_expect("sts_regional_endpoints with an invalid value", cfg, none, "sts", "us-west-1", NULL,
             "badsts", NULL, NULL);
    s_expect("endpoint URL without scheme", cfg, bad_env, "detective", "us-east-1", NULL, NULL,
             NULL, NULL);
    s_expect("explicit endpoint without host", cfg, none, "detective", "us-east-1", "https://",
             NULL, NULL, NULL);
    s_expect("named profile that does not exist", cfg, none, "detective", "us-east-1", NULL, "nope",
             NULL, NULL);
    s_expect("no region", cfg, none, "detective", NULL, NULL, NULL, NULL, NULL);
    s_expect("invalid region", cfg, none, "detective", "Us-East-1", NULL, "ignore", NULL, NULL);

    /* the STS global endpoint signs for us-east-1; a custom endpoint signs for the region */
    s_fixture fx;
    const char *legacy_env2[] = {"AWS_STS_REGIONAL_ENDPOINTS", "legacy", NULL, NULL};
    s_fixture_init(&fx, "", legacy_env2);
    dt_endpoint_request req = {"sts", "eu-west-2", NULL, NULL, &fx.cfg, &fx.env};
    dt_endpoint ep;
    dt_config_error err;
    tap_ok(dt_endpoint_resolve(&req, &ep, &err) == 0 &&
               strcmp(ep.url, "https://sts.amazonaws.com") == 0 &&
               strcmp(ep.signing_region, "us-east-1") == 0,
           "STS legacy global endpoint signs for us-east-1");
    req.endpoint = "http://127.0.0.1:1234";
    req.region = "fips-eu-west-2";
    tap_ok(dt_endpoint_resolve(&req, &ep, &err) == 0 && strcmp(ep.signing_region, "eu-west-2") == 0,
           "custom endpoint signs for the (pseudo-region-stripped) region");
    dt_config_free(&fx.cfg);
}

static void test_names(void) {
    static const char *const svcs[] = {"detective", "guardduty", "sts"};
    for (size_t i = 0; i < 3; i++) {
        const dt_service *m = dt_service_find(svcs[i]);
        char env[96], key[64], want_env[96], want_key[64];
        tap_ok(m != NULL &&
                   dt_endpoint_config_names(svcs[i], env, sizeof env, key, sizeof key) == 0,
               "%s known to the model and the resolver", svcs[i]);
        if (!m) continue;
        /* AWS rule: service id upper-cased with spaces as '_' / lower-cased for the file */
        size_t n = 0;
        snprintf(want_env, sizeof want_env, "AWS_ENDPOINT_URL_");
        n = strlen(want_env);
        for (const char *p = m->service_id; *p && n + 1 < sizeof want_env; p++)
            want_env[n++] = *p == ' ' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        want_env[n] = '\0';
        n = 0;
        for (const char *p = m->service_id; *p && n + 1 < sizeof want_key; p++)
            want_key[n++] = *p == ' ' ? '_' : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        want_key[n] = '\0';
        tap_streq(env, want_env, "%s: environment variable from the model's serviceId", svcs[i]);
        tap_streq(key, want_key, "%s: services-section key from the model's serviceId", svcs[i]);
        dt_endpoint ep;
        dt_config_error err;
        dt_endpoint_standard(svcs[i], "us-west-2", NULL, &ep, &err);
        tap_streq(ep.signing_name, m->signing_name, "%s: signing name matches the model", svcs[i]);
    }
}

int main(void) {
    test_standard();
    test_partitions();
    test_region_check();
    test_configured();
    test_names();
    return tap_done();
}
