#!/usr/bin/python3
"""Independent client for tests/spec/emulator_cli_spec.lua: drives the detlua emulator with
botocore (Debian's python3-botocore; boto3 when installed changes nothing here, it wraps the
same client) and reports, per call, whether botocore signed it, got it accepted and parsed the
answer. It does not judge the emulator's semantics beyond the error code a call expects.

Usage:
  boto_e2e.py ops            -> one JSON line {"botocore": {svc: [ops]}, "awscli": {svc: [ops]}}
                                (models found through AWS_DATA_PATH count, as for the CLI)
  boto_e2e.py run < job.json -> one JSON line per call
job = {"endpoint": url, "region": r, "creds": {name: {access_key_id, secret_access_key,
       session_token?}}, "calls": [{"id", "service", "op", "as", "params", "save"?: {var: path},
       "expect"?: ErrorCode}]}
String params of the form "${var}" (also inside lists/maps) are replaced by values saved from
earlier results; a save path is dotted keys/indexes into the parsed result ("DetectorIds.0").
"""
import json
import sys

SERVICES = ("detective", "guardduty")


def known_ops():
    out = {}
    import botocore.session
    s = botocore.session.get_session()
    out["botocore"] = {n: sorted(s.get_service_model(n).operation_names) for n in SERVICES}
    try:
        import awscli.botocore.session as cs  # the AWS CLI v2's own botocore
        s2 = cs.get_session()
        out["awscli"] = {n: sorted(s2.get_service_model(n).operation_names) for n in SERVICES}
    except Exception:  # noqa: BLE001 - an AWS CLI without a vendored botocore
        out["awscli"] = None
    print(json.dumps(out))


def lookup(value, path):
    for part in path.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        else:
            value = value[part]
    return value


def subst(v, saved):
    if isinstance(v, str) and v.startswith("${") and v.endswith("}"):
        return saved[v[2:-1]]
    if isinstance(v, list):
        return [subst(x, saved) for x in v]
    if isinstance(v, dict):
        return {k: subst(x, saved) for k, x in v.items()}
    return v


def run():
    import botocore.session
    from botocore.config import Config
    from botocore import xform_name
    from botocore.exceptions import ClientError
    job = json.load(sys.stdin)
    session = botocore.session.get_session()
    clients = {}
    saved = {}
    cfg = Config(retries={"max_attempts": 1}, parameter_validation=True)

    def client(service, who):
        key = (service, who)
        if key not in clients:
            c = job["creds"][who]
            clients[key] = session.create_client(
                service, region_name=job["region"], endpoint_url=job["endpoint"],
                aws_access_key_id=c["access_key_id"], aws_secret_access_key=c["secret_access_key"],
                aws_session_token=c.get("session_token"), config=cfg)
        return clients[key]

    for call in job["calls"]:
        res = {"id": call["id"], "service": call["service"], "op": call["op"]}
        try:
            c = client(call["service"], call["as"])
            method = getattr(c, xform_name(call["op"]))
            out = method(**subst(call.get("params") or {}, saved))
            res["ok"] = True
            res["status"] = out.get("ResponseMetadata", {}).get("HTTPStatusCode")
            for var, path in (call.get("save") or {}).items():
                saved[var] = lookup(out, path)
        except ClientError as e:
            res["ok"] = False
            res["code"] = e.response.get("Error", {}).get("Code")
            res["status"] = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            res["message"] = e.response.get("Error", {}).get("Message")
        except Exception as e:  # noqa: BLE001 - a parser or client failure is the result
            res["ok"] = False
            res["exception"] = type(e).__name__ + ": " + str(e)
        print(json.dumps(res, default=str), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["ops"]:
        known_ops()
    else:
        run()
