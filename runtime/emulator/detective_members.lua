-- Detective emulator: the member state machine of one behavior graph. Creates member records,
-- applies the time-based transitions lazily from stored timestamps and the request time
-- (verification VERIFICATION_IN_PROGRESS -> INVITED / VERIFICATION_FAILED / ENABLED /
-- ACCEPTED_BUT_DISABLED, and the hourly re-check that enables "not enabled" accounts once they
-- qualify, in invitation order), decides eligibility (GuardDuty customer for 48 h, graph data
-- volume) and renders MemberDetail. It does not check who is calling; the operations do.
local accounts = require "detlua.emulator.detective_accounts"
local store = require "detlua.emulator.detective_store"

local M = {}

-- Member record (in graph.members[account id]):
--   account, email, type ("INVITATION"|"ORGANIZATION"), status, reason (DisabledReason),
--   invited (InvitedTime, invitations only), updated (UpdatedTime), verify_at (end of
--   verification), disabled_since (start of ACCEPTED_BUT_DISABLED), seq (invitation order),
--   packages = { [package] = {state, history = {[state] = epoch}} }

function M.volume_limit(world)
    return store.setting(world, "graph_volume_limit_bytes_per_day", 10 * 1000 ^ 4)
end

-- Daily volume the graph ingests now: the administrator's own plus every ENABLED member's,
-- leaving out `except` (the account being evaluated).
function M.graph_volume(world, g, except)
    local total = accounts.daily_volume(world, g.admin) or 0
    for id, m in pairs(g.members) do
        if id ~= except and m.status == "ENABLED" then total = total + (accounts.daily_volume(world, id) or 0) end
    end
    return total
end

-- Whether `id` may contribute data to `g` at time `at`: "ENABLED", or "ACCEPTED_BUT_DISABLED"
-- and the DisabledReason. Not a GuardDuty customer for at least guardduty_min_age_seconds
-- (48 h) -> VOLUME_UNKNOWN (Detective cannot measure the volume); the graph's daily volume would
-- go over the limit -> VOLUME_TOO_HIGH.
function M.eligibility(world, g, id, at)
    local since = accounts.guardduty_since(world, id, g.region)
    local min_age = store.setting(world, "guardduty_min_age_seconds", 48 * 3600)
    if not since or at - since < min_age then return "ACCEPTED_BUT_DISABLED", "VOLUME_UNKNOWN" end
    local own = accounts.daily_volume(world, id) or 0
    if M.graph_volume(world, g, id) + own > M.volume_limit(world) then
        return "ACCEPTED_BUT_DISABLED", "VOLUME_TOO_HIGH"
    end
    return "ENABLED", nil
end

function M.set_status(m, status, reason, at)
    m.status = status
    m.reason = (status == "ACCEPTED_BUT_DISABLED") and reason or nil
    m.disabled_since = (status == "ACCEPTED_BUT_DISABLED") and at or nil
    m.updated = at
end

-- Applies the eligibility outcome at time `at`.
function M.evaluate(world, g, m, at)
    local status, reason = M.eligibility(world, g, m.account, at)
    M.set_status(m, status, reason, at)
    return status
end

local function copy_packages(g, at)
    local out = {}
    for p, pk in pairs(g.packages) do out[p] = { state = pk.state, history = { [pk.state] = at } } end
    return out
end

-- A new member record (not yet stored); status VERIFICATION_IN_PROGRESS until verify_at.
function M.new_record(world, g, id, email, kind, now)
    return {
        account = id,
        email = email,
        type = kind,
        status = "VERIFICATION_IN_PROGRESS",
        invited = (kind == "INVITATION") and now or nil,
        updated = now,
        verify_at = now + store.setting(world, "verification_delay_seconds", 0),
        seq = store.next_seq(world),
        packages = copy_packages(g, now),
    }
end

-- Outcome of verification at m.verify_at. Invitations: the account must be known to the scenario
-- and its root email must match (case-insensitively); GovCloud does no email check. Organization
-- path: the account must (still) belong to the organization, then the eligibility checks decide.
local function finish_verification(world, g, m)
    local at = m.verify_at
    m.verify_at = nil
    if m.type == "ORGANIZATION" then
        if accounts.in_org(world, m.account) then
            M.evaluate(world, g, m, at)
        else
            M.set_status(m, "VERIFICATION_FAILED", nil, at)
        end
        return
    end
    local known = accounts.record(world, m.account) ~= nil
    local ok = known
    if known and store.partition(g.region) ~= "aws-us-gov" then
        local want = accounts.email(world, m.account)
        ok = type(want) == "string" and type(m.email) == "string" and want:lower() == m.email:lower()
    end
    M.set_status(m, ok and "INVITED" or "VERIFICATION_FAILED", nil, at)
end

function M.ordered(g)
    local out = {}
    for _, m in pairs(g.members) do out[#out + 1] = m end
    table.sort(out, function(a, b)
        if a.seq ~= b.seq then return a.seq < b.seq end
        return a.account < b.account
    end)
    return out
end

-- When the automatic re-check would next pick up a member that became eligible (by GuardDuty
-- age) at `eligible_at`: re-checks run every recheck_interval_seconds counted from the moment the
-- member was disabled.
local function recheck_time(world, m, eligible_at)
    local interval = store.setting(world, "recheck_interval_seconds", 3600)
    if interval <= 0 then return eligible_at end
    local base = m.disabled_since or m.updated
    if eligible_at <= base then return base + interval end
    return base + math.ceil((eligible_at - base) / interval) * interval
end

-- Brings `g` up to date at `now`. Returns true when something changed (the caller marks the
-- world dirty). Deterministic: depends only on stored timestamps, the scenario and `now`.
function M.refresh(world, g, now)
    local changed = false
    for _, m in ipairs(M.ordered(g)) do
        if m.status == "VERIFICATION_IN_PROGRESS" and m.verify_at and m.verify_at <= now then
            finish_verification(world, g, m)
            changed = true
        end
    end
    if store.setting(world, "auto_recheck", true) then
        for _, m in ipairs(M.ordered(g)) do
            if m.status == "ACCEPTED_BUT_DISABLED" then
                local since = accounts.guardduty_since(world, m.account, g.region)
                if since then
                    local eligible_at = since + store.setting(world, "guardduty_min_age_seconds", 48 * 3600)
                    local at = recheck_time(world, m, eligible_at)
                    local interval = store.setting(world, "recheck_interval_seconds", 3600)
                    if at <= now and m.reason == "VOLUME_TOO_HIGH" and interval > 0 then
                        -- the volume may have dropped at any time since: take the latest check
                        at = at + math.floor((now - at) / interval) * interval
                    end
                    if at <= now then
                        local status, reason = M.eligibility(world, g, m.account, at)
                        if status == "ENABLED" then
                            M.set_status(m, "ENABLED", nil, at)
                            changed = true
                        elseif reason ~= m.reason then
                            m.reason = reason
                            changed = true
                        end
                    end
                end
            end
        end
    end
    if changed then store.dirty(world) end
    return changed
end

function M.count(g)
    local n = 0
    for _ in pairs(g.members) do n = n + 1 end
    return n
end

function M.enabled_count(g)
    local n = 0
    for _, m in pairs(g.members) do
        if m.status == "ENABLED" then n = n + 1 end
    end
    return n
end

-- Statuses in which an account sees the membership itself (ListInvitations,
-- BatchGetMembershipDatasources): open and accepted invitations, enabled organization accounts.
function M.visible_to_member(m)
    return m.status == "INVITED" or m.status == "ENABLED" or m.status == "ACCEPTED_BUT_DISABLED"
end

-- DatasourcePackageIngestHistory value ({package = {state = {Timestamp}}}) of a packages map.
function M.history(packages)
    local out = {}
    for p, pk in pairs(packages or {}) do
        local h = {}
        for state, ts in pairs(pk.history or {}) do h[state] = { Timestamp = ts } end
        out[p] = h
    end
    return out
end

-- MemberDetail for `m` in `g`. Volume fields are present only for ENABLED members (the only
-- ones whose data Detective measures).
function M.detail(world, g, m)
    local states = {}
    for p, pk in pairs(m.packages or {}) do states[p] = pk.state end
    local d = {
        AccountId = m.account,
        EmailAddress = m.email,
        GraphArn = g.arn,
        MasterId = g.admin,
        AdministratorId = g.admin,
        Status = m.status,
        DisabledReason = m.reason,
        InvitedTime = m.invited,
        UpdatedTime = m.updated,
        InvitationType = m.type,
        DatasourcePackageIngestStates = states,
    }
    if m.status == "ENABLED" then
        local total, by = accounts.daily_volume(world, m.account)
        total = total or 0
        local usage = {}
        for p, pk in pairs(m.packages or {}) do
            if pk.state == "STARTED" then
                usage[p] = { VolumeUsageInBytes = (by and by[p]) or 0, VolumeUsageUpdateTime = m.updated }
            end
        end
        d.VolumeUsageByDatasourcePackage = usage
        d.VolumeUsageInBytes = total
        d.VolumeUsageUpdatedTime = m.updated
        d.PercentOfGraphUtilization = total * 100.0 / M.volume_limit(world)
        d.PercentOfGraphUtilizationUpdatedTime = m.updated
    end
    return d
end

-- The caller's graph for an administrator-only operation, with member states brought
-- up to date (time-based transitions are computed on read).
function M.admin_graph(svc, ctx, arn)
    local g = store.graph(svc.world, ctx, arn)
    store.require_admin(ctx, g)
    M.refresh(svc.world, g, ctx.now)
    return g
end

return M
