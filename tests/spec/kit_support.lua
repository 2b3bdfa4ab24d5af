-- Test support for the playbook-kit specs (waiters, batch, dry run, audit, kit, docs; not
-- a spec itself): an in-process emulator with clients for its accounts, the emulator's
-- clock and fixture hooks, a transport hook that counts what is really sent, a sleep hook
-- that advances the emulator clock instead of waiting, and child `detlua run` processes.
local aws = require("aws")
local client = require("aws.client")
local http = require("aws.core.http")
local json = require("aws.json")
local child = require("child")

local K = {}

K.GRAPH_PATTERN = "^arn:aws:detective:us%-east%-1:111122223333:graph:%x+$"
K.scenario = require("detlua.emulator.scenario").default_raw
K.ADMIN = "111122223333"
K.PROD = "444455556666"
K.DEV = "777788889999"
K.SANDBOX = "555566667777"

-- Every secret key of a scenario (to search outputs for).
function K.secrets(sc)
  local out = {}
  for _, a in ipairs((sc or K.scenario()).accounts) do
    if a.secret_access_key then out[#out + 1] = a.secret_access_key end
    for _, k in ipairs(a.keys or {}) do out[#out + 1] = k.secret_access_key end
  end
  return out
end

function K.assert_no_secrets(text, sc, what)
  for _, s in ipairs(K.secrets(sc)) do
    assert(not text:find(s, 1, true), (what or "output") .. " contains a secret key")
  end
  assert(not text:find("Signature=%x"), (what or "output") .. " contains a signature")
  assert(not text:find("AWS4%-HMAC%-SHA256 Credential="), (what or "output") .. " contains an Authorization value")
end

-- K.start{settings = {detective = {...}}, scenario_table = tbl} -> env
function K.start(o)
  o = o or {}
  local sc = o.scenario_table or K.scenario()
  local srv = require("aws.core.emulator").start{ host = "127.0.0.1", port = 0, settings = o.settings,
    scenario_table = sc }
  local env = { srv = srv, scenario = sc, url = srv:url(), conn = http.new{} }
  local keys = {}
  for _, a in ipairs(sc.accounts) do
    if a.access_key_id then keys[a.id] = { access_key_id = a.access_key_id, secret_access_key = a.secret_access_key } end
  end
  env.keys = keys
  function env:client(service, account, extra)
    local opts = { endpoint = self.url, region = "us-east-1", credentials = keys[account or K.ADMIN] }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return aws.client(service, opts)
  end
  env.detective = env:client("detective")
  -- POST /_emulator/<path> with a JSON body; returns the decoded answer.
  function env:admin(path, body)
    local status, _, answer = self.conn:request{ method = "POST", url = self.url .. "/_emulator/" .. path,
      headers = { { "content-type", "application/json" } }, body = json.encode(body or {}) }
    assert(status == 200, "emulator " .. path .. ": HTTP " .. tostring(status) .. " " .. tostring(answer))
    return json.decode(answer)
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

function K.tmpname(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. (suffix or "")
end

function K.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function K.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Runs `detlua run --local [host options] FILE [args]` with the playbook text.
-- Returns {code, stdout, stderr}.
function K.run_playbook(text, host_opts, args, stdin)
  local file = K.tmpname(".lua")
  K.write(file, text)
  local argv = { child.detlua(), "run", "--local" }
  for _, a in ipairs(host_opts or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = file
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local r = child.run{ argv = argv, stdin = stdin }
  os.remove(file)
  return r
end

function K.detlua(argv, stdin)
  local full = { child.detlua() }
  for _, a in ipairs(argv) do full[#full + 1] = a end
  return child.run{ argv = full, stdin = stdin }
end

function K.lines(text)
  local out = {}
  for l in text:gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

return K
