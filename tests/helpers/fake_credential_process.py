#!/usr/bin/python3
"""A credential_process helper for tests/spec/credentials_*_spec.lua, driven by its
arguments (the spec writes them into a profile's credential_process line):

  fake_credential_process.py MODE [--count-file F] [--expires-in S] [--stderr TEXT] [ARGS...]

MODE: valid (Version 1 with SessionToken and, with --expires-in, Expiration), static (no
Expiration, no SessionToken), expired (Expiration an hour ago), invalid-json, version2,
no-secret, fail (exit 3 after printing --stderr TEXT to stderr), sleep (sleeps 30 s),
argv (valid, with AccessKeyId = "AKIAARGV" + the number of extra ARGS and the extra ARGS
as a JSON list in SessionToken, so a spec can check how the command line was split),
env (valid, with AccessKeyId = "AKIAENV" + $DETLUA_TEST_MARK, to show which environment
the helper got).
--count-file F: appends one line per run, so a spec can count runs.
"""
import datetime
import json
import os
import sys
import time


def iso(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    args = sys.argv[1:]
    mode = args.pop(0) if args else "valid"
    count_file, expires_in, stderr_text, extra = None, None, "", []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--count-file":
            count_file = args[i + 1]
            i += 2
        elif a == "--expires-in":
            expires_in = int(args[i + 1])
            i += 2
        elif a == "--stderr":
            stderr_text = args[i + 1]
            i += 2
        else:
            extra.append(a)
            i += 1
    if count_file:
        with open(count_file, "a") as f:
            f.write("run\n")
    n = 0
    if count_file:
        with open(count_file) as f:
            n = len(f.readlines())
    out = {"Version": 1, "AccessKeyId": "AKIAFAKEPROCESS%05d" % n,
           "SecretAccessKey": "processSecret/abcdefghijklmnop%05d" % n,
           "SessionToken": "processToken%05dxyzxyzxyzxyz" % n}
    if expires_in is not None:
        out["Expiration"] = iso(time.time() + expires_in)
    if mode == "valid":
        pass
    elif mode == "static":
        del out["SessionToken"]
    elif mode == "expired":
        out["Expiration"] = iso(time.time() - 3600)
    elif mode == "invalid-json":
        sys.stdout.write("this is not JSON: processSecret/zzzzzzzzzzzzzzzz\n")
        return 0
    elif mode == "version2":
        out["Version"] = 2
    elif mode == "no-secret":
        del out["SecretAccessKey"]
    elif mode == "fail":
        sys.stderr.write(stderr_text)
        return 3
    elif mode == "sleep":
        time.sleep(30)
    elif mode == "argv":
        out["AccessKeyId"] = "AKIAARGV%d" % len(extra)
        out["SessionToken"] = json.dumps(extra)
    elif mode == "env":
        out["AccessKeyId"] = "AKIAENV" + os.environ.get("DETLUA_TEST_MARK", "NONE")
    else:
        sys.stderr.write("unknown mode " + mode)
        return 2
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
