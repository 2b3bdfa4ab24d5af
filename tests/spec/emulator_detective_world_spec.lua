-- The Detective emulator over the real world modules of the emulator (state.lua, scenario.lua,
-- errors.lua, and guardduty.lua when the model module is present): the built-in scenario's
-- accounts, organization and investigation fixture drive a member workflow, an investigation and
-- the organization graph; the scenario's "detective" section seeds graphs; a GuardDuty detector
-- created through the emulator makes an account a GuardDuty customer for Detective's 48 h rule.
-- Expected values come from the reference (detective-semantics.md) and the built-in scenario's
-- documented contents, not from the code under test.
local H = require "detective_world"
local time = require "aws.time"

local ok_state, state = pcall(require, "detlua.emulator.state")
local ok_scen, scenario = pcall(require, "detlua.emulator.scenario")
local ok_err, errors = pcall(require, "detlua.emulator.errors")
local available = ok_state and ok_scen and ok_err

local ADMIN, PROD, DEV, SANDBOX, MGMT = "111122223333", "444455556666", "777788889999", "555566667777", "999988887777"
local ALICE = "arn:aws:iam::" .. PROD .. ":user/alice"
local NOW = time.timegm(2026, 1, 15, 12, 0, 0)

local function real(sc)
    local S = H.install(errors)
    local world = state.new(sc)
    return H.service(S, world), world
end

describe("detective emulator over the real world modules", function()
    if not available then
        it("needs state.lua, scenario.lua and errors.lua", function() pending("emulator world modules not available") end)
        return
    end
    teardown(function() H.install() end)

    it("runs the invitation workflow with the built-in scenario's accounts", function()
        local api = real(scenario.default())
        local arn = api.call(ADMIN, NOW, "CreateGraph", {}).GraphArn
        assert.truthy(arn:match("^arn:aws:detective:us%-east%-1:" .. ADMIN .. ":graph:%x+$"))
        local out = api.call(ADMIN, NOW, "CreateMembers", { GraphArn = arn, Accounts = {
            { AccountId = PROD, EmailAddress = "prod@example.com" }, { AccountId = DEV, EmailAddress = "dev@example.com" },
            { AccountId = SANDBOX, EmailAddress = "sandbox@example.com" } } })
        assert.equal(3, #out.Members)
        for _, id in ipairs({ PROD, DEV, SANDBOX }) do
            assert.equal("INVITED", api.call(id, NOW + 1, "ListInvitations", {}).Invitations[1].Status)
            api.call(id, NOW + 2, "AcceptInvitation", { GraphArn = arn })
        end
        local list = {}
        for _, m in ipairs(api.call(ADMIN, NOW + 3, "ListMembers", { GraphArn = arn }).MemberDetails) do list[m.AccountId] = m end
        assert.equal("ENABLED", list[PROD].Status)
        assert.equal("ENABLED", list[DEV].Status)
        -- the sandbox account is not a GuardDuty customer
        assert.equal("ACCEPTED_BUT_DISABLED", list[SANDBOX].Status)
        assert.equal("VOLUME_UNKNOWN", list[SANDBOX].DisabledReason)
        local err = H.expect_error("AccessDeniedException", function()
            api.call(PROD, NOW + 4, "ListMembers", { GraphArn = arn })
        end)
        assert.is_string(err.message)
    end)

    it("investigates alice with the built-in fixture: CRITICAL, 8 indicators", function()
        local api = real(scenario.default())
        local arn = api.call(ADMIN, NOW, "CreateGraph", {}).GraphArn
        local id = api.call(ADMIN, NOW, "StartInvestigation", { GraphArn = arn, EntityArn = ALICE,
            ScopeStartTime = NOW - 86400, ScopeEndTime = NOW }).InvestigationId
        assert.equal(21, #id)
        local got = api.call(ADMIN, NOW + 60, "GetInvestigation", { GraphArn = arn, InvestigationId = id })
        assert.equal("SUCCESSFUL", got.Status)
        assert.equal("CRITICAL", got.Severity)
        local ind = api.call(ADMIN, NOW + 60, "ListIndicators", { GraphArn = arn, InvestigationId = id }).Indicators
        assert.equal(8, #ind)
    end)

    it("makes the security account the organization's Detective administrator", function()
        local api = real(scenario.default())
        local arn = api.call(ADMIN, NOW, "CreateGraph", {}).GraphArn
        api.call(ADMIN, NOW, "CreateMembers", { GraphArn = arn, Accounts = {
            { AccountId = PROD, EmailAddress = "prod@example.com" } } })
        H.expect_error("AccessDeniedException", function()
            api.call(ADMIN, NOW + 1, "EnableOrganizationAdminAccount", { AccountId = ADMIN })
        end)
        api.call(MGMT, NOW + 1, "EnableOrganizationAdminAccount", { AccountId = ADMIN })
        local admins = api.call(MGMT, NOW + 2, "ListOrganizationAdminAccounts", {}).Administrators
        assert.equal(ADMIN, admins[1].AccountId)
        assert.equal(arn, admins[1].GraphArn)
        local m = api.call(ADMIN, NOW + 2, "GetMembers", { GraphArn = arn, AccountIds = { PROD } }).MemberDetails[1]
        assert.equal("ORGANIZATION", m.InvitationType)
        assert.equal("ENABLED", m.Status)
    end)

    it("seeds graphs from the scenario's detective section", function()
        local raw = scenario.default_raw()
        raw.detective = { graphs = { {
            administrator = ADMIN, created = "2025-03-01T00:00:00Z", tags = { Team = "secops" },
            datasource_packages = { EKS_AUDIT = "STOPPED" },
            members = { { account_id = PROD }, { account_id = SANDBOX, status = "ACCEPTED_BUT_DISABLED" } },
        } } }
        local api = real(scenario.validate(raw, "(test)"))
        local graphs = api.call(ADMIN, NOW, "ListGraphs", {}).GraphList
        assert.equal(1, #graphs)
        assert.equal(time.timegm(2025, 3, 1, 0, 0, 0), graphs[1].CreatedTime)
        local arn = graphs[1].Arn
        local list = {}
        for _, m in ipairs(api.call(ADMIN, NOW, "ListMembers", { GraphArn = arn }).MemberDetails) do list[m.AccountId] = m end
        assert.equal("ENABLED", list[PROD].Status)
        assert.equal("prod@example.com", list[PROD].EmailAddress)
        assert.equal("ACCEPTED_BUT_DISABLED", list[SANDBOX].Status)
        assert.equal("VOLUME_UNKNOWN", list[SANDBOX].DisabledReason)
        assert.equal("STOPPED", api.call(ADMIN, NOW, "ListDatasourcePackages", { GraphArn = arn })
            .DatasourcePackages.EKS_AUDIT.DatasourcePackageIngestState)
        assert.same({ Team = "secops" }, api.call(ADMIN, NOW, "ListTagsForResource", { ResourceArn = arn }).Tags)
        -- the seed is applied once: the graph is not duplicated
        assert.equal(1, #api.call(ADMIN, NOW + 1, "ListGraphs", {}).GraphList)
    end)

    it("refuses a malformed detective section when the service starts", function()
        local raw = scenario.default_raw()
        raw.detective = { graphs = { { administrator = "12345" } } }
        local sc = scenario.validate(raw, "(test)")
        local S = H.install(errors)
        local ok, msg = pcall(S.new, state.new(sc))
        assert.is_false(ok)
        assert.truthy(tostring(msg):find("detective.graphs[0].administrator", 1, true))
    end)

    it("counts a GuardDuty detector created in the emulator towards the 48 h rule", function()
        local ok_gd, GD = pcall(require, "detlua.emulator.guardduty")
        if not ok_gd then
            pending("guardduty emulator module not available: " .. tostring(GD):match("^[^\n]*"))
            return
        end
        local api, world = real(scenario.default())
        local gd = GD.new(world)
        local arn = api.call(ADMIN, NOW, "CreateGraph", {}).GraphArn
        api.call(ADMIN, NOW, "CreateMembers", { GraphArn = arn, Accounts = {
            { AccountId = SANDBOX, EmailAddress = "sandbox@example.com" } } })
        gd:handle(api.ctx(SANDBOX, NOW + 10), "CreateDetector", { Enable = true })
        api.call(SANDBOX, NOW + 20, "AcceptInvitation", { GraphArn = arn })
        local function status(t)
            return api.call(ADMIN, t, "GetMembers", { GraphArn = arn, AccountIds = { SANDBOX } }).MemberDetails[1].Status
        end
        assert.equal("ACCEPTED_BUT_DISABLED", status(NOW + 30))
        api.call(ADMIN, NOW + 48 * 3600 + 15, "StartMonitoringMember", { GraphArn = arn, AccountId = SANDBOX })
        assert.equal("ENABLED", status(NOW + 48 * 3600 + 16))
    end)
end)
