-- Detective emulator: where the service keeps its state (world.data.detective), how behavior
-- graph ARNs are built and read, and the common "which graph, may this caller use it" checks
-- every operation starts with (404 for a graph that is not in this Region, 403 for a caller
-- that is not its administrator). It implements no operation itself and keeps no state outside
-- world.data, so that everything survives persistence as plain JSON.
local E = require "detlua.emulator.errors"

local M = {}

-- world.data.detective layout (all string keys or sequences, JSON-serialisable):
--   graphs      = { [graph arn] = graph }          (see detective_graphs.new_graph)
--   org_admins  = { [region] = {account, graph, since} }
--   org_added / org_removed = { [account id] = true }  (organization changes made by fixtures)
--   delegated_admin = account id or nil            (Organizations' delegated administrator)
--   seq         = counter for stable insertion order
--   token_secret = hex string mixed into page-token checks
function M.root(world)
    local d = world.data.detective
    if type(d) ~= "table" then
        d = {}
        world.data.detective = d
    end
    d.graphs = d.graphs or {}
    d.org_admins = d.org_admins or {}
    d.org_added = d.org_added or {}
    d.org_removed = d.org_removed or {}
    d.seq = d.seq or 0
    return d
end

function M.dirty(world)
    world:mark_dirty()
end

-- Next value of the insertion counter (orders members and graphs the same way on every page).
function M.next_seq(world)
    local d = M.root(world)
    d.seq = d.seq + 1
    return d.seq
end

function M.setting(world, name, default)
    local v = world:setting("detective", name, default)
    if v == nil then return default end
    return v
end

-- Partition of a Region: ARNs carry it, and GovCloud changes member verification.
function M.partition(region)
    if region:match("^cn%-") then return "aws-cn" end
    if region:match("^us%-gov%-") then return "aws-us-gov" end
    return "aws"
end

function M.graph_arn(region, account, hex)
    return "arn:" .. M.partition(region) .. ":detective:" .. region .. ":" .. account .. ":graph:" .. hex
end

-- Returns partition, region, account, id of a well-formed graph ARN (the model's GraphArn
-- pattern), or nil.
function M.parse_graph_arn(arn)
    if type(arn) ~= "string" then return nil end
    local p, region, account, id = arn:match("^arn:(aws[%w%-_]*):detective:([%w%-_]+):(%d+):graph:(%x+)$")
    if not p or #account ~= 12 or #id ~= 32 or id:find("[A-F]") then return nil end
    return p, region, account, id
end

function M.invalid_graph_arn(arn)
    E.raise("ValidationException", "The behavior graph ARN " .. tostring(arn) .. " is not valid.", {
        ErrorCode = "INVALID_GRAPH_ARN",
        ErrorCodeReason = "A behavior graph ARN has the form arn:aws:detective:<region>:<account id>:graph:<32 hex digits>.",
    })
end

function M.not_found(message)
    E.raise("ResourceNotFoundException", message)
end

function M.access_denied(message)
    E.raise("AccessDeniedException", message)
end

function M.conflict(message)
    E.raise("ConflictException", message)
end

function M.validation(message, reason)
    E.raise("ValidationException", message, { ErrorCode = "INVALID_REQUEST_BODY", ErrorCodeReason = reason })
end

function M.quota(message, resource)
    E.raise("ServiceQuotaExceededException", message, { Resources = { resource } })
end

-- The graph named by `arn` in the caller's Region. A malformed ARN is a validation error
-- (the router normally catches it first); a well-formed ARN of another Region, or of a graph
-- that does not (or no longer) exist, is not found -- what Terraform sees for deleted graphs.
function M.graph(world, ctx, arn)
    if not M.parse_graph_arn(arn) then M.invalid_graph_arn(arn) end
    local g = M.root(world).graphs[arn]
    if not g or g.region ~= ctx.region then
        M.not_found("The behavior graph " .. arn .. " does not exist in Region " .. ctx.region .. ".")
    end
    return g
end

-- Same lookup, but nil instead of an error (batch operations report per item).
function M.find_graph(world, ctx, arn)
    if not M.parse_graph_arn(arn) then return nil end
    local g = M.root(world).graphs[arn]
    if not g or g.region ~= ctx.region then return nil end
    return g
end

function M.require_admin(ctx, g)
    if g.admin ~= ctx.account then
        M.access_denied("Account " .. ctx.account .. " is not the administrator account of behavior graph " ..
            g.arn .. ".")
    end
end

-- The graph `account` administers in `region`, or nil (at most one per Region).
function M.admin_graph(world, account, region)
    for _, g in pairs(M.root(world).graphs) do
        if g.admin == account and g.region == region then return g end
    end
    return nil
end

-- Graphs of a Region in creation order (deterministic iteration for lists).
function M.graphs_in(world, region)
    local out = {}
    for _, g in pairs(M.root(world).graphs) do
        if g.region == region then out[#out + 1] = g end
    end
    table.sort(out, function(a, b)
        if a.seq ~= b.seq then return a.seq < b.seq end
        return a.arn < b.arn
    end)
    return out
end

-- A deep copy of plain data, so outputs and stored records never share tables with the state
-- or the scenario (the router may rework what it is handed).
function M.copy(v)
    if type(v) ~= "table" then return v end
    local out = {}
    for k, x in pairs(v) do out[k] = M.copy(x) end
    return out
end

-- A sequence of the keys of a set-like table, sorted (stable order for outputs).
function M.sorted_keys(t)
    local out = {}
    for k in pairs(t or {}) do out[#out + 1] = k end
    table.sort(out)
    return out
end

-- The ids of a request in first-seen order, without repeats (AccountIds, GraphArns).
function M.unique(ids)
    local out, seen = {}, {}
    for _, id in ipairs(ids or {}) do
        if not seen[id] then
            seen[id] = true
            out[#out + 1] = id
        end
    end
    return out
end

return M
