/* region.h: which AWS region a client uses, and what a region name may look like.
 *
 * Order: an explicit value (--region, aws.client{region=}), then AWS_REGION, then
 * AWS_DEFAULT_REGION, then the active profile's `region` (credentials file over config
 * file, as botocore's merged profile view). It does not map regions to endpoints
 * (endpoint.c does) and knows nothing of Lua. */
#ifndef DT_REGION_H
#define DT_REGION_H

#include <stddef.h>

#include "config.h"

#define DT_REGION_MAX 64 /* a region is one DNS label: at most 63 bytes + NUL */

/* A region becomes a DNS label of every standard endpoint and part of the signing scope, so
 * it must be 1..63 of [a-z0-9-], not start or end with '-', and not be all digits (botocore's
 * valid-host-label rule, lower case only). Returns 0, or -1 with err naming the value. */
int dt_region_check(const char *region, dt_config_error *err);

typedef struct dt_region_request {
    const char *region;  /* explicit value or NULL */
    const char *profile; /* explicit profile or NULL ($AWS_PROFILE, then "default") */
    const dt_config *config;
    const dt_config_env *env;
} dt_region_request;

/* Fills out (DT_REGION_MAX bytes) and *source ("explicit", "env" or "profile"; source may be
 * NULL). Returns -1 with err when no source has a region, the value is invalid, or a named
 * profile does not exist. */
int dt_region_resolve(const dt_region_request *req, char *out, const char **source,
                      dt_config_error *err);

/* Writes s for an error message: at most max_len bytes, control and non-ASCII bytes as '?'. */
void dt_region_quote(const char *s, char *out, size_t cap, size_t max_len);

#endif
