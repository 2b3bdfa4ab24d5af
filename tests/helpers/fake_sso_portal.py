#!/usr/bin/python3
"""Loopback fake of the IAM Identity Center (SSO) portal's GetRoleCredentials and of SSO
OIDC's CreateToken with the refresh_token grant, for tests/spec/credentials_sso_spec.lua.
It is the oracle of that spec: it checks the requests the way the services document them
(the sso and sso-oidc models: rest-json, both unsigned) and records what it got, so the
spec can see what detlua sent without trusting detlua's own account. One server plays
both services (the spec points AWS_ENDPOINT_URL_SSO and AWS_ENDPOINT_URL_SSO_OIDC at it).

  GET /federation/credentials?role_name=R&account_id=A
      header x-amz-sso_bearer_token must be one of the accepted tokens, else 401
      UnauthorizedException; role/account must be the configured pair, else 403
      ForbiddenException; answers {"roleCredentials": {accessKeyId, secretAccessKey,
      sessionToken, expiration (epoch milliseconds)}} with fresh random secrets.
  POST /token  (CreateToken) JSON body {grantType, clientId, clientSecret, refreshToken};
      no Authorization header. A missing required member (clientId, clientSecret,
      grantType, and refreshToken for this grant) or a body that is not a JSON object:
      400 InvalidRequestException;
      grantType other than refresh_token: 400 UnsupportedGrantTypeException; unknown
      client or secret: 400 InvalidClientException; refreshToken other than the current
      one: 400 InvalidGrantException. Errors carry x-amzn-ErrorType and the OAuth-style
      body {error, error_description}. Success: {accessToken (new, random, added to the
      accepted tokens), tokenType "Bearer", expiresIn, refreshToken (new, random: it
      replaces the current one) when rotating}.
Control (JSON; never counted):
  POST /_control/config  {tokens: [...] accepted access tokens, account_id, role_name,
                          status: 200 (forces an error status on GetRoleCredentials),
                          expires_in: seconds of the role credentials (default 3600),
                          creds: {accessKeyId, secretAccessKey, sessionToken} (answered
                          instead of random ones, e.g. an emulator session's),
                          client_id, client_secret, refresh_token: what CreateToken accepts,
                          token_expires_in: expiresIn answered (default 3600),
                          rotate_refresh: true (answer a new refreshToken),
                          revoke_on_refresh: false (a refresh revokes every older access
                          token), token_status: 200 (forces an error: 400 is
                          InvalidGrantException, 500 InternalServerException),
                          token_answer: an object answered as it is instead (malformed)}
  GET  /_control/state   {counts: {path: n}, last: {query, headers}, issued: [role creds],
                          token_requests: [{headers, body}], tokens_issued: [{accessToken,
                          refreshToken?, expiresIn}], refresh_token: the current one}
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
STATE = {"counts": {}, "last": None, "issued": [], "token_requests": [], "tokens_issued": []}
CONFIG = {"tokens": [], "account_id": "111122223333", "role_name": "DetectiveReader", "status": 200,
          "expires_in": 3600, "creds": None, "client_id": "fakeClientId", "client_secret": "fakeClientSecret",
          "refresh_token": "fakeRefreshToken", "token_expires_in": 3600, "rotate_refresh": True,
          "revoke_on_refresh": False, "token_status": 200, "token_answer": None}

ERRORS = {
    401: ("UnauthorizedException", "Session token not found or invalid"),
    403: ("ForbiddenException", "No access"),
    429: ("TooManyRequestsException", "slow down"),
    500: ("InternalServerException", "internal failure"),
}

# CreateToken's errors: (x-amzn-ErrorType, OAuth error, description)
OIDC_ERRORS = {
    "request": (400, "InvalidRequestException", "invalid_request", "Invalid request"),
    "grant_type": (400, "UnsupportedGrantTypeException", "unsupported_grant_type", "Unsupported grant type"),
    "client": (400, "InvalidClientException", "invalid_client", "Invalid client"),
    "grant": (400, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided"),
    "internal": (500, "InternalServerException", "server_error", "Internal failure"),
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

    def _oidc_error(self, which):
        status, code, error, desc = OIDC_ERRORS[which]
        self._send(status, {"error": error, "error_description": desc}, code)

    def _create_token(self, body):
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            doc = None
        with LOCK:
            STATE["counts"]["/token"] = STATE["counts"].get("/token", 0) + 1
            STATE["token_requests"].append({"headers": headers, "body": doc})
        race = CONFIG.get("race_write")
        if race:
            # another process refreshed first: it rewrote the cache file (and its refresh
            # token was the one the service honoured)
            with open(race["path"], "w") as f:
                f.write(race["content"])
        if CONFIG["token_status"] == 400:
            return self._oidc_error("grant")
        if CONFIG["token_status"] != 200:
            return self._oidc_error("internal")
        if "authorization" in headers or not isinstance(doc, dict):
            return self._oidc_error("request")
        if not headers.get("content-type", "").startswith("application/json"):
            return self._oidc_error("request")
        if not all(isinstance(doc.get(k), str) and doc[k] for k in ("clientId", "clientSecret", "grantType")):
            return self._oidc_error("request")
        if doc["grantType"] != "refresh_token":
            return self._oidc_error("grant_type")
        if doc["clientId"] != CONFIG["client_id"] or doc["clientSecret"] != CONFIG["client_secret"]:
            return self._oidc_error("client")
        if not isinstance(doc.get("refreshToken"), str) or not doc["refreshToken"]:
            return self._oidc_error("request")
        if doc["refreshToken"] != CONFIG["refresh_token"]:
            return self._oidc_error("grant")
        if CONFIG["token_answer"] is not None:
            return self._send(200, CONFIG["token_answer"])
        answer = {"accessToken": "fakeOidcAccess" + secrets.token_hex(24), "tokenType": "Bearer",
                  "expiresIn": CONFIG["token_expires_in"]}
        with LOCK:
            if CONFIG["rotate_refresh"]:
                answer["refreshToken"] = "fakeOidcRefresh" + secrets.token_hex(24)
                CONFIG["refresh_token"] = answer["refreshToken"]
            if CONFIG["revoke_on_refresh"]:
                CONFIG["tokens"] = []
            CONFIG["tokens"] = CONFIG["tokens"] + [answer["accessToken"]]
            STATE["tokens_issued"].append(answer)
        self._send(200, answer)

    def do_POST(self):
        body = self._body()
        if self.path == "/_control/config":
            CONFIG.update(json.loads(body or b"{}"))
            return self._send(200, {"ok": True})
        if self.path == "/token":
            return self._create_token(body)
        self._send(404, {"message": "not found"})

    def do_GET(self):
        if self.path == "/_control/state":
            with LOCK:
                return self._send(200, dict(STATE, refresh_token=CONFIG["refresh_token"], tokens=CONFIG["tokens"]))
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
