-- End to end: every Detective operation and every implemented GuardDuty operation, driven
-- through detlua's own bindings (aws.client -> SigV4 -> HTTP) against an in-process emulator.
-- Members act through sts:assume_role on the built-in scenario's DetectiveMember roles.
-- Expected behaviour comes from the reference (detective-semantics.md: HTTP bindings §3,
-- member state machine §2.1, error shapes §1.3, paging §1.4, GuardDuty §8) and the decisions
-- in docs/emulator-detective.md / docs/emulator-guardduty.md, and the scenario's own input
-- (emails, fixture indicators); never from copying the emulator's answers.
local aws = require "aws"
local E = require "aws.core.emulator"
local clientmod = require "aws.client"
local scenario = require "detlua.emulator.scenario"
local secrets = require "secrets"
local tables = require "tables"

local REGION = "us-east-1"
local ADMIN, PROD, DEV, SANDBOX, MGMT = "111122223333", "444455556666", "777788889999", "555566667777", "999988887777"
-- The management account has no role the admin can assume; its keys are the built-in
-- scenario's (printed by `detlua emulator --print-scenario`).
local function scenario_keys(account)
    return secrets.keys_by_account(scenario.default_raw())[account]
end
local GRAPH_PATTERN = "^arn:aws:detective:us%-east%-1:" .. ADMIN .. ":graph:" .. string.rep("[0-9a-f]", 32) .. "$"
local ALICE = "arn:aws:iam::" .. PROD .. ":user/alice"

-- HTTP status of the last call, seen through the client's after_call hook (chained).
local last_status
local prev_after
local called = {} -- service -> set of operation names that went through the client
local function install_hook()
    prev_after = clientmod.hooks.after_call
    clientmod.hooks.after_call = function(c, op, params, info)
        last_status = info.status
        called[c.service] = called[c.service] or {}
        called[c.service][type(op) == "table" and op.name or tostring(op)] = true
        if prev_after then return prev_after(c, op, params, info) end
    end
end
local function remove_hook() clientmod.hooks.after_call = prev_after end

local function world(opts)
    local srv = E.start(opts or { port = 0, settings = { detective = { investigation_delay_seconds = 0 } } })
    local w = { srv = srv, admin = secrets.plain(srv:admin_credentials()) }
    function w.client(service, creds)
        return aws.client(service, { endpoint = srv:url(), region = REGION, credentials = creds or w.admin, max_attempts = 1 })
    end
    function w.member(account)
        return secrets.from_sts(w.client("sts"):assume_role { RoleArn = "arn:aws:iam::" .. account .. ":role/DetectiveMember",
            RoleSessionName = "e2e" }.Credentials)
    end
    return w
end

-- Calls fn and returns the aws.Error it raises (fails the test when it does not raise one).
local function err_of(fn, ...)
    local ok, e = pcall(fn, ...)
    assert.is_false(ok, "expected an error")
    assert.is_true(aws.is_error(e), "expected an aws.Error, got " .. tostring(e))
    return e
end

local by = tables.index

local function count_pages(c, op, params, key)
    local pages, items = 0, {}
    for page in c:pages(op, params, { page_size = 1 }) do
        pages = pages + 1
        local list = page[key]
        local n = 0
        if type(list) == "table" then for k, v in pairs(list) do n = n + 1; items[#items + 1] = (type(k) == "string") and k or v end end
        assert.is_true(n <= 1, op .. ": page of " .. n .. " with MaxResults=1")
    end
    return pages, items
end

describe("emulator end to end through aws.client: Detective", function()
    local w, det, prod, dev, sandbox, graph
    setup(function()
        install_hook()
        w = world()
        det = w.client("detective")
        prod = w.client("detective", w.member(PROD))
        dev = w.client("detective", w.member(DEV))
        sandbox = w.client("detective", w.member(SANDBOX))
    end)
    teardown(function()
        remove_hook()
        w.srv:stop()
    end)

    it("ListGraphs is empty before CreateGraph; CreateGraph is idempotent per administrator", function()
        assert.same(0, #det:list_graphs{}.GraphList)
        graph = det:create_graph { Tags = { Team = "secops" } }.GraphArn
        assert.matches(GRAPH_PATTERN, graph)
        assert.equal(200, last_status)
        assert.equal(graph, det:create_graph {}.GraphArn)
        local gl = det:list_graphs {}.GraphList
        assert.equal(1, #gl)
        assert.equal(graph, gl[1].Arn)
        -- Detective timestamps are ISO 8601 strings (reference §1.1)
        assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", gl[1].CreatedTime)
    end)

    it("tags: TagResource/UntagResource answer 204, ListTagsForResource reflects them", function()
        det:tag_resource { ResourceArn = graph, Tags = { Env = "prod", Owner = "ir" } }
        assert.equal(204, last_status)
        assert.same({ Team = "secops", Env = "prod", Owner = "ir" }, det:list_tags_for_resource { ResourceArn = graph }.Tags)
        det:untag_resource { ResourceArn = graph, TagKeys = { "Owner", "Missing" } }
        assert.equal(204, last_status)
        assert.same({ Team = "secops", Env = "prod" }, det:list_tags_for_resource { ResourceArn = graph }.Tags)
        local e = err_of(prod.list_tags_for_resource, prod, { ResourceArn = graph })
        assert.equal("AccessDeniedException", e.code)
        assert.equal(403, e.status)
    end)

    it("data source packages: list, start one, member datasources", function()
        local pk = det:list_datasource_packages { GraphArn = graph }.DatasourcePackages
        assert.equal("STARTED", pk.DETECTIVE_CORE.DatasourcePackageIngestState)
        det:update_datasource_packages { GraphArn = graph, DatasourcePackages = { "EKS_AUDIT" } }
        assert.equal(200, last_status)
        pk = det:list_datasource_packages { GraphArn = graph }.DatasourcePackages
        assert.equal("STARTED", pk.EKS_AUDIT.DatasourcePackageIngestState)
    end)

    it("errors as a client sees them: 404 missing graph, 403 member on admin op, 400 bad token", function()
        local missing = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" .. string.rep("0", 32)
        local e = err_of(det.list_members, det, { GraphArn = missing })
        assert.equal("ResourceNotFoundException", e.code)
        assert.equal(404, e.status)
        assert.equal("service", e.kind)
        assert.equal("Detective.ListMembers", e.operation)
        e = err_of(prod.list_members, prod, { GraphArn = graph })
        assert.equal("AccessDeniedException", e.code)
        assert.equal(403, e.status)
        e = err_of(prod.create_members, prod, { GraphArn = graph, Accounts = { { AccountId = DEV, EmailAddress = "dev@example.com" } } })
        assert.equal(403, e.status)
        e = err_of(det.list_members, det, { GraphArn = graph, NextToken = "garbled-token" })
        assert.equal("ValidationException", e.code)
        assert.equal(400, e.status)
        assert.equal("INVALID_REQUEST_BODY", e.fields.ErrorCode)
    end)

    it("member state machine across accounts: CreateMembers -> INVITED -> Accept -> ENABLED", function()
        local r = det:create_members { GraphArn = graph, Message = "join", DisableEmailNotification = true, Accounts = {
            { AccountId = PROD, EmailAddress = "prod@example.com" },
            { AccountId = DEV, EmailAddress = "dev@example.com" },
            { AccountId = SANDBOX, EmailAddress = "sandbox@example.com" },
            { AccountId = ADMIN, EmailAddress = "security@example.com" },
        } }
        local m = by(r.Members, "AccountId")
        for _, a in ipairs { PROD, DEV, SANDBOX } do
            assert.equal("VERIFICATION_IN_PROGRESS", m[a].Status)
            assert.equal(ADMIN, m[a].AdministratorId)
            assert.equal(graph, m[a].GraphArn)
        end
        assert.is_nil(m[ADMIN])
        assert.equal(ADMIN, r.UnprocessedAccounts[1].AccountId)
        local g = det:get_members { GraphArn = graph, AccountIds = { PROD, DEV, SANDBOX, "123456789012" } }
        local gm = by(g.MemberDetails, "AccountId")
        for _, a in ipairs { PROD, DEV, SANDBOX } do
            assert.equal("INVITED", gm[a].Status)
            assert.equal("INVITATION", gm[a].InvitationType)
        end
        assert.equal("123456789012", g.UnprocessedAccounts[1].AccountId)
        -- member side
        local inv = prod:list_invitations {}.Invitations
        assert.equal(1, #inv)
        assert.equal(graph, inv[1].GraphArn)
        assert.equal("INVITED", inv[1].Status)
        prod:accept_invitation { GraphArn = graph }
        assert.equal(200, last_status)
        local pm = det:get_members { GraphArn = graph, AccountIds = { PROD } }.MemberDetails[1]
        assert.equal("ENABLED", pm.Status)
        assert.is_nil(pm.DisabledReason)
        assert.equal(ADMIN, pm.MasterId) -- deprecated twin of AdministratorId
        assert.is_number(pm.VolumeUsageInBytes)
        assert.equal("STARTED", pm.DatasourcePackageIngestStates.DETECTIVE_CORE)
        local e = err_of(prod.accept_invitation, prod, { GraphArn = graph })
        assert.equal("ConflictException", e.code)
        assert.equal(409, e.status)
        -- never invited to this graph -> 404; graph administrator accepting -> 409
        e = err_of(det.accept_invitation, det, { GraphArn = graph })
        assert.equal(409, e.status)
        -- sandbox is no GuardDuty customer: ACCEPTED_BUT_DISABLED / VOLUME_UNKNOWN
        sandbox:accept_invitation { GraphArn = graph }
        local sb = det:get_members { GraphArn = graph, AccountIds = { SANDBOX } }.MemberDetails[1]
        assert.equal("ACCEPTED_BUT_DISABLED", sb.Status)
        assert.equal("VOLUME_UNKNOWN", sb.DisabledReason)
        det:start_monitoring_member { GraphArn = graph, AccountId = SANDBOX }
        assert.equal(200, last_status)
        assert.equal("ACCEPTED_BUT_DISABLED", det:get_members { GraphArn = graph, AccountIds = { SANDBOX } }.MemberDetails[1].Status)
        e = err_of(det.start_monitoring_member, det, { GraphArn = graph, AccountId = PROD })
        assert.equal("ConflictException", e.code)
        -- datasources from both sides
        local md = det:batch_get_graph_member_datasources { GraphArn = graph, AccountIds = { PROD, "123456789012" } }
        assert.equal(PROD, md.MemberDatasources[1].AccountId)
        assert.equal("123456789012", md.UnprocessedAccounts[1].AccountId)
        local missing = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" .. string.rep("1", 32)
        local ms = prod:batch_get_membership_datasources { GraphArns = { graph, missing } }
        assert.equal(graph, ms.MembershipDatasources[1].GraphArn)
        assert.equal(missing, ms.UnprocessedGraphs[1].GraphArn)
    end)

    it("paging with MaxResults=1 (client:pages) on ListMembers, ListInvitations, ListDatasourcePackages, ListGraphs", function()
        local pages, items = count_pages(det, "ListMembers", { GraphArn = graph }, "MemberDetails")
        assert.equal(3, pages)
        assert.same({ PROD, DEV, SANDBOX }, { items[1].AccountId, items[2].AccountId, items[3].AccountId })
        pages = count_pages(det, "ListDatasourcePackages", { GraphArn = graph }, "DatasourcePackages")
        assert.equal(3, pages) -- DETECTIVE_CORE, EKS_AUDIT, ASFF_SECURITYHUB_FINDING
        pages = count_pages(det, "ListGraphs", {}, "GraphList")
        assert.equal(1, pages)
        -- a second graph (administered by DEV) invites PROD: two invitations for PROD
        local g2 = dev:create_graph {}.GraphArn
        dev:create_members { GraphArn = g2, Accounts = { { AccountId = PROD, EmailAddress = "prod@example.com" } } }
        local ip
        ip, items = count_pages(prod, "ListInvitations", {}, "Invitations")
        assert.equal(2, ip)
        assert.equal(graph, items[1].GraphArn) -- oldest invitation first
        prod:reject_invitation { GraphArn = g2 }
        assert.equal(200, last_status)
        assert.equal(1, #prod:list_invitations {}.Invitations)
        dev:delete_graph { GraphArn = g2 }
    end)

    it("RejectInvitation, DisassociateMembership and DeleteMembers remove memberships", function()
        dev:reject_invitation { GraphArn = graph }
        local e = err_of(dev.reject_invitation, dev, { GraphArn = graph })
        assert.equal("ResourceNotFoundException", e.code)
        prod:disassociate_membership { GraphArn = graph }
        assert.equal(200, last_status)
        assert.same(0, #prod:list_invitations {}.Invitations)
        e = err_of(sandbox.disassociate_membership, sandbox, { GraphArn = graph }) -- not ENABLED
        assert.equal("ConflictException", e.code)
        -- an email that does not match the account's: VERIFICATION_FAILED, listed by ListMembers
        -- but no invitation reaches the account (reference §2.1)
        det:create_members { GraphArn = graph, Accounts = { { AccountId = DEV, EmailAddress = "wrong@example.com" } } }
        local dm = det:get_members { GraphArn = graph, AccountIds = { DEV } }.MemberDetails[1]
        assert.equal("VERIFICATION_FAILED", dm.Status)
        assert.same(0, #dev:list_invitations {}.Invitations)
        local d = det:delete_members { GraphArn = graph, AccountIds = { SANDBOX, DEV, PROD } }
        table.sort(d.AccountIds)
        assert.same({ SANDBOX, DEV }, d.AccountIds)
        assert.equal(PROD, d.UnprocessedAccounts[1].AccountId)
        assert.same(0, #det:list_members { GraphArn = graph }.MemberDetails)
    end)

    local inv_alice, inv_role
    it("investigations: Start -> Get SUCCESSFUL -> ListInvestigations filter -> Update state", function()
        local t1 = aws.time.format(aws.time.ago("24h"))
        local t2 = aws.time.format(aws.time.now())
        inv_alice = det:start_investigation { GraphArn = graph, EntityArn = ALICE, ScopeStartTime = t1, ScopeEndTime = t2 }.InvestigationId
        assert.matches("^%d+$", inv_alice)
        assert.equal(21, #inv_alice)
        inv_role = det:start_investigation { GraphArn = graph, EntityArn = "arn:aws:iam::" .. DEV .. ":role/ci", ScopeStartTime = t1, ScopeEndTime = t2 }.InvestigationId
        local gi = det:get_investigation { GraphArn = graph, InvestigationId = inv_alice }
        assert.equal("SUCCESSFUL", gi.Status)
        assert.equal("IAM_USER", gi.EntityType)
        assert.equal("ACTIVE", gi.State)
        assert.equal(ALICE, gi.EntityArn)
        assert.equal("CRITICAL", gi.Severity) -- the scenario's fixture for alice
        assert.equal("IAM_ROLE", det:get_investigation { GraphArn = graph, InvestigationId = inv_role }.EntityType)
        local li = det:list_investigations { GraphArn = graph, FilterCriteria = { EntityArn = { Value = ALICE } } }.InvestigationDetails
        assert.equal(1, #li)
        assert.equal(inv_alice, li[1].InvestigationId)
        li = det:list_investigations { GraphArn = graph, FilterCriteria = { Severity = { Value = "CRITICAL" } } }.InvestigationDetails
        assert.equal(1, #li)
        local pages = count_pages(det, "ListInvestigations", { GraphArn = graph }, "InvestigationDetails")
        assert.equal(2, pages)
        det:update_investigation_state { GraphArn = graph, InvestigationId = inv_role, State = "ARCHIVED" }
        assert.equal(200, last_status)
        assert.equal("ARCHIVED", det:get_investigation { GraphArn = graph, InvestigationId = inv_role }.State)
        li = det:list_investigations { GraphArn = graph, FilterCriteria = { State = { Value = "ARCHIVED" } } }.InvestigationDetails
        assert.equal(1, #li)
        assert.equal(inv_role, li[1].InvestigationId)
        local e = err_of(det.get_investigation, det, { GraphArn = graph, InvestigationId = string.rep("9", 21) })
        assert.equal("ResourceNotFoundException", e.code)
        e = err_of(det.start_investigation, det, { GraphArn = graph, EntityArn = "arn:aws:s3:::bucket", ScopeStartTime = t1, ScopeEndTime = t2 })
        assert.equal("ValidationException", e.code)
        e = err_of(det.start_investigation, det, { GraphArn = graph, EntityArn = ALICE, ScopeStartTime = t2, ScopeEndTime = t1 })
        assert.equal("ValidationException", e.code)
    end)

    it("ListIndicators: IndicatorType filter, paging through client:each and client:pages", function()
        local fixture = scenario.default_raw().investigations[ALICE].indicators
        local r = det:list_indicators { GraphArn = graph, InvestigationId = inv_alice, IndicatorType = "IMPOSSIBLE_TRAVEL" }
        assert.equal(1, #r.Indicators)
        assert.equal("IMPOSSIBLE_TRAVEL", r.Indicators[1].IndicatorType)
        assert.equal("Sydney, AU", r.Indicators[1].IndicatorDetail.ImpossibleTravelDetail.EndingLocation)
        local types = {}
        for ind in det:each("ListIndicators", { GraphArn = graph, InvestigationId = inv_alice }, { page_size = 1 }) do
            types[#types + 1] = ind.IndicatorType
        end
        local want = {}
        for i, f in ipairs(fixture) do want[i] = f.IndicatorType end
        assert.same(want, types)
        assert.equal(#fixture, (count_pages(det, "ListIndicators", { GraphArn = graph, InvestigationId = inv_alice }, "Indicators")))
        local e = err_of(det.list_indicators, det, { GraphArn = graph, InvestigationId = inv_alice, NextToken = "x" })
        assert.equal("ValidationException", e.code)
    end)

    it("DeleteGraph removes the graph, also from an invited member's ListInvitations", function()
        det:create_members { GraphArn = graph, Accounts = { { AccountId = PROD, EmailAddress = "PROD@example.com" } } }
        assert.equal(1, #prod:list_invitations {}.Invitations) -- email compared case-insensitively
        det:delete_graph { GraphArn = graph }
        assert.same(0, #prod:list_invitations {}.Invitations)
        assert.equal(200, last_status)
        assert.same(0, #det:list_graphs {}.GraphList)
        local e = err_of(det.list_tags_for_resource, det, { ResourceArn = graph })
        assert.equal(404, e.status)
    end)
end)

describe("emulator end to end through aws.client: Detective organization", function()
    local w, det, mgmt, prod
    setup(function()
        install_hook()
        w = world()
        det = w.client("detective")
        mgmt = w.client("detective", scenario_keys(MGMT))
        prod = w.client("detective", w.member(PROD))
    end)
    teardown(function()
        remove_hook()
        w.srv:stop()
    end)

    it("Enable/List/DisableOrganizationAdminAccount and the organization configuration", function()
        assert.same(0, #mgmt:list_organization_admin_accounts {}.Administrators)
        mgmt:enable_organization_admin_account { AccountId = ADMIN }
        assert.equal(200, last_status)
        local admins = mgmt:list_organization_admin_accounts {}.Administrators
        assert.equal(1, #admins)
        assert.equal(ADMIN, admins[1].AccountId)
        local graph = admins[1].GraphArn
        assert.matches(GRAPH_PATTERN, graph)
        assert.equal(graph, det:list_graphs {}.GraphList[1].Arn)
        assert.equal(1, (count_pages(mgmt, "ListOrganizationAdminAccounts", {}, "Administrators")))
        assert.is_false(det:describe_organization_configuration { GraphArn = graph }.AutoEnable)
        det:update_organization_configuration { GraphArn = graph, AutoEnable = true }
        assert.is_true(det:describe_organization_configuration { GraphArn = graph }.AutoEnable)
        local e = err_of(prod.describe_organization_configuration, prod, { GraphArn = graph })
        assert.equal("AccessDeniedException", e.code)
        e = err_of(det.list_organization_admin_accounts, det, {}) -- organization account, not management
        assert.equal("AccessDeniedException", e.code)
        e = err_of(det.delete_graph, det, { GraphArn = graph })
        assert.equal("ConflictException", e.code)
        assert.equal(409, e.status)
        -- organization accounts join without an invitation
        local m = det:create_members { GraphArn = graph, Accounts = { { AccountId = PROD, EmailAddress = "prod@example.com" } } }.Members
        assert.equal("ORGANIZATION", m[1].InvitationType)
        assert.equal("ENABLED", det:get_members { GraphArn = graph, AccountIds = { PROD } }.MemberDetails[1].Status)
        e = err_of(prod.disassociate_membership, prod, { GraphArn = graph })
        assert.equal("ConflictException", e.code)
        mgmt:disable_organization_admin_account {}
        assert.equal(200, last_status)
        assert.same(0, #mgmt:list_organization_admin_accounts {}.Administrators)
        e = err_of(mgmt.disable_organization_admin_account, mgmt, {})
        assert.equal("ResourceNotFoundException", e.code)
    end)
end)

describe("emulator end to end through aws.client: member quota", function()
    local w, det
    setup(function()
        install_hook()
        local sc = scenario.default_raw()
        sc.settings = { detective = { max_members_per_graph = 1, investigation_delay_seconds = 0 } }
        w = world { port = 0, scenario_table = sc }
        det = w.client("detective")
    end)
    teardown(function()
        remove_hook()
        w.srv:stop()
    end)

    it("CreateMembers over max_members_per_graph: partial, then 402 with Resources", function()
        local graph = det:create_graph {}.GraphArn
        local r = det:create_members { GraphArn = graph, Accounts = {
            { AccountId = PROD, EmailAddress = "prod@example.com" }, { AccountId = DEV, EmailAddress = "dev@example.com" } } }
        assert.equal(1, #r.Members)
        assert.equal(1, #r.UnprocessedAccounts)
        local e = err_of(det.create_members, det, { GraphArn = graph, Accounts = { { AccountId = SANDBOX, EmailAddress = "sandbox@example.com" } } })
        assert.equal("ServiceQuotaExceededException", e.code)
        assert.equal(402, e.status)
        assert.same({ "MemberAccount" }, e.fields.Resources)
    end)
end)

describe("emulator end to end through aws.client: GuardDuty", function()
    local w, gd, gprod, gdev, gsand, det_id
    setup(function()
        install_hook()
        local sc = scenario.default_raw()
        sc.settings = { detective = { investigation_delay_seconds = 0 } }
        sc.guardduty = sc.guardduty or {}
        sc.guardduty.members = { PROD,
            { account_id = DEV, status = "Invited", invitation_id = "inv-dev" },
            { account_id = SANDBOX, status = "Invited", invitation_id = "inv-sandbox" } }
        w = world { port = 0, scenario_table = sc }
        gd = w.client("guardduty")
        gprod = w.client("guardduty", w.member(PROD))
        gdev = w.client("guardduty", w.member(DEV))
        gsand = w.client("guardduty", w.member(SANDBOX))
    end)
    teardown(function()
        remove_hook()
        w.srv:stop()
    end)

    local function detector(c) return c:list_detectors {}.DetectorIds[1] end

    it("ListDetectors / GetDetector / CreateDetector (second one refused)", function()
        local ids = gd:list_detectors {}.DetectorIds
        assert.equal(1, #ids)
        det_id = ids[1]
        assert.matches("^" .. string.rep("[0-9a-f]", 32) .. "$", det_id)
        assert.equal(1, (count_pages(gd, "ListDetectors", {}, "DetectorIds")))
        local d = gd:get_detector { DetectorId = det_id }
        assert.equal("ENABLED", d.Status)
        assert.is_string(d.CreatedAt)
        local e = err_of(gd.create_detector, gd, { Enable = true })
        assert.equal("BadRequestException", e.code)
        assert.equal(400, e.status)
        e = err_of(gd.get_detector, gd, { DetectorId = string.rep("0", 32) })
        assert.equal("BadRequestException", e.code)
        assert.equal(400, e.status)
        -- an account without a detector (sandbox in the plain built-in scenario) creates one;
        -- the same clientToken returns the same detector
        local w2 = world()
        local ok, err = pcall(function()
            local sb = w2.client("guardduty", w2.member(SANDBOX))
            assert.same({}, sb:list_detectors {}.DetectorIds)
            local id = sb:create_detector { Enable = false, ClientToken = "e2e-token" }.DetectorId
            assert.matches("^" .. string.rep("[0-9a-f]", 32) .. "$", id)
            assert.equal(id, sb:create_detector { Enable = false, ClientToken = "e2e-token" }.DetectorId)
            assert.equal("DISABLED", sb:get_detector { DetectorId = id }.Status)
            assert.same({ id }, sb:list_detectors {}.DetectorIds)
        end)
        w2.srv:stop()
        assert(ok, err)
    end)

    it("CreateSampleFindings / ListFindings / GetFindings / Archive / Unarchive", function()
        gd:create_sample_findings { DetectorId = det_id, FindingTypes = { "Recon:EC2/PortProbeUnprotectedPort" } }
        assert.equal(200, last_status)
        local crit = { Criterion = { ["service.additionalInfo.sample"] = { Equals = { "true" } } } }
        local ids = gd:list_findings { DetectorId = det_id, FindingCriteria = crit }.FindingIds
        assert.equal(1, #ids)
        local f = gd:get_findings { DetectorId = det_id, FindingIds = ids }.Findings[1]
        assert.equal("Recon:EC2/PortProbeUnprotectedPort", f.Type)
        assert.equal(ADMIN, f.AccountId)
        assert.matches("^%[SAMPLE%] ", f.Title)
        -- the administrator sees its Enabled member's findings (alice, in PROD)
        local alice = gd:list_findings { DetectorId = det_id, FindingCriteria = { Criterion = {
            ["resource.accessKeyDetails.userName"] = { Equals = { "alice" } } } } }.FindingIds
        assert.equal(2, #alice)
        local pages = count_pages(gd, "ListFindings", { DetectorId = det_id }, "FindingIds")
        assert.equal(3, pages)
        gd:archive_findings { DetectorId = det_id, FindingIds = ids }
        local arch = { Criterion = { ["service.archived"] = { Equals = { "true" } } } }
        assert.same(ids, gd:list_findings { DetectorId = det_id, FindingCriteria = arch }.FindingIds)
        gd:unarchive_findings { DetectorId = det_id, FindingIds = ids }
        assert.same({}, gd:list_findings { DetectorId = det_id, FindingCriteria = arch }.FindingIds)
        local e = err_of(gprod.archive_findings, gprod, { DetectorId = detector(gprod), FindingIds = alice })
        assert.equal("BadRequestException", e.code)
        e = err_of(gd.list_findings, gd, { DetectorId = det_id, NextToken = "garbled" })
        assert.equal("BadRequestException", e.code)
    end)

    it("administrator relationships: Get, Accept (both names), Disassociate (both names)", function()
        local r = gd:get_administrator_account { DetectorId = det_id }
        assert.is_nil(r.Administrator)
        local a = gprod:get_administrator_account { DetectorId = detector(gprod) }.Administrator
        assert.equal(ADMIN, a.AccountId)
        assert.equal("Enabled", a.RelationshipStatus)
        assert.equal(ADMIN, gprod:get_master_account { DetectorId = detector(gprod) }.Master.AccountId)
        local dev_det, sand_det = detector(gdev), detector(gsand)
        local e = err_of(gdev.accept_administrator_invitation, gdev, { DetectorId = dev_det, AdministratorId = ADMIN, InvitationId = "wrong" })
        assert.equal("BadRequestException", e.code)
        gdev:accept_administrator_invitation { DetectorId = dev_det, AdministratorId = ADMIN, InvitationId = "inv-dev" }
        assert.equal("Enabled", gdev:get_administrator_account { DetectorId = dev_det }.Administrator.RelationshipStatus)
        gsand:accept_invitation { DetectorId = sand_det, MasterId = ADMIN, InvitationId = "inv-sandbox" }
        assert.equal(ADMIN, gsand:get_master_account { DetectorId = sand_det }.Master.AccountId)
        local listed = {}
        for m in gd:each("ListMembers", { DetectorId = det_id }, { page_size = 1 }) do listed[#listed + 1] = m.AccountId end
        assert.same({ PROD, SANDBOX, DEV }, (function() table.sort(listed, function(x, y) return x < y end) return listed end)())
        gdev:disassociate_from_administrator_account { DetectorId = dev_det }
        gsand:disassociate_from_master_account { DetectorId = sand_det }
        local gm = gd:get_members { DetectorId = det_id, AccountIds = { DEV, SANDBOX, "123456789012" } }
        local m = by(gm.Members, "AccountId")
        assert.equal("Resigned", m[DEV].RelationshipStatus)
        assert.equal("Resigned", m[SANDBOX].RelationshipStatus)
        assert.equal("123456789012", gm.UnprocessedAccounts[1].AccountId)
        assert.same({ PROD }, (function()
            local out = {}
            for _, x in ipairs(gd:list_members { DetectorId = det_id }.Members) do out[#out + 1] = x.AccountId end
            return out
        end)())
        assert.equal(3, #gd:list_members { DetectorId = det_id, OnlyAssociated = "false" }.Members)
    end)

    it("GetRemainingFreeTrialDays, and 501 for an unimplemented operation", function()
        local r = gd:get_remaining_free_trial_days { DetectorId = det_id, AccountIds = { ADMIN, "123456789012" } }
        assert.equal(ADMIN, r.Accounts[1].AccountId)
        assert.is_true(#r.Accounts[1].Features > 0)
        assert.equal("123456789012", r.UnprocessedAccounts[1].AccountId)
        local e = err_of(gd.list_filters, gd, { DetectorId = det_id })
        assert.equal(501, e.status)
        assert.equal("NotImplementedException", e.code)
    end)
end)

describe("emulator end to end: coverage", function()
    it("called every Detective operation and every implemented GuardDuty operation", function()
        local want = {}
        for _, op in ipairs(aws.client("detective", { region = REGION, credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "x" } }):operations()) do
            want[#want + 1] = type(op) == "table" and op.name or op
        end
        local missing = {}
        for _, n in ipairs(want) do
            local camel = n:gsub("^%l", string.upper):gsub("_(%l)", string.upper)
            if not (called.detective or {})[camel] then missing[#missing + 1] = camel end
        end
        assert.equal(29, #want)
        assert.same({}, missing)
        missing = {}
        for _, n in ipairs(require("detlua.emulator.guardduty").implemented()) do
            if not (called.guardduty or {})[n] then missing[#missing + 1] = n end
        end
        assert.same({}, missing)
        print(string.format("# %d Detective + %d GuardDuty operations exercised through aws.client", #want,
            #require("detlua.emulator.guardduty").implemented()))
    end)
end)
