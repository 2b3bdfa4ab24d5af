/* operation.h: the descriptor structs that the generated *_ops.c tables fill in.
 *
 * A service model (botocore JSON) becomes constant C data: one dt_service holding
 * its operations and a flat array of shapes. Shapes refer to each other by index
 * into that array (so the generator never needs forward declarations and recursive
 * shapes cost nothing). This header holds data and its accessors only; it does not know
 * about Lua, JSON or HTTP. */
#ifndef DT_OPERATION_H
#define DT_OPERATION_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    DT_T_STRING,
    DT_T_INTEGER, /* 32-bit signed */
    DT_T_LONG,    /* 64-bit signed */
    DT_T_DOUBLE,
    DT_T_FLOAT,
    DT_T_BOOLEAN,
    DT_T_TIMESTAMP,
    DT_T_BLOB,
    DT_T_STRUCTURE,
    DT_T_LIST,
    DT_T_MAP
} dt_type;

typedef enum {
    DT_LOC_BODY, /* JSON body member (rest-json) or form field (query) */
    DT_LOC_URI,  /* {Label} or {Label+} in the request URI */
    DT_LOC_QUERY,
    DT_LOC_HEADER,
    DT_LOC_HEADERS, /* prefix headers map (location "headers") */
    DT_LOC_STATUS   /* response status code (location "statusCode") */
} dt_location;

typedef enum {
    DT_TS_DEFAULT, /* protocol default: epoch seconds for rest-json body, iso8601 for query/XML */
    DT_TS_ISO8601,
    DT_TS_EPOCH, /* "unixTimestamp" */
    DT_TS_RFC822 /* "rfc822" (HTTP date) */
} dt_timestamp_format;

/* shape flags */
#define DT_SF_SENSITIVE 0x01u
#define DT_SF_HAS_MIN 0x02u
#define DT_SF_HAS_MAX 0x04u
#define DT_SF_EXCEPTION 0x08u
#define DT_SF_FAULT 0x10u /* server-side error shape */
#define DT_SF_DEPRECATED 0x20u

/* member flags */
#define DT_MF_REQUIRED 0x01u
#define DT_MF_IDEMPOTENCY_TOKEN 0x02u
#define DT_MF_DEPRECATED 0x04u
#define DT_MF_GREEDY_LABEL 0x08u /* {Name+} in the URI template */

/* The tables hold no pointers: strings are offsets into the service's string pool and
 * members, enum values and error lists are index ranges into flat per-service arrays. In a
 * position-independent executable every pointer in constant data costs a relocation at start
 * (and a copied page for .data.rel.ro); offsets cost nothing. Only dt_service itself (three
 * objects) carries pointers. Read the tables through the accessors below. */

typedef struct dt_member {
    uint32_t name;      /* string: member name (the Lua key; the JSON key unless wire_name) */
    uint32_t wire_name; /* string: locationName if set, else the same offset as name */
    uint16_t shape;     /* index into dt_service.shapes */
    uint8_t location;   /* dt_location */
    uint8_t flags;      /* DT_MF_* */
} dt_member;

typedef struct dt_shape {
    uint32_t name;     /* string */
    uint8_t type;      /* dt_type */
    uint8_t ts_format; /* dt_timestamp_format, for DT_T_TIMESTAMP */
    uint16_t flags;    /* DT_SF_* */
    /* min/max: length for strings, blobs, lists and maps; value range for numbers.
     * Valid only when DT_SF_HAS_MIN / DT_SF_HAS_MAX are set. */
    double min;
    double max;
    uint32_t pattern; /* string: PCRE2 pattern from the model, or 0 */
    uint32_t enums;   /* first index into dt_service.enum_strings */
    uint16_t n_enums;
    /* structure */
    uint16_t n_members;
    uint32_t members; /* first index into dt_service.members */
    /* list: member = element shape; map: key and value shapes */
    uint16_t member;
    uint16_t key;
    uint16_t value;
    /* error shapes: the code ("error.code" or the shape name) and HTTP status */
    uint16_t error_status;
    uint32_t error_code; /* string, or 0 */
} dt_shape;

#define DT_NO_SHAPE 0xFFFFu

typedef struct dt_operation {
    uint32_t name;           /* string: ListMembers */
    uint32_t lua_name;       /* string: list_members */
    uint32_t http_method;    /* string: POST */
    uint32_t request_uri;    /* string: /graph/members/list (may carry ?literal=query) */
    uint16_t success_status; /* 200 unless the model says otherwise */
    uint16_t input;          /* shape index or DT_NO_SHAPE */
    uint16_t output;         /* shape index or DT_NO_SHAPE */
    uint16_t n_errors;
    uint32_t errors; /* first index into dt_service.error_shapes */
    uint8_t deprecated;
    /* paging: member names (strings), or 0 when the operation does not page.
     * Set for every operation whose input has NextToken and output has NextToken,
     * declared in a paginator file or not. */
    uint32_t input_token;
    uint32_t output_token;
    uint32_t limit_key;
    uint32_t result_key; /* the list or map member that holds the items, or 0 */
} dt_operation;

typedef struct dt_service {
    const char *name;            /* detective (the name used by aws.client) */
    const char *service_id;      /* Detective */
    const char *full_name;       /* Amazon Detective */
    const char *api_version;     /* 2018-10-26 */
    const char *protocol;        /* rest-json | query */
    const char *signing_name;    /* detective */
    const char *endpoint_prefix; /* api.detective */
    const char *xml_namespace;   /* query protocol only, else NULL */
    const char *global_endpoint; /* sts.amazonaws.com, else NULL */
    const char *model_sha256;
    const dt_operation *operations; /* sorted by name */
    size_t n_operations;
    const dt_shape *shapes; /* sorted by name */
    size_t n_shapes;
    const uint16_t *by_lua_name; /* operation indices ordered by lua_name (lookup index) */
    /* String pool: NUL-terminated strings, each stored once; offset 0 (an empty string at
     * the start of the pool) means "none". strings_size counts every byte of the pool. */
    const char *strings;
    size_t strings_size;
    const dt_member *members; /* every structure's members, shape after shape */
    size_t n_members;
    const uint32_t *enum_strings; /* string offsets of every enum value, shape after shape */
    size_t n_enum_strings;        /* (enum_strings is NULL when the model has none) */
    const uint16_t *error_shapes; /* every operation's error shape indices, op after op */
    size_t n_error_shapes;
} dt_service;

/* The string at offset off of svc's pool, or NULL for 0 (absent). */
static inline const char *dt_str(const dt_service *svc, uint32_t off) {
    return off ? svc->strings + off : NULL;
}

/* The members of a structure shape: an array of sh->n_members (NULL when the model has no
 * structure members at all, where NULL + 0 would be undefined). */
static inline const dt_member *dt_shape_members(const dt_service *svc, const dt_shape *sh) {
    return svc->members ? svc->members + sh->members : NULL;
}

/* Enum value i (< sh->n_enums) of a string shape. */
static inline const char *dt_shape_enum(const dt_service *svc, const dt_shape *sh, size_t i) {
    return svc->strings + svc->enum_strings[sh->enums + i];
}

/* The shape index of error i (< op->n_errors) of an operation. */
static inline uint16_t dt_op_error(const dt_service *svc, const dt_operation *op, size_t i) {
    return svc->error_shapes[op->errors + i];
}

extern const dt_service dt_service_detective;
extern const dt_service dt_service_guardduty;
extern const dt_service dt_service_sts;

/* Lookup helpers (bindings/operation.c). Accept ListMembers, list_members or list-members. */
const dt_service *dt_service_find(const char *name);
const dt_operation *dt_operation_find(const dt_service *svc, const char *name);
/* The shape with this model name, or NULL. */
const dt_shape *dt_shape_find(const dt_service *svc, const char *name);

#endif
