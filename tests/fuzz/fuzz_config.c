/* fuzz_config.c: libFuzzer target for the shared config/credentials file parser
 * (runtime/config.c). The first byte picks the file kind; the rest is the file text.
 * After a successful parse every section and value is walked and looked up again, the
 * merged profile view is queried, and path expansion runs on each value (with an
 * injected environment, so nothing depends on the machine's). */
#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *s_getenv(void *ud, const char *name) {
    (void)ud;
    if (strcmp(name, "HOME") == 0) return "/home/fuzz";
    if (strcmp(name, "AWS_PROFILE") == 0) return "dev";
    if (strcmp(name, "X") == 0) return "expanded";
    return NULL;
}

static void s_walk(const dt_config_file *f, const dt_config *both, const dt_config_env *env) {
    for (size_t i = 0; i < f->n_sections; i++) {
        const dt_config_section *s = &f->sections[i];
        FZ_CHECK(s->name != NULL, "section %zu has no name", i);
        FZ_CHECK(dt_config_file_section(f, s->kind, s->name) != NULL, "section '%s' not found",
                 s->name);
        for (size_t j = 0; j < s->n_values; j++) {
            const dt_config_value *v = &s->values[j];
            FZ_CHECK(v->key != NULL, "value without key");
            FZ_CHECK(dt_config_section_find(s, v->key) != NULL, "key not found again");
            FZ_CHECK(v->value != NULL || v->n_sub == 0 || v->sub != NULL, "sub-section array");
            for (size_t k = 0; k < v->n_sub; k++)
                FZ_CHECK(v->sub[k].key && v->sub[k].value, "nested value incomplete");
            if (v->value && v->value[0] != '~') {
                /* ~user would consult the password database; every other form is pure */
                char out[512];
                dt_config_error err;
                (void)dt_config_expand_path(v->value, env, out, sizeof out, &err);
            }
        }
        if (s->kind == DT_SECTION_PROFILE) {
            dt_config_error err;
            FZ_CHECK(dt_config_profile_exists(both, s->name), "profile '%s' missing", s->name);
            (void)dt_config_check_profile(both, s->name, &err);
            (void)dt_config_profile_get(both, s->name, "region");
            (void)dt_config_profile_get(both, s->name, "aws_secret_access_key");
            char header[300];
            dt_config_profile_header(DT_CONFIG_FILE_CONFIG, s->name, header, sizeof header);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    dt_config_file_kind kind = (data[0] & 1) ? DT_CONFIG_FILE_CREDENTIALS : DT_CONFIG_FILE_CONFIG;
    dt_config c;
    memset(&c, 0, sizeof c);
    dt_config_file *f = kind == DT_CONFIG_FILE_CONFIG ? &c.config : &c.credentials;
    dt_config_error err;
    err.message[0] = '\0';
    int rc = dt_config_parse(f, kind, "fuzz", (const char *)data + 1, size - 1, &err);
    if (rc != 0) {
        FZ_CHECK(err.message[0] != '\0', "parse failed without a message");
        FZ_CHECK(f->n_sections == 0, "failed parse left sections");
    } else {
        dt_config_env env = {s_getenv, NULL};
        s_walk(f, &c, &env);
        (void)dt_config_profile_name(NULL, &env);
        char warning[256];
        (void)dt_config_credentials_mode_warning(&c, warning, sizeof warning);
    }
    dt_config_free(&c);
    return 0;
}
