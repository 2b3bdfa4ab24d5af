/* test_protocol.c: the plain-C pieces under aws.core.protocol, and what the Lua specs cannot
 * reach: timestamp arithmetic (oracle: Python's datetime / email.utils values, noted next to
 * each case), base64 against the RFC 4648 test vectors, percent-encoding and error-code
 * sanitizing against the RFC 3986 / Smithy rules, the XML tree's limits, every model
 * pattern compiling under PCRE2, and the depth limit on a hand-made recursive shape (the
 * real models have none). Serialization and parsing against botocore live in
 * tests/spec/protocol_spec.lua, validation messages in tests/spec/validation_spec.lua. */
#include "operation.h"
#include "restjson.h"
#include "tap.h"
#include "timestamp.h"
#include "validate.h"
#include "wire.h"
#include "xml_tree.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_timestamps(void) {
    static const struct {
        const char *in;
        long long seconds;
        int micros;
        const char *iso;
        const char *rfc822;
    } cases[] = {
        /* datetime.fromisoformat(...).timestamp() and email.utils.formatdate(usegmt=True) */
        {"2024-05-01T10:00:00Z", 1714557600LL, 0, "2024-05-01T10:00:00Z",
         "Wed, 01 May 2024 10:00:00 GMT"},
        {"1970-01-01T00:00:00Z", 0, 0, "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"2000-02-29T23:59:59Z", 951868799LL, 0, "2000-02-29T23:59:59Z",
         "Tue, 29 Feb 2000 23:59:59 GMT"},
        {"9999-12-31T23:59:59Z", 253402300799LL, 0, "9999-12-31T23:59:59Z",
         "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"0001-01-01T00:00:00Z", -62135596800LL, 0, "0001-01-01T00:00:00Z", NULL},
        {"1969-12-31T23:59:59Z", -1, 0, "1969-12-31T23:59:59Z", NULL},
        {"2024-05-01T12:00:00.250+02:00", 1714557600LL, 250000, "2024-05-01T10:00:00.250000Z",
         NULL},
        {"2024-05-01t10:00:00.123456789z", 1714557600LL, 123456, "2024-05-01T10:00:00.123456Z",
         NULL},
        {"2024-05-01 10:00", 1714557600LL, 0, "2024-05-01T10:00:00Z", NULL},
        {"2024-05-01", 1714521600LL, 0, "2024-05-01T00:00:00Z", NULL},
        {"2024-05-01T05:30:00-0430", 1714557600LL, 0, "2024-05-01T10:00:00Z", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dt_timestamp t;
        int rc = dt_timestamp_parse(cases[i].in, strlen(cases[i].in), &t);
        tap_ok(rc == 0 && t.seconds == cases[i].seconds && t.micros == cases[i].micros,
               "parse %s -> %lld.%06d", cases[i].in, (long long)t.seconds, (int)t.micros);
        char buf[DT_TIMESTAMP_BUF];
        dt_timestamp_format_iso8601(&t, buf);
        tap_streq(buf, cases[i].iso, "iso8601 of %s", cases[i].in);
        if (cases[i].rfc822) {
            dt_timestamp_format_rfc822(&t, buf);
            tap_streq(buf, cases[i].rfc822, "rfc822 of %s", cases[i].in);
        }
    }
    static const char *const bad[] = {"yesterday",
                                      "2024-02-30T00:00:00Z",
                                      "2023-02-29",
                                      "2024-05-01T24:00:00Z",
                                      "2024-05-01T10:00:60Z",
                                      "2024-05-01T10:00:00.Z",
                                      "2024-05-01T10:00:00Zjunk",
                                      "0000-01-01T00:00:00Z",
                                      "2024-5-1",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dt_timestamp t;
        tap_ok(dt_timestamp_parse(bad[i], strlen(bad[i]), &t) != 0, "refuses \"%s\"", bad[i]);
    }
    dt_timestamp t;
    char buf[DT_TIMESTAMP_BUF];
    tap_ok(dt_timestamp_from_epoch(1714557600.5, &t) == 0 && t.micros == 500000, "epoch float");
    dt_timestamp_format_epoch(&t, buf);
    tap_streq(buf, "1714557600.5", "epoch with fraction");
    t.micros = 0;
    dt_timestamp_format_epoch(&t, buf);
    tap_streq(buf, "1714557600", "epoch without fraction");
    tap_ok(dt_timestamp_from_epoch(-0.25, &t) == 0, "negative epoch");
    dt_timestamp_format_epoch(&t, buf);
    tap_streq(buf, "-0.25", "negative epoch with fraction");
    tap_ok(dt_timestamp_from_epoch(1e300, &t) != 0, "refuses epoch past year 9999");
}

/* Runs fn(L) in protected mode with the protocol module's helpers available. */
static lua_State *s_state(void) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    return L;
}

static int s_b64_case(lua_State *L) {
    /* RFC 4648 section 10 test vectors */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    dt_buf *b = dt_wire_buffer(L);
    for (size_t i = 0; i < 7; i++) {
        dt_buf_reset(b);
        dt_wire_base64(L, b, (const unsigned char *)plain[i], strlen(plain[i]));
        tap_streq(b->data ? b->data : "", enc[i], "base64(\"%s\")", plain[i]);
        int ok = dt_wire_push_base64_decoded(L, enc[i], strlen(enc[i]));
        tap_ok(ok && strcmp(lua_tostring(L, -1), plain[i]) == 0, "base64 decode %s", enc[i]);
        if (ok) lua_pop(L, 1);
    }
    tap_ok(!dt_wire_push_base64_decoded(L, "Zm9v!", 5), "base64 refuses junk");
    tap_ok(!dt_wire_push_base64_decoded(L, "Z", 1), "base64 refuses a lone sextet");

    dt_buf_reset(b);
    const char *arn = "arn:aws:detective:us-east-1:111122223333:graph/a b~c_d.e-f+g";
    dt_wire_percent(L, b, arn, strlen(arn), 0);
    tap_streq(b->data,
              "arn%3Aaws%3Adetective%3Aus-east-1%3A111122223333%3Agraph%2Fa%20b~c_d.e-f%2Bg",
              "percent-encoding keeps only unreserved characters");
    dt_buf_reset(b);
    dt_wire_percent(L, b, "a/b c", 5, 1);
    tap_streq(b->data, "a/b%20c", "greedy labels keep '/'");

    static const char *const codes[][2] = {
        {"FooError", "FooError"},
        {"FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/", "FooError"},
        {"aws.protocoltests.restjson#FooError", "FooError"},
        {"aws.protocoltests.restjson#FooError:http://internal.amazon.com/", "FooError"},
    };
    for (size_t i = 0; i < 4; i++) {
        dt_wire_push_error_code(L, codes[i][0], strlen(codes[i][0]));
        tap_streq(lua_tostring(L, -1), codes[i][1], "error code from %s", codes[i][0]);
        lua_pop(L, 1);
    }
    dt_buf_reset(b);
    dt_wire_json_string(L, b, "a\"\\\n\x01\xc3\xa9", 7);
    tap_streq(b->data, "\"a\\\"\\\\\\n\\u0001\xc3\xa9\"", "JSON string escapes");
    dt_wire_buffer_release(b);
    return 0;
}

static int s_patterns_case(lua_State *L) {
    static const dt_service *const all[] = {&dt_service_detective, &dt_service_guardduty,
                                            &dt_service_sts};
    int total = 0, broken = 0;
    for (size_t s = 0; s < 3; s++) {
        for (size_t i = 0; i < all[s]->n_shapes; i++) {
            const char *p = dt_str(all[s], all[s]->shapes[i].pattern);
            if (!p) continue;
            total++;
            if (dt_validate_pattern_match(L, p, "x", 1) < 0) {
                broken++;
                tap_ok(0, "%s %s: pattern %s compiles", all[s]->name,
                       dt_str(all[s], all[s]->shapes[i].name), p);
            }
        }
    }
    tap_ok(total > 20 && broken == 0, "all %d model patterns compile under PCRE2 (%d do not)",
           total, broken);
    /* the models' Java-style \u escapes, including the 5-digit \u10000 */
    const char *sts = "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD"
                      "\\u10000-\\u10FFFF]+";
    tap_ok(dt_validate_pattern_match(L, sts, "\xf0\x9f\x98\x80", 4) == 1, "U+1F600 in \\u10000-");
    tap_ok(dt_validate_pattern_match(L, sts, "\x01\x02", 2) == 0, "control bytes are not");
    tap_ok(dt_validate_pattern_match(L, "^[0-9]+$", "12a", 3) == 0, "anchored pattern");
    tap_ok(dt_validate_pattern_match(L, "[0-9]+", "ab1", 3) == 1, "unanchored pattern searches");
    tap_ok(dt_validate_pattern_match(L, "^(?!aws:)[a-zA-Z+-=._:/]+$", "aws:x", 5) == 0,
           "negative look-ahead");
    tap_ok(dt_validate_pattern_match(L, "(", "x", 1) == -1, "a broken pattern is reported");
    tap_ok(dt_validate_pattern_match(L, "x", "\xff", 1) == 0, "invalid UTF-8 never matches");
    return 0;
}

/* A toy service: a recursive shape (Node{Child: Node, Name}) to reach the depth limit, and an
 * operation with every HTTP binding the real models do not use (headers, a prefix-header map,
 * a query map, a greedy label, a literal query, statusCode). */
enum { S_NODE, S_STRING, S_INTEGER, S_TIMESTAMP, S_LIST, S_MAP, S_OUT, S_IN, S_BOOLEAN };
/* Its string pool, laid out by a structure of char arrays so that the compiler computes the
 * offsets; S_STR(f) is the offset of field f, as the generator would emit it. Offset 0 (none)
 * is the empty string. */
static const struct s_toy_strings {
    char none;
    char Child[sizeof "Child"], Name[sizeof "Name"];
    char Body[sizeof "Body"], body[sizeof "body"], Filters[sizeof "Filters"], Flag[sizeof "Flag"],
        flag[sizeof "flag"], Key[sizeof "Key"], Since[sizeof "Since"],
        if_modified_since[sizeof "If-Modified-Since"], Tags[sizeof "Tags"], x_tags[sizeof "x-tags"];
    char Count[sizeof "Count"], x_amz_count[sizeof "x-amz-count"], Meta[sizeof "Meta"],
        x_amz_meta[sizeof "x-amz-meta-"], Status[sizeof "Status"], Value[sizeof "Value"],
        value[sizeof "value"];
    char Node[sizeof "Node"], String[sizeof "String"], Integer[sizeof "Integer"],
        Timestamp[sizeof "Timestamp"], List[sizeof "List"], Map[sizeof "Map"], Out[sizeof "Out"],
        In[sizeof "In"], Boolean[sizeof "Boolean"];
    char Get[sizeof "Get"], get[sizeof "get"], GET[sizeof "GET"],
        get_uri[sizeof "/objects/{Key+}?list-type=2"], Walk[sizeof "Walk"], walk[sizeof "walk"],
        POST[sizeof "POST"], walk_uri[sizeof "/walk"];
} s_toy_strings = {
    0,
    "Child",
    "Name",
    "Body",
    "body",
    "Filters",
    "Flag",
    "flag",
    "Key",
    "Since",
    "If-Modified-Since",
    "Tags",
    "x-tags",
    "Count",
    "x-amz-count",
    "Meta",
    "x-amz-meta-",
    "Status",
    "Value",
    "value",
    "Node",
    "String",
    "Integer",
    "Timestamp",
    "List",
    "Map",
    "Out",
    "In",
    "Boolean",
    "Get",
    "get",
    "GET",
    "/objects/{Key+}?list-type=2",
    "Walk",
    "walk",
    "POST",
    "/walk",
};
#define S_STR(f) ((uint32_t)offsetof(struct s_toy_strings, f))
/* every structure's members in one array: Node's, then In's, then Out's */
enum { S_NODE_MEMBERS = 0, S_IN_MEMBERS = 2, S_OUT_MEMBERS = 8, S_N_MEMBERS = 12 };
static const dt_member s_members[S_N_MEMBERS] = {
    {S_STR(Child), S_STR(Child), S_NODE, DT_LOC_BODY, 0},
    {S_STR(Name), S_STR(Name), S_STRING, DT_LOC_BODY, 0},

    {S_STR(Body), S_STR(body), S_STRING, DT_LOC_BODY, 0},
    {S_STR(Filters), S_STR(Filters), S_MAP, DT_LOC_QUERY, 0},
    {S_STR(Flag), S_STR(flag), S_BOOLEAN, DT_LOC_QUERY, 0},
    {S_STR(Key), S_STR(Key), S_STRING, DT_LOC_URI, DT_MF_REQUIRED | DT_MF_GREEDY_LABEL},
    {S_STR(Since), S_STR(if_modified_since), S_TIMESTAMP, DT_LOC_HEADER, 0},
    {S_STR(Tags), S_STR(x_tags), S_LIST, DT_LOC_HEADER, 0},

    {S_STR(Count), S_STR(x_amz_count), S_INTEGER, DT_LOC_HEADER, 0},
    {S_STR(Meta), S_STR(x_amz_meta), S_MAP, DT_LOC_HEADERS, 0},
    {S_STR(Status), S_STR(Status), S_INTEGER, DT_LOC_STATUS, 0},
    {S_STR(Value), S_STR(value), S_STRING, DT_LOC_BODY, 0},
};
#define S_SCALAR(n, t)                                                                             \
    { .name = S_STR(n), .type = t, .member = DT_NO_SHAPE, .key = DT_NO_SHAPE, .value = DT_NO_SHAPE }
static const dt_shape s_shapes[] = {
    {.name = S_STR(Node),
     .type = DT_T_STRUCTURE,
     .members = S_NODE_MEMBERS,
     .n_members = 2,
     .member = DT_NO_SHAPE,
     .key = DT_NO_SHAPE,
     .value = DT_NO_SHAPE},
    S_SCALAR(String, DT_T_STRING),
    S_SCALAR(Integer, DT_T_INTEGER),
    S_SCALAR(Timestamp, DT_T_TIMESTAMP),
    {.name = S_STR(List),
     .type = DT_T_LIST,
     .member = S_STRING,
     .key = DT_NO_SHAPE,
     .value = DT_NO_SHAPE},
    {.name = S_STR(Map),
     .type = DT_T_MAP,
     .member = DT_NO_SHAPE,
     .key = S_STRING,
     .value = S_STRING},
    {.name = S_STR(Out),
     .type = DT_T_STRUCTURE,
     .members = S_OUT_MEMBERS,
     .n_members = 4,
     .member = DT_NO_SHAPE,
     .key = DT_NO_SHAPE,
     .value = DT_NO_SHAPE},
    {.name = S_STR(In),
     .type = DT_T_STRUCTURE,
     .members = S_IN_MEMBERS,
     .n_members = 6,
     .member = DT_NO_SHAPE,
     .key = DT_NO_SHAPE,
     .value = DT_NO_SHAPE},
    S_SCALAR(Boolean, DT_T_BOOLEAN),
};
static const dt_operation s_ops[] = {
    {.name = S_STR(Get),
     .lua_name = S_STR(get),
     .http_method = S_STR(GET),
     .request_uri = S_STR(get_uri),
     .success_status = 201,
     .input = S_IN,
     .output = S_OUT},
    {.name = S_STR(Walk),
     .lua_name = S_STR(walk),
     .http_method = S_STR(POST),
     .request_uri = S_STR(walk_uri),
     .success_status = 200,
     .input = S_NODE,
     .output = DT_NO_SHAPE},
};
static const uint16_t s_by_lua[] = {0, 1};
static const dt_service s_svc = {.name = "toy",
                                 .api_version = "2020-01-01",
                                 .protocol = "rest-json",
                                 .operations = s_ops,
                                 .n_operations = 2,
                                 .shapes = s_shapes,
                                 .n_shapes = 9,
                                 .by_lua_name = s_by_lua,
                                 .strings = (const char *)&s_toy_strings,
                                 .strings_size = sizeof s_toy_strings,
                                 .members = s_members,
                                 .n_members = S_N_MEMBERS};

static const char *s_field(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    const char *v = lua_tostring(L, -1);
    lua_pop(L, 1); /* the value stays referenced by the table */
    return v ? v : "(nil)";
}

static int s_bindings_case(lua_State *L) {
    const dt_operation *op = &s_ops[0];
    lua_newtable(L);
    lua_pushliteral(L, "a/b c");
    lua_setfield(L, -2, "Key");
    lua_pushinteger(L, 1714557600);
    lua_setfield(L, -2, "Since");
    lua_newtable(L);
    lua_pushliteral(L, "x");
    lua_rawseti(L, -2, 1);
    lua_pushliteral(L, "y");
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "Tags");
    lua_newtable(L);
    lua_pushliteral(L, "v w");
    lua_setfield(L, -2, "k");
    lua_setfield(L, -2, "Filters");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "Flag");
    lua_pushliteral(L, "hi");
    lua_setfield(L, -2, "Body");
    int params = lua_gettop(L);
    tap_ok(dt_validate_input(L, &s_svc, op, params), "toy input is valid");
    dt_restjson_build(L, &s_svc, op, params);
    int req = lua_gettop(L);
    tap_streq(s_field(L, req, "method"), "GET", "method");
    tap_streq(s_field(L, req, "path"), "/objects/a/b%20c?list-type=2&k=v%20w&flag=false",
              "greedy label keeps '/', literal query first, map spread, boolean as text");
    tap_streq(s_field(L, req, "body"), "{\"body\":\"hi\"}", "only body members in the body");
    lua_getfield(L, req, "headers");
    int n = (int)lua_rawlen(L, -1);
    char all[256] = "";
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        size_t o = strlen(all);
        snprintf(all + o, sizeof all - o, "%s: %s|", lua_tostring(L, -2), lua_tostring(L, -1));
        lua_pop(L, 3);
    }
    lua_pop(L, 1);
    tap_streq(all,
              "If-Modified-Since: Wed, 01 May 2024 10:00:00 GMT|x-tags: x,y|"
              "Content-Type: application/json|",
              "header members: timestamps as HTTP dates, lists joined by commas");
    lua_settop(L, params - 1);

    lua_newtable(L);
    lua_pushliteral(L, "7");
    lua_setfield(L, -2, "x-amz-count");
    lua_pushliteral(L, "1");
    lua_setfield(L, -2, "x-amz-meta-a");
    lua_pushliteral(L, "req");
    lua_setfield(L, -2, "x-amzn-requestid");
    int headers = lua_gettop(L);
    const char *body = "{\"value\":\"v\",\"extra\":1}";
    dt_restjson_parse(L, &s_svc, op, 201, headers, body, strlen(body));
    int res = lua_gettop(L);
    lua_getfield(L, res, "Count");
    tap_ok(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 7, "header member as an integer");
    lua_getfield(L, res, "Status");
    tap_ok(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 201, "statusCode member");
    lua_getfield(L, res, "Meta");
    tap_streq(lua_istable(L, -1) ? s_field(L, lua_gettop(L), "a") : "(none)", "1",
              "prefix headers as a map");
    tap_streq(s_field(L, res, "Value"), "v", "body member by wire name");
    lua_getfield(L, res, "extra");
    tap_ok(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 1, "unknown keys kept");
    lua_settop(L, headers - 1);
    return 0;
}

static int s_depth_case(lua_State *L) {
    /* {Child = {Child = ... }} nested n deep */
    for (int n = DT_MAX_DEPTH - 1; n <= DT_MAX_DEPTH + 1; n++) {
        lua_newtable(L);
        for (int i = 0; i < n - 1; i++) {
            lua_newtable(L);
            lua_insert(L, -2);
            lua_setfield(L, -2, "Child");
        }
        int ok = dt_validate_input(L, &s_svc, &s_ops[1], -1);
        if (n <= DT_MAX_DEPTH) {
            tap_ok(ok, "%d nested tables are accepted", n);
        } else {
            const char *msg = lua_tostring(L, -1);
            tap_ok(!ok && msg && strstr(msg, "toy:walk: Child.Child.") == msg &&
                       strstr(msg, ": tables nested deeper than 64 levels"),
                   "%d nested tables are refused: %s", n, msg ? msg : "(none)");
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return 0;
}

static void s_xml(void) {
    dt_xml_tree t;
    dt_xml_tree_init(&t);
    const char *doc = "<?xml version=\"1.0\"?><r:Root xmlns:r=\"urn:x\"> a<B>one</B>b "
                      "<B>two<C/></B><![CDATA[<c>]]></r:Root>";
    tap_ok(dt_xml_tree_parse(&t, doc, strlen(doc)) == 0, "parses a document");
    tap_streq(dt_xml_name(&t, 0), "Root", "namespace prefix dropped");
    size_t len;
    const char *txt = dt_xml_text(&t, 0, &len);
    tap_ok(len == 7 && memcmp(txt, " ab <c>", 7) == 0, "own text gathered around children (%.*s)",
           (int)len, txt);
    int32_t b1 = dt_xml_child(&t, 0, "B");
    tap_ok(b1 > 0 && strcmp(dt_xml_text(&t, b1, &len), "one") == 0, "first child");
    tap_ok(t.nodes[b1].next_sibling > 0 && dt_xml_find(&t, 0, "C") > b1, "find in document order");
    dt_xml_tree_free(&t);
    dt_xml_tree_free(&t); /* idempotent */

    char deep[8 * 100 + 16];
    size_t o = 0;
    for (int i = 0; i < 100; i++)
        o += (size_t)sprintf(deep + o, "<a>");
    for (int i = 0; i < 100; i++)
        o += (size_t)sprintf(deep + o, "</a>");
    dt_xml_tree_init(&t);
    tap_ok(dt_xml_tree_parse(&t, deep, o) != 0 && strstr(t.error, "deep"), "depth capped: %s",
           t.error);
    dt_xml_tree_free(&t);

    const char *bomb = "<!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><x>&b;</x>";
    dt_xml_tree_init(&t);
    tap_ok(dt_xml_tree_parse(&t, bomb, strlen(bomb)) != 0 && strstr(t.error, "DOCTYPE"),
           "DOCTYPE refused: %s", t.error);
    dt_xml_tree_free(&t);

    dt_xml_tree_init(&t);
    tap_ok(dt_xml_tree_parse(&t, "<a>", 3) != 0, "unclosed element is an error: %s", t.error);
    dt_xml_tree_free(&t);
}

static int s_run(lua_State *L, lua_CFunction fn, const char *what) {
    lua_pushcfunction(L, fn);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        tap_ok(0, "%s raised: %s", what, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

int main(void) {
    s_timestamps();
    s_xml();
    lua_State *L = s_state();
    s_run(L, s_b64_case, "wire helpers");
    s_run(L, s_patterns_case, "patterns");
    s_run(L, s_depth_case, "depth");
    s_run(L, s_bindings_case, "HTTP bindings");
    lua_close(L);
    return tap_done();
}
