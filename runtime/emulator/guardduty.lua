-- GuardDuty emulator: the subset of GuardDuty that incident-response playbooks pivot from
-- (detectors, findings and their criteria, sample findings, archiving, the administrator/member
-- relationship, free-trial days). Inputs arrive decoded and validated with MODEL member names;
-- outputs use model member names and the router encodes them. Every other GuardDuty operation
-- answers 501 NotImplementedException naming it. It does no SigV4, HTTP or JSON encoding.
-- Behaviour and the choices made where AWS documents nothing: docs/emulator-guardduty.md.
local E = require "detlua.emulator.errors"
local model = require "aws.core.model"
local store = require "detlua.emulator.guardduty_store"
local F = require "detlua.emulator.guardduty_findings"
local samples = require "detlua.emulator.guardduty_samples"

local S = {}

function S.new(world)
    return setmetatable({ world = world }, { __index = S })
end

local function copy(v)
    if type(v) ~= "table" then return v end
    local out = {}
    for k, x in pairs(v) do out[k] = copy(x) end
    return out
end

local iso = store.iso
local bad_request = store.bad_request

---------------------------------------------------------------------------------------------
-- Findings in state.

local function default_region(world)
    local sc = type(world.scenario) == "table" and world.scenario or {}
    return store.setting(world, "default_region", sc.region or sc.default_region or "us-east-1")
end

-- Normalises one finding written with wire names. `defaults`: account, region, index (for a
-- derived id), now. Returns the Finding (model names) or nil and a message.
local function normalise(world, raw, path, defaults)
    local f, err = F.from_wire("Finding", raw, path)
    if not f then return nil, err end
    local account = f.AccountId or defaults.account
    -- A finding may name its detector (service.detectorId, or inside its ARN); the account's
    -- implied detector then takes that id, so ARNs written in the scenario stay true.
    local given = (f.Service and f.Service.DetectorId) or
        (type(f.Arn) == "string" and f.Arn:match(":detector/([^/]+)/finding/"))
    f.Id = f.Id or (type(f.Arn) == "string" and f.Arn:match("/finding/([^/]+)$")) or nil
    local id = f.Id or store.hex32("finding|" .. tostring(defaults.index) .. "|" .. tostring(f.Type) .. "|" ..
        tostring(account) .. "|" .. tostring(f.CreatedAt or ""))
    local done, cerr = F.complete(f, {
        account = defaults.account,
        region = defaults.region,
        id = id,
        now = defaults.now,
        partition = store.partition,
        detector_id = function(acct, region, created)
            local since = store.guardduty_since(world, acct) or store.epoch(created) or defaults.now
            return store.implied_detector(world, acct, region, since, given).id
        end,
    })
    if not done then return nil, path .. ": " .. cerr end
    return done
end

local function index_of(world, id)
    for i, f in ipairs(store.root(world).findings) do
        if f.Id == id then return i end
    end
    return nil
end

-- Imports the scenario's guardduty.findings once.
local function seed_findings(world, ctx)
    local d = store.root(world)
    if d.seeded_findings then return end
    local list = store.scenario_guardduty(world).findings
    local region = default_region(world)
    local seen, done = {}, {}
    for i, raw in ipairs(type(list) == "table" and list or {}) do
        -- 0-based like the scenario loader's messages (jq style)
        local path = "guardduty.findings[" .. (i - 1) .. "]"
        local f, err = normalise(world, raw, path, { region = region, index = i, now = ctx.now })
        if not f then store.internal("The scenario's GuardDuty findings are invalid: " .. err) end
        if seen[f.Id] then
            store.internal("The scenario's GuardDuty findings are invalid: " .. path .. ": duplicate finding id " .. f.Id)
        end
        seen[f.Id] = true
        done[#done + 1] = f
    end
    for _, f in ipairs(done) do d.findings[#d.findings + 1] = f end
    d.seeded_findings = true
    world:mark_dirty()
end

local function prepare(world, ctx)
    seed_findings(world, ctx)
    store.seed_region(world, ctx.region)
end

-- Findings the caller's detector sees: its own in this Region, plus those of the accounts it
-- administers (enabled members), in insertion order.
local function visible(world, ctx)
    local out = {}
    for _, f in ipairs(store.root(world).findings) do
        if f.Region == ctx.region and (f.AccountId == ctx.account or
                store.admin_of(world, ctx.region, f.AccountId) == ctx.account) then
            out[#out + 1] = f
        end
    end
    return out
end

local function visible_by_id(world, ctx)
    local by = {}
    for _, f in ipairs(visible(world, ctx)) do by[f.Id] = f end
    return by
end

local function sorted(list, sort)
    local out, err = F.sort(list, sort)
    if not out then bad_request("The request is rejected because the sortCriteria are invalid: " .. err .. ".") end
    return out
end

---------------------------------------------------------------------------------------------
-- Detectors.

local function apply_feature(features, name, status, additional, at)
    for _, f in ipairs(features) do
        if f.name == name then
            if status and status ~= f.status then
                f.status = status
                f.updated_at = at
            end
            for _, a in ipairs(additional or {}) do
                for _, fa in ipairs(f.additional or {}) do
                    if fa.name == a.Name and a.Status and a.Status ~= fa.status then
                        fa.status = a.Status
                        fa.updated_at = at
                    end
                end
            end
        end
    end
end

local function onoff(b)
    return b and "ENABLED" or "DISABLED"
end

local function create_detector(world, ctx, input)
    local existing = store.detector_of(world, ctx.account, ctx.region, ctx.now)
    if existing then
        if input.ClientToken ~= nil and existing.client_token == input.ClientToken then
            return { DetectorId = existing.id }
        end
        bad_request("The request is rejected because a detector already exists for the current account.")
    end
    local names = {}
    for _, f in ipairs(input.Features or {}) do names[f.Name] = true end
    if names.EKS_RUNTIME_MONITORING and names.RUNTIME_MONITORING then
        bad_request("The request is rejected because EKS_RUNTIME_MONITORING and RUNTIME_MONITORING cannot " ..
            "both be specified; RUNTIME_MONITORING includes EKS Runtime Monitoring.")
    end
    local now = ctx.now
    local features = store.default_features(now)
    local ds = input.DataSources
    if ds then
        if ds.S3Logs and ds.S3Logs.Enable ~= nil then
            apply_feature(features, "S3_DATA_EVENTS", onoff(ds.S3Logs.Enable), nil, now)
        end
        local k = ds.Kubernetes and ds.Kubernetes.AuditLogs
        if k and k.Enable ~= nil then apply_feature(features, "EKS_AUDIT_LOGS", onoff(k.Enable), nil, now) end
        local m = ds.MalwareProtection and ds.MalwareProtection.ScanEc2InstanceWithFindings
        if m and m.EbsVolumes ~= nil then
            apply_feature(features, "EBS_MALWARE_PROTECTION", onoff(m.EbsVolumes), nil, now)
        end
    end
    for _, f in ipairs(input.Features or {}) do
        apply_feature(features, f.Name, f.Status, f.AdditionalConfiguration, now)
    end
    local det = store.new_detector(world, ctx.account, ctx.region, store.random_hex32(world), now, {
        status = input.Enable and "ENABLED" or "DISABLED",
        frequency = input.FindingPublishingFrequency,
        tags = copy(input.Tags) or {},
        features = features,
        client_token = input.ClientToken,
    })
    return { DetectorId = det.id }
end

local function list_detectors(world, ctx, input)
    local det = store.detector_of(world, ctx.account, ctx.region, ctx.now)
    local ids = det and { det.id } or {}
    local page, next_token = store.page(ctx, "ListDetectors", {}, ids, input.MaxResults, input.NextToken)
    return { DetectorIds = page, NextToken = next_token }
end

local function feature_status(det, name)
    for _, f in ipairs(det.features) do
        if f.name == name then return f.status end
    end
    return "DISABLED"
end

local function get_detector(world, ctx, input)
    local det = store.caller_detector(world, ctx, input.DetectorId)
    local p = store.partition(det.region)
    local features = {}
    for i, f in ipairs(det.features) do
        local out = { Name = f.name, Status = f.status, UpdatedAt = f.updated_at }
        if f.additional then
            out.AdditionalConfiguration = {}
            for j, a in ipairs(f.additional) do
                out.AdditionalConfiguration[j] = { Name = a.name, Status = a.status, UpdatedAt = a.updated_at }
            end
        end
        features[i] = out
    end
    return {
        CreatedAt = iso(det.created_at),
        UpdatedAt = iso(det.updated_at),
        FindingPublishingFrequency = det.frequency,
        ServiceRole = "arn:" .. p .. ":iam::" .. det.account ..
            ":role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
        Status = det.status,
        Tags = copy(det.tags) or {},
        Features = features,
        DataSources = {
            CloudTrail = { Status = feature_status(det, "CLOUD_TRAIL") },
            DNSLogs = { Status = feature_status(det, "DNS_LOGS") },
            FlowLogs = { Status = feature_status(det, "FLOW_LOGS") },
            S3Logs = { Status = feature_status(det, "S3_DATA_EVENTS") },
            Kubernetes = { AuditLogs = { Status = feature_status(det, "EKS_AUDIT_LOGS") } },
            MalwareProtection = {
                ScanEc2InstanceWithFindings = { EbsVolumes = { Status = feature_status(det, "EBS_MALWARE_PROTECTION") } },
                ServiceRole = "arn:" .. p .. ":iam::" .. det.account .. ":role/aws-service-role/" ..
                    "malware-protection.guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDutyMalwareProtection",
            },
        },
    }
end

---------------------------------------------------------------------------------------------
-- Findings operations.

local function list_findings(world, ctx, input)
    store.caller_detector(world, ctx, input.DetectorId)
    local pred, err = F.compile_criteria(input.FindingCriteria)
    if not pred then bad_request("The request is rejected because the findingCriteria are invalid: " .. err .. ".") end
    local matched = {}
    for _, f in ipairs(visible(world, ctx)) do
        if pred(f) then matched[#matched + 1] = f end
    end
    matched = sorted(matched, input.SortCriteria)
    local ids = {}
    for i, f in ipairs(matched) do ids[i] = f.Id end
    local page, next_token = store.page(ctx, "ListFindings",
        { input.DetectorId, input.FindingCriteria or {}, input.SortCriteria or {} }, ids, input.MaxResults,
        input.NextToken)
    return { FindingIds = page, NextToken = next_token }
end

local function get_findings(world, ctx, input)
    store.caller_detector(world, ctx, input.DetectorId)
    local by = visible_by_id(world, ctx)
    local out, seen = {}, {}
    for _, id in ipairs(input.FindingIds or {}) do
        if by[id] and not seen[id] then
            seen[id] = true
            out[#out + 1] = F.export("Finding", by[id])
        end
    end
    return { Findings = sorted(out, input.SortCriteria) }
end

-- Archiving is the administrator's (or a standalone account's) business: a member may not.
local function set_archived(world, ctx, input, archived)
    store.caller_detector(world, ctx, input.DetectorId)
    local admin = store.admin_of(world, ctx.region, ctx.account)
    if admin then
        bad_request("Only the administrator account can archive findings. Account " .. ctx.account ..
            " is a member of administrator account " .. admin .. " and cannot " ..
            (archived and "archive" or "unarchive") .. " findings.")
    end
    local by = visible_by_id(world, ctx)
    local changed = false
    for _, id in ipairs(input.FindingIds or {}) do
        local f = by[id]
        if f and f.Service.Archived ~= archived then
            f.Service.Archived = archived
            changed = true
        end
    end
    if changed then world:mark_dirty() end
    return nil
end

local SAMPLE_STEPS = assert(F.compile_path("service.additionalInfo.sample"))

local function is_sample(f)
    return F.values(f, SAMPLE_STEPS)[1] == true
end

local function create_sample_findings(world, ctx, input)
    local det = store.caller_detector(world, ctx, input.DetectorId)
    local types = input.FindingTypes
    if types == nil or #types == 0 then types = samples.types() end
    for _, t in ipairs(types) do
        if not samples.well_formed(t) then
            bad_request("The request is rejected because the finding type " .. tostring(t) ..
                " is not a valid GuardDuty finding type.")
        end
    end
    local d = store.root(world)
    local at = iso(ctx.now)
    local done = {}
    for _, t in ipairs(types) do
        if not done[t] then
            done[t] = true
            local existing
            if store.setting(world, "aggregate_samples", true) then
                for _, f in ipairs(d.findings) do
                    if f.AccountId == ctx.account and f.Region == ctx.region and f.Type == t and is_sample(f) then
                        existing = f
                    end
                end
            end
            if existing then
                -- GuardDuty folds a repeat of the same activity into the existing finding.
                existing.Service.Count = math.tointeger((existing.Service.Count or 1) + 1)
                existing.UpdatedAt = at
                existing.Service.EventLastSeen = at
            else
                local f = samples.build(t, ctx, store.random_hex32(world), at)
                F.complete(f, {
                    now = ctx.now,
                    partition = store.partition,
                    detector_id = function() return det.id end,
                })
                d.findings[#d.findings + 1] = f
            end
        end
    end
    world:mark_dirty()
    return nil
end

---------------------------------------------------------------------------------------------
-- Administrator / member relationship.

local function administrator_out(rel)
    local out = { AccountId = rel.admin, RelationshipStatus = rel.status }
    if rel.type ~= "organization" then
        out.InvitationId = rel.invitation_id
        out.InvitedAt = iso(rel.invited_at)
    end
    return out
end

local function get_administrator(world, ctx, input, key)
    store.caller_detector(world, ctx, input.DetectorId)
    local rel = store.rel_of(world, ctx.region, ctx.account)
    if rel and rel.status == "Enabled" then return { [key] = administrator_out(rel) } end
    return nil -- administrators and standalone accounts: 200 with no content
end

local function accept_invitation(world, ctx, input, admin_id)
    store.caller_detector(world, ctx, input.DetectorId)
    local rel = store.rel_of(world, ctx.region, ctx.account)
    if admin_id == ctx.account then
        bad_request("The request is rejected because an account cannot accept an invitation from itself.")
    end
    if rel and rel.status == "Enabled" then
        if rel.admin == admin_id and rel.invitation_id == input.InvitationId then return nil end
        bad_request("The request is rejected because the current account is already associated with " ..
            "administrator account " .. rel.admin .. ".")
    end
    if not rel or rel.admin ~= admin_id or rel.status ~= "Invited" or rel.invitation_id ~= input.InvitationId then
        bad_request("The request is rejected because there is no pending invitation " .. tostring(input.InvitationId) ..
            " from administrator account " .. tostring(admin_id) .. ".")
    end
    rel.status = "Enabled"
    rel.updated_at = ctx.now
    world:mark_dirty()
    return nil
end

local function disassociate(world, ctx, input)
    store.caller_detector(world, ctx, input.DetectorId)
    local rel = store.rel_of(world, ctx.region, ctx.account)
    if not rel or rel.status ~= "Enabled" then return nil end
    if rel.type == "organization" then
        bad_request("The request is rejected because the current account is managed by the organization's " ..
            "GuardDuty administrator account " .. rel.admin .. " and cannot disassociate itself.")
    end
    rel.status = "Resigned"
    rel.updated_at = ctx.now
    world:mark_dirty()
    return nil
end

local function member_out(world, ctx, id, rel)
    local det = store.detector_of(world, id, ctx.region, ctx.now)
    local out = {
        AccountId = id,
        DetectorId = det and det.id or nil,
        MasterId = rel.admin,
        AdministratorId = rel.admin,
        Email = rel.email,
        RelationshipStatus = rel.status,
        UpdatedAt = iso(rel.updated_at),
    }
    if rel.type ~= "organization" then out.InvitedAt = iso(rel.invited_at) end
    return out
end

local function get_members(world, ctx, input)
    store.caller_detector(world, ctx, input.DetectorId)
    local members, unprocessed, seen = {}, {}, {}
    for _, id in ipairs(input.AccountIds or {}) do
        if not seen[id] then
            seen[id] = true
            local rel = store.rel_of(world, ctx.region, id)
            if rel and rel.admin == ctx.account then
                members[#members + 1] = member_out(world, ctx, id, rel)
            else
                unprocessed[#unprocessed + 1] = { AccountId = id, Result = store.NOT_MEMBER }
            end
        end
    end
    return { Members = members, UnprocessedAccounts = unprocessed }
end

local function list_members(world, ctx, input)
    store.caller_detector(world, ctx, input.DetectorId)
    local only = input.OnlyAssociated
    if only == nil then only = tostring(store.setting(world, "only_associated_default", "true")) end
    only = tostring(only):lower()
    if only ~= "true" and only ~= "false" then
        bad_request("The request is rejected because the parameter onlyAssociated has an invalid value.")
    end
    local list = {}
    for _, m in ipairs(store.members_of(world, ctx.region, ctx.account)) do
        if only == "false" or m.rel.status == "Enabled" then list[#list + 1] = member_out(world, ctx, m.id, m.rel) end
    end
    local page, next_token = store.page(ctx, "ListMembers", { input.DetectorId, only }, list, input.MaxResults,
        input.NextToken)
    return { Members = page, NextToken = next_token }
end

local function free_trial_days(world, ctx, input)
    store.caller_detector(world, ctx, input.DetectorId)
    local trial = tonumber(store.setting(world, "free_trial_days", 30)) or 30
    local names = model.shape("guardduty", "FreeTrialFeatureResult").enum
    local accounts, unprocessed, seen = {}, {}, {}
    for _, id in ipairs(input.AccountIds or {}) do
        if not seen[id] then
            seen[id] = true
            local det = (id == ctx.account or store.admin_of(world, ctx.region, id) == ctx.account) and
                store.detector_of(world, id, ctx.region, ctx.now)
            if det then
                local days = math.max(0, trial - math.floor((ctx.now - det.created_at) / 86400))
                days = math.tointeger(days) or days
                local features = {}
                for i, n in ipairs(names) do features[i] = { Name = n, FreeTrialDaysRemaining = days } end
                local function d() return { FreeTrialDaysRemaining = days } end
                accounts[#accounts + 1] = {
                    AccountId = id,
                    Features = features,
                    DataSources = {
                        CloudTrail = d(), DnsLogs = d(), FlowLogs = d(), S3Logs = d(),
                        Kubernetes = { AuditLogs = d() },
                        MalwareProtection = { ScanEc2InstanceWithFindings = d() },
                    },
                }
            else
                unprocessed[#unprocessed + 1] = { AccountId = id, Result = store.NOT_MEMBER }
            end
        end
    end
    return { Accounts = accounts, UnprocessedAccounts = unprocessed }
end

---------------------------------------------------------------------------------------------
-- Dispatch.

local OPS = {
    CreateDetector = create_detector,
    ListDetectors = list_detectors,
    GetDetector = get_detector,
    CreateSampleFindings = create_sample_findings,
    ListFindings = list_findings,
    GetFindings = get_findings,
    ArchiveFindings = function(w, c, i) return set_archived(w, c, i, true) end,
    UnarchiveFindings = function(w, c, i) return set_archived(w, c, i, false) end,
    GetAdministratorAccount = function(w, c, i) return get_administrator(w, c, i, "Administrator") end,
    GetMasterAccount = function(w, c, i) return get_administrator(w, c, i, "Master") end,
    AcceptAdministratorInvitation = function(w, c, i) return accept_invitation(w, c, i, i.AdministratorId) end,
    AcceptInvitation = function(w, c, i) return accept_invitation(w, c, i, i.MasterId) end,
    DisassociateFromAdministratorAccount = disassociate,
    DisassociateFromMasterAccount = disassociate,
    GetMembers = get_members,
    ListMembers = list_members,
    GetRemainingFreeTrialDays = free_trial_days,
}

local function implemented()
    local names = {}
    for name in pairs(OPS) do names[#names + 1] = name end
    table.sort(names)
    return names
end
S.implemented = implemented

function S:handle(ctx, op, input)
    local fn = OPS[op]
    if not fn then
        E.raise("NotImplementedException", "The detlua emulator does not implement the GuardDuty operation " ..
            tostring(op) .. ". Implemented: " .. table.concat(implemented(), ", ") .. ".", nil,
            { status = 501, type = "NotImplementedException" })
    end
    prepare(self.world, ctx)
    return fn(self.world, ctx, input or {})
end

-- Fixture hooks (POST /_emulator/guardduty/<action>):
--   add_findings  {"findings": [<Finding, wire names>...], "account": "...", "region": "..."}
--                 -> {"findingIds": [...]}; a finding whose id exists replaces it.
function S:admin(ctx, action, body)
    local world = self.world
    ctx = ctx or {}
    body = type(body) == "table" and body or {}
    local now = ctx.now or os.time()
    prepare(world, { account = ctx.account, region = ctx.region or default_region(world), now = now })
    if action ~= "add_findings" then
        bad_request("Unknown GuardDuty fixture action " .. tostring(action) .. " (known: add_findings).")
    end
    if type(body.findings) ~= "table" then bad_request("add_findings: body.findings must be a list of findings.") end
    local d = store.root(world)
    local ids = {}
    for i, raw in ipairs(body.findings) do
        local f, err = normalise(world, raw, "findings[" .. (i - 1) .. "]", {
            account = body.account or ctx.account,
            region = body.region or ctx.region or default_region(world),
            index = "fixture-" .. (#d.findings + 1),
            now = now,
        })
        if not f then bad_request("add_findings: " .. err) end
        local at = index_of(world, f.Id)
        if at then d.findings[at] = f else d.findings[#d.findings + 1] = f end
        ids[#ids + 1] = f.Id
    end
    world:mark_dirty()
    return { findingIds = ids }
end

return S
