#!/usr/bin/python3
"""Loopback fake of the EC2 instance metadata service and of the container credentials
endpoint, for tests/spec/credentials_*_spec.lua. It is the oracle of those tests: it
counts every request by method and path and records the headers it got, so a spec can
check what detlua sent (token TTL header, token reuse, Authorization) without trusting
detlua's own account.

IMDS (as EC2 documents it):
  PUT /latest/api/token                               needs x-aws-ec2-metadata-token-ttl-seconds
                                                      (1..21600) else 400; answers a token
  GET /latest/meta-data/iam/security-credentials/     the role name
  GET /latest/meta-data/iam/security-credentials/ROLE the credentials JSON
  With a token, GETs must carry it (x-aws-ec2-metadata-token) else 401.
Container credentials:
  GET /container/...                                  the credentials JSON; when an
                                                      authorization is configured, the
                                                      Authorization header must equal it
                                                      else 401
Control (JSON; never counted):
  POST /_control/config  {token: "v2"|"404"|"403"|"405"|"400"|"500"|"stall",
                          v1: true|false (GETs without a token allowed), role: "name"|"",
                          creds_status: 200, creds: {...} (replaces the answer),
                          expires_in: seconds (default 21600; negative = already expired),
                          authorization: "..."|null, container_status: 200}
  GET  /_control/state   {counts: {"PUT /latest/api/token": n, ...}, headers: {path: {...}},
                          issued: n}
Listens on 127.0.0.1 only; writes "port pid" to --port-file once listening; exits when
--parent-pid is gone or after --lifetime seconds.
"""
import datetime
import json
import secrets
import threading
import time

import loopback_server  # tests/helpers/loopback_server.py

STATE_LOCK = threading.Lock()
STATE = {"counts": {}, "headers": {}, "issued": 0}
CONFIG = {"token": "v2", "v1": True, "role": "detlua-test-role", "creds_status": 200,
          "creds": None, "expires_in": 21600, "authorization": None, "container_status": 200}
TOKENS = set()
CREDS_PREFIX = "/latest/meta-data/iam/security-credentials/"


def iso(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_credentials(expires_in):
    with STATE_LOCK:
        STATE["issued"] += 1
        n = STATE["issued"]
    return {
        "Code": "Success",
        "LastUpdated": iso(time.time()),
        "Type": "AWS-HMAC",
        "AccessKeyId": "ASIAFAKEIMDS%08d" % n,
        "SecretAccessKey": "fakeSecret" + secrets.token_hex(16),
        "Token": "fakeToken" + secrets.token_hex(32),
        "Expiration": iso(time.time() + expires_in),
    }


class Handler(loopback_server.Handler):
    server_version = "detlua-fake-imds"

    def _send(self, status, body, ctype="text/plain"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            ctype = "application/json"
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _count(self):
        key = "%s %s" % (self.command, self.path)
        with STATE_LOCK:
            STATE["counts"][key] = STATE["counts"].get(key, 0) + 1
            STATE["headers"][key] = {k.lower(): v for k, v in self.headers.items()}

    def _token_ok(self):
        tok = self.headers.get("x-aws-ec2-metadata-token")
        if tok is None:
            return CONFIG["v1"]
        return tok in TOKENS

    def do_PUT(self):
        self._body()
        if self.path.startswith("/_control"):
            return self._send(404, {"message": "control is POST/GET"})
        self._count()
        if self.path != "/latest/api/token":
            return self._send(404, "not found")
        mode = CONFIG["token"]
        if mode == "stall":
            time.sleep(3)
            return self._send(200, "late")
        if mode != "v2":
            return self._send(int(mode), "no token here")
        ttl = self.headers.get("x-aws-ec2-metadata-token-ttl-seconds")
        if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self._send(400, "missing or bad ttl")
        tok = "imdsToken" + secrets.token_hex(16)
        TOKENS.add(tok)
        self._send(200, tok)

    def do_POST(self):
        body = self._body()
        if self.path == "/_control/config":
            CONFIG.update(json.loads(body or b"{}"))
            return self._send(200, {"ok": True})
        self._send(404, "not found")

    def do_GET(self):
        if self.path == "/_control/state":
            with STATE_LOCK:
                return self._send(200, STATE)
        self._count()
        if self.path.startswith("/container/"):
            want = CONFIG["authorization"]
            if want is not None and self.headers.get("Authorization") != want:
                return self._send(401, {"message": "bad or missing authorization"})
            if CONFIG["container_status"] != 200:
                return self._send(CONFIG["container_status"], {"message": "container endpoint unavailable"})
            c = CONFIG["creds"] or new_credentials(CONFIG["expires_in"])
            return self._send(200, {k: v for k, v in c.items() if k not in ("Code", "LastUpdated", "Type")})
        if not self.path.startswith(CREDS_PREFIX):
            return self._send(404, "not found")
        if not self._token_ok():
            return self._send(401, "unauthorized")
        role = self.path[len(CREDS_PREFIX):]
        if role == "":
            if not CONFIG["role"]:
                return self._send(404, "no role")
            return self._send(200, CONFIG["role"])
        if role != CONFIG["role"]:
            return self._send(404, "no such role")
        if CONFIG["creds_status"] != 200:
            return self._send(CONFIG["creds_status"], "failing")
        self._send(200, CONFIG["creds"] or new_credentials(CONFIG["expires_in"]))


if __name__ == "__main__":
    loopback_server.serve(Handler)
