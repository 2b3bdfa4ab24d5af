-- Detective emulator: page slicing and opaque NextToken values for the seven list operations.
-- A token records the operation, a fingerprint of the other arguments (and of the caller), the
-- offset of the next item and an expiry, plus a check value keyed by a per-world secret, all in
-- base64. A garbled token, a token from another query or caller, or an expired one is a
-- ValidationException, as AWS documents for ListInvestigations/ListIndicators. The check value
-- guards against mistakes, not attackers: it is a 64-bit FNV-1a hash, not a MAC. Callers must
-- hand in items in a stable order; this module does not sort.
local store = require "detlua.emulator.detective_store"
local page_token = require "detlua.emulator.page_token"

local M = {}

local function fnv64(s)
    return string.format("%016x", page_token.fnv64(s))
end
M.fnv64 = fnv64

local canon = page_token.canon

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64_INDEX = {}
for i = 1, 64 do B64_INDEX[B64:byte(i)] = i - 1 end

local function b64encode(s)
    local out = {}
    for i = 1, #s, 3 do
        local a, b, c = s:byte(i, i + 2)
        local n = (a << 16) | ((b or 0) << 8) | (c or 0)
        out[#out + 1] = B64:sub((n >> 18) + 1, (n >> 18) + 1) .. B64:sub(((n >> 12) & 63) + 1, ((n >> 12) & 63) + 1) ..
            (b and B64:sub(((n >> 6) & 63) + 1, ((n >> 6) & 63) + 1) or "=") ..
            (c and B64:sub((n & 63) + 1, (n & 63) + 1) or "=")
    end
    return table.concat(out)
end

local function b64decode(s)
    if #s == 0 or #s % 4 ~= 0 then return nil end
    local out = {}
    for i = 1, #s, 4 do
        local q = { s:byte(i, i + 3) }
        local pad = 0
        local n = 0
        for j = 1, 4 do
            local v
            if q[j] == 61 and i + 3 == #s and j >= 3 then -- '=' only at the end
                pad = pad + 1
                v = 0
            else
                if pad > 0 then return nil end
                v = B64_INDEX[q[j]]
                if not v then return nil end
            end
            n = (n << 6) | v
        end
        local bytes = string.char((n >> 16) & 255, (n >> 8) & 255, n & 255)
        out[#out + 1] = bytes:sub(1, 3 - pad)
    end
    return table.concat(out)
end

local function secret(world)
    local d = store.root(world)
    if not d.token_secret then
        d.token_secret = world:random_hex(32)
        store.dirty(world)
    end
    return d.token_secret
end

-- Fingerprint of a query: the operation, the caller, the Region and every argument except
-- NextToken and MaxResults (the page size may change between pages).
local function fingerprint(ctx, op, input)
    local rest = {}
    for k, v in pairs(input or {}) do
        if k ~= "NextToken" and k ~= "MaxResults" then rest[k] = v end
    end
    return fnv64(op .. "|" .. tostring(ctx.account) .. "|" .. tostring(ctx.region) .. "|" .. canon(rest))
end

local function bad_token(message)
    store.validation(message, "Repeat the first request without NextToken to start again.")
end

function M.encode(world, ctx, op, input, offset)
    local ttl = store.setting(world, "page_token_ttl_seconds", 86400)
    local expiry = math.floor(ctx.now + ttl)
    local payload = table.concat({ "dt1", op, fingerprint(ctx, op, input), tostring(offset), tostring(expiry) }, ":")
    return b64encode(payload .. ":" .. fnv64(secret(world) .. "|" .. payload))
end

-- Offset encoded in input.NextToken (0 when absent); raises ValidationException for tokens that
-- cannot be read, belong to another query, or have expired.
function M.decode(world, ctx, op, input)
    local token = input and input.NextToken
    if token == nil then return 0 end
    local raw = type(token) == "string" and b64decode(token)
    local tag, top, fp, off, exp, check
    if raw then
        tag, top, fp, off, exp, check = raw:match("^(dt1):(%w+):(%x+):(%d+):(%d+):(%x+)$")
    end
    if not tag then bad_token("The pagination token is not valid.") end
    local payload = table.concat({ tag, top, fp, off, exp }, ":")
    if fnv64(secret(world) .. "|" .. payload) ~= check then bad_token("The pagination token is not valid.") end
    if top ~= op or fp ~= fingerprint(ctx, op, input) then
        bad_token("The pagination token does not belong to this request; keep all other arguments unchanged " ..
            "when you pass NextToken.")
    end
    if ctx.now > tonumber(exp) then bad_token("The pagination token has expired.") end
    return tonumber(off)
end

-- Page size from input.MaxResults (bounds as in the model; the router validates them too) or
-- the default_page_size setting.
function M.limit(world, input, max)
    local n = input and input.MaxResults
    if n == nil then
        local d = store.setting(world, "default_page_size", 100)
        if d > max then d = max end
        return d
    end
    if math.type(n) ~= "integer" then
        if type(n) == "number" and n == math.floor(n) then
            n = math.tointeger(n)
        else
            store.validation("MaxResults must be an integer.", "MaxResults must be between 1 and " .. max .. ".")
        end
    end
    if n < 1 or n > max then
        store.validation("MaxResults " .. n .. " is out of range.", "MaxResults must be between 1 and " .. max .. ".")
    end
    return n
end

-- One page of `items` (a sequence in a stable order). Returns the page (a new sequence) and the
-- NextToken for the rest, or nil on the last page.
function M.page(world, ctx, op, input, items, max)
    local limit = M.limit(world, input, max)
    local offset = M.decode(world, ctx, op, input)
    local page = {}
    for i = offset + 1, math.min(#items, offset + limit) do page[#page + 1] = items[i] end
    local next_token
    if offset + limit < #items then next_token = M.encode(world, ctx, op, input, offset + limit) end
    return page, next_token
end

return M
