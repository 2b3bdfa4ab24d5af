-- aws.credentials.imds: the EC2 instance profile's credentials from the instance metadata
-- service, IMDSv2 first as botocore does:
--   PUT /latest/api/token (x-aws-ec2-metadata-token-ttl-seconds: 21600)
--   GET /latest/meta-data/iam/security-credentials/        -> the role name
--   GET /latest/meta-data/iam/security-credentials/<role>  -> {AccessKeyId, SecretAccessKey,
--                                                              Token, Expiration, ...}
-- Settings: AWS_EC2_METADATA_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT /
-- ec2_metadata_service_endpoint, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE /
-- ec2_metadata_service_endpoint_mode (IPv4 | IPv6), AWS_METADATA_SERVICE_TIMEOUT /
-- metadata_service_timeout (seconds, default 1), AWS_METADATA_SERVICE_NUM_ATTEMPTS /
-- metadata_service_num_attempts (default 1), AWS_EC2_METADATA_V1_DISABLED /
-- ec2_metadata_v1_disabled.
--
-- A token answer of 403, 404 or 405, or a read timeout, falls back to IMDSv1 (no token),
-- as botocore does. Unlike botocore, when the token request cannot connect at all the
-- IMDSv1 request is not tried: it would go to the same unreachable address, and off EC2
-- that would double the wait. "Not found" is a nil result with a reason; the chain goes
-- on. No caching here.
local http = require("aws.core.http")
local errors = require("aws.errors")
local redact = require("aws.redact")
local json = require("aws.json")
local time = require("aws.time")

local M = {}

M.ENDPOINT_IPV4 = "http://169.254.169.254"
M.ENDPOINT_IPV6 = "http://[fd00:ec2::254]"
M.TOKEN_TTL_S = "21600"
M.MAX_RESPONSE_BYTES = 64 * 1024
local CREDS_PATH = "/latest/meta-data/iam/security-credentials/"

local function fail(msg)
  error(errors.new{ kind = "credentials", code = "InvalidConfig", message = msg }, 0)
end

local function setting(getenv, profile, env_name, key)
  local v = getenv(env_name)
  if v == nil and profile then v = profile[key] end
  if type(v) ~= "string" or v == "" then return nil end
  return v
end

-- true, "why" when IMDS must not be used. `process_getenv` is consulted when the call's
-- own environment does not say: a process-wide AWS_EC2_METADATA_DISABLED=true stays in
-- force for calls that pass an env table (the test suite relies on that).
function M.disabled(getenv, process_getenv)
  local v = getenv("AWS_EC2_METADATA_DISABLED")
  if v == nil and process_getenv then v = process_getenv("AWS_EC2_METADATA_DISABLED") end
  if v and v:lower() == "true" then return true, "disabled by AWS_EC2_METADATA_DISABLED=true" end
  return false
end

-- The base URL (no trailing slash), or raises InvalidConfig.
function M.endpoint(getenv, profile)
  local ep = setting(getenv, profile, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint")
  if ep then
    if not ep:match("^[Hh][Tt][Tt][Pp][Ss]?://[^/%s]+") then
      fail("the EC2 metadata endpoint \"" .. ep .. "\" is not an http(s) URL")
    end
    return (ep:gsub("/+$", ""))
  end
  local mode = setting(getenv, profile, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode")
  if mode then
    mode = mode:lower()
    if mode == "ipv6" then return M.ENDPOINT_IPV6 end
    if mode ~= "ipv4" then fail("the EC2 metadata endpoint mode must be IPv4 or IPv6, got \"" .. mode .. "\"") end
  end
  return M.ENDPOINT_IPV4
end

local function number_setting(getenv, profile, env_name, key, default, min, max)
  local v = setting(getenv, profile, env_name, key)
  if not v then return default end
  local n = tonumber(v)
  if not n or n < min or n > max then
    fail(env_name .. " / " .. key .. " must be a number from " .. min .. " to " .. max .. ", got \"" .. v .. "\"")
  end
  return n
end

local function is_connect_failure(te)
  return te and (te.code == "ConnectionRefused" or te.code == "ConnectTimeout" or te.code == "DNSFailure"
    or te.code == "TransportError" or te.code == "ProxyError")
end

-- fetch{getenv, profile = merged profile settings or nil, now = epoch seconds,
--       random = fn(m, n)?, warn = fn(msg)?} -> credentials | nil, reason
function M.fetch(o)
  local getenv, profile = o.getenv, o.profile
  local base = M.endpoint(getenv, profile)
  local timeout_s = number_setting(getenv, profile, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout", 1, 0.1, 60)
  local attempts = math.floor(number_setting(getenv, profile, "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
    "metadata_service_num_attempts", 1, 1, 10))
  local v1_off = setting(getenv, profile, "AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled")
  v1_off = v1_off and v1_off:lower() == "true"
  local ms = math.max(1, math.floor(timeout_s * 1000))
  local conn = http.new{ connect_timeout_ms = ms, timeout_ms = 2 * ms, max_response_bytes = M.MAX_RESPONSE_BYTES }
  local function done(...)
    conn:close()
    return ...
  end

  -- 1. session token
  local token, last
  for _ = 1, attempts do
    local status, rh, body = conn:request{ method = "PUT", url = base .. "/latest/api/token",
      headers = { { "x-aws-ec2-metadata-token-ttl-seconds", M.TOKEN_TTL_S } } }
    if status == 200 and body ~= "" then
      token = body
      break
    elseif status == 403 or status == 404 or status == 405 then
      last = nil
      break
    elseif status == 400 then
      return done(nil, base .. ": the token request was refused (HTTP 400)")
    elseif status then
      last = "HTTP " .. status
    elseif rh and rh.code == "ReadTimeout" then
      last = nil
      break
    else
      last = rh
    end
  end
  if not token then
    if type(last) == "table" and is_connect_failure(last) then
      return done(nil, base .. ": " .. tostring(last.message or last.code))
    end
    if v1_off then
      return done(nil, base .. ": no IMDSv2 token and IMDSv1 is disabled (AWS_EC2_METADATA_V1_DISABLED)")
    end
  end
  if token then redact.register(token) end
  local headers = token and { { "x-aws-ec2-metadata-token", token } } or {}

  local function get(path, want_json)
    local why
    for _ = 1, attempts do
      local status, rh, body = conn:request{ method = "GET", url = base .. path, headers = headers }
      if status == 200 and body ~= "" then
        if not want_json then return body end
        local doc = json.decode(body)
        if type(doc) == "table" then return doc end
        why = "the answer is not JSON"
      elseif status then
        why = "HTTP " .. status
      else
        why = tostring(rh and (rh.message or rh.code) or "no answer")
      end
    end
    return nil, why
  end

  -- 2. role name, 3. its credentials
  local list, why = get(CREDS_PATH, false)
  if not list then return done(nil, base .. ": no instance role (" .. why .. ")") end
  local role = list:match("^%s*([^\r\n]-)%s*\n") or list:match("^%s*(.-)%s*$")
  if role == "" or not role:match("^[%w+=,.@_%-]+$") then
    return done(nil, base .. ": the role name in the metadata is not valid")
  end
  local doc
  doc, why = get(CREDS_PATH .. role, true)
  if not doc then return done(nil, base .. ": no credentials for role " .. role .. " (" .. why .. ")") end
  for _, k in ipairs({ "AccessKeyId", "SecretAccessKey", "Token", "Expiration" }) do
    if type(doc[k]) ~= "string" or doc[k] == "" then
      local code = type(doc.Code) == "string" and (" (" .. doc.Code:sub(1, 60) .. ")") or ""
      return done(nil, base .. ": the credentials of role " .. role .. " lack " .. k .. code)
    end
  end
  local exp = time.parse(doc.Expiration)
  if not exp then return done(nil, base .. ": the Expiration of role " .. role .. " is not ISO 8601") end
  local c = { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
    session_token = doc.Token, expiration = math.floor(exp), source = "iam-role", role_name = role }
  redact.register(c.secret_access_key)
  redact.register(c.session_token)
  -- Static stability (botocore does the same): when the metadata service hands out
  -- credentials that already expired (it cannot reach STS), keep using them for 5 to 10
  -- more minutes rather than failing every call; AWS still accepts them for a while.
  local now = o.now or os.time()
  if c.expiration <= now then
    local rnd = o.random or math.random
    c.expiration = math.floor(now) + 300 + rnd(0, 300)
    if o.warn then
      o.warn("the EC2 metadata service returned expired credentials; using them until "
        .. time.format(c.expiration) .. " and trying again then")
    end
  end
  return done(c)
end

return M
