-- aws.credentials.web_identity: sts:AssumeRoleWithWebIdentity with the token read from a
-- file (web_identity_token_file / AWS_WEB_IDENTITY_TOKEN_FILE: EKS service accounts,
-- GitHub Actions OIDC, ...).
--
-- The call is unsigned (the token is the proof), so it does not go through a client's
-- signing path: the request is built by aws.core.protocol from the model, sent through
-- aws.client's transport (so it yields inside aws.map tasks like any call) and parsed by
-- the same protocol code. The token file is read again on every call, since the platform
-- rotates it. Transient failures (transport, 5xx, throttling, IDPCommunicationError) are
-- retried a few times. It does not cache; aws.credentials does.
local protocol = require("aws.core.protocol")
local config = require("aws.core.config")
local errors = require("aws.errors")
local assume = require("aws.credentials.assume_role")

local M = {}

M.MAX_TOKEN_BYTES = 64 * 1024
M.MAX_ATTEMPTS = 3

local fail = errors.raise_credentials

local function read_token(path)
  local f, err = io.open(path, "rb")
  if not f then fail("InvalidConfig", "cannot read the web identity token file: " .. tostring(err)) end
  local s = f:read(M.MAX_TOKEN_BYTES + 1)
  f:close()
  if not s or s:match("^%s*$") then fail("InvalidConfig", "the web identity token file " .. path .. " is empty") end
  if #s > M.MAX_TOKEN_BYTES then
    fail("InvalidConfig", "the web identity token file " .. path .. " is larger than " .. M.MAX_TOKEN_BYTES .. " bytes")
  end
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local RETRY_CODES = { IDPCommunicationError = true, IDPCommunicationErrorException = true }

-- fetch{role_arn, session_name?, token_file, duration_seconds?, region, profile?, env?,
--       where = "profile \"x\"", sleep = fn(seconds)} -> credentials table
function M.fetch(o)
  local client = require("aws.client")
  local token = read_token(o.token_file)
  local params = { RoleArn = o.role_arn, RoleSessionName = o.session_name or assume.default_session_name(),
    WebIdentityToken = token, DurationSeconds = o.duration_seconds }
  local okb, req = pcall(protocol.build, "sts", "AssumeRoleWithWebIdentity", params)
  if not okb then fail("InvalidConfig", "web identity (" .. o.where .. "): " .. tostring(req)) end
  local ep, eerr = config.endpoint{ service = "sts", region = o.region, profile = o.profile, env = o.env }
  if not ep then fail("InvalidConfig", "web identity (" .. o.where .. "): " .. tostring(eerr)) end
  local url = ep.url:gsub("/+$", "") .. req.path
  -- a client object only to reach the transport (scheduler hook, connection reuse)
  local c = assume.sts_client{ region = o.region, profile = o.profile, env = o.env }
  local last
  for attempt = 1, M.MAX_ATTEMPTS do
    local status, headers, body = client.send(c, { method = req.method, url = url, headers = req.headers, body = req.body })
    if status and status >= 200 and status < 300 then
      c:close()
      local r = protocol.parse("sts", "AssumeRoleWithWebIdentity", status, headers, body)
      local creds = assume.to_credentials(r.Credentials, "assume-role-with-web-identity")
      if not creds then fail("AssumeRoleFailed", "web identity (" .. o.where .. "): the answer has no credentials") end
      return creds, r
    end
    local retry
    if status then
      local e = protocol.parse_error("sts", "AssumeRoleWithWebIdentity", status, headers, body)
      last = { code = e.code, message = e.message, status = status,
        request_id = headers["x-amzn-requestid"] or e.request_id }
      retry = status >= 500 or status == 429 or RETRY_CODES[e.code] or errors.classify(e.code, status) ~= nil
    else
      local te = headers or {}
      last = { code = te.code or "TransportError", message = te.message or "transport failure" }
      retry = true
    end
    if not retry or attempt == M.MAX_ATTEMPTS then break end
    o.sleep(0.5 * attempt)
  end
  c:close()
  fail("AssumeRoleFailed", string.format("assuming %s with a web identity token (%s) failed: %s: %s",
    o.role_arn, o.where, tostring(last.code), tostring(last.message)),
    { status = last.status, request_id = last.request_id, fields = { sts_code = last.code } })
end

return M
