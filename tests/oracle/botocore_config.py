# botocore_config.py KIND FILE: how botocore reads a shared config (KIND=config) or
# credentials (KIND=credentials) file, printed as a Lua chunk returning
#   {profiles={...}, sso_sessions={...}, services={...}}  or  {error="..."}.
# raw_config_parse is botocore's own parser; the section naming below is botocore's
# build_profile_map rule (prefix + shlex.split into exactly two words), including the
# [services name] sections that botocore 1.29 does not name yet.
# Oracle for tests/spec/config_spec.lua; run with Debian's /usr/bin/python3.
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lualit import lua  # noqa: E402

import botocore.configloader  # noqa: E402
import botocore.exceptions  # noqa: E402


def named(header):
    try:
        parts = shlex.split(header)
    except ValueError:
        return None
    return parts[1] if len(parts) == 2 else None


def main():
    kind, path = sys.argv[1], sys.argv[2]
    try:
        raw = botocore.configloader.raw_config_parse(path)
    except botocore.exceptions.ConfigNotFound:
        raw = {}
    except Exception as e:  # ConfigParseError and friends
        print("return " + lua({"error": type(e).__name__}))
        return
    out = {"profiles": {}, "sso_sessions": {}, "services": {}}
    for header, values in raw.items():
        if kind == "credentials":
            out["profiles"][header] = values
            continue
        for prefix, group in (("profile", "profiles"), ("sso-session", "sso_sessions"),
                              ("services", "services")):
            if header.startswith(prefix):
                name = named(header)
                if name is not None:
                    out[group][name] = values
                break
        else:
            if header == "default":
                out["profiles"]["default"] = values
    print("return " + lua(out))


main()
