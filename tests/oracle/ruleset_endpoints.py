# ruleset_endpoints.py MODELS_DIR: botocore's rule engine (EndpointProvider) run on the
# endpoint rule sets in MODELS_DIR/<service>/endpoint-rule-set-1.json, for the cases read
# from stdin: "SERVICE REGION FIPS DUALSTACK GLOBAL" (0|1 each; GLOBAL is STS's
# UseGlobalEndpoint). Prints a Lua chunk returning a list of
#   {url=..., signing_region=..., partition=...} or {error=..., partition=...}.
# This checks our hand-encoded rules against the published rule sets themselves, with the
# partition data of the installed botocore.
# Oracle for tests/spec/config_spec.lua; run with Debian's /usr/bin/python3.
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lualit import lua  # noqa: E402

import botocore.endpoint_provider as ep  # noqa: E402
import botocore.loaders  # noqa: E402


def main():
    models = sys.argv[1]
    partitions = botocore.loaders.Loader().load_data("partitions")
    lib = ep.RuleSetStandardLibrary(partitions)
    providers = {}
    results = []
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 5:
            continue
        svc, region, fips, ds, glob = parts
        p = providers.get(svc)
        if p is None:
            with open(os.path.join(models, svc, "endpoint-rule-set-1.json")) as f:
                p = providers[svc] = ep.EndpointProvider(json.load(f), partitions)
        params = {"Region": region, "UseFIPS": fips == "1", "UseDualStack": ds == "1"}
        if svc == "sts":
            params["UseGlobalEndpoint"] = glob == "1"
        r = {"partition": lib.aws_partition(region)["name"]}
        try:
            e = p.resolve_endpoint(**params)
            r["url"] = e.url
            r["signing_region"] = region
            for scheme in e.properties.get("authSchemes", []):
                r["signing_region"] = scheme.get("signingRegion", region)
        except Exception as ex:
            r["error"] = str(ex)
        results.append(r)
    print("return " + lua(results))


main()
