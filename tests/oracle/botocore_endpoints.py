# botocore_endpoints.py: the endpoint URL botocore's clients use, for the cases read from
# stdin, one per line: "SERVICE REGION FIPS DUALSTACK STS_MODE" (FIPS/DUALSTACK 0|1,
# STS_MODE regional|legacy). Prints a Lua chunk returning a list of
#   {url=..., partition=...} or {error=..., partition=...}
# in input order. partition is the one botocore's own partition data assigns, so the spec
# can tell cases where Debian's botocore (1.29) predates a partition.
# Oracle for tests/spec/config_spec.lua; run with Debian's /usr/bin/python3 in a clean env.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lualit import lua  # noqa: E402

import botocore.endpoint_provider  # noqa: E402
import botocore.loaders  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402


def main():
    lib = botocore.endpoint_provider.RuleSetStandardLibrary(
        botocore.loaders.Loader().load_data("partitions"))
    sessions = {}
    results = []
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 5:
            continue
        svc, region, fips, ds, sts = parts
        r = {"partition": lib.aws_partition(region.replace("fips-", "").replace("-fips", ""))
             ["name"]}
        os.environ["AWS_STS_REGIONAL_ENDPOINTS"] = sts
        s = sessions.get(sts)
        if s is None:
            s = sessions[sts] = botocore.session.get_session()
        try:
            c = s.create_client(svc, region_name=region, aws_access_key_id="x",
                                aws_secret_access_key="y",
                                config=Config(use_fips_endpoint=fips == "1",
                                              use_dualstack_endpoint=ds == "1"))
            r["url"] = c.meta.endpoint_url
        except Exception as e:
            r["error"] = type(e).__name__
        results.append(r)
    print("return " + lua(results))


main()
