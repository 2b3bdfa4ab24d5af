-- aws.credentials.assume_role: one sts:AssumeRole call through detlua's own STS client
-- (query protocol, signed with the source credentials), turned into a credentials table.
--
-- Used for profiles with role_arn (source_profile / credential_source) and for
-- aws.assume_role sessions. A failure raises aws.Error kind="credentials"
-- code="AssumeRoleFailed" carrying STS's code and message (fields.sts_code, status,
-- request_id). Which credentials sign the call, and when to call again, is decided by
-- aws.credentials; this file neither caches nor resolves profiles.
local errors = require("aws.errors")
local redact = require("aws.redact")
local time = require("aws.time")

local M = {}

-- STS's default name when none is configured (botocore uses botocore-session-<time>).
function M.default_session_name(now)
  return "detlua-session-" .. math.floor(now or os.time())
end

-- An STS client that ignores the host's --endpoint-url/--profile/--local defaults (they
-- are for the playbook's clients, not for resolving a profile's credentials) but keeps
-- its timeouts and --debug. o: {region, profile, env, credentials}
function M.sts_client(o)
  local client = require("aws.client")
  local c = client.new("sts", {})
  local opts = {}
  for k, v in pairs(client.defaults()) do opts[k] = v end
  for _, k in ipairs({ "region", "profile", "endpoint", "credentials", "env", "session", "label", "dry_run" }) do
    opts[k] = nil
  end
  opts.region, opts.profile, opts.env, opts.credentials = o.region, o.profile, o.env, o.credentials
  c.opts = opts
  return c
end

-- Credentials table from STS's Credentials structure.
function M.to_credentials(c, source)
  if type(c) ~= "table" or type(c.AccessKeyId) ~= "string" or type(c.SecretAccessKey) ~= "string" then
    return nil
  end
  local exp = c.Expiration
  if type(exp) == "string" then exp = time.parse(exp) end
  local out = { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey,
    session_token = c.SessionToken, expiration = exp and math.floor(exp) or nil, source = source }
  redact.register(out.secret_access_key)
  redact.register(out.session_token)
  return out
end

-- Calls sts:AssumeRole(params) on the client; `where` names the configuration for the
-- error message ("profile \"prod\"", "aws.assume_role"). Returns credentials and the raw
-- result (AssumedRoleUser and so on).
function M.call(sts, params, where)
  local ok, r = pcall(sts.assume_role, sts, params)
  if not ok then
    if not errors.is_error(r) or r.kind == "credentials" then error(r, 0) end
    error(errors.new{
      kind = "credentials", code = "AssumeRoleFailed",
      message = string.format("assuming %s (%s) failed: %s: %s", tostring(params.RoleArn), where,
        tostring(r.code), tostring(r.message)),
      status = r.status, request_id = r.request_id, retryable = r.retryable,
      fields = { sts_code = r.code, sts_kind = r.kind },
    }, 0)
  end
  local c = M.to_credentials(r.Credentials, "assume-role")
  if not c then
    error(errors.new{ kind = "credentials", code = "AssumeRoleFailed",
      message = string.format("assuming %s (%s): the answer has no credentials", tostring(params.RoleArn), where) }, 0)
  end
  return c, r
end

return M
