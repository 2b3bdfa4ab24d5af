-- aws: the module playbooks use. Clients (aws.client), errors (aws.Error, aws.is_error,
-- aws.try), SigV4 (aws.sigv4), JSON, time, redaction, and the defaults the host sets
-- from its command line. Heavier parts (paging, waiters, batch helpers, concurrency,
-- credentials beyond the environment, the audit log, dry runs) live in their own modules
-- and are loaded the first time they are used: a field of this table (aws.map, aws.wait,
-- ...) or a client method (client:pages, client:wait_members, ...). A one-call process
-- such as `detlua call` then loads only what that call needs; nothing else changes.
-- Under a stock lua5.4 the C submodules come from aws/core.so, which preloads them.
if not package.preload["aws.core.model"] then pcall(require, "aws.core") end
local client = require("aws.client")
local errors = require("aws.errors")

local aws = {}

aws.VERSION = "0.1.0"
aws.Error = errors.Error
aws.is_error = errors.is_error
aws.sigv4 = require("aws.sigv4")

-- aws.client("detective", {region=..., profile=..., endpoint=..., credentials=...})
function aws.client(service, opts)
  return client.new(service, opts)
end

-- Runs fn(...) and returns true, results... or false, err (an aws.Error or a message).
function aws.try(fn, ...)
  return pcall(fn, ...)
end

-- Set by the host from --region/--profile/--endpoint-url/--debug/--local.
function aws.configure_defaults(opts)
  local d = {}
  for _, k in ipairs({ "region", "profile", "endpoint", "debug", "credentials", "dry_run", "env" }) do
    d[k] = opts[k]
  end
  if opts.endpoint_url then d.endpoint = opts.endpoint_url end
  client.set_defaults(d)
end

function aws.shutdown()
end

-- Fields loaded on first access; the value is then stored in the table like any other.
local LAZY = {
  json = function() return require("aws.json") end,
  time = function() return require("aws.time") end,
  redact = function() return require("aws.redact") end,
  model = function() return require("aws.core.model") end,
  wait = function() return require("aws.waiters").wait end,
  audit = function() return require("aws.audit") end,
  -- aws.assume_role{RoleArn=..., RoleSessionName=...} -> session (sess:client(service, opts))
  assume_role = function() return require("aws.credentials").assume_role end,
  map = function() return require("aws.concurrency").map end,
  parallel = function() return require("aws.concurrency").parallel end,
}

-- Loads every lazy field and client extension: for whoever lists what aws offers (the
-- REPL's completion, the reference generator).
function aws.load_all()
  for k, load in pairs(LAZY) do
    if rawget(aws, k) == nil then rawset(aws, k, load()) end
  end
  client.load_extensions()
  return aws
end

return setmetatable(aws, {
  __index = function(t, k)
    local load = LAZY[k]
    if not load then return nil end
    local v = load()
    rawset(t, k, v)
    return v
  end,
  -- pairs(aws) sees every field, loaded or not
  __pairs = function(t)
    aws.load_all()
    return next, t, nil
  end,
})
