-- Test support for the playbook and audit specs (not a spec itself): runs the shipped
-- scripts as child processes (`$DETLUA run [--local --scenario F | --endpoint-url URL]
-- scripts/... --args`), collects their stdout, stderr, exit status and emitted JSON lines,
-- starts an in-process emulator when a spec must look at the emulated state after a run,
-- and reads the scenario files the expectations are derived from.
local aws = require("aws")
local http = require("aws.core.http")
local json = require("aws.json")
local files = require("files")
local loopback = require("loopback")
local proc = require("proc")
local secrets = require("secrets")
-- what busted gives specs as `assert`; a module they require takes it explicitly
local luassert = require("luassert")

local S = {}

S.DETLUA = proc.detlua()

-- A scenario file of tests/data/playbooks as a plain table.
function S.scenario(rel)
  return assert(json.decode(assert(files.read(files.src(rel)))))
end

-- The built-in scenario, as `detlua emulator --print-scenario` writes it.
function S.builtin_scenario()
  local r = proc.run{ argv = { S.DETLUA, "emulator", "--print-scenario" } }
  assert(r.code == 0, "detlua emulator --print-scenario failed: " .. r.stderr)
  return assert(json.decode(r.stdout))
end

-- Fails when a run's output holds a secret key of `sc`, a signature, or names a session
-- token or secret key field.
function S.assert_no_secrets(r, sc)
  for _, text in ipairs({ r.stdout, r.stderr }) do
    secrets.assert_no_secrets(text, sc, "output", { field_names = true })
  end
end

-- run{script = "scripts/...", host = {host options}, args = {playbook args}, env = {},
--     stdin = "..."} -> {code, stdout, stderr, lines = {decoded JSON lines}, json = last}
function S.run(o)
  local argv = { S.DETLUA, "run" }
  for _, h in ipairs(o.host or {}) do argv[#argv + 1] = h end
  argv[#argv + 1] = files.src(o.script)
  for _, a in ipairs(o.args or {}) do argv[#argv + 1] = a end
  local env = { AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null",
    AWS_EC2_METADATA_DISABLED = "true" }
  for k, v in pairs(o.env or {}) do env[k] = v end
  local r = proc.run{ argv = argv, env = env, stdin = o.stdin }
  r.lines = files.json_lines(r.stdout)
  r.json = r.lines[#r.lines]
  r.describe = "exit " .. tostring(r.code) .. "\n--- stdout\n" .. r.stdout .. "--- stderr\n" .. r.stderr
  return r
end

-- run_local(scenario_rel | nil, script, args, host_extra) with the embedded emulator.
function S.run_local(scenario, script, args, host_extra)
  local host = { "--local" }
  if scenario then host[#host + 1] = "--scenario"; host[#host + 1] = files.src(scenario) end
  for _, h in ipairs(host_extra or {}) do host[#host + 1] = h end
  return S.run{ script = script, host = host, args = args }
end

-- An emulator in this process, for runs whose effects a spec checks afterwards.
-- S.server(scenario_rel) -> srv with :run(script, args, host_extra), :client(service,
-- account_id, opts), :admin(path, body), :stop().
function S.server(scenario_rel, settings)
  local sc = S.scenario(scenario_rel)
  local srv = require("aws.core.emulator").start{ host = "127.0.0.1", port = 0,
    scenario = files.src(scenario_rel), settings = settings }
  local region = sc.region or "us-east-1"
  local admin = sc.administrator or sc.accounts[1].id
  local keys = secrets.keys_by_account(sc)
  local h = { srv = srv, url = srv:url(), region = region, admin = admin, scenario = sc, conn = http.new{} }
  function h:run(script, args, host_extra)
    local host = { "--endpoint-url", self.url, "--region", self.region }
    for _, x in ipairs(host_extra or {}) do host[#host + 1] = x end
    return S.run{ script = script, host = host, args = args, env = {
      AWS_ACCESS_KEY_ID = keys[admin].access_key_id, AWS_SECRET_ACCESS_KEY = keys[admin].secret_access_key } }
  end
  function h:client(service, account, opts)
    local o = { endpoint = self.url, region = self.region, credentials = keys[account or admin] }
    for k, v in pairs(opts or {}) do o[k] = v end
    return aws.client(service, o)
  end
  -- A client acting through a role the administrator may assume.
  function h:role_client(service, role_arn)
    local c = self:client("sts"):assume_role{ RoleArn = role_arn, RoleSessionName = "playbooks-spec" }.Credentials
    return aws.client(service, { endpoint = self.url, region = self.region, credentials = secrets.from_sts(c) })
  end
  function h:admin_hook(path, body)
    return loopback.emulator_hook(self.conn, self.url, "POST", path, body or {})
  end
  function h:stop()
    self.conn:close()
    self.srv:stop()
  end
  return h
end

-- Members of the administrator's graph by account id (GetMembers), and the graph ARN.
function S.members(srv, ids)
  local d = srv:client("detective")
  local g = d:list_graphs{}.GraphList[1]
  if not g then return {}, nil end
  local by = {}
  if #ids > 0 then
    for _, m in ipairs(d:get_members{ GraphArn = g.Arn, AccountIds = ids }.MemberDetails or {}) do by[m.AccountId] = m end
  end
  d:close()
  return by, g.Arn
end

-- True for operations that only read (List*, Get*, Describe*, BatchGet*) or are STS calls.
function S.read_only(operation)
  local svc, op = operation:match("^([^.]+)%.(.+)$")
  if svc == "STS" then return true end
  for _, p in ipairs({ "List", "Get", "Describe", "BatchGet" }) do
    if op:sub(1, #p) == p and op:sub(#p + 1, #p + 1):match("%u") then return true end
  end
  return false
end

-- A simple CSV parser for the audits' output (quoted fields, no line breaks in fields).
function S.parse_csv(text)
  local rows = {}
  for line in text:gmatch("[^\n]+") do
    local fields, i = {}, 1
    while i <= #line + 1 do
      if line:sub(i, i) == '"' then
        local j, buf = i + 1, {}
        while true do
          local q = line:find('"', j, true)
          buf[#buf + 1] = line:sub(j, q - 1)
          if line:sub(q + 1, q + 1) == '"' then buf[#buf + 1] = '"'; j = q + 2 else j = q + 1; break end
        end
        fields[#fields + 1] = table.concat(buf)
        i = j + 1
      else
        local c = line:find(",", i, true) or (#line + 1)
        fields[#fields + 1] = line:sub(i, c - 1)
        i = c + 1
      end
    end
    rows[#rows + 1] = fields
  end
  local header = table.remove(rows, 1) or {}
  local out = {}
  for _, r in ipairs(rows) do
    local t = {}
    for k, name in ipairs(header) do t[name] = r[k] ~= "" and r[k] or nil end
    out[#out + 1] = t
  end
  return out, header
end

-- A run given tests/data/playbooks/members-bad.csv: exit status 2, every bad line (bad_lines)
-- in the JSON result's errors and named on stderr, "nothing was sent", and no record in the
-- audit log at log_path (removed afterwards).
function S.assert_bad_csv_refused(r, bad_lines, log_path)
  luassert.equal(2, r.code, r.describe)
  local lines = {}
  for _, e in ipairs(r.json.errors) do lines[#lines + 1] = e.line end
  luassert.same(bad_lines, lines)
  luassert.equal(false, r.json.ok)
  for _, n in ipairs(bad_lines) do
    luassert.truthy(r.stderr:find("members%-bad%.csv:" .. n .. ": "), "stderr names line " .. n)
  end
  luassert.truthy(r.stderr:find("nothing was sent", 1, true))
  luassert.same({}, files.json_records(log_path))
  os.remove(log_path)
end

return S
