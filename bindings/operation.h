/* operation.h: the descriptor structs that the generated *_ops.c tables fill in.
 *
 * A service model (botocore JSON) becomes constant C data: one dt_service holding
 * its operations and a flat array of shapes. Shapes refer to each other by index
 * into that array (so the generator never needs forward declarations and recursive
 * shapes cost nothing). This header holds data only; it does not know about Lua,
 * JSON or HTTP. */
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

typedef struct dt_member {
    const char *name;      /* model member name: the Lua key and the JSON key unless wire_name */
    const char *wire_name; /* locationName if set, else == name */
    uint16_t shape;        /* index into dt_service.shapes */
    uint8_t location;      /* dt_location */
    uint8_t flags;         /* DT_MF_* */
} dt_member;

typedef struct dt_shape {
    const char *name;
    uint8_t type;      /* dt_type */
    uint8_t ts_format; /* dt_timestamp_format, for DT_T_TIMESTAMP */
    uint16_t flags;    /* DT_SF_* */
    /* min/max: length for strings, blobs, lists and maps; value range for numbers.
     * Valid only when DT_SF_HAS_MIN / DT_SF_HAS_MAX are set. */
    double min;
    double max;
    const char *pattern; /* PCRE2 pattern from the model, or NULL */
    const char *const *enums;
    uint16_t n_enums;
    /* structure */
    const dt_member *members;
    uint16_t n_members;
    /* list: member = element shape; map: key and value shapes */
    uint16_t member;
    uint16_t key;
    uint16_t value;
    /* error shapes: the code ("error.code" or the shape name) and HTTP status */
    const char *error_code;
    uint16_t error_status;
} dt_shape;

#define DT_NO_SHAPE 0xFFFFu

typedef struct dt_operation {
    const char *name;        /* ListMembers */
    const char *lua_name;    /* list_members */
    const char *http_method; /* POST */
    const char *request_uri; /* /graph/members/list (may carry ?literal=query) */
    uint16_t success_status; /* 200 unless the model says otherwise */
    uint16_t input;          /* shape index or DT_NO_SHAPE */
    uint16_t output;         /* shape index or DT_NO_SHAPE */
    const uint16_t *errors;  /* error shape indices */
    uint16_t n_errors;
    uint8_t deprecated;
    /* paging: member names, or NULL when the operation does not page.
     * Set for every operation whose input has NextToken and output has NextToken,
     * declared in a paginator file or not. */
    const char *input_token;
    const char *output_token;
    const char *limit_key;
    const char *result_key; /* the list or map member that holds the items, or NULL */
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
} dt_service;

extern const dt_service dt_service_detective;
extern const dt_service dt_service_guardduty;
extern const dt_service dt_service_sts;

/* Lookup helpers (bindings/operation.c). Accept ListMembers, list_members or list-members. */
const dt_service *dt_service_find(const char *name);
const dt_operation *dt_operation_find(const dt_service *svc, const char *name);
/* The shape with this model name, or NULL. */
const dt_shape *dt_shape_find(const dt_service *svc, const char *name);

#endif
