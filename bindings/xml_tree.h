/* xml_tree.h: a small read-only element tree built with expat, for query-protocol (STS)
 * responses and XML error bodies.
 *
 * Keeps element names (namespace prefix dropped) and each element's own character data;
 * attributes, comments and processing instructions are ignored. DOCTYPE declarations are
 * refused (no entity tricks), and depth, node count and text size are capped because the
 * input comes from the network. It knows nothing of shapes or Lua. */
#ifndef DT_XML_TREE_H
#define DT_XML_TREE_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define DT_XML_MAX_DEPTH 64
#define DT_XML_MAX_NODES 200000
#define DT_XML_MAX_TEXT_BYTES (32u * 1024u * 1024u)

typedef struct dt_xml_node {
    size_t name; /* offset of the NUL-terminated local name in pool */
    size_t text; /* offset of the element's own character data in pool */
    size_t text_len;
    int32_t parent; /* -1 for the root */
    int32_t first_child;
    int32_t last_child;
    int32_t next_sibling; /* -1 when none */
} dt_xml_node;

typedef struct dt_xml_tree {
    dt_xml_node *nodes;
    size_t n_nodes;
    size_t cap_nodes;
    dt_buf pool;
    /* parser state */
    int32_t open[DT_XML_MAX_DEPTH];
    dt_buf text[DT_XML_MAX_DEPTH]; /* character data of each open element */
    int depth;
    int failed;
    char error[160];
} dt_xml_tree;

void dt_xml_tree_init(dt_xml_tree *t);
/* Parses a whole document. 0 on success; -1 with t->error set. The root is node 0. */
int dt_xml_tree_parse(dt_xml_tree *t, const char *data, size_t len);
/* Frees everything (wiping it: responses such as AssumeRole carry secrets). Idempotent. */
void dt_xml_tree_free(dt_xml_tree *t);

const char *dt_xml_name(const dt_xml_tree *t, int32_t node);
const char *dt_xml_text(const dt_xml_tree *t, int32_t node, size_t *len);
/* first child element with this local name, or -1 */
int32_t dt_xml_child(const dt_xml_tree *t, int32_t node, const char *name);
/* first element with this local name in document order below node (node itself included) */
int32_t dt_xml_find(const dt_xml_tree *t, int32_t node, const char *name);

#endif
