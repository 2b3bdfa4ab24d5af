-- aws.credentials.sso: role credentials from IAM Identity Center (SSO), as botocore's
-- SSOProvider gets them: the access token that `aws sso login` left in the CLI's token
-- cache (~/.aws/sso/cache/<sha1 of the sso-session name, or of the legacy start URL>.json)
-- is shown to the SSO portal's GetRoleCredentials (GET /federation/credentials, unsigned,
-- the token in x-amz-sso_bearer_token), which answers short-lived role keys.
--
-- Deliberately not done: logging in, and refreshing an expiring token with the OIDC
-- CreateToken call (botocore's SSOTokenProvider does that for sso-session profiles); an
-- absent or expired token is an error that says to run `aws sso login`. The token is only
-- read, never written. It does not cache credentials; aws.credentials does.
local http = require("aws.core.http")
local crypto = require("aws.core.crypto")
local errors = require("aws.errors")
local redact = require("aws.redact")
local json = require("aws.json")
local time = require("aws.time")

local M = {}

M.TIMEOUT_MS = 10000
M.MAX_TOKEN_FILE_BYTES = 64 * 1024
M.MAX_RESPONSE_BYTES = 64 * 1024

local function fail(code, msg, extra)
  local t = { kind = "credentials", code = code, message = msg }
  for k, v in pairs(extra or {}) do t[k] = v end
  error(errors.new(t), 0)
end

local function str(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

local REQUIRED = { "sso_role_name", "sso_account_id", "sso_start_url", "sso_region" }

-- A profile is an SSO profile when it names sso_account_id or sso_role_name (botocore's
-- trigger; aws.credentials checks it before loading this module).
-- settings(p, name, sessions) -> {start_url, region, account_id, role_name, session?}
-- p: the profile's settings; sessions: the [sso-session NAME] sections (config.load's
-- sso_sessions). A setting given both in the profile and its sso-session must agree.
function M.settings(p, name, sessions)
  local where = "profile \"" .. name .. "\""
  local merged = {}
  for k, v in pairs(p) do merged[k] = v end
  local session = p.sso_session
  if session ~= nil then
    if type(session) ~= "string" or session == "" then
      fail("InvalidConfig", where .. ": sso_session must name an [sso-session NAME] section")
    end
    local s = sessions and sessions[session]
    if type(s) ~= "table" then
      fail("InvalidConfig", where .. " sets sso_session = " .. session .. " but there is no [sso-session "
        .. session .. "] section in the config file")
    end
    for k, v in pairs(s) do
      if merged[k] ~= nil and merged[k] ~= v then
        fail("InvalidConfig", string.format("%s and [sso-session %s] disagree on %s (%s / %s)", where, session, k,
          tostring(merged[k]), tostring(v)))
      end
      merged[k] = v
    end
  end
  local missing = {}
  for _, k in ipairs(REQUIRED) do
    if not str(merged[k]) then missing[#missing + 1] = k end
  end
  if #missing > 0 then
    fail("InvalidConfig", where .. " is configured for SSO but lacks " .. table.concat(missing, ", ")
      .. (session and (" (in the profile or [sso-session " .. session .. "])") or ""))
  end
  local region = merged.sso_region
  if not region:match("^[a-z0-9][a-z0-9-]*$") or #region > 63 then
    fail("InvalidConfig", where .. ": sso_region \"" .. region:sub(1, 40) .. "\" is not a region name")
  end
  return { start_url = merged.sso_start_url, region = region, account_id = merged.sso_account_id,
    role_name = merged.sso_role_name, session = session }
end

-- The path of the cached token: the CLI names the file after the SHA-1 of the sso-session
-- name (new style) or of the start URL (legacy profiles).
function M.token_path(home, s)
  return home .. "/.aws/sso/cache/" .. crypto.sha1_hex(s.session or s.start_url) .. ".json"
end

local function login_hint(profile)
  return "run `aws sso login --profile " .. profile .. "`"
end

-- Older CLI versions wrote expiresAt as "2026-01-01T00:00:00UTC".
local function parse_expires(s)
  if type(s) ~= "string" then return nil end
  return time.parse((s:gsub("UTC$", "Z")))
end

-- read_token{home, settings, profile, now} -> token string
function M.read_token(o)
  local s = o.settings
  local what = s.session and ("sso-session \"" .. s.session .. "\"") or ("start URL " .. s.start_url)
  local path = M.token_path(o.home, s)
  local f = io.open(path, "rb")
  if not f then
    fail("SSOError", string.format("SSO (profile \"%s\"): no cached token for %s (%s): %s", o.profile, what,
      path, login_hint(o.profile)))
  end
  local text = f:read(M.MAX_TOKEN_FILE_BYTES + 1) or ""
  f:close()
  if #text > M.MAX_TOKEN_FILE_BYTES then
    fail("InvalidConfig", "SSO token cache file " .. path .. " is larger than " .. M.MAX_TOKEN_FILE_BYTES .. " bytes")
  end
  local doc = json.decode(text)
  local token = type(doc) == "table" and str(doc.accessToken)
  if token then redact.register(token) end
  local expires = type(doc) == "table" and parse_expires(doc.expiresAt)
  if not token or not expires then
    fail("SSOError", string.format("SSO (profile \"%s\"): the cached token for %s (%s) is not valid "
      .. "(no accessToken or expiresAt): %s", o.profile, what, path, login_hint(o.profile)))
  end
  if expires <= o.now then
    fail("SSOError", string.format("SSO (profile \"%s\"): the cached token for %s expired at %s: %s "
      .. "(detlua does not refresh SSO tokens itself)", o.profile, what, time.format(math.floor(expires)),
      login_hint(o.profile)))
  end
  return token
end

local function is_true(v)
  return type(v) == "string" and v:lower() == "true"
end

-- The portal's base URL. Configured endpoints as for the other services (endpoint.c):
-- unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS / ignore_configured_endpoint_urls,
-- AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL, `sso =` in the profile's [services] section, the
-- profile's endpoint_url; else portal.sso.<region>.<partition's domain>.
-- getenv: the chain's; p: settings of the profile being resolved; services: config.load's.
function M.endpoint(getenv, p, services, region)
  p = p or {}
  local ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
  if ignore == nil then ignore = p.ignore_configured_endpoint_urls end
  local url, where
  if not is_true(ignore) then
    url, where = getenv("AWS_ENDPOINT_URL_SSO"), "AWS_ENDPOINT_URL_SSO"
    if not url then url, where = getenv("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL" end
    if not url and type(p.services) == "string" and services then
      local sec = services[p.services]
      local sso = type(sec) == "table" and sec.sso
      if type(sso) == "table" and str(sso.endpoint_url) then
        url, where = sso.endpoint_url, "sso in [services " .. p.services .. "]"
      end
    end
    if not url and str(p.endpoint_url) then url, where = p.endpoint_url, "endpoint_url of the profile" end
  end
  if url then
    if not url:match("^[Hh][Tt][Tt][Pp][Ss]?://[^/?#%s]") or url:find("[%c%s]") then
      fail("InvalidConfig", "invalid SSO endpoint URL from " .. where .. ": expected http:// or https:// and a host")
    end
    return (url:gsub("/+$", ""))
  end
  local domain = region:match("^cn%-") and "amazonaws.com.cn" or "amazonaws.com"
  return "https://portal.sso." .. region .. "." .. domain
end

local function query_escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- The error code of a portal answer (restJson: x-amzn-ErrorType or the body's __type).
local function portal_error(headers, body)
  local doc = json.decode(body or "")
  local code = headers and headers["x-amzn-errortype"]
  if not code and type(doc) == "table" then code = doc.__type or doc.code end
  if type(code) == "string" then code = code:gsub(":.*$", ""):gsub("^.*#", "") end
  local msg = type(doc) == "table" and (doc.message or doc.Message)
  if type(msg) ~= "string" then msg = nil end
  return code, msg and redact.text(msg:sub(1, 200):gsub("%c", " "))
end

-- fetch{settings, profile = name shown in messages, home, getenv, profile_settings?, services?,
--   now} -> credentials table (source "sso")
function M.fetch(o)
  local s = o.settings
  local token = M.read_token{ home = o.home, settings = s, profile = o.profile, now = o.now }
  local base = M.endpoint(o.getenv, o.profile_settings, o.services, s.region)
  local url = base .. "/federation/credentials?role_name=" .. query_escape(s.role_name) .. "&account_id="
    .. query_escape(s.account_id)
  local who = string.format("SSO (profile \"%s\", account %s, role %s)", o.profile, s.account_id, s.role_name)
  local conn = http.new{ connect_timeout_ms = M.TIMEOUT_MS, timeout_ms = M.TIMEOUT_MS,
    max_response_bytes = M.MAX_RESPONSE_BYTES }
  local status, rh, body = conn:request{ method = "GET", url = url,
    headers = { { "Accept", "application/json" }, { "x-amz-sso_bearer_token", token } } }
  conn:close()
  if not status then
    local te = rh or {}
    fail("SSOError", who .. ": " .. base .. ": " .. tostring(te.code or "TransportError") .. ": "
      .. redact.text(tostring(te.message or "no answer")))
  end
  if status ~= 200 then
    local code, msg = portal_error(rh, body)
    local extra = { status = status, request_id = rh and rh["x-amzn-requestid"], fields = { sso_code = code } }
    if status == 401 or code == "UnauthorizedException" then
      fail("SSOError", who .. ": the portal refused the cached token (HTTP " .. status .. (code and (" " .. code) or "")
        .. "): it expired or was revoked; " .. login_hint(o.profile), extra)
    end
    fail("SSOError", string.format("%s: GetRoleCredentials failed: HTTP %d%s%s", who, status,
      code and (" " .. code) or "", msg and (": " .. msg) or ""), extra)
  end
  local doc = json.decode(body or "")
  local rc = type(doc) == "table" and doc.roleCredentials
  if type(rc) ~= "table" then fail("SSOError", who .. ": the answer has no roleCredentials") end
  for _, k in ipairs({ "accessKeyId", "secretAccessKey", "sessionToken" }) do
    if not str(rc[k]) then fail("SSOError", who .. ": the answer lacks roleCredentials." .. k) end
  end
  local exp_ms = tonumber(rc.expiration)
  if not exp_ms then fail("SSOError", who .. ": roleCredentials.expiration is not epoch milliseconds") end
  local c = { access_key_id = rc.accessKeyId, secret_access_key = rc.secretAccessKey,
    session_token = rc.sessionToken, expiration = math.floor(exp_ms / 1000), source = "sso" }
  redact.register(c.secret_access_key)
  redact.register(c.session_token)
  return c
end

return M
