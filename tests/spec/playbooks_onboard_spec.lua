-- playbooks_onboard_spec.lua: scripts/playbooks/onboard-members.lua run as a child process.
-- Oracles: the scenario and the CSV (what each account's outcome must be under the
-- documented member semantics: a wrong email fails verification, a role that does not trust
-- the administrator cannot be assumed, an account that is not a GuardDuty customer is
-- ACCEPTED_BUT_DISABLED / VOLUME_UNKNOWN, the rest ENABLED), the emulator's state read after
-- the run, and the audit log (which calls were really sent).
local S = require("playbooks_support")
local files = require("files")
local tables = require("tables")

local SCRIPT = "scripts/playbooks/onboard-members.lua"
local SCENARIO = "tests/data/playbooks/onboard.json"
local CSV = "tests/data/playbooks/members.csv"
local BAD_CSV = "tests/data/playbooks/members-bad.csv"
-- members-bad.csv is written so that these lines are wrong: 3 (account id of 5 digits),
-- 5 (no email address), 7 (account of line 2 again), 8 (one field), 10 (unterminated quote).
-- Lines 4 and 6 are a blank line and a comment, 2 and 9 are good.
local BAD_LINES = { 3, 5, 7, 8, 10 }

-- {id -> {status, reason = "VOLUME_UNKNOWN" | "assume" | nil}} for the rows of `csv` in `sc`.
local function expected(sc, rows, role_name)
  role_name = role_name or "DetectiveMember"
  local admin = sc.administrator or sc.accounts[1].id
  local acct, roles = {}, {}
  for _, a in ipairs(sc.accounts) do acct[a.id] = a end
  for _, r in ipairs(sc.roles or {}) do
    local t = {}
    for _, x in ipairs(r.trusts) do t[x] = true end
    roles[r.arn] = t
  end
  local out = {}
  for _, row in ipairs(rows) do
    local id, email = row.AccountId, row.EmailAddress
    local a = acct[id]
    local role = roles["arn:aws:iam::" .. id .. ":role/" .. role_name]
    if not a or not a.email or a.email:lower() ~= email:lower() then
      out[id] = { status = "VERIFICATION_FAILED" }
    elseif not role or not role[admin] then
      out[id] = { status = "INVITED", reason = "assume" }
    elseif not a.guardduty_since then
      out[id] = { status = "ACCEPTED_BUT_DISABLED", reason = "VOLUME_UNKNOWN" }
    else
      out[id] = { status = "ENABLED" }
    end
  end
  return out
end

local function csv_rows(rel)
  return (S.parse_csv(assert(files.read(files.src(rel)))))
end

local function ids_of(rows)
  local ids = {}
  for i, r in ipairs(rows) do ids[i] = r.AccountId end
  return ids
end

local function by_account(list)
  return tables.index(list, "account_id")
end

-- Checks a finished run's report and the emulator state against the expectation.
local function check_outcome(srv, r, want, role_name)
  local state = S.members(srv, (function() local t = {}; for id in pairs(want) do t[#t + 1] = id end; return t end)())
  local report = by_account(r.json.accounts)
  local stragglers = {}
  for _, id in ipairs(r.json.stragglers) do stragglers[id] = true end
  for id, w in pairs(want) do
    local m = state[id]
    assert.is_table(m, id .. " should be a member")
    assert.equal(w.status, m.Status, id)
    assert.equal(w.status, report[id].status, id)
    assert.equal(w.status == "ENABLED", report[id].ok, id)
    assert.equal(w.status ~= "ENABLED", stragglers[id] == true, id)
    if w.reason == "VOLUME_UNKNOWN" then
      assert.equal("VOLUME_UNKNOWN", m.DisabledReason)
      assert.equal("VOLUME_UNKNOWN", report[id].disabled_reason)
      assert.truthy(report[id].reason:find("VOLUME_UNKNOWN", 1, true))
    elseif w.reason == "assume" then
      assert.truthy(report[id].reason:find("AccessDenied", 1, true), report[id].reason)
      assert.truthy(report[id].reason:find("arn:aws:iam::" .. id .. ":role/" .. (role_name or "DetectiveMember"), 1, true))
    elseif w.status == "VERIFICATION_FAILED" then
      assert.truthy(report[id].reason:find("root email", 1, true))
    end
    -- the table on stdout has the account with its status
    assert.truthy(r.stdout:find(id .. "%s+%S+%s+" .. w.status), "table row for " .. id)
  end
end

describe("onboard-members", function()
  it("reports every bad CSV row with its line number and sends nothing", function()
    local log = files.tmpname()
    local r = S.run_local(SCENARIO, SCRIPT, { "--csv=" .. files.src(BAD_CSV) }, { "--audit-log", log })
    S.assert_bad_csv_refused(r, BAD_LINES, log)
  end)

  it("rejects missing or contradictory arguments with exit status 2", function()
    for _, a in ipairs({ {}, { "--concurrency=0" }, { "--timeout=later" }, { "--csv" }, { "--role-name=a b" },
        { "--csv=" .. files.src("tests/data/playbooks/no-such.csv") } }) do
      local r = S.run_local(SCENARIO, SCRIPT, a)
      assert.equal(2, r.code, (a[1] or "(none)") .. ": " .. r.describe)
    end
  end)

  it("--organization under --local onboards the built-in scenario's organization accounts", function()
    local sc = S.builtin_scenario()
    local admin = sc.administrator
    local emails = {}
    for _, a in ipairs(sc.accounts) do emails[a.id] = a.email end
    local rows = {}
    for _, id in ipairs(sc.organization.members) do
      if id ~= admin then rows[#rows + 1] = { AccountId = id, EmailAddress = emails[id] } end
    end
    local want = expected(sc, rows)
    local r = S.run_local(nil, SCRIPT, { "--organization" })
    S.assert_no_secrets(r, sc)
    local any_straggler = false
    for _, w in pairs(want) do if w.status ~= "ENABLED" then any_straggler = true end end
    assert.equal(any_straggler and 1 or 0, r.code, r.describe)
    local report = by_account(r.json.accounts)
    assert.equal(#rows, r.json.total)
    for id, w in pairs(want) do
      assert.equal(w.status, report[id].status, id)
    end
  end)

  describe("against a running emulator", function()
    local srv
    after_each(function() if srv then srv:stop(); srv = nil end end)

    it("invites, accepts through the member roles, and names each straggler's reason", function()
      srv = S.server(SCENARIO)
      local rows = csv_rows(CSV)
      local want = expected(srv.scenario, rows)
      -- the scenario covers every outcome
      local seen = {}
      for _, w in pairs(want) do seen[w.reason or w.status] = true end
      for _, k in ipairs({ "ENABLED", "VERIFICATION_FAILED", "assume", "VOLUME_UNKNOWN" }) do assert.truthy(seen[k], k) end

      local r = srv:run(SCRIPT, { "--csv=" .. files.src(CSV), "--concurrency=3" })
      assert.equal(1, r.code, r.describe) -- stragglers remain
      S.assert_no_secrets(r, srv.scenario)
      assert.equal(#rows, r.json.total)
      local enabled = 0
      for _, w in pairs(want) do if w.status == "ENABLED" then enabled = enabled + 1 end end
      assert.equal(enabled, r.json.enabled)
      check_outcome(srv, r, want)

      -- a second run changes nothing that was settled and reports the same
      local before = S.members(srv, ids_of(rows))
      local r2 = srv:run(SCRIPT, { "--csv=" .. files.src(CSV) })
      assert.equal(1, r2.code, r2.describe)
      check_outcome(srv, r2, want)
      local after = S.members(srv, ids_of(rows))
      for id, w in pairs(want) do
        if w.status == "ENABLED" or w.status == "ACCEPTED_BUT_DISABLED" then
          assert.equal(before[id].UpdatedTime, after[id].UpdatedTime, id)
        end
      end
    end)

    it("--dry-run reads and plans but sends no mutating call", function()
      srv = S.server(SCENARIO)
      local log = files.tmpname()
      local r = srv:run(SCRIPT, { "--csv=" .. files.src(CSV) }, { "--dry-run", "--audit-log", log })
      assert.equal(0, r.code, r.describe)
      assert.equal(true, r.json.dry_run)
      for _, a in ipairs(r.json.accounts) do assert.equal("invite", a.action) end
      assert.equal(0, #srv:client("detective"):list_graphs{}.GraphList)
      local recs = files.json_records(log)
      assert.truthy(#recs > 0)
      for _, rec in ipairs(recs) do
        if not S.read_only(rec.operation) then
          assert.equal("dry-run", rec.outcome, rec.operation .. " was sent")
        end
      end
      os.remove(log)

      -- after a real run, the plan follows the members' states and still changes nothing
      local rows = csv_rows(CSV)
      local want = expected(srv.scenario, rows)
      srv:run(SCRIPT, { "--csv=" .. files.src(CSV) })
      local before = S.members(srv, ids_of(rows))
      log = files.tmpname()
      r = srv:run(SCRIPT, { "--csv=" .. files.src(CSV), "--format=json" }, { "--dry-run", "--audit-log", log })
      assert.equal(0, r.code, r.describe)
      assert.equal(1, #r.lines) -- --format=json: the JSON line only
      local plan = by_account(r.json.accounts)
      for id, w in pairs(want) do
        local action = (w.status == "VERIFICATION_FAILED" and "invite") or (w.status == "INVITED" and "accept") or "none"
        assert.equal(action, plan[id].action, id)
      end
      for _, rec in ipairs(files.json_records(log)) do
        if not S.read_only(rec.operation) then assert.equal("dry-run", rec.outcome, rec.operation) end
      end
      local after = S.members(srv, ids_of(rows))
      for id in pairs(want) do
        assert.equal(before[id].Status, after[id].Status)
        assert.equal(before[id].UpdatedTime, after[id].UpdatedTime)
      end
      os.remove(log)
    end)

    it("waits for verification, and reports accounts still pending at the deadline", function()
      srv = S.server(SCENARIO, { detective = { verification_delay_seconds = 2 } })
      local rows = csv_rows(CSV)
      local r = srv:run(SCRIPT, { "--csv=" .. files.src(CSV), "--timeout=30s" })
      assert.equal(1, r.code, r.describe)
      check_outcome(srv, r, expected(srv.scenario, rows))
      srv:stop()

      srv = S.server(SCENARIO, { detective = { verification_delay_seconds = 3600 } })
      r = srv:run(SCRIPT, { "--csv=" .. files.src(CSV), "--timeout=1s" })
      assert.equal(1, r.code, r.describe)
      assert.equal(0, r.json.enabled)
      for _, a in ipairs(r.json.accounts) do
        assert.equal("VERIFICATION_IN_PROGRESS", a.status)
        assert.truthy(a.reason:find("deadline", 1, true))
      end
    end)

    it("--organization needs the account list from somewhere outside --local", function()
      srv = S.server(SCENARIO)
      local r = srv:run(SCRIPT, { "--organization" })
      assert.equal(2, r.code, r.describe)
      assert.truthy(r.stderr:find("--csv", 1, true))
      assert.equal(0, #srv:client("detective"):list_graphs{}.GraphList)
    end)
  end)
end)
