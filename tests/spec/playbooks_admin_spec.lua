-- playbooks_admin_spec.lua: scripts/playbooks/offboard-member.lua and
-- scripts/playbooks/enable-organization.lua run as child processes against an emulator in
-- this process. Oracles: the scenario files (who is a member in which status, who belongs to
-- the organization, who is a GuardDuty customer, which roles trust whom) and the emulator's
-- state read after each run, through the administrator's, the member's and the management
-- account's own clients.
local S = require("playbooks_support")
local files = require("files")

local OFFBOARD = "scripts/playbooks/offboard-member.lua"
local ENABLE_ORG = "scripts/playbooks/enable-organization.lua"
local AUDIT_SCENARIO = "tests/data/playbooks/audit.json"
local ORG_SCENARIO = "tests/data/playbooks/organization.json"
local ORG_CSV = "tests/data/playbooks/org-accounts.csv"

-- Scenario graph members by account id (status defaults to ENABLED, as documented).
local function seeded_members(sc)
  local by = {}
  for _, m in ipairs(sc.detective.graphs[1].members) do
    by[m.account_id] = { status = m.status or "ENABLED" }
  end
  return by
end

local function trusting_role(sc, account)
  local admin = sc.administrator
  for _, r in ipairs(sc.roles or {}) do
    if r.arn == "arn:aws:iam::" .. account .. ":role/DetectiveMember" then
      for _, t in ipairs(r.trusts) do if t == admin then return r.arn end end
    end
  end
  return nil
end

local function is_member(srv, id)
  local m = S.members(srv, { id })
  return m[id] ~= nil, m[id]
end

describe("offboard-member", function()
  local srv, sc, seeded
  before_each(function()
    srv = S.server(AUDIT_SCENARIO)
    sc = srv.scenario
    seeded = seeded_members(sc)
  end)
  after_each(function() srv:stop() end)

  -- An ENABLED member whose role trusts the administrator, and one without such a role.
  local function pick(with_role)
    local ids = {}
    for id, m in pairs(seeded) do
      if m.status == "ENABLED" and (trusting_role(sc, id) ~= nil) == with_role then ids[#ids + 1] = id end
    end
    table.sort(ids)
    return ids[1]
  end

  it("--disassociate leaves from the member side through the assumed role", function()
    local id = pick(true)
    local role = trusting_role(sc, id)
    local member = srv:role_client("detective", role)
    local _, graph = S.members(srv, {})
    local function member_sees_graph()
      for _, inv in ipairs(member:list_invitations{}.Invitations or {}) do
        if inv.GraphArn == graph then return true end
      end
      return false
    end
    assert.is_true(member_sees_graph())
    local r = srv:run(OFFBOARD, { "--account=" .. id, "--disassociate" }, { "--yes" })
    assert.equal(0, r.code, r.describe)
    S.assert_no_secrets(r, sc)
    assert.equal("removed", r.json.result)
    assert.equal(true, r.json.disassociated)
    assert.equal(false, r.json.deleted)
    assert.equal("ENABLED", r.json.before.status)
    assert.is_false((is_member(srv, id)))
    assert.is_false(member_sees_graph())
  end)

  it("falls back to DeleteMembers when the member role cannot be assumed", function()
    local id = pick(false)
    local r = srv:run(OFFBOARD, { "--account=" .. id, "--disassociate" }, { "--yes" })
    assert.equal(0, r.code, r.describe)
    assert.equal("removed", r.json.result)
    assert.equal(false, r.json.disassociated)
    assert.equal(true, r.json.deleted)
    assert.truthy(r.json.disassociate_error:find("AccessDenied", 1, true))
    assert.is_false((is_member(srv, id)))
  end)

  it("removes a member in any status with DeleteMembers", function()
    for id, m in pairs(seeded) do
      if m.status ~= "ENABLED" then
        local r = srv:run(OFFBOARD, { "--account=" .. id, "--format=json" }, { "--yes" })
        assert.equal(0, r.code, r.describe)
        assert.equal(m.status, r.json.before.status)
        assert.equal(true, r.json.deleted)
        assert.equal(1, #r.lines)
        assert.is_false((is_member(srv, id)))
      end
    end
  end)

  it("changes nothing without confirmation or under --dry-run", function()
    local id = pick(true)
    local r = srv:run(OFFBOARD, { "--account=" .. id })
    assert.equal(1, r.code, r.describe)
    assert.equal("not_confirmed", r.json.result)
    assert.truthy(r.stderr:find("--yes", 1, true))
    assert.is_true((is_member(srv, id)))
    r = srv:run(OFFBOARD, { "--account=" .. id, "--disassociate" }, { "--dry-run", "--yes" })
    assert.equal(0, r.code, r.describe)
    assert.equal("planned", r.json.result)
    local still, m = is_member(srv, id)
    assert.is_true(still)
    assert.equal(seeded[id].status, m.Status)
  end)

  it("reports an account that is not a member without failing", function()
    local outsider
    for _, a in ipairs(sc.accounts) do
      if a.id ~= sc.administrator and not seeded[a.id] then outsider = a.id end
    end
    outsider = outsider or "123456789012"
    local r = srv:run(OFFBOARD, { "--account=" .. outsider }, { "--yes" })
    assert.equal(0, r.code, r.describe)
    assert.equal("not_a_member", r.json.result)
    assert.equal(false, r.json.before)
  end)

  it("rejects bad arguments with exit status 2", function()
    for _, a in ipairs({ {}, { "--account=12345" }, { "--account" }, { "--account=123456789012", "--extra=1" } }) do
      local r = srv:run(OFFBOARD, a, { "--yes" })
      assert.equal(2, r.code, (a[1] or "(none)") .. ": " .. r.describe)
    end
  end)
end)

describe("enable-organization", function()
  local srv, sc
  before_each(function()
    srv = S.server(ORG_SCENARIO)
    sc = srv.scenario
  end)
  after_each(function() srv:stop() end)

  local function mgmt_role()
    return "arn:aws:iam::" .. sc.organization.management_account .. ":role/OrganizationAccountAccessRole"
  end

  -- What each listed account must end as: organization accounts ENABLED (GuardDuty
  -- customers) or ACCEPTED_BUT_DISABLED / VOLUME_UNKNOWN; others invited.
  local function expected(ids)
    local in_org, gd = {}, {}
    for _, id in ipairs(sc.organization.members) do in_org[id] = true end
    for _, a in ipairs(sc.accounts) do gd[a.id] = a.guardduty_since ~= nil end
    local out = {}
    for _, id in ipairs(ids) do
      if not in_org[id] then out[id] = { type = "INVITATION", status = "INVITED" }
      elseif gd[id] then out[id] = { type = "ORGANIZATION", status = "ENABLED" }
      else out[id] = { type = "ORGANIZATION", status = "ACCEPTED_BUT_DISABLED", reason = "VOLUME_UNKNOWN" } end
    end
    return out
  end

  local function csv_ids()
    local ids = {}
    for _, r in ipairs((S.parse_csv(assert(files.read(files.src(ORG_CSV)))))) do ids[#ids + 1] = r.AccountId end
    return ids
  end

  local function check_members(r, want)
    local ids = {}
    for id in pairs(want) do ids[#ids + 1] = id end
    local state = S.members(srv, ids)
    local report = {}
    for _, a in ipairs(r.json.accounts) do report[a.account_id] = a end
    for id, w in pairs(want) do
      assert.equal(w.status, state[id].Status, id)
      assert.equal(w.type, state[id].InvitationType, id)
      assert.equal(w.status, report[id].status, id)
      if w.reason then assert.equal(w.reason, state[id].DisabledReason, id) end
    end
  end

  it("designates the administrator, turns on auto-enable and enables the existing accounts", function()
    local r = srv:run(ENABLE_ORG, { "--management-role=" .. mgmt_role(), "--csv=" .. files.src(ORG_CSV) })
    assert.equal(1, r.code, r.describe) -- not every account can be ENABLED
    S.assert_no_secrets(r, sc)
    assert.equal("now", r.json.designated)
    assert.equal(sc.administrator, r.json.admin_account)
    local mgmt = srv:role_client("detective", mgmt_role())
    local admins = mgmt:list_organization_admin_accounts{}.Administrators
    assert.equal(1, #admins)
    assert.equal(sc.administrator, admins[1].AccountId)
    local d = srv:client("detective")
    local graph = d:list_graphs{}.GraphList[1].Arn
    assert.equal(graph, r.json.graph_arn)
    assert.equal(true, d:describe_organization_configuration{ GraphArn = graph }.AutoEnable)
    local want = expected(csv_ids())
    check_members(r, want)

    -- again: nothing to designate, same outcome
    r = srv:run(ENABLE_ORG, { "--management-role=" .. mgmt_role(), "--csv=" .. files.src(ORG_CSV), "--format=json" })
    assert.equal(1, r.code, r.describe)
    assert.equal("already", r.json.designated)
    assert.equal(1, #r.lines)
    check_members(r, want)

    -- another administrator for the Region is refused
    local other
    for _, id in ipairs(sc.organization.members) do if id ~= sc.administrator then other = id end end
    r = srv:run(ENABLE_ORG, { "--management-role=" .. mgmt_role(), "--admin-account=" .. other })
    assert.equal(1, r.code, r.describe)
    assert.truthy(r.stderr:find("already " .. sc.administrator, 1, true))
    assert.equal(sc.administrator, mgmt:list_organization_admin_accounts{}.Administrators[1].AccountId)
  end)

  it("an organization account removed by offboard-member can be enabled again", function()
    srv:run(ENABLE_ORG, { "--management-role=" .. mgmt_role(), "--csv=" .. files.src(ORG_CSV) })
    local want = expected(csv_ids())
    local id
    for k, w in pairs(want) do if w.status == "ENABLED" then id = k end end
    local r = srv:run(OFFBOARD, { "--account=" .. id, "--disassociate" }, { "--yes" })
    assert.equal(0, r.code, r.describe)
    assert.equal("organization account", r.json.disassociate_skipped)
    assert.equal(true, r.json.deleted)
    assert.is_nil(S.members(srv, { id })[id])
    r = srv:run(ENABLE_ORG, { "--management-role=" .. mgmt_role(), "--csv=" .. files.src(ORG_CSV) })
    check_members(r, want)
  end)

  it("--auto-enable=false leaves new accounts to the administrator", function()
    local r = srv:run(ENABLE_ORG, { "--management-role=" .. mgmt_role(), "--auto-enable=false" })
    assert.equal(0, r.code, r.describe) -- no accounts listed: nothing can straggle
    assert.equal(false, r.json.auto_enable)
    local d = srv:client("detective")
    local graph = d:list_graphs{}.GraphList[1].Arn
    assert.equal(false, d:describe_organization_configuration{ GraphArn = graph }.AutoEnable)
    assert.truthy(r.stdout:find("--csv", 1, true))
  end)

  it("reports every bad CSV row with its line number and sends nothing", function()
    -- the rows onboard-members' spec describes: lines 3, 5, 7, 8 and 10 are wrong
    local log = files.tmpname()
    local r = srv:run(ENABLE_ORG, { "--management-role=" .. mgmt_role(),
      "--csv=" .. files.src("tests/data/playbooks/members-bad.csv") }, { "--audit-log", log })
    S.assert_bad_csv_refused(r, { 3, 5, 7, 8, 10 }, log)
  end)

  it("--dry-run designates nothing", function()
    local r = srv:run(ENABLE_ORG, { "--management-role=" .. mgmt_role(), "--csv=" .. files.src(ORG_CSV) }, { "--dry-run" })
    assert.equal(0, r.code, r.describe)
    assert.equal("planned", r.json.designated)
    local mgmt = srv:role_client("detective", mgmt_role())
    assert.equal(0, #mgmt:list_organization_admin_accounts{}.Administrators)
    assert.equal(0, #srv:client("detective"):list_graphs{}.GraphList)
  end)

  it("without the management role the administrator's own credentials are refused", function()
    local r = srv:run(ENABLE_ORG, {})
    assert.equal(1, r.code, r.describe)
    assert.truthy(r.stderr:find("AccessDenied", 1, true))
  end)

  it("under --local without --csv enables the scenario's organization accounts", function()
    local ids = {}
    for _, id in ipairs(sc.organization.members) do if id ~= sc.administrator then ids[#ids + 1] = id end end
    local want = expected(ids)
    local r = S.run_local(ORG_SCENARIO, ENABLE_ORG, { "--management-role=" .. mgmt_role() })
    local straggle = false
    for _, w in pairs(want) do if w.status ~= "ENABLED" then straggle = true end end
    assert.equal(straggle and 1 or 0, r.code, r.describe)
    assert.equal(#ids, r.json.total)
    for _, a in ipairs(r.json.accounts) do
      assert.equal(want[a.account_id].status, a.status, a.account_id)
      assert.equal(want[a.account_id].type, a.invitation_type, a.account_id)
    end
  end)
end)
