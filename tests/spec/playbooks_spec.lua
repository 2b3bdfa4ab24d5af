-- playbooks_spec.lua: scripts/playbooks/investigate-finding.lua run as a child process
-- against the emulator. Oracles: the scenario files (which finding is the newest
-- high-severity current one, who its principal is, the investigation fixture's indicators,
-- the sighting times the window is built from), read here independently of the playbook,
-- and the emulator's state after the run (archived finding, investigation state).
local S = require("playbooks_support")
local files = require("files")
local tables = require("tables")
local time = require("aws.time")

local SCRIPT = "scripts/playbooks/investigate-finding.lua"
local SCENARIO = "tests/data/playbooks/investigate.json"

-- The finding the playbook should pick in `sc`: unarchived, severity >= min, newest
-- updatedAt, then highest severity, then scenario order.
local function expected_finding(sc, min)
  local best
  for i, f in ipairs(sc.guardduty.findings) do
    local archived = f.service and f.service.archived == true
    if not archived and (f.severity or 5) >= (min or 7) then
      local t = time.parse(f.updatedAt)
      if not best or t > best.t or (t == best.t and f.severity > best.f.severity) then
        best = { f = f, t = t, i = i }
      end
    end
  end
  return best and best.f
end

local function entity_of(f)
  local ak = f.resource.accessKeyDetails
  local kind = ak.userType == "IAMUser" and "user" or "role"
  return "arn:aws:iam::" .. f.accountId .. ":" .. kind .. "/" .. ak.userName
end

-- Indicator fixture of `entity` grouped by type: {TYPE = {detail, ...}}.
local function fixture_indicators(sc, entity)
  local by = {}
  local inv = sc.investigations[entity]
  for _, ind in ipairs(inv and inv.indicators or {}) do
    local _, detail = next(ind.IndicatorDetail)
    by[ind.IndicatorType] = by[ind.IndicatorType] or {}
    table.insert(by[ind.IndicatorType], detail)
  end
  return by, inv
end

local count = tables.count

-- Checks the emitted indicators and the summary text against the fixture.
local function check_indicators(r, sc, entity)
  local by, inv = fixture_indicators(sc, entity)
  local ind = r.json.indicators
  local total = 0
  for _, list in pairs(by) do total = total + #list end
  assert.equal(total, r.json.indicator_count)
  assert.equal(inv.severity, r.json.investigation.severity)
  assert.equal(#(by.TTP_OBSERVED or {}), count(ind.ttps))
  for i, d in ipairs(by.TTP_OBSERVED or {}) do
    local got = ind.ttps[i]
    assert.equal(d.Tactic, got.tactic)
    assert.equal(d.Technique, got.technique)
    assert.equal(d.Procedure, got.procedure)
    assert.equal(d.APIName, got.api_name)
    assert.equal(d.IpAddress, got.ip_address)
    assert.equal(d.APISuccessCount, got.api_success_count)
    assert.equal(d.APIFailureCount, got.api_failure_count)
    assert.truthy(r.stdout:find(d.Tactic .. " / " .. d.Technique, 1, true), "summary names the TTP")
  end
  for i, d in ipairs(by.IMPOSSIBLE_TRAVEL or {}) do
    local got = ind.impossible_travel[i]
    assert.equal(d.StartingLocation, got.starting_location)
    assert.equal(d.EndingLocation, got.ending_location)
    assert.equal(d.StartingIpAddress, got.starting_ip_address)
    assert.equal(d.EndingIpAddress, got.ending_ip_address)
    assert.equal(d.HourlyTimeDelta, got.hourly_time_delta)
    assert.truthy(r.stdout:find(d.StartingLocation .. " (" .. d.StartingIpAddress .. ") -> " .. d.EndingLocation, 1, true))
  end
  for i, d in ipairs(by.FLAGGED_IP_ADDRESS or {}) do
    assert.equal(d.IpAddress, ind.flagged_ips[i].ip_address)
    assert.equal(d.Reason, ind.flagged_ips[i].reason)
    assert.truthy(r.stdout:find(d.IpAddress .. " (" .. d.Reason .. ")", 1, true))
  end
  for i, d in ipairs(by.NEW_GEOLOCATION or {}) do
    assert.equal(d.Location, ind.new_geolocations[i].location)
    assert.equal(d.IpAddress, ind.new_geolocations[i].ip_address)
    assert.equal(d.IsNewForEntireAccount, ind.new_geolocations[i].new_for_entire_account)
    assert.truthy(r.stdout:find(d.Location .. " from " .. d.IpAddress, 1, true))
  end
  for i, d in ipairs(by.NEW_ASO or {}) do
    assert.equal(d.Aso, ind.new_asos[i].aso)
    assert.truthy(r.stdout:find(d.Aso, 1, true))
  end
  for i, d in ipairs(by.NEW_USER_AGENT or {}) do
    assert.equal(d.UserAgent, ind.new_user_agents[i].user_agent)
    assert.truthy(r.stdout:find(d.UserAgent, 1, true))
  end
  for i, d in ipairs(by.RELATED_FINDING or {}) do
    assert.equal(d.Arn, ind.related_findings[i].arn)
    assert.equal(d.Type, ind.related_findings[i].type)
    assert.truthy(r.stdout:find(d.Arn, 1, true))
  end
  for i, d in ipairs(by.RELATED_FINDING_GROUP or {}) do
    assert.equal(d.Id, ind.related_finding_groups[i].id)
    assert.truthy(r.stdout:find(d.Id, 1, true))
  end
end

local function scope_of(f, window_s)
  local svc = f.service or {}
  local first = time.parse(svc.eventFirstSeen or f.createdAt)
  local last = time.parse(svc.eventLastSeen or f.updatedAt)
  return time.format(first - window_s), time.format(math.min(last + window_s, math.floor(time.now())))
end

describe("investigate-finding", function()
  it("with no arguments investigates the built-in scenario's newest high-severity finding (make demo)", function()
    local sc = S.builtin_scenario()
    local f = expected_finding(sc, 7)
    local entity = entity_of(f)
    local r = S.run_local(nil, SCRIPT, {})
    assert.equal(0, r.code, r.describe)
    S.assert_no_secrets(r, sc)
    assert.equal(f.id, r.json.finding.id)
    assert.equal(f.type, r.json.finding.type)
    assert.equal(entity, r.json.entity.arn)
    assert.equal("IAM_USER", r.json.entity.type)
    assert.equal("SUCCESSFUL", r.json.investigation.status)
    assert.equal("ACTIVE", r.json.investigation.state)
    local s0, s1 = scope_of(f, 24 * 3600)
    assert.equal(s0, r.json.investigation.scope_start)
    assert.equal(s1, r.json.investigation.scope_end)
    check_indicators(r, sc, entity)
    assert.truthy(r.stdout:find("Incident summary: GuardDuty finding " .. f.id, 1, true))
    assert.truthy(r.stdout:find(entity, 1, true))
    -- the principal's other current findings
    local others = {}
    for _, g in ipairs(sc.guardduty.findings) do
      if g.id ~= f.id and entity_of(g) == entity and not (g.service and g.service.archived) then others[g.id] = true end
    end
    assert.equal(count(others), count(r.json.principal_findings))
    for _, p in ipairs(r.json.principal_findings) do assert.truthy(others[p.id]) end
  end)

  it("picks the newest current finding at or above the threshold, builds the role ARN and reads every indicator page", function()
    local sc = S.scenario(SCENARIO)
    local f = expected_finding(sc, 7)
    assert.equal("AssumedRole", f.resource.accessKeyDetails.userType) -- the scenario is built so
    local entity = entity_of(f)
    local r = S.run_local(SCENARIO, SCRIPT, { "--window=2h" })
    assert.equal(0, r.code, r.describe)
    S.assert_no_secrets(r, sc)
    assert.equal(f.id, r.json.finding.id)
    assert.equal(entity, r.json.entity.arn)
    assert.equal("IAM_ROLE", r.json.entity.type)
    local s0, s1 = scope_of(f, 2 * 3600)
    assert.equal(s0, r.json.investigation.scope_start)
    assert.equal(s1, r.json.investigation.scope_end)
    -- page size 2 in the scenario: nine indicators take five pages
    assert.equal(2, sc.settings.detective.default_page_size)
    check_indicators(r, sc, entity)
  end)

  it("--min-severity moves the threshold; none above it is not an error", function()
    local sc = S.scenario(SCENARIO)
    local f = expected_finding(sc, 4)
    local r = S.run_local(SCENARIO, SCRIPT, { "--min-severity=4", "--json" })
    assert.equal(0, r.code, r.describe)
    assert.equal(f.id, r.json.finding.id)
    r = S.run_local(SCENARIO, SCRIPT, { "--min-severity=10" })
    assert.equal(0, r.code, r.describe)
    assert.equal(false, r.json.finding)
  end)

  it("--json prints only the JSON line; --finding chooses the finding", function()
    local sc = S.scenario(SCENARIO)
    local f
    for _, x in ipairs(sc.guardduty.findings) do if x.resource.accessKeyDetails.userName == "bob" then f = x end end
    local r = S.run_local(SCENARIO, SCRIPT, { "--finding=" .. f.id, "--json" })
    assert.equal(0, r.code, r.describe)
    local lines = {}
    for l in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal(1, #lines)
    assert.equal(f.id, r.json.finding.id)
    assert.equal(entity_of(f), r.json.entity.arn)
    assert.equal(f.severity, r.json.finding.severity)
  end)

  it("--entity investigates another principal", function()
    local sc = S.scenario(SCENARIO)
    local f = expected_finding(sc, 7)
    local other = "arn:aws:iam::" .. f.accountId .. ":user/someone-else"
    local r = S.run_local(SCENARIO, SCRIPT, { "--entity=" .. other, "--json" })
    assert.equal(0, r.code, r.describe)
    assert.equal(f.id, r.json.finding.id)
    assert.equal(other, r.json.entity.arn)
    assert.equal("IAM_USER", r.json.entity.type)
  end)

  it("reports a FAILED investigation and exits 1", function()
    local sc = S.scenario(SCENARIO)
    local f, entity
    for _, x in ipairs(sc.guardduty.findings) do
      local e = x.resource.accessKeyDetails.userType ~= "Root" and entity_of(x)
      if e and sc.investigations[e] and sc.investigations[e].status == "FAILED" then f, entity = x, e end
    end
    local r = S.run_local(SCENARIO, SCRIPT, { "--finding=" .. f.id })
    assert.equal(1, r.code, r.describe)
    assert.equal("FAILED", r.json.investigation.status)
    assert.equal(entity, r.json.entity.arn)
    assert.equal(0, r.json.indicator_count)
    assert.truthy(r.stdout:find("Problem", 1, true))
  end)

  it("refuses a finding whose principal Detective cannot investigate, without a stack trace", function()
    local sc = S.scenario(SCENARIO)
    local f
    for _, x in ipairs(sc.guardduty.findings) do if x.resource.accessKeyDetails.userType == "Root" then f = x end end
    local r = S.run_local(SCENARIO, SCRIPT, { "--finding=" .. f.id })
    assert.equal(1, r.code, r.describe)
    assert.truthy(r.stderr:find("--entity", 1, true))
    assert.falsy(r.stderr:find("stack traceback", 1, true))
    assert.equal(nil, r.json)
  end)

  it("rejects bad arguments with exit status 2 before calling anything", function()
    for _, a in ipairs({ { "--window=soon" }, { "--state=DONE" }, { "--bogus=1" }, { "--finding" },
        { "--entity=arn:aws:s3:::bucket" }, { "--min-severity=11" } }) do
      local r = S.run_local(SCENARIO, SCRIPT, a)
      assert.equal(2, r.code, a[1] .. ": " .. r.describe)
      assert.equal(nil, r.json)
    end
  end)

  describe("against a running emulator", function()
    local srv
    before_each(function() srv = S.server(SCENARIO) end)
    after_each(function() srv:stop() end)

    it("archives the finding and the investigation when asked and confirmed", function()
      local sc = srv.scenario
      local f = expected_finding(sc, 7)
      local r = srv:run(SCRIPT, { "--archive", "--state=ARCHIVED", "--create-graph" }, { "--yes" })
      assert.equal(0, r.code, r.describe)
      S.assert_no_secrets(r, sc)
      assert.equal(true, r.json.actions.archived_finding)
      assert.equal("ARCHIVED", r.json.actions.investigation_state)
      local gd = srv:client("guardduty")
      local det = gd:list_detectors{}.DetectorIds[1]
      local got = gd:get_findings{ DetectorId = det, FindingIds = { f.id } }.Findings[1]
      assert.equal(true, got.Service.Archived)
      local d = srv:client("detective")
      local inv = d:get_investigation{ GraphArn = r.json.graph_arn, InvestigationId = r.json.investigation.id }
      assert.equal("ARCHIVED", inv.State)
      assert.equal(entity_of(f), inv.EntityArn)
      assert.equal(r.json.investigation.scope_start, time.format(time.parse(inv.ScopeStartTime)))
    end)

    it("does not archive without confirmation (no terminal, no --yes)", function()
      local f = expected_finding(srv.scenario, 7)
      local r = srv:run(SCRIPT, { "--archive", "--create-graph" })
      assert.equal(0, r.code, r.describe)
      assert.equal(false, r.json.actions.archived_finding)
      assert.truthy(r.stderr:find("--yes", 1, true))
      local gd = srv:client("guardduty")
      local det = gd:list_detectors{}.DetectorIds[1]
      assert.equal(false, gd:get_findings{ DetectorId = det, FindingIds = { f.id } }.Findings[1].Service.Archived)
    end)

    it("--dry-run plans the investigation and changes nothing", function()
      local f = expected_finding(srv.scenario, 7)
      local log = files.tmpname()
      local r = srv:run(SCRIPT, { "--create-graph", "--archive", "--state=ARCHIVED" }, { "--dry-run", "--yes", "--audit-log", log })
      assert.equal(0, r.code, r.describe)
      assert.equal(true, r.json.dry_run)
      assert.equal(f.id, r.json.finding.id)
      assert.equal(entity_of(f), r.json.entity.arn)
      local s0, s1 = scope_of(f, 24 * 3600)
      assert.equal(s0, r.json.scope_start)
      assert.equal(s1, r.json.scope_end)
      for _, rec in ipairs(files.json_records(log)) do
        if not S.read_only(rec.operation) then assert.equal("dry-run", rec.outcome, rec.operation) end
      end
      os.remove(log)
      assert.equal(0, #srv:client("detective"):list_graphs{}.GraphList)
      local gd = srv:client("guardduty")
      local det = gd:list_detectors{}.DetectorIds[1]
      assert.equal(false, gd:get_findings{ DetectorId = det, FindingIds = { f.id } }.Findings[1].Service.Archived)
    end)

    it("needs a behavior graph: without one it stops (exit 1) unless --create-graph", function()
      local r = srv:run(SCRIPT, {})
      assert.equal(1, r.code, r.describe)
      assert.truthy(r.stderr:find("--create-graph", 1, true))
      assert.equal(0, #srv:client("detective"):list_graphs{}.GraphList)
      r = srv:run(SCRIPT, { "--create-graph", "--json" })
      assert.equal(0, r.code, r.describe)
      local graphs = srv:client("detective"):list_graphs{}.GraphList
      assert.equal(1, #graphs)
      assert.equal(graphs[1].Arn, r.json.graph_arn)
      -- the next run uses that graph
      r = srv:run(SCRIPT, { "--json" })
      assert.equal(0, r.code, r.describe)
      assert.equal(graphs[1].Arn, r.json.graph_arn)
    end)
  end)
end)
