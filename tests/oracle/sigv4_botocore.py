#!/usr/bin/python3
"""sigv4_botocore.py: botocore's SigV4 signer as an independent oracle for runtime/sigv4.c.

Two uses:
  sigv4_botocore.py < requests.jsonl        one JSON request per line in, one JSON answer per
                                            line out (tests/spec/sigv4_spec.lua drives this)
  sigv4_botocore.py --vectors DIR           (re)writes the project's own vectors in DIR, in the
                                            layout of the AWS SigV4 suite (run once; committed)

Needs Debian's botocore (python3-botocore 1.29.x); run with /usr/bin/python3.

A request is {method, url, headers: [[name, value], ...], body | body_hex, region, service,
creds: {access_key_id, secret_access_key, session_token}, time ("20150830T123600Z",
"2015-08-30T12:36:00Z" or epoch seconds), mode ("header" | "query"), expires, normalize_path,
sign_session_token, content_sha256_header, payload_hash}. The answer is {canonical_request,
string_to_sign, signature, authorization | url, headers} or {error}.

How botocore is driven so that both signers sign the same wire request, and the deliberate
differences (each applies the documented detlua rule; botocore computes every stage):
- time: botocore reads datetime.utcnow(); the module's datetime is swapped for one that
  returns the pinned time, and add_auth runs unchanged. The stages are recorded by
  overriding canonical_request / string_to_sign / signature to call botocore's own and keep
  the result.
- query: given a URL, botocore's header signer sorts the raw query text without decoding or
  re-encoding it. detlua's rule decodes and re-encodes names and values, so the oracle splits
  the query on '&' (empty pieces dropped, name/value on the first '='), percent-decodes
  each part to bytes and hands the pairs to botocore as request.params, which botocore then
  encodes (RFC 3986 unreserved set) and sorts itself. In query (presign) mode botocore keeps
  one value per name (it goes through parse_qs and a dict) and decodes '+' as a space, so
  callers must not send repeated names or '+' there.
- normalize_path=false: botocore's non-S3 signer always normalizes; the oracle overrides
  _normalize_url_path to botocore's quoting without the dot-segment removal (what its S3
  signer skips, but with the second encoding non-S3 services use).
- sign_session_token=false: botocore always signs the token; the oracle signs without it
  and adds it afterwards, which is the same canonical request by definition.
- content_sha256_header=true: the header is set to botocore's own payload() value (as its
  S3 signer does), so botocore signs it and uses it as the payload hash. payload_hash: the
  oracle's payload() returns the given constant.
- skipped headers: botocore skips only expect, user-agent and x-amzn-trace-id (and removes
  Authorization); detlua also skips hop-by-hop headers. Requests sent here carry none.
- botocore replaces X-Amz-Date by Date when a Date header is present; detlua always adds
  X-Amz-Date and signs Date as an ordinary header. Requests sent here carry no Date header.
"""
import datetime as _dt
import hashlib
import json
import os
import sys
import types
from urllib.parse import quote, unquote_to_bytes, urlsplit, urlunsplit

import botocore.auth as bauth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path


def _parse_time(t):
    if isinstance(t, (int, float)):
        return _dt.datetime.utcfromtimestamp(int(t))
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return _dt.datetime.strptime(t, fmt)
        except ValueError:
            pass
    raise ValueError("unreadable time %r" % (t,))


def _pin_clock(when):
    class _Pinned(_dt.datetime):
        @classmethod
        def utcnow(cls):
            return when

    bauth.datetime = types.SimpleNamespace(datetime=_Pinned)


def _mixin(base):
    class Recording(base):
        def __init__(self, *a, normalize=True, content_sha256_header=False,
                     payload_hash=None, **kw):
            super().__init__(*a, **kw)
            self.normalize = normalize
            self.content_sha256_header = content_sha256_header
            self.payload_hash = payload_hash
            self.stages = {}

        def _normalize_url_path(self, path):
            if self.normalize:
                return super()._normalize_url_path(path)
            return quote(path or "/", safe="/~")

        def payload(self, request):
            if self.payload_hash is not None:
                return self.payload_hash
            return super().payload(request)

        def _modify_request_before_signing(self, request):
            super()._modify_request_before_signing(request)
            if self.content_sha256_header and base is bauth.SigV4Auth:
                if "X-Amz-Content-SHA256" in request.headers:
                    del request.headers["X-Amz-Content-SHA256"]
                request.headers["X-Amz-Content-SHA256"] = self.payload(request)

        def canonical_request(self, request):
            cr = super().canonical_request(request)
            self.stages["canonical_request"] = cr
            return cr

        def string_to_sign(self, request, canonical_request):
            sts = super().string_to_sign(request, canonical_request)
            self.stages["string_to_sign"] = sts
            return sts

        def signature(self, string_to_sign, request):
            sig = super().signature(string_to_sign, request)
            self.stages["signature"] = sig
            return sig

    return Recording


HeaderSigner = _mixin(bauth.SigV4Auth)
QuerySigner = _mixin(bauth.SigV4QueryAuth)


def _query_pairs(query):
    pairs = []
    for piece in query.split("&"):
        if not piece:
            continue
        k, _, v = piece.partition("=")
        # botocore quotes str(value), so decoded bytes must be valid UTF-8 text
        pairs.append((unquote_to_bytes(k).decode("utf-8"), unquote_to_bytes(v).decode("utf-8")))
    return pairs


def sign(r):
    mode = r.get("mode", "header")
    creds = r.get("creds") or r.get("credentials")
    token = creds.get("session_token") or None
    sign_token = r.get("sign_session_token", True)
    when = _parse_time(r["time"])
    _pin_clock(when)

    parts = urlsplit(r["url"])
    pairs = _query_pairs(parts.query)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if "body_hex" in r:
        body = bytes.fromhex(r["body_hex"])
    else:
        body = (r.get("body") or "").encode("utf-8")

    if mode == "query":
        names = [k for k, _ in pairs]
        if len(set(names)) != len(names):
            return {"error": "query mode: botocore keeps one value per name"}
        params = dict(pairs)
    else:
        params = pairs
    req = AWSRequest(method=r["method"], url=url, data=body, params=params)
    for name, value in r.get("headers", []):
        req.headers[name] = value

    c = Credentials(creds["access_key_id"], creds["secret_access_key"],
                    token if sign_token else None)
    opts = dict(normalize=r.get("normalize_path", True),
                content_sha256_header=r.get("content_sha256_header", False),
                payload_hash=r.get("payload_hash"))
    if mode == "query":
        signer = QuerySigner(c, r["service"], r["region"], expires=r.get("expires", 3600), **opts)
    else:
        signer = HeaderSigner(c, r["service"], r["region"], **opts)
    signer.add_auth(req)
    out = dict(signer.stages)
    if mode == "query":
        url = req.url
        if token and not sign_token:
            url += "&X-Amz-Security-Token=" + quote(token, safe="-_.~")
        out["url"] = url
    else:
        if token and not sign_token:
            req.headers["X-Amz-Security-Token"] = token
        out["authorization"] = req.headers["Authorization"]
    out["headers"] = [[k, v] for k, v in req.headers.items()]
    return out


def serve():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = sign(json.loads(line))
        except Exception as e:  # report per request, keep going
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- committed vectors

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example+token/"
         "with+slashes==")
GRAPH = "arn:aws:detective:us-east-1:111122223333:graph:027c7c4610ea4aacaf0b883093cab899"
DETECTIVE = "api.detective.us-east-1.amazonaws.com"

# name, request line URI, [(header, value)], body, context overrides, variants
VECTORS = [
    ("detective-list-members-json", "POST", "/graph/members/list",
     [("Content-Type", "application/json"), ("Host", DETECTIVE)],
     json.dumps({"GraphArn": GRAPH, "MaxResults": 50}, separators=(",", ":")),
     {"service": "detective"}, ("header",)),
    ("detective-uri-label-arn", "GET",
     "/tags/" + quote(GRAPH, safe="").replace("graph%3A", "graph%2F"),
     [("Host", DETECTIVE)], "", {"service": "detective"}, ("header", "query")),
    ("repeated-query-keys", "GET", "/list?b=2&a=3&a=1&a=10&A=0",
     [("Host", "example.amazonaws.com")], "", {}, ("header",)),
    ("empty-query-value", "GET", "/list?key=&flag&x=1",
     [("Host", "example.amazonaws.com")], "", {}, ("header", "query")),
    ("query-needs-encoding", "GET", "/search?q=a%20b%2Fc&arn=arn:aws:x&star=*&tilde=~",
     [("Host", "example.amazonaws.com")], "", {}, ("header",)),
    ("unicode-path", "GET", "/donn\u00e9es/\u1234/caf\u00e9",
     [("Host", "example.amazonaws.com")], "", {}, ("header", "query")),
    ("space-and-percent-path", "GET", "/a b/50%/c%2Fd",
     [("Host", "example.amazonaws.com")], "", {}, ("header", "query")),
    ("header-value-whitespace", "GET", "/",
     [("Host", "example.amazonaws.com"), ("X-Custom", "  lead and trail  "),
      ("X-Inner", "a    b \t c"), ("X-Empty", ""), ("x-custom", "second")],
     "", {}, ("header", "query")),
    ("session-token-post", "POST", "/graph/list",
     [("Host", DETECTIVE), ("Content-Type", "application/json")], "{}",
     {"service": "detective", "token": TOKEN}, ("header",)),
    ("session-token-get", "GET", "/graphs", [("Host", DETECTIVE)], "",
     {"service": "detective", "token": TOKEN}, ("header", "query")),
    ("get-no-body", "GET", "/graph/members?MaxResults=5",
     [("Host", DETECTIVE), ("Accept", "application/json")], "",
     {"service": "detective", "region": "eu-west-2"}, ("header", "query")),
    ("unsigned-payload", "PUT", "/upload",
     [("Host", "example.amazonaws.com")], "data",
     {"sign_body": True, "payload_hash": "UNSIGNED-PAYLOAD"}, ("header",)),
    ("unnormalized-dots", "GET", "/a/./b/../c//d",
     [("Host", "example.amazonaws.com")], "", {"normalize": False}, ("header", "query")),
    ("normalized-dots", "GET", "/a/./b/../c//d",
     [("Host", "example.amazonaws.com")], "", {}, ("header", "query")),
    ("presign-long-expiry", "GET", "/report",
     [("Host", "example.amazonaws.com")], "",
     {"expiration_in_seconds": 86400, "timestamp": "2024-02-29T23:59:59Z"}, ("query",)),
]


def write_vectors(root):
    for name, method, uri, headers, body, over, variants in VECTORS:
        ctx = {
            "credentials": {"access_key_id": AKID, "secret_access_key": SECRET},
            "expiration_in_seconds": over.get("expiration_in_seconds", 3600),
            "normalize": over.get("normalize", True),
            "region": over.get("region", "us-east-1"),
            "service": over.get("service", "service"),
            "sign_body": over.get("sign_body", False),
            "timestamp": over.get("timestamp", "2015-08-30T12:36:00Z"),
        }
        if "token" in over:
            ctx["credentials"]["token"] = over["token"]
        if "payload_hash" in over:
            ctx["payload_hash"] = over["payload_hash"]
        host = dict((k.lower(), v) for k, v in headers)["host"]
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        text = "%s %s HTTP/1.1\n" % (method, uri)
        text += "".join("%s:%s\n" % (k, v) for k, v in headers)
        if body:
            text += "\n" + body
        with open(os.path.join(d, "request.txt"), "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.join(d, "context.json"), "w") as f:
            json.dump(ctx, f, indent=4, sort_keys=True)
            f.write("\n")
        for mode in variants:
            r = {"method": method, "url": "https://" + host + uri, "headers": headers,
                 "body": body, "region": ctx["region"], "service": ctx["service"],
                 "creds": {"access_key_id": AKID, "secret_access_key": SECRET,
                           "session_token": over.get("token")},
                 "time": ctx["timestamp"], "mode": mode, "expires": ctx["expiration_in_seconds"],
                 "normalize_path": ctx["normalize"], "content_sha256_header": ctx["sign_body"],
                 "payload_hash": over.get("payload_hash")}
            out = sign(r)
            if "error" in out:
                raise SystemExit("%s/%s: %s" % (name, mode, out["error"]))
            for stage, fname in (("canonical_request", "canonical-request"),
                                 ("string_to_sign", "string-to-sign"),
                                 ("signature", "signature")):
                with open(os.path.join(d, "%s-%s.txt" % (mode, fname)), "w",
                          encoding="utf-8") as f:
                    f.write(out[stage])
            if mode == "header":
                # the request as botocore leaves it: original headers plus the ones it added
                signed = "%s %s HTTP/1.1\n" % (method, uri)
                signed += "".join("%s:%s\n" % (k, v) for k, v in out["headers"])
                if body:
                    signed += "\n" + body
                with open(os.path.join(d, "header-signed-request.txt"), "w",
                          encoding="utf-8") as f:
                    f.write(signed)
        print("wrote", d)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--vectors":
        write_vectors(sys.argv[2])
    elif len(sys.argv) == 1:
        serve()
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
