#!/usr/bin/python3
"""botocore as the oracle for detlua's protocol tests (tests/spec/protocol_spec.lua).

Reads JSON lines on stdin, writes one JSON line per case on stdout, in order.

  {"id": N, "kind": "serialize", "service": "detective", "operation": "ListMembers",
   "params": {...}, "model_file": optional path to a service-2.json,
   "ours": {"path": "...", "body": "..."}}
    -> botocore's serializer output (method, url_path, encoded query pairs, headers, body),
       plus canonical forms of botocore's and detlua's bodies and query strings so that the
       Lua side can compare them exactly ([] versus {}, 5 versus 5.0 included).
       botocore's own (session) model is tried first; when it lacks the operation or
       refuses the parameters (the model moved on since 1.29.27), model_file is loaded.
  {"id": N, "kind": "parse" | "parse_error", "service", "operation", "status",
   "headers": {...}, "body": "...", "model_file": optional}
    -> what botocore's response parser returns for those bytes (for errors, with the
       modeled error fields merged in as botocore's endpoint does), datetimes as
       {"__ts": epoch seconds}, bytes as {"__bytes": base64}.

Only botocore's public pieces are used: the session's models or botocore.model.ServiceModel,
botocore.serialize.create_serializer, botocore.parsers.create_parser, and the
idempotency-token handler that runs before serialization.
"""
import base64
import datetime
import json
import re
import sys
import urllib.parse

import botocore.handlers
import botocore.model
import botocore.parsers
import botocore.serialize
import botocore.session
from botocore.utils import percent_encode_sequence

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

_session = botocore.session.get_session()
_models = {}


def service_model(service, model_file):
    key = (service, model_file)
    if key not in _models:
        if model_file:
            with open(model_file) as f:
                _models[key] = botocore.model.ServiceModel(json.load(f), service_name=service)
        else:
            _models[key] = _session.get_service_model(service)
    return _models[key]


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def token_members(shape):
    if shape is None:
        return []
    return [
        (name, m.serialization.get("name", name))
        for name, m in shape.members.items()
        if m.metadata.get("idempotencyToken")
    ]


def mask_tokens(obj, wire_names):
    """Random idempotency tokens differ run to run: replace well-formed ones by a marker."""
    if isinstance(obj, dict):
        for w in wire_names:
            if isinstance(obj.get(w), str) and UUID4.match(obj[w]):
                obj[w] = "<uuid4>"
    return obj


def encoded_pairs(query):
    if isinstance(query, str):
        return sorted(p for p in query.split("&") if p)
    return sorted(p for p in percent_encode_sequence(query).split("&") if p)


def serialize(case):
    service, opname = case["service"], case["operation"]
    attempts = [("session", None)]
    if case.get("model_file"):
        attempts.append(("file", case["model_file"]))
    reasons = []
    for label, model_file in attempts:
        try:
            model = service_model(service, model_file)
            if opname not in model.operation_names:
                reasons.append(f"{label}: no operation {opname}")
                continue
            op = model.operation_model(opname)
            params = json.loads(json.dumps(case.get("params") or {}))
            botocore.handlers.generate_idempotent_uuid(params, op)
            ser = botocore.serialize.create_serializer(model.metadata["protocol"], True)
            req = ser.serialize_to_request(params, op)
        except Exception as e:  # the parameters do not fit this model
            reasons.append(f"{label}: {type(e).__name__}: {e}")
            continue
        tokens = [w for _, w in token_members(op.input_shape)]
        ours = case.get("ours") or {}
        out = {
            "id": case["id"],
            "ok": True,
            "model": label,
            "method": req["method"],
            "url_path": req["url_path"],
            "query": encoded_pairs(req["query_string"]),
            "headers": {k: str(v) for k, v in req["headers"].items()},
        }
        body = req["body"]
        if isinstance(body, dict):  # query protocol: form fields
            out["body_kind"] = "form"
            out["body"] = canonical(sorted([k, str(v)] for k, v in body.items()))
            out["body_pairs"] = encoded_pairs(body)
            mine = urllib.parse.parse_qsl(ours.get("body", ""), keep_blank_values=True)
            out["ours_body"] = canonical(sorted([k, v] for k, v in mine))
            out["ours_body_pairs"] = sorted(p for p in ours.get("body", "").split("&") if p)
        else:
            if isinstance(body, bytes):
                body = body.decode("utf-8")
            out["body_raw"] = body
            if body == "":
                out["body_kind"] = "empty"
                out["body"] = ""
            else:
                out["body_kind"] = "json"
                out["body"] = canonical(mask_tokens(json.loads(body), tokens))
            mine = ours.get("body", "")
            try:
                out["ours_body"] = (
                    "" if mine == "" else canonical(mask_tokens(json.loads(mine), tokens))
                )
            except ValueError as e:
                out["ours_body"] = f"<not JSON: {e}>"
        path = ours.get("path", "")
        out["ours_path"], _, q = path.partition("?")
        out["ours_query"] = encoded_pairs(q)
        return out
    return {"id": case["id"], "ok": False, "reason": "; ".join(reasons)}


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return {"__ts": value.timestamp()}
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes": base64.b64encode(bytes(value)).decode()}
    return value


def parse(case):
    model = service_model(case["service"], case.get("model_file"))
    op = model.operation_model(case["operation"])
    parser = botocore.parsers.create_parser(model.metadata["protocol"])
    response = {
        "status_code": case["status"],
        "headers": case.get("headers") or {},
        "body": case.get("body", "").encode("utf-8"),
    }
    parsed = parser.parse(response, op.output_shape)
    if case["kind"] == "parse_error":
        # what botocore's endpoint does after parsing an error
        code = parsed.get("Error", {}).get("Code")
        shape = model.shape_for_error_code(code) if code else None
        if shape is not None:
            parsed.update(parser.parse(response, shape))
    parsed.pop("ResponseMetadata", None)
    return {"id": case["id"], "ok": True, "result": plain(parsed)}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        case = json.loads(line)
        try:
            if case.get("kind", "serialize") == "serialize":
                out = serialize(case)
            else:
                out = parse(case)
        except Exception as e:
            out = {"id": case.get("id"), "ok": False, "reason": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
