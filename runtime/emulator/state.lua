-- detlua.emulator.state: the emulator's world. `world.data` is the mutable, JSON-shaped
-- state (each service module owns world.data.<service>; this file owns
-- world.data.emulator: the clock offset and the seeded random stream's position);
-- `world.scenario` is the validated scenario, read-only. With a state file, persist()
-- writes world.data atomically (write_file_atomic: temp file, fsync, rename, fsync dir)
-- and load() reads it back, so acknowledged changes survive a kill -9. It does not decide
-- when to persist (the router does, before it answers) and knows no service semantics.
local json = require "detlua.emulator.wire_json"

local M = {}

M.FORMAT = "detlua-emulator-state"
M.VERSION = 1

local World = {}
World.__index = World
M.World = World

-- --- random numbers -----------------------------------------------------------------
-- Seeded (scenario.seed): SplitMix64, its position kept in world.data.emulator.rng as
-- hex, so a reloaded emulator continues the same stream. Unseeded: the OS's randomness
-- (aws.core.crypto.random_bytes when present, else Lua's generator).

local function fnv1a64(s)
    local h = -3750763034362895579 -- 0xcbf29ce484222325
    for i = 1, #s do
        h = h ~ s:byte(i)
        h = h * 1099511628211
    end
    return h
end

local function splitmix_next(state)
    state = state + -7046029254386353131 -- 0x9e3779b97f4a7c15
    local z = state
    z = (z ~ (z >> 30)) * -4658895280553007687 -- 0xbf58476d1ce4e5b9
    z = (z ~ (z >> 27)) * -7723592293110705685 -- 0x94d049bb133111eb
    return state, z ~ (z >> 31)
end

local os_random
do
    local ok, crypto = pcall(require, "aws.core.crypto")
    if ok and type(crypto) == "table" and crypto.random_bytes then
        os_random = function(n) return crypto.random_bytes(n) end
    else
        os_random = function(n)
            local t = {}
            for i = 1, n do t[i] = string.char(math.random(0, 255)) end
            return table.concat(t)
        end
    end
end

function World:emulator_data()
    local d = self.data.emulator
    if type(d) ~= "table" then
        d = {}
        self.data.emulator = d
    end
    return d
end

-- n random bytes as a string
function World:random_bytes(n)
    if self.seed == nil then return os_random(n) end
    local d = self:emulator_data()
    local state
    if type(d.rng) == "string" and #d.rng == 16 and d.rng:match("^%x+$") then
        -- two halves: tonumber(hex, 16) does not wrap past 2^63
        state = (tonumber(d.rng:sub(1, 8), 16) << 32) | tonumber(d.rng:sub(9, 16), 16)
    else
        state = fnv1a64(tostring(self.seed))
    end
    local out = {}
    while #out < n do
        local z
        state, z = splitmix_next(state)
        for k = 0, 7 do
            if #out < n then out[#out + 1] = string.char((z >> (8 * k)) & 0xff) end
        end
    end
    d.rng = string.format("%016x", state)
    return table.concat(out)
end

function World:random_hex(n)
    local b = self:random_bytes((n + 1) // 2)
    return (b:gsub(".", function(c) return string.format("%02x", c:byte()) end)):sub(1, n)
end

function World:random_digits(n)
    local b = self:random_bytes(n)
    return (b:gsub(".", function(c) return tostring(c:byte() % 10) end))
end

-- n characters drawn from `alphabet` (default A-Z0-9)
function World:random_string(n, alphabet)
    alphabet = alphabet or "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    local b = self:random_bytes(n)
    local k = #alphabet
    return (b:gsub(".", function(c)
        local i = c:byte() % k + 1
        return alphabet:sub(i, i)
    end))
end

-- --- scenario access -----------------------------------------------------------------

function World:setting(service, name, default)
    local s = self.scenario.settings
    local t = s and s[service]
    local v = t and t[name]
    if v == nil then return default end
    return v
end

function World:account(id)
    return self.accounts_by_id[id]
end

function World:accounts()
    return self.scenario.accounts
end

function World:org()
    return self.scenario.organization
end

function World:role(arn)
    return self.roles_by_arn[arn]
end

function World:administrator()
    return self.accounts_by_id[self.scenario.administrator]
end

function World:region()
    return self.scenario.region
end

-- Emulated time: the wall clock plus an offset that tests move with
-- POST /_emulator/clock (kept in world.data so stored timestamps stay consistent).
function World:now(wall)
    local off = self.data.emulator and self.data.emulator.clock_offset_seconds or 0
    return wall + off
end

function World:mark_dirty()
    self.dirty = true
end

-- --- persistence -------------------------------------------------------------------------

-- Loaded data becomes plain tables again: JSON nulls dropped from objects and the array
-- marks of wire_json removed (modules see ordinary sequences; whether a table is written
-- back as an array is decided by its contents, as for data they create).
local function to_plain(v)
    if type(v) == "table" and v ~= json.null then
        if json.is_array(v) then setmetatable(v, nil) end
        for k, x in pairs(v) do
            if x == json.null then
                if math.type(k) ~= "integer" then v[k] = nil end
            else
                v[k] = to_plain(x)
            end
        end
    end
    return v
end

-- Serialised form of the world, as written to the state file.
function World:serialize()
    return json.encode({
        format = M.FORMAT,
        version = M.VERSION,
        data = self.data,
    }) .. "\n"
end

-- Writes the state file when there is one. Returns true, or nil and a message; on failure
-- world.data is rolled back to the last state that reached the disk, so memory never
-- holds changes that were not acknowledged.
function World:persist()
    self.dirty = false
    if not self.state_path then return true end
    local ok, text = pcall(self.serialize, self)
    local err
    if ok then
        local written, werr = require("aws.core.host").write_file_atomic(self.state_path, text)
        if written then
            self.last_saved = text
            return true
        end
        err = werr
    else
        err = "world.data is not JSON-serialisable: " .. tostring(text)
    end
    self:rollback()
    return nil, err
end

-- Restores world.data from the last persisted text (or empty when none).
-- In-memory worlds have nothing to go back to and are left as they are.
function World:rollback()
    self.dirty = false
    if not self.state_path then return end
    if not self.last_saved then
        self.data = {}
        return
    end
    local doc = json.decode(self.last_saved, 1000)
    self.data = doc and to_plain(doc.data) or {}
end

-- Reads the state file (absent = a fresh world). Raises with a message naming the file.
function World:load()
    local path = self.state_path
    local f, err, errno = io.open(path, "rb")
    if not f then
        if errno == 2 then -- ENOENT: first run, the file appears with the first change
            self.data = {}
            return false
        end
        error("state file " .. path .. ": cannot be read: " .. tostring(err), 0)
    end
    local text = f:read("a")
    f:close()
    if text == nil then error("state file " .. path .. ": cannot be read", 0) end
    if text:match("^%s*$") then
        self.data = {}
        return false
    end
    local doc, err = json.decode(text, 1000)
    if doc == nil then error("state file " .. path .. ": not valid JSON: " .. err, 0) end
    if type(doc) ~= "table" or doc.format ~= M.FORMAT then
        error("state file " .. path .. ": not a detlua emulator state file (format must be \"" .. M.FORMAT .. "\")", 0)
    end
    if doc.version ~= M.VERSION then
        error("state file " .. path .. ": unsupported version " .. tostring(doc.version) .. " (this detlua reads version " .. M.VERSION .. ")", 0)
    end
    if type(doc.data) ~= "table" or json.is_array(doc.data) then
        error("state file " .. path .. ": data: expected an object", 0)
    end
    self.data = to_plain(doc.data)
    self.last_saved = text
    return true
end

-- new(scenario, {state = path|nil}) -> world. scenario is validated (scenario.lua).
function M.new(scenario, opts)
    opts = opts or {}
    local w = setmetatable({
        scenario = scenario,
        data = {},
        dirty = false,
        state_path = opts.state,
        seed = scenario.seed,
        accounts_by_id = {},
        roles_by_arn = {},
    }, World)
    for _, a in ipairs(scenario.accounts or {}) do w.accounts_by_id[a.id] = a end
    for _, r in ipairs(scenario.roles or {}) do w.roles_by_arn[r.arn] = r end
    if w.state_path then w:load() end
    return w
end

return M
