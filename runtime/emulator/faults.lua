-- detlua.emulator.faults: which injected fault, if any, a signed API request gets.
-- Parses the fault specification (the `--faults` string, its JSON form, the scenario's
-- "faults" key, E.start{faults=}, POST /_emulator/faults), counts calls per operation since
-- the rules were installed and picks the first rule that matches the operation and either
-- the call number or its rate. Rate decisions hash (seed, rule, operation, call number)
-- instead of drawing from a stream, so the n-th call of an operation gets the same answer
-- whatever other operations ran in between. It does not act on the decision: the router
-- turns a rule into an error answer, a mangled body, or a directive for server.c (reset,
-- delay, truncate, pad), and it knows nothing about HTTP.
local crypto = require "aws.core.crypto"
local model = require "aws.core.model"

local M = {}

local SERVICES = { "detective", "guardduty", "sts" }

M.DEFAULT_OVERSIZE_BYTES = 64 * 1024 * 1024 + 1 -- one past the client's default response cap
M.DEFAULT_DELAY_MS = 5000
M.MAX_DELAY_MS = 120000 -- a suspended connection is held at most this long
M.DEFAULT_SKEW_SECONDS = 900
M.MAX_RULES = 100

-- phase: "auth" (before the signature check), "before" (after it, instead of the
-- operation: nothing changes in the world), "after" (the operation ran; its answer is
-- mangled or withheld). arg: the rule member carrying the fault's parameter.
M.KINDS = {
    throttle = { phase = "before", status = 429 },
    ["400"] = { phase = "before", status = 400 },
    ["500"] = { phase = "before", status = 500 },
    ["502"] = { phase = "before", status = 502 },
    ["503"] = { phase = "before", status = 503 },
    ["504"] = { phase = "before", status = 504 },
    ["reset-before"] = { phase = "before" },
    ["reset-after"] = { phase = "after" },
    delay = { phase = "after", arg = "delay_ms", default = M.DEFAULT_DELAY_MS, min = 1, max = M.MAX_DELAY_MS },
    truncate = { phase = "after", arg = "bytes", min = 0, max = 1 << 30 },
    ["malformed-json"] = { phase = "after" },
    ["content-type"] = { phase = "after", arg = "content_type", default = "text/html; charset=utf-8" },
    oversize = { phase = "after", arg = "bytes", default = M.DEFAULT_OVERSIZE_BYTES, min = 1, max = 1 << 40 },
    skew = { phase = "auth", arg = "skew_seconds", default = M.DEFAULT_SKEW_SECONDS, min = -86400 * 365, max = 86400 * 365 },
}
local ALIASES = { ["429"] = "throttle", malformed = "malformed-json", reset = "reset-before" }
M.ALIASES = ALIASES

local function kind_names()
    local out = {}
    for k in pairs(M.KINDS) do out[#out + 1] = k end
    table.sort(out)
    return table.concat(out, ", ")
end

local function fail(path, msg)
    error("faults: " .. path .. ": " .. msg, 0)
end

-- "ListMembers", "detective.ListMembers", "sts.*", "*" -> service | nil, operation | "*"
local function parse_target(s, path)
    if type(s) ~= "string" or s == "" then fail(path, "expected an operation name, service.Operation or *") end
    local service, op = s:match("^([%w]+)%.(.+)$")
    if not service then service, op = nil, s end
    if service then
        local known = false
        for _, k in ipairs(SERVICES) do if k == service then known = true end end
        if not known then fail(path, "unknown service \"" .. service .. "\" (" .. table.concat(SERVICES, ", ") .. ")") end
    end
    if op ~= "*" then
        local found = false
        for _, name in ipairs(service and { service } or SERVICES) do
            local svc = model.service(name)
            if svc and svc.operations[op] then found = true end
        end
        if not found then
            fail(path, "no " .. (service or "emulated") .. " operation is named \"" .. op .. "\" (use the API name, e.g. ListMembers)")
        end
    end
    return service, op
end

-- "1,2,5-7,10-" -> {{1,1},{2,2},{5,7},{10,math.huge}}
local function parse_calls_string(s, path)
    local out = {}
    for item in (s .. ","):gmatch("([^,]*),") do
        item = item:match("^%s*(.-)%s*$")
        local a, b = item:match("^(%d+)%-(%d*)$")
        if a then
            a = tonumber(a)
            b = b == "" and math.huge or tonumber(b)
        else
            a = tonumber(item:match("^(%d+)$"))
            b = a
        end
        if not a or a < 1 or b < a then
            fail(path, "expected call numbers such as 1,2 or 3-5 or 4- (counted from 1), got \"" .. item .. "\"")
        end
        out[#out + 1] = { a, b }
    end
    return out
end

local function parse_calls(v, path)
    if type(v) == "string" then return parse_calls_string(v, path) end
    if type(v) ~= "table" or #v == 0 then fail(path, "expected a non-empty array of call numbers or a string such as \"1-3\"") end
    local out = {}
    for i, n in ipairs(v) do
        if math.type(n) ~= "integer" or n < 1 then fail(path .. "[" .. (i - 1) .. "]", "expected a call number >= 1") end
        out[#out + 1] = { n, n }
    end
    return out
end

local function check_rate(v, path)
    if type(v) ~= "number" or v ~= v or v < 0 or v > 1 then fail(path, "expected a probability from 0 to 1") end
    return v
end

-- A rule in its JSON form -> the normalized rule.
local function check_rule(t, path)
    if type(t) ~= "table" then fail(path, "expected an object") end
    local allowed = { operation = true, fault = true, calls = true, rate = true, delay_ms = true, bytes = true,
        content_type = true, skew_seconds = true }
    for k in pairs(t) do
        if type(k) ~= "string" or (not allowed[k] and k:sub(1, 1) ~= "_") then
            fail(path .. "." .. tostring(k), "unknown key (operation, fault, calls, rate, delay_ms, bytes, content_type, skew_seconds)")
        end
    end
    local rule = {}
    rule.service, rule.operation = parse_target(t.operation or "*", path .. ".operation")
    local fault = t.fault
    if math.type(fault) == "integer" then fault = tostring(fault) end
    if type(fault) ~= "string" then fail(path .. ".fault", "expected one of " .. kind_names()) end
    fault = ALIASES[fault] or fault
    local kind = M.KINDS[fault]
    if not kind then fail(path .. ".fault", "unknown fault \"" .. fault .. "\" (known: " .. kind_names() .. ")") end
    rule.fault = fault
    if t.calls ~= nil and t.rate ~= nil then fail(path, "give calls or rate, not both") end
    if t.calls ~= nil then rule.calls = parse_calls(t.calls, path .. ".calls") end
    if t.rate ~= nil then rule.rate = check_rate(t.rate, path .. ".rate") end
    for _, a in ipairs({ "delay_ms", "bytes", "content_type", "skew_seconds" }) do
        if t[a] ~= nil and kind.arg ~= a then fail(path .. "." .. a, "does not apply to fault " .. fault) end
    end
    if kind.arg then
        local v = t[kind.arg]
        if v == nil then v = kind.default end
        if v == nil and fault == "truncate" then v = -1 end -- half the body, decided per answer
        if kind.arg == "content_type" then
            if type(v) ~= "string" or v == "" or v:find("[%c]") then fail(path .. ".content_type", "expected a header value") end
        elseif v ~= -1 then
            if math.type(v) ~= "integer" or v < kind.min or v > kind.max then
                fail(path .. "." .. kind.arg, "expected an integer from " .. kind.min .. " to " .. kind.max)
            end
        end
        rule[kind.arg] = v
    end
    rule.phase = kind.phase
    return rule
end

-- One rule of the string syntax: TARGET:FAULT[=ARG][@WHEN]
local function parse_rule_string(s, path)
    local target, rest = s:match("^([^:]+):(.+)$")
    if not target then fail(path, "expected OPERATION:FAULT[=ARG][@WHEN], got \"" .. s .. "\"") end
    local fpart, when = rest:match("^(.-)@(.*)$")
    if not fpart then fpart = rest end
    local fault, arg = fpart:match("^([^=]+)=(.*)$")
    if not fault then fault = fpart end
    local t = { operation = target, fault = fault }
    local name = ALIASES[fault] or fault
    local kind = M.KINDS[name]
    if arg ~= nil then
        if not kind then fail(path, "unknown fault \"" .. fault .. "\" (known: " .. kind_names() .. ")") end
        if not kind.arg then fail(path, "fault " .. name .. " takes no argument") end
        if kind.arg == "content_type" then
            t.content_type = arg
        else
            local n = math.tointeger(tonumber(arg))
            if not n then fail(path, name .. "=" .. arg .. ": expected an integer") end
            t[kind.arg] = n
        end
    end
    if when ~= nil and when ~= "" and when ~= "all" and when ~= "*" then
        local rate = when:match("^rate=(.*)$")
        if rate then
            local p = tonumber(rate)
            if not p then fail(path, "rate=" .. rate .. ": expected a number from 0 to 1") end
            t.rate = p
        else
            t.calls = when
        end
    end
    return check_rule(t, path)
end

local function check_seed(v, path)
    if math.type(v) ~= "integer" and type(v) ~= "string" then fail(path, "expected an integer or a string") end
    return v
end

-- The string syntax: items separated by ';', each a rule or seed=N.
local function parse_string(s)
    local cfg = { rules = {} }
    local i = 0
    for item in (s .. ";"):gmatch("([^;]*);") do
        item = item:match("^%s*(.-)%s*$")
        if item ~= "" then
            i = i + 1
            local seed = item:match("^seed=(.*)$")
            if seed then
                cfg.seed = math.tointeger(tonumber(seed)) or seed
            else
                cfg.rules[#cfg.rules + 1] = parse_rule_string(item, "item " .. i .. " (" .. item .. ")")
            end
        end
    end
    return cfg
end

-- parse(v) -> {seed = ..., rules = {...}} or raises "faults: <where>: <problem>".
-- v: the string syntax, a JSON text of the object form, or the object form as a table
-- ({seed=, rules={...}} or {spec="..."}). nil, "" and {} mean no faults.
function M.parse(v)
    if v == nil then return { rules = {} } end
    if type(v) == "string" then
        if v:match("^%s*{") then
            local json = require "detlua.emulator.wire_json"
            local doc, err = json.decode(v, 16)
            if doc == nil then fail("(JSON)", "not valid JSON: " .. tostring(err)) end
            return M.parse(json.plain(doc))
        end
        local cfg = parse_string(v)
        if #cfg.rules > M.MAX_RULES then fail("(spec)", "at most " .. M.MAX_RULES .. " rules") end
        return cfg
    end
    if type(v) ~= "table" then fail("(top level)", "expected a string or an object, got " .. type(v)) end
    for k in pairs(v) do
        if k ~= "seed" and k ~= "rules" and k ~= "spec" and not (type(k) == "string" and k:sub(1, 1) == "_") then
            fail(tostring(k), "unknown key (seed, rules, spec)")
        end
    end
    local cfg
    if v.spec ~= nil then
        if type(v.spec) ~= "string" then fail("spec", "expected a string") end
        if v.rules ~= nil then fail("spec", "give spec or rules, not both") end
        cfg = parse_string(v.spec)
    else
        cfg = { rules = {} }
        if v.rules ~= nil then
            if type(v.rules) ~= "table" then fail("rules", "expected an array") end
            for i, r in ipairs(v.rules) do cfg.rules[i] = check_rule(r, "rules[" .. (i - 1) .. "]") end
            if next(v.rules) ~= nil and #v.rules == 0 then fail("rules", "expected an array") end
        end
    end
    if v.seed ~= nil then cfg.seed = check_seed(v.seed, "seed") end
    if #cfg.rules > M.MAX_RULES then fail("rules", "at most " .. M.MAX_RULES .. " rules") end
    return cfg
end

-- --- the live rule set ------------------------------------------------------------------

local Faults = {}
Faults.__index = Faults

-- new(cfg, default_seed): cfg from parse(); default_seed is used when cfg has none.
function M.new(cfg, default_seed)
    local self = setmetatable({}, Faults)
    self:set(cfg or { rules = {} }, default_seed)
    return self
end

-- Replaces the rules; call counters, fired counts and the skew start again.
function Faults:set(cfg, default_seed)
    self.rules = cfg.rules or {}
    for _, r in ipairs(self.rules) do r.fired = 0 end
    self.seed = cfg.seed
    if self.seed == nil then self.seed = default_seed end
    if self.seed == nil then
        local b = crypto.random_bytes(4)
        self.seed = (b:byte(1) << 24 | b:byte(2) << 16 | b:byte(3) << 8 | b:byte(4)) & 0x7fffffff
    end
    self.calls = {}
    self.skew_seconds = 0
end

function Faults:active()
    return #self.rules > 0 or self.skew_seconds ~= 0
end

-- A number in [0, 1) fixed by (seed, rule index, operation key, call number).
function Faults:uniform(index, key, n)
    local h = crypto.sha256(tostring(self.seed) .. "\0" .. index .. "\0" .. key .. "\0" .. n)
    local x = 0
    for i = 1, 6 do x = x * 256 + h:byte(i) end
    return x / 2 ^ 48
end

local function in_calls(calls, n)
    for _, c in ipairs(calls) do
        if n >= c[1] and n <= c[2] then return true end
    end
    return false
end

-- decide(service, operation) -> rule, call number | nil, call number. Counts the call.
function Faults:decide(service, op)
    local key = service .. "." .. op
    local n = (self.calls[key] or 0) + 1
    self.calls[key] = n
    for i, r in ipairs(self.rules) do
        if (r.service == nil or r.service == service) and (r.operation == "*" or r.operation == op) then
            local hit
            if r.calls then
                hit = in_calls(r.calls, n)
            elseif r.rate then
                hit = self:uniform(i, key, n) < r.rate
            else
                hit = true
            end
            if hit then
                r.fired = r.fired + 1
                if r.fault == "skew" then self.skew_seconds = r.skew_seconds end
                return r, n, i
            end
        end
    end
    return nil, n
end

local function calls_string(calls)
    local parts = {}
    for _, c in ipairs(calls) do
        if c[1] == c[2] then
            parts[#parts + 1] = tostring(c[1])
        elseif c[2] == math.huge then
            parts[#parts + 1] = c[1] .. "-"
        else
            parts[#parts + 1] = c[1] .. "-" .. c[2]
        end
    end
    return table.concat(parts, ",")
end

-- The rule in the string syntax (content types holding ';' only survive in the JSON form).
local function rule_string(r)
    local s = (r.service and (r.service .. ".") or "") .. r.operation .. ":" .. r.fault
    local arg = M.KINDS[r.fault].arg
    if arg and r[arg] ~= nil and r[arg] ~= -1 then s = s .. "=" .. tostring(r[arg]) end
    if r.calls then
        s = s .. "@" .. calls_string(r.calls)
    elseif r.rate then
        s = s .. "@rate=" .. string.format("%.17g", r.rate)
    end
    return s
end

-- The rules as the hooks show them: JSON form, the equivalent string, counters.
function Faults:describe()
    local rules, specs = {}, {}
    for i, r in ipairs(self.rules) do
        local t = { operation = (r.service and (r.service .. ".") or "") .. r.operation, fault = r.fault,
            fired = r.fired, phase = r.phase }
        if r.calls then t.calls = calls_string(r.calls) end
        if r.rate then t.rate = r.rate end
        local arg = M.KINDS[r.fault].arg
        if arg and r[arg] ~= -1 then t[arg] = r[arg] end
        rules[i] = t
        specs[i] = rule_string(r)
    end
    specs[#specs + 1] = "seed=" .. tostring(self.seed)
    local calls = {}
    for k, v in pairs(self.calls) do calls[k] = v end
    return { seed = self.seed, rules = rules, spec = table.concat(specs, ";"), calls = calls,
        skew_seconds = self.skew_seconds }
end

return M
