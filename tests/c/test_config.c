/* test_config.c: the shared config/credentials file parser and loader (runtime/config.c).
 *
 * Expectations come from the documented behaviour of botocore's parser (Python's
 * RawConfigParser plus build_profile_map) and the AWS shared-config documentation; the
 * exhaustive comparison with botocore itself on tricky files is in tests/spec/config_spec.lua.
 * Covers: section kinds and profile prefix rules, comments, continuation lines, nested
 * sub-sections, [DEFAULT], merging, credentials-over-config precedence, malformed lines with
 * their line numbers, the size cap, missing files, modes, and path expansion. */
#include "config.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_parse(dt_config_file *f, dt_config_file_kind kind, const char *text,
                   dt_config_error *err) {
    memset(f, 0, sizeof *f);
    return dt_config_parse(f, kind, "test.ini", text, strlen(text), err);
}

static const char *s_get(const dt_config_file *f, dt_config_section_kind kind, const char *name,
                         const char *key) {
    return dt_config_section_get(dt_config_file_section(f, kind, name), key);
}

static const char *s_sub(const dt_config_file *f, dt_config_section_kind kind, const char *name,
                         const char *key, const char *subkey) {
    const dt_config_value *v = dt_config_section_find(dt_config_file_section(f, kind, name), key);
    if (!v || v->value) return NULL;
    for (size_t i = 0; i < v->n_sub; i++)
        if (strcmp(v->sub[i].key, subkey) == 0) return v->sub[i].value;
    return NULL;
}

static void s_expect_error(const char *text, int line, const char *what) {
    dt_config_file f;
    dt_config_error err = {{0}};
    int rc = s_parse(&f, DT_CONFIG_FILE_CONFIG, text, &err);
    char want[64];
    snprintf(want, sizeof want, "test.ini:%d:", line);
    tap_ok(rc == -1 && strncmp(err.message, want, strlen(want)) == 0,
           "malformed (%s) -> error at line %d: %s", what, line, err.message);
    tap_ok(f.n_sections == 0, "malformed (%s) -> nothing kept", what);
    dt_config_file_free(&f);
}

static void test_sections(void) {
    const char *text = "[default]\n"
                       "region = us-west-2\n"
                       "[profile dev]\n"
                       "region = eu-west-1\n"
                       "[profile \"with space\"]\n"
                       "region = ap-south-1\n"
                       "[profile   padded  ]\n"
                       "region = ca-central-1\n"
                       "[sso-session corp]\n"
                       "sso_start_url = https://example.awsapps.com/start\n"
                       "[services local]\n"
                       "detective =\n"
                       "  endpoint_url = http://127.0.0.1:4566\n"
                       "[profile]\n"
                       "region = dropped-1\n"
                       "[profile a b]\n"
                       "region = dropped-2\n"
                       "[plugins]\n"
                       "x = y\n"
                       "[ default ]\n"
                       "region = not-the-default\n";
    dt_config_file f;
    dt_config_error err;
    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG, text, &err) == 0, "config with every kind parses");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "region"), "us-west-2", "[default]");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "dev", "region"), "eu-west-1", "[profile dev]");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "with space", "region"), "ap-south-1",
              "[profile \"with space\"]: shell-style quoting");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "padded", "region"), "ca-central-1",
              "[profile   padded  ]: words split on blanks");
    tap_streq(s_get(&f, DT_SECTION_SSO_SESSION, "corp", "sso_start_url"),
              "https://example.awsapps.com/start", "[sso-session corp] has its own kind");
    tap_streq(s_sub(&f, DT_SECTION_SERVICES, "local", "detective", "endpoint_url"),
              "http://127.0.0.1:4566", "[services local] with a nested sub-section");
    tap_ok(dt_config_file_section(&f, DT_SECTION_PROFILE, "") == NULL &&
               dt_config_file_section(&f, DT_SECTION_PROFILE, "a") == NULL &&
               dt_config_file_section(&f, DT_SECTION_PROFILE, "profile") == NULL,
           "[profile] and [profile a b] are ignored, as botocore does");
    tap_streq(s_get(&f, DT_SECTION_OTHER, "plugins", "x"), "y", "other sections are kept");
    tap_streq(s_get(&f, DT_SECTION_OTHER, " default ", "region"), "not-the-default",
              "[ default ] is not the default profile (header text is not trimmed)");
    dt_config_file_free(&f);

    /* [profile default] also names the default profile; both forms merge */
    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG,
                   "[profile default]\nregion = us-east-2\n[default]\noutput = json\n", &err) == 0,
           "[profile default] parses");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "region"), "us-east-2",
              "[profile default] is the default profile");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "output"), "json",
              "[default] after it merges into the same profile");
    dt_config_file_free(&f);

    /* in the credentials file the header is the profile name, whatever it looks like */
    tap_ok(s_parse(&f, DT_CONFIG_FILE_CREDENTIALS,
                   "[default]\naws_access_key_id = A\n[profile x]\naws_access_key_id = B\n"
                   "[x]\naws_access_key_id = C\n",
                   &err) == 0,
           "credentials file parses");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "profile x", "aws_access_key_id"), "B",
              "credentials: [profile x] is a profile named \"profile x\"");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "x", "aws_access_key_id"), "C",
              "credentials: [x] is profile x");
    dt_config_file_free(&f);
}

static void test_lines(void) {
    const char *text = "# full-line comment\n"
                       "; another\n"
                       "[default]\n"
                       "   # indented comment\n"
                       "region = us-west-2 # kept: botocore has no inline comments\n"
                       "Output: json\n"
                       "AWS_Access_Key_ID=AKID\n"
                       "url = http://localhost:8000/a=b\n"
                       "empty =\n"
                       "spaced   =    value with  inner  spaces   \n"
                       "multi = first\n"
                       "  second\n"
                       "\n"
                       "  third\n"
                       "s3 =\n"
                       "  max_concurrency = 10\n"
                       "  # a comment inside\n"
                       "\n"
                       "\tAddressing_Style = path\n"
                       "  x = a = b\n"
                       "after = nested\n"
                       "region = us-east-1\n";
    dt_config_file f;
    dt_config_error err;
    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG, text, &err) == 0, "lines parse: %s", err.message);
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "region"), "us-east-1",
              "a repeated key: the later wins");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "output"), "json",
              "':' is a delimiter too, and keys are lower-cased");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "aws_access_key_id"), "AKID",
              "AWS_Access_Key_ID is aws_access_key_id");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "url"), "http://localhost:8000/a=b",
              "the first delimiter splits; the rest is value");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "empty"), "", "empty value");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "spaced"), "value with  inner  spaces",
              "whitespace trimmed around, kept inside");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "multi"), "first\nsecond\n\nthird",
              "continuation lines (and a blank line between them) join with newlines");
    tap_streq(s_sub(&f, DT_SECTION_PROFILE, "default", "s3", "max_concurrency"), "10",
              "nested sub-section");
    tap_streq(s_sub(&f, DT_SECTION_PROFILE, "default", "s3", "Addressing_Style"), "path",
              "nested keys keep their case; tab indentation counts");
    tap_streq(s_sub(&f, DT_SECTION_PROFILE, "default", "s3", "x"), "a = b",
              "nested value split at the first '='");
    tap_ok(dt_config_section_get(dt_config_file_section(&f, DT_SECTION_PROFILE, "default"), "s3") ==
               NULL,
           "a sub-section has no plain value");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "after"), "nested",
              "an unindented key ends the sub-section");
    dt_config_file_free(&f);

    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG,
                   "\xEF\xBB\xBF[default]\r\nregion = us-west-1\r\n[profile b]\rregion = b-1\r",
                   &err) == 0,
           "BOM, CRLF and CR line ends");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "region"), "us-west-1", "CRLF value");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "b", "region"), "b-1", "CR-only line ends");
    dt_config_file_free(&f);

    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG, "[default] ; note\nregion=x\n[a]b]\nk=v\n", &err) ==
               0,
           "header followed by text");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "default", "region"), "x",
              "[default] ; note -> [default]");
    tap_streq(s_get(&f, DT_SECTION_OTHER, "a]b", "k"), "v", "header runs to the last ']'");
    dt_config_file_free(&f);

    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG,
                   "[DEFAULT]\nregion = from-defaults\noutput = text\n[profile a]\nregion = "
                   "own\n[profile b]\n",
                   &err) == 0,
           "[DEFAULT] section");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "a", "region"), "own", "own key beats [DEFAULT]");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "a", "output"), "text", "[DEFAULT] key inherited");
    tap_streq(s_get(&f, DT_SECTION_PROFILE, "b", "region"), "from-defaults",
              "[DEFAULT] reaches an empty section");
    tap_ok(dt_config_file_section(&f, DT_SECTION_OTHER, "DEFAULT") == NULL,
           "[DEFAULT] is not a section of its own");
    dt_config_file_free(&f);

    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG,
                   "[profile a]\nx = 1\n[profile b]\n[profile a]\ny = 2\n", &err) == 0,
           "repeated section");
    tap_ok(f.n_sections == 2 && s_get(&f, DT_SECTION_PROFILE, "a", "x") &&
               s_get(&f, DT_SECTION_PROFILE, "a", "y"),
           "a repeated section merges into the first");
    dt_config_file_free(&f);

    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG, "", &err) == 0 && f.n_sections == 0, "empty text");
    dt_config_file_free(&f);
    tap_ok(s_parse(&f, DT_CONFIG_FILE_CONFIG, "# only\n\n; comments\n", &err) == 0 &&
               f.n_sections == 0,
           "comments only");
    dt_config_file_free(&f);
}

static void test_errors(void) {
    s_expect_error("region = us-east-1\n[default]\n", 1, "setting before any section");
    s_expect_error("\n# c\n[default]\nregion = x\njust words\n", 5, "no delimiter");
    s_expect_error("[default]\n = value\n", 2, "empty key");
    s_expect_error("[default]\ns3 =\n  max_concurrency = 1\n  oops\n", 4,
                   "nested line without '='");
    s_expect_error("[]\n", 1, "empty header");
    s_expect_error("[default\nk=v\n", 1, "unclosed header");

    /* a malformed line may hold a secret: the message never quotes it */
    dt_config_file f;
    dt_config_error err;
    s_parse(&f, DT_CONFIG_FILE_CREDENTIALS, "[default]\nwJalrXUtnFEMI/K7MDENG\n", &err);
    tap_ok(strstr(err.message, "wJalr") == NULL, "error does not quote the line: %s", err.message);
    dt_config_file_free(&f);

    char nul[] = "[default]\nregion = a\0b\n";
    memset(&f, 0, sizeof f);
    tap_ok(dt_config_parse(&f, DT_CONFIG_FILE_CONFIG, "t", nul, sizeof nul - 1, &err) == -1 &&
               strstr(err.message, "t:2:"),
           "NUL byte -> error with its line: %s", err.message);
    dt_config_file_free(&f);

    size_t big = DT_CONFIG_MAX_FILE_BYTES + 1;
    char *text = malloc(big);
    memset(text, '#', big);
    memset(&f, 0, sizeof f);
    tap_ok(dt_config_parse(&f, DT_CONFIG_FILE_CONFIG, "big", text, big, &err) == -1 &&
               strstr(err.message, "limit"),
           "text over the cap refused: %s", err.message);
    dt_config_file_free(&f);
    free(text);
}

static void s_write(const char *path, const char *text, mode_t mode) {
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    chmod(path, mode);
}

static const char *s_env_table(void *ud, const char *name) {
    const char *const *kv = ud;
    for (; kv[0]; kv += 2)
        if (strcmp(kv[0], name) == 0) return kv[1];
    return NULL;
}

static void test_files(void) {
    char dir[] = "/tmp/dt_test_config_XXXXXX";
    if (!mkdtemp(dir)) {
        tap_ok(0, "mkdtemp");
        return;
    }
    char aws[100], cfg[200], cred[200], big[200];
    snprintf(aws, sizeof aws, "%s/.aws", dir);
    mkdir(aws, 0700);
    snprintf(cfg, sizeof cfg, "%s/config", aws);
    snprintf(cred, sizeof cred, "%s/credentials", aws);
    snprintf(big, sizeof big, "%s/big", dir);
    s_write(cfg,
            "[default]\nregion = us-west-2\noutput = json\n[profile dev]\nregion = eu-west-1\n"
            "aws_access_key_id = CFG\n",
            0600);
    s_write(cred, "[default]\nregion = from-credentials\n[dev]\naws_access_key_id = CRED\n", 0644);

    const char *vars[] = {"HOME", dir, NULL, NULL};
    dt_config_env env = {s_env_table, (void *)vars};
    dt_config c;
    dt_config_error err;
    dt_config_load_options o = {NULL, NULL, &env};
    tap_ok(dt_config_load(&c, &o, &err) == 0, "load from $HOME/.aws: %s", err.message);
    tap_ok(c.config.exists && c.credentials.exists, "both files found through HOME");
    tap_streq(c.config.path, cfg, "config path expanded from ~/.aws/config");
    tap_streq(dt_config_profile_get(&c, "default", "region"), "from-credentials",
              "credentials file beats config file for the same profile's key");
    tap_streq(dt_config_profile_get(&c, "default", "output"), "json",
              "config-only keys still visible");
    tap_streq(dt_config_profile_get(&c, "dev", "aws_access_key_id"), "CRED",
              "[dev] of credentials beats [profile dev] of config");
    tap_ok(dt_config_profile_exists(&c, "dev") && !dt_config_profile_exists(&c, "nope"),
           "profile_exists");
    tap_ok(dt_config_check_profile(&c, "default", &err) == 0, "default profile always ok");
    tap_ok(dt_config_check_profile(&c, "nope", &err) == -1 && strstr(err.message, cfg) &&
               strstr(err.message, cred) && strstr(err.message, "[profile nope]"),
           "named missing profile -> error names both files: %s", err.message);
    char warn[1200];
    tap_ok(dt_config_credentials_mode_warning(&c, warn, sizeof warn) == 1 && strstr(warn, "0644") &&
               strstr(warn, cred),
           "mode 0644 credentials file -> warning: %s", warn);
    tap_ok((c.credentials.mode & 0777) == 0644, "mode recorded");
    dt_config_free(&c);

    chmod(cred, 0600);
    tap_ok(dt_config_load(&c, &o, &err) == 0 &&
               dt_config_credentials_mode_warning(&c, warn, sizeof warn) == 0,
           "mode 0600 -> no warning");
    dt_config_free(&c);

    /* explicit paths and variables */
    const char *vars2[] = {"HOME",
                           "/nonexistent-home",
                           "AWS_CONFIG_FILE",
                           cred,
                           "AWS_SHARED_CREDENTIALS_FILE",
                           "/nonexistent/credentials",
                           NULL,
                           NULL};
    dt_config_env env2 = {s_env_table, (void *)vars2};
    dt_config_load_options o2 = {NULL, NULL, &env2};
    tap_ok(dt_config_load(&c, &o2, &err) == 0, "AWS_CONFIG_FILE / missing credentials file");
    tap_ok(c.config.exists && !c.credentials.exists && c.credentials.n_sections == 0,
           "missing file is empty, not an error");
    tap_ok(dt_config_file_section(&c.config, DT_SECTION_PROFILE, "default") != NULL,
           "file read with config rules");
    dt_config_free(&c);

    dt_config_load_options o3 = {dir, "/nonexistent", &env2};
    tap_ok(dt_config_load(&c, &o3, &err) == -1 && strstr(err.message, "directory"),
           "a directory -> error: %s", err.message);

    FILE *fp = fopen(big, "w");
    for (size_t i = 0; i <= DT_CONFIG_MAX_FILE_BYTES / 64; i++)
        fputs("# ------------------------------------------------------------ #\n", fp);
    fclose(fp);
    dt_config_load_options o4 = {big, "/nonexistent", &env2};
    tap_ok(dt_config_load(&c, &o4, &err) == -1 && strstr(err.message, "limit") &&
               strstr(err.message, big),
           "file over 1 MiB refused: %s", err.message);

    s_write(big, "[default]\nregion = a\n\n[profile x\n", 0600);
    tap_ok(dt_config_load(&c, &o4, &err) == -1 && strstr(err.message, big) &&
               strstr(err.message, ":4:"),
           "malformed file -> path:line: %s", err.message);

    unlink(cfg);
    unlink(cred);
    unlink(big);
    rmdir(aws);
    rmdir(dir);
}

static void test_paths(void) {
    const char *vars[] = {"HOME", "/home/u", "X", "xval", "EMPTY", "", NULL, NULL};
    dt_config_env env = {s_env_table, (void *)vars};
    char out[512];
    dt_config_error err;
    dt_config_expand_path("~/.aws/config", &env, out, sizeof out, &err);
    tap_streq(out, "/home/u/.aws/config", "~ -> HOME");
    dt_config_expand_path("~", &env, out, sizeof out, &err);
    tap_streq(out, "/home/u", "~ alone");
    dt_config_expand_path("$X/a/${X}/$UNKNOWN/${UNKNOWN}/$", &env, out, sizeof out, &err);
    tap_streq(out, "xval/a/xval/$UNKNOWN/${UNKNOWN}/$",
              "$VAR and ${VAR} expand; unknown ones stay");
    dt_config_expand_path("/a/~/b", &env, out, sizeof out, &err);
    tap_streq(out, "/a/~/b", "~ only at the start");
    dt_config_expand_path("~root/x", &env, out, sizeof out, &err);
    tap_ok(strcmp(out, "~root/x") != 0 && strstr(out, "/x"), "~user: %s", out);
    tap_ok(dt_config_env_get(&env, "EMPTY") == NULL, "empty variable counts as unset");
    tap_streq(dt_config_profile_name(NULL, &env), "default", "no AWS_PROFILE -> default");
    const char *vars2[] = {"AWS_PROFILE", "p", NULL, NULL};
    dt_config_env env2 = {s_env_table, (void *)vars2};
    tap_streq(dt_config_profile_name(NULL, &env2), "p", "AWS_PROFILE");
    tap_streq(dt_config_profile_name("q", &env2), "q", "explicit beats AWS_PROFILE");
    tap_ok(dt_config_is_true("true") && dt_config_is_true("TRUE") && !dt_config_is_true("1") &&
               !dt_config_is_true("yes") && !dt_config_is_true(NULL),
           "booleans as botocore's ensure_boolean");
}

int main(void) {
    test_sections();
    test_lines();
    test_errors();
    test_files();
    test_paths();
    return tap_done();
}
