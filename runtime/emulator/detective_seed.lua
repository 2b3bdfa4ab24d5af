-- Detective emulator: behavior graphs that already exist when the emulator starts, from the
-- scenario's "detective" section (graphs with their members, package states, tags, and the
-- organization graph), so that audits and playbooks can run against an established setup.
-- validate() checks the section when the service starts (errors name the JSON path); apply()
-- creates the graphs once, on the first request, in world.data. It bypasses the operations'
-- checks on purpose (a seeded member can be ENABLED without an invitation round trip).
local accounts = require "detlua.emulator.detective_accounts"
local graphs = require "detlua.emulator.detective_graphs"
local members = require "detlua.emulator.detective_members"
local store = require "detlua.emulator.detective_store"
local time = require "aws.time"

local M = {}

local STATUSES = { INVITED = true, VERIFICATION_IN_PROGRESS = true, VERIFICATION_FAILED = true, ENABLED = true,
    ACCEPTED_BUT_DISABLED = true }
local REASONS = { VOLUME_TOO_HIGH = true, VOLUME_UNKNOWN = true }
local TYPES = { INVITATION = true, ORGANIZATION = true }
local STATES = { STARTED = true, STOPPED = true, DISABLED = true }
local PACKAGES = { DETECTIVE_CORE = true, EKS_AUDIT = true, ASFF_SECURITYHUB_FINDING = true }

local function fail(path, msg)
    error("scenario: detective." .. path .. ": " .. msg, 0)
end

local function is_id(v)
    return type(v) == "string" and v:match("^%d%d%d%d%d%d%d%d%d%d%d%d$") ~= nil
end

local function check_time(v, path)
    if v == nil then return end
    if type(v) ~= "number" and not (type(v) == "string" and time.parse(v)) then
        fail(path, "expected an ISO 8601 time or epoch seconds")
    end
end

local function check_enum(v, set, path)
    if v ~= nil and not set[v] then
        local names = {}
        for k in pairs(set) do names[#names + 1] = k end
        table.sort(names)
        fail(path, "expected one of " .. table.concat(names, ", ") .. ", got " .. tostring(v))
    end
end

-- Raises with a message naming the path when the section is malformed.
function M.validate(section)
    if section == nil then return end
    if type(section) ~= "table" then fail("", "expected an object") end
    local list = section.graphs
    if list == nil then return end
    if type(list) ~= "table" then fail("graphs", "expected an array") end
    local seen = {}
    for i, g in ipairs(list) do
        local p = "graphs[" .. (i - 1) .. "]"
        if type(g) ~= "table" then fail(p, "expected an object") end
        if not is_id(g.administrator) then fail(p .. ".administrator", "expected a 12-digit account id") end
        if g.region ~= nil and (type(g.region) ~= "string" or not g.region:match("^[a-z][a-z]+%-[a-z0-9%-]*%d$")) then
            fail(p .. ".region", "expected a Region name such as us-east-1")
        end
        local key = g.administrator .. "/" .. tostring(g.region)
        if seen[key] then fail(p, "a second graph for the same administrator and Region") end
        seen[key] = true
        check_time(g.created, p .. ".created")
        for k, v in pairs(g.tags or {}) do
            if type(k) ~= "string" or type(v) ~= "string" then fail(p .. ".tags", "expected string keys and values") end
        end
        for k, v in pairs(g.datasource_packages or {}) do
            check_enum(k, PACKAGES, p .. ".datasource_packages")
            check_enum(v, STATES, p .. ".datasource_packages." .. tostring(k))
        end
        for j, m in ipairs(g.members or {}) do
            local mp = p .. ".members[" .. (j - 1) .. "]"
            if type(m) ~= "table" then fail(mp, "expected an object") end
            if not is_id(m.account_id) then fail(mp .. ".account_id", "expected a 12-digit account id") end
            if m.account_id == g.administrator then fail(mp .. ".account_id", "the administrator cannot be a member") end
            check_enum(m.status, STATUSES, mp .. ".status")
            check_enum(m.disabled_reason, REASONS, mp .. ".disabled_reason")
            check_enum(m.invitation_type, TYPES, mp .. ".invitation_type")
            check_time(m.invited, mp .. ".invited")
        end
    end
end

local function epoch(v, default)
    if v == nil then return default end
    if type(v) == "number" then return v end
    return time.parse(v)
end

-- Creates the scenario's graphs once (world.data.detective.seeded remembers it).
function M.apply(world, ctx)
    local d = store.root(world)
    if d.seeded then return end
    d.seeded = true
    local section = world.scenario and world.scenario.detective
    local default_region = (world.region and world:region()) or ctx.region
    for _, spec in ipairs(type(section) == "table" and section.graphs or {}) do
        local region = spec.region or default_region
        local created = epoch(spec.created, ctx.now)
        local g = graphs.new_graph(world, region, spec.administrator, created)
        for k, v in pairs(spec.tags or {}) do g.tags[k] = v end
        for p, state in pairs(spec.datasource_packages or {}) do g.packages[p] = { state = state, history = { [state] = created } } end
        g.auto_enable = spec.auto_enable == true
        if spec.organization_graph then
            g.org = true
            d.org_admins[region] = { account = spec.administrator, graph = g.arn, since = created }
            if spec.administrator ~= accounts.management(world) then d.delegated_admin = spec.administrator end
        end
        for _, ms in ipairs(spec.members or {}) do
            local kind = ms.invitation_type or ((g.org and accounts.in_org(world, ms.account_id)) and "ORGANIZATION" or "INVITATION")
            local m = members.new_record(world, g, ms.account_id, ms.email or accounts.email(world, ms.account_id), kind,
                epoch(ms.invited, created))
            local status = ms.status or "ENABLED"
            if status ~= "VERIFICATION_IN_PROGRESS" then
                members.set_status(m, status, ms.disabled_reason or "VOLUME_UNKNOWN", epoch(ms.invited, created))
                m.verify_at = nil
            end
            g.members[ms.account_id] = m
        end
    end
    store.dirty(world)
end

return M
