-- fault_matrix_spec.lua: every fault kind the emulator injects (docs/emulator.md, "Fault
-- injection") against a paging/fan-out workload (tests/data/faults/paging.lua: ListMembers
-- with MaxResults=1 over 30 members, then GetMembers per member through aws.map) and the
-- shipped playbooks and audits, each run as a child process (`timeout 60 detlua run
-- --endpoint-url URL --audit-log FILE ...`) against a fresh in-process emulator.
--
-- For each cell it asserts: no crash (exit 0 or 1, no signal, no Lua traceback) and no hang
-- (the timeout); the retry decision (faults that standard retry mode retries are survived
-- when they hit only the first calls; 400, malformed bodies and oversized bodies are not
-- retried); when a run fails, the error names the expected code and the audit log's failing
-- record carries the expected code, status and attempts; no partial result presented as
-- complete; and the audit log agrees with the requests the emulator counted
-- (GET /_emulator/stats). Expected codes and retry decisions come from the service models
-- and AWS's documented standard retry mode, not from the client's code. The matrix
-- (fault x workload -> outcome) is printed at the end as TAP comments.
local aws = require("aws")
local http = require("aws.core.http")
local json = require("aws.json")
local emulator = require("aws.core.emulator")
local files = require("files")
local loopback = require("loopback")
local proc = require("proc")
local secrets = require("secrets")

local DETLUA = proc.detlua()
local REGION = "us-east-1"

-- --- oracles from the built-in scenario --------------------------------------------------

local builtin = assert(json.decode(proc.run{ argv = { DETLUA, "emulator", "--print-scenario" } }.stdout))
local ALICE = "arn:aws:iam::444455556666:user/alice"
local ALICE_INDICATORS = #builtin.investigations[ALICE].indicators

-- Error codes per service for the status faults, from the service models (Detective's
-- modeled 429 TooManyRequestsException and 400 ValidationException, GuardDuty's 400
-- BadRequestException) and AWS's unmodeled 503 ServiceUnavailableException.
local CODES = {
  throttle = { detective = "TooManyRequestsException", guardduty = "TooManyRequestsException", sts = "Throttling" },
  ["400"] = { detective = "ValidationException", guardduty = "BadRequestException", sts = "ValidationError" },
  ["503"] = { detective = "ServiceUnavailableException", guardduty = "ServiceUnavailableException", sts = "ServiceUnavailable" },
}
local STATUS = { throttle = { detective = 429, guardduty = 429, sts = 400 }, ["400"] = 400, ["503"] = 503 }

-- --- workloads ------------------------------------------------------------------------


local WORKLOADS = {
  {
    name = "paging", script = "tests/data/faults/paging.lua", args = {}, setup = 30,
    primary = { "detective", "ListMembers" },
    complete = function(r)
      for _, v in ipairs(files.json_lines(r.stdout)) do
        if v.complete == true then return v.members == 30 and v.details == 30, v end
      end
      return false
    end,
  },
  {
    name = "investigate-finding", script = "scripts/playbooks/investigate-finding.lua", args = { "--json" }, setup = 0,
    primary = { "guardduty", "ListDetectors" },
    complete = function(r)
      for _, v in ipairs(files.json_lines(r.stdout)) do
        if v.indicator_count ~= nil then
          return v.indicator_count == ALICE_INDICATORS and type(v.entity) == "table" and v.entity.arn == ALICE, v
        end
      end
      return false
    end,
  },
  {
    name = "member-health", script = "scripts/audits/member-health.lua", args = { "--all", "--format=json" }, setup = 30,
    primary = { "detective", "ListGraphs" },
    -- an audit reports a Region it could not read as an ERROR row and exits 0
    error_rows = true,
    complete = function(r)
      local members, err = 0, false
      for _, v in ipairs(files.json_lines(r.stdout)) do
        if v.status == "ERROR" then err = true elseif v.account_id then members = members + 1 end
      end
      return members == 30 and not err
    end,
  },
  {
    name = "onboard-members", script = "scripts/playbooks/onboard-members.lua", setup = 0,
    args = { "--csv=" .. files.src("tests/data/faults/members.csv"), "--format=json", "--timeout=30s" },
    primary = { "detective", "ListGraphs" },
    complete = function(r)
      for _, v in ipairs(files.json_lines(r.stdout)) do
        if v.playbook == "onboard-members" then return v.total == 2 and v.enabled == 2, v end
      end
      return false
    end,
  },
}

-- --- fault rows -----------------------------------------------------------------------
-- spec: the rule, with P standing for the workload's primary operation.
-- expect: "recovered" (retried, the run completes), "ok" (nothing to retry, the run
-- completes), "failed" (the run must fail and say why), "either" (random faults).
local ROWS = {
  { name = "429 throttle, first 2 calls of every op", spec = "*:throttle@1,2", expect = "recovered" },
  { name = "429 throttle, every call of P", spec = "P:throttle@1-", expect = "failed", fault = "throttle",
    kind = "service", attempts = 3, retryable = true },
  { name = "500, first call of every op", spec = "*:500@1", expect = "recovered" },
  { name = "502 (HTML), first call of every op", spec = "*:502@1", expect = "recovered" },
  { name = "503, first 2 calls of every op", spec = "*:503@1,2", expect = "recovered" },
  { name = "504 (HTML), first call of every op", spec = "*:504@1", expect = "recovered" },
  { name = "400, first call of P", spec = "P:400@1", expect = "failed", fault = "400", kind = "service",
    attempts = 1, retryable = false },
  { name = "reset before handling, first call of every op", spec = "*:reset-before@1", expect = "recovered" },
  -- the operation ran before the connection was lost: its retry (or libcurl's replay) runs
  -- a write twice, and the second one may fail (a ConflictException for AcceptInvitation)
  { name = "reset after handling, first call of every op", spec = "*:reset-after@1", expect = "recovered",
    replayed_writes = true },
  { name = "reset before handling, every call of P", spec = "P:reset-before@1-", expect = "failed",
    code = "ConnectionReset", kind = "transport", attempts = 3, retryable = true },
  { name = "delay 8 s > read timeout 1 s, first call of P", spec = "P:delay=8000@1", read_timeout_ms = 1000,
    expect = "recovered", debug = true, retried_code = "ReadTimeout" },
  { name = "truncated body, first call of every op", spec = "*:truncate@1", expect = "recovered",
    replayed_writes = true },
  { name = "truncated body, every call of P", spec = "P:truncate@1-", expect = "failed", code = "ConnectionReset",
    kind = "transport", attempts = 3, retryable = true },
  { name = "malformed JSON (200), first call of P", spec = "P:malformed-json@1", expect = "failed",
    code = "MalformedResponse", kind = "transport", status = 200, attempts = 1, retryable = false },
  { name = "wrong Content-Type, every call", spec = "*:content-type@1-", expect = "ok" },
  { name = "oversized body (64 MiB + 1), first call of P", spec = "P:oversize@1", expect = "failed",
    code = "ResponseTooLarge", kind = "transport", attempts = 1, retryable = false },
  -- the skew rule fires on the first call of every operation, but once the client has
  -- corrected its clock from the Date header, later firings change nothing
  { name = "clock skew 15 min (InvalidSignatureException)", spec = "*:skew=900@1", expect = "recovered",
    debug = true, retried_code = "InvalidSignatureException", firings_are_not_failures = true },
  { name = "503 at rate 0.2, seed 7", spec = "*:503@rate=0.2;seed=7", expect = "either" },
  { name = "503 from page 10 of ListMembers on", spec = "ListMembers:503@10-", expect = "failed", fault = "503",
    kind = "service", attempts = 3, retryable = true, only = { paging = true } },
}

-- --- running one cell -------------------------------------------------------------------

local hook = loopback.emulator_hook

-- The audit log's records; the log is removed.
local function audit_records(p)
  local out = files.json_records(p)
  os.remove(p)
  return out
end

local function run_cell(w, row)
  local srv = emulator.start{ settings = { detective = { investigation_delay_seconds = 0 } } }
  local creds = srv:admin_credentials()
  local url = srv:url()
  local conn = http.new{}
  local ok, cell = pcall(function()
    local d = aws.client("detective", { endpoint = url, region = REGION, max_attempts = 1,
      credentials = secrets.plain(creds) })
    local graph = d:create_graph{}.GraphArn
    if w.setup > 0 then
      local accounts = {}
      for i = 1, w.setup do
        accounts[i] = { AccountId = string.format("2000000000%02d", i), EmailAddress = "member" .. i .. "@example.com" }
      end
      d:create_members{ GraphArn = graph, Accounts = accounts, DisableEmailNotification = true }
    end
    d:close()
    local spec = row.spec:gsub("^P:", w.primary[1] .. "." .. w.primary[2] .. ":")
    hook(conn, url, "POST", "faults", { spec = spec })
    hook(conn, url, "POST", "stats", { reset = true })
    local audit = files.tmpname()
    local argv = { "timeout", "60", DETLUA, "run", "--endpoint-url", url, "--region", REGION,
      "--audit-log", audit }
    if row.debug then argv[#argv + 1] = "--debug" end
    argv[#argv + 1] = files.src("tests/data/faults/wrapper.lua")
    for _, a in ipairs(w.args) do argv[#argv + 1] = a end
    local r = proc.run{ argv = argv, env = {
      FAULTS_SCRIPT = files.src(w.script), FAULTS_READ_TIMEOUT_MS = row.read_timeout_ms and tostring(row.read_timeout_ms) or nil,
      FAULTS_BACKOFF_SCALE = "0.1",
      AWS_ACCESS_KEY_ID = creds.access_key_id, AWS_SECRET_ACCESS_KEY = creds.secret_access_key,
      AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null", AWS_EC2_METADATA_DISABLED = "true",
    } }
    return { r = r, spec = spec, stats = hook(conn, url, "GET", "stats"), faults = hook(conn, url, "GET", "faults"),
      records = audit_records(audit) }
  end)
  conn:close()
  srv:stop()
  if not ok then error(cell, 0) end
  return cell
end

-- --- judging a cell ---------------------------------------------------------------------

local function describe_run(cell)
  local r = cell.r
  return "spec " .. cell.spec .. ": exit " .. tostring(r.code) .. "\n--- stdout\n" .. r.stdout:sub(1, 3000)
    .. "--- stderr\n" .. r.stderr:sub(1, 3000)
end

-- "Detective.ListMembers" (audit) -> "detective.ListMembers" (emulator stats)
local function op_key(audit_operation)
  local sid, op = audit_operation:match("^([^.]+)%.(.+)$")
  return sid:lower() .. "." .. op
end

local function count(t)
  local n = 0
  for _, v in pairs(t or {}) do n = n + v end
  return n
end

-- The audit log against the emulator's counters, per operation: the attempts recorded
-- add up to the requests that arrived, except that a connection reset on a kept-alive
-- connection is replayed by libcurl itself before any answer byte arrives, which the
-- emulator sees and the client's attempt count does not. STS GetCallerIdentity is left
-- out: the audit log's own account lookup makes that call and records it nowhere.
local function check_audit(cell)
  local attempts, calls = {}, {}
  for _, rec in ipairs(cell.records) do
    -- aws.json decodes every number as a float
    assert.is_true(type(rec.attempts) == "number" and rec.attempts >= 1 and rec.attempts % 1 == 0,
      "audit record without attempts")
    rec.attempts = math.tointeger(rec.attempts)
    if rec.status ~= nil then rec.status = math.tointeger(rec.status) end
    assert.is_true(rec.outcome == "ok" or rec.outcome == "error", "audit outcome " .. tostring(rec.outcome))
    local k = op_key(rec.operation)
    attempts[k] = (attempts[k] or 0) + rec.attempts
    calls[k] = (calls[k] or 0) + 1
  end
  local keys = {}
  for k in pairs(attempts) do keys[k] = true end
  for k in pairs(cell.stats.operations) do keys[k] = true end
  local replays = 0
  for k in pairs(keys) do
    if k ~= "sts.GetCallerIdentity" then
      local e = cell.stats.operations[k] or { requests = 0, faults = {} }
      local a = attempts[k] or 0
      local resets = (e.faults["reset-before"] or 0) + (e.faults["reset-after"] or 0) + (e.faults.truncate or 0)
      assert.is_true(a <= e.requests and e.requests <= a + resets,
        k .. ": audit attempts " .. a .. " vs " .. e.requests .. " requests at the emulator (" .. resets
          .. " resets)\n" .. describe_run(cell))
      replays = replays + math.tointeger(e.requests - a)
    end
  end
  return replays
end

local function retries_seen(cell)
  local n = 0
  for _, rec in ipairs(cell.records) do
    if op_key(rec.operation) ~= "sts.GetCallerIdentity" then n = n + rec.attempts - 1 end
  end
  return n
end

local function failing_record(cell)
  for i = #cell.records, 1, -1 do
    if cell.records[i].outcome == "error" then return cell.records[i] end
  end
end

-- Read-only operations by their name (List*, Get*, Describe*, BatchGet*).
local function read_only(operation)
  local op = operation:match("%.(.+)$")
  for _, p in ipairs({ "List", "Get", "Describe", "BatchGet" }) do
    if op:sub(1, #p) == p and op:sub(#p + 1, #p + 1):match("%u") then return true end
  end
  return false
end

-- Failed calls that repeat a write the faulted attempt had already done.
local function replayed_write_failures(cell)
  local out = {}
  for _, rec in ipairs(cell.records) do
    if rec.outcome == "error" then
      assert.is_false(read_only(rec.operation), "a read failed: " .. rec.operation .. " " .. tostring(rec.error_code)
        .. "\n" .. describe_run(cell))
      assert.equal("ConflictException", rec.error_code, describe_run(cell))
      out[#out + 1] = rec.operation:match("%.(.+)$") .. " " .. rec.error_code
    end
  end
  return out
end

-- Asserts a cell's expectations; returns the text for the matrix.
local function judge(w, row, cell)
  local r = cell.r
  -- no crash, no hang: 124 is timeout(1)'s "timed out", >= 128 a signal
  assert.is_true(r.code == 0 or r.code == 1, "exit status " .. tostring(r.code) .. "\n" .. describe_run(cell))
  assert.is_nil(r.stderr:find("stack traceback", 1, true), "a Lua error escaped\n" .. describe_run(cell))
  -- faults on the audit log's own account lookup (GetCallerIdentity, one attempt, not
  -- recorded) are not the workload's
  local fired = cell.stats.faults - count((cell.stats.operations["sts.GetCallerIdentity"] or {}).faults)
  local complete = w.complete(r)
  local replays = check_audit(cell)
  local retries = retries_seen(cell)
  local service = row.primary_service
  local code = row.code or (row.fault and CODES[row.fault][service])

  if row.expect == "recovered" or row.expect == "ok" then
    assert.is_true(fired > 0, "no fault was injected\n" .. describe_run(cell))
    assert.is_true(r.code == 0 and complete, "the run did not complete\n" .. describe_run(cell))
    local replayed = {}
    if row.replayed_writes then
      replayed = replayed_write_failures(cell)
    else
      assert.is_nil(failing_record(cell), "a call failed\n" .. describe_run(cell))
    end
    if row.expect == "ok" then
      assert.equal(0, retries, "nothing should have been retried\n" .. describe_run(cell))
      return string.format("ok (%d faults, no retry)", fired)
    end
    if row.firings_are_not_failures then
      assert.is_true(retries >= 1, "nothing was retried\n" .. describe_run(cell))
    else
      -- every injected fault was either retried by the client or replayed by libcurl
      assert.equal(fired, retries + replays, "faults vs retries\n" .. describe_run(cell))
    end
    if row.retried_code then
      -- the --debug log shows the failed attempt (its code) before the retry
      assert.is_truthy(r.stderr:find(row.retried_code, 1, true), "no " .. row.retried_code .. " seen\n" .. describe_run(cell))
    end
    return string.format("recovered (%d faults, %d retries%s)%s", fired, retries,
      replays > 0 and (", " .. replays .. " replayed by libcurl") or "",
      #replayed > 0 and ("; repeated write failed: " .. table.concat(replayed, ", ")) or "")
  end

  if row.expect == "either" then
    if r.code == 0 and complete then
      assert.is_nil(failing_record(cell), describe_run(cell))
      return string.format("recovered (%d faults, %d retries)", fired, retries)
    end
    local rec = failing_record(cell)
    assert.is_truthy(rec, "failed without an audit record\n" .. describe_run(cell))
    assert.is_false(complete, describe_run(cell))
    assert.equal(3, rec.attempts, describe_run(cell))
    return string.format("failed after 3 attempts: %s (%d faults)", rec.error_code, fired)
  end

  -- expect == "failed": not complete, the error reported, the audit record exact
  assert.is_falsy(complete, "a failed run reported a complete result\n" .. describe_run(cell))
  local rec = failing_record(cell)
  assert.is_truthy(rec, "no audit record of the failing call\n" .. describe_run(cell))
  assert.equal(code, rec.error_code, describe_run(cell))
  assert.equal(row.attempts, rec.attempts, describe_run(cell))
  local status = row.status
  if status == nil and row.fault then
    status = type(STATUS[row.fault]) == "table" and STATUS[row.fault][service] or STATUS[row.fault]
  end
  if row.kind == "service" or status then
    assert.equal(status, rec.status, describe_run(cell))
  else
    assert.is_nil(rec.status, describe_run(cell))
  end
  local where
  if r.code == 1 then
    assert.is_truthy(r.stderr:find(code, 1, true), "the error is not named on stderr\n" .. describe_run(cell))
    where = "exit 1"
  else
    assert.is_true(w.error_rows, "exit 0 after a failed call\n" .. describe_run(cell))
    local found = false
    for _, v in ipairs(files.json_lines(r.stdout)) do
      if v.status == "ERROR" and tostring(v.reason):find(code, 1, true) then found = true end
    end
    assert.is_true(found, "no ERROR row naming " .. code .. "\n" .. describe_run(cell))
    where = "ERROR row, exit 0"
  end
  return string.format("failed: %s after %d attempt%s (%s)", code, rec.attempts, rec.attempts == 1 and "" or "s", where)
end

-- --- the spec ---------------------------------------------------------------------------

local matrix = {} -- row name -> workload name -> text
local total_faults, total_requests = 0, 0

describe("fault matrix", function()
  for _, row in ipairs(ROWS) do
    for _, w in ipairs(WORKLOADS) do
      local applies = (not row.only or row.only[w.name]) and files.exists(files.src(w.script))
      if applies then
        it(row.name .. " x " .. w.name, function()
          matrix[row.name] = matrix[row.name] or {}
          matrix[row.name][w.name] = "FAILED A CHECK"
          local cell = run_cell(w, row)
          total_faults = total_faults + cell.stats.faults
          total_requests = total_requests + cell.stats.requests
          local r = { primary_service = w.primary[1] }
          for k, v in pairs(row) do r[k] = v end
          if row.spec:sub(1, 2) ~= "P:" and row.fault then r.primary_service = "detective" end
          matrix[row.name][w.name] = judge(w, r, cell)
        end)
      end
    end
  end

  it("the same seed injects the same faults into a sequential workload", function()
    local w = WORKLOADS[1]
    local row = { spec = "ListMembers:503@rate=0.3;seed=12345", expect = "either" }
    local a = run_cell(w, row)
    local b = run_cell(w, row)
    assert.same(a.stats.operations["detective.ListMembers"], b.stats.operations["detective.ListMembers"])
    assert.same(a.faults.rules[1].fired, b.faults.rules[1].fired)
    assert.is_true(a.faults.rules[1].fired > 0)
  end)

  it("prints the matrix", function()
    local names = {}
    for _, w in ipairs(WORKLOADS) do
      if files.exists(files.src(w.script)) then names[#names + 1] = w.name end
    end
    -- a grid first (R recovered, OK nothing to retry, F failed as specified, ! a check
    -- failed), then every cell in words
    local function short(t)
      if not t then return "-" end
      if t == "FAILED A CHECK" then return "!" end
      if t:match("^recovered") then return "R" .. (t:match("%((%d+) faults") and ("(" .. t:match("%((%d+) faults") .. ")") or "") end
      if t:match("^ok") then return "OK" end
      return "F:" .. (t:match("^failed: (%S+)") or t:match("^failed after %d+ attempts: (%S+)") or "?")
    end
    local grid = { { "fault" } }
    for _, n in ipairs(names) do grid[1][#grid[1] + 1] = n end
    for _, row in ipairs(ROWS) do
      local cols = { row.spec }
      for _, n in ipairs(names) do cols[#cols + 1] = short(matrix[row.name] and matrix[row.name][n]) end
      grid[#grid + 1] = cols
    end
    local widths = {}
    for _, cols in ipairs(grid) do
      for i, c in ipairs(cols) do widths[i] = math.max(widths[i] or 0, #c) end
    end
    local out = { "# fault matrix (fault x workload -> outcome)" }
    for _, cols in ipairs(grid) do
      local parts = {}
      for i, c in ipairs(cols) do parts[i] = c .. string.rep(" ", widths[i] - #c) end
      out[#out + 1] = ("# " .. table.concat(parts, "  ")):gsub("%s+$", "")
    end
    local survived, cells = 0, 0
    for _, row in ipairs(ROWS) do
      out[#out + 1] = "# " .. row.name .. "  [" .. row.spec .. "]"
      for _, n in ipairs(names) do
        local t = matrix[row.name] and matrix[row.name][n]
        if t then
          cells = cells + 1
          if t ~= "FAILED A CHECK" then survived = survived + 1 end
          out[#out + 1] = "#     " .. n .. ": " .. t
        end
      end
    end
    out[#out + 1] = string.format("# %d of %d cells behaved as specified; %d faults injected into %d requests",
      survived, cells, total_faults, total_requests)
    io.stdout:write(table.concat(out, "\n"), "\n")
    io.stdout:flush()
  end)
end)
