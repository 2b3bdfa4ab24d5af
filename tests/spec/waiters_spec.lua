-- waiters_spec: aws.wait and the Detective waiters (wait_investigation, wait_members,
-- wait_datasource_packages) against the in-process emulator. Time passes through a sleep
-- hook that advances the emulator's clock (its investigation_delay_seconds and
-- verification_delay_seconds settings then decide the states), so nothing waits for real
-- and nothing asserts on timing. The expected states come from the emulator's documented
-- semantics (docs/emulator-detective.md), not from the waiters.
local K = require("kit_support")
local aws = require("aws")

local ALICE = "arn:aws:iam::444455556666:user/alice" -- fixture: CRITICAL, 8 indicators
local BROKEN = "arn:aws:iam::777788889999:role/Broken" -- fixture below: FAILED

local function scenario()
  local sc = K.scenario()
  sc.investigations[BROKEN] = { status = "FAILED" }
  return sc
end

local function start_investigation(d, g, entity)
  return d:start_investigation{ GraphArn = g, EntityArn = entity,
    ScopeStartTime = aws.time.ago("24h"), ScopeEndTime = aws.time.now() }.InvestigationId
end

describe("aws.wait", function()
  it("returns fn's results once it reports done, sleeping through aws.client.sleep", function()
    local pauses = K.fake_sleep(nil, function() end)
    local calls = 0
    local a, b = aws.wait(function(n)
      calls = n
      if n < 4 then return false, "step " .. n end
      return "done", 42
    end, { delay_s = 1, backoff = 2, max_delay_s = 3, timeout_s = 60 })
    pauses.restore()
    assert.equals("done", a)
    assert.equals(42, b)
    assert.equals(4, calls)
    assert.same({ 1, 2, 3 }, { pauses[1], pauses[2], pauses[3] }) -- 1, 1*2, min(3, 4)
  end)

  it("raises WaiterTimeout at the deadline with what was waited for and the last state", function()
    local pauses = K.fake_sleep(nil, function() end)
    local ok, err = pcall(aws.wait, function(n) return nil, "RUNNING#" .. n end,
      { timeout_s = 10, delay_s = 1, backoff = 2, max_delay_s = 4, what = "the thing to happen" })
    pauses.restore()
    assert.is_false(ok)
    assert.is_true(aws.is_error(err))
    assert.equals("waiter", err.kind)
    assert.equals("WaiterTimeout", err.code)
    assert.matches("the thing to happen", err.message, 1, true)
    assert.matches("RUNNING#5", err.message, 1, true) -- the check at the deadline is the last
    assert.same({ 1, 2, 4, 3 }, { pauses[1], pauses[2], pauses[3], pauses[4] })
    assert.equals(5, err.polls)
    assert.matches("WaiterTimeout", tostring(err), 1, true)
  end)

  it("raises WaiterFailure when fn says the state can no longer be reached", function()
    local ok, err = pcall(aws.wait, function() return nil, { Status = "FAILED" }, "it failed" end, { what = "x" })
    assert.is_false(ok)
    assert.equals("WaiterFailure", err.code)
    assert.equals("waiter", err.kind)
    assert.matches("it failed", err.message, 1, true)
    assert.matches("FAILED", err.message, 1, true)
    assert.same({ Status = "FAILED" }, err.last)
  end)

  it("rejects bad options before calling fn", function()
    local called = false
    local f = function() called = true; return true end
    assert.has_error(function() aws.wait(f, { timeout = 3 }) end)
    assert.has_error(function() aws.wait(f, { delay_s = 0 }) end)
    assert.has_error(function() aws.wait(f, { backoff = 0.5 }) end)
    assert.has_error(function() aws.wait(f, { timeout_s = "soon" }) end)
    assert.has_error(function() aws.wait("not a function") end)
    assert.is_false(called)
  end)
end)

describe("detective:wait_investigation", function()
  local env, g
  setup(function()
    env = K.start{ scenario_table = scenario(), settings = { detective = { investigation_delay_seconds = 120 } } }
    g = env:graph()
  end)
  teardown(function() env:stop() end)

  it("polls GetInvestigation until SUCCESSFUL and returns it", function()
    local id = start_investigation(env.detective, g, ALICE)
    local pauses = K.fake_sleep(env)
    local r = env.detective:wait_investigation{ GraphArn = g, InvestigationId = id, delay_s = 30, max_delay_s = 60 }
    pauses.restore()
    assert.equals("SUCCESSFUL", r.Status)
    assert.equals("CRITICAL", r.Severity)
    assert.equals(id, r.InvestigationId)
    assert.is_true(#pauses >= 2) -- 120 s of emulated time in pauses of 30, 45, ...
    local total = 0
    for _, p in ipairs(pauses) do total = total + p end
    assert.is_true(total >= 120)
  end)

  it("raises WaiterFailure when the investigation ends FAILED", function()
    local id = start_investigation(env.detective, g, BROKEN)
    local pauses = K.fake_sleep(env)
    local ok, err = pcall(env.detective.wait_investigation, env.detective, { GraphArn = g, InvestigationId = id },
      { delay_s = 60 })
    pauses.restore()
    assert.is_false(ok)
    assert.equals("WaiterFailure", err.code)
    assert.equals("waiter", err.kind)
    assert.matches(id, err.message, 1, true)
    assert.matches("FAILED", err.message, 1, true)
    assert.equals("FAILED", err.last.Status)
  end)

  it("raises WaiterTimeout naming the investigation and its last status", function()
    local id = start_investigation(env.detective, g, ALICE)
    local pauses = K.fake_sleep(nil, function() end) -- time does not pass for the emulator
    local ok, err = pcall(env.detective.wait_investigation, env.detective,
      { GraphArn = g, InvestigationId = id, timeout_s = 20, delay_s = 5 })
    pauses.restore()
    assert.is_false(ok)
    assert.equals("WaiterTimeout", err.code)
    assert.matches("investigation " .. id, err.message, 1, true)
    assert.matches("Status RUNNING", err.message, 1, true)
    assert.equals("Detective.wait_investigation", err.operation)
  end)

  it("passes service errors through unchanged", function()
    local ok, err = pcall(env.detective.wait_investigation, env.detective,
      { GraphArn = g, InvestigationId = string.rep("1", 21) })
    assert.is_false(ok)
    assert.equals("service", err.kind)
    assert.equals("ResourceNotFoundException", err.code)
  end)

  it("rejects unknown options and missing parameters before any request", function()
    local rec = K.record_requests()
    assert.has_error(function() env.detective:wait_investigation({ GraphArn = g, InvestigationId = "1" }, { sleep = 1 }) end)
    assert.has_error(function() env.detective:wait_investigation{ GraphArn = g } end)
    assert.has_error(function() env.detective:wait_investigation{ GraphArn = g, InvestigationId = "1", delay_s = -1 } end)
    rec.restore()
    assert.equals(0, rec.count)
  end)
end)

describe("detective:wait_members", function()
  local env, g, prod
  setup(function()
    env = K.start{ settings = { detective = { verification_delay_seconds = 30 } } }
    g = env:graph()
    prod = env:client("detective", K.PROD)
  end)
  teardown(function() env:stop() end)

  it("until='verified' waits out VERIFICATION_IN_PROGRESS, whatever the outcome", function()
    local r = env.detective:create_members{ GraphArn = g, Accounts = {
      { AccountId = K.PROD, EmailAddress = "prod@example.com" },
      { AccountId = K.DEV, EmailAddress = "wrong@example.com" } } }
    assert.equals("VERIFICATION_IN_PROGRESS", r.Members[1].Status)
    local pauses = K.fake_sleep(env)
    local res = env.detective:wait_members{ GraphArn = g, AccountIds = { K.PROD, K.DEV }, ["until"] = "verified" }
    pauses.restore()
    local by = {}
    for _, m in ipairs(res.MemberDetails) do by[m.AccountId] = m.Status end
    assert.same({ [K.PROD] = "INVITED", [K.DEV] = "VERIFICATION_FAILED" }, by)
    assert.is_true(#pauses >= 1)
  end)

  it("until='ENABLED' fails at once on VERIFICATION_FAILED", function()
    local pauses = K.fake_sleep(env)
    local ok, err = pcall(env.detective.wait_members, env.detective, { GraphArn = g, AccountIds = { K.PROD, K.DEV } })
    pauses.restore()
    assert.is_false(ok)
    assert.equals("WaiterFailure", err.code)
    assert.matches(K.DEV, err.message, 1, true)
    assert.matches("VERIFICATION_FAILED", err.message, 1, true)
    assert.equals(0, #pauses)
  end)

  it("until='ENABLED' waits for the members to accept", function()
    local pauses = K.fake_sleep(env, function(s, n)
      env:advance(s)
      if n == 1 then prod:accept_invitation{ GraphArn = g } end
    end)
    local res = env.detective:wait_members{ GraphArn = g, AccountIds = { K.PROD } }
    pauses.restore()
    assert.equals("ENABLED", res.MemberDetails[1].Status)
    assert.equals(1, #pauses)
  end)

  it("times out on ACCEPTED_BUT_DISABLED, naming the account and the reason", function()
    env.detective:create_members{ GraphArn = g, Accounts = { { AccountId = K.SANDBOX, EmailAddress = "sandbox@example.com" } } }
    env:advance(60)
    env:client("detective", K.SANDBOX):accept_invitation{ GraphArn = g } -- not a GuardDuty customer
    local pauses = K.fake_sleep(nil, function() end)
    local ok, err = pcall(env.detective.wait_members, env.detective,
      { GraphArn = g, AccountIds = { K.PROD, K.SANDBOX }, timeout_s = 30 })
    pauses.restore()
    assert.is_false(ok)
    assert.equals("WaiterTimeout", err.code)
    assert.matches("ACCEPTED_BUT_DISABLED", err.message, 1, true)
    assert.matches(K.SANDBOX .. " VOLUME_UNKNOWN", err.message, 1, true)
    assert.matches("ENABLED 1", err.message, 1, true)
  end)

  it("fails at once for accounts that are not members", function()
    local ok, err = pcall(env.detective.wait_members, env.detective, { GraphArn = g, AccountIds = { K.PROD, "123456789012" } })
    assert.is_false(ok)
    assert.equals("WaiterFailure", err.code)
    assert.matches("123456789012", err.message, 1, true)
  end)

  it("rejects a bad 'until' and bad account ids before any request", function()
    local rec = K.record_requests()
    assert.has_error(function() env.detective:wait_members{ GraphArn = g, AccountIds = { K.PROD }, ["until"] = "enabled" } end)
    assert.has_error(function() env.detective:wait_members{ GraphArn = g, AccountIds = { K.PROD, "12" } } end)
    rec.restore()
    assert.equals(0, rec.count)
  end)
end)

describe("detective:wait_datasource_packages", function()
  local env, g
  setup(function()
    env = K.start{ settings = { detective = { initial_eks_audit_state = "STOPPED" } } }
    g = env:graph()
  end)
  teardown(function() env:stop() end)

  it("waits until every listed package is STARTED and returns the package map", function()
    local pauses = K.fake_sleep(env, function(s, n)
      env:advance(s)
      if n == 2 then env.detective:update_datasource_packages{ GraphArn = g, DatasourcePackages = { "EKS_AUDIT" } } end
    end)
    local map = env.detective:wait_datasource_packages{ GraphArn = g, Packages = { "EKS_AUDIT", "DETECTIVE_CORE" } }
    pauses.restore()
    assert.equals("STARTED", map.EKS_AUDIT.DatasourcePackageIngestState)
    assert.equals("STARTED", map.DETECTIVE_CORE.DatasourcePackageIngestState)
    assert.equals(2, #pauses)
  end)

  it("times out naming the package and its state", function()
    env:admin("detective/set_package_state", { graph_arn = g, package = "ASFF_SECURITYHUB_FINDING", state = "STOPPED" })
    local pauses = K.fake_sleep(nil, function() end)
    local ok, err = pcall(env.detective.wait_datasource_packages, env.detective,
      { GraphArn = g, Packages = { "ASFF_SECURITYHUB_FINDING" } }, { timeout_s = 5 })
    pauses.restore()
    assert.is_false(ok)
    assert.equals("WaiterTimeout", err.code)
    assert.matches("ASFF_SECURITYHUB_FINDING STOPPED", err.message, 1, true)
  end)

  it("rejects packages the model does not know, before any request", function()
    local rec = K.record_requests()
    assert.has_error(function() env.detective:wait_datasource_packages{ GraphArn = g, Packages = { "EKS" } } end)
    assert.has_error(function() env.detective:wait_datasource_packages{ GraphArn = g, Packages = {} } end)
    rec.restore()
    assert.equals(0, rec.count)
  end)

  it("is a Detective waiter only", function()
    local gd = env:client("guardduty")
    assert.has_error(function() gd:wait_datasource_packages{ GraphArn = g, Packages = { "EKS_AUDIT" } } end)
  end)
end)

describe("waiters and the sleep hook", function()
  it("pauses through the installed sleep (whatever the scheduler put there)", function()
    local n = 0
    local v = aws.wait(function(i) n = i; return i >= 2 end, { delay_s = 0.01 })
    assert.is_true(v)
    assert.equals(2, n)
  end)
end)
