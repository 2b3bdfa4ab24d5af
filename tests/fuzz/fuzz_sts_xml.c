/* fuzz_sts_xml.c: libFuzzer target for the STS XML parser: the expat element tree
 * (bindings/xml_tree.c) and the query-protocol result and error readers
 * (bindings/query.c through aws.core.protocol.parse / parse_error).
 *
 * Input: byte 0 picks an STS operation; then a message (fuzz_util.h) whose first line is
 * the HTTP status, then headers, an empty line and the XML body. The tree is checked for
 * consistency (links in range, names and texts inside the pool); parse returns a table or
 * raises "sts:<op>: ..."; parse_error never raises. */
#include "fuzz_lua.h"
#include "xml_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check_tree(const char *body, size_t len) {
    dt_xml_tree t;
    dt_xml_tree_init(&t);
    if (dt_xml_tree_parse(&t, body, len) == 0) {
        FZ_CHECK(t.n_nodes > 0, "parsed tree without a root");
        for (size_t i = 0; i < t.n_nodes; i++) {
            const dt_xml_node *n = &t.nodes[i];
            int32_t lim = (int32_t)t.n_nodes;
            FZ_CHECK(n->parent >= -1 && n->parent < lim, "parent out of range");
            FZ_CHECK(n->first_child >= -1 && n->first_child < lim, "child out of range");
            FZ_CHECK(n->last_child >= -1 && n->last_child < lim, "child out of range");
            FZ_CHECK(n->next_sibling >= -1 && n->next_sibling < lim, "sibling out of range");
            FZ_CHECK(n->name < t.pool.len, "name outside the pool");
            FZ_CHECK(n->text <= t.pool.len && n->text_len <= t.pool.len - n->text,
                     "text outside the pool");
            size_t tl;
            (void)dt_xml_text(&t, (int32_t)i, &tl);
            (void)strlen(dt_xml_name(&t, (int32_t)i));
        }
        (void)dt_xml_find(&t, 0, "Credentials");
        (void)dt_xml_child(&t, 0, "Error");
    } else {
        FZ_CHECK(t.error[0] != '\0', "parse failed without a message");
    }
    dt_xml_tree_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const dt_service *svc = &dt_service_sts;
    const dt_operation *op = &svc->operations[data[0] % svc->n_operations];
    fz_msg m;
    if (fz_msg_parse_n(&m, data + 1, size - 1, 1) != 0) return 0;
    long status = strtol(m.start, NULL, 10);
    if (status < 100 || status > 599) status = 200 + (long)(m.body_len % 2) * 200;
    int ok_status = status >= 200 && status < 300;

    s_check_tree(m.body, m.body_len);

    lua_State *L = fz_lua();
    int top = lua_gettop(L);
    fz_require_field(L, "aws.core.protocol", ok_status ? "parse" : "parse_error");
    lua_pushstring(L, svc->name);
    lua_pushstring(L, dt_str(svc, op->name));
    lua_pushinteger(L, status);
    fz_push_headers(L, &m);
    lua_pushlstring(L, m.body, m.body_len);
    int rc = lua_pcall(L, 5, 1, 0);
    if (rc == LUA_OK) {
        FZ_CHECK(lua_istable(L, -1), "sts %s: result is a %s", dt_str(svc, op->name),
                 luaL_typename(L, -1));
        if (!ok_status) {
            lua_getfield(L, -1, "code");
            FZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "sts %s: error code is a %s",
                     dt_str(svc, op->name), luaL_typename(L, -1));
        }
    } else if (!fz_is_memory_error(rc)) {
        const char *msg = lua_tostring(L, -1);
        FZ_CHECK(ok_status, "parse_error raised: %s", msg ? msg : "(not a string)");
        char prefix[160];
        snprintf(prefix, sizeof prefix, "sts:%s: ", dt_str(svc, op->lua_name));
        FZ_CHECK(msg && strncmp(msg, prefix, strlen(prefix)) == 0, "unexpected error: %s",
                 msg ? msg : "(not a string)");
    }
    lua_settop(L, top);
    fz_msg_free(&m);
    return 0;
}
