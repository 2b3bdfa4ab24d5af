#!/usr/bin/python3
"""Loopback fake of the IAM Identity Center (SSO) portal's GetRoleCredentials, for
tests/spec/credentials_sso_spec.lua. It is the oracle of that spec: it checks the request
the way the service documents it and records what it got, so the spec can see what detlua
sent without trusting detlua's own account.

  GET /federation/credentials?role_name=R&account_id=A
      header x-amz-sso_bearer_token must be one of the configured tokens, else 401
      UnauthorizedException; role/account must be the configured pair, else 403
      ForbiddenException; answers {"roleCredentials": {accessKeyId, secretAccessKey,
      sessionToken, expiration (epoch milliseconds)}} with fresh random secrets.
Control (JSON; never counted):
  POST /_control/config  {tokens: [...], account_id: "...", role_name: "...",
                          status: 200 (forces an error status: 401, 403, 500),
                          expires_in: seconds (default 3600),
                          creds: {accessKeyId, secretAccessKey, sessionToken} (answered
                          instead of random ones, e.g. an emulator session's)}
  GET  /_control/state   {counts: {path: n}, last: {query: {...}, headers: {...}},
                          issued: [{accessKeyId, secretAccessKey, sessionToken, expiration}]}
Listens on 127.0.0.1 only; writes "port pid" to --port-file once listening; exits when
--parent-pid is gone or after --lifetime seconds.
"""
import json
import secrets
import threading
import time
import urllib.parse

import loopback_server  # tests/helpers/loopback_server.py

LOCK = threading.Lock()
STATE = {"counts": {}, "last": None, "issued": []}
CONFIG = {"tokens": [], "account_id": "111122223333", "role_name": "DetectiveReader", "status": 200,
          "expires_in": 3600, "creds": None}

ERRORS = {
    401: ("UnauthorizedException", "Session token not found or invalid"),
    403: ("ForbiddenException", "No access"),
    429: ("TooManyRequestsException", "slow down"),
    500: ("InternalServerException", "internal failure"),
}


class Handler(loopback_server.Handler):
    server_version = "detlua-fake-sso"

    def _send(self, status, doc, error_type=None):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("x-amzn-RequestId", "fake-sso-%d" % int(time.time() * 1000))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status):
        code, msg = ERRORS.get(status, ("InternalServerException", "failure"))
        self._send(status, {"message": msg}, code)

    def do_POST(self):
        body = self._body()
        if self.path == "/_control/config":
            CONFIG.update(json.loads(body or b"{}"))
            return self._send(200, {"ok": True})
        self._send(404, {"message": "not found"})

    def do_GET(self):
        if self.path == "/_control/state":
            with LOCK:
                return self._send(200, STATE)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        with LOCK:
            STATE["counts"][url.path] = STATE["counts"].get(url.path, 0) + 1
            STATE["last"] = {"query": query, "headers": {k.lower(): v for k, v in self.headers.items()}}
        if url.path != "/federation/credentials":
            return self._send(404, {"message": "not found"})
        if CONFIG["status"] != 200:
            return self._error(CONFIG["status"])
        if self.headers.get("x-amz-sso_bearer_token") not in CONFIG["tokens"]:
            return self._error(401)
        if query.get("role_name") != CONFIG["role_name"] or query.get("account_id") != CONFIG["account_id"]:
            return self._error(403)
        rc = {
            "accessKeyId": "ASIAFAKESSO%09d" % (len(STATE["issued"]) + 1),
            "secretAccessKey": "fakeSsoSecret" + secrets.token_hex(16),
            "sessionToken": "fakeSsoSession" + secrets.token_hex(32),
            "expiration": int((time.time() + CONFIG["expires_in"]) * 1000),
        }
        if CONFIG["creds"]:
            rc.update(CONFIG["creds"])
        with LOCK:
            STATE["issued"].append(rc)
        self._send(200, {"roleCredentials": rc})


if __name__ == "__main__":
    loopback_server.serve(Handler)
