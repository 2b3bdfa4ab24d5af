-- detlua.session: what a playbook, a chunk or the REPL finds ready: the `aws` module and
-- the default clients `detective`, `guardduty`, `sts`, configured from the host options
-- (--region, --profile, --endpoint-url, --debug, --dry-run, --local). With --local an
-- emulator is started in this process on a free loopback port and every default client
-- points at it with the scenario administrator's credentials; stop() shuts it down.
local M = {}

local SERVICES = { "detective", "guardduty", "sts" }

function M.start(opts)
  opts = opts or {}
  local aws = require("aws")
  local env = { opts = opts }
  -- Opened first: a bad path must fail before an emulator is started.
  if opts.audit_log then
    env.audit = aws.audit.open(opts.audit_log, { playbook = opts.playbook })
  end
  -- The playbook toolkit (log, emit, confirm) is for chunks and playbooks; `detlua call`
  -- runs none and passes kit = false.
  if opts.kit ~= false then
    env.kit = require("detlua.kit").install{ yes = opts.yes, debug = opts.debug }
  end
  local d = require("detlua.cli").client_defaults(opts)
  if opts["local"] then
    local srv = require("aws.core.emulator").start{ host = "127.0.0.1", port = 0,
      scenario = opts.scenario, region = opts.region }
    env.server = srv
    local c = srv:admin_credentials()
    d.endpoint = srv:url()
    d.credentials = { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key,
      source = "emulator" }
    d.region = opts.region or srv:region() or "us-east-1"
    d.profile = nil
    aws.emulator = M.emulator_handle(srv, opts)
  end
  aws.configure_defaults(d)
  _G.aws = aws
  for _, name in ipairs(SERVICES) do
    _G[name] = aws.client(name)
  end
  return env
end

-- What a playbook sees as `aws.emulator` under --local: the endpoint, the region and
-- the scenario without its secret keys (accounts, roles, organization, fixtures).
function M.emulator_handle(srv, opts)
  local view
  local h = setmetatable({}, { __name = "aws.Emulator" })
  function h:url() return srv:url() end
  function h:region() return srv:region() end
  function h:scenario()
    if not view then
      local sc = require("detlua.emulator.scenario").from_options{ scenario = opts.scenario, region = opts.region }
      view = require("aws.redact").value(sc)
      for _, a in ipairs(view.accounts or {}) do
        a.secret_access_key = nil
        for _, k in ipairs(a.keys or {}) do k.secret_access_key = nil end
      end
    end
    return view
  end
  return h
end

function M.stop(env)
  if env and env.kit then require("detlua.kit").uninstall(env.kit) end
  if env and env.audit then env.audit:close() end
  for _, name in ipairs(SERVICES) do
    local c = rawget(_G, name)
    if type(c) == "table" and c.close then pcall(c.close, c) end
  end
  local aws = package.loaded.aws
  if aws and aws.shutdown then aws.shutdown() end
  if env and env.server then
    env.server:stop()
    if aws then aws.emulator = nil end
  end
end

return M
