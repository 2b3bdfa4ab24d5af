-- Detective emulator: tags on behavior graphs (the only taggable resource): TagResource,
-- UntagResource, ListTagsForResource, and the shared limit checks CreateGraph uses for its Tags.
-- Standard AWS tagging semantics: tagging overwrites existing keys, untagging ignores absent keys,
-- at most 50 tags per graph, no keys in the reserved "aws:" namespace. Only the graph's
-- administrator may read or change its tags.
local store = require "detlua.emulator.detective_store"

local M = {}

local MAX_TAGS = 50

local function check_key(key)
    if type(key) ~= "string" or key:sub(1, 4) == "aws:" then
        store.validation("Tag key " .. tostring(key) .. " is not allowed.",
            "Tag keys that begin with aws: are reserved for AWS use.")
    end
end

-- Merges `tags` into `current` (both maps) after checking keys and the 50-tag limit; `current`
-- is only changed when every check passes.
function M.merge(current, tags)
    local n = 0
    for k in pairs(current) do n = n + 1 end
    for k in pairs(tags or {}) do
        check_key(k)
        if current[k] == nil then n = n + 1 end
    end
    if n > MAX_TAGS then
        store.validation("A behavior graph can have at most " .. MAX_TAGS .. " tags; this request would give it " ..
            n .. ".", "Too many tags.")
    end
    for k, v in pairs(tags or {}) do current[k] = v end
end

local function graph(svc, ctx, arn)
    local g = store.graph(svc.world, ctx, arn)
    store.require_admin(ctx, g)
    return g
end

function M.TagResource(svc, ctx, input)
    local g = graph(svc, ctx, input.ResourceArn)
    g.tags = g.tags or {}
    M.merge(g.tags, input.Tags)
    store.dirty(svc.world)
    return nil
end

function M.UntagResource(svc, ctx, input)
    local g = graph(svc, ctx, input.ResourceArn)
    for _, k in ipairs(input.TagKeys or {}) do check_key(k) end
    for _, k in ipairs(input.TagKeys or {}) do (g.tags or {})[k] = nil end
    store.dirty(svc.world)
    return nil
end

function M.ListTagsForResource(svc, ctx, input)
    local g = graph(svc, ctx, input.ResourceArn)
    local out = {}
    for k, v in pairs(g.tags or {}) do out[k] = v end
    return { Tags = out }
end

return M
