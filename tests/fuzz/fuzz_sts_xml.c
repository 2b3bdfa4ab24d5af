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
    s_check_tree(m.body, m.body_len);
    fz_check_parse(svc, op, &m);
    fz_msg_free(&m);
    return 0;
}
