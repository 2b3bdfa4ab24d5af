-- Detective emulator: the organization behavior graph. The management account designates (per
-- Region) the Detective administrator (EnableOrganizationAdminAccount, which creates or converts
-- that account's graph), removes it (DisableOrganizationAdminAccount, which deletes the
-- organization graph of the Region) and lists it; the Detective administrator reads and sets
-- AutoEnable; the fixture hooks add and remove organization accounts, and auto-enable applies to
-- accounts added while it is on. Membership operations on the organization graph are in
-- detective_membership.
local accounts = require "detlua.emulator.detective_accounts"
local graphs = require "detlua.emulator.detective_graphs"
local members = require "detlua.emulator.detective_members"
local paging = require "detlua.emulator.detective_paging"
local store = require "detlua.emulator.detective_store"

local M = {}

local NOT_IN_ORG = "The account is not a member of an organization."

-- The caller must be the organization's management account. Caller outside any organization ->
-- ValidationException with the message Terraform observed; inside but not management -> 403.
local function require_management(world, ctx, action)
    local mgmt = accounts.management(world)
    if not mgmt or not accounts.in_org(world, ctx.account) then
        store.validation("Account " .. ctx.account .. " cannot " .. action .. ": account is not a member of an " ..
            "organization.", NOT_IN_ORG)
    end
    if ctx.account ~= mgmt then
        store.access_denied("Only the organization management account can " .. action .. "; account " ..
            ctx.account .. " is not the management account.")
    end
    return mgmt
end

local function delegated_admin(world)
    local d = store.root(world)
    return d.delegated_admin or accounts.scenario_delegated_admin(world)
end

-- Turns a graph into the organization behavior graph: existing invited members that belong to the
-- organization become ORGANIZATION members and are enabled (subject to the usual checks);
-- accounts outside the organization stay invited members.
local function convert(world, g, now)
    g.org = true
    g.auto_enable = false
    members.refresh(world, g, now)
    for _, m in ipairs(members.ordered(g)) do
        if m.type == "INVITATION" and accounts.in_org(world, m.account) then
            m.type = "ORGANIZATION"
            m.invited = nil
            m.verify_at = nil
            if m.status ~= "ENABLED" then members.evaluate(world, g, m, now) end
        end
    end
end

function M.EnableOrganizationAdminAccount(svc, ctx, input)
    local world = svc.world
    local mgmt = require_management(world, ctx, "designate the Detective administrator account")
    local target = input.AccountId
    if not accounts.in_org(world, target) then
        store.validation("Account " .. target .. " is not a member of the organization.", NOT_IN_ORG)
    end
    local delegated = delegated_admin(world)
    if delegated and target ~= delegated and target ~= mgmt then
        store.validation("Account " .. delegated .. " is the delegated administrator for Detective in the " ..
            "organization; only it or the management account can be the Detective administrator account.",
            "A different delegated administrator is registered.")
    end
    local d = store.root(world)
    local current = d.org_admins[ctx.region]
    if current then
        if current.account == target then return nil end
        store.validation("Account " .. current.account .. " is already the Detective administrator account for " ..
            "the organization in Region " .. ctx.region .. ".", "An administrator account is already enabled.")
    end
    local g = store.admin_graph(world, target, ctx.region)
    if not g then
        graphs.check_admin_volume(world, target)
        g = graphs.new_graph(world, ctx.region, target, ctx.now)
    end
    convert(world, g, ctx.now)
    d.org_admins[ctx.region] = { account = target, graph = g.arn, since = ctx.now }
    if target ~= mgmt then d.delegated_admin = target end
    store.dirty(world)
    return nil
end

function M.DisableOrganizationAdminAccount(svc, ctx, input)
    local world = svc.world
    require_management(world, ctx, "remove the Detective administrator account")
    local d = store.root(world)
    local current = d.org_admins[ctx.region]
    if not current then
        store.not_found("No Detective administrator account is enabled for the organization in Region " ..
            ctx.region .. ".")
    end
    local g = d.graphs[current.graph]
    if g then graphs.delete(world, g) end
    d.org_admins[ctx.region] = nil
    store.dirty(world)
    return nil
end

function M.ListOrganizationAdminAccounts(svc, ctx, input)
    local world = svc.world
    require_management(world, ctx, "list the Detective administrator accounts")
    local items = {}
    local current = store.root(world).org_admins[ctx.region]
    if current then
        items[1] = { AccountId = current.account, GraphArn = current.graph, DelegationTime = current.since }
    end
    local page, token = paging.page(world, ctx, "ListOrganizationAdminAccounts", input, items, 200)
    return { Administrators = page, NextToken = token }
end

-- DescribeOrganizationConfiguration / UpdateOrganizationConfiguration: only the Detective
-- administrator account of the organization, on the organization behavior graph.
local function org_graph(svc, ctx, arn)
    local g = store.graph(svc.world, ctx, arn)
    store.require_admin(ctx, g)
    if not g.org then
        store.access_denied("Behavior graph " .. g.arn .. " is not the organization behavior graph; only the " ..
            "Detective administrator account for the organization can manage the organization configuration.")
    end
    return g
end

function M.DescribeOrganizationConfiguration(svc, ctx, input)
    local g = org_graph(svc, ctx, input.GraphArn)
    return { AutoEnable = g.auto_enable == true }
end

function M.UpdateOrganizationConfiguration(svc, ctx, input)
    local g = org_graph(svc, ctx, input.GraphArn)
    g.auto_enable = input.AutoEnable == true
    store.dirty(svc.world)
    return nil
end

-- Fixture hook: `account_id` joins the organization. Every organization graph with AutoEnable on
-- enables it at once (ENABLED, or ACCEPTED_BUT_DISABLED when it does not qualify yet).
function M.add_organization_account(svc, ctx, body)
    local world = svc.world
    local id = body and (body.account_id or body.AccountId)
    if type(id) ~= "string" or not id:match("^%d%d%d%d%d%d%d%d%d%d%d%d$") then
        store.validation("add_organization_account needs account_id, a 12-digit account id.", "Bad fixture call.")
    end
    local d = store.root(world)
    d.org_removed[id] = nil
    d.org_added[id] = true
    local enabled = {}
    for _, arn in ipairs(store.sorted_keys(d.graphs)) do
        local g = d.graphs[arn]
        if g.org and g.auto_enable and g.admin ~= id and not g.members[id] then
            members.refresh(world, g, ctx.now)
            if members.count(g) < store.setting(world, "max_members_per_graph", 1200) then
                local m = members.new_record(world, g, id, accounts.email(world, id), "ORGANIZATION", ctx.now)
                m.verify_at = nil
                g.members[id] = m
                members.evaluate(world, g, m, ctx.now)
                enabled[#enabled + 1] = { GraphArn = g.arn, Status = m.status }
            end
        end
    end
    store.dirty(world)
    return { AccountId = id, AutoEnabled = enabled }
end

-- Fixture hook: `account_id` leaves the organization; it drops out of organization graphs
-- (one still in VERIFICATION_IN_PROGRESS stays and ends VERIFICATION_FAILED).
function M.remove_organization_account(svc, ctx, body)
    local world = svc.world
    local id = body and (body.account_id or body.AccountId)
    if type(id) ~= "string" then
        store.validation("remove_organization_account needs account_id.", "Bad fixture call.")
    end
    local d = store.root(world)
    d.org_added[id] = nil
    d.org_removed[id] = true
    local removed = {}
    for _, arn in ipairs(store.sorted_keys(d.graphs)) do
        local g = d.graphs[arn]
        local m = g.members[id]
        -- a member still being verified stays, and fails verification (not in the organization)
        if m and m.type == "ORGANIZATION" and m.status ~= "VERIFICATION_IN_PROGRESS" then
            g.members[id] = nil
            removed[#removed + 1] = g.arn
        end
    end
    store.dirty(world)
    return { AccountId = id, RemovedFrom = removed }
end

return M
