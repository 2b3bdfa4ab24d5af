/* test_credentials.c: the provider chain and the first providers (runtime/credentials*.c).
 *
 * Precedence explicit > environment > credentials file > config file; a profile named
 * explicitly switches the environment keys off ($AWS_PROFILE does not), as botocore's
 * create_credential_resolver does; half key pairs are hard errors; the final message lists
 * every place searched; and the provider interface itself (a custom chain with fake
 * providers, the named-profile gate). config_spec.lua compares the same rules with botocore. */
#include "config.h"
#include "credentials.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void s_init(s_fixture *fx, const char *config_text, const char *creds_text,
                   const char *const *vars) {
    memset(fx, 0, sizeof *fx);
    dt_config_error err;
    if (config_text) {
        dt_config_parse(&fx->cfg.config, DT_CONFIG_FILE_CONFIG, "c", config_text,
                        strlen(config_text), &err);
        fx->cfg.config.exists = 1;
    }
    if (creds_text) {
        dt_config_parse(&fx->cfg.credentials, DT_CONFIG_FILE_CREDENTIALS, "k", creds_text,
                        strlen(creds_text), &err);
        fx->cfg.credentials.exists = 1;
    }
    fx->cfg.config.path = strdup("/h/.aws/config");
    fx->cfg.credentials.path = strdup("/h/.aws/credentials");
    fx->env.getenv = s_env_table;
    fx->env.ud = (void *)vars;
}

static int s_resolve(s_fixture *fx, const char *profile, const dt_credentials_values *values,
                     dt_credentials *out, dt_config_error *err) {
    dt_credentials_request req = {profile, values, &fx->cfg, &fx->env};
    memset(err, 0, sizeof *err);
    return dt_credentials_resolve(&req, out, err);
}

static const char *CONFIG = "[default]\n"
                            "aws_access_key_id = CFG_DEFAULT\n"
                            "aws_secret_access_key = cfg-default-secret\n"
                            "[profile both]\n"
                            "aws_access_key_id = CFG_BOTH\n"
                            "aws_secret_access_key = cfg-both-secret\n"
                            "[profile cfgonly]\n"
                            "aws_access_key_id = CFG_ONLY\n"
                            "aws_secret_access_key = cfg-only-secret\n"
                            "aws_session_token = cfg-only-token\n"
                            "[profile nokeys]\n"
                            "region = us-east-1\n"
                            "[profile halfcfg]\n"
                            "aws_access_key_id = HALF\n"
                            "[profile sub]\n"
                            "aws_access_key_id =\n"
                            "  nested = 1\n"
                            "aws_secret_access_key = x\n";
static const char *CREDS = "[default]\n"
                           "aws_access_key_id = CRED_DEFAULT\n"
                           "aws_secret_access_key = cred-default-secret\n"
                           "[both]\n"
                           "aws_access_key_id = CRED_BOTH\n"
                           "aws_secret_access_key = cred-both-secret\n"
                           "aws_security_token = cred-both-legacy-token\n"
                           "[halfcred]\n"
                           "aws_secret_access_key = only-the-secret-value\n"
                           "[splitpair]\n"
                           "aws_access_key_id = SPLIT\n";

static void test_precedence(void) {
    const char *env_keys[] = {"AWS_ACCESS_KEY_ID",
                              "ENV_ID",
                              "AWS_SECRET_ACCESS_KEY",
                              "env-secret",
                              "AWS_SESSION_TOKEN",
                              "env-token",
                              NULL,
                              NULL};
    const char *env_profile[] = {"AWS_ACCESS_KEY_ID",
                                 "ENV_ID",
                                 "AWS_SECRET_ACCESS_KEY",
                                 "env-secret",
                                 "AWS_PROFILE",
                                 "both",
                                 NULL,
                                 NULL};
    const char *only_profile[] = {"AWS_PROFILE", "both", NULL, NULL};
    const char *none[] = {NULL, NULL};
    s_fixture fx;
    dt_credentials c = {0};
    dt_config_error err;

    s_init(&fx, CONFIG, CREDS, env_keys);
    dt_credentials_values v = {"EXPLICIT_ID", "explicit-secret", NULL, 0, NULL};
    tap_ok(s_resolve(&fx, NULL, &v, &c, &err) == 0, "explicit values");
    tap_streq(c.access_key_id, "EXPLICIT_ID", "explicit beats environment and files");
    tap_streq(c.source, "explicit", "  source explicit");
    tap_ok(c.session_token == NULL && c.expiration == 0, "  no token, no expiration");
    dt_credentials_values v2 = {"E", "S", "T", 1700000000, "emulator"};
    s_resolve(&fx, "both", &v2, &c, &err);
    tap_ok(strcmp(c.source, "emulator") == 0 && strcmp(c.session_token, "T") == 0 &&
               c.expiration == 1700000000,
           "explicit source, token and expiration are kept");

    tap_ok(s_resolve(&fx, NULL, NULL, &c, &err) == 0, "environment");
    tap_streq(c.access_key_id, "ENV_ID", "environment beats the files");
    tap_streq(c.session_token, "env-token", "  AWS_SESSION_TOKEN");
    tap_streq(c.source, "env", "  source env");

    tap_ok(s_resolve(&fx, "both", NULL, &c, &err) == 0, "explicit profile");
    tap_streq(c.access_key_id, "CRED_BOTH", "a profile named explicitly ignores the env keys");
    tap_streq(c.session_token, "cred-both-legacy-token", "  aws_security_token accepted");
    tap_streq(c.source, "shared-credentials-file", "  source shared-credentials-file");
    dt_credentials_clear(&c);
    dt_config_free(&fx.cfg);

    s_init(&fx, CONFIG, CREDS, env_profile);
    s_resolve(&fx, NULL, NULL, &c, &err);
    tap_streq(c.access_key_id, "ENV_ID", "AWS_PROFILE is not explicit: env keys still win");
    dt_config_free(&fx.cfg);

    s_init(&fx, CONFIG, CREDS, only_profile);
    s_resolve(&fx, NULL, NULL, &c, &err);
    tap_streq(c.access_key_id, "CRED_BOTH", "AWS_PROFILE selects the profile");
    s_resolve(&fx, "cfgonly", NULL, &c, &err);
    tap_streq(c.access_key_id, "CFG_ONLY", "explicit profile beats AWS_PROFILE");
    tap_streq(c.session_token, "cfg-only-token", "  token from the config file");
    tap_streq(c.source, "config-file", "  source config-file");
    dt_config_free(&fx.cfg);

    s_init(&fx, CONFIG, CREDS, none);
    s_resolve(&fx, NULL, NULL, &c, &err);
    tap_streq(c.access_key_id, "CRED_DEFAULT", "default profile: credentials file wins");
    dt_config_free(&fx.cfg);
    s_init(&fx, CONFIG, NULL, none);
    s_resolve(&fx, NULL, NULL, &c, &err);
    tap_streq(c.access_key_id, "CFG_DEFAULT", "no credentials file: the config file's keys");
    dt_config_free(&fx.cfg);

    const char *legacy[] = {"AWS_ACCESS_KEY_ID",
                            "A",
                            "AWS_SECRET_ACCESS_KEY",
                            "B",
                            "AWS_SECURITY_TOKEN",
                            "legacy",
                            "AWS_CREDENTIAL_EXPIRATION",
                            "2030-01-02T03:04:05Z",
                            NULL,
                            NULL};
    s_init(&fx, NULL, NULL, legacy);
    tap_ok(s_resolve(&fx, NULL, NULL, &c, &err) == 0, "env with expiration");
    tap_streq(c.session_token, "legacy", "AWS_SECURITY_TOKEN as a fallback");
    tap_ok(c.expiration == 1893553445, "AWS_CREDENTIAL_EXPIRATION -> epoch seconds (%lld)",
           (long long)c.expiration);
    dt_config_free(&fx.cfg);
    dt_credentials_clear(&c);
    tap_ok(c.access_key_id == NULL && c.secret_access_key == NULL, "clear empties the struct");
    dt_credentials_clear(&c);
}

static void s_expect_error(const char *what, const char *profile,
                           const dt_credentials_values *values, const char *const *vars,
                           const char *want, const char *secret) {
    s_fixture fx;
    s_init(&fx, CONFIG, CREDS, vars);
    dt_credentials c = {0};
    dt_config_error err;
    int rc = s_resolve(&fx, profile, values, &c, &err);
    tap_ok(rc == -1 && strstr(err.message, want) != NULL, "%s -> %s", what, err.message);
    if (secret) tap_ok(strstr(err.message, secret) == NULL, "  message has no secret");
    tap_ok(c.access_key_id == NULL, "  nothing returned");
    dt_config_free(&fx.cfg);
}

static void test_errors(void) {
    const char *none[] = {NULL, NULL};
    const char *half_env[] = {"AWS_ACCESS_KEY_ID", "ENV_ID", NULL, NULL};
    const char *half_env2[] = {"AWS_SECRET_ACCESS_KEY", "env-secret-value", NULL, NULL};
    const char *bad_exp[] = {"AWS_ACCESS_KEY_ID",
                             "A",
                             "AWS_SECRET_ACCESS_KEY",
                             "B",
                             "AWS_CREDENTIAL_EXPIRATION",
                             "tomorrow",
                             NULL,
                             NULL};
    const char *missing_profile[] = {"AWS_PROFILE", "ghost", NULL, NULL};
    dt_credentials_values half = {"ID", NULL, NULL, 0, NULL};

    s_expect_error("explicit half pair", NULL, &half, none,
                   "explicit credentials: access_key_id is set but secret_access_key is not", NULL);
    s_expect_error("env id without secret", NULL, NULL, half_env,
                   "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not", NULL);
    s_expect_error("env secret without id", NULL, NULL, half_env2,
                   "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not", "env-secret-value");
    s_expect_error("bad AWS_CREDENTIAL_EXPIRATION", NULL, NULL, bad_exp,
                   "AWS_CREDENTIAL_EXPIRATION", NULL);
    s_expect_error("config file half pair", "halfcfg", NULL, none,
                   "/h/.aws/config:14: [profile halfcfg] has aws_access_key_id but no "
                   "aws_secret_access_key",
                   NULL);
    s_expect_error("credentials file half pair", "halfcred", NULL, none,
                   "/h/.aws/credentials:9: [halfcred] has aws_secret_access_key but no "
                   "aws_access_key_id",
                   "only-the-secret-value");
    s_expect_error("no pair assembled across files", "splitpair", NULL, none,
                   "[splitpair] has aws_access_key_id but no aws_secret_access_key", NULL);
    s_expect_error("a key given as a sub-section", "sub", NULL, none, "must be a plain value",
                   NULL);
    s_expect_error("explicit profile missing from both files", "ghost", NULL, none,
                   "profile \"ghost\" not found: looked for [profile ghost] in /h/.aws/config "
                   "and [ghost] in /h/.aws/credentials",
                   NULL);
    s_expect_error("AWS_PROFILE missing from both files", NULL, NULL, missing_profile,
                   "profile \"ghost\" not found", NULL);
}

static void test_searched(void) {
    const char *none[] = {NULL, NULL};
    s_fixture fx;
    dt_credentials c = {0};
    dt_config_error err;

    s_init(&fx, CONFIG, CREDS, none);
    s_resolve(&fx, "nokeys", NULL, &c, &err);
    tap_streq(err.message,
              "no credentials found for profile \"nokeys\": looked in explicit credentials, "
              "environment (not used: a profile was named explicitly), /h/.aws/credentials "
              "[nokeys] (no such section), /h/.aws/config [profile nokeys]",
              "every searched place, explicit profile");
    dt_config_free(&fx.cfg);

    const char *p[] = {"AWS_PROFILE", "nokeys", NULL, NULL};
    s_init(&fx, CONFIG, CREDS, p);
    s_resolve(&fx, NULL, NULL, &c, &err);
    tap_streq(err.message,
              "no credentials found for profile \"nokeys\": looked in explicit credentials, "
              "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), /h/.aws/credentials "
              "[nokeys] (no such section), /h/.aws/config [profile nokeys]",
              "every searched place, AWS_PROFILE");
    dt_config_free(&fx.cfg);

    s_init(&fx, NULL, NULL, none);
    s_resolve(&fx, NULL, NULL, &c, &err);
    tap_streq(err.message,
              "no credentials found for profile \"default\": looked in explicit credentials, "
              "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), /h/.aws/credentials "
              "[default] (file missing), /h/.aws/config [default] (file missing)",
              "default profile, no files: not a missing-profile error");
    dt_config_free(&fx.cfg);
}

/* --- the interface itself: a chain of fake providers ------------------------------------- */

static int s_calls;

static dt_credentials_status s_fake_nothing(const dt_credentials_provider *self,
                                            const dt_credentials_context *ctx, dt_credentials *out,
                                            dt_buf *searched, dt_config_error *err) {
    (void)out;
    (void)err;
    s_calls++;
    dt_credentials_searched_add(searched, "%s for %s", (const char *)self->data, ctx->profile);
    return DT_CREDENTIALS_NOT_FOUND;
}

static dt_credentials_status s_fake_found(const dt_credentials_provider *self,
                                          const dt_credentials_context *ctx, dt_credentials *out,
                                          dt_buf *searched, dt_config_error *err) {
    (void)ctx;
    (void)searched;
    (void)err;
    s_calls++;
    dt_credentials_set(out, "FAKE", "fake-secret", NULL, 42, self->name);
    return DT_CREDENTIALS_FOUND;
}

static dt_credentials_status s_fake_error(const dt_credentials_provider *self,
                                          const dt_credentials_context *ctx, dt_credentials *out,
                                          dt_buf *searched, dt_config_error *err) {
    (void)self;
    (void)ctx;
    (void)searched;
    s_calls++;
    dt_credentials_set(out, "PARTIAL", "partial", NULL, 0, "x"); /* must be cleared by the chain */
    dt_config_error_set(err, "fake: broken");
    return DT_CREDENTIALS_ERROR;
}

static void test_interface(void) {
    const char *none[] = {NULL, NULL};
    s_fixture fx;
    s_init(&fx, "[profile p]\nregion = x\n", NULL, none);
    dt_credentials_provider a = {"a", 0, s_fake_nothing, "place A"};
    dt_credentials_provider b = {"b", DT_CREDENTIALS_USES_PROFILE, s_fake_nothing, "place B"};
    dt_credentials_provider found = {"fake", 0, s_fake_found, NULL};
    dt_credentials_provider broken = {"broken", 0, s_fake_error, NULL};
    dt_credentials_context ctx = {"p", 1, &fx.cfg, &fx.env};
    dt_credentials c = {0};
    dt_config_error err;

    const dt_credentials_provider *chain1[] = {&a, &b};
    tap_ok(dt_credentials_chain_resolve(chain1, 2, &ctx, &c, &err) == -1, "nothing found");
    tap_streq(err.message,
              "no credentials found for profile \"p\": looked in place A for p, "
              "place B for p",
              "providers' searched places in order");

    const dt_credentials_provider *chain2[] = {&a, &found, &b};
    s_calls = 0;
    tap_ok(dt_credentials_chain_resolve(chain2, 3, &ctx, &c, &err) == 0 &&
               strcmp(c.access_key_id, "FAKE") == 0 && strcmp(c.source, "fake") == 0 &&
               c.expiration == 42,
           "first found wins");
    tap_ok(s_calls == 2, "later providers not asked");

    const dt_credentials_provider *chain3[] = {&broken, &found};
    s_calls = 0;
    tap_ok(dt_credentials_chain_resolve(chain3, 2, &ctx, &c, &err) == -1 &&
               strcmp(err.message, "fake: broken") == 0 && s_calls == 1,
           "a hard error stops the chain");
    tap_ok(c.access_key_id == NULL, "partial output cleared on error");

    dt_credentials_context ghost = {"ghost", 1, &fx.cfg, &fx.env};
    const dt_credentials_provider *chain4[] = {&a, &b};
    s_calls = 0;
    tap_ok(dt_credentials_chain_resolve(chain4, 2, &ghost, &c, &err) == -1 &&
               strstr(err.message, "profile \"ghost\" not found") && s_calls == 1,
           "named profile checked before the first profile-reading provider");
    const dt_credentials_provider *chain5[] = {&found, &b};
    tap_ok(dt_credentials_chain_resolve(chain5, 2, &ghost, &c, &err) == 0,
           "...but not when an earlier provider already found credentials");
    dt_credentials_clear(&c);
    dt_config_free(&fx.cfg);
}

int main(void) {
    test_precedence();
    test_errors();
    test_searched();
    test_interface();
    return tap_done();
}
