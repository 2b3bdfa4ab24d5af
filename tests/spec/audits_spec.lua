-- audits_spec.lua: scripts/audits/member-health.lua and scripts/audits/datasource-coverage.lua
-- run as child processes. Oracles: the scenario file (the seeded graph's members, their
-- statuses and disabled reasons, the stopped package, the one Region with a graph), the
-- emulator's own answers read by this spec, and fixture hooks that change package states
-- between runs.
local S = require("playbooks_support")

local HEALTH = "scripts/audits/member-health.lua"
local COVERAGE = "scripts/audits/datasource-coverage.lua"
local SCENARIO = "tests/data/playbooks/audit.json"
local REGIONS = "--regions=us-east-1,eu-west-1"

local function seeded(sc)
  local g = sc.detective.graphs[1]
  local members = {}
  for _, m in ipairs(g.members) do
    members[m.account_id] = { status = m.status or "ENABLED", reason = m.status == "ACCEPTED_BUT_DISABLED"
      and (m.disabled_reason or "VOLUME_UNKNOWN") or nil }
  end
  return g, members
end

local function rows_by(rows, key)
  local by = {}
  for _, r in ipairs(rows) do
    local k = r[key] or "-"
    by[k] = by[k] or {}
    table.insert(by[k], r)
  end
  return by
end

describe("member-health", function()
  local sc = S.scenario(SCENARIO)
  local graph, members = seeded(sc)

  local function check_rows(rows, all)
    local by_region = rows_by(rows, "region")
    -- the Region without a graph
    assert.equal(1, #by_region["eu-west-1"])
    assert.equal("NO_GRAPH", by_region["eu-west-1"][1].status)
    local listed = {}
    for _, r in ipairs(by_region[graph.region]) do
      local prefix = "arn:aws:detective:" .. graph.region .. ":" .. graph.administrator .. ":graph:"
      assert.equal(prefix, r.graph_arn:sub(1, #prefix))
      listed[r.account_id] = r
    end
    for id, m in pairs(members) do
      if m.status ~= "ENABLED" or all then
        assert.is_table(listed[id], id .. " is listed")
        assert.equal(m.status, listed[id].status, id)
        assert.equal(m.reason, listed[id].disabled_reason, id)
        if m.status ~= "ENABLED" then assert.truthy(listed[id].reason, id .. " has a reason") end
      else
        assert.is_nil(listed[id], id .. " is ENABLED and not listed")
      end
    end
  end

  it("reports who is not ENABLED and why, as JSON lines, one Region without a graph", function()
    local r = S.run_local(SCENARIO, HEALTH, { REGIONS, "--format=json" })
    assert.equal(0, r.code, r.describe)
    S.assert_no_secrets(r, sc)
    local n = 0
    for _ in r.stdout:gmatch("[^\n]+") do n = n + 1 end
    assert.equal(#r.lines, n) -- every stdout line is JSON
    check_rows(r.lines, false)
  end)

  it("writes the same rows as CSV and as a table", function()
    local r = S.run_local(SCENARIO, HEALTH, { REGIONS, "--format=csv" })
    assert.equal(0, r.code, r.describe)
    local rows, header = S.parse_csv(r.stdout)
    assert.same({ "region", "graph_arn", "account_id", "status", "disabled_reason", "invitation_type", "updated_time",
      "reason" }, header)
    check_rows(rows, false)
    r = S.run_local(SCENARIO, HEALTH, { REGIONS })
    assert.equal(0, r.code, r.describe)
    assert.truthy(r.stdout:find("^REGION%s+GRAPH%s+ACCOUNT%s+STATUS"))
    for id, m in pairs(members) do
      if m.status ~= "ENABLED" then assert.truthy(r.stdout:find(id .. "%s+" .. m.status), id) end
    end
    assert.truthy(r.stdout:find("eu%-west%-1.-NO_GRAPH"))
  end)

  it("--all lists ENABLED members too; the default Region is the client's", function()
    local r = S.run_local(SCENARIO, HEALTH, { REGIONS, "--format=json", "--all" })
    assert.equal(0, r.code, r.describe)
    check_rows(r.lines, true)
    r = S.run_local(SCENARIO, HEALTH, { "--format=json" })
    assert.equal(0, r.code, r.describe)
    for _, row in ipairs(r.lines) do assert.equal(sc.region, row.region) end
  end)

  it("says ALL_ENABLED for a graph with nothing to report", function()
    local srv = S.server(SCENARIO)
    local d = srv:client("detective")
    local g = d:list_graphs{}.GraphList[1].Arn
    local drop = {}
    for id, m in pairs(members) do if m.status ~= "ENABLED" then drop[#drop + 1] = id end end
    d:delete_members{ GraphArn = g, AccountIds = drop }
    local r = srv:run(HEALTH, { "--format=json" })
    srv:stop()
    assert.equal(0, r.code, r.describe)
    assert.equal(1, #r.lines)
    assert.equal("ALL_ENABLED", r.lines[1].status)
    assert.equal(g, r.lines[1].graph_arn)
  end)

  it("reports a Region it cannot read as ERROR and goes on", function()
    local r = S.run{ script = HEALTH, host = { "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1" },
      args = { REGIONS, "--format=json" }, env = { AWS_ACCESS_KEY_ID = "AKIAPLAYBOOKSNOWHERE",
        AWS_SECRET_ACCESS_KEY = "playbooks-nowhere-secret-not-real", AWS_MAX_ATTEMPTS = "1" } }
    assert.equal(0, r.code, r.describe)
    assert.equal(2, #r.lines)
    for _, row in ipairs(r.lines) do
      assert.equal("ERROR", row.status)
      assert.truthy(row.reason)
    end
    assert.falsy(r.stdout:find("playbooks-nowhere-secret-not-real", 1, true))
    assert.falsy(r.stderr:find("playbooks-nowhere-secret-not-real", 1, true))
  end)

  it("rejects bad arguments with exit status 2", function()
    for _, a in ipairs({ { "--format=xml" }, { "--regions=nowhere" }, { "--regions" }, { "--bogus" } }) do
      local r = S.run_local(SCENARIO, HEALTH, a)
      assert.equal(2, r.code, a[1] .. ": " .. r.describe)
    end
  end)
end)

describe("datasource-coverage", function()
  local sc = S.scenario(SCENARIO)
  local graph, members = seeded(sc)

  local function enabled_ids()
    local ids = {}
    for id, m in pairs(members) do if m.status == "ENABLED" then ids[#ids + 1] = id end end
    table.sort(ids)
    return ids
  end

  it("reports the graph's stopped package for the graph and each ENABLED member; no graph elsewhere", function()
    local r = S.run_local(SCENARIO, COVERAGE, { REGIONS, "--format=json" })
    assert.equal(0, r.code, r.describe)
    S.assert_no_secrets(r, sc)
    local by_region = rows_by(r.lines, "region")
    assert.equal("NO_GRAPH", by_region["eu-west-1"][1].state)
    local want = {} -- "scope/account/package" -> state
    for pkg, state in pairs(graph.datasource_packages) do
      if state ~= "STARTED" then
        want["graph/" .. graph.administrator .. "/" .. pkg] = state
        for _, id in ipairs(enabled_ids()) do want["member/" .. id .. "/" .. pkg] = state end
      end
    end
    local got = {}
    for _, row in ipairs(by_region[graph.region]) do
      got[row.scope .. "/" .. row.account_id .. "/" .. row.package] = row.state
      assert.truthy(row.reason)
      assert.truthy(row.since, "since is known for " .. row.account_id)
    end
    assert.same(want, got)
  end)

  it("follows package changes per member, and --all lists every package state", function()
    local srv = S.server(SCENARIO)
    local d = srv:client("detective")
    local g = d:list_graphs{}.GraphList[1].Arn
    local ids = enabled_ids()
    srv:admin_hook("detective/set_package_state", { graph_arn = g, package = "ASFF_SECURITYHUB_FINDING",
      state = "STOPPED", account_id = ids[1] })
    local stopped = {}
    for pkg, state in pairs(graph.datasource_packages) do if state ~= "STARTED" then stopped[#stopped + 1] = pkg end end
    d:update_datasource_packages{ GraphArn = g, DatasourcePackages = stopped }
    local r = srv:run(COVERAGE, { "--format=csv" })
    assert.equal(0, r.code, r.describe)
    local rows = S.parse_csv(r.stdout)
    assert.equal(1, #rows)
    assert.equal("member", rows[1].scope)
    assert.equal(ids[1], rows[1].account_id)
    assert.equal("ASFF_SECURITYHUB_FINDING", rows[1].package)
    assert.equal("STOPPED", rows[1].state)

    -- --all: one row per package of the graph and per package of each ENABLED member
    local packages = 0
    for _ in pairs(d:list_datasource_packages{ GraphArn = g }.DatasourcePackages) do packages = packages + 1 end
    r = srv:run(COVERAGE, { "--format=json", "--all" })
    assert.equal(0, r.code, r.describe)
    assert.equal(packages * (1 + #ids), #r.lines)
    -- everything started again: one ALL_STARTED row
    srv:admin_hook("detective/set_package_state", { graph_arn = g, package = "ASFF_SECURITYHUB_FINDING",
      state = "STARTED", account_id = ids[1] })
    r = srv:run(COVERAGE, { "--format=json" })
    srv:stop()
    assert.equal(0, r.code, r.describe)
    assert.equal(1, #r.lines)
    assert.equal("ALL_STARTED", r.lines[1].state)
  end)

  it("prints a table by default", function()
    local r = S.run_local(SCENARIO, COVERAGE, { REGIONS })
    assert.equal(0, r.code, r.describe)
    assert.truthy(r.stdout:find("^REGION%s+GRAPH%s+SCOPE%s+ACCOUNT%s+PACKAGE%s+STATE"))
    for pkg, state in pairs(graph.datasource_packages) do
      if state ~= "STARTED" then assert.truthy(r.stdout:find(pkg .. "%s+" .. state)) end
    end
    assert.truthy(r.stdout:find("NO_GRAPH", 1, true))
  end)
end)
