/* test_sigv4.c: the SigV4 signer (sigv4.c) and the crypto helpers (crypto.c).
 *
 * Oracles, none of them this code: RFC test vectors for SHA-256, HMAC (RFC 4231) and
 * base64 (RFC 4648); the rules of RFC 3986 for encoding and dot-segment removal worked by
 * hand; the official AWS SigV4 suite in $DT_SHARED/sigv4-suite (all cases, header and
 * query variants, stage by stage); and the project's own vectors in tests/data/sigv4,
 * generated once by botocore (tests/oracle/sigv4_botocore.py --vectors) in the same layout.
 * The suite part is skipped when $DT_SHARED is absent; everything else always runs. */
#include "crypto.h"
#include "sigv4.h"
#include "tap.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ helpers */

static char *s_encode(const char *in, bool keep_slash) {
    dt_buf b;
    dt_buf_init(&b, 0);
    dt_sigv4_uri_encode(&b, in, strlen(in), keep_slash);
    return b.data ? b.data : strdup("");
}

static char *s_normalize(const char *in) {
    dt_buf b;
    dt_buf_init(&b, 0);
    dt_sigv4_normalize_path(&b, in, strlen(in));
    return b.data;
}

static char *s_query(const char *in) {
    dt_buf b;
    dt_buf_init(&b, 0);
    dt_sigv4_canonical_query(&b, in, strlen(in));
    return b.data ? b.data : strdup("");
}

static void s_check_encode(const char *in, bool keep_slash, const char *want) {
    char *got = s_encode(in, keep_slash);
    tap_streq(got, want, "uri_encode(\"%s\", keep_slash=%d)", in, keep_slash);
    free(got);
}

static void s_check_normalize(const char *in, const char *want) {
    char *got = s_normalize(in);
    tap_streq(got, want, "normalize_path(\"%s\")", in);
    free(got);
}

static void s_check_query(const char *in, const char *want) {
    char *got = s_query(in);
    tap_streq(got, want, "canonical_query(\"%s\")", in);
    free(got);
}

/* ------------------------------------------------------------------ crypto */

static void s_test_crypto(void) {
    char hex[65];
    dt_sha256_hex(NULL, "abc", 3, hex);
    tap_streq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              "sha256(abc) (FIPS 180-2)");
    dt_sha256_hex(NULL, "", 0, hex);
    tap_streq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "sha256(\"\")");
    char hex1[41];
    TAP_OK(dt_sha1_hex("abc", 3, hex1) == 0);
    tap_streq(hex1, "a9993e364706816aba3e25717850c26c9cd0d89d", "sha1_hex(abc) (FIPS 180-2)");
    dt_sha1_hex("", 0, hex1);
    tap_streq(hex1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha1_hex(\"\")");

    dt_sha256_ctx *ctx = dt_sha256_ctx_new();
    TAP_OK(ctx != NULL);
    uint8_t mac[32];
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof key1);
    dt_hmac_sha256(ctx, key1, sizeof key1, "Hi There", 8, mac);
    dt_hex_encode(mac, 32, hex);
    tap_streq(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
              "hmac_sha256 RFC 4231 case 1");
    dt_hmac_sha256(ctx, "Jefe", 4, "what do ya want for nothing?", 28, mac);
    dt_hex_encode(mac, 32, hex);
    tap_streq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
              "hmac_sha256 RFC 4231 case 2");
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    dt_hmac_sha256(NULL, key6, sizeof key6, m6, strlen(m6), mac);
    dt_hex_encode(mac, 32, hex);
    tap_streq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
              "hmac_sha256 RFC 4231 case 6 (key longer than a block)");
    dt_sha256_ctx_free(ctx);

    static const char *const b64[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
        char enc[16];
        dt_base64_encode(b64[i][0], strlen(b64[i][0]), enc);
        tap_streq(enc, b64[i][1], "base64_encode(\"%s\") (RFC 4648)", b64[i][0]);
        uint8_t dec[16];
        size_t n = 99;
        int rc = dt_base64_decode(b64[i][1], strlen(b64[i][1]), dec, &n);
        dec[rc == 0 ? n : 0] = '\0';
        tap_ok(rc == 0 && strcmp((char *)dec, b64[i][0]) == 0, "base64_decode(\"%s\")", b64[i][1]);
    }
    uint8_t dec[16];
    size_t n;
    TAP_OK(dt_base64_decode("Zm9vYg", 6, dec, &n) == 0 && n == 4); /* unpadded */
    TAP_OK(dt_base64_decode("Zm9v!", 5, dec, &n) == -1);
    TAP_OK(dt_base64_decode("Zg=", 3, dec, &n) == -1);
    TAP_OK(dt_base64_decode("Z===", 4, dec, &n) == -1);
    TAP_OK(dt_base64_decode("Zg==Zg==", 8, dec, &n) == -1);
    TAP_OK(dt_base64_decode("Zm9 v", 5, dec, &n) == -1);

    char u1[37], u2[37];
    TAP_OK(dt_uuid4(u1) == 0 && dt_uuid4(u2) == 0);
    int shape = strlen(u1) == 36 && u1[8] == '-' && u1[13] == '-' && u1[18] == '-' &&
                u1[23] == '-' && u1[14] == '4' && strchr("89ab", u1[19]) != NULL;
    tap_ok(shape, "uuid4 shape (version 4, variant 10): %s", u1);
    tap_ok(strcmp(u1, u2) != 0, "two uuid4 differ");
    uint8_t r[32] = {0};
    TAP_OK(dt_random_bytes(r, sizeof r) == 0);
}

/* ------------------------------------------------------------------ units */

static void s_test_units(void) {
    /* RFC 3986 section 2.3: only A-Z a-z 0-9 - . _ ~ are left alone */
    s_check_encode("AZaz09-._~", false, "AZaz09-._~");
    s_check_encode("a b+c=d&e/f", false, "a%20b%2Bc%3Dd%26e%2Ff");
    s_check_encode("a b/c", true, "a%20b/c");
    s_check_encode("%3A", true, "%253A"); /* once more: the wire's '%' is data */
    s_check_encode("\xe1\x88\xb4", false, "%E1%88%B4");
    s_check_encode("*!'()", false, "%2A%21%27%28%29");

    /* dot segments and empty segments, as the AWS SDKs resolve them */
    s_check_normalize("", "/");
    s_check_normalize("/", "/");
    s_check_normalize("//", "/");
    s_check_normalize("/./", "/");
    s_check_normalize("/./example", "/example");
    s_check_normalize("//example//", "/example/");
    s_check_normalize("/example/..", "/");
    s_check_normalize("/example1/example2/../..", "/");
    s_check_normalize("/a/b/../c/./d", "/a/c/d");
    s_check_normalize("/a/b/../", "/a/");
    s_check_normalize("/../../a", "/a");
    s_check_normalize("/a/.../b", "/a/.../b");
    s_check_normalize("/a/..b/.c", "/a/..b/.c");
    s_check_normalize("/graphs/arn%3Aaws%3Adetective/x", "/graphs/arn%3Aaws%3Adetective/x");
    /* deep paths use the heap stack */
    {
        dt_buf in, want;
        dt_buf_init(&in, 0);
        dt_buf_init(&want, 0);
        for (int i = 0; i < 200; i++)
            dt_buf_puts(&in, "/s");
        for (int i = 0; i < 199; i++)
            dt_buf_puts(&want, "/s");
        dt_buf_puts(&in, "/../x");
        dt_buf_puts(&want, "/x");
        char *got = s_normalize(in.data);
        tap_streq(got, want.data, "normalize_path: 200 segments then ..");
        free(got);
        dt_buf_free(&want);
        dt_buf_free(&in);
    }

    /* query: decoded then re-encoded, sorted by name then value */
    s_check_query("", "");
    s_check_query("b=2&a=1", "a=1&b=2");
    s_check_query("a=2&a=1&a=10", "a=1&a=10&a=2");
    s_check_query("flag&x=", "flag=&x=");
    s_check_query("&&a=1&", "a=1");
    s_check_query("k=a%20b&k2=a+b", "k=a%20b&k2=a%2Bb");
    s_check_query("%41%7e=%2f", "A~=%2F");
    s_check_query("bad=%zz&t=%4", "bad=%25zz&t=%254");
    s_check_query("a=b=c", "a=b%3Dc");
    s_check_query("%E1%88%B4=1&Z=2", "%E1%88%B4=1&Z=2");

    /* dates */
    char d[17];
    TAP_OK(dt_sigv4_format_amz_date(1440938160, d) == 0 && strcmp(d, "20150830T123600Z") == 0);
    TAP_OK(dt_sigv4_format_amz_date(0, d) == 0 && strcmp(d, "19700101T000000Z") == 0);
    TAP_OK(dt_sigv4_format_amz_date(951782400, d) == 0 && strcmp(d, "20000229T000000Z") == 0);
    TAP_OK(dt_sigv4_format_amz_date(-1, d) == -1);
    int64_t t = 0;
    TAP_OK(dt_sigv4_parse_amz_date("20150830T123600Z", &t) == 0 && t == 1440938160);
    TAP_OK(dt_sigv4_parse_amz_date("20000229T000000Z", &t) == 0 && t == 951782400);
    TAP_OK(dt_sigv4_parse_amz_date("20010229T000000Z", &t) == -1);
    TAP_OK(dt_sigv4_parse_amz_date("2015-08-30T12:36:00Z", &t) == -1);
    TAP_OK(dt_sigv4_parse_amz_date("20151330T123600Z", &t) == -1);
}

/* ------------------------------------------------------------------ behaviour */

static void s_base(dt_sigv4_request *r) {
    dt_sigv4_request_init(r);
    r->method = "POST";
    r->url = "https://api.detective.us-east-1.amazonaws.com/graph/members/list";
    r->region = "us-east-1";
    r->service = "detective";
    r->credentials.access_key_id = "AKIDEXAMPLE";
    r->credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    r->time_s = 1440938160;
}

static bool s_has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0')) return true;
    return false;
}

/* A "Name:value" line, the name compared without case (HTTP header names). */
static bool s_has_header_line(const char *text, const char *name, const char *value) {
    size_t nl = strlen(name), vl = strlen(value);
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == nl + 1 + vl && strncasecmp(p, name, nl) == 0 && p[nl] == ':' &&
            memcmp(p + nl + 1, value, vl) == 0)
            return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

static void s_test_behaviour(void) {
    dt_sigv4_request r;
    dt_sigv4_result res;
    dt_sigv4_result_init(&res);

    /* headers SDKs never sign are left out; duplicates join in order; Host from URL */
    s_base(&r);
    dt_sigv4_header h[] = {
        {"User-Agent", "x"},
        {"Connection", "keep-alive"},
        {"Expect", "100-continue"},
        {"X-Amzn-Trace-Id", "Root=1"},
        {"Authorization", "old"},
        {"Transfer-Encoding", "chunked"},
        {"TE", "trailers"},
        {"Upgrade", "h2c"},
        {"Keep-Alive", "5"},
        {"Proxy-Authorization", "p"},
        {"Proxy-Authenticate", "p"},
        {"Trailer", "x"},
        {"X-Dup", " b "},
        {"x-dup", "a"},
        {"Content-Type", "application/json"},
    };
    r.headers = h;
    r.n_headers = sizeof h / sizeof h[0];
    TAP_OK(dt_sigv4_sign(&r, &res) == 0);
    tap_streq(res.signed_headers.data, "content-type;host;x-amz-date;x-dup",
              "skip list and header selection");
    TAP_OK(s_has_line(res.canonical_request.data, "x-dup:b,a"));
    TAP_OK(s_has_line(res.canonical_request.data, "host:api.detective.us-east-1.amazonaws.com"));
    tap_ok(res.n_added == 3 && strcmp(res.added[0].name, "Host") == 0 &&
               strcmp(res.added[1].name, "X-Amz-Date") == 0 &&
               strcmp(res.added[2].name, "Authorization") == 0,
           "added: Host, X-Amz-Date, Authorization");

    /* default ports dropped, others kept, host lowercased, userinfo dropped */
    static const char *const hosts[][2] = {
        {"https://u:p@Example.COM:443/x", "example.com"},
        {"http://example.com:80/", "example.com"},
        {"http://example.com:443/", "example.com:443"},
        {"https://example.com:8443", "example.com:8443"},
        {"http://[::1]:8080/x?y", "[::1]:8080"},
        {"http://127.0.0.1:4566/", "127.0.0.1:4566"},
    };
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        s_base(&r);
        r.url = hosts[i][0];
        int rc = dt_sigv4_sign(&r, &res);
        tap_ok(rc == 0 && strcmp(res.host.data, hosts[i][1]) == 0, "host of %s: %s", hosts[i][0],
               rc == 0 ? res.host.data : res.error);
    }
    /* Host header wins over the URL; origin-form URL needs it */
    s_base(&r);
    dt_sigv4_header hh[] = {{"host", "  other.example:9000 "}};
    r.url = "/path?a=1";
    r.headers = hh;
    r.n_headers = 1;
    TAP_OK(dt_sigv4_sign(&r, &res) == 0 && strcmp(res.host.data, "other.example:9000") == 0 &&
           res.n_added == 2);
    r.n_headers = 0;
    TAP_OK(dt_sigv4_sign(&r, &res) == DT_SIGV4_EINVAL && strstr(res.error, "url") != NULL);

    /* session token: signed by default, added unsigned on request */
    s_base(&r);
    r.credentials.session_token = "TOKEN/+=";
    TAP_OK(dt_sigv4_sign(&r, &res) == 0);
    tap_streq(res.signed_headers.data, "host;x-amz-date;x-amz-security-token", "token signed");
    TAP_OK(s_has_line(res.canonical_request.data, "x-amz-security-token:TOKEN/+="));
    r.sign_session_token = false;
    TAP_OK(dt_sigv4_sign(&r, &res) == 0);
    tap_streq(res.signed_headers.data, "host;x-amz-date", "token not signed");
    tap_ok(res.n_added == 4 && strcmp(res.added[2].name, "X-Amz-Security-Token") == 0 &&
               strcmp(res.added[2].value, "TOKEN/+=") == 0,
           "token header still added after signing");
    TAP_OK(dt_sigv4_presign(&r, &res) == 0);
    {
        const char *sig = strstr(res.url.data, "&X-Amz-Signature=");
        const char *tok = strstr(res.url.data, "&X-Amz-Security-Token=TOKEN%2F%2B%3D");
        tap_ok(sig && tok && tok > sig, "presign: unsigned token after the signature");
    }
    r.sign_session_token = true;
    TAP_OK(dt_sigv4_presign(&r, &res) == 0);
    TAP_OK(strstr(res.canonical_request.data, "X-Amz-Security-Token=TOKEN%2F%2B%3D") != NULL);

    /* content sha256 header, payload hash option */
    s_base(&r);
    r.body = "{}";
    r.body_len = 2;
    r.content_sha256_header = true;
    TAP_OK(dt_sigv4_sign(&r, &res) == 0);
    TAP_OK(s_has_line(res.canonical_request.data,
                      "x-amz-content-sha256:"
                      "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
    r.payload_hash = DT_SIGV4_UNSIGNED_PAYLOAD;
    TAP_OK(dt_sigv4_sign(&r, &res) == 0);
    TAP_OK(s_has_line(res.canonical_request.data, "x-amz-content-sha256:UNSIGNED-PAYLOAD"));
    TAP_OK(s_has_line(res.canonical_request.data, "UNSIGNED-PAYLOAD"));
    r.payload_hash = "not a hash";
    TAP_OK(dt_sigv4_sign(&r, &res) == DT_SIGV4_EINVAL && strstr(res.error, "payload_hash"));

    /* explicit signed header list (verification of a received request) */
    s_base(&r);
    dt_sigv4_header rx[] = {{"Host", "api.example"},
                            {"X-Amz-Date", "20150830T123600Z"},
                            {"User-Agent", "sdk/1"},
                            {"Content-Type", "a/b"},
                            {"Authorization", "AWS4-HMAC..."}};
    const char *list[] = {"host", "user-agent", "x-amz-date"};
    r.headers = rx;
    r.n_headers = 5;
    r.signed_headers = list;
    r.n_signed_headers = 3;
    TAP_OK(dt_sigv4_sign(&r, &res) == 0);
    tap_streq(res.signed_headers.data, "host;user-agent;x-amz-date",
              "signed_headers: exactly the listed names");
    const char *missing[] = {"host", "x-amz-content-sha256"};
    r.signed_headers = missing;
    r.n_signed_headers = 2;
    TAP_OK(dt_sigv4_sign(&r, &res) == DT_SIGV4_EINVAL &&
           strstr(res.error, "x-amz-content-sha256") != NULL);

    /* input mistakes, and no secret in any message */
    s_base(&r);
    r.region = "us east";
    TAP_OK(dt_sigv4_sign(&r, &res) == DT_SIGV4_EINVAL && strstr(res.error, "region"));
    s_base(&r);
    r.credentials.secret_access_key = "";
    TAP_OK(dt_sigv4_sign(&r, &res) == DT_SIGV4_EINVAL);
    s_base(&r);
    r.credentials.session_token = "bad\r\ntoken";
    TAP_OK(dt_sigv4_sign(&r, &res) == DT_SIGV4_EINVAL && !strstr(res.error, "bad"));
    s_base(&r);
    r.url = "no-scheme-host";
    TAP_OK(dt_sigv4_sign(&r, &res) == DT_SIGV4_EINVAL);
    s_base(&r);
    r.expires_s = 0;
    TAP_OK(dt_sigv4_presign(&r, &res) == DT_SIGV4_EINVAL && strstr(res.error, "expires"));
    s_base(&r);
    dt_sigv4_header bad[] = {{"Bad Name", "v"}};
    r.headers = bad;
    r.n_headers = 1;
    TAP_OK(dt_sigv4_sign(&r, &res) == DT_SIGV4_EINVAL && strstr(res.error, "headers[1]"));

    /* the key cache: same answer before and after clearing, and across secrets */
    s_base(&r);
    TAP_OK(dt_sigv4_sign(&r, &res) == 0);
    char sig1[65];
    memcpy(sig1, res.signature, 65);
    dt_sigv4_cache_clear();
    TAP_OK(dt_sigv4_sign(&r, &res) == 0 && strcmp(sig1, res.signature) == 0);
    r.credentials.secret_access_key = "another-secret";
    TAP_OK(dt_sigv4_sign(&r, &res) == 0 && strcmp(sig1, res.signature) != 0);
    for (int i = 0; i < 20; i++) { /* more keys than slots: eviction */
        char region[16];
        snprintf(region, sizeof region, "r-%d", i);
        r.region = region;
        dt_sigv4_sign(&r, &res);
    }
    s_base(&r);
    TAP_OK(dt_sigv4_sign(&r, &res) == 0 && strcmp(sig1, res.signature) == 0);

    dt_sigv4_result_clean_up(&res);
    dt_sigv4_result_clean_up(&res); /* idempotent */
}

/* ------------------------------------------------------------------ suite-format cases */

typedef struct s_case {
    char *method, *uri;
    dt_sigv4_header hdrs[32];
    bool owned[32]; /* value malloc'd (a continued header) */
    size_t n_hdrs;
    char *body;
    size_t body_len;
    char *text; /* request.txt, cut in place */
} s_case;

/* request.txt: "METHOD SP URI SP HTTP/1.1", header lines "Name:value" (value byte-exact),
 * lines starting with whitespace continue the previous value (the newline is kept),
 * a blank line, then the body. */
static int s_parse_request(char *text, s_case *c) {
    memset(c->hdrs, 0, sizeof c->hdrs);
    memset(c->owned, 0, sizeof c->owned);
    c->n_hdrs = 0;
    c->text = text;
    char *eol = strchr(text, '\n');
    if (!eol) return -1;
    *eol = '\0';
    char *sp1 = strchr(text, ' '), *sp2 = strrchr(text, ' ');
    if (!sp1 || sp2 == sp1) return -1;
    *sp1 = '\0';
    *sp2 = '\0';
    c->method = text;
    c->uri = sp1 + 1;
    char *p = eol + 1;
    c->body = p + strlen(p);
    c->body_len = 0;
    while (*p) {
        char *e = strchr(p, '\n');
        char *next = e ? e + 1 : p + strlen(p);
        if (p[0] == '\n' || (e == p)) {
            c->body = next;
            c->body_len = strlen(next);
            break;
        }
        if ((*p == ' ' || *p == '\t') && c->n_hdrs > 0) {
            /* continuation: keep "\n" + the line inside the previous value */
            if (e) *e = '\0';
            char *prev = (char *)c->hdrs[c->n_hdrs - 1].value;
            size_t pl = strlen(prev), ll = strlen(p);
            char *joined = malloc(pl + ll + 2);
            memcpy(joined, prev, pl);
            joined[pl] = '\n';
            memcpy(joined + pl + 1, p, ll + 1);
            if (c->owned[c->n_hdrs - 1]) free(prev);
            c->hdrs[c->n_hdrs - 1].value = joined;
            c->owned[c->n_hdrs - 1] = true;
            p = next;
            continue;
        }
        if (e) *e = '\0';
        char *colon = strchr(p, ':');
        if (!colon || c->n_hdrs == 32) return -1;
        *colon = '\0';
        c->hdrs[c->n_hdrs].name = p;
        c->hdrs[c->n_hdrs].value = colon + 1;
        c->n_hdrs++;
        p = next;
    }
    return 0;
}

/* Minimal reader for the flat keys of context.json (names are unique in the file). */
static char *s_json_string(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return NULL;
    p = strchr(p + strlen(pat), ':');
    if (!p) return NULL;
    p++;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p != '"') return NULL;
    p++;
    dt_buf b;
    dt_buf_init(&b, 0);
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            char c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            if (*p == 'u') { /* \u00XX only (our generator escapes ASCII controls) */
                unsigned v = 0;
                sscanf(p + 1, "%4x", &v);
                c = (char)v;
                p += 4;
            }
            dt_buf_putc(&b, c);
        } else {
            dt_buf_putc(&b, *p);
        }
    }
    return b.data ? b.data : strdup("");
}

static int s_json_bool(const char *json, const char *key, int dflt) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return dflt;
    p = strchr(p + strlen(pat), ':');
    if (!p) return dflt;
    p++;
    while (*p == ' ')
        p++;
    return strncmp(p, "true", 4) == 0 ? 1 : strncmp(p, "false", 5) == 0 ? 0 : dflt;
}

static long s_json_long(const char *json, const char *key, long dflt) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return dflt;
    p = strchr(p + strlen(pat), ':');
    return p ? strtol(p + 1, NULL, 10) : dflt;
}

static char *s_read(const char *dir, const char *name) {
    char path[2048];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) return NULL;
    return tap_read_file(path, NULL);
}

/* Splits a query on '&' and sorts the pieces, to compare presigned URLs whose
 * parameters come in another order. */
static char *s_sorted_params(const char *q) {
    char *copy = strdup(q);
    const char *parts[64];
    size_t n = 0;
    for (char *tok = strtok(copy, "&"); tok && n < 64; tok = strtok(NULL, "&"))
        parts[n++] = tok;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(parts[j - 1], parts[j]) > 0; j--) {
            const char *t = parts[j];
            parts[j] = parts[j - 1];
            parts[j - 1] = t;
        }
    dt_buf b;
    dt_buf_init(&b, 0);
    for (size_t i = 0; i < n; i++) {
        if (i) dt_buf_putc(&b, '&');
        dt_buf_puts(&b, parts[i]);
    }
    free(copy);
    return b.data ? b.data : strdup("");
}

static int s_run_case(const char *dir, const char *name) {
    char *req_text = s_read(dir, "request.txt");
    char *ctx = s_read(dir, "context.json");
    if (!req_text || !ctx) {
        tap_ok(0, "%s: request.txt and context.json readable", name);
        free(req_text);
        free(ctx);
        return 0;
    }
    s_case c;
    if (s_parse_request(req_text, &c) != 0) {
        tap_ok(0, "%s: request.txt parses", name);
        free(req_text);
        free(ctx);
        return 0;
    }
    char *akid = s_json_string(ctx, "access_key_id");
    char *secret = s_json_string(ctx, "secret_access_key");
    char *token = s_json_string(ctx, "token");
    char *region = s_json_string(ctx, "region");
    char *service = s_json_string(ctx, "service");
    char *ts = s_json_string(ctx, "timestamp");
    char *payload_hash = s_json_string(ctx, "payload_hash"); /* our vectors only */
    char basic[32] = "";
    for (size_t i = 0, o = 0; ts && ts[i] && o < sizeof basic - 1; i++)
        if (ts[i] != '-' && ts[i] != ':') basic[o++] = ts[i];

    dt_sigv4_request r;
    dt_sigv4_request_init(&r);
    char url[2048];
    const char *host = NULL;
    for (size_t i = 0; i < c.n_hdrs; i++)
        if (strcasecmp(c.hdrs[i].name, "host") == 0) host = c.hdrs[i].value;
    int un =
        snprintf(url, sizeof url, "https://%s%s", host ? host : "example.amazonaws.com", c.uri);
    tap_ok(un > 0 && (size_t)un < sizeof url, "%s: URL fits", name);
    r.method = c.method;
    r.url = url;
    r.headers = c.hdrs;
    r.n_headers = c.n_hdrs;
    r.body = c.body;
    r.body_len = c.body_len;
    r.region = region;
    r.service = service;
    r.credentials.access_key_id = akid;
    r.credentials.secret_access_key = secret;
    r.credentials.session_token = token;
    r.normalize_path = s_json_bool(ctx, "normalize", 1);
    r.sign_session_token = !s_json_bool(ctx, "omit_session_token", 0);
    r.content_sha256_header = s_json_bool(ctx, "sign_body", 0);
    r.payload_hash = payload_hash;
    r.expires_s = s_json_long(ctx, "expiration_in_seconds", 3600);
    int ok_time = dt_sigv4_parse_amz_date(basic, &r.time_s) == 0;
    tap_ok(ok_time, "%s: timestamp %s", name, ts ? ts : "(none)");

    dt_sigv4_result res;
    dt_sigv4_result_init(&res);
    int variants = 0;
    static const char *const kinds[] = {"header", "query"};
    for (int k = 0; k < 2; k++) {
        char f[64];
        snprintf(f, sizeof f, "%s-canonical-request.txt", kinds[k]);
        char *want_cr = s_read(dir, f);
        if (!want_cr) continue; /* our vectors carry a query variant only where it applies */
        variants++;
        snprintf(f, sizeof f, "%s-string-to-sign.txt", kinds[k]);
        char *want_sts = s_read(dir, f);
        snprintf(f, sizeof f, "%s-signature.txt", kinds[k]);
        char *want_sig = s_read(dir, f);
        snprintf(f, sizeof f, "%s-signed-request.txt", kinds[k]);
        char *want_signed = s_read(dir, f);
        int rc = k == 0 ? dt_sigv4_sign(&r, &res) : dt_sigv4_presign(&r, &res);
        tap_ok(rc == 0, "%s/%s: signs (%s)", name, kinds[k], rc == 0 ? "ok" : res.error);
        tap_streq(res.canonical_request.data, want_cr, "%s/%s: canonical request", name, kinds[k]);
        tap_streq(res.string_to_sign.data, want_sts, "%s/%s: string to sign", name, kinds[k]);
        tap_streq(res.signature, want_sig, "%s/%s: signature", name, kinds[k]);
        if (want_signed && rc == 0) {
            if (k == 0) {
                /* every header we add appears in the signed request as Name:value */
                int all = 1;
                for (size_t i = 0; i < res.n_added; i++) {
                    if (!s_has_header_line(want_signed, res.added[i].name, res.added[i].value)) {
                        all = 0;
                        printf("# missing line: %s:%s\n", res.added[i].name, res.added[i].value);
                    }
                }
                tap_ok(all, "%s/header: added headers match the signed request", name);
            } else {
                /* same path and the same parameters, in any order */
                char *sp = strchr(want_signed, ' ');
                char *end = sp ? strstr(sp + 1, " HTTP/1.1") : NULL;
                char *wq = sp ? strchr(sp + 1, '?') : NULL;
                char *gq = strchr(res.url.data, '?');
                if (end && wq && gq && wq < end) {
                    *end = '\0';
                    char *a = s_sorted_params(wq + 1), *b = s_sorted_params(gq + 1);
                    tap_streq(b, a, "%s/query: presigned URL parameters", name);
                    free(a);
                    free(b);
                } else {
                    tap_ok(0, "%s/query: presigned URL has a query", name);
                }
            }
        }
        free(want_cr);
        free(want_sts);
        free(want_sig);
        free(want_signed);
    }
    tap_ok(variants > 0, "%s: has at least one variant", name);
    dt_sigv4_result_clean_up(&res);
    for (size_t i = 0; i < c.n_hdrs; i++)
        if (c.owned[i]) free((void *)c.hdrs[i].value);
    free(akid);
    free(secret);
    free(token);
    free(region);
    free(service);
    free(ts);
    free(payload_hash);
    free(req_text);
    free(ctx);
    return 1;
}

static int s_cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int s_run_dir(const char *root) {
    DIR *d = opendir(root);
    if (!d) return -1;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        if (e->d_name[0] == '.') continue;
        char p[2048];
        int pn = snprintf(p, sizeof p, "%s/%s/request.txt", root, e->d_name);
        if (pn < 0 || (size_t)pn >= sizeof p) continue;
        FILE *f = fopen(p, "r");
        if (!f) continue;
        fclose(f);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], s_cmp_str);
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        char dir[1024];
        int dn = snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        if (dn < 0 || (size_t)dn >= sizeof dir) continue;
        ran += s_run_case(dir, names[i]);
        free(names[i]);
    }
    return ran;
}

int main(void) {
    s_test_crypto();
    s_test_units();
    s_test_behaviour();

    const char *src = getenv("DT_SRC");
    char own[1024];
    int on = snprintf(own, sizeof own, "%s/tests/data/sigv4", src ? src : ".");
    if (on < 0 || (size_t)on >= sizeof own) return tap_done();
    int n_own = s_run_dir(own);
    tap_ok(n_own >= 8, "own botocore vectors in tests/data/sigv4: %d cases", n_own);

    const char *shared = tap_shared_dir();
    if (shared) {
        char suite[1024];
        int sn = snprintf(suite, sizeof suite, "%s/sigv4-suite", shared);
        if (sn < 0 || (size_t)sn >= sizeof suite) return tap_done();
        int n = s_run_dir(suite);
        tap_ok(n == 38, "official suite: %d of 38 cases ran", n);
    } else {
        printf("# DT_SHARED absent: official SigV4 suite skipped\n");
    }
    return tap_done();
}
