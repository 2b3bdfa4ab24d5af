-- detlua.emulator.wire_json: the JSON reader and writer the emulator uses for request
-- bodies, scenario files and its state file. Unlike lua-cjson it keeps what the router
-- must know: a JSON array is marked (M.is_array) so `[]` is not mistaken for `{}`,
-- integers stay Lua integers (so counters survive a reload), null is a distinct value
-- (M.null), and errors carry the byte offset. Depth is capped. It does not map to or
-- from service models (router.lua does) and does not pretty-print.
local M = {}

local ARRAY = { __name = "detlua.emulator.json_array" }
M.null = setmetatable({}, { __name = "detlua.emulator.json_null", __tostring = function() return "null" end })

function M.is_array(t)
    return getmetatable(t) == ARRAY
end

function M.array(t)
    return setmetatable(t or {}, ARRAY)
end

local byte, sub, find, char = string.byte, string.sub, string.find, string.char
local tointeger = math.tointeger

local escapes = { [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f", [110] = "\n", [114] = "\r", [116] = "\t" }

local function utf8_of(cp)
    return utf8.char(cp)
end

-- decode(s, max_depth) -> value | nil, message. max_depth defaults to 100.
function M.decode(s, max_depth)
    if type(s) ~= "string" then return nil, "expected a string" end
    max_depth = max_depth or 100
    local pos = 1
    local n = #s

    local function fail(msg)
        error({ json_error = string.format("%s at byte %d", msg, pos) }, 0)
    end

    local function skip()
        local _, e = find(s, "^[ \t\r\n]*", pos)
        pos = e + 1
    end

    local value

    local function str()
        -- pos is at the opening quote
        pos = pos + 1
        local parts, np = {}, 0
        while true do
            local a, b = find(s, '^[^"\\%c]+', pos)
            if a then
                np = np + 1
                parts[np] = sub(s, a, b)
                pos = b + 1
            end
            local c = byte(s, pos)
            if c == 34 then
                pos = pos + 1
                return table.concat(parts)
            elseif c == 92 then
                local e = byte(s, pos + 1)
                if e == 117 then
                    local hex = sub(s, pos + 2, pos + 5)
                    if not hex:match("^%x%x%x%x$") then fail("invalid \\u escape") end
                    local cp = tonumber(hex, 16)
                    pos = pos + 6
                    if cp >= 0xD800 and cp <= 0xDBFF then
                        local lo = s:match("^\\u(%x%x%x%x)", pos)
                        local l = lo and tonumber(lo, 16)
                        if l and l >= 0xDC00 and l <= 0xDFFF then
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (l - 0xDC00)
                            pos = pos + 6
                        else
                            cp = 0xFFFD
                        end
                    elseif cp >= 0xDC00 and cp <= 0xDFFF then
                        cp = 0xFFFD
                    end
                    np = np + 1
                    parts[np] = utf8_of(cp)
                elseif e and escapes[e] then
                    np = np + 1
                    parts[np] = escapes[e]
                    pos = pos + 2
                else
                    fail("invalid escape in string")
                end
            elseif c == nil then
                fail("unterminated string")
            else
                fail("control character in string")
            end
        end
    end

    local function num()
        local a, b = find(s, "^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
        if not a then fail("invalid number") end
        local tok = sub(s, a, b)
        if not (tok:match("^-?0$") or tok:match("^-?0[.eE]") or tok:match("^-?[1-9]")) then
            fail("invalid number")
        end
        if tok:match("%.$") or tok:match("%.[eE]") or tok:match("[eE][-+]?$") then fail("invalid number") end
        pos = b + 1
        if not tok:find("[.eE]") then
            local i = tointeger(tonumber(tok))
            if i and tostring(i) == tok:gsub("^(-?)0+(%d)", "%1%2") then return i end
        end
        local v = tonumber(tok)
        if not v then fail("invalid number") end
        return v
    end

    function value(depth)
        skip()
        local c = byte(s, pos)
        if c == 123 then -- {
            if depth >= max_depth then fail("nested too deeply") end
            pos = pos + 1
            local obj = {}
            skip()
            if byte(s, pos) == 125 then
                pos = pos + 1
                return obj
            end
            while true do
                skip()
                if byte(s, pos) ~= 34 then fail("expected a string key") end
                local k = str()
                skip()
                if byte(s, pos) ~= 58 then fail("expected ':'") end
                pos = pos + 1
                obj[k] = value(depth + 1)
                skip()
                local d = byte(s, pos)
                if d == 44 then
                    pos = pos + 1
                elseif d == 125 then
                    pos = pos + 1
                    return obj
                else
                    fail("expected ',' or '}'")
                end
            end
        elseif c == 91 then -- [
            if depth >= max_depth then fail("nested too deeply") end
            pos = pos + 1
            local arr, i = setmetatable({}, ARRAY), 0
            skip()
            if byte(s, pos) == 93 then
                pos = pos + 1
                return arr
            end
            while true do
                i = i + 1
                arr[i] = value(depth + 1)
                skip()
                local d = byte(s, pos)
                if d == 44 then
                    pos = pos + 1
                elseif d == 93 then
                    pos = pos + 1
                    return arr
                else
                    fail("expected ',' or ']'")
                end
            end
        elseif c == 34 then
            return str()
        elseif c == 116 then
            if sub(s, pos, pos + 3) ~= "true" then fail("invalid literal") end
            pos = pos + 4
            return true
        elseif c == 102 then
            if sub(s, pos, pos + 4) ~= "false" then fail("invalid literal") end
            pos = pos + 5
            return false
        elseif c == 110 then
            if sub(s, pos, pos + 3) ~= "null" then fail("invalid literal") end
            pos = pos + 4
            return M.null
        elseif c == 45 or (c and c >= 48 and c <= 57) then
            return num()
        elseif c == nil then
            fail("unexpected end of input")
        else
            fail("unexpected character '" .. char(c) .. "'")
        end
    end

    local ok, v = pcall(function()
        local r = value(0)
        skip()
        if pos <= n then fail("trailing characters after the JSON value") end
        return r
    end)
    if ok then return v end
    if type(v) == "table" and v.json_error then return nil, v.json_error end
    return nil, tostring(v)
end

local quote_map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
function M.quote(s)
    return '"' .. s:gsub('[%c"\\]', function(c)
        return quote_map[c] or string.format("\\u%04x", byte(c))
    end) .. '"'
end

function M.number(v)
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v or v == math.huge or v == -math.huge then error("JSON cannot hold " .. tostring(v), 0) end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%.1f", v) end
    local s = string.format("%.17g", v)
    return s
end

local function is_sequence(t)
    if getmetatable(t) == ARRAY then return true end
    local n = #t
    if n == 0 then return false end
    local count = 0
    for k in pairs(t) do
        if math.type(k) ~= "integer" then return false end
        count = count + 1
    end
    return count == n
end
M.is_sequence = is_sequence

-- encode(v) -> string (sorted object keys, so equal data gives equal text). Raises on
-- values JSON cannot hold (functions, NaN, tables with mixed or non-string keys, cycles).
function M.encode(v)
    local out, no = {}, 0
    local seen = {}
    local function enc(x, path)
        local t = type(x)
        if x == nil or x == M.null then
            no = no + 1; out[no] = "null"
        elseif t == "boolean" then
            no = no + 1; out[no] = x and "true" or "false"
        elseif t == "number" then
            local ok, s = pcall(M.number, x)
            if not ok then error(path .. ": " .. s, 0) end
            no = no + 1; out[no] = s
        elseif t == "string" then
            no = no + 1; out[no] = M.quote(x)
        elseif t == "table" then
            if seen[x] then error(path .. ": cyclic table", 0) end
            seen[x] = true
            if is_sequence(x) then
                no = no + 1; out[no] = "["
                for i = 1, #x do
                    if i > 1 then no = no + 1; out[no] = "," end
                    enc(x[i], path .. "[" .. i .. "]")
                end
                no = no + 1; out[no] = "]"
            else
                local keys = {}
                for k in pairs(x) do
                    if type(k) ~= "string" then
                        error(path .. ": table key " .. tostring(k) .. " is not a string (JSON objects need string keys)", 0)
                    end
                    keys[#keys + 1] = k
                end
                table.sort(keys)
                no = no + 1; out[no] = "{"
                for i, k in ipairs(keys) do
                    if i > 1 then no = no + 1; out[no] = "," end
                    no = no + 1; out[no] = M.quote(k) .. ":"
                    enc(x[k], path .. "." .. k)
                end
                no = no + 1; out[no] = "}"
            end
            seen[x] = nil
        else
            error(path .. ": cannot encode a " .. t .. " as JSON", 0)
        end
    end
    enc(v, "$")
    return table.concat(out)
end

-- Plain Lua tables (no array marks, no null sentinels: nulls in objects removed), for data
-- handed to service modules as scenario records.
function M.plain(v)
    if type(v) ~= "table" then
        if v == M.null then return nil end
        return v
    end
    local out = {}
    for k, x in pairs(v) do
        if x ~= M.null then out[k] = M.plain(x) end
    end
    return out
end

return M
