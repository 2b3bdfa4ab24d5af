-- detlua.emulator.codec_restjson: the server side of AWS rest-json (Detective, GuardDuty)
-- driven by the service model: matching method + raw path against the operations'
-- request URIs ({Label}, {Label+}), decoding a request into an input table keyed by model
-- member names (labels percent-decoded, querystring and header members, JSON body wire
-- names -> member names, timestamps -> epoch seconds), and encoding outputs and errors
-- (member names -> wire names, timestamps per the model's format, x-amzn-ErrorType).
-- Decoding problems call the `fail(message)` the router passes (it raises the service's
-- own validation error). It does not validate against the model (aws.core.protocol does)
-- and knows nothing of signatures or service semantics.
local json = require "detlua.emulator.wire_json"
local crypto = require "aws.core.crypto"
local time = require "aws.time"

local M = {}

-- --- percent-encoding ----------------------------------------------------------------

-- Strict RFC 3986 decoding: every '%' must start two hex digits. Returns nil when not.
function M.pct_decode(s)
    local bad = false
    local out = s:gsub("%%(%x?%x?)", function(h)
        if #h == 2 then return string.char(tonumber(h, 16)) end
        bad = true
        return ""
    end)
    if bad then return nil end
    return out
end

-- Raw query -> {name -> {values...}} (decoded; '+' stays a plus, as in SigV4), or nil, piece
function M.parse_query(q)
    local out = {}
    for piece in q:gmatch("[^&]+") do
        local k, v = piece:match("^([^=]*)=(.*)$")
        if not k then k, v = piece, "" end
        local dk, dv = M.pct_decode(k), M.pct_decode(v)
        if not dk or not dv then return nil, piece end
        local list = out[dk]
        if not list then
            list = {}
            out[dk] = list
        end
        list[#list + 1] = dv
    end
    return out
end

-- --- routing -------------------------------------------------------------------------------

local function split_path(p)
    local segs = {}
    if p == "/" or p == "" then return segs end
    for seg in (p:sub(2) .. "/"):gmatch("([^/]*)/") do segs[#segs + 1] = seg end
    return segs
end

-- One route per operation: method, template segments, required literal query keys.
function M.routes(svc)
    local routes = {}
    for _, name in ipairs(svc.operation_names) do
        local op = svc.operations[name]
        local path, q = op.request_uri:match("^([^?]*)%??(.*)$")
        local segs, literals = {}, 0
        for _, seg in ipairs(split_path(path)) do
            local label, plus = seg:match("^{([%w_]+)(%+?)}$")
            if label then
                segs[#segs + 1] = { label = label, greedy = plus == "+" }
            else
                segs[#segs + 1] = { literal = seg }
                literals = literals + 1
            end
        end
        local qlits = {}
        for piece in q:gmatch("[^&]+") do
            local k, v = piece:match("^([^=]*)=?(.*)$")
            qlits[#qlits + 1] = { k, v }
        end
        routes[#routes + 1] = { op = op, method = op.http_method, segs = segs, literals = literals, query = qlits }
    end
    -- most specific first: more literal segments, then fewer segments
    table.sort(routes, function(a, b)
        if a.literals ~= b.literals then return a.literals > b.literals end
        if #a.segs ~= #b.segs then return #a.segs > #b.segs end
        return a.op.name < b.op.name
    end)
    return routes
end

local function match_route(route, segs, query)
    local labels = {}
    local i = 1
    for j, t in ipairs(route.segs) do
        if t.literal then
            if segs[i] ~= t.literal then return nil end
            i = i + 1
        elseif t.greedy then
            if j ~= #route.segs then return nil end
            if segs[i] == nil then return nil end
            local rest = table.concat(segs, "/", i)
            if rest == "" then return nil end
            labels[t.label] = rest
            i = #segs + 1
        else
            if segs[i] == nil or segs[i] == "" then return nil end
            labels[t.label] = segs[i]
            i = i + 1
        end
    end
    if i ~= #segs + 1 then return nil end
    for _, kv in ipairs(route.query) do
        local vals = query[kv[1]]
        if not vals then return nil end
        if kv[2] ~= "" and vals[1] ~= kv[2] then return nil end
    end
    return labels
end

-- match(routes, method, raw_path, query) -> op, raw labels | nil, "not_found" |
-- nil, "method", {allowed methods}
function M.match(routes, method, path, query)
    local segs = split_path(path)
    local allowed = {}
    for _, r in ipairs(routes) do
        local labels = match_route(r, segs, query)
        if labels then
            if r.method == method then return r.op, labels end
            allowed[#allowed + 1] = r.method
        end
    end
    if #allowed > 0 then return nil, "method", allowed end
    return nil, "not_found"
end

-- --- scalar conversions -------------------------------------------------------------------

local function parse_time_any(v)
    if type(v) == "number" then return v end
    if type(v) ~= "string" then return nil end
    if v:match("^%-?%d+%.?%d*$") then return tonumber(v) end
    local t = time.parse(v)
    if t then return t end
    local months = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }
    local d, mon, y, h, mi, s = v:match("^%a%a%a, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if d and months[mon] then
        return time.timegm(tonumber(y), months[mon], tonumber(d), tonumber(h), tonumber(mi), tonumber(s))
    end
    return nil
end
M.parse_time = parse_time_any

-- A string from a label, query parameter or header -> the member's type.
local function from_string(shape, s, path, fail)
    local t = shape.type
    if t == "string" then return s end
    if t == "integer" or t == "long" then
        local n = s:match("^%-?%d+$") and math.tointeger(tonumber(s))
        if not n then fail(path .. ": expected an integer, got \"" .. s:sub(1, 40) .. "\"") end
        return n
    end
    if t == "double" or t == "float" then
        if s == "NaN" then return 0 / 0 end
        if s == "Infinity" then return math.huge end
        if s == "-Infinity" then return -math.huge end
        local n = tonumber(s)
        if not n then fail(path .. ": expected a number, got \"" .. s:sub(1, 40) .. "\"") end
        return n + 0.0
    end
    if t == "boolean" then
        if s == "true" then return true end
        if s == "false" then return false end
        fail(path .. ": expected true or false, got \"" .. s:sub(1, 40) .. "\"")
    end
    if t == "timestamp" then
        local v = parse_time_any(s)
        if not v then fail(path .. ": expected a timestamp, got \"" .. s:sub(1, 40) .. "\"") end
        return v
    end
    if t == "blob" then
        local b = crypto.base64_decode(s)
        if not b then fail(path .. ": expected base64 data") end
        return b
    end
    fail(path .. ": cannot be sent in the URI or a header")
end

-- --- JSON body -> input ---------------------------------------------------------------------

local function describe(v)
    if v == json.null then return "null" end
    if type(v) == "table" then return json.is_array(v) and "an array" or "an object" end
    return type(v)
end

-- Converts a decoded JSON value into model form. Values of the wrong JSON type are passed
-- through unchanged where aws.core.protocol will name the problem better, and refused here
-- where the JSON form itself is ambiguous (an array where an object belongs and back).
local function from_wire(svc, shape_name, v, path, fail, depth)
    if depth > 60 then fail(path .. ": nested too deeply") end
    local shape = svc.shapes[shape_name]
    if not shape or v == json.null then return nil end
    local t = shape.type
    if t == "structure" then
        if type(v) ~= "table" or json.is_array(v) then fail(path .. ": expected a JSON object, got " .. describe(v)) end
        local out = {}
        for _, m in ipairs(shape.members) do
            local wv = v[m.wire_name]
            if wv ~= nil then
                out[m.name] = from_wire(svc, m.shape, wv, path == "" and m.name or (path .. "." .. m.name), fail, depth + 1)
            end
        end
        return out
    elseif t == "list" then
        if type(v) ~= "table" then return v end
        if not json.is_array(v) then fail(path .. ": expected a JSON array, got " .. describe(v)) end
        local out = {}
        for i = 1, #v do
            if v[i] == json.null then fail(path .. "[" .. i .. "]: null is not allowed in a list") end
            out[i] = from_wire(svc, shape.member, v[i], path .. "[" .. i .. "]", fail, depth + 1)
        end
        return out
    elseif t == "map" then
        if type(v) ~= "table" then return v end
        if json.is_array(v) then fail(path .. ": expected a JSON object, got an array") end
        local out = {}
        for k, x in pairs(v) do
            if x == json.null then fail(path .. "." .. k .. ": null is not allowed in a map") end
            out[k] = from_wire(svc, shape.value, x, path .. "." .. k, fail, depth + 1)
        end
        return out
    elseif t == "timestamp" then
        if type(v) ~= "number" and type(v) ~= "string" then return v end
        local tv = parse_time_any(v)
        if not tv then fail(path .. ": expected a timestamp (ISO 8601 or epoch seconds), got \"" .. tostring(v):sub(1, 40) .. "\"") end
        return tv
    elseif t == "integer" or t == "long" then
        if type(v) == "number" and math.type(v) == "float" and v == math.floor(v) then
            return math.tointeger(v) or v
        end
        return v
    elseif t == "double" or t == "float" then
        if type(v) == "number" then return v + 0.0 end
        if v == "NaN" then return 0 / 0 end
        if v == "Infinity" then return math.huge end
        if v == "-Infinity" then return -math.huge end
        return v
    elseif t == "blob" then
        if type(v) ~= "string" then return v end
        local b = crypto.base64_decode(v)
        if not b then fail(path .. ": expected base64 data") end
        return b
    end
    if type(v) == "table" then return json.plain(v) end
    return v
end
M.from_wire = from_wire

-- decode_input(svc, op, req, raw_labels, query, fail) -> input table (model member names)
function M.decode_input(svc, op, req, labels, query, fail)
    if not op.input then return nil end
    local shape = svc.shapes[op.input]
    local input = {}
    local has_body = false
    local bound = {}
    for _, m in ipairs(shape.members) do
        local ms = svc.shapes[m.shape]
        if m.location == "uri" then
            local raw = labels[m.wire_name] or labels[m.name]
            if raw ~= nil then
                local v = M.pct_decode(raw)
                if not v then fail(m.name .. ": the URI has invalid percent-encoding") end
                input[m.name] = from_string(ms, v, m.name, fail)
            end
        elseif m.location == "querystring" then
            if ms.type == "map" then
                -- a map bound to the query string takes every parameter not bound elsewhere
                input[m.name] = { __query_map = true }
            else
                local vals = query[m.wire_name]
                bound[m.wire_name] = true
                if vals then
                    if ms.type == "list" then
                        local el = svc.shapes[ms.member]
                        local list = {}
                        for i, s in ipairs(vals) do list[i] = from_string(el, s, m.name .. "[" .. i .. "]", fail) end
                        input[m.name] = list
                    else
                        input[m.name] = from_string(ms, vals[1], m.name, fail)
                    end
                end
            end
        elseif m.location == "header" then
            local v = req.headers[m.wire_name:lower()]
            if v ~= nil then
                if ms.type == "list" then
                    local el = svc.shapes[ms.member]
                    local list = {}
                    for part in v:gmatch("[^,]+") do
                        list[#list + 1] = from_string(el, part:match("^%s*(.-)%s*$"), m.name, fail)
                    end
                    input[m.name] = list
                else
                    input[m.name] = from_string(ms, v, m.name, fail)
                end
            end
        elseif m.location == "headers" then
            local prefix = m.wire_name:lower()
            local map = {}
            for k, v in pairs(req.headers) do
                if k:sub(1, #prefix) == prefix then map[k:sub(#prefix + 1)] = v end
            end
            if next(map) then input[m.name] = map end
        else
            has_body = true
        end
    end
    for _, m in ipairs(shape.members) do
        local v = input[m.name]
        if type(v) == "table" and v.__query_map then
            local map = {}
            for k, vals in pairs(query) do
                if not bound[k] then map[k] = vals[1] end
            end
            input[m.name] = next(map) and map or nil
        end
    end
    if has_body then
        local body = req.body
        if body:match("^%s*$") then body = "{}" end
        local doc, err = json.decode(body, 64)
        if doc == nil then fail("the request body is not valid JSON: " .. err) end
        if type(doc) ~= "table" or json.is_array(doc) or doc == json.null then
            fail("the request body must be a JSON object")
        end
        for _, m in ipairs(shape.members) do
            if m.location == "body" or m.location == nil then
                local wv = doc[m.wire_name]
                if wv ~= nil then input[m.name] = from_wire(svc, m.shape, wv, m.name, fail, 1) end
            end
        end
    end
    return input
end

-- --- output -> JSON ---------------------------------------------------------------------------

local function fmt_epoch(v)
    if math.type(v) == "integer" then return tostring(v) end
    if v == math.floor(v) then return string.format("%d", v) end
    return (string.format("%.3f", v):gsub("0+$", ""))
end

function M.iso8601_ms(v)
    local whole = math.floor(v)
    local ms = math.floor((v - whole) * 1000 + 0.5)
    if ms >= 1000 then whole, ms = whole + 1, ms - 1000 end
    return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%03dZ", ms)
end

local function fmt_timestamp(shape, v, default_format)
    local f = shape.timestamp_format or default_format
    if type(v) == "string" then
        local parsed = parse_time_any(v)
        if not parsed then return json.quote(v) end
        v = parsed
    end
    if f == "iso8601" then return json.quote(M.iso8601_ms(v)) end
    if f == "rfc822" then return json.quote(os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(v))) end
    return fmt_epoch(v)
end

-- to_wire(svc, shape_name, v, path, warn) -> JSON text
local function to_wire(svc, shape_name, v, path, warn, depth)
    local shape = svc.shapes[shape_name]
    if depth > 60 then error(path .. ": output nested too deeply", 0) end
    local t = shape and shape.type
    if t == "structure" then
        if type(v) ~= "table" then error(path .. ": expected a table for structure " .. shape_name .. ", got " .. type(v), 0) end
        local parts = {}
        local known = {}
        for _, m in ipairs(shape.members) do
            known[m.name] = true
            local x = v[m.name]
            if x ~= nil and x ~= json.null then
                parts[#parts + 1] = json.quote(m.wire_name) .. ":" .. to_wire(svc, m.shape, x, path .. "." .. m.name, warn, depth + 1)
            end
        end
        for k in pairs(v) do
            if not known[k] then warn(path .. "." .. tostring(k) .. ": not a member of " .. shape_name .. " (dropped)") end
        end
        return "{" .. table.concat(parts, ",") .. "}"
    elseif t == "list" then
        if type(v) ~= "table" then error(path .. ": expected a list, got " .. type(v), 0) end
        local parts = {}
        for i = 1, #v do parts[i] = to_wire(svc, shape.member, v[i], path .. "[" .. i .. "]", warn, depth + 1) end
        return "[" .. table.concat(parts, ",") .. "]"
    elseif t == "map" then
        if type(v) ~= "table" then error(path .. ": expected a map, got " .. type(v), 0) end
        local keys = {}
        for k in pairs(v) do keys[#keys + 1] = tostring(k) end
        table.sort(keys)
        local parts = {}
        for _, k in ipairs(keys) do
            local x = v[k]
            if x == nil then x = v[tonumber(k)] end
            parts[#parts + 1] = json.quote(k) .. ":" .. to_wire(svc, shape.value, x, path .. "." .. k, warn, depth + 1)
        end
        return "{" .. table.concat(parts, ",") .. "}"
    elseif t == "timestamp" then
        return fmt_timestamp(shape, v, "unixTimestamp")
    elseif t == "integer" or t == "long" then
        local n = math.tointeger(v)
        if n == nil then
            if type(v) == "number" then return json.number(v) end
            error(path .. ": expected an integer, got " .. type(v), 0)
        end
        return tostring(n)
    elseif t == "double" or t == "float" then
        if type(v) ~= "number" then error(path .. ": expected a number, got " .. type(v), 0) end
        if v ~= v then return '"NaN"' end
        if v == math.huge then return '"Infinity"' end
        if v == -math.huge then return '"-Infinity"' end
        return json.number(v)
    elseif t == "boolean" then
        return v and "true" or "false"
    elseif t == "blob" then
        return json.quote(crypto.base64_encode(tostring(v)))
    elseif t == "string" then
        return json.quote(tostring(v))
    end
    return json.encode(v)
end
M.to_wire = to_wire

-- encode_output(svc, op, output, warn) -> status, headers (list), body
function M.encode_output(svc, op, output, warn)
    local status = op.success_status or 200
    local headers = {}
    if not op.output then
        if status ~= 204 then headers[#headers + 1] = { "Content-Type", "application/json" } end
        return status, headers, ""
    end
    output = output or {}
    local shape = svc.shapes[op.output]
    local parts = {}
    local known = {}
    for _, m in ipairs(shape.members) do
        known[m.name] = true
        local x = output[m.name]
        if x ~= nil and x ~= json.null then
            local ms = svc.shapes[m.shape]
            if m.location == "header" then
                local s
                if ms.type == "timestamp" then
                    s = fmt_timestamp(ms, x, "rfc822"):gsub('^"(.*)"$', "%1")
                elseif ms.type == "list" then
                    local vals = {}
                    for i, e in ipairs(x) do vals[i] = tostring(e) end
                    s = table.concat(vals, ",")
                else
                    s = tostring(x)
                end
                headers[#headers + 1] = { m.wire_name, s }
            elseif m.location == "headers" then
                for k, v in pairs(x) do headers[#headers + 1] = { m.wire_name .. k, tostring(v) } end
            elseif m.location == "statusCode" then
                status = math.tointeger(x) or status
            else
                parts[#parts + 1] = json.quote(m.wire_name) .. ":" .. to_wire(svc, m.shape, x, m.name, warn, 1)
            end
        end
    end
    for k in pairs(output) do
        if not known[k] then warn(tostring(k) .. ": not a member of " .. op.output .. " (dropped)") end
    end
    if status == 204 then return status, headers, "" end
    headers[#headers + 1] = { "Content-Type", "application/json" }
    return status, headers, "{" .. table.concat(parts, ",") .. "}"
end

-- encode_error(svc, err) -> status, headers, body. Status and wire code come from the
-- model's error shape when it has one; body members use the shape's wire names
-- (Detective "Message", GuardDuty "message"); GuardDuty also gets __type, as AWS sends it.
function M.encode_error(svc, err, warn)
    local shape = svc and svc.shapes[err.code]
    if shape and not shape.exception then shape = nil end
    local status = err.status or (shape and shape.error_status)
    if not status then
        warn("error code " .. err.code .. " is not modeled for " .. (svc and svc.name or "?") .. " and has no status; answering 400")
        status = 400
    end
    local code = shape and shape.error_code or err.code
    local parts = {}
    local message_key = "message"
    local by_name = {}
    if shape then
        for _, m in ipairs(shape.members) do
            by_name[m.name] = m
            if m.name:lower() == "message" then message_key = m.wire_name end
        end
    end
    parts[#parts + 1] = json.quote(message_key) .. ":" .. json.quote(err.message)
    if err.fields then
        local keys = {}
        for k in pairs(err.fields) do keys[#keys + 1] = k end
        table.sort(keys)
        for _, k in ipairs(keys) do
            local m = by_name[k]
            if m then
                parts[#parts + 1] = json.quote(m.wire_name) .. ":" .. to_wire(svc, m.shape, err.fields[k], k, warn, 1)
            elseif k:lower() ~= "message" then
                parts[#parts + 1] = json.quote(k) .. ":" .. json.encode(err.fields[k])
            end
        end
    end
    local btype = err.type
    if not btype and svc and svc.name == "guardduty" then btype = code end
    if btype then parts[#parts + 1] = json.quote("__type") .. ":" .. json.quote(btype) end
    local headers = {
        { "x-amzn-ErrorType", code },
        { "Content-Type", "application/json" },
    }
    for _, hv in ipairs(err.headers or {}) do headers[#headers + 1] = hv end
    return status, headers, "{" .. table.concat(parts, ",") .. "}"
end

return M
