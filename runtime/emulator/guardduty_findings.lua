-- GuardDuty emulator: findings as data. Converts findings written with wire names (lowerCamel,
-- as in scenario files and AWS's JSON) to MODEL member names using the service model, fills the
-- required fields a hand-written finding may lack, and evaluates ListFindings' findingCriteria
-- and sortCriteria over dotted wire-name paths ("resource.accessKeyDetails.userName"), walking
-- lists on the way. It owns no state and makes no permission decisions.
local model = require "aws.core.model"
local json = require "aws.json"
local time = require "aws.time"

local M = {}

local SVC = "guardduty"

local function shape(name)
    return model.shape(SVC, name)
end

-- Member of a structure shape named by its wire name, or by its model name in any case.
local function member_by_wire(sh, key)
    for _, m in ipairs(sh.members or {}) do
        if m.wire_name == key then return m end
    end
    local lower = key:lower()
    for _, m in ipairs(sh.members or {}) do
        if m.name:lower() == lower then return m end
    end
    return nil
end

---------------------------------------------------------------------------------------------
-- Wire -> model conversion. Errors name the path so a scenario author can find the typo.

-- JSON null as either decoder hands it over: lua-cjson's sentinel, or the emulator's own
-- (wire_json's, recognised by its metatable name so this module does not depend on it).
local function is_null(v)
    if v == nil or v == json.null then return true end
    local mt = type(v) == "table" and getmetatable(v)
    return type(mt) == "table" and mt.__name == "detlua.emulator.json_null"
end

-- A structure written the way EventBridge and the console show additionalInfo (a free
-- object) becomes the API's {value = <JSON text>, type = "default"}.
local function additional_info(raw, path, fail)
    if type(raw) ~= "table" then fail(path .. ": expected an object") end
    local only_api = true
    for k in pairs(raw) do
        local lk = tostring(k):lower()
        if lk ~= "value" and lk ~= "type" then only_api = false end
    end
    if only_api then
        local v = raw.value or raw.Value
        if v ~= nil and type(v) ~= "string" then v = json.encode(v) end
        return { Value = v, Type = raw.type or raw.Type }
    end
    return { Value = json.encode(raw), Type = "default" }
end

local convert

convert = function(shape_name, raw, path, fail)
    local sh = shape(shape_name)
    if not sh then fail(path .. ": unknown shape " .. tostring(shape_name)) end
    local t = sh.type
    if t == "structure" then
        if shape_name == "ServiceAdditionalInfo" then return additional_info(raw, path, fail) end
        if type(raw) ~= "table" then fail(path .. ": expected an object") end
        local out = {}
        for k, v in pairs(raw) do
            if type(k) ~= "string" then fail(path .. ": expected an object") end
            local m = member_by_wire(sh, k)
            if not m then fail(path .. "." .. k .. ": not a member of " .. shape_name) end
            if not is_null(v) then out[m.name] = convert(m.shape, v, path .. "." .. k, fail) end
        end
        return out
    elseif t == "list" then
        if type(raw) ~= "table" then fail(path .. ": expected a list") end
        local out = {}
        for i, v in ipairs(raw) do
            if not is_null(v) then out[#out + 1] = convert(sh.member, v, path .. "[" .. (i - 1) .. "]", fail) end
        end
        return out
    elseif t == "map" then
        if type(raw) ~= "table" then fail(path .. ": expected an object") end
        local out = {}
        for k, v in pairs(raw) do out[tostring(k)] = convert(sh.value, v, path .. "." .. tostring(k), fail) end
        return out
    elseif t == "string" then
        if type(raw) == "number" or type(raw) == "boolean" then return tostring(raw) end
        if type(raw) ~= "string" then fail(path .. ": expected a string") end
        return raw
    elseif t == "integer" or t == "long" or t == "double" or t == "float" then
        local n = tonumber(raw)
        if type(raw) == "boolean" or not n then fail(path .. ": expected a number") end
        if (t == "integer" or t == "long") then
            if n ~= math.floor(n) then fail(path .. ": expected an integer") end
            n = math.tointeger(n)
        end
        return n
    elseif t == "boolean" then
        if raw == true or raw == "true" then return true end
        if raw == false or raw == "false" then return false end
        fail(path .. ": expected true or false")
    elseif t == "timestamp" then
        local e = (type(raw) == "number" and raw) or (type(raw) == "string" and time.parse(raw))
        if not e then fail(path .. ": expected epoch seconds or an ISO 8601 date-time") end
        return e
    end
    return raw
end

-- Converts `raw` (wire names; model names are accepted too) to a table of MODEL member names
-- for `shape_name`. Returns the table, or nil and a message naming the offending path (list
-- indexes 0-based, like the scenario loader's messages).
function M.from_wire(shape_name, raw, path)
    local ok, res = pcall(convert, shape_name, raw, path or shape_name, function(msg)
        error({ gd_wire_error = msg })
    end)
    if ok then return res end
    if type(res) == "table" and res.gd_wire_error then return nil, res.gd_wire_error end
    error(res, 0)
end

-- A deep copy of `v` shaped by `shape_name`, with integral numbers of integer and long members
-- made Lua integers again (JSON persistence may hand them back as floats).
function M.export(shape_name, v)
    if type(v) ~= "table" then
        local sh = shape(shape_name)
        if type(v) == "number" and sh and (sh.type == "integer" or sh.type == "long") then
            return math.tointeger(v) or v
        end
        return v
    end
    local sh = shape(shape_name)
    local out = {}
    for k, x in pairs(v) do
        local sub
        if sh and sh.type == "structure" then
            local idx = sh.member_index[k]
            sub = idx and sh.members[idx].shape
        elseif sh and sh.type == "list" then
            sub = sh.member
        elseif sh and sh.type == "map" then
            sub = sh.value
        end
        out[k] = sub and M.export(sub, x) or x
    end
    return out
end

---------------------------------------------------------------------------------------------
-- Filling in what a hand-written finding may lack.

local function iso_ms(t)
    return time.format(t, { ms = true })
end

local function date_string(v)
    if type(v) == "number" then return iso_ms(v) end
    return v
end

-- Normalises a finding that is already in model names, in place: fills id, arn, createdAt,
-- updatedAt (ISO strings with milliseconds), schemaVersion "2.0", region, partition, and the
-- service block (detectorId, archived=false, count=1, eventFirst/LastSeen, resourceRole,
-- serviceName), title/description from the type, severity 5 when absent. `opts`: account and
-- region (defaults), id (default id), now (epoch seconds, when the finding gives no time at
-- all), partition (function(region) -> partition), detector_id (function(account, region,
-- createdAt) -> id). Returns the finding, or nil and a message.
function M.complete(f, opts)
    if type(f.Type) ~= "string" or f.Type == "" then return nil, "type is required" end
    f.AccountId = f.AccountId or opts.account
    if type(f.AccountId) ~= "string" or not f.AccountId:match("^%d%d%d%d%d%d%d%d%d%d%d%d$") then
        return nil, "accountId must be a 12-digit account id"
    end
    f.Region = f.Region or opts.region
    f.Id = f.Id or opts.id
    f.Partition = f.Partition or opts.partition(f.Region)
    f.SchemaVersion = f.SchemaVersion or "2.0"
    f.Service = f.Service or {}
    local s = f.Service
    for _, k in ipairs({ "CreatedAt", "UpdatedAt" }) do
        if f[k] ~= nil then
            f[k] = date_string(f[k])
            if not time.parse(f[k]) then return nil, k:sub(1, 1):lower() .. k:sub(2) .. " is not a date-time" end
        end
    end
    local created = f.CreatedAt or f.UpdatedAt or s.EventFirstSeen or s.EventLastSeen
    created = date_string(created) or iso_ms(opts.now)
    f.CreatedAt = f.CreatedAt or created
    f.UpdatedAt = f.UpdatedAt or s.EventLastSeen or f.CreatedAt
    s.EventFirstSeen = date_string(s.EventFirstSeen) or f.CreatedAt
    s.EventLastSeen = date_string(s.EventLastSeen) or f.UpdatedAt
    s.DetectorId = opts.detector_id(f.AccountId, f.Region, f.CreatedAt)
    f.Arn = f.Arn or ("arn:" .. f.Partition .. ":guardduty:" .. f.Region .. ":" .. f.AccountId .. ":detector/" ..
        s.DetectorId .. "/finding/" .. f.Id)
    if s.Archived == nil then s.Archived = false end
    s.Count = s.Count or 1
    s.ServiceName = s.ServiceName or "guardduty"
    s.ResourceRole = s.ResourceRole or "TARGET"
    f.Resource = f.Resource or {}
    f.Severity = f.Severity or 5.0
    f.Title = f.Title or f.Type
    f.Description = f.Description or f.Title
    return f
end

---------------------------------------------------------------------------------------------
-- Criteria paths.

-- Compiles "resource.instanceDetails.networkInterfaces.publicIp" against the Finding shape.
-- Returns a list of steps {name = member, list = bool, json = bool} or nil and a message.
-- Past service.additionalInfo the path may continue into the JSON text of additionalInfo.value
-- (that is where threatListName and the sample flag live).
function M.compile_path(path)
    if type(path) ~= "string" or path == "" then return nil, "empty attribute name" end
    local steps = {}
    local sh = shape("Finding")
    local in_json = false
    for seg in (path .. "."):gmatch("([^%.]*)%.") do
        if seg == "" then return nil, "malformed attribute name " .. path end
        if in_json then
            steps[#steps + 1] = { key = seg, json = true }
        else
            if not sh or sh.type ~= "structure" then return nil, "unknown attribute " .. path end
            local m = member_by_wire(sh, seg)
            if not m then
                if sh.name == "ServiceAdditionalInfo" then
                    steps[#steps + 1] = { name = "Value", decode = true }
                    steps[#steps + 1] = { key = seg, json = true }
                    in_json = true
                else
                    return nil, "unknown attribute " .. path
                end
            else
                local msh = shape(m.shape)
                -- Lists of structures are walked element by element with the member shape.
                while msh and (msh.type == "list" or msh.type == "map") do
                    msh = shape(msh.type == "list" and msh.member or msh.value)
                end
                steps[#steps + 1] = { name = m.name }
                sh = msh
            end
        end
    end
    if not in_json and sh and (sh.type == "structure") then
        return nil, "attribute " .. path .. " names a structure, not a value"
    end
    return steps
end

-- All values found at `steps` in finding `f`. A list met on the way (or at the end) is walked
-- element by element with the same remaining steps, so values come out flattened.
local function collect(node, steps, i, out)
    if is_null(node) then return end
    if type(node) == "table" and node[1] ~= nil then
        for _, v in ipairs(node) do collect(v, steps, i, out) end
        return
    end
    local step = steps[i]
    if not step then
        if type(node) ~= "table" then out[#out + 1] = node end
        return
    end
    if type(node) ~= "table" then return end
    if step.decode then
        local text = node[step.name]
        local decoded = type(text) == "string" and json.decode(text)
        if type(decoded) == "table" then collect(decoded, steps, i + 1, out) end
    elseif step.json then
        collect(node[step.key], steps, i + 1, out)
    else
        collect(node[step.name], steps, i + 1, out)
    end
end

function M.values(f, steps)
    local out = {}
    collect(f, steps, 1, out)
    return out
end

---------------------------------------------------------------------------------------------
-- Conditions.

-- Epoch milliseconds of a date-time string, else nil.
local function ms_of(s)
    if type(s) ~= "string" or not s:match("^%d%d%d%d%-%d%d%-%d%d") then return nil end
    local t = time.parse(s)
    return t and math.floor(t * 1000 + 0.5)
end

-- Numeric view of a value for range comparisons: numbers, and date-time strings as epoch ms
-- (updatedAt is documented as "Unix Epoch millisecond format").
local function numeric(v)
    if type(v) == "number" then return v end
    if type(v) == "string" then return ms_of(v) or tonumber(v) end
    return nil
end

local function equal(v, s)
    if type(v) == "boolean" then return tostring(v) == tostring(s):lower() end
    if type(v) == "number" then return tonumber(s) == v end
    if type(v) == "string" then
        if v == s then return true end
        local ms = ms_of(v)
        return ms ~= nil and tonumber(s) == ms
    end
    return false
end

local function any_equal(values, list)
    for _, v in ipairs(values) do
        for _, s in ipairs(list) do
            if equal(v, s) then return true end
        end
    end
    return false
end

local function range_ok(values, bound, cmp)
    for _, v in ipairs(values) do
        local n = numeric(v)
        if n and cmp(n, bound) then return true end
    end
    return false
end

local RANGE = {
    { "GreaterThan", function(a, b) return a > b end },
    { "Gt", function(a, b) return a > b end },
    { "GreaterThanOrEqual", function(a, b) return a >= b end },
    { "Gte", function(a, b) return a >= b end },
    { "LessThan", function(a, b) return a < b end },
    { "Lt", function(a, b) return a < b end },
    { "LessThanOrEqual", function(a, b) return a <= b end },
    { "Lte", function(a, b) return a <= b end },
}

local function condition_holds(values, c)
    for _, key in ipairs({ "Equals", "Eq" }) do
        if c[key] ~= nil and not any_equal(values, c[key]) then return false end
    end
    for _, key in ipairs({ "NotEquals", "Neq" }) do
        if c[key] ~= nil and any_equal(values, c[key]) then return false end
    end
    for _, r in ipairs(RANGE) do
        local bound = c[r[1]]
        if bound ~= nil and not range_ok(values, bound, r[2]) then return false end
    end
    return true
end

-- Compiles input.FindingCriteria (model names). Returns a predicate function(finding) -> bool,
-- or nil and a message for an unknown attribute or an operator ListFindings does not take.
function M.compile_criteria(criteria)
    local crit = criteria and criteria.Criterion or {}
    local compiled = {}
    local names = {}
    for name in pairs(crit) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
        local c = crit[name]
        if type(c) ~= "table" then return nil, "the criterion for " .. name .. " is not a condition" end
        if c.Matches ~= nil or c.NotMatches ~= nil then
            return nil, "the criterion for " .. name ..
                " uses matches/notMatches, which only filter operations accept, not ListFindings"
        end
        local steps, err = M.compile_path(name)
        if not steps then return nil, err end
        compiled[#compiled + 1] = { steps = steps, cond = c }
    end
    return function(f)
        for _, k in ipairs(compiled) do
            if not condition_holds(M.values(f, k.steps), k.cond) then return false end
        end
        return true
    end
end

---------------------------------------------------------------------------------------------
-- Sorting.

local function sort_key(v)
    if v == nil then return nil end
    if type(v) == "number" then return 0, v end
    if type(v) == "boolean" then return 0, v and 1 or 0 end
    local ms = ms_of(v)
    if ms then return 0, ms end
    return 1, tostring(v)
end

-- Sorts `findings` (a list; each entry's position is its tie-breaker) by input.SortCriteria.
-- Returns the sorted list, or nil and a message for an unknown attribute. Findings without a
-- value for the attribute come last in either order.
function M.sort(findings, sort)
    if not sort or sort.AttributeName == nil then return findings end
    local steps, err = M.compile_path(sort.AttributeName)
    if not steps then return nil, err end
    local desc = sort.OrderBy == "DESC"
    local keyed = {}
    for i, f in ipairs(findings) do
        local kind, key = sort_key(M.values(f, steps)[1])
        keyed[i] = { f = f, i = i, kind = kind, key = key }
    end
    table.sort(keyed, function(a, b)
        if a.kind == nil or b.kind == nil then
            if a.kind == b.kind then return a.i < b.i end
            return b.kind == nil
        end
        if a.kind ~= b.kind then
            if desc then return a.kind > b.kind end
            return a.kind < b.kind
        end
        if a.key ~= b.key then
            if desc then return a.key > b.key end
            return a.key < b.key
        end
        return a.i < b.i
    end)
    local out = {}
    for i, k in ipairs(keyed) do out[i] = k.f end
    return out
end

return M
