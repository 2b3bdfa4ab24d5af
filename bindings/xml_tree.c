/* xml_tree.c: expat into a flat node array (see xml_tree.h).
 *
 * Character data arrives in pieces and interleaved with child elements, so each open
 * element collects its own text in a per-depth buffer that is moved into the pool when the
 * element closes. Any limit hit stops the parser; the caller then treats the body as
 * unreadable. */
#include "xml_tree.h"

#include "lazylib.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* expat is opened on first use (lazylib.h): only STS answers and XML error bodies need it.
 * The pointers are typed from expat.h, so every call is checked as if it were linked. CMake
 * passes the soname of the library the header belongs to. */
#ifndef DT_SONAME_EXPAT
#define DT_SONAME_EXPAT "libexpat.so.1"
#endif

static struct {
    __typeof__(XML_ParserCreate) *XML_ParserCreate;
    __typeof__(XML_ParserFree) *XML_ParserFree;
    __typeof__(XML_SetUserData) *XML_SetUserData;
    __typeof__(XML_SetElementHandler) *XML_SetElementHandler;
    __typeof__(XML_SetCharacterDataHandler) *XML_SetCharacterDataHandler;
    __typeof__(XML_SetStartDoctypeDeclHandler) *XML_SetStartDoctypeDeclHandler;
    __typeof__(XML_Parse) *XML_Parse;
    __typeof__(XML_StopParser) *XML_StopParser;
    __typeof__(XML_GetErrorCode) *XML_GetErrorCode;
    __typeof__(XML_ErrorString) *XML_ErrorString;
    __typeof__(XML_GetCurrentLineNumber) *XML_GetCurrentLineNumber;
} s_expat;

#define S_SYM(f)                                                                                   \
    { #f, &s_expat.f }
static const dt_lazylib_symbol s_expat_symbols[] = {
    S_SYM(XML_ParserCreate),
    S_SYM(XML_ParserFree),
    S_SYM(XML_SetUserData),
    S_SYM(XML_SetElementHandler),
    S_SYM(XML_SetCharacterDataHandler),
    S_SYM(XML_SetStartDoctypeDeclHandler),
    S_SYM(XML_Parse),
    S_SYM(XML_StopParser),
    S_SYM(XML_GetErrorCode),
    S_SYM(XML_ErrorString),
    S_SYM(XML_GetCurrentLineNumber),
};
#undef S_SYM

static dt_lazylib s_expat_lib = {
    .sonames = (const char *const[]){DT_SONAME_EXPAT, NULL},
    .package = "libexpat1",
    .symbols = s_expat_symbols,
    .n_symbols = sizeof s_expat_symbols / sizeof s_expat_symbols[0],
};

void dt_xml_tree_init(dt_xml_tree *t) {
    memset(t, 0, sizeof *t);
    dt_buf_init(&t->pool, DT_XML_MAX_TEXT_BYTES);
    for (int i = 0; i < DT_XML_MAX_DEPTH; i++)
        dt_buf_init(&t->text[i], DT_XML_MAX_TEXT_BYTES);
}

void dt_xml_tree_free(dt_xml_tree *t) {
    if (t->nodes) {
        free(t->nodes);
        t->nodes = NULL;
    }
    t->n_nodes = t->cap_nodes = 0;
    dt_buf_free_secure(&t->pool);
    for (int i = 0; i < DT_XML_MAX_DEPTH; i++)
        dt_buf_free_secure(&t->text[i]);
}

static void s_fail(dt_xml_tree *t, XML_Parser p, const char *why) {
    if (!t->failed) {
        t->failed = 1;
        snprintf(t->error, sizeof t->error, "%s", why);
    }
    s_expat.XML_StopParser(p, XML_FALSE);
}

/* expat's user data: the tree being built and the parser (to stop it on a limit) */
typedef struct s_state {
    dt_xml_tree *t;
    XML_Parser p;
} s_state;

static void XMLCALL s_on_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
    (void)attrs;
    s_state *st = ud;
    dt_xml_tree *t = st->t;
    if (t->failed) return;
    if (t->depth >= DT_XML_MAX_DEPTH) return s_fail(t, st->p, "XML nested too deeply");
    if (t->n_nodes >= DT_XML_MAX_NODES) return s_fail(t, st->p, "XML has too many elements");
    if (t->n_nodes == t->cap_nodes) {
        size_t cap = t->cap_nodes ? t->cap_nodes * 2 : 64;
        dt_xml_node *n = realloc(t->nodes, cap * sizeof *n);
        if (!n) return s_fail(t, st->p, "not enough memory");
        t->nodes = n;
        t->cap_nodes = cap;
    }
    const char *local = strrchr(name, ':');
    local = local ? local + 1 : name;
    int32_t idx = (int32_t)t->n_nodes++;
    dt_xml_node *node = &t->nodes[idx];
    node->name = t->pool.len;
    node->text = 0;
    node->text_len = 0;
    node->first_child = node->last_child = node->next_sibling = -1;
    node->parent = t->depth > 0 ? t->open[t->depth - 1] : -1;
    if (dt_buf_append(&t->pool, local, strlen(local) + 1) != 0)
        return s_fail(t, st->p, "XML too large");
    if (node->parent >= 0) {
        dt_xml_node *parent = &t->nodes[node->parent];
        if (parent->last_child >= 0)
            t->nodes[parent->last_child].next_sibling = idx;
        else
            parent->first_child = idx;
        parent->last_child = idx;
    } else if (idx != 0) {
        return s_fail(t, st->p, "XML has more than one root element");
    }
    dt_buf_reset(&t->text[t->depth]);
    t->open[t->depth++] = idx;
}

static void XMLCALL s_on_end(void *ud, const XML_Char *name) {
    (void)name;
    s_state *st = ud;
    dt_xml_tree *t = st->t;
    if (t->failed || t->depth == 0) return;
    t->depth--;
    dt_xml_node *node = &t->nodes[t->open[t->depth]];
    dt_buf *text = &t->text[t->depth];
    node->text = t->pool.len;
    node->text_len = text->len;
    if (dt_buf_append(&t->pool, text->data ? text->data : "", text->len) != 0 ||
        dt_buf_putc(&t->pool, '\0') != 0)
        return s_fail(t, st->p, "XML too large");
    dt_buf_reset(text);
}

static void XMLCALL s_on_text(void *ud, const XML_Char *s, int len) {
    s_state *st = ud;
    dt_xml_tree *t = st->t;
    if (t->failed || t->depth == 0 || len <= 0) return;
    if (dt_buf_append(&t->text[t->depth - 1], s, (size_t)len) != 0)
        s_fail(t, st->p, "XML text too large");
}

static void XMLCALL s_on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                 const XML_Char *pubid, int has_internal_subset) {
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    s_state *st = ud;
    s_fail(st->t, st->p, "XML with a DOCTYPE is not accepted");
}

int dt_xml_tree_parse(dt_xml_tree *t, const char *data, size_t len) {
    if (len > DT_XML_MAX_TEXT_BYTES) {
        snprintf(t->error, sizeof t->error, "XML body too large");
        return -1;
    }
    if (dt_lazylib_load(&s_expat_lib) != 0) {
        snprintf(t->error, sizeof t->error, "%s", dt_lazylib_error(&s_expat_lib));
        return -1;
    }
    XML_Parser p = s_expat.XML_ParserCreate(NULL);
    if (!p) {
        snprintf(t->error, sizeof t->error, "not enough memory");
        return -1;
    }
    s_state st = {t, p};
    s_expat.XML_SetUserData(p, &st);
    s_expat.XML_SetElementHandler(p, s_on_start, s_on_end);
    s_expat.XML_SetCharacterDataHandler(p, s_on_text);
    s_expat.XML_SetStartDoctypeDeclHandler(p, s_on_doctype);
    enum XML_Status rc = s_expat.XML_Parse(p, data, (int)len, XML_TRUE);
    if (rc != XML_STATUS_OK && !t->failed) {
        t->failed = 1;
        snprintf(t->error, sizeof t->error, "%s at line %lu",
                 s_expat.XML_ErrorString(s_expat.XML_GetErrorCode(p)),
                 (unsigned long)s_expat.XML_GetCurrentLineNumber(p));
    }
    s_expat.XML_ParserFree(p);
    for (int i = 0; i < DT_XML_MAX_DEPTH; i++)
        dt_buf_free_secure(&t->text[i]);
    if (!t->failed && t->n_nodes == 0) {
        t->failed = 1;
        snprintf(t->error, sizeof t->error, "no XML element");
    }
    return t->failed ? -1 : 0;
}

const char *dt_xml_name(const dt_xml_tree *t, int32_t node) {
    return t->pool.data + t->nodes[node].name;
}

const char *dt_xml_text(const dt_xml_tree *t, int32_t node, size_t *len) {
    *len = t->nodes[node].text_len;
    return t->pool.data + t->nodes[node].text;
}

int32_t dt_xml_child(const dt_xml_tree *t, int32_t node, const char *name) {
    for (int32_t c = t->nodes[node].first_child; c >= 0; c = t->nodes[c].next_sibling)
        if (strcmp(dt_xml_name(t, c), name) == 0) return c;
    return -1;
}

int32_t dt_xml_find(const dt_xml_tree *t, int32_t node, const char *name) {
    /* nodes are stored in document order and a subtree is a contiguous index range */
    for (size_t i = (size_t)node; i < t->n_nodes; i++) {
        if (i > (size_t)node) {
            int32_t a = t->nodes[i].parent;
            while (a >= 0 && a != node)
                a = t->nodes[a].parent;
            if (a != node) break;
        }
        if (strcmp(dt_xml_name(t, (int32_t)i), name) == 0) return (int32_t)i;
    }
    return -1;
}
