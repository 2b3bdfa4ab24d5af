-- aws: the module playbooks use. Clients (aws.client), errors (aws.Error, aws.is_error,
-- aws.try), SigV4 (aws.sigv4), JSON, time, redaction, and the defaults the host sets
-- from its command line. Heavier parts (paging, waiters, concurrency, playbook kit)
-- live in their own modules and are attached here.
-- Under a stock lua5.4 the C submodules come from aws/core.so, which preloads them.
if not package.preload["aws.core.model"] then pcall(require, "aws.core") end
local client = require("aws.client")
require("aws.paging") -- adds client:pages and client:each
require("aws.batch") -- adds client:create_members_all, get_members_all, ... and call_all
local waiters = require("aws.waiters") -- adds client:wait_investigation, wait_members, ...
require("aws.dryrun") -- before_send hook: clients with dry_run = true skip mutating calls
local audit = require("aws.audit") -- after_call hook: aws.audit.open(path) records calls
local errors = require("aws.errors")

local aws = {}

aws.VERSION = "0.1.0"
aws.Error = errors.Error
aws.is_error = errors.is_error
aws.sigv4 = require("aws.sigv4")
aws.json = require("aws.json")
aws.time = require("aws.time")
aws.redact = require("aws.redact")
aws.model = require("aws.core.model")
aws.wait = waiters.wait
aws.audit = audit

-- aws.client("detective", {region=..., profile=..., endpoint=..., credentials=...})
function aws.client(service, opts)
  return client.new(service, opts)
end

-- aws.assume_role{RoleArn=..., RoleSessionName=...} -> session (sess:client(service, opts))
aws.assume_role = require("aws.credentials").assume_role

local concurrency = require("aws.concurrency")
aws.map = concurrency.map
aws.parallel = concurrency.parallel

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

return aws
