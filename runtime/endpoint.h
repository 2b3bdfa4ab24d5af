/* endpoint.h: where requests for a service go, and how they are signed.
 *
 * Order (botocore's, with the AWS "service-specific endpoints" settings): an explicit
 * endpoint (--endpoint-url, aws.client{endpoint=}); then, unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS / ignore_configured_endpoint_urls is true,
 * AWS_ENDPOINT_URL_<SERVICE ID>, AWS_ENDPOINT_URL, the profile's services section
 * (`services = name` -> [services name] -> `detective =` / `  endpoint_url = ...`) and the
 * profile's endpoint_url; else the service's standard endpoint for the region, computed by
 * the service's endpoint rule set (partitions, FIPS, dual-stack, the STS global endpoint).
 * A configured endpoint makes the FIPS and dual-stack settings moot, as in botocore.
 *
 * The rule sets of the three bound services are encoded by hand below (they are small);
 * tests check them against botocore's rule engine run on the published rule sets. This does
 * not do DNS, nor S3-style virtual hosts, and knows nothing of Lua. */
#ifndef DT_ENDPOINT_H
#define DT_ENDPOINT_H

#include "config.h"
#include "region.h"

typedef struct dt_partition {
    const char *name;
    const char *dns_suffix;
    const char *dualstack_dns_suffix;
    int supports_fips;
    int supports_dualstack;
} dt_partition;

/* The partition of a region, by the published partitions data: an exact region name (the
 * *-global pseudo regions), else the partition's region pattern, else the "aws" partition. */
const dt_partition *dt_partition_for_region(const char *region);

typedef struct dt_endpoint_flags {
    int use_fips;
    int use_dualstack;
    int sts_global; /* AWS_STS_REGIONAL_ENDPOINTS=legacy: legacy regions use sts.amazonaws.com */
} dt_endpoint_flags;

typedef struct dt_endpoint {
    char url[1024];
    char signing_region[DT_REGION_MAX];
    char signing_name[32];
    const char *source;    /* "explicit", "env", "profile" or "standard" */
    const char *partition; /* partition of the signing region */
} dt_endpoint;

/* The standard endpoint of service ("detective", "guardduty", "sts") in region. A "fips-"
 * prefix or "-fips" suffix in the region is dropped and turns FIPS on (botocore's pseudo
 * regions). Returns 0, or -1 + err (unknown service, invalid region, variant unavailable). */
int dt_endpoint_standard(const char *service, const char *region, const dt_endpoint_flags *flags,
                         dt_endpoint *out, dt_config_error *err);

typedef struct dt_endpoint_request {
    const char *service;
    const char *region;   /* required: the resolved region */
    const char *endpoint; /* explicit endpoint URL or NULL */
    const char *profile;  /* explicit profile or NULL */
    const dt_config *config;
    const dt_config_env *env;
} dt_endpoint_request;

int dt_endpoint_resolve(const dt_endpoint_request *req, dt_endpoint *out, dt_config_error *err);

/* The names a service is configured by: "AWS_ENDPOINT_URL_GUARDDUTY" and the services
 * section key "guardduty" (service id upper-cased / lower-cased, spaces as '_'). 0 or -1. */
int dt_endpoint_config_names(const char *service, char *env_var, size_t env_cap, char *config_key,
                             size_t key_cap);

#endif
