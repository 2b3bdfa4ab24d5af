#!/usr/bin/python3
"""Oracle for tests/spec/wire_spec.lua: botocore serializes AND signs each request.

Reads JSON lines {service, operation, params, endpoint, region, time (epoch s),
creds {access_key_id, secret_access_key, session_token}} and prints one JSON line per
case: {known: bool, method, path (with query), body, canonical_request, signature}
or {known: false} when this botocore does not have the operation, or {error: "..."}.
With "detlua_body" given, the two bodies are compared as JSON (botocore puts spaces
after separators, detlua does not) and, when equal, botocore signs detlua's bytes, so
the canonical request and signature compare the same wire request.
"""
import datetime
import json
import sys
import types
from collections import OrderedDict

import botocore.auth as bauth
import botocore.session
from botocore.awsrequest import prepare_request_dict, create_request_object
from botocore.credentials import Credentials
from botocore.serialize import create_serializer


def pin(epoch):
    when = datetime.datetime.utcfromtimestamp(int(epoch))

    class Pinned(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    bauth.datetime = types.SimpleNamespace(datetime=Pinned)


class Recording(bauth.SigV4Auth):
    def canonical_request(self, request):
        self.cr = super().canonical_request(request)
        return self.cr


def _known_params(shape, value):
    if shape is None:
        return not value
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            return False
        return all(k in shape.members and _known_params(shape.members[k], v) for k, v in value.items())
    if shape.type_name == "list":
        return all(_known_params(shape.member, v) for v in value)
    if shape.type_name == "map":
        return all(_known_params(shape.value, v) for v in value.values())
    return True


session = botocore.session.get_session()
models = {}
for line in sys.stdin:
    if not line.strip():
        continue
    case = json.loads(line, object_pairs_hook=OrderedDict)
    try:
        svc = case["service"]
        if svc not in models:
            models[svc] = session.get_service_model(svc)
        model = models[svc]
        if case["operation"] not in model.operation_names:
            print(json.dumps({"known": False}))
            continue
        op = model.operation_model(case["operation"])
        # A newer model than this botocore's: a member it does not know means the
        # operation changed since; the model is the oracle then.
        if not _known_params(op.input_shape, case["params"]):
            print(json.dumps({"known": False}))
            continue
        ser = create_serializer(model.metadata["protocol"], include_validation=False)
        req = ser.serialize_to_request(case["params"], op)
        prepare_request_dict(req, endpoint_url=case["endpoint"])
        aws_req = create_request_object(req)
        body = aws_req.body
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        # botocore writes JSON with spaces after separators; detlua writes it compact.
        # The JSON must be equal; the signature is then compared over detlua's bytes.
        ours = case.get("detlua_body")
        body_equal = None
        if ours is not None:
            body_equal = (json.loads(body) if body else None) == (json.loads(ours) if ours else None) \
                if model.metadata["protocol"] != "query" else body == ours
            if body_equal:
                aws_req.data = ours.encode("utf-8")
        c = case["creds"]
        creds = Credentials(c["access_key_id"], c["secret_access_key"], c.get("session_token"))
        pin(case["time"])
        signer = Recording(creds, model.signing_name or model.endpoint_prefix, case["region"])
        signer.add_auth(aws_req)
        url = aws_req.url
        path = url[len(case["endpoint"]):]
        auth = aws_req.headers["Authorization"]
        print(json.dumps({"known": True, "method": aws_req.method, "path": path, "body": body or "",
                          "body_equal": body_equal,
                          "canonical_request": signer.cr, "signature": auth.split("Signature=")[1]}))
    except Exception as e:  # reported, the spec fails that case
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
    sys.stdout.flush()
