-- Test support for the Detective emulator specs: a small world that follows the emulator contract
-- (data, scenario, setting, random_hex, random_digits, mark_dirty, account, org), an errors module
-- with the contract's E.raise/E.is_error, and a caller that drives S:handle directly with a ctx
-- per account and time, round-tripping world.data through JSON before every call to prove the
-- state survives persistence. The fakes are injected through package.loaded here, in tests only.
-- The emulator's own JSON module when it is there (it is what persists world.data), else cjson.
local json
do
    local ok, wire = pcall(require, "detlua.emulator.wire_json")
    if ok then
        json = wire
    else
        local cjson = require "cjson"
        json = { encode = cjson.encode, decode = cjson.decode }
    end
end

local H = { json = json }

-- errors: the contract's interface, recording what the router would need.
local Err = {}
Err.__index = Err
Err.__tostring = function(e) return e.code .. ": " .. tostring(e.message) end
local E = {}
function E.raise(code, message, fields, opts)
    error(setmetatable({ code = code, message = message, fields = fields or {}, opts = opts or {} }, Err), 0)
end
function E.is_error(x) return getmetatable(x) == Err end
H.E = E

-- Loads the Detective modules afresh over the errors module `errors` (default: the fake above).
function H.install(errors)
    H.E = errors or E
    package.loaded["detlua.emulator.errors"] = H.E
    for _, m in ipairs({ "detective", "detective_store", "detective_paging", "detective_accounts",
        "detective_members", "detective_membership", "detective_graphs", "detective_tags", "detective_org",
        "detective_datasources", "detective_investigations", "detective_indicators", "detective_seed" }) do
        package.loaded["detlua.emulator." .. m] = nil
    end
    return require "detlua.emulator.detective"
end

-- A world over `scenario` (accounts = list of records with id, organization = {management_account,
-- accounts}, settings = {detective = {...}}, investigations = fixture).
function H.world(scenario)
    scenario = scenario or {}
    local by_id = {}
    for _, a in ipairs(scenario.accounts or {}) do by_id[a.id] = a end
    local state = 12345
    local function rand()
        state = (state * 1103515245 + 12345) % 2147483648
        return state
    end
    local w = { data = {}, scenario = scenario, dirty_count = 0 }
    function w:setting(service, name, default)
        local s = scenario.settings and scenario.settings[service]
        if s and s[name] ~= nil then return s[name] end
        return default
    end
    function w:random_hex(n)
        local t = {}
        for i = 1, n do t[i] = string.format("%x", (rand() >> 16) % 16) end
        return table.concat(t)
    end
    function w:random_digits(n)
        local t = {}
        for i = 1, n do t[i] = tostring((rand() >> 16) % 10) end
        return table.concat(t)
    end
    function w:mark_dirty() self.dirty_count = self.dirty_count + 1 end
    function w:account(id) return by_id[id] end
    function w:org() return scenario.organization end
    return w
end

-- Service + caller. svc:call(account, now, op, input [, region]) returns the output or raises;
-- svc:try(...) returns nil, err for an emulator error.
function H.service(S, world)
    local svc = S.new(world)
    local api = { svc = svc, world = world }
    function api.ctx(account, now, region)
        return { account = account, principal_arn = "arn:aws:iam::" .. account .. ":user/tester", region = region or "us-east-1",
            request_id = "req", now = now, service = "detective" }
    end
    function api.call(account, now, op, input, region)
        world.data = json.decode(json.encode(world.data))
        return svc:handle(api.ctx(account, now, region), op, input)
    end
    function api.try(account, now, op, input, region)
        local ok, res = pcall(api.call, account, now, op, input, region)
        if ok then return res, nil end
        if not H.E.is_error(res) then error(res, 0) end
        return nil, res
    end
    function api.admin(account, now, action, body, region)
        world.data = json.decode(json.encode(world.data))
        return svc:admin(api.ctx(account, now, region), action, body)
    end
    return api
end

-- Runs fn and returns the emulator error it raised; fails the test when it succeeds or raises
-- anything else, or when the error code differs from `code`.
function H.expect_error(code, fn)
    local ok, err = pcall(fn)
    assert(not ok, "expected " .. code .. " but the call succeeded")
    assert(H.E.is_error(err), "expected an emulator error, got: " .. tostring(err))
    assert(err.code == code, "expected " .. code .. ", got " .. err.code .. ": " .. tostring(err.message))
    return err
end

-- Collects every item of a paged list operation.
function H.collect(call, account, now, op, input, key, region)
    local all, pages = {}, 0
    local req = {}
    for k, v in pairs(input or {}) do req[k] = v end
    repeat
        local out = call(account, now, op, req, region)
        pages = pages + 1
        for _, v in ipairs(out[key] or {}) do all[#all + 1] = v end
        req.NextToken = out.NextToken
    until not out.NextToken
    return all, pages
end

return H
