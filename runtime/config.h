/* config.h: the shared AWS config and credentials files (~/.aws/config, ~/.aws/credentials),
 * read the way botocore and the AWS CLI read them, plus the small environment helpers every
 * resolver (region, endpoint, credentials) shares: an injectable getenv and path expansion.
 *
 * The parser follows Python's RawConfigParser as botocore configures it: `=` or `:` between
 * key and value, full-line comments only (`#`/`;`; a `#` later in a value is part of the
 * value), lower-cased keys, indented continuation lines, nested sub-sections for a key whose
 * value starts on the next line, and a [DEFAULT] section whose keys every other section of
 * the same file inherits. Deliberate differences, all more lenient: a repeated section or key
 * merges (later keys win) where botocore rejects the file, a UTF-8 byte order mark is skipped,
 * and bytes are not checked for UTF-8. Files over DT_CONFIG_MAX_FILE_BYTES are refused.
 *
 * It does not decide what the settings mean (region.c, endpoint.c, credentials_*.c do) and it
 * knows nothing of Lua. */
#ifndef DT_CONFIG_H
#define DT_CONFIG_H

#include <stddef.h>

#define DT_CONFIG_MAX_FILE_BYTES ((size_t)1 << 20)

/* Shared by config, region, endpoint and credentials resolution. Messages name files,
 * line numbers, profiles and variables, never a value read from a credentials source. */
typedef struct dt_config_error {
    char message[1024];
} dt_config_error;

void dt_config_error_set(dt_config_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A getenv-like lookup so tests can inject an environment. NULL fn = the process environment. */
typedef const char *(*dt_getenv_fn)(void *ud, const char *name);
typedef struct dt_config_env {
    dt_getenv_fn getenv;
    void *ud;
} dt_config_env;

/* The variable's value, or NULL when it is unset or empty: every AWS variable we read treats
 * an empty value as unset. env may be NULL (process environment). */
const char *dt_config_env_get(const dt_config_env *env, const char *name);

/* botocore's ensure_boolean for string settings: "true" in any case is true, all else false. */
int dt_config_is_true(const char *value);

/* Expands $VAR / ${VAR} (unknown variables are left as written, like os.path.expandvars) and
 * then a leading ~ or ~user (HOME from env, else the password database). 0 or -1 + err. */
int dt_config_expand_path(const char *path, const dt_config_env *env, char *out, size_t cap,
                          dt_config_error *err);

typedef enum dt_config_file_kind {
    DT_CONFIG_FILE_CONFIG,     /* [default], [profile x], [sso-session x], [services x] */
    DT_CONFIG_FILE_CREDENTIALS /* [x] is profile x */
} dt_config_file_kind;

typedef enum dt_config_section_kind {
    DT_SECTION_PROFILE,
    DT_SECTION_SSO_SESSION,
    DT_SECTION_SERVICES,
    DT_SECTION_OTHER /* any other header in the config file, kept under its full header text */
} dt_config_section_kind;

/* One setting. A plain setting has value != NULL; a nested sub-section (`s3 =` followed by
 * indented `key = value` lines) has value == NULL and its settings in sub (keys kept as
 * written, as botocore does for nested keys). */
typedef struct dt_config_value {
    char *key;
    char *value;
    struct dt_config_value *sub;
    size_t n_sub;
    int line; /* where the key was (last) set */
} dt_config_value;

typedef struct dt_config_section {
    dt_config_section_kind kind;
    char *name; /* profile, session or services name; full header text for DT_SECTION_OTHER */
    int line;   /* line of the first header that opened it */
    dt_config_value *values;
    size_t n_values;
    size_t cap_values;
} dt_config_section;

typedef struct dt_config_file {
    char *path;    /* expanded path, NULL for text parsed from memory */
    int exists;    /* 0: no such file (not an error; the file is simply empty) */
    unsigned mode; /* st_mode & 07777 when it exists */
    dt_config_section *sections;
    size_t n_sections;
    size_t cap_sections;
} dt_config_file;

typedef struct dt_config {
    dt_config_file config;
    dt_config_file credentials;
} dt_config;

/* Parses text into f (zero it first, or reuse after dt_config_file_free). name is used in
 * error messages ("name:LINE: ..."). Returns 0, or -1 with err set and f left empty. */
int dt_config_parse(dt_config_file *f, dt_config_file_kind kind, const char *name, const char *text,
                    size_t len, dt_config_error *err);

/* Reads and parses one file (path already expanded). A missing file leaves f empty with
 * exists = 0 and returns 0. Unreadable, oversized or malformed files return -1. */
int dt_config_file_read(dt_config_file *f, dt_config_file_kind kind, const char *path,
                        dt_config_error *err);

/* Values in a file's memory (credentials included) are wiped before they are freed. */
void dt_config_file_free(dt_config_file *f);

typedef struct dt_config_load_options {
    const char *config_file;      /* NULL: $AWS_CONFIG_FILE, else ~/.aws/config */
    const char *credentials_file; /* NULL: $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials */
    const dt_config_env *env;     /* NULL: process environment */
} dt_config_load_options;

/* Loads both files. Returns 0, or -1 + err (then c is empty and needs no free). */
int dt_config_load(dt_config *c, const dt_config_load_options *o, dt_config_error *err);
void dt_config_free(dt_config *c);

/* The active profile name: explicit, else $AWS_PROFILE, else "default". */
const char *dt_config_profile_name(const char *explicit_profile, const dt_config_env *env);

const dt_config_section *dt_config_file_section(const dt_config_file *f,
                                                dt_config_section_kind kind, const char *name);
const dt_config_value *dt_config_section_find(const dt_config_section *s, const char *key);
/* The plain value of key, or NULL when absent or a sub-section. */
const char *dt_config_section_get(const dt_config_section *s, const char *key);

/* The profile seen through both files, as botocore's merged view: a key in the credentials
 * file's [name] wins over the same key in the config file's profile. */
const dt_config_value *dt_config_profile_find(const dt_config *c, const char *profile,
                                              const char *key);
const char *dt_config_profile_get(const dt_config *c, const char *profile, const char *key);
int dt_config_profile_exists(const dt_config *c, const char *profile);

/* A named profile must exist in one of the files ("default" may be absent, as in botocore).
 * Returns 0, or -1 with a message naming both files and the headers looked for. */
int dt_config_check_profile(const dt_config *c, const char *profile, dt_config_error *err);

/* How a profile's header is written in each file, for messages: "[profile x]" / "[default]"
 * in the config file, "[x]" in the credentials file. */
void dt_config_profile_header(dt_config_file_kind kind, const char *profile, char *out, size_t cap);

/* When the credentials file exists and group or others may access it (mode & 077), writes a
 * warning into out and returns 1; else returns 0. */
int dt_config_credentials_mode_warning(const dt_config *c, char *out, size_t cap);

#endif
