-- aws.credentials.sso: role credentials from IAM Identity Center (SSO), as botocore's
-- SSOProvider gets them: the access token that `aws sso login` left in the CLI's token
-- cache (~/.aws/sso/cache/<sha1 of the sso-session name, or of the legacy start URL>.json)
-- is shown to the SSO portal's GetRoleCredentials (GET /federation/credentials, unsigned,
-- the token in x-amz-sso_bearer_token), which answers short-lived role keys.
--
-- For sso-session profiles it also refreshes the token as botocore's SSOTokenProvider
-- does: when it expires within REFRESH_WINDOW_S and the cache holds the client
-- registration and a refresh token, SSO OIDC CreateToken (grant refresh_token, unsigned)
-- is asked for a new one, which replaces the cache file atomically (mode 0600). A failed
-- refresh is silent while the old token is still valid.
--
-- Deliberately not done: logging in, device authorization and client registration (that
-- is `aws sso login`'s job), and refreshing legacy profiles (sso_start_url in the
-- profile; botocore does not either). It does not cache credentials; aws.credentials does.
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
-- botocore's SSOTokenProvider._REFRESH_WINDOW: a token with less than this left is refreshed.
M.REFRESH_WINDOW_S = 15 * 60

local fail = errors.raise_credentials

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

local function is_true(v)
  return type(v) == "string" and v:lower() == "true"
end

-- The two services this module talks to, as endpoint() needs them: the suffix of their
-- AWS_ENDPOINT_URL_<ENV> variable, their key in a [services] section, and the host prefix
-- of their default endpoint.
M.PORTAL = { name = "SSO", env = "SSO", key = "sso", host = "portal.sso" }
M.OIDC = { name = "SSO OIDC", env = "SSO_OIDC", key = "sso_oidc", host = "oidc" }

-- A service's base URL (svc: M.PORTAL, the default, or M.OIDC). Configured endpoints as
-- for the other services (endpoint.c): unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS /
-- ignore_configured_endpoint_urls, AWS_ENDPOINT_URL_<ENV>, AWS_ENDPOINT_URL, `<key> =` in
-- the profile's [services] section, the profile's endpoint_url; else
-- https://<host>.<region>.<partition's domain>.
-- getenv: the chain's; p: settings of the profile being resolved; services: config.load's.
function M.endpoint(getenv, p, services, region, svc)
  p = p or {}
  svc = svc or M.PORTAL
  local ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
  if ignore == nil then ignore = p.ignore_configured_endpoint_urls end
  local url, where
  if not is_true(ignore) then
    local var = "AWS_ENDPOINT_URL_" .. svc.env
    url, where = getenv(var), var
    if not url then url, where = getenv("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL" end
    if not url and type(p.services) == "string" and services then
      local sec = services[p.services]
      local sub = type(sec) == "table" and sec[svc.key]
      if type(sub) == "table" and str(sub.endpoint_url) then
        url, where = sub.endpoint_url, svc.key .. " in [services " .. p.services .. "]"
      end
    end
    if not url and str(p.endpoint_url) then url, where = p.endpoint_url, "endpoint_url of the profile" end
  end
  if url then
    if not url:match("^[Hh][Tt][Tt][Pp][Ss]?://[^/?#%s]") or url:find("[%c%s]") then
      fail("InvalidConfig", "invalid " .. svc.name .. " endpoint URL from " .. where
        .. ": expected http:// or https:// and a host")
    end
    return (url:gsub("/+$", ""))
  end
  local domain = region:match("^cn%-") and "amazonaws.com.cn" or "amazonaws.com"
  return "https://" .. svc.host .. "." .. region .. "." .. domain
end

-- The error code and message of a restJson error answer: the code from x-amzn-ErrorType,
-- else the body's __type or code (the portal) or error (OIDC, OAuth style); the message
-- from message or error_description. The message is cut, flattened and redacted.
local function service_error(headers, body)
  local doc = json.decode(body or "")
  if type(doc) ~= "table" then doc = {} end
  local code = headers and headers["x-amzn-errortype"]
  if type(code) ~= "string" or code == "" then code = doc.__type or doc.code or doc.error end
  if type(code) == "string" then code = code:gsub(":.*$", ""):gsub("^.*#", "") else code = nil end
  local msg = doc.message or doc.Message or doc.error_description
  if type(msg) ~= "string" then msg = nil end
  return code, msg and redact.text((msg:sub(1, 200):gsub("%c", " ")))
end

-- ---------------------------------------------------------------- the token cache file

-- Tokens refreshed in this process whose cache file could not be rewritten: path ->
-- {stale = the file's text when it was refreshed, doc = the refreshed document}. While the
-- file still holds that text, the refreshed document stands in for it, so a later fetch
-- does not spend the (maybe rotated) refresh token again.
local unsaved = {}

-- Whole-file read, capped. -> text | nil when the file cannot be opened
local function read_cache(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read(M.MAX_TOKEN_FILE_BYTES + 1) or ""
  f:close()
  if #text > M.MAX_TOKEN_FILE_BYTES then
    fail("InvalidConfig", "SSO token cache file " .. path .. " is larger than " .. M.MAX_TOKEN_FILE_BYTES .. " bytes")
  end
  return text
end

-- Replaces the file at path with text so that a reader sees the old file or the new one,
-- never a part: a private (0600) temporary file next to it, fsynced and renamed over the old
-- one (aws.core.host.write_file_atomic). -> true | nil, reason (nothing left behind)
function M.replace_file(path, text)
  return require("aws.core.host").write_file_atomic(path, text)
end

-- ---------------------------------------------------------------- refresh (SSO OIDC)

local REFRESH_FIELDS = { "refreshToken", "clientId", "clientSecret", "registrationExpiresAt" }

-- One CreateToken call with the refresh_token grant (rest-json, POST /token, unsigned: the
-- model's authtype is none; the client secret and refresh token are the proof).
-- -> the answer (accessToken, expiresIn, refreshToken?) | nil, reason
local function create_token(base, doc)
  local conn = http.new{ connect_timeout_ms = M.TIMEOUT_MS, timeout_ms = M.TIMEOUT_MS,
    max_response_bytes = M.MAX_RESPONSE_BYTES }
  local status, rh, body = conn:request{ method = "POST", url = base .. "/token",
    headers = { { "Content-Type", "application/json" }, { "Accept", "application/json" } },
    body = json.encode{ grantType = "refresh_token", clientId = doc.clientId, clientSecret = doc.clientSecret,
      refreshToken = doc.refreshToken } }
  conn:close()
  if not status then
    local te = rh or {}
    return nil, tostring(te.code or "TransportError") .. ": " .. redact.text(tostring(te.message or "no answer"))
  end
  if status ~= 200 then
    local code, msg = service_error(rh, body)
    return nil, string.format("HTTP %d%s%s", status, code and (" " .. code) or "", msg and (": " .. msg) or ""), code
  end
  local ans = json.decode(body or "")
  if type(ans) ~= "table" then return nil, "the answer is not a JSON object" end
  -- every secret in the answer is known to the redactor before anything can show it
  for _, k in ipairs({ "accessToken", "refreshToken", "idToken" }) do
    if type(ans[k]) == "string" then redact.register(ans[k]) end
  end
  if not str(ans.accessToken) then return nil, "the answer has no accessToken" end
  local ein = ans.expiresIn
  if math.type(ein) == "float" and ein == math.floor(ein) then ein = math.tointeger(ein) end
  if math.type(ein) ~= "integer" or ein <= 0 then return nil, "the answer has no positive expiresIn" end
  if ans.refreshToken ~= nil and not str(ans.refreshToken) then
    return nil, "the answer's refreshToken is not a string"
  end
  ans.expiresIn = ein
  return ans
end

-- The cache document botocore and the CLI write after a refresh: the start URL and region
-- of the configuration, the new token, the registration kept. Unlike botocore, the old
-- refresh token is kept when the answer does not rotate it (botocore drops it, which makes
-- the next refresh impossible). Other fields are dropped, as botocore and the CLI do: they
-- may describe the old token.
local function refreshed_doc(s, doc, ans, now)
  return { startUrl = s.start_url, region = s.region, accessToken = ans.accessToken,
    expiresAt = time.format(math.floor(now + ans.expiresIn)), clientId = doc.clientId,
    clientSecret = doc.clientSecret, registrationExpiresAt = doc.registrationExpiresAt,
    refreshToken = ans.refreshToken or doc.refreshToken }
end

-- read_token{home, settings, profile, now, getenv?, profile_settings?, services?} -> token
-- The cached token, refreshed first when it expires within REFRESH_WINDOW_S and it can be
-- (an sso-session profile whose cache holds an unexpired registration and a refresh
-- token). getenv, profile_settings and services locate the OIDC endpoint (M.endpoint).
function M.read_token(o)
  local s = o.settings
  local what = s.session and ("sso-session \"" .. s.session .. "\"") or ("start URL " .. s.start_url)
  local path = M.token_path(o.home, s)
  local text = read_cache(path)
  if not text then
    fail("SSOError", string.format("SSO (profile \"%s\"): no cached token for %s (%s): %s", o.profile, what,
      path, login_hint(o.profile)))
  end
  local doc
  local u = unsaved[path]
  if u and u.stale == text then doc = u.doc else unsaved[path] = nil; doc = json.decode(text) end
  if type(doc) ~= "table" then doc = {} end
  for _, k in ipairs({ "accessToken", "refreshToken", "clientSecret" }) do
    if type(doc[k]) == "string" then redact.register(doc[k]) end
  end
  local token = str(doc.accessToken)
  local expires = parse_expires(doc.expiresAt)
  if not token or not expires then
    fail("SSOError", string.format("SSO (profile \"%s\"): the cached token for %s (%s) is not valid "
      .. "(no accessToken or expiresAt): %s", o.profile, what, path, login_hint(o.profile)))
  end
  -- botocore's test: refresh when less than the window remains
  if expires - o.now >= M.REFRESH_WINDOW_S then return token end
  local expired = expires <= o.now
  local function cannot(why, extra)
    if not expired then return token end -- still valid: use it, as botocore does
    fail("SSOError", string.format("SSO (profile \"%s\"): the cached token for %s expired at %s%s: %s", o.profile,
      what, time.format(math.floor(expires)), why, login_hint(o.profile)), extra)
  end
  if not s.session then return cannot("") end -- legacy profiles are never refreshed
  local missing = {}
  for _, k in ipairs(REFRESH_FIELDS) do
    if not str(doc[k]) then missing[#missing + 1] = k end
  end
  if #missing > 0 then
    return cannot(" and cannot be refreshed: the cache file has no " .. table.concat(missing, ", "))
  end
  local reg = parse_expires(doc.registrationExpiresAt)
  if not reg then
    return cannot(" and cannot be refreshed: registrationExpiresAt in the cache file is not a date")
  end
  if reg <= o.now then
    return cannot(" and cannot be refreshed: the client registration expired at " .. time.format(math.floor(reg)))
  end
  local base = M.endpoint(o.getenv or os.getenv, o.profile_settings, o.services, s.region, M.OIDC)
  local ans, why, code = create_token(base, doc)
  if not ans then
    -- Another process may have refreshed the same token meanwhile: the refresh token it was
    -- given in exchange is why this one was refused. Its token, if the file now holds an
    -- unexpired one, is as good.
    local again = read_cache(path)
    local other = again and again ~= text and json.decode(again)
    local other_token = type(other) == "table" and str(other.accessToken)
    local other_expires = other_token and parse_expires(other.expiresAt)
    if other_expires and other_expires > o.now then
      redact.register(other_token)
      unsaved[path] = nil
      return other_token
    end
    return cannot(" and refreshing it failed (SSO OIDC CreateToken at " .. base .. ": " .. why .. ")",
      { fields = { oidc_code = code } })
  end
  local new = refreshed_doc(s, doc, ans, o.now)
  local ok = M.replace_file(path, json.encode(new))
  -- botocore fails the whole call when the cache cannot be written; the new token is good
  -- either way, so it is used, and remembered here while the file keeps the old one
  if ok then unsaved[path] = nil else unsaved[path] = { stale = text, doc = new } end
  return new.accessToken
end

-- ---------------------------------------------------------------- role credentials

local function query_escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- fetch{settings, profile = name shown in messages, home, getenv, profile_settings?, services?,
--   now} -> credentials table (source "sso")
function M.fetch(o)
  local s = o.settings
  local token = M.read_token{ home = o.home, settings = s, profile = o.profile, now = o.now, getenv = o.getenv,
    profile_settings = o.profile_settings, services = o.services }
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
    local code, msg = service_error(rh, body)
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
