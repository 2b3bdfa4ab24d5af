-- Emulator page tokens: the two pieces every service's opaque NextToken is built from, the
-- canonical text of the request arguments (so equal arguments give equal fingerprints) and a
-- 64-bit FNV-1a check value. Each service keeps its own token layout and encoding (Detective
-- base64 with an expiry, GuardDuty hex), since the specs pin them; this module only builds
-- strings and numbers. FNV-1a guards against mistakes, not attackers: it is not a MAC.
local M = {}

local FNV_OFFSET = -3750763034362895579 -- 0xcbf29ce484222325 as a signed 64-bit integer
local FNV_PRIME = 1099511628211

-- FNV-1a 64 of `s` as a Lua integer (format it with %016x for the usual hex form).
function M.fnv64(s)
    local h = FNV_OFFSET
    for i = 1, #s do
        h = (h ~ s:byte(i)) * FNV_PRIME -- integer multiplication wraps modulo 2^64
    end
    return h
end

-- Canonical text of a value: sorted keys, so equal arguments give equal fingerprints.
local function canon(v)
    local t = type(v)
    if t == "table" then
        local keys = {}
        for k in pairs(v) do keys[#keys + 1] = k end
        table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
        local parts = {}
        for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. canon(v[k]) end
        return "{" .. table.concat(parts, ",") .. "}"
    elseif t == "string" then
        return string.format("%q", v)
    elseif t == "number" then
        return string.format("%.17g", v)
    end
    return tostring(v)
end
M.canon = canon

return M
