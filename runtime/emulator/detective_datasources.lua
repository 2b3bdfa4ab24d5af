-- Detective emulator: datasource packages (DETECTIVE_CORE, EKS_AUDIT, ASFF_SECURITYHUB_FINDING)
-- and their ingest states (STARTED, STOPPED, DISABLED) with the time of the last change into each
-- state: ListDatasourcePackages (pages a map), UpdateDatasourcePackages (starts packages on the
-- graph and on every member), BatchGetGraphMemberDatasources (administrator view) and
-- BatchGetMembershipDatasources (member view), plus the fixture hook that sets a state the API
-- cannot (AWS stops packages only from the console).
local accounts = require "detlua.emulator.detective_accounts"
local members = require "detlua.emulator.detective_members"
local paging = require "detlua.emulator.detective_paging"
local store = require "detlua.emulator.detective_store"

local M = {}

local REASON = {
    not_member = "The account is not a member of the behavior graph.",
    no_graph = "The behavior graph does not exist in this Region.",
    not_in_graph = "The calling account is not a member of the behavior graph.",
}

local admin_graph = members.admin_graph

local function set_state(pk, state, now)
    if pk.state ~= state then
        pk.state = state
        pk.history = pk.history or {}
        pk.history[state] = now
    end
end

function M.ListDatasourcePackages(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    local items = {}
    for _, p in ipairs(accounts.PACKAGES) do
        local pk = g.packages[p]
        if pk then
            local changes = {}
            for state, ts in pairs(pk.history or {}) do changes[state] = { Timestamp = ts } end
            items[#items + 1] = { p, { DatasourcePackageIngestState = pk.state, LastIngestStateChange = changes } }
        end
    end
    local page, token = paging.page(svc.world, ctx, "ListDatasourcePackages", input, items, 200)
    local map = {}
    for _, it in ipairs(page) do map[it[1]] = it[2] end
    return { DatasourcePackages = map, NextToken = token }
end

-- Starts the listed packages on the graph and propagates the state to every member.
function M.UpdateDatasourcePackages(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    for _, p in ipairs(input.DatasourcePackages or {}) do
        g.packages[p] = g.packages[p] or { state = "STARTED", history = {} }
        set_state(g.packages[p], "STARTED", ctx.now)
        if not g.packages[p].history.STARTED then g.packages[p].history.STARTED = ctx.now end
        for _, m in pairs(g.members) do
            m.packages = m.packages or {}
            m.packages[p] = m.packages[p] or { state = "STARTED", history = { STARTED = ctx.now } }
            set_state(m.packages[p], "STARTED", ctx.now)
        end
    end
    store.dirty(svc.world)
    return nil
end

local unique = store.unique

-- The administrator's own account is part of its graph, so it is reported with the graph's
-- package history; other accounts must be members.
function M.BatchGetGraphMemberDatasources(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    local found, unprocessed = {}, {}
    for _, id in ipairs(unique(input.AccountIds)) do
        local m = g.members[id]
        if id == g.admin then
            found[#found + 1] = { AccountId = id, GraphArn = g.arn, DatasourcePackageIngestHistory = members.history(g.packages) }
        elseif m then
            found[#found + 1] = { AccountId = id, GraphArn = g.arn, DatasourcePackageIngestHistory = members.history(m.packages) }
        else
            unprocessed[#unprocessed + 1] = { AccountId = id, Reason = REASON.not_member }
        end
    end
    return { MemberDatasources = found, UnprocessedAccounts = unprocessed }
end

-- The caller's memberships (open or accepted invitations, organization memberships) and its own
-- graph; anything else is an UnprocessedGraph.
function M.BatchGetMembershipDatasources(svc, ctx, input)
    local world = svc.world
    local found, unprocessed = {}, {}
    for _, arn in ipairs(unique(input.GraphArns)) do
        local g = store.find_graph(world, ctx, arn)
        if not g then
            unprocessed[#unprocessed + 1] = { GraphArn = arn, Reason = REASON.no_graph }
        else
            members.refresh(world, g, ctx.now)
            local m = g.members[ctx.account]
            if g.admin == ctx.account then
                found[#found + 1] = { AccountId = ctx.account, GraphArn = g.arn,
                    DatasourcePackageIngestHistory = members.history(g.packages) }
            elseif m and members.visible_to_member(m) then
                found[#found + 1] = { AccountId = ctx.account, GraphArn = g.arn,
                    DatasourcePackageIngestHistory = members.history(m.packages) }
            else
                unprocessed[#unprocessed + 1] = { GraphArn = arn, Reason = REASON.not_in_graph }
            end
        end
    end
    return { MembershipDatasources = found, UnprocessedGraphs = unprocessed }
end

-- Fixture hook: {graph_arn, package, state, account_id?} sets the ingest state of a package on
-- the graph (and its members) or, with account_id, on one member only.
function M.set_package_state(svc, ctx, body)
    local world = svc.world
    body = body or {}
    local g = store.root(world).graphs[body.graph_arn or ""]
    if not g then store.not_found("set_package_state: no behavior graph " .. tostring(body.graph_arn) .. ".") end
    local ok_pkg, ok_state = false, false
    for _, p in ipairs(accounts.PACKAGES) do ok_pkg = ok_pkg or p == body.package end
    for _, s in ipairs({ "STARTED", "STOPPED", "DISABLED" }) do ok_state = ok_state or s == body.state end
    if not ok_pkg or not ok_state then
        store.validation("set_package_state needs package (DETECTIVE_CORE, EKS_AUDIT, ASFF_SECURITYHUB_FINDING) and " ..
            "state (STARTED, STOPPED, DISABLED).", "Bad fixture call.")
    end
    local targets = {}
    if body.account_id then
        local m = g.members[body.account_id]
        if not m then store.not_found("set_package_state: " .. body.account_id .. " is not a member.") end
        targets[1] = m
    else
        targets[1] = g
        for _, m in pairs(g.members) do targets[#targets + 1] = m end
    end
    for _, t in ipairs(targets) do
        t.packages = t.packages or {}
        t.packages[body.package] = t.packages[body.package] or { state = body.state, history = {} }
        set_state(t.packages[body.package], body.state, ctx.now)
        t.packages[body.package].history[body.state] = t.packages[body.package].history[body.state] or ctx.now
    end
    store.dirty(world)
    return { GraphArn = g.arn, Package = body.package, State = body.state }
end

return M
