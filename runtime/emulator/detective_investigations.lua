-- Detective emulator: investigations of IAM users and roles -- StartInvestigation,
-- GetInvestigation, ListInvestigations (filters, sort, paging), UpdateInvestigationState and
-- ListIndicators. A run is RUNNING until investigation_delay_seconds after it started, then
-- SUCCESSFUL or FAILED; that completion is computed lazily from the stored start time and the
-- request time, and its result (from detective_indicators) is recorded at that moment so later
-- reads agree. Only the graph's administrator may use these operations.
local indicators = require "detlua.emulator.detective_indicators"
local paging = require "detlua.emulator.detective_paging"
local store = require "detlua.emulator.detective_store"

local M = {}

local SEVERITY_RANK = { INFORMATIONAL = 1, LOW = 2, MEDIUM = 3, HIGH = 4, CRITICAL = 5 }
local STATUS_RANK = { RUNNING = 1, FAILED = 2, SUCCESSFUL = 3 } -- the model's enum order

local function admin_graph(svc, ctx, arn)
    local g = store.graph(svc.world, ctx, arn)
    store.require_admin(ctx, g)
    g.investigations = g.investigations or {}
    return g
end

-- Completes a RUNNING investigation whose delay has passed. Returns true when it changed.
local function settle(world, inv, now)
    if inv.status ~= "RUNNING" or now < inv.done_at then return false end
    local status, severity, list = indicators.outcome(world, inv.entity)
    inv.status, inv.severity, inv.indicators = status, severity, list
    return true
end

local function settle_all(world, g, now)
    local changed = false
    for _, inv in pairs(g.investigations) do
        if settle(world, inv, now) then changed = true end
    end
    if changed then store.dirty(world) end
end

local function find(svc, ctx, g, id)
    local inv = g.investigations[id]
    if not inv then
        store.not_found("Investigation " .. tostring(id) .. " does not exist in behavior graph " .. g.arn .. ".")
    end
    if settle(svc.world, inv, ctx.now) then store.dirty(svc.world) end
    return inv
end

-- IAM_USER or IAM_ROLE from an IAM ARN (arn:<partition>:iam::<account>:user/<path/name>).
local function entity_type(arn)
    local kind = arn:match("^arn:aws[%w%-]*:iam::%d%d%d%d%d%d%d%d%d%d%d%d:(%a+)/.")
    if kind == "user" then return "IAM_USER" end
    if kind == "role" then return "IAM_ROLE" end
    return nil
end

function M.StartInvestigation(svc, ctx, input)
    local world = svc.world
    local g = admin_graph(svc, ctx, input.GraphArn)
    local kind = entity_type(input.EntityArn)
    if not kind then
        store.validation("EntityArn " .. tostring(input.EntityArn) .. " is not the ARN of an IAM user or IAM role.",
            "Investigations can be started for IAM users (arn:aws:iam::<account>:user/<name>) and IAM roles " ..
            "(arn:aws:iam::<account>:role/<name>) only.")
    end
    if not (input.ScopeStartTime < input.ScopeEndTime) then
        store.validation("ScopeStartTime must be earlier than ScopeEndTime.", "The investigation scope is empty.")
    end
    local id
    repeat id = world:random_digits(21) until g.investigations[id] == nil
    g.investigations[id] = {
        id = id,
        entity = input.EntityArn,
        entity_type = kind,
        created = ctx.now,
        scope_start = input.ScopeStartTime,
        scope_end = input.ScopeEndTime,
        status = "RUNNING",
        state = "ACTIVE",
        done_at = ctx.now + store.setting(world, "investigation_delay_seconds", 2),
        seq = store.next_seq(world),
    }
    store.dirty(world)
    return { InvestigationId = id }
end

function M.GetInvestigation(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    local inv = find(svc, ctx, g, input.InvestigationId)
    return {
        GraphArn = g.arn,
        InvestigationId = inv.id,
        EntityArn = inv.entity,
        EntityType = inv.entity_type,
        CreatedTime = inv.created,
        ScopeStartTime = inv.scope_start,
        ScopeEndTime = inv.scope_end,
        Status = inv.status,
        Severity = inv.severity,
        State = inv.state,
    }
end

local function matches(inv, f)
    if not f then return true end
    if f.Severity and inv.severity ~= f.Severity.Value then return false end
    if f.Status and inv.status ~= f.Status.Value then return false end
    if f.State and inv.state ~= f.State.Value then return false end
    if f.EntityArn and inv.entity ~= f.EntityArn.Value then return false end
    if f.CreatedTime then
        local c = f.CreatedTime
        if inv.created < c.StartInclusive or inv.created > c.EndInclusive then return false end
    end
    return true
end

-- Sort key of an investigation for a field; an investigation without a severity (RUNNING,
-- FAILED) ranks below INFORMATIONAL.
local function key(inv, fieldname)
    if fieldname == "SEVERITY" then return SEVERITY_RANK[inv.severity] or 0 end
    if fieldname == "STATUS" then return STATUS_RANK[inv.status] or 0 end
    return inv.created
end

function M.ListInvestigations(svc, ctx, input)
    local world = svc.world
    local g = admin_graph(svc, ctx, input.GraphArn)
    settle_all(world, g, ctx.now)
    local f = input.FilterCriteria
    local default_state = store.setting(world, "list_investigations_default_state", "ALL")
    local list = {}
    for _, inv in pairs(g.investigations) do
        local state_ok = (f and f.State) or default_state == "ALL" or inv.state == default_state
        if state_ok and matches(inv, f) then list[#list + 1] = inv end
    end
    local sc = input.SortCriteria or {}
    local fieldname = sc.Field or "CREATED_TIME"
    local desc = (sc.SortOrder or "DESC") == "DESC"
    table.sort(list, function(a, b)
        local ka, kb = key(a, fieldname), key(b, fieldname)
        if ka ~= kb then
            if desc then return ka > kb end
            return ka < kb
        end
        -- ties: newest first, then by id, so pages are stable
        if a.created ~= b.created then return a.created > b.created end
        return a.id < b.id
    end)
    local items = {}
    for i, inv in ipairs(list) do
        items[i] = {
            InvestigationId = inv.id,
            Severity = inv.severity,
            Status = inv.status,
            State = inv.state,
            CreatedTime = inv.created,
            EntityArn = inv.entity,
            EntityType = inv.entity_type,
        }
    end
    local page, token = paging.page(world, ctx, "ListInvestigations", input, items, 100)
    return { InvestigationDetails = page, NextToken = token }
end

function M.UpdateInvestigationState(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    local inv = find(svc, ctx, g, input.InvestigationId)
    inv.state = input.State
    store.dirty(svc.world)
    return nil
end

-- Indicators exist once the investigation is SUCCESSFUL; while RUNNING (and when FAILED) the
-- list is empty.
function M.ListIndicators(svc, ctx, input)
    local g = admin_graph(svc, ctx, input.GraphArn)
    local inv = find(svc, ctx, g, input.InvestigationId)
    local items = {}
    if inv.status == "SUCCESSFUL" then
        for _, ind in ipairs(inv.indicators or {}) do
            if input.IndicatorType == nil or ind.IndicatorType == input.IndicatorType then
                items[#items + 1] = store.copy(ind)
            end
        end
    end
    local page, token = paging.page(svc.world, ctx, "ListIndicators", input, items, 100)
    return { GraphArn = g.arn, InvestigationId = inv.id, Indicators = page, NextToken = token }
end

return M
