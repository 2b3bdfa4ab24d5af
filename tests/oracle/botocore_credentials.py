# botocore_credentials.py [PROFILE]: which credentials botocore's default chain picks in the
# current environment (the spec runs it under `env -i` with only the variables of a case,
# HOME pointing at a scratch directory and AWS_EC2_METADATA_DISABLED=true so nothing is
# fetched from the network). PROFILE, when given, is an explicit profile, as --profile.
# Prints a Lua chunk returning {access_key=..., token=..., method=...}, {none=true} or
# {error=ExceptionName}. Oracle for tests/spec/config_spec.lua.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lualit import lua  # noqa: E402

import botocore.session  # noqa: E402


def main():
    profile = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        s = botocore.session.Session(profile=profile)
        c = s.get_credentials()
        if c is None:
            out = {"none": True}
        else:
            f = c.get_frozen_credentials()
            out = {"access_key": f.access_key, "method": c.method}
            if f.token:
                out["token"] = f.token
    except Exception as e:
        out = {"error": type(e).__name__}
    print("return " + lua(out))


main()
