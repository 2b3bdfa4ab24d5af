/* test_model.c: the generated model tables and the lookup helpers in operation.c.
 *
 * Checks structural facts that must hold for any model (indices in range, sorted tables,
 * lookups by every name form) plus a few known facts about these three services. When
 * $DT_SHARED is present, the model files themselves are the oracle for the operation counts
 * and the recorded sha256. The exhaustive field-by-field comparison against the JSON lives in
 * tests/spec/model_spec.lua. */
#include "operation.h"
#include "tap.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const dt_service *const s_all[] = {&dt_service_detective, &dt_service_guardduty,
                                          &dt_service_sts};

static int s_shape_ok(const dt_service *svc, uint16_t idx) {
    return idx < svc->n_shapes;
}

/* A string offset that lands at the start of a string in the pool (0 means none). */
static int s_str_ok(const dt_service *svc, uint32_t off) {
    return off < svc->strings_size && (off == 0 || svc->strings[off - 1] == '\0');
}

/* The pool: opens with the empty string, ends with a NUL, and holds each string once. */
static void s_check_pool(const dt_service *svc) {
    int dup = 0;
    size_t n = 0;
    const char *end = svc->strings + svc->strings_size;
    for (const char *p = svc->strings + 1; p < end; p += strlen(p) + 1) {
        n++;
        for (const char *q = svc->strings + 1; q < p && !dup; q += strlen(q) + 1)
            if (strcmp(p, q) == 0) dup++;
    }
    tap_ok(svc->strings_size > 1 && svc->strings[0] == '\0' && end[-1] == '\0',
           "%s: string pool of %zu bytes opens with \"\" and ends with NUL", svc->name,
           svc->strings_size);
    tap_ok(dup == 0, "%s: %zu pooled strings, none twice", svc->name, n);
}

static void s_check_shapes(const dt_service *svc) {
    int bad_index = 0, unsorted = 0, bad_error = 0, bad_struct = 0;
    size_t members_used = 0, enums_used = 0;
    for (size_t i = 0; i < svc->n_shapes; i++) {
        const dt_shape *sh = &svc->shapes[i];
        if (!sh->name || !s_str_ok(svc, sh->name) || !s_str_ok(svc, sh->pattern) ||
            !s_str_ok(svc, sh->error_code))
            bad_index++;
        else if (i > 0 && svc->shapes[i - 1].name && s_str_ok(svc, svc->shapes[i - 1].name) &&
                 strcmp(dt_str(svc, svc->shapes[i - 1].name), dt_str(svc, sh->name)) >= 0)
            unsorted++;
        if (sh->type > DT_T_MAP) bad_index++;
        if (sh->type == DT_T_STRUCTURE) {
            /* each structure's members follow the previous structure's in the flat array */
            if (sh->n_members > 0 && sh->members != members_used) bad_struct++;
            members_used += sh->n_members;
            if (sh->members + (size_t)sh->n_members > svc->n_members) {
                bad_index++;
                continue;
            }
            const dt_member *members = dt_shape_members(svc, sh);
            for (uint16_t m = 0; m < sh->n_members; m++) {
                const dt_member *mb = &members[m];
                if (!s_shape_ok(svc, mb->shape)) bad_index++;
                if (!mb->name || !mb->wire_name || !s_str_ok(svc, mb->name) ||
                    !s_str_ok(svc, mb->wire_name) || mb->location > DT_LOC_STATUS) {
                    bad_struct++;
                    continue;
                }
                if (m > 0 && strcmp(dt_str(svc, members[m - 1].name), dt_str(svc, mb->name)) >= 0)
                    bad_struct++;
            }
        } else if (sh->n_members != 0) {
            bad_struct++;
        }
        if (sh->type == DT_T_LIST && !s_shape_ok(svc, sh->member)) bad_index++;
        if (sh->type == DT_T_MAP && (!s_shape_ok(svc, sh->key) || !s_shape_ok(svc, sh->value)))
            bad_index++;
        if (sh->flags & DT_SF_EXCEPTION) {
            if (!sh->error_code || sh->error_status < 400 || sh->error_status > 599) bad_error++;
            if (sh->type != DT_T_STRUCTURE) bad_error++;
        }
        if ((sh->flags & DT_SF_FAULT) && sh->error_status < 500) bad_error++;
        if (sh->n_enums > 0) {
            if (sh->enums != enums_used || sh->enums + (size_t)sh->n_enums > svc->n_enum_strings)
                bad_struct++;
            else
                for (uint16_t e = 0; e < sh->n_enums; e++)
                    if (!svc->enum_strings[sh->enums + e] ||
                        !s_str_ok(svc, svc->enum_strings[sh->enums + e]))
                        bad_struct++;
            enums_used += sh->n_enums;
        }
    }
    if (members_used != svc->n_members || enums_used != svc->n_enum_strings) bad_struct++;
    tap_ok(svc->n_shapes > 0 && svc->n_shapes < DT_NO_SHAPE, "%s: %zu shapes", svc->name,
           svc->n_shapes);
    tap_ok(unsorted == 0, "%s: shapes sorted by name (%d out of order)", svc->name, unsorted);
    tap_ok(bad_index == 0, "%s: every shape index in range (%d bad)", svc->name, bad_index);
    tap_ok(bad_struct == 0, "%s: structure members well formed (%d bad)", svc->name, bad_struct);
    tap_ok(bad_error == 0, "%s: exception shapes carry code and 4xx/5xx status (%d bad)", svc->name,
           bad_error);
}

static void s_kebab(const char *lua_name, char *out, size_t cap) {
    size_t i = 0;
    for (; lua_name[i] && i + 1 < cap; i++)
        out[i] = lua_name[i] == '_' ? '-' : lua_name[i];
    out[i] = '\0';
}

/* lua_name without underscores must spell the model name in lower case */
static int s_snake_matches(const char *name, const char *lua_name) {
    const char *p = lua_name;
    for (; *name; name++, p++) {
        if (*p == '_') p++;
        if (tolower((unsigned char)*name) != *p) return 0;
    }
    return *p == '\0' && lua_name[0] != '_';
}

static const dt_member *s_member(const dt_service *svc, uint16_t shape, const char *name) {
    if (!s_shape_ok(svc, shape)) return NULL;
    const dt_shape *sh = &svc->shapes[shape];
    const dt_member *members = dt_shape_members(svc, sh);
    for (uint16_t i = 0; i < sh->n_members; i++)
        if (strcmp(dt_str(svc, members[i].name), name) == 0) return &members[i];
    return NULL;
}

static void s_check_operations(const dt_service *svc) {
    int unsorted = 0, bad_index = 0, bad_errors = 0, bad_find = 0, bad_snake = 0, bad_paging = 0;
    size_t errors_used = 0;
    char kebab[128];
    for (size_t i = 0; i < svc->n_operations; i++) {
        const dt_operation *op = &svc->operations[i];
        if (!op->name || !op->lua_name || !op->http_method || !op->request_uri ||
            !s_str_ok(svc, op->name) || !s_str_ok(svc, op->lua_name) ||
            !s_str_ok(svc, op->http_method) || !s_str_ok(svc, op->request_uri) ||
            !s_str_ok(svc, op->input_token) || !s_str_ok(svc, op->output_token) ||
            !s_str_ok(svc, op->limit_key) || !s_str_ok(svc, op->result_key)) {
            bad_index++;
            continue;
        }
        const char *name = dt_str(svc, op->name), *lua_name = dt_str(svc, op->lua_name);
        if (i > 0 && strcmp(dt_str(svc, svc->operations[i - 1].name), name) >= 0) unsorted++;
        if (op->input != DT_NO_SHAPE && !s_shape_ok(svc, op->input)) bad_index++;
        if (op->output != DT_NO_SHAPE && !s_shape_ok(svc, op->output)) bad_index++;
        if (op->n_errors > 0 && op->errors != errors_used) bad_errors++;
        errors_used += op->n_errors;
        for (uint16_t e = 0; e < op->n_errors && op->errors + e < svc->n_error_shapes; e++) {
            uint16_t es = dt_op_error(svc, op, e);
            if (!s_shape_ok(svc, es) || !(svc->shapes[es].flags & DT_SF_EXCEPTION)) bad_errors++;
        }
        s_kebab(lua_name, kebab, sizeof kebab);
        if (dt_operation_find(svc, name) != op || dt_operation_find(svc, lua_name) != op ||
            dt_operation_find(svc, kebab) != op)
            bad_find++;
        if (!s_snake_matches(name, lua_name)) bad_snake++;
        if (op->success_status < 200 || op->success_status > 299) bad_index++;
        if (op->input_token) {
            /* the tokens and keys the pager will use must be real members */
            if (!s_member(svc, op->input, dt_str(svc, op->input_token)) || !op->output_token ||
                !s_member(svc, op->output, dt_str(svc, op->output_token)))
                bad_paging++;
            if (op->limit_key && !s_member(svc, op->input, dt_str(svc, op->limit_key)))
                bad_paging++;
            if (op->result_key) {
                const dt_member *rk = s_member(svc, op->output, dt_str(svc, op->result_key));
                if (!rk || (svc->shapes[rk->shape].type != DT_T_LIST &&
                            svc->shapes[rk->shape].type != DT_T_MAP))
                    bad_paging++;
            }
        } else if (s_member(svc, op->input, "NextToken") &&
                   s_member(svc, op->output, "NextToken")) {
            bad_paging++; /* takes and returns NextToken but is not marked as paging */
        }
    }
    if (errors_used != svc->n_error_shapes) bad_errors++;
    tap_ok(unsorted == 0, "%s: operations sorted by name", svc->name);
    tap_ok(bad_index == 0, "%s: operation input/output/status valid", svc->name);
    tap_ok(bad_errors == 0, "%s: every operation error is an exception shape (%d bad)", svc->name,
           bad_errors);
    tap_ok(bad_find == 0, "%s: every operation found as Name, snake_name and kebab-name (%d bad)",
           svc->name, bad_find);
    tap_ok(bad_snake == 0, "%s: lua_name is the model name in snake case (%d bad)", svc->name,
           bad_snake);
    tap_ok(bad_paging == 0, "%s: paging descriptors refer to real members (%d bad)", svc->name,
           bad_paging);

    int perm_ok = 1;
    char *seen = calloc(svc->n_operations, 1);
    for (size_t i = 0; seen && i < svc->n_operations; i++) {
        uint16_t k = svc->by_lua_name[i];
        if (k >= svc->n_operations || seen[k])
            perm_ok = 0;
        else
            seen[k] = 1;
        if (perm_ok && i > 0 &&
            strcmp(dt_str(svc, svc->operations[svc->by_lua_name[i - 1]].lua_name),
                   dt_str(svc, svc->operations[k].lua_name)) >= 0)
            perm_ok = 0;
    }
    free(seen);
    tap_ok(perm_ok, "%s: by_lua_name is a sorted permutation", svc->name);

    tap_ok(dt_operation_find(svc, "NoSuchOperation") == NULL &&
               dt_operation_find(svc, "no_such_operation") == NULL &&
               dt_operation_find(svc, "") == NULL && dt_operation_find(svc, NULL) == NULL,
           "%s: unknown operation names are not found", svc->name);

    int shapes_ok = 1;
    for (size_t i = 0; i < svc->n_shapes; i++)
        if (dt_shape_find(svc, dt_str(svc, svc->shapes[i].name)) != &svc->shapes[i]) shapes_ok = 0;
    tap_ok(shapes_ok && dt_shape_find(svc, "NoSuchShape") == NULL && dt_shape_find(svc, "") == NULL,
           "%s: dt_shape_find finds every shape by name, and nothing else", svc->name);
}

static void s_check_detective_paging(void) {
    const char *paged[] = {"ListDatasourcePackages",       "ListGraphs",      "ListIndicators",
                           "ListInvestigations",           "ListInvitations", "ListMembers",
                           "ListOrganizationAdminAccounts"};
    const dt_service *d = &dt_service_detective;
    int n_paged = 0;
    for (size_t i = 0; i < d->n_operations; i++)
        if (d->operations[i].input_token) n_paged++;
    tap_ok(n_paged == 7, "detective: 7 operations page (got %d)", n_paged);
    for (size_t i = 0; i < sizeof paged / sizeof paged[0]; i++) {
        const dt_operation *op = dt_operation_find(d, paged[i]);
        tap_ok(op && op->input_token && strcmp(dt_str(d, op->input_token), "NextToken") == 0 &&
                   op->output_token && strcmp(dt_str(d, op->output_token), "NextToken") == 0 &&
                   op->limit_key && strcmp(dt_str(d, op->limit_key), "MaxResults") == 0 &&
                   op->result_key,
               "detective: %s pages NextToken/MaxResults with a result key", paged[i]);
    }
    const dt_operation *ldp = dt_operation_find(d, "list_datasource_packages");
    tap_streq(ldp ? dt_str(d, ldp->result_key) : NULL, "DatasourcePackages",
              "detective: ListDatasourcePackages pages the DatasourcePackages map");
    const dt_operation *cg = dt_operation_find(d, "create-graph");
    tap_ok(cg && !cg->input_token, "detective: CreateGraph does not page");
}

static void s_check_services(void) {
    tap_ok(dt_service_detective.n_operations == 29, "detective: 29 operations (got %zu)",
           dt_service_detective.n_operations);
    tap_ok(dt_service_sts.n_operations == 11, "sts: 11 operations (got %zu)",
           dt_service_sts.n_operations);
    tap_ok(dt_service_find("detective") == &dt_service_detective &&
               dt_service_find("GuardDuty") == &dt_service_guardduty &&
               dt_service_find("STS") == &dt_service_sts && dt_service_find("s3") == NULL &&
               dt_service_find(NULL) == NULL,
           "dt_service_find by name, case-insensitive");
    tap_streq(dt_service_detective.protocol, "rest-json", "detective protocol");
    tap_streq(dt_service_sts.protocol, "query", "sts protocol");
    tap_ok(dt_service_sts.xml_namespace != NULL && dt_service_sts.global_endpoint != NULL,
           "sts records xmlNamespace and globalEndpoint");
    tap_ok(dt_service_detective.xml_namespace == NULL &&
               dt_service_detective.global_endpoint == NULL,
           "detective has no xmlNamespace or globalEndpoint");
    const dt_operation *ips = dt_operation_find(&dt_service_guardduty, "list_ip_sets");
    tap_streq(ips ? dt_str(&dt_service_guardduty, ips->name) : NULL, "ListIPSets",
              "guardduty list_ip_sets -> ListIPSets");
    const dt_operation *saml = dt_operation_find(&dt_service_sts, "assume-role-with-saml");
    tap_streq(saml ? dt_str(&dt_service_sts, saml->name) : NULL, "AssumeRoleWithSAML",
              "sts assume-role-with-saml -> AssumeRoleWithSAML");
}

static size_t s_count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void s_hex_sha256(const char *data, size_t len, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < md_len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
}

/* The model files as oracle: each operation has exactly one "requestUri" key with a path
 * value (a member may also be named requestUri, hence the "/"); the generated file records
 * the model's sha256. */
static void s_check_against_models(const char *shared) {
    for (size_t i = 0; i < sizeof s_all / sizeof s_all[0]; i++) {
        const dt_service *svc = s_all[i];
        char path[4096];
        snprintf(path, sizeof path, "%s/models/%s/service-2.json", shared, svc->name);
        size_t len = 0;
        char *json = tap_read_file(path, &len);
        if (!json) {
            tap_ok(0, "read %s", path);
            continue;
        }
        size_t n_ops = s_count(json, "\"requestUri\": \"/");
        tap_ok(svc->n_operations == n_ops, "%s: %zu operations, model has %zu", svc->name,
               svc->n_operations, n_ops);
        char hex[65];
        s_hex_sha256(json, len, hex);
        tap_streq(svc->model_sha256, hex, "%s: model_sha256 is the model file's digest", svc->name);
        free(json);
    }
}

int main(void) {
    s_check_services();
    for (size_t i = 0; i < sizeof s_all / sizeof s_all[0]; i++) {
        s_check_pool(s_all[i]);
        s_check_shapes(s_all[i]);
        s_check_operations(s_all[i]);
    }
    s_check_detective_paging();
    const char *shared = tap_shared_dir();
    if (shared) s_check_against_models(shared);
    return tap_done();
}
