-- Test support for the playbook-kit specs (waiters, batch, dry run, audit, kit, docs; not
-- a spec itself): an in-process emulator with clients for its accounts, the emulator's
-- clock and fixture hooks, a transport hook that counts what is really sent, a sleep hook
-- that advances the emulator clock instead of waiting, and child `detlua run` processes.
local aws = require("aws")
local client = require("aws.client")
local http = require("aws.core.http")
local files = require("files")
local loopback = require("loopback")
local proc = require("proc")
local secrets = require("secrets")

local K = {}

K.GRAPH_PATTERN = "^arn:aws:detective:us%-east%-1:111122223333:graph:%x+$"
K.scenario = require("detlua.emulator.scenario").default_raw
K.ADMIN = "111122223333"
K.PROD = "444455556666"
K.DEV = "777788889999"
K.SANDBOX = "555566667777"

-- Fails when text holds a secret key of sc (default: the built-in scenario), a signature
-- or an Authorization value.
function K.assert_no_secrets(text, sc, what)
  secrets.assert_no_secrets(text, sc or K.scenario(), what, { authorization = true })
end

-- K.start{settings = {detective = {...}}, scenario_table = tbl} -> env
function K.start(o)
  o = o or {}
  local sc = o.scenario_table or K.scenario()
  local srv = require("aws.core.emulator").start{ host = "127.0.0.1", port = 0, settings = o.settings,
    scenario_table = sc }
  local env = { srv = srv, scenario = sc, url = srv:url(), conn = http.new{} }
  local keys = secrets.keys_by_account(sc)
  env.keys = keys
  function env:client(service, account, extra)
    local opts = { endpoint = self.url, region = "us-east-1", credentials = keys[account or K.ADMIN] }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return aws.client(service, opts)
  end
  env.detective = env:client("detective")
  -- POST /_emulator/<path> with a JSON body; returns the decoded answer.
  function env:admin(path, body)
    return loopback.emulator_hook(self.conn, self.url, "POST", path, body or {})
  end
  function env:advance(seconds)
    return self:admin("clock", { advance_seconds = seconds })
  end
  function env:graph()
    return self.detective:create_graph{}.GraphArn
  end
  function env:stop()
    self.detective:close()
    self.conn:close()
    self.srv:stop()
  end
  return env
end

-- Installs a transport hook that records every request really sent (method, url, body).
-- Returns the record; record.restore() removes the hook.
function K.record_requests()
  local prev = client.hooks.transport
  local rec = { count = 0, requests = {} }
  client.hooks.transport = function(c, req)
    rec.count = rec.count + 1
    rec.requests[#rec.requests + 1] = { method = req.method, url = req.url, body = req.body,
      operation = c.svc.name }
    if prev then return prev(c, req) end
    return client.connection(c):request(req)
  end
  function rec.restore() client.hooks.transport = prev end
  return rec
end

-- Installs a sleep hook: fn(seconds) runs instead of sleeping (default: advance the
-- emulator clock). Returns the list of requested pauses; .restore() removes the hook.
function K.fake_sleep(env, fn)
  local prev = client.hooks.sleep
  local pauses = {}
  client.hooks.sleep = function(s)
    pauses[#pauses + 1] = s
    if fn then fn(s, #pauses) elseif env then env:advance(s) end
  end
  function pauses.restore() client.hooks.sleep = prev end
  return pauses
end

-- Runs `detlua run --local [host options] FILE [args]` with the playbook text.
-- Returns {code, stdout, stderr}.
function K.run_playbook(text, host_opts, args, stdin)
  local file = files.write(files.tmpname(".lua"), text)
  local argv = { proc.detlua(), "run", "--local" }
  for _, a in ipairs(host_opts or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = file
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local r = proc.run{ argv = argv, stdin = stdin }
  os.remove(file)
  return r
end

return K
