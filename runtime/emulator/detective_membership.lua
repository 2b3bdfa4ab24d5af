-- Detective emulator: the membership operations, administrator side (CreateMembers, GetMembers,
-- ListMembers, DeleteMembers, StartMonitoringMember) and member side (ListInvitations,
-- AcceptInvitation, RejectInvitation, DisassociateMembership). Every precondition is checked
-- before anything changes, so a raised error leaves the world as it was. The state machine and
-- eligibility rules themselves are in detective_members.
local accounts = require "detlua.emulator.detective_accounts"
local members = require "detlua.emulator.detective_members"
local paging = require "detlua.emulator.detective_paging"
local store = require "detlua.emulator.detective_store"

local M = {}

-- UnprocessedAccount reasons (documented in docs/emulator-detective.md).
local REASON = {
    own = "The administrator account cannot be a member of its own behavior graph.",
    duplicate = "The account appears more than once in the request.",
    email = "An email address is required to invite an account that is not in the organization.",
    quota = "The behavior graph already has the maximum number of member accounts (%d).",
    member = "The account is already a member of the behavior graph (status %s).",
    not_member = "The account is not a member of the behavior graph.",
    own_delete = "The administrator account cannot remove itself from its behavior graph; use DeleteGraph.",
}

local admin_graph = members.admin_graph

local function max_members(world)
    return store.setting(world, "max_members_per_graph", 1200)
end

function M.CreateMembers(svc, ctx, input)
    local world = svc.world
    local g = admin_graph(svc, ctx, input.GraphArn)
    if members.graph_volume(world, g) > members.volume_limit(world) then
        store.quota("The behavior graph ingests more data per day than the limit; no member accounts can be added.",
            "DataVolume")
    end
    local max = max_members(world)
    local count = members.count(g)
    local plan, unprocessed, seen = {}, {}, {}
    local quota_blocked = 0
    for _, a in ipairs(input.Accounts or {}) do
        local id, email = a.AccountId, a.EmailAddress
        local existing = g.members[id]
        local kind = (g.org and accounts.in_org(world, id)) and "ORGANIZATION" or "INVITATION"
        local reason
        if seen[id] then
            reason = REASON.duplicate
        elseif id == g.admin then
            reason = REASON.own
        elseif existing and existing.status ~= "VERIFICATION_FAILED" then
            reason = REASON.member:format(existing.status)
        elseif kind == "INVITATION" and (type(email) ~= "string" or email == "") then
            reason = REASON.email
        elseif not existing and count >= max then
            reason = REASON.quota:format(max)
            quota_blocked = quota_blocked + 1
        end
        seen[id] = true
        if reason then
            unprocessed[#unprocessed + 1] = { AccountId = id, Reason = reason }
        else
            if not existing then count = count + 1 end
            plan[#plan + 1] = { id = id, email = email, kind = kind, existing = existing }
        end
    end
    if #plan == 0 and quota_blocked > 0 then
        store.quota("A behavior graph cannot have more than " .. max .. " member accounts.", "MemberAccount")
    end
    local out = {}
    for _, p in ipairs(plan) do
        -- A VERIFICATION_FAILED member is verified again from scratch (the console does the same).
        local m = members.new_record(world, g, p.id, p.email, p.kind, ctx.now)
        if p.existing then m.seq = p.existing.seq end
        g.members[p.id] = m
        out[#out + 1] = members.detail(world, g, m)
    end
    store.dirty(world)
    return { Members = out, UnprocessedAccounts = unprocessed }
end

local unique = store.unique

function M.GetMembers(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    local details, unprocessed = {}, {}
    for _, id in ipairs(unique(input.AccountIds)) do
        local m = g.members[id]
        if m then
            details[#details + 1] = members.detail(svc.world, g, m)
        else
            unprocessed[#unprocessed + 1] = { AccountId = id, Reason = id == g.admin and REASON.own or REASON.not_member }
        end
    end
    return { MemberDetails = details, UnprocessedAccounts = unprocessed }
end

function M.ListMembers(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    local items = {}
    for _, m in ipairs(members.ordered(g)) do items[#items + 1] = members.detail(svc.world, g, m) end
    local page, token = paging.page(svc.world, ctx, "ListMembers", input, items, 200)
    return { MemberDetails = page, NextToken = token }
end

function M.DeleteMembers(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    local removed, unprocessed = {}, {}
    for _, id in ipairs(unique(input.AccountIds)) do
        if id == g.admin then
            unprocessed[#unprocessed + 1] = { AccountId = id, Reason = REASON.own_delete }
        elseif g.members[id] then
            -- Invited accounts must be invited again; organization accounts become "not a member"
            -- and the administrator can enable them again with CreateMembers.
            g.members[id] = nil
            removed[#removed + 1] = id
        else
            unprocessed[#unprocessed + 1] = { AccountId = id, Reason = REASON.not_member }
        end
    end
    store.dirty(svc.world)
    return { AccountIds = removed, UnprocessedAccounts = unprocessed }
end

function M.StartMonitoringMember(svc, ctx, input)
    local world = svc.world
    local g = admin_graph(svc, ctx, input.GraphArn)
    local m = g.members[input.AccountId]
    if not m then
        store.not_found("Account " .. input.AccountId .. " is not a member of behavior graph " .. g.arn .. ".")
    end
    if m.status ~= "ACCEPTED_BUT_DISABLED" then
        store.conflict("Account " .. m.account .. " has status " .. m.status ..
            "; only ACCEPTED_BUT_DISABLED members can be enabled with StartMonitoringMember.")
    end
    local max = max_members(world)
    if members.enabled_count(g) >= max then
        store.quota("A behavior graph cannot have more than " .. max .. " enabled member accounts.", "MemberAccount")
    end
    -- Enabled when it qualifies now; otherwise it stays ACCEPTED_BUT_DISABLED (reason refreshed).
    local status, reason = members.eligibility(world, g, m.account, ctx.now)
    if status == "ENABLED" then
        members.set_status(m, "ENABLED", nil, ctx.now)
    elseif reason ~= m.reason then
        m.reason = reason
    end
    store.dirty(world)
    return nil
end

function M.ListInvitations(svc, ctx, input)
    local world = svc.world
    local items = {}
    for _, g in ipairs(store.graphs_in(world, ctx.region)) do
        members.refresh(world, g, ctx.now)
        local m = g.members[ctx.account]
        if m and members.visible_to_member(m) then items[#items + 1] = { m = m, g = g } end
    end
    table.sort(items, function(a, b)
        local ta, tb = a.m.invited or a.m.updated, b.m.invited or b.m.updated
        if ta ~= tb then return ta < tb end
        return a.g.arn < b.g.arn
    end)
    for i, it in ipairs(items) do items[i] = members.detail(world, it.g, it.m) end
    local page, token = paging.page(world, ctx, "ListInvitations", input, items, 200)
    return { Invitations = page, NextToken = token }
end

-- The caller's own membership record in the graph named by `arn`, for the member-side operations.
local function membership(svc, ctx, arn, action)
    local g = store.graph(svc.world, ctx, arn)
    members.refresh(svc.world, g, ctx.now)
    if g.admin == ctx.account then
        store.conflict("Account " .. ctx.account .. " is the administrator of behavior graph " .. g.arn ..
            " and cannot " .. action .. ".")
    end
    local m = g.members[ctx.account]
    if not m then
        store.not_found("Account " .. ctx.account .. " has no invitation to behavior graph " .. g.arn .. ".")
    end
    if m.type == "ORGANIZATION" then
        store.conflict("Account " .. ctx.account .. " is an organization member of behavior graph " .. g.arn ..
            "; organization accounts receive no invitations and cannot " .. action .. ".")
    end
    return g, m
end

local function require_status(m, want, action)
    if m.status ~= want then
        store.conflict("The membership has status " .. m.status .. "; only a membership with status " .. want ..
            " can " .. action .. ".")
    end
end

function M.AcceptInvitation(svc, ctx, input)
    local g, m = membership(svc, ctx, input.GraphArn, "accept an invitation")
    require_status(m, "INVITED", "be accepted")
    members.evaluate(svc.world, g, m, ctx.now)
    store.dirty(svc.world)
    return nil
end

function M.RejectInvitation(svc, ctx, input)
    local g, m = membership(svc, ctx, input.GraphArn, "reject an invitation")
    require_status(m, "INVITED", "be rejected")
    g.members[m.account] = nil
    store.dirty(svc.world)
    return nil
end

function M.DisassociateMembership(svc, ctx, input)
    local g, m = membership(svc, ctx, input.GraphArn, "disassociate from it")
    require_status(m, "ENABLED", "be disassociated")
    g.members[m.account] = nil
    store.dirty(svc.world)
    return nil
end

return M
