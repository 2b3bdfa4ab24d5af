/* operation.c: lookup of services and operations in the generated model tables.
 *
 * Runs on every API call, so lookups are binary searches over the tables the generator
 * sorted (operations by name, s_by_lua_name by lua_name); nothing is allocated and nothing
 * is built at run time; names are read from the service's string pool (see operation.h).
 * It does not validate or describe parameters: see validate.c and model_lua.c for that. */
#include "operation.h"

#include <string.h>
#include <strings.h>

const dt_service *dt_service_find(const char *name) {
    static const dt_service *const services[] = {&dt_service_detective, &dt_service_guardduty,
                                                 &dt_service_sts};
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        if (strcasecmp(services[i]->name, name) == 0) return services[i];
    }
    return NULL;
}

/* Model names (ListMembers) are CamelCase; lua_name (list_members) and the command-line form
 * (list-members) are lower case with separators. The first character tells them apart. */
/* Index of name in a sorted array of n structures of size stride whose first member is the
 * name's offset in svc's string pool (dt_operation and dt_shape both start with it), or -1. */
_Static_assert(offsetof(dt_operation, name) == 0 && offsetof(dt_shape, name) == 0,
               "s_bsearch_name reads the name offset at the start of the structure");
static long s_bsearch_name(const dt_service *svc, const void *base, size_t n, size_t stride,
                           const char *name) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t off;
        memcpy(&off, (const char *)base + mid * stride, sizeof off);
        int c = strcmp(name, svc->strings + off);
        if (c == 0) return (long)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

static const dt_operation *s_find_by_name(const dt_service *svc, const char *name) {
    long i = s_bsearch_name(svc, svc->operations, svc->n_operations, sizeof *svc->operations, name);
    return i < 0 ? NULL : &svc->operations[i];
}

const dt_shape *dt_shape_find(const dt_service *svc, const char *name) {
    long i = s_bsearch_name(svc, svc->shapes, svc->n_shapes, sizeof *svc->shapes, name);
    return i < 0 ? NULL : &svc->shapes[i];
}

/* strcmp over lua_name where the key may spell '_' as '-' */
static int s_cmp_lua_name(const char *key, const char *lua_name) {
    for (;; key++, lua_name++) {
        unsigned char k = (unsigned char)(*key == '-' ? '_' : *key);
        unsigned char l = (unsigned char)*lua_name;
        if (k != l || k == '\0') return (int)k - (int)l;
    }
}

static const dt_operation *s_find_by_lua_name(const dt_service *svc, const char *key) {
    size_t lo = 0, hi = svc->n_operations;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const dt_operation *op = &svc->operations[svc->by_lua_name[mid]];
        int c = s_cmp_lua_name(key, svc->strings + op->lua_name);
        if (c == 0) return op;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const dt_operation *dt_operation_find(const dt_service *svc, const char *name) {
    if (!svc || !name || !name[0]) return NULL;
    if (name[0] >= 'A' && name[0] <= 'Z') return s_find_by_name(svc, name);
    return s_find_by_lua_name(svc, name);
}
