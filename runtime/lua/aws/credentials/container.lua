-- aws.credentials.container: credentials from the container credentials endpoint (ECS
-- task roles, EKS Pod Identity, local emulators), as botocore's ContainerProvider reads it.
--
--   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  -> GET http://169.254.170.2<uri>
--   AWS_CONTAINER_CREDENTIALS_FULL_URI      -> GET <uri>: any https:// URL; http:// only to a
--       loopback address or the ECS/EKS link-local hosts, so a stray variable cannot send
--       the request (and its token) across the network in clear text
--   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every call) or
--   AWS_CONTAINER_AUTHORIZATION_TOKEN      -> the Authorization header
--   DETLUA_CONTAINER_CREDENTIALS_HOST      -> ours, for tests and debugging: replaces
--       169.254.170.2 for the relative URI; only a loopback host[:port] is accepted.
--
-- Three attempts, two seconds each, one second apart (botocore's numbers). The answer must
-- hold AccessKeyId, SecretAccessKey, Token and Expiration. It does not cache or refresh.
local http = require("aws.core.http")
local errors = require("aws.errors")
local redact = require("aws.redact")
local json = require("aws.json")
local time = require("aws.time")

local M = {}

M.ECS_HOST = "169.254.170.2"
M.TIMEOUT_MS = 2000
M.ATTEMPTS = 3
M.RETRY_SLEEP_S = 1
M.MAX_RESPONSE_BYTES = 64 * 1024

local function fail(code, msg)
  error(errors.new{ kind = "credentials", code = code, message = msg }, 0)
end

function M.configured(getenv)
  return getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ~= nil
    or getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") ~= nil
end

local function is_loopback(host)
  host = host:lower()
  if host == "localhost" or host == "[::1]" then return true end
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if a and tonumber(a) == 127 and tonumber(b) < 256 and tonumber(c) < 256 and tonumber(d) < 256 then return true end
  return false
end
M.is_loopback = is_loopback

local HTTP_ALLOWED = { ["169.254.170.2"] = true, ["169.254.170.23"] = true, ["[fd00:ec2::23]"] = true }

-- scheme, host (brackets kept for IPv6), port or nil
local function split_url(url)
  local scheme, authority = url:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return nil end
  if authority:find("@", 1, true) then return nil end
  local host, port = authority:match("^(%[[^%]]+%])(.*)$")
  if not host then host, port = authority:match("^([^:]*)(.*)$") end
  if port ~= "" and not port:match("^:%d+$") then return nil end
  if host == "" then return nil end
  return scheme:lower(), host, port
end

-- The URL to query, or raises InvalidConfig.
function M.url(getenv)
  local rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
  if rel then
    if rel:sub(1, 1) ~= "/" then
      fail("InvalidConfig", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with \"/\"")
    end
    local host = M.ECS_HOST
    local override = getenv("DETLUA_CONTAINER_CREDENTIALS_HOST")
    if override then
      local _, h = split_url("http://" .. override)
      if not h or not is_loopback(h) then
        fail("InvalidConfig", "DETLUA_CONTAINER_CREDENTIALS_HOST must be a loopback host[:port], got \"" .. override .. "\"")
      end
      host = override
    end
    return "http://" .. host .. rel
  end
  local full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
  local scheme, host = split_url(full)
  if not scheme or (scheme ~= "http" and scheme ~= "https") then
    fail("InvalidConfig", "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL")
  end
  if scheme == "http" and not is_loopback(host) and not HTTP_ALLOWED[host:lower()] then
    fail("InvalidConfig", "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is only allowed to a loopback address or "
      .. "169.254.170.2, 169.254.170.23, [fd00:ec2::23] (got host " .. host .. "); use https")
  end
  return full
end

local function auth_header(getenv)
  local file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
  local token
  if file then
    local f, err = io.open(file, "rb")
    if not f then fail("InvalidConfig", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: " .. tostring(err)) end
    token = f:read(16 * 1024 + 1) or ""
    f:close()
    if #token > 16 * 1024 then fail("InvalidConfig", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: the token is too large") end
    token = token:gsub("^%s+", ""):gsub("%s+$", "")
  else
    token = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
  end
  if not token then return nil end
  if token:find("[\r\n%z]") then
    fail("InvalidConfig", "the container authorization token contains a line break or NUL")
  end
  redact.register(token)
  return token
end

-- A short reason from an error answer, without echoing anything that looks like a key.
local function reason(body)
  local doc = json.decode(body or "")
  local msg = type(doc) == "table" and (doc.message or doc.Message)
  if type(msg) ~= "string" then return "" end
  return ": " .. redact.text(msg:sub(1, 200):gsub("%c", " "))
end

-- fetch{getenv = fn, sleep = fn(seconds)} -> credentials table (source "container-role")
function M.fetch(o)
  local url = M.url(o.getenv)
  local headers = { { "Accept", "application/json" } }
  local token = auth_header(o.getenv)
  if token then headers[2] = { "Authorization", token } end
  local conn = http.new{ connect_timeout_ms = M.TIMEOUT_MS, timeout_ms = M.TIMEOUT_MS,
    max_response_bytes = M.MAX_RESPONSE_BYTES }
  local last
  for attempt = 1, M.ATTEMPTS do
    local status, rh, body = conn:request{ method = "GET", url = url, headers = headers }
    if status == 200 then
      local doc = json.decode(body)
      if type(doc) ~= "table" then
        last = "the answer is not JSON"
      else
        for _, k in ipairs({ "AccessKeyId", "SecretAccessKey", "Token", "Expiration" }) do
          if type(doc[k]) ~= "string" or doc[k] == "" then
            conn:close()
            fail("ContainerCredentialsError", "container credentials from " .. url .. ": the answer lacks " .. k)
          end
        end
        local exp = time.parse(doc.Expiration)
        if not exp then
          conn:close()
          fail("ContainerCredentialsError", "container credentials from " .. url .. ": Expiration is not ISO 8601")
        end
        conn:close()
        local c = { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
          session_token = doc.Token, expiration = math.floor(exp), source = "container-role" }
        redact.register(c.secret_access_key)
        redact.register(c.session_token)
        return c
      end
    elseif status then
      last = "HTTP " .. status .. reason(body)
    else
      local te = rh or {}
      last = tostring(te.code or "TransportError") .. ": " .. tostring(te.message or "no answer")
    end
    if attempt < M.ATTEMPTS then o.sleep(M.RETRY_SLEEP_S) end
  end
  conn:close()
  fail("ContainerCredentialsError", "container credentials from " .. url .. " failed after " .. M.ATTEMPTS
    .. " attempts: " .. last)
end

return M
