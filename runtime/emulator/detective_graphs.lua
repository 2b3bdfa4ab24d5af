-- Detective emulator: behavior graph lifecycle -- CreateGraph (one graph per administrator
-- account per Region, idempotent), DeleteGraph (takes members, investigations and tags with it,
-- so the graph disappears from every member's view), ListGraphs -- and the graph record itself,
-- which the organization operations also create. Membership and datasource operations live in
-- their own modules.
local accounts = require "detlua.emulator.detective_accounts"
local members = require "detlua.emulator.detective_members"
local paging = require "detlua.emulator.detective_paging"
local store = require "detlua.emulator.detective_store"
local tags = require "detlua.emulator.detective_tags"

local M = {}

-- Initial ingest state of each package on a new graph. DETECTIVE_CORE always starts; the optional
-- packages follow settings (AWS does not document their initial state).
local function initial_packages(world, now)
    local states = {
        DETECTIVE_CORE = "STARTED",
        EKS_AUDIT = store.setting(world, "initial_eks_audit_state", "STARTED"),
        ASFF_SECURITYHUB_FINDING = store.setting(world, "initial_asff_securityhub_finding_state", "STARTED"),
    }
    local out = {}
    for _, p in ipairs(accounts.PACKAGES) do out[p] = { state = states[p], history = { [states[p]] = now } } end
    return out
end

-- Graph record (world.data.detective.graphs[arn]):
--   arn, region, admin, created, seq, tags = {}, org (organization behavior graph),
--   auto_enable, packages = {[package] = {state, history}}, members = {[account] = member},
--   investigations = {[id] = investigation}
function M.new_graph(world, region, admin, now)
    local d = store.root(world)
    local arn
    repeat
        arn = store.graph_arn(region, admin, world:random_hex(32):lower())
    until d.graphs[arn] == nil
    local g = {
        arn = arn,
        region = region,
        admin = admin,
        created = now,
        seq = store.next_seq(world),
        tags = {},
        org = false,
        auto_enable = false,
        packages = initial_packages(world, now),
        members = {},
        investigations = {},
    }
    d.graphs[arn] = g
    store.dirty(world)
    return g
end

-- The administrator's own data must fit the volume quota for it to enable Detective.
local function check_admin_volume(world, admin)
    local own = accounts.daily_volume(world, admin) or 0
    if own > members.volume_limit(world) then
        store.quota("The data volume of account " .. admin .. " is above the limit a behavior graph can ingest " ..
            "per day; Detective cannot be enabled for it.", "DataVolume")
    end
end
M.check_admin_volume = check_admin_volume

function M.delete(world, g)
    store.root(world).graphs[g.arn] = nil
    store.dirty(world)
end

function M.CreateGraph(svc, ctx, input)
    local world = svc.world
    local g = store.admin_graph(world, ctx.account, ctx.region)
    if g then
        -- Same administrator, same Region: the same graph; tags given again are merged in.
        if input.Tags then
            tags.merge(g.tags, input.Tags)
            store.dirty(world)
        end
        return { GraphArn = g.arn }
    end
    check_admin_volume(world, ctx.account)
    tags.merge({}, input.Tags) -- validate before creating anything
    g = M.new_graph(world, ctx.region, ctx.account, ctx.now)
    tags.merge(g.tags, input.Tags)
    return { GraphArn = g.arn }
end

function M.DeleteGraph(svc, ctx, input)
    local g = store.graph(svc.world, ctx, input.GraphArn)
    store.require_admin(ctx, g)
    if g.org then
        store.conflict("Behavior graph " .. g.arn .. " is the organization behavior graph; the organization " ..
            "management account removes it with DisableOrganizationAdminAccount.")
    end
    M.delete(svc.world, g)
    return nil
end

function M.ListGraphs(svc, ctx, input)
    local items = {}
    local g = store.admin_graph(svc.world, ctx.account, ctx.region)
    if g then items[1] = { Arn = g.arn, CreatedTime = g.created } end
    local page, token = paging.page(svc.world, ctx, "ListGraphs", input, items, 200)
    return { GraphList = page, NextToken = token }
end

return M
