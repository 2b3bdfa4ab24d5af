-- detlua.emulator.codec_query: the server side of the AWS query protocol (STS) driven by
-- the model: form-encoded parameters (Name, Name.Field, Name.member.N, Name.entry.N.key)
-- -> an input table keyed by member names, and outputs / errors -> the XML envelope
-- (<OpResponse xmlns=...><OpResult>...</OpResult><ResponseMetadata>...). Decoding
-- problems call the router's `fail(message)`. It does not validate against the model
-- (aws.core.protocol does) and knows nothing of signatures or STS semantics.
local crypto = require "aws.core.crypto"
local time = require "aws.time"

local M = {}

-- application/x-www-form-urlencoded: '+' is a space, '%XX' a byte. Returns a map
-- name -> value (the last one wins), or nil and the offending piece.
function M.parse_form(s)
    local out = {}
    for piece in s:gmatch("[^&]+") do
        local k, v = piece:match("^([^=]*)=(.*)$")
        if not k then k, v = piece, "" end
        local function dec(x)
            local bad = false
            x = x:gsub("%+", " "):gsub("%%(%x?%x?)", function(h)
                if #h == 2 then return string.char(tonumber(h, 16)) end
                bad = true
                return ""
            end)
            if bad then return nil end
            return x
        end
        local dk, dv = dec(k), dec(v)
        if not dk or not dv then return nil, piece end
        out[dk] = dv
    end
    return out
end

local function from_string(shape, s, path, fail)
    local t = shape.type
    if t == "string" then return s end
    if t == "integer" or t == "long" then
        local n = s:match("^%s*%-?%d+%s*$") and math.tointeger(tonumber(s))
        if not n then fail("Value '" .. s:sub(1, 40) .. "' at '" .. path .. "' failed to satisfy constraint: Member must be an integer") end
        return n
    end
    if t == "double" or t == "float" then
        local n = tonumber(s)
        if not n then fail("Value '" .. s:sub(1, 40) .. "' at '" .. path .. "' failed to satisfy constraint: Member must be a number") end
        return n + 0.0
    end
    if t == "boolean" then
        if s == "true" then return true end
        if s == "false" then return false end
        fail("Value '" .. s:sub(1, 40) .. "' at '" .. path .. "' failed to satisfy constraint: Member must be true or false")
    end
    if t == "timestamp" then
        local v = time.parse(s) or (s:match("^%d+%.?%d*$") and tonumber(s))
        if not v then fail("Value '" .. s:sub(1, 40) .. "' at '" .. path .. "' failed to satisfy constraint: Member must be a timestamp") end
        return v
    end
    if t == "blob" then
        local b = crypto.base64_decode(s)
        if not b then fail("Value at '" .. path .. "' failed to satisfy constraint: Member must be base64 data") end
        return b
    end
    return s
end

-- decode(svc, shape_name, prefix, params, prefixes, fail) -> value or nil
local function decode(svc, shape_name, prefix, params, prefixes, fail, depth)
    local shape = svc.shapes[shape_name]
    if depth > 30 then fail("parameters nested too deeply") end
    local t = shape.type
    if t == "structure" then
        local out, any = {}, false
        for _, m in ipairs(shape.members) do
            local key = (prefix == "" and "" or (prefix .. ".")) .. m.wire_name
            local v = decode(svc, m.shape, key, params, prefixes, fail, depth + 1)
            if v ~= nil then
                out[m.name] = v
                any = true
            end
        end
        if prefix == "" or any then return out end
        return nil
    elseif t == "list" then
        local list = {}
        local i = 1
        while true do
            local key = prefix .. ".member." .. i
            if params[key] == nil and not prefixes[key] then break end
            list[i] = decode(svc, shape.member, key, params, prefixes, fail, depth + 1)
            i = i + 1
        end
        if #list > 0 then return list end
        -- "Name=" is how the query protocol sends an empty list
        if params[prefix] == "" then return {} end
        return nil
    elseif t == "map" then
        local map, i, any = {}, 1, false
        while true do
            local kkey = prefix .. ".entry." .. i .. ".key"
            if params[kkey] == nil then break end
            map[params[kkey]] = decode(svc, shape.value, prefix .. ".entry." .. i .. ".value", params, prefixes, fail, depth + 1)
            any = true
            i = i + 1
        end
        if any then return map end
        return nil
    end
    local s = params[prefix]
    if s == nil then return nil end
    return from_string(shape, s, prefix, fail)
end

-- decode_input(svc, op, params, fail) -> input (model member names)
function M.decode_input(svc, op, params, fail)
    if not op.input then return nil end
    local prefixes = {}
    for k in pairs(params) do
        local p = k
        while true do
            p = p:match("^(.*)%.[^.]*$")
            if not p or prefixes[p] then break end
            prefixes[p] = true
        end
    end
    return decode(svc, op.input, "", params, prefixes, fail, 0)
end

-- --- XML -------------------------------------------------------------------------------------

local XML_ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }
function M.xml_escape(s)
    return (tostring(s):gsub("[&<>\"']", XML_ESC))
end

local function iso8601(v)
    return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(v))
end

local function num(v)
    if math.type(v) == "integer" then return tostring(v) end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
    return string.format("%.17g", v)
end

local function to_xml(svc, shape_name, v, out, warn, path)
    local shape = svc.shapes[shape_name]
    local t = shape.type
    if t == "structure" then
        local known = {}
        for _, m in ipairs(shape.members) do
            known[m.name] = true
            local x = v[m.name]
            if x ~= nil then
                out[#out + 1] = "<" .. m.wire_name .. ">"
                to_xml(svc, m.shape, x, out, warn, path .. "." .. m.name)
                out[#out + 1] = "</" .. m.wire_name .. ">"
            end
        end
        for k in pairs(v) do
            if not known[k] then warn(path .. "." .. tostring(k) .. ": not a member of " .. shape_name .. " (dropped)") end
        end
    elseif t == "list" then
        for i = 1, #v do
            out[#out + 1] = "<member>"
            to_xml(svc, shape.member, v[i], out, warn, path .. "[" .. i .. "]")
            out[#out + 1] = "</member>"
        end
    elseif t == "map" then
        local keys = {}
        for k in pairs(v) do keys[#keys + 1] = k end
        table.sort(keys)
        for _, k in ipairs(keys) do
            out[#out + 1] = "<entry><key>" .. M.xml_escape(k) .. "</key><value>"
            to_xml(svc, shape.value, v[k], out, warn, path .. "." .. k)
            out[#out + 1] = "</value></entry>"
        end
    elseif t == "timestamp" then
        if type(v) == "number" then
            out[#out + 1] = iso8601(v)
        else
            out[#out + 1] = M.xml_escape(v)
        end
    elseif t == "boolean" then
        out[#out + 1] = v and "true" or "false"
    elseif t == "integer" or t == "long" or t == "double" or t == "float" then
        out[#out + 1] = type(v) == "number" and num(v) or M.xml_escape(v)
    elseif t == "blob" then
        out[#out + 1] = crypto.base64_encode(tostring(v))
    else
        out[#out + 1] = M.xml_escape(v)
    end
end

-- encode_output(svc, op, output, request_id, warn) -> status, headers, body
function M.encode_output(svc, op, output, request_id, warn)
    local ns = svc.xml_namespace or "https://sts.amazonaws.com/doc/2011-06-15/"
    local out = { '<', op.name, 'Response xmlns="', ns, '">' }
    if op.output then
        out[#out + 1] = "<" .. op.name .. "Result>"
        to_xml(svc, op.output, output or {}, out, warn, op.output)
        out[#out + 1] = "</" .. op.name .. "Result>"
    end
    out[#out + 1] = "<ResponseMetadata><RequestId>" .. M.xml_escape(request_id) .. "</RequestId></ResponseMetadata>"
    out[#out + 1] = "</" .. op.name .. "Response>"
    return 200, { { "Content-Type", "text/xml" } }, table.concat(out) .. "\n"
end

-- encode_error(status, code, message, request_id) -> status, headers, body
function M.encode_error(status, code, message, request_id, ns)
    ns = ns or "https://sts.amazonaws.com/doc/2011-06-15/"
    local body = '<ErrorResponse xmlns="' .. ns .. '"><Error><Type>' .. (status >= 500 and "Receiver" or "Sender")
        .. "</Type><Code>" .. M.xml_escape(code) .. "</Code><Message>" .. M.xml_escape(message)
        .. "</Message></Error><RequestId>" .. M.xml_escape(request_id) .. "</RequestId></ErrorResponse>\n"
    return status, { { "Content-Type", "text/xml" } }, body
end

return M
