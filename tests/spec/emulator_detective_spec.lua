-- Detective emulator semantics, driven through S:handle with a ctx per account (no HTTP). The
-- expected behaviour comes from the reference (detective-semantics.md: graph lifecycle §4.1,
-- member state machine §2.1, organization §2.2/§4.3, who may call what §5, quotas §6) and from
-- the decisions written down in docs/emulator-detective.md, not from the code's own output.
local H = require "detective_world"
local files = require "files"
local tables = require "tables"

local T0 = 1700000000 -- 2023-11-14T22:13:20Z
local HOUR, DAY = 3600, 86400

local ADMIN, B, C, D, BIG, F, G = "111111111111", "222222222222", "333333333333", "444444444444",
    "555555555555", "666666666666", "777777777777"
local UNKNOWN = "999999999999"
local MGMT, ORGADMIN, ORG1, ORG2, ORG3, LATER = "700000000000", "710000000000", "720000000000", "730000000000",
    "740000000000", "750000000000"
local GRAPH_ARN_PATTERN = "^arn:aws:detective:us%-east%-1:%d+:graph:" .. string.rep("[0-9a-f]", 32) .. "$"

local function acct(id, email, gd, volume)
    return { id = id, email = email, guardduty_since = gd, detective_daily_volume_bytes = volume }
end

local function scenario(settings, extra)
    local s = {
        accounts = {
            acct(ADMIN, "admin@example.com", T0 - 365 * DAY, 1e9),
            acct(B, "b@example.com", T0 - 72 * HOUR, 2e9),
            acct(C, "c@example.com", T0 - 24 * HOUR, 1e9),
            acct(D, "d@example.com", nil, nil),
            acct(BIG, "big@example.com", T0 - 30 * DAY, 9.5e12),
            acct(F, "f@example.com", T0 - 30 * DAY, 1e12),
            acct(G, "g@example.com", T0 - 30 * DAY, 1e6),
            acct(MGMT, "mgmt@example.com", T0 - 30 * DAY, 1e6),
            acct(ORGADMIN, "sec@example.com", T0 - 30 * DAY, 1e6),
            acct(ORG1, "org1@example.com", T0 - 30 * DAY, 1e6),
            acct(ORG2, "org2@example.com", nil, nil),
            acct(ORG3, "org3@example.com", T0 - 30 * DAY, 1e6),
            acct(LATER, "later@example.com", T0 - 30 * DAY, 1e6),
        },
        organization = { management_account = MGMT, accounts = { MGMT, ORGADMIN, ORG1, ORG2, ORG3 } },
        settings = { detective = settings or {} },
    }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
end

local S = H.install()

local function setup(settings, extra)
    local world = H.world(scenario(settings, extra))
    local api = H.service(S, world)
    return api, world
end

local function by_account(list)
    return tables.index(list, "AccountId")
end

local count = tables.count

local function invite(api, graph, now, list)
    local accounts = {}
    for _, a in ipairs(list) do accounts[#accounts + 1] = { AccountId = a[1], EmailAddress = a[2] } end
    return api.call(ADMIN, now, "CreateMembers", { GraphArn = graph, Accounts = accounts })
end

local function member(api, graph, now, id, admin)
    local out = api.call(admin or ADMIN, now, "GetMembers", { GraphArn = graph, AccountIds = { id } })
    return out.MemberDetails[1], out.UnprocessedAccounts[1]
end

describe("detective emulator: operation table", function()
    it("implements all 29 Detective operations of the model", function()
        local ops = {
            "AcceptInvitation", "BatchGetGraphMemberDatasources", "BatchGetMembershipDatasources", "CreateGraph",
            "CreateMembers", "DeleteGraph", "DeleteMembers", "DescribeOrganizationConfiguration",
            "DisableOrganizationAdminAccount", "DisassociateMembership", "EnableOrganizationAdminAccount",
            "GetInvestigation", "GetMembers", "ListDatasourcePackages", "ListGraphs", "ListIndicators",
            "ListInvestigations", "ListInvitations", "ListMembers", "ListOrganizationAdminAccounts",
            "ListTagsForResource", "RejectInvitation", "StartInvestigation", "StartMonitoringMember", "TagResource",
            "UntagResource", "UpdateDatasourcePackages", "UpdateInvestigationState", "UpdateOrganizationConfiguration",
        }
        for _, op in ipairs(ops) do
            assert.is_table(S.OPERATIONS[op], op)
            assert.is_function(S.OPERATIONS[op][op], op)
        end
        assert.equal(29, count(S.OPERATIONS))
    end)

    it("cross-checks the operation list against the model when the shared models are present", function()
        local shared = os.getenv("DT_SHARED")
        local text = shared and files.read(shared .. "/models/detective/service-2.json")
        if not text then
            pending("shared models not available")
            return
        end
        local model = require("cjson").decode(text)
        for op in pairs(model.operations) do assert.is_table(S.OPERATIONS[op], op) end
        assert.equal(count(model.operations), count(S.OPERATIONS))
    end)

    it("rejects an unknown operation and an unknown fixture action", function()
        local api = setup()
        H.expect_error("InternalServerException", function() api.call(ADMIN, T0, "NoSuchOperation", {}) end)
        local err = H.expect_error("ResourceNotFoundException", function() api.admin(ADMIN, T0, "nope", {}) end)
        assert.equal(404, err.opts.status)
    end)
end)

describe("detective emulator: behavior graphs (§4.1)", function()
    it("creates one graph per administrator per Region, idempotently", function()
        local api, world = setup()
        local before = world.dirty_count
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        assert.truthy(arn:match(GRAPH_ARN_PATTERN))
        assert.truthy(arn:find(":" .. ADMIN .. ":graph:", 1, true))
        assert.is_true(world.dirty_count > before)
        assert.equal(arn, api.call(ADMIN, T0 + 10, "CreateGraph", {}).GraphArn)
        local west = api.call(ADMIN, T0, "CreateGraph", {}, "us-west-2").GraphArn
        assert.not_equal(arn, west)
        assert.truthy(west:match("^arn:aws:detective:us%-west%-2:" .. ADMIN .. ":graph:%x+$"))
        local other = api.call(B, T0, "CreateGraph", {}).GraphArn
        assert.not_equal(arn, other)
        local list = api.call(ADMIN, T0 + 20, "ListGraphs", {})
        assert.equal(1, #list.GraphList)
        assert.equal(arn, list.GraphList[1].Arn)
        assert.equal(T0, list.GraphList[1].CreatedTime)
        assert.is_nil(list.NextToken)
    end)

    it("lists no graph for an account that administers none", function()
        local api = setup()
        api.call(ADMIN, T0, "CreateGraph", {})
        assert.same({}, api.call(C, T0, "ListGraphs", {}).GraphList)
    end)

    it("uses the partition of the Region in the ARN", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}, "us-gov-west-1").GraphArn
        assert.truthy(arn:match("^arn:aws%-us%-gov:detective:us%-gov%-west%-1:"))
    end)

    it("takes Tags at creation and checks them", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", { Tags = { Team = "sec", Env = "" } }).GraphArn
        assert.same({ Team = "sec", Env = "" }, api.call(ADMIN, T0, "ListTagsForResource", { ResourceArn = arn }).Tags)
        local err = H.expect_error("ValidationException", function()
            api.call(B, T0, "CreateGraph", { Tags = { ["aws:owner"] = "x" } })
        end)
        assert.equal("INVALID_REQUEST_BODY", err.fields.ErrorCode)
        assert.same({}, api.call(B, T0, "ListGraphs", {}).GraphList) -- nothing was created
        local many = {}
        for i = 1, 51 do many["k" .. i] = "v" end
        H.expect_error("ValidationException", function() api.call(B, T0, "CreateGraph", { Tags = many }) end)
    end)

    it("refuses a graph for an administrator whose own volume is above the limit", function()
        local api = setup({ graph_volume_limit_bytes_per_day = 1e12 })
        local err = H.expect_error("ServiceQuotaExceededException", function() api.call(BIG, T0, "CreateGraph", {}) end)
        assert.is_table(err.fields.Resources)
        assert.equal(1, #err.fields.Resources)
    end)

    it("deletes a graph with its members; only its administrator may", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" } })
        assert.equal(1, #api.call(B, T0 + 1, "ListInvitations", {}).Invitations)
        local err = H.expect_error("AccessDeniedException", function()
            api.call(B, T0 + 2, "DeleteGraph", { GraphArn = arn })
        end)
        assert.truthy(err.message:find(B, 1, true))
        assert.is_nil(api.call(ADMIN, T0 + 3, "DeleteGraph", { GraphArn = arn }))
        assert.same({}, api.call(ADMIN, T0 + 4, "ListGraphs", {}).GraphList)
        assert.same({}, api.call(B, T0 + 4, "ListInvitations", {}).Invitations)
        for _, op in ipairs({ "ListMembers", "DeleteGraph", "ListDatasourcePackages" }) do
            H.expect_error("ResourceNotFoundException", function() api.call(ADMIN, T0 + 5, op, { GraphArn = arn }) end)
        end
        H.expect_error("ResourceNotFoundException", function()
            api.call(B, T0 + 5, "DisassociateMembership", { GraphArn = arn })
        end)
        local out = api.call(B, T0 + 5, "BatchGetMembershipDatasources", { GraphArns = { arn } })
        assert.same({}, out.MembershipDatasources)
        assert.equal(arn, out.UnprocessedGraphs[1].GraphArn)
        -- a new graph gets a new ARN
        assert.not_equal(arn, api.call(ADMIN, T0 + 6, "CreateGraph", {}).GraphArn)
    end)

    it("answers 404 for a well-formed ARN of another Region or an unknown graph, 400 for a malformed one", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        H.expect_error("ResourceNotFoundException", function()
            api.call(ADMIN, T0, "ListMembers", { GraphArn = arn }, "eu-west-1")
        end)
        H.expect_error("ResourceNotFoundException", function()
            api.call(ADMIN, T0, "ListMembers", { GraphArn = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" ..
                string.rep("a", 32) })
        end)
        local err = H.expect_error("ValidationException", function()
            api.call(ADMIN, T0, "ListMembers", { GraphArn = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:123412341234" })
        end)
        assert.equal("INVALID_GRAPH_ARN", err.fields.ErrorCode)
    end)
end)

describe("detective emulator: invited members (§2.1, §4.2, §4.4)", function()
    local api, arn
    before_each(function()
        api = setup()
        arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
    end)

    it("creates members in VERIFICATION_IN_PROGRESS, then INVITED when id and email match", function()
        local out = invite(api, arn, T0, { { B, "b@example.com" } })
        assert.same({}, out.UnprocessedAccounts)
        local m = out.Members[1]
        assert.equal(B, m.AccountId)
        assert.equal("b@example.com", m.EmailAddress)
        assert.equal(arn, m.GraphArn)
        assert.equal(ADMIN, m.AdministratorId)
        assert.equal(ADMIN, m.MasterId)
        assert.equal("VERIFICATION_IN_PROGRESS", m.Status)
        assert.equal("INVITATION", m.InvitationType)
        assert.equal(T0, m.InvitedTime)
        assert.equal(T0, m.UpdatedTime)
        local now = member(api, arn, T0 + 1, B)
        assert.equal("INVITED", now.Status)
        assert.is_nil(now.DisabledReason)
    end)

    it("emails case-insensitively; wrong email or an account unknown to the scenario fails verification", function()
        invite(api, arn, T0, { { B, "B@Example.COM" }, { C, "wrong@example.com" }, { UNKNOWN, "who@example.com" } })
        local list = by_account(api.call(ADMIN, T0 + 1, "ListMembers", { GraphArn = arn }).MemberDetails)
        assert.equal("INVITED", list[B].Status)
        assert.equal("VERIFICATION_FAILED", list[C].Status)
        assert.equal("VERIFICATION_FAILED", list[UNKNOWN].Status)
        -- verification-failed accounts received no invitation
        assert.same({}, api.call(C, T0 + 1, "ListInvitations", {}).Invitations)
        H.expect_error("ConflictException", function() api.call(C, T0 + 2, "AcceptInvitation", { GraphArn = arn }) end)
        -- inviting again with the right email verifies again
        local again = invite(api, arn, T0 + 10, { { C, "c@example.com" } })
        assert.equal(1, #again.Members)
        assert.equal("VERIFICATION_IN_PROGRESS", again.Members[1].Status)
        assert.equal("INVITED", member(api, arn, T0 + 11, C).Status)
    end)

    it("honours verification_delay_seconds", function()
        api = setup({ verification_delay_seconds = 60 })
        arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" } })
        assert.equal("VERIFICATION_IN_PROGRESS", member(api, arn, T0 + 59, B).Status)
        assert.same({}, api.call(B, T0 + 59, "ListInvitations", {}).Invitations)
        local m = member(api, arn, T0 + 60, B)
        assert.equal("INVITED", m.Status)
        assert.equal(T0 + 60, m.UpdatedTime)
        assert.equal(T0, m.InvitedTime)
    end)

    it("reports own, duplicate and existing accounts as unprocessed", function()
        invite(api, arn, T0, { { B, "b@example.com" } })
        local out = invite(api, arn, T0 + 1, { { ADMIN, "admin@example.com" }, { B, "b@example.com" },
            { G, "g@example.com" }, { G, "g@example.com" } })
        assert.equal(1, #out.Members)
        assert.equal(G, out.Members[1].AccountId)
        local un = by_account(out.UnprocessedAccounts)
        assert.equal(3, #out.UnprocessedAccounts)
        assert.truthy(un[ADMIN].Reason:find("administrator", 1, true))
        assert.truthy(un[B].Reason:find("already a member", 1, true))
        assert.truthy(un[G].Reason:find("more than once", 1, true))
    end)

    it("accepts an invitation into ENABLED for a GuardDuty customer of 48 h", function()
        invite(api, arn, T0, { { B, "b@example.com" } })
        local inv = api.call(B, T0 + 1, "ListInvitations", {}).Invitations
        assert.equal(1, #inv)
        assert.equal(arn, inv[1].GraphArn)
        assert.equal(B, inv[1].AccountId)
        assert.equal(ADMIN, inv[1].AdministratorId)
        assert.equal("INVITED", inv[1].Status)
        assert.is_nil(api.call(B, T0 + 2, "AcceptInvitation", { GraphArn = arn }))
        local m = member(api, arn, T0 + 3, B)
        assert.equal("ENABLED", m.Status)
        assert.equal(T0 + 2, m.UpdatedTime)
        -- accepted invitations stay listed
        inv = api.call(B, T0 + 3, "ListInvitations", {}).Invitations
        assert.equal("ENABLED", inv[1].Status)
        -- an ENABLED member carries volume and package details
        assert.equal(2e9, m.VolumeUsageInBytes)
        assert.is_number(m.PercentOfGraphUtilization)
        assert.is_number(m.VolumeUsageUpdatedTime)
        assert.is_number(m.PercentOfGraphUtilizationUpdatedTime)
        assert.same({ DETECTIVE_CORE = "STARTED", EKS_AUDIT = "STARTED", ASFF_SECURITYHUB_FINDING = "STARTED" },
            m.DatasourcePackageIngestStates)
        assert.equal(2e9, m.VolumeUsageByDatasourcePackage.DETECTIVE_CORE.VolumeUsageInBytes)
        -- second accept: wrong state
        H.expect_error("ConflictException", function() api.call(B, T0 + 4, "AcceptInvitation", { GraphArn = arn }) end)
    end)

    it("rejects accept calls from accounts that were not invited, for unknown graphs, and from the administrator", function()
        H.expect_error("ResourceNotFoundException", function() api.call(G, T0, "AcceptInvitation", { GraphArn = arn }) end)
        H.expect_error("ResourceNotFoundException", function()
            api.call(G, T0, "AcceptInvitation", { GraphArn = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" ..
                string.rep("0", 32) })
        end)
        H.expect_error("ConflictException", function() api.call(ADMIN, T0, "AcceptInvitation", { GraphArn = arn }) end)
    end)

    it("keeps accounts that are not GuardDuty customers ACCEPTED_BUT_DISABLED / VOLUME_UNKNOWN", function()
        invite(api, arn, T0, { { D, "d@example.com" } })
        api.call(D, T0 + 1, "AcceptInvitation", { GraphArn = arn })
        local m = member(api, arn, T0 + 2, D)
        assert.equal("ACCEPTED_BUT_DISABLED", m.Status)
        assert.equal("VOLUME_UNKNOWN", m.DisabledReason)
        assert.is_nil(m.VolumeUsageInBytes)
        -- StartMonitoringMember cannot enable it, and it stays as it was
        assert.is_nil(api.call(ADMIN, T0 + 3, "StartMonitoringMember", { GraphArn = arn, AccountId = D }))
        m = member(api, arn, T0 + 4, D)
        assert.equal("ACCEPTED_BUT_DISABLED", m.Status)
        assert.equal("VOLUME_UNKNOWN", m.DisabledReason)
        -- still listed as accepted for the member
        assert.equal("ACCEPTED_BUT_DISABLED", api.call(D, T0 + 4, "ListInvitations", {}).Invitations[1].Status)
    end)

    it("enables a member with StartMonitoringMember once it has been a GuardDuty customer for 48 h", function()
        -- C became a GuardDuty customer 24 h before T0
        invite(api, arn, T0, { { C, "c@example.com" } })
        api.call(C, T0 + 1800, "AcceptInvitation", { GraphArn = arn })
        assert.equal("VOLUME_UNKNOWN", member(api, arn, T0 + 1900, C).DisabledReason)
        api.call(ADMIN, T0 + HOUR, "StartMonitoringMember", { GraphArn = arn, AccountId = C })
        assert.equal("ACCEPTED_BUT_DISABLED", member(api, arn, T0 + HOUR + 1, C).Status)
        api.call(ADMIN, T0 + DAY + 10, "StartMonitoringMember", { GraphArn = arn, AccountId = C })
        local m = member(api, arn, T0 + DAY + 11, C)
        assert.equal("ENABLED", m.Status)
        assert.is_nil(m.DisabledReason)
        H.expect_error("ConflictException", function()
            api.call(ADMIN, T0 + DAY + 12, "StartMonitoringMember", { GraphArn = arn, AccountId = C })
        end)
    end)

    it("re-checks not-enabled members automatically (hourly) once they qualify", function()
        invite(api, arn, T0, { { C, "c@example.com" } })
        api.call(C, T0 + 1800, "AcceptInvitation", { GraphArn = arn })
        assert.equal("ACCEPTED_BUT_DISABLED", member(api, arn, T0 + DAY - 1, C).Status)
        local m = member(api, arn, T0 + DAY + 2 * HOUR, C)
        assert.equal("ENABLED", m.Status)
        assert.is_true(m.UpdatedTime >= T0 + DAY and m.UpdatedTime <= T0 + DAY + HOUR)
    end)

    it("does not re-check when auto_recheck is off", function()
        api = setup({ auto_recheck = false })
        arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { C, "c@example.com" } })
        api.call(C, T0 + 1800, "AcceptInvitation", { GraphArn = arn })
        assert.equal("ACCEPTED_BUT_DISABLED", member(api, arn, T0 + 10 * DAY, C).Status)
    end)

    it("disables members whose volume would take the graph over the limit (VOLUME_TOO_HIGH)", function()
        -- admin 1e9 + BIG 9.5e12 fits 10 TB; F's 1e12 more does not
        invite(api, arn, T0, { { BIG, "big@example.com" }, { F, "f@example.com" } })
        api.call(BIG, T0 + 1, "AcceptInvitation", { GraphArn = arn })
        api.call(F, T0 + 2, "AcceptInvitation", { GraphArn = arn })
        assert.equal("ENABLED", member(api, arn, T0 + 3, BIG).Status)
        local m = member(api, arn, T0 + 3, F)
        assert.equal("ACCEPTED_BUT_DISABLED", m.Status)
        assert.equal("VOLUME_TOO_HIGH", m.DisabledReason)
        -- once BIG is removed, StartMonitoringMember can enable F
        api.call(ADMIN, T0 + 4, "DeleteMembers", { GraphArn = arn, AccountIds = { BIG } })
        api.call(ADMIN, T0 + 5, "StartMonitoringMember", { GraphArn = arn, AccountId = F })
        assert.equal("ENABLED", member(api, arn, T0 + 6, F).Status)
    end)

    it("lets the re-check enable a VOLUME_TOO_HIGH member once the volume has room", function()
        invite(api, arn, T0, { { BIG, "big@example.com" }, { F, "f@example.com" } })
        api.call(BIG, T0 + 1, "AcceptInvitation", { GraphArn = arn })
        api.call(F, T0 + 2, "AcceptInvitation", { GraphArn = arn })
        assert.equal("VOLUME_TOO_HIGH", member(api, arn, T0 + 2 * HOUR, F).DisabledReason)
        api.call(ADMIN, T0 + 2 * HOUR + 10, "DeleteMembers", { GraphArn = arn, AccountIds = { BIG } })
        assert.equal("ENABLED", member(api, arn, T0 + 4 * HOUR, F).Status)
    end)

    it("refuses new members when the graph already ingests more than the limit", function()
        local world
        api, world = setup({ graph_volume_limit_bytes_per_day = 5e9 })
        arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" } })
        api.call(B, T0 + 1, "AcceptInvitation", { GraphArn = arn }) -- 1e9 + 2e9 fits 5e9
        assert.equal("ENABLED", member(api, arn, T0 + 2, B).Status)
        -- the limit is lowered below what the graph ingests now
        world.scenario.settings.detective.graph_volume_limit_bytes_per_day = 2e9
        local err = H.expect_error("ServiceQuotaExceededException", function()
            invite(api, arn, T0 + 3, { { G, "g@example.com" } })
        end)
        assert.is_string(err.fields.Resources[1])
        assert.is_nil(member(api, arn, T0 + 4, G))
    end)

    it("rejects an invitation: the membership disappears", function()
        invite(api, arn, T0, { { B, "b@example.com" }, { G, "g@example.com" } })
        assert.is_nil(api.call(G, T0 + 1, "RejectInvitation", { GraphArn = arn }))
        assert.same({}, api.call(G, T0 + 2, "ListInvitations", {}).Invitations)
        local list = by_account(api.call(ADMIN, T0 + 2, "ListMembers", { GraphArn = arn }).MemberDetails)
        assert.is_nil(list[G])
        assert.is_table(list[B])
        H.expect_error("ResourceNotFoundException", function() api.call(G, T0 + 3, "RejectInvitation", { GraphArn = arn }) end)
        api.call(B, T0 + 3, "AcceptInvitation", { GraphArn = arn })
        H.expect_error("ConflictException", function() api.call(B, T0 + 4, "RejectInvitation", { GraphArn = arn }) end)
    end)

    it("lets an ENABLED invited member disassociate, and nobody else", function()
        invite(api, arn, T0, { { B, "b@example.com" }, { D, "d@example.com" } })
        H.expect_error("ConflictException", function() api.call(B, T0 + 1, "DisassociateMembership", { GraphArn = arn }) end)
        api.call(B, T0 + 1, "AcceptInvitation", { GraphArn = arn })
        api.call(D, T0 + 1, "AcceptInvitation", { GraphArn = arn })
        H.expect_error("ConflictException", function() api.call(D, T0 + 2, "DisassociateMembership", { GraphArn = arn }) end)
        H.expect_error("ConflictException", function() api.call(ADMIN, T0 + 2, "DisassociateMembership", { GraphArn = arn }) end)
        H.expect_error("ResourceNotFoundException", function() api.call(G, T0 + 2, "DisassociateMembership", { GraphArn = arn }) end)
        assert.is_nil(api.call(B, T0 + 2, "DisassociateMembership", { GraphArn = arn }))
        assert.same({}, api.call(B, T0 + 3, "ListInvitations", {}).Invitations)
        local _, un = member(api, arn, T0 + 3, B)
        assert.equal(B, un.AccountId)
    end)

    it("deletes members; the administrator's own account and non-members are unprocessed", function()
        invite(api, arn, T0, { { B, "b@example.com" }, { G, "g@example.com" } })
        local out = api.call(ADMIN, T0 + 1, "DeleteMembers", { GraphArn = arn, AccountIds = { B, ADMIN, C } })
        assert.same({ B }, out.AccountIds)
        local un = by_account(out.UnprocessedAccounts)
        assert.truthy(un[ADMIN].Reason:find("DeleteGraph", 1, true))
        assert.truthy(un[C].Reason:find("not a member", 1, true))
        local m, u = member(api, arn, T0 + 2, B)
        assert.is_nil(m)
        assert.equal(B, u.AccountId)
        assert.same({}, api.call(B, T0 + 2, "ListInvitations", {}).Invitations)
        -- re-inviting restores it
        invite(api, arn, T0 + 3, { { B, "b@example.com" } })
        assert.equal("INVITED", member(api, arn, T0 + 4, B).Status)
    end)

    it("lists members without the administrator's own account, GetMembers reports unknown accounts", function()
        invite(api, arn, T0, { { B, "b@example.com" }, { G, "g@example.com" } })
        local list = api.call(ADMIN, T0 + 1, "ListMembers", { GraphArn = arn }).MemberDetails
        assert.equal(2, #list)
        for _, m in ipairs(list) do assert.not_equal(ADMIN, m.AccountId) end
        local out = api.call(ADMIN, T0 + 1, "GetMembers", { GraphArn = arn, AccountIds = { B, ADMIN, UNKNOWN } })
        assert.equal(1, #out.MemberDetails)
        assert.equal(2, #out.UnprocessedAccounts)
        for _, u in ipairs(out.UnprocessedAccounts) do assert.is_string(u.Reason) end
    end)

    it("limits administrator operations to the administrator (403) and StartMonitoringMember to known members", function()
        invite(api, arn, T0, { { B, "b@example.com" } })
        for _, call in ipairs({
            { "CreateMembers", { GraphArn = arn, Accounts = { { AccountId = G, EmailAddress = "g@example.com" } } } },
            { "GetMembers", { GraphArn = arn, AccountIds = { B } } },
            { "ListMembers", { GraphArn = arn } },
            { "DeleteMembers", { GraphArn = arn, AccountIds = { B } } },
            { "StartMonitoringMember", { GraphArn = arn, AccountId = B } },
            { "ListDatasourcePackages", { GraphArn = arn } },
            { "UpdateDatasourcePackages", { GraphArn = arn, DatasourcePackages = { "EKS_AUDIT" } } },
            { "BatchGetGraphMemberDatasources", { GraphArn = arn, AccountIds = { B } } },
            { "StartInvestigation", { GraphArn = arn, EntityArn = "arn:aws:iam::" .. B .. ":user/x",
                ScopeStartTime = T0 - DAY, ScopeEndTime = T0 } },
            { "ListInvestigations", { GraphArn = arn } },
            { "DescribeOrganizationConfiguration", { GraphArn = arn } },
        }) do
            H.expect_error("AccessDeniedException", function() api.call(B, T0 + 1, call[1], call[2]) end)
        end
        for _, op in ipairs({ "ListTagsForResource", "TagResource", "UntagResource" }) do
            H.expect_error("AccessDeniedException", function()
                api.call(B, T0 + 1, op, { ResourceArn = arn, Tags = { a = "b" }, TagKeys = { "a" } })
            end)
        end
        H.expect_error("ResourceNotFoundException", function()
            api.call(ADMIN, T0 + 1, "StartMonitoringMember", { GraphArn = arn, AccountId = G })
        end)
        H.expect_error("ConflictException", function()
            api.call(ADMIN, T0 + 1, "StartMonitoringMember", { GraphArn = arn, AccountId = B })
        end)
    end)

    it("lets an account be a member of several graphs and administer its own", function()
        local g2 = api.call(G, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" } })
        api.call(G, T0, "CreateMembers", { GraphArn = g2, Accounts = { { AccountId = B, EmailAddress = "b@example.com" } } })
        local b_graph = api.call(B, T0, "CreateGraph", {}).GraphArn
        local inv = api.call(B, T0 + 1, "ListInvitations", {}).Invitations
        assert.equal(2, #inv)
        local graphs = {}
        for _, m in ipairs(inv) do graphs[m.GraphArn] = m.AdministratorId end
        assert.equal(ADMIN, graphs[arn])
        assert.equal(G, graphs[g2])
        assert.is_nil(graphs[b_graph])
    end)

    it("skips email verification in GovCloud", function()
        local region = "us-gov-west-1"
        local g = api.call(ADMIN, T0, "CreateGraph", {}, region).GraphArn
        api.call(ADMIN, T0, "CreateMembers", { GraphArn = g, Accounts = { { AccountId = B, EmailAddress = "other@example.com" } } },
            region)
        local out = api.call(ADMIN, T0 + 1, "GetMembers", { GraphArn = g, AccountIds = { B } }, region)
        assert.equal("INVITED", out.MemberDetails[1].Status)
    end)
end)

describe("detective emulator: organization behavior graph (§2.2, §4.3)", function()
    local api
    before_each(function() api = setup() end)

    it("restricts organization administration to the management account", function()
        local err = H.expect_error("ValidationException", function()
            api.call(ADMIN, T0, "ListOrganizationAdminAccounts", {})
        end)
        assert.truthy(err.message:find("account is not a member of an organization", 1, true))
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0, "EnableOrganizationAdminAccount", { AccountId = ADMIN })
        end)
        H.expect_error("ValidationException", function() api.call(ADMIN, T0, "DisableOrganizationAdminAccount", {}) end)
        H.expect_error("AccessDeniedException", function() api.call(ORG1, T0, "ListOrganizationAdminAccounts", {}) end)
        H.expect_error("AccessDeniedException", function()
            api.call(ORG1, T0, "EnableOrganizationAdminAccount", { AccountId = ORG1 })
        end)
        H.expect_error("AccessDeniedException", function() api.call(ORG1, T0, "DisableOrganizationAdminAccount", {}) end)
        assert.same({}, api.call(MGMT, T0, "ListOrganizationAdminAccounts", {}).Administrators)
        H.expect_error("ValidationException", function()
            api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ADMIN }) -- not in the organization
        end)
    end)

    it("converts an existing graph: organization accounts become ENABLED ORGANIZATION members", function()
        local arn = api.call(ORGADMIN, T0, "CreateGraph", {}).GraphArn
        api.call(ORGADMIN, T0, "CreateMembers", { GraphArn = arn, Accounts = {
            { AccountId = ORG1, EmailAddress = "org1@example.com" }, { AccountId = B, EmailAddress = "b@example.com" } } })
        assert.is_nil(api.call(MGMT, T0 + 10, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN }))
        local admins = api.call(MGMT, T0 + 11, "ListOrganizationAdminAccounts", {}).Administrators
        assert.same({ { AccountId = ORGADMIN, GraphArn = arn, DelegationTime = T0 + 10 } }, admins)
        assert.equal(arn, api.call(ORGADMIN, T0 + 11, "ListGraphs", {}).GraphList[1].Arn)
        local list = by_account(api.call(ORGADMIN, T0 + 11, "ListMembers", { GraphArn = arn }).MemberDetails)
        assert.equal("ORGANIZATION", list[ORG1].InvitationType)
        assert.equal("ENABLED", list[ORG1].Status)
        assert.equal("INVITATION", list[B].InvitationType)
        assert.equal("INVITED", list[B].Status)
        -- AutoEnable starts off
        assert.same({ AutoEnable = false }, api.call(ORGADMIN, T0 + 12, "DescribeOrganizationConfiguration", { GraphArn = arn }))
        -- enabling the same account again is accepted, another one is not
        assert.is_nil(api.call(MGMT, T0 + 13, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN }))
        H.expect_error("ValidationException", function()
            api.call(MGMT, T0 + 13, "EnableOrganizationAdminAccount", { AccountId = ORG1 })
        end)
    end)

    it("creates a graph for an administrator without one; the management account may designate itself", function()
        api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = MGMT })
        local graphs = api.call(MGMT, T0 + 1, "ListGraphs", {}).GraphList
        assert.equal(1, #graphs)
        assert.equal(T0, graphs[1].CreatedTime)
        assert.equal(graphs[1].Arn, api.call(MGMT, T0 + 1, "ListOrganizationAdminAccounts", {}).Administrators[1].GraphArn)
        -- per Region: another Region has none yet
        assert.same({}, api.call(MGMT, T0 + 1, "ListOrganizationAdminAccounts", {}, "eu-west-1").Administrators)
    end)

    it("adds organization accounts without invitations and never lets them reject or disassociate", function()
        api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN })
        local arn = api.call(ORGADMIN, T0, "ListGraphs", {}).GraphList[1].Arn
        local out = api.call(ORGADMIN, T0 + 1, "CreateMembers", { GraphArn = arn, Accounts = {
            { AccountId = ORG1 }, { AccountId = ORG2 }, { AccountId = G, EmailAddress = "g@example.com" },
            { AccountId = C } } })
        local created = by_account(out.Members)
        assert.equal("ORGANIZATION", created[ORG1].InvitationType)
        assert.equal("VERIFICATION_IN_PROGRESS", created[ORG1].Status)
        assert.is_nil(created[ORG1].InvitedTime)
        assert.equal("INVITATION", created[G].InvitationType)
        -- a non-organization account still needs an email address
        assert.equal(C, out.UnprocessedAccounts[1].AccountId)
        local list = by_account(api.call(ORGADMIN, T0 + 2, "ListMembers", { GraphArn = arn }).MemberDetails)
        assert.equal("ENABLED", list[ORG1].Status)
        assert.equal("ACCEPTED_BUT_DISABLED", list[ORG2].Status)
        assert.equal("VOLUME_UNKNOWN", list[ORG2].DisabledReason)
        assert.equal("INVITED", list[G].Status)
        for _, s in pairs(list) do assert.not_equal("INVITED", s.InvitationType == "ORGANIZATION" and s.Status or nil) end
        -- the organization member sees its membership as ORGANIZATION
        local inv = api.call(ORG1, T0 + 3, "ListInvitations", {}).Invitations
        assert.equal(1, #inv)
        assert.equal("ORGANIZATION", inv[1].InvitationType)
        assert.equal("ENABLED", inv[1].Status)
        H.expect_error("ConflictException", function() api.call(ORG1, T0 + 3, "RejectInvitation", { GraphArn = arn }) end)
        H.expect_error("ConflictException", function() api.call(ORG1, T0 + 3, "DisassociateMembership", { GraphArn = arn }) end)
        H.expect_error("ConflictException", function() api.call(ORG2, T0 + 3, "AcceptInvitation", { GraphArn = arn }) end)
        -- DeleteMembers makes it "not a member"; the administrator can enable it again
        assert.same({ ORG1 }, api.call(ORGADMIN, T0 + 4, "DeleteMembers", { GraphArn = arn, AccountIds = { ORG1 } }).AccountIds)
        assert.is_nil(by_account(api.call(ORGADMIN, T0 + 5, "ListMembers", { GraphArn = arn }).MemberDetails)[ORG1])
        api.call(ORGADMIN, T0 + 6, "CreateMembers", { GraphArn = arn, Accounts = { { AccountId = ORG1 } } })
        assert.equal("ENABLED", member(api, arn, T0 + 7, ORG1, ORGADMIN).Status)
    end)

    it("fails verification of an organization account that left the organization meanwhile", function()
        api = setup({ verification_delay_seconds = 30 })
        api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN })
        local arn = api.call(ORGADMIN, T0, "ListGraphs", {}).GraphList[1].Arn
        api.call(ORGADMIN, T0 + 1, "CreateMembers", { GraphArn = arn, Accounts = { { AccountId = ORG3 } } })
        api.admin(MGMT, T0 + 2, "remove_organization_account", { account_id = ORG3 })
        assert.equal("VERIFICATION_FAILED", member(api, arn, T0 + 40, ORG3, ORGADMIN).Status)
    end)

    it("reads and sets AutoEnable; only the organization's Detective administrator may", function()
        api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN })
        local arn = api.call(ORGADMIN, T0, "ListGraphs", {}).GraphList[1].Arn
        assert.is_nil(api.call(ORGADMIN, T0 + 1, "UpdateOrganizationConfiguration", { GraphArn = arn, AutoEnable = true }))
        assert.same({ AutoEnable = true }, api.call(ORGADMIN, T0 + 2, "DescribeOrganizationConfiguration", { GraphArn = arn }))
        api.call(ORGADMIN, T0 + 3, "UpdateOrganizationConfiguration", { GraphArn = arn }) -- absent -> false
        assert.same({ AutoEnable = false }, api.call(ORGADMIN, T0 + 4, "DescribeOrganizationConfiguration", { GraphArn = arn }))
        H.expect_error("AccessDeniedException", function()
            api.call(MGMT, T0 + 5, "UpdateOrganizationConfiguration", { GraphArn = arn, AutoEnable = true })
        end)
        -- a graph that is not the organization graph
        local own = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        H.expect_error("AccessDeniedException", function()
            api.call(ADMIN, T0 + 5, "DescribeOrganizationConfiguration", { GraphArn = own })
        end)
        H.expect_error("ResourceNotFoundException", function()
            api.call(ORGADMIN, T0 + 5, "DescribeOrganizationConfiguration", { GraphArn = arn }, "eu-west-1")
        end)
    end)

    it("auto-enables accounts that join the organization while AutoEnable is on, and only those", function()
        api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN })
        local arn = api.call(ORGADMIN, T0, "ListGraphs", {}).GraphList[1].Arn
        -- off: joining changes nothing
        api.admin(MGMT, T0 + 1, "add_organization_account", { account_id = G })
        assert.same({}, api.call(ORGADMIN, T0 + 2, "ListMembers", { GraphArn = arn }).MemberDetails)
        api.call(ORGADMIN, T0 + 3, "UpdateOrganizationConfiguration", { GraphArn = arn, AutoEnable = true })
        -- existing, not-enabled organization accounts are not enabled by turning it on
        assert.same({}, api.call(ORGADMIN, T0 + 4, "ListMembers", { GraphArn = arn }).MemberDetails)
        local res = api.admin(MGMT, T0 + 5, "add_organization_account", { account_id = LATER })
        assert.equal(LATER, res.AccountId)
        local m = member(api, arn, T0 + 6, LATER, ORGADMIN)
        assert.equal("ORGANIZATION", m.InvitationType)
        assert.equal("ENABLED", m.Status)
        -- the joined account G counts as an organization account for CreateMembers
        local out = api.call(ORGADMIN, T0 + 7, "CreateMembers", { GraphArn = arn, Accounts = { { AccountId = G } } })
        assert.equal("ORGANIZATION", out.Members[1].InvitationType)
    end)

    it("refuses DeleteGraph on the organization graph; DisableOrganizationAdminAccount deletes it", function()
        api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN })
        local arn = api.call(ORGADMIN, T0, "ListGraphs", {}).GraphList[1].Arn
        H.expect_error("ConflictException", function() api.call(ORGADMIN, T0 + 1, "DeleteGraph", { GraphArn = arn }) end)
        assert.is_nil(api.call(MGMT, T0 + 2, "DisableOrganizationAdminAccount", {}))
        assert.same({}, api.call(ORGADMIN, T0 + 3, "ListGraphs", {}).GraphList)
        assert.same({}, api.call(MGMT, T0 + 3, "ListOrganizationAdminAccounts", {}).Administrators)
        H.expect_error("ResourceNotFoundException", function() api.call(MGMT, T0 + 4, "DisableOrganizationAdminAccount", {}) end)
        -- the delegated administrator stays registered: another member account cannot be chosen, the
        -- same one or the management account can
        H.expect_error("ValidationException", function()
            api.call(MGMT, T0 + 5, "EnableOrganizationAdminAccount", { AccountId = ORG1 })
        end)
        assert.is_nil(api.call(MGMT, T0 + 6, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN }))
        assert.not_equal(arn, api.call(ORGADMIN, T0 + 7, "ListGraphs", {}).GraphList[1].Arn)
    end)

    it("honours a delegated administrator registered by the scenario", function()
        local world = H.world(scenario())
        world.scenario.organization.delegated_administrators = { detective = ORG3 }
        api = H.service(S, world)
        H.expect_error("ValidationException", function()
            api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN })
        end)
        assert.is_nil(api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ORG3 }))
    end)
end)

describe("detective emulator: datasource packages (§4.5)", function()
    it("starts all three packages on a new graph by default and lists them as a map", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        local out = api.call(ADMIN, T0 + 1, "ListDatasourcePackages", { GraphArn = arn })
        assert.is_nil(out.NextToken)
        assert.equal(3, count(out.DatasourcePackages))
        for _, p in ipairs({ "DETECTIVE_CORE", "EKS_AUDIT", "ASFF_SECURITYHUB_FINDING" }) do
            local d = out.DatasourcePackages[p]
            assert.equal("STARTED", d.DatasourcePackageIngestState)
            assert.same({ STARTED = { Timestamp = T0 } }, d.LastIngestStateChange)
        end
    end)

    it("follows the initial-state settings and starts packages with UpdateDatasourcePackages", function()
        local api = setup({ initial_eks_audit_state = "STOPPED", initial_asff_securityhub_finding_state = "DISABLED" })
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" } })
        api.call(B, T0 + 1, "AcceptInvitation", { GraphArn = arn })
        local pk = api.call(ADMIN, T0 + 2, "ListDatasourcePackages", { GraphArn = arn }).DatasourcePackages
        assert.equal("STOPPED", pk.EKS_AUDIT.DatasourcePackageIngestState)
        assert.equal("DISABLED", pk.ASFF_SECURITYHUB_FINDING.DatasourcePackageIngestState)
        assert.equal("STOPPED", member(api, arn, T0 + 2, B).DatasourcePackageIngestStates.EKS_AUDIT)
        assert.is_nil(member(api, arn, T0 + 2, B).VolumeUsageByDatasourcePackage.EKS_AUDIT)
        assert.is_nil(api.call(ADMIN, T0 + 100, "UpdateDatasourcePackages", { GraphArn = arn,
            DatasourcePackages = { "EKS_AUDIT" } }))
        pk = api.call(ADMIN, T0 + 101, "ListDatasourcePackages", { GraphArn = arn }).DatasourcePackages
        assert.equal("STARTED", pk.EKS_AUDIT.DatasourcePackageIngestState)
        assert.same({ STOPPED = { Timestamp = T0 }, STARTED = { Timestamp = T0 + 100 } }, pk.EKS_AUDIT.LastIngestStateChange)
        assert.equal("DISABLED", pk.ASFF_SECURITYHUB_FINDING.DatasourcePackageIngestState)
        local m = member(api, arn, T0 + 101, B)
        assert.equal("STARTED", m.DatasourcePackageIngestStates.EKS_AUDIT)
        assert.is_table(m.VolumeUsageByDatasourcePackage.EKS_AUDIT)
        local hist = api.call(ADMIN, T0 + 101, "BatchGetGraphMemberDatasources", { GraphArn = arn, AccountIds = { B } })
        assert.equal(T0 + 100, hist.MemberDatasources[1].DatasourcePackageIngestHistory.EKS_AUDIT.STARTED.Timestamp)
    end)

    it("pages the package map", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        local seen, pages, req = {}, 0, { GraphArn = arn, MaxResults = 1 }
        repeat
            local out = api.call(ADMIN, T0 + 1, "ListDatasourcePackages", req)
            pages = pages + 1
            assert.equal(1, count(out.DatasourcePackages))
            for k in pairs(out.DatasourcePackages) do
                assert.is_nil(seen[k])
                seen[k] = true
            end
            req.NextToken = out.NextToken
        until not out.NextToken
        assert.equal(3, pages)
        assert.equal(3, count(seen))
    end)

    it("reports member datasources to the administrator, unprocessed for non-members", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" } })
        api.call(B, T0 + 1, "AcceptInvitation", { GraphArn = arn })
        local out = api.call(ADMIN, T0 + 2, "BatchGetGraphMemberDatasources", { GraphArn = arn, AccountIds = { B, G } })
        assert.equal(1, #out.MemberDatasources)
        assert.equal(B, out.MemberDatasources[1].AccountId)
        assert.equal(arn, out.MemberDatasources[1].GraphArn)
        assert.is_table(out.MemberDatasources[1].DatasourcePackageIngestHistory.DETECTIVE_CORE.STARTED)
        assert.equal(G, out.UnprocessedAccounts[1].AccountId)
        assert.is_string(out.UnprocessedAccounts[1].Reason)
    end)

    it("answers for the administrator's own account with the graph's history", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        local out = api.call(ADMIN, T0 + 1, "BatchGetGraphMemberDatasources", { GraphArn = arn, AccountIds = { ADMIN } })
        assert.equal(ADMIN, out.MemberDatasources[1].AccountId)
        assert.equal(T0, out.MemberDatasources[1].DatasourcePackageIngestHistory.DETECTIVE_CORE.STARTED.Timestamp)
        assert.same({}, out.UnprocessedAccounts)
        local own = api.call(ADMIN, T0 + 1, "BatchGetMembershipDatasources", { GraphArns = { arn } })
        assert.equal(arn, own.MembershipDatasources[1].GraphArn)
    end)

    it("reports a member's own memberships, unprocessed graphs for the others", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        local other = api.call(G, T0, "CreateGraph", {}).GraphArn
        local missing = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" .. string.rep("b", 32)
        invite(api, arn, T0, { { B, "b@example.com" } })
        local out = api.call(B, T0 + 1, "BatchGetMembershipDatasources", { GraphArns = { arn, other, missing } })
        assert.equal(1, #out.MembershipDatasources)
        assert.equal(arn, out.MembershipDatasources[1].GraphArn)
        assert.equal(B, out.MembershipDatasources[1].AccountId)
        assert.equal(2, #out.UnprocessedGraphs)
        local un = {}
        for _, u in ipairs(out.UnprocessedGraphs) do un[u.GraphArn] = u.Reason end
        assert.is_string(un[other])
        assert.is_string(un[missing])
    end)

    it("lets a fixture stop a package the API cannot stop", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" } })
        api.admin(ADMIN, T0 + 5, "set_package_state", { graph_arn = arn, package = "ASFF_SECURITYHUB_FINDING", state = "STOPPED" })
        local pk = api.call(ADMIN, T0 + 6, "ListDatasourcePackages", { GraphArn = arn }).DatasourcePackages
        assert.equal("STOPPED", pk.ASFF_SECURITYHUB_FINDING.DatasourcePackageIngestState)
        assert.equal(T0 + 5, pk.ASFF_SECURITYHUB_FINDING.LastIngestStateChange.STOPPED.Timestamp)
        assert.equal("STOPPED", member(api, arn, T0 + 6, B).DatasourcePackageIngestStates.ASFF_SECURITYHUB_FINDING)
        H.expect_error("ValidationException", function()
            api.admin(ADMIN, T0 + 5, "set_package_state", { graph_arn = arn, package = "NOPE", state = "STOPPED" })
        end)
    end)
end)

describe("detective emulator: tags (§1.6)", function()
    local api, arn
    before_each(function()
        api = setup()
        arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
    end)

    it("adds, overwrites, removes and lists tags", function()
        assert.same({}, api.call(ADMIN, T0, "ListTagsForResource", { ResourceArn = arn }).Tags)
        assert.is_nil(api.call(ADMIN, T0, "TagResource", { ResourceArn = arn, Tags = { a = "1", b = "2" } }))
        api.call(ADMIN, T0, "TagResource", { ResourceArn = arn, Tags = { b = "3", c = "" } })
        assert.same({ a = "1", b = "3", c = "" }, api.call(ADMIN, T0, "ListTagsForResource", { ResourceArn = arn }).Tags)
        assert.is_nil(api.call(ADMIN, T0, "UntagResource", { ResourceArn = arn, TagKeys = { "a", "absent" } }))
        assert.same({ b = "3", c = "" }, api.call(ADMIN, T0, "ListTagsForResource", { ResourceArn = arn }).Tags)
    end)

    it("allows 50 tags and refuses the 51st", function()
        local t = {}
        for i = 1, 49 do t["k" .. i] = "v" end
        api.call(ADMIN, T0, "TagResource", { ResourceArn = arn, Tags = t })
        api.call(ADMIN, T0, "TagResource", { ResourceArn = arn, Tags = { k50 = "v", k1 = "overwrite" } })
        assert.equal(50, count(api.call(ADMIN, T0, "ListTagsForResource", { ResourceArn = arn }).Tags))
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0, "TagResource", { ResourceArn = arn, Tags = { k51 = "v" } })
        end)
        assert.equal(50, count(api.call(ADMIN, T0, "ListTagsForResource", { ResourceArn = arn }).Tags))
    end)

    it("refuses keys in the aws: namespace", function()
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0, "TagResource", { ResourceArn = arn, Tags = { ["aws:cloudformation:stack"] = "x" } })
        end)
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0, "UntagResource", { ResourceArn = arn, TagKeys = { "aws:x" } })
        end)
    end)

    it("answers 404 for graphs elsewhere", function()
        H.expect_error("ResourceNotFoundException", function()
            api.call(ADMIN, T0, "ListTagsForResource", { ResourceArn = arn }, "ap-south-1")
        end)
    end)
end)

local ALL_INDICATORS = {
    { IndicatorType = "TTP_OBSERVED", IndicatorDetail = { TTPsObservedDetail = { Tactic = "Discovery",
        Technique = "Account Discovery", Procedure = "ListUsers", IpAddress = "198.51.100.7", APIName = "ListUsers",
        APISuccessCount = 12, APIFailureCount = 3 } } },
    { IndicatorType = "IMPOSSIBLE_TRAVEL", IndicatorDetail = { ImpossibleTravelDetail = {
        StartingIpAddress = "198.51.100.1", EndingIpAddress = "203.0.113.9", StartingLocation = "Seattle, US",
        EndingLocation = "Sydney, AU", HourlyTimeDelta = 2 } } },
    { IndicatorType = "FLAGGED_IP_ADDRESS", IndicatorDetail = { FlaggedIpAddressDetail = {
        IpAddress = "192.0.2.66", Reason = "AWS_THREAT_INTELLIGENCE" } } },
    { IndicatorType = "NEW_GEOLOCATION", IndicatorDetail = { NewGeolocationDetail = {
        Location = "Sydney, AU", IpAddress = "203.0.113.9", IsNewForEntireAccount = true } } },
    { IndicatorType = "NEW_ASO", IndicatorDetail = { NewAsoDetail = { Aso = "AS64500 Example", IsNewForEntireAccount = false } } },
    { IndicatorType = "NEW_USER_AGENT", IndicatorDetail = { NewUserAgentDetail = { UserAgent = "curl/8.0",
        IsNewForEntireAccount = true } } },
    { IndicatorType = "RELATED_FINDING", IndicatorDetail = { RelatedFindingDetail = {
        Arn = "arn:aws:guardduty:us-east-1:222222222222:detector/abc/finding/def", Type = "Recon:IAMUser/MaliciousIPCaller",
        IpAddress = "192.0.2.66" } } },
    { IndicatorType = "RELATED_FINDING_GROUP", IndicatorDetail = { RelatedFindingGroupDetail = {
        Id = "11111111-2222-3333-4444-555555555555" } } },
}

local ALICE = "arn:aws:iam::" .. B .. ":user/alice"
local OPS_ROLE = "arn:aws:iam::" .. B .. ":role/ops/deploy"
local BROKEN = "arn:aws:iam::" .. B .. ":user/broken"

local function inv_setup(settings)
    local api = setup(settings, { investigations = {
        { entity_arn = ALICE, severity = "CRITICAL", indicators = ALL_INDICATORS },
        { entity_arn = OPS_ROLE, severity = "MEDIUM", indicators = { ALL_INDICATORS[4] } },
        { entity_arn = BROKEN, status = "FAILED" },
    } })
    local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
    return api, arn
end

local function start(api, arn, now, entity)
    return api.call(ADMIN, now, "StartInvestigation", { GraphArn = arn, EntityArn = entity,
        ScopeStartTime = now - 7 * DAY, ScopeEndTime = now }).InvestigationId
end

describe("detective emulator: investigations (§4.6)", function()
    it("runs an investigation: RUNNING without indicators, then SUCCESSFUL with the fixture's result", function()
        local api, arn = inv_setup()
        local id = start(api, arn, T0 + 100, ALICE)
        assert.truthy(id:match("^%d+$"))
        assert.equal(21, #id)
        local got = api.call(ADMIN, T0 + 101, "GetInvestigation", { GraphArn = arn, InvestigationId = id })
        assert.equal("RUNNING", got.Status)
        assert.equal("ACTIVE", got.State)
        assert.equal("IAM_USER", got.EntityType)
        assert.equal(ALICE, got.EntityArn)
        assert.equal(arn, got.GraphArn)
        assert.equal(id, got.InvestigationId)
        assert.equal(T0 + 100, got.CreatedTime)
        assert.equal(T0 + 100 - 7 * DAY, got.ScopeStartTime)
        assert.equal(T0 + 100, got.ScopeEndTime)
        local ind = api.call(ADMIN, T0 + 101, "ListIndicators", { GraphArn = arn, InvestigationId = id })
        assert.same({}, ind.Indicators)
        assert.equal(arn, ind.GraphArn)
        assert.equal(id, ind.InvestigationId)
        got = api.call(ADMIN, T0 + 102, "GetInvestigation", { GraphArn = arn, InvestigationId = id })
        assert.equal("SUCCESSFUL", got.Status)
        assert.equal("CRITICAL", got.Severity)
    end)

    it("returns indicators of all 8 types, each with the detail member named after its type", function()
        local api, arn = inv_setup()
        local id = start(api, arn, T0, ALICE)
        local list = api.call(ADMIN, T0 + 10, "ListIndicators", { GraphArn = arn, InvestigationId = id }).Indicators
        assert.equal(8, #list)
        local pairing = {
            TTP_OBSERVED = "TTPsObservedDetail", IMPOSSIBLE_TRAVEL = "ImpossibleTravelDetail",
            FLAGGED_IP_ADDRESS = "FlaggedIpAddressDetail", NEW_GEOLOCATION = "NewGeolocationDetail",
            NEW_ASO = "NewAsoDetail", NEW_USER_AGENT = "NewUserAgentDetail", RELATED_FINDING = "RelatedFindingDetail",
            RELATED_FINDING_GROUP = "RelatedFindingGroupDetail",
        }
        local seen = {}
        for _, i in ipairs(list) do
            seen[i.IndicatorType] = true
            assert.equal(1, count(i.IndicatorDetail))
            assert.is_table(i.IndicatorDetail[pairing[i.IndicatorType]], i.IndicatorType)
        end
        assert.equal(8, count(seen))
        assert.same(ALL_INDICATORS[2], list[2])
        -- filter by type
        local only = api.call(ADMIN, T0 + 10, "ListIndicators", { GraphArn = arn, InvestigationId = id,
            IndicatorType = "FLAGGED_IP_ADDRESS" }).Indicators
        assert.equal(1, #only)
        assert.equal("AWS_THREAT_INTELLIGENCE", only[1].IndicatorDetail.FlaggedIpAddressDetail.Reason)
        -- paging
        local all, pages = H.collect(api.call, ADMIN, T0 + 10, "ListIndicators",
            { GraphArn = arn, InvestigationId = id, MaxResults = 3 }, "Indicators")
        assert.equal(3, pages)
        assert.same(list, all)
    end)

    it("derives IAM_ROLE from a role ARN and refuses other entities and empty scopes", function()
        local api, arn = inv_setup()
        local id = start(api, arn, T0, OPS_ROLE)
        assert.equal("IAM_ROLE", api.call(ADMIN, T0, "GetInvestigation", { GraphArn = arn, InvestigationId = id }).EntityType)
        for _, bad in ipairs({ "arn:aws:s3:::bucket", "arn:aws:sts::" .. B .. ":assumed-role/ops/session",
            "arn:aws:iam::" .. B .. ":group/admins", "arn:aws:ec2:us-east-1:" .. B .. ":instance/i-1" }) do
            local err = H.expect_error("ValidationException", function() start(api, arn, T0, bad) end)
            assert.equal("INVALID_REQUEST_BODY", err.fields.ErrorCode)
        end
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0, "StartInvestigation", { GraphArn = arn, EntityArn = ALICE, ScopeStartTime = T0,
                ScopeEndTime = T0 })
        end)
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0, "StartInvestigation", { GraphArn = arn, EntityArn = ALICE, ScopeStartTime = T0 + 1,
                ScopeEndTime = T0 })
        end)
    end)

    it("fails when the fixture says so: no severity, no indicators", function()
        local api, arn = inv_setup()
        local id = start(api, arn, T0, BROKEN)
        local got = api.call(ADMIN, T0 + 5, "GetInvestigation", { GraphArn = arn, InvestigationId = id })
        assert.equal("FAILED", got.Status)
        assert.is_nil(got.Severity)
        assert.same({}, api.call(ADMIN, T0 + 5, "ListIndicators", { GraphArn = arn, InvestigationId = id }).Indicators)
    end)

    it("generates plausible indicators for entities without a fixture, or none with default_investigation=empty", function()
        local api, arn = inv_setup()
        local bob = "arn:aws:iam::" .. B .. ":user/bob"
        local id = start(api, arn, T0, bob)
        local list = api.call(ADMIN, T0 + 5, "ListIndicators", { GraphArn = arn, InvestigationId = id }).Indicators
        assert.is_true(#list > 0)
        for _, i in ipairs(list) do assert.equal(1, count(i.IndicatorDetail)) end
        assert.equal("SUCCESSFUL", api.call(ADMIN, T0 + 5, "GetInvestigation", { GraphArn = arn, InvestigationId = id }).Status)
        local api2, arn2 = inv_setup({ default_investigation = "empty", investigation_delay_seconds = 0 })
        local id2 = start(api2, arn2, T0, bob)
        local got = api2.call(ADMIN, T0, "GetInvestigation", { GraphArn = arn2, InvestigationId = id2 })
        assert.equal("SUCCESSFUL", got.Status)
        assert.equal("INFORMATIONAL", got.Severity)
        assert.same({}, api2.call(ADMIN, T0, "ListIndicators", { GraphArn = arn2, InvestigationId = id2 }).Indicators)
    end)

    it("answers 404 for an unknown investigation id and archives with UpdateInvestigationState", function()
        local api, arn = inv_setup()
        H.expect_error("ResourceNotFoundException", function()
            api.call(ADMIN, T0, "GetInvestigation", { GraphArn = arn, InvestigationId = string.rep("1", 21) })
        end)
        H.expect_error("ResourceNotFoundException", function()
            api.call(ADMIN, T0, "ListIndicators", { GraphArn = arn, InvestigationId = string.rep("1", 21) })
        end)
        H.expect_error("ResourceNotFoundException", function()
            api.call(ADMIN, T0, "UpdateInvestigationState", { GraphArn = arn, InvestigationId = string.rep("1", 21),
                State = "ARCHIVED" })
        end)
        local id = start(api, arn, T0, ALICE)
        assert.is_nil(api.call(ADMIN, T0 + 5, "UpdateInvestigationState", { GraphArn = arn, InvestigationId = id,
            State = "ARCHIVED" }))
        assert.equal("ARCHIVED", api.call(ADMIN, T0 + 6, "GetInvestigation", { GraphArn = arn, InvestigationId = id }).State)
        api.call(ADMIN, T0 + 7, "UpdateInvestigationState", { GraphArn = arn, InvestigationId = id, State = "ACTIVE" })
        assert.equal("ACTIVE", api.call(ADMIN, T0 + 8, "GetInvestigation", { GraphArn = arn, InvestigationId = id }).State)
        -- another graph's administrator cannot see it
        local other = api.call(G, T0, "CreateGraph", {}).GraphArn
        H.expect_error("ResourceNotFoundException", function()
            api.call(G, T0, "GetInvestigation", { GraphArn = other, InvestigationId = id })
        end)
        H.expect_error("AccessDeniedException", function()
            api.call(G, T0, "GetInvestigation", { GraphArn = arn, InvestigationId = id })
        end)
    end)

    describe("ListInvestigations", function()
        local api, arn, ids
        before_each(function()
            api, arn = inv_setup()
            ids = {
                alice1 = start(api, arn, T0, ALICE),            -- CRITICAL
                role = start(api, arn, T0 + 100, OPS_ROLE),     -- MEDIUM
                broken = start(api, arn, T0 + 200, BROKEN),     -- FAILED
                alice2 = start(api, arn, T0 + 300, ALICE),      -- still RUNNING at T0 + 301
            }
            api.call(ADMIN, T0 + 250, "UpdateInvestigationState", { GraphArn = arn, InvestigationId = ids.role,
                State = "ARCHIVED" })
        end)

        local function list(input, now)
            input.GraphArn = arn
            local out = api.call(ADMIN, now or T0 + 301, "ListInvestigations", input)
            local got = {}
            for i, d in ipairs(out.InvestigationDetails) do got[i] = d.InvestigationId end
            return got, out
        end

        it("returns all investigations, newest first, by default (including ARCHIVED)", function()
            local got, out = list({})
            assert.same({ ids.alice2, ids.broken, ids.role, ids.alice1 }, got)
            local d = out.InvestigationDetails[4]
            assert.equal("CRITICAL", d.Severity)
            assert.equal("SUCCESSFUL", d.Status)
            assert.equal("ACTIVE", d.State)
            assert.equal(T0, d.CreatedTime)
            assert.equal(ALICE, d.EntityArn)
            assert.equal("IAM_USER", d.EntityType)
            assert.equal("RUNNING", out.InvestigationDetails[1].Status)
        end)

        it("filters by each criterion and combines them with AND", function()
            assert.same({ ids.alice1 }, list({ FilterCriteria = { Severity = { Value = "CRITICAL" } } }))
            assert.same({ ids.broken }, list({ FilterCriteria = { Status = { Value = "FAILED" } } }))
            assert.same({ ids.role }, list({ FilterCriteria = { State = { Value = "ARCHIVED" } } }))
            assert.same({ ids.alice2, ids.alice1 }, list({ FilterCriteria = { EntityArn = { Value = ALICE } } }))
            assert.same({ ids.alice2 }, list({ FilterCriteria = { EntityArn = { Value = ALICE },
                Status = { Value = "RUNNING" } } }))
            assert.same({}, list({ FilterCriteria = { EntityArn = { Value = ALICE }, Severity = { Value = "MEDIUM" } } }))
            -- CreatedTime bounds are inclusive
            assert.same({ ids.broken, ids.role }, list({ FilterCriteria = { CreatedTime = {
                StartInclusive = T0 + 100, EndInclusive = T0 + 200 } } }))
        end)

        it("sorts by severity rank, status and creation time in either order", function()
            -- RUNNING and FAILED runs have no severity: they rank lowest, newest first among themselves
            assert.same({ ids.alice1, ids.role, ids.alice2, ids.broken },
                list({ SortCriteria = { Field = "SEVERITY", SortOrder = "DESC" } }))
            local asc = list({ SortCriteria = { Field = "SEVERITY", SortOrder = "ASC" } })
            assert.equal(ids.role, asc[3])
            assert.equal(ids.alice1, asc[4])
            assert.same({ ids.alice1, ids.role, ids.broken, ids.alice2 },
                list({ SortCriteria = { Field = "CREATED_TIME", SortOrder = "ASC" } }))
            local st = list({ SortCriteria = { Field = "STATUS", SortOrder = "ASC" } })
            assert.equal(ids.alice2, st[1]) -- RUNNING first in the model's enum order
            assert.equal(ids.broken, st[2])
        end)

        it("pages with MaxResults and keeps the order across pages", function()
            local full = list({ SortCriteria = { Field = "SEVERITY", SortOrder = "DESC" } })
            local all, pages = H.collect(api.call, ADMIN, T0 + 301, "ListInvestigations",
                { GraphArn = arn, MaxResults = 3, SortCriteria = { Field = "SEVERITY", SortOrder = "DESC" } },
                "InvestigationDetails")
            assert.equal(2, pages)
            local got = {}
            for i, d in ipairs(all) do got[i] = d.InvestigationId end
            assert.same(full, got)
        end)

        it("lists only ACTIVE ones when list_investigations_default_state is ACTIVE", function()
            local api2, arn2 = inv_setup({ list_investigations_default_state = "ACTIVE" })
            local a = start(api2, arn2, T0, ALICE)
            local b = start(api2, arn2, T0 + 1, OPS_ROLE)
            api2.call(ADMIN, T0 + 2, "UpdateInvestigationState", { GraphArn = arn2, InvestigationId = b, State = "ARCHIVED" })
            local out = api2.call(ADMIN, T0 + 3, "ListInvestigations", { GraphArn = arn2 }).InvestigationDetails
            assert.equal(1, #out)
            assert.equal(a, out[1].InvestigationId)
            out = api2.call(ADMIN, T0 + 3, "ListInvestigations", { GraphArn = arn2,
                FilterCriteria = { State = { Value = "ARCHIVED" } } }).InvestigationDetails
            assert.equal(b, out[1].InvestigationId)
        end)
    end)
end)

describe("detective emulator: paging on every list operation (§1.4)", function()
    it("pages ListMembers, ListInvitations, ListGraphs and ListOrganizationAdminAccounts", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" }, { C, "c@example.com" }, { D, "d@example.com" },
            { F, "f@example.com" }, { G, "g@example.com" } })
        local all, pages = H.collect(api.call, ADMIN, T0 + 1, "ListMembers", { GraphArn = arn, MaxResults = 2 }, "MemberDetails")
        assert.equal(3, pages)
        assert.equal(5, #all)
        local ids = {}
        for _, m in ipairs(all) do
            assert.is_nil(ids[m.AccountId])
            ids[m.AccountId] = true
        end
        -- the same listing in one page has the same order
        local one = api.call(ADMIN, T0 + 1, "ListMembers", { GraphArn = arn }).MemberDetails
        for i = 1, 5 do assert.equal(one[i].AccountId, all[i].AccountId) end
        -- invitations of B in three graphs
        for _, admin in ipairs({ G, F }) do
            local g = api.call(admin, T0, "CreateGraph", {}).GraphArn
            api.call(admin, T0 + 1, "CreateMembers", { GraphArn = g, Accounts = { { AccountId = B, EmailAddress = "b@example.com" } } })
        end
        local inv, ipages = H.collect(api.call, B, T0 + 2, "ListInvitations", { MaxResults = 2 }, "Invitations")
        assert.equal(2, ipages)
        assert.equal(3, #inv)
        local graphs, gpages = H.collect(api.call, ADMIN, T0 + 2, "ListGraphs", { MaxResults = 1 }, "GraphList")
        assert.equal(1, gpages)
        assert.equal(1, #graphs)
        api.call(MGMT, T0, "EnableOrganizationAdminAccount", { AccountId = ORGADMIN })
        local admins, apages = H.collect(api.call, MGMT, T0 + 2, "ListOrganizationAdminAccounts", { MaxResults = 1 },
            "Administrators")
        assert.equal(1, apages)
        assert.equal(1, #admins)
    end)

    it("uses default_page_size when MaxResults is absent", function()
        local api = setup({ default_page_size = 2 })
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" }, { C, "c@example.com" }, { G, "g@example.com" } })
        local out = api.call(ADMIN, T0 + 1, "ListMembers", { GraphArn = arn })
        assert.equal(2, #out.MemberDetails)
        assert.is_string(out.NextToken)
    end)

    it("refuses garbled, foreign and expired tokens with ValidationException", function()
        local api = setup()
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        local other = api.call(G, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" }, { C, "c@example.com" }, { D, "d@example.com" } })
        api.call(G, T0, "CreateMembers", { GraphArn = other, Accounts = {
            { AccountId = B, EmailAddress = "b@example.com" }, { AccountId = C, EmailAddress = "c@example.com" } } })
        local tok = api.call(ADMIN, T0 + 1, "ListMembers", { GraphArn = arn, MaxResults = 1 }).NextToken
        assert.is_string(tok)
        assert.is_true(#tok <= 1024)
        -- valid: next page with a different page size
        assert.equal(2, #api.call(ADMIN, T0 + 2, "ListMembers", { GraphArn = arn, MaxResults = 2, NextToken = tok }).MemberDetails)
        local function bad(account, now, op, input)
            local err = H.expect_error("ValidationException", function() api.call(account, now, op, input) end)
            assert.equal("INVALID_REQUEST_BODY", err.fields.ErrorCode)
        end
        bad(ADMIN, T0 + 2, "ListMembers", { GraphArn = arn, NextToken = "garbage" })
        bad(ADMIN, T0 + 2, "ListMembers", { GraphArn = arn, NextToken = tok:sub(1, -5) .. "AAAA" })
        bad(ADMIN, T0 + 2, "ListInvitations", { NextToken = tok })               -- other operation
        bad(G, T0 + 2, "ListMembers", { GraphArn = other, NextToken = tok })     -- other graph and caller
        bad(ADMIN, T0 + 1 + DAY + 1, "ListMembers", { GraphArn = arn, NextToken = tok }) -- expired (24 h)
        -- still fine just before expiry
        api.call(ADMIN, T0 + 1 + DAY - 1, "ListMembers", { GraphArn = arn, NextToken = tok })
    end)

    it("honours page_token_ttl_seconds", function()
        local api = setup({ page_token_ttl_seconds = 60 })
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        local tok = api.call(ADMIN, T0, "ListDatasourcePackages", { GraphArn = arn, MaxResults = 1 }).NextToken
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0 + 61, "ListDatasourcePackages", { GraphArn = arn, MaxResults = 1, NextToken = tok })
        end)
    end)

    it("refuses a token from the same operation with different filters", function()
        local api, arn = inv_setup()
        start(api, arn, T0, ALICE)
        start(api, arn, T0 + 1, ALICE)
        local tok = api.call(ADMIN, T0 + 5, "ListInvestigations", { GraphArn = arn, MaxResults = 1 }).NextToken
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0 + 5, "ListInvestigations", { GraphArn = arn, MaxResults = 1, NextToken = tok,
                FilterCriteria = { Severity = { Value = "CRITICAL" } } })
        end)
        local id = start(api, arn, T0 + 2, ALICE)
        local itok = api.call(ADMIN, T0 + 5, "ListIndicators", { GraphArn = arn, InvestigationId = id, MaxResults = 1 }).NextToken
        H.expect_error("ValidationException", function()
            api.call(ADMIN, T0 + 5, "ListIndicators", { GraphArn = arn, InvestigationId = id, MaxResults = 1,
                NextToken = itok, IndicatorType = "NEW_ASO" })
        end)
    end)

    it("checks MaxResults bounds: 1-200 for membership lists, 1-100 for investigations and indicators", function()
        local api, arn = inv_setup()
        local id = start(api, arn, T0, ALICE)
        for _, case in ipairs({
            { "ListMembers", { GraphArn = arn }, 200 }, { "ListGraphs", {}, 200 }, { "ListInvitations", {}, 200 },
            { "ListDatasourcePackages", { GraphArn = arn }, 200 },
            { "ListInvestigations", { GraphArn = arn }, 100 },
            { "ListIndicators", { GraphArn = arn, InvestigationId = id }, 100 },
        }) do
            local op, input, max = case[1], case[2], case[3]
            input.MaxResults = max
            api.call(ADMIN, T0 + 5, op, input)
            for _, bad in ipairs({ 0, max + 1 }) do
                input.MaxResults = bad
                H.expect_error("ValidationException", function() api.call(ADMIN, T0 + 5, op, input) end)
            end
        end
        local api2 = setup()
        H.expect_error("ValidationException", function()
            api2.call(MGMT, T0, "ListOrganizationAdminAccounts", { MaxResults = 201 })
        end)
    end)
end)

describe("detective emulator: quotas (§6)", function()
    local function big_world(n)
        local s = scenario({ auto_recheck = false })
        for i = 1, n do
            local id = string.format("8%011d", i)
            s.accounts[#s.accounts + 1] = acct(id, "m" .. i .. "@example.com", T0 - 30 * DAY, 1)
        end
        local world = H.world(s)
        return H.service(S, world)
    end

    local function batch(from, to)
        local list = {}
        for i = from, to do list[#list + 1] = { AccountId = string.format("8%011d", i), EmailAddress = "m" .. i .. "@example.com" } end
        return list
    end

    it("caps a graph at 1,200 members: partial batches are unprocessed, a batch with no room is refused (402)", function()
        local api = big_world(1260)
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        for start_i = 1, 1151, 50 do
            local out = api.call(ADMIN, T0 + 1, "CreateMembers", { GraphArn = arn, Accounts = batch(start_i, start_i + 49) })
            assert.equal(50, #out.Members)
        end
        -- 1,200 now
        local members = H.collect(api.call, ADMIN, T0 + 2, "ListMembers", { GraphArn = arn, MaxResults = 200 }, "MemberDetails")
        assert.equal(1200, #members)
        local err = H.expect_error("ServiceQuotaExceededException", function()
            api.call(ADMIN, T0 + 3, "CreateMembers", { GraphArn = arn, Accounts = batch(1201, 1250) })
        end)
        assert.is_table(err.fields.Resources)
        assert.is_string(err.fields.Resources[1])
        -- make room for 10: a batch of 20 gets 10 in, 10 unprocessed
        local ids = {}
        for i = 1, 10 do ids[i] = string.format("8%011d", i) end
        api.call(ADMIN, T0 + 4, "DeleteMembers", { GraphArn = arn, AccountIds = ids })
        local out = api.call(ADMIN, T0 + 5, "CreateMembers", { GraphArn = arn, Accounts = batch(1201, 1220) })
        assert.equal(10, #out.Members)
        assert.equal(10, #out.UnprocessedAccounts)
        for _, u in ipairs(out.UnprocessedAccounts) do assert.truthy(u.Reason:find("1200", 1, true)) end
        -- a full graph still answers for accounts already in it (unprocessed, not 402)
        out = api.call(ADMIN, T0 + 6, "CreateMembers", { GraphArn = arn, Accounts = batch(1201, 1201) })
        assert.equal(0, #out.Members)
        assert.truthy(out.UnprocessedAccounts[1].Reason:find("already a member", 1, true))
        H.expect_error("ServiceQuotaExceededException", function()
            api.call(ADMIN, T0 + 7, "CreateMembers", { GraphArn = arn, Accounts = batch(1221, 1221) })
        end)
    end)
end)

describe("detective emulator: graphs seeded by the scenario", function()
    it("creates the detective section's graphs once, including an organization graph", function()
        local api = setup({}, { detective = { graphs = {
            { administrator = ORGADMIN, organization_graph = true, auto_enable = true, created = T0 - DAY,
              members = { { account_id = ORG1 }, { account_id = G, status = "INVITED" } } },
        } } })
        local arn = api.call(ORGADMIN, T0, "ListGraphs", {}).GraphList[1].Arn
        assert.same({ { AccountId = ORGADMIN, GraphArn = arn, DelegationTime = T0 - DAY } },
            api.call(MGMT, T0, "ListOrganizationAdminAccounts", {}).Administrators)
        assert.same({ AutoEnable = true }, api.call(ORGADMIN, T0, "DescribeOrganizationConfiguration", { GraphArn = arn }))
        local list = by_account(api.call(ORGADMIN, T0, "ListMembers", { GraphArn = arn }).MemberDetails)
        assert.equal("ORGANIZATION", list[ORG1].InvitationType)
        assert.equal("ENABLED", list[ORG1].Status)
        assert.equal("INVITATION", list[G].InvitationType)
        assert.equal("INVITED", list[G].Status)
        api.call(G, T0 + 1, "AcceptInvitation", { GraphArn = arn })
        assert.equal("ENABLED", member(api, arn, T0 + 2, G, ORGADMIN).Status)
        assert.equal(1, #api.call(ORGADMIN, T0 + 3, "ListGraphs", {}).GraphList)
    end)

    it("refuses a malformed section when the service is created", function()
        local world = H.world(scenario({}, { detective = { graphs = { { administrator = ADMIN,
            members = { { account_id = B, status = "ACTIVE" } } } } } }))
        local ok, msg = pcall(S.new, world)
        assert.is_false(ok)
        assert.truthy(msg:find("detective.graphs[0].members[0].status", 1, true))
    end)
end)

describe("detective emulator: persistence", function()
    it("keeps world.data JSON-serialisable and behaves the same after a round trip", function()
        -- every call in these specs round-trips world.data through JSON first (see detective_world);
        -- here the time-based transitions are checked across such round trips explicitly.
        local api, world = setup({ verification_delay_seconds = 10, investigation_delay_seconds = 10 })
        local arn = api.call(ADMIN, T0, "CreateGraph", {}).GraphArn
        invite(api, arn, T0, { { B, "b@example.com" } })
        local id = start(api, arn, T0, ALICE)
        world.data = H.json.decode(H.json.encode(world.data))
        assert.equal("VERIFICATION_IN_PROGRESS", member(api, arn, T0 + 9, B).Status)
        assert.equal("INVITED", member(api, arn, T0 + 10, B).Status)
        assert.equal("RUNNING", api.call(ADMIN, T0 + 9, "GetInvestigation", { GraphArn = arn, InvestigationId = id }).Status)
        assert.equal("SUCCESSFUL", api.call(ADMIN, T0 + 10, "GetInvestigation", { GraphArn = arn, InvestigationId = id }).Status)
    end)
end)
