-- Detective emulator: what the scenario says about accounts and the organization, as Detective
-- needs it: root email (invitation verification), since when the account is a GuardDuty
-- customer (the 48 h rule), its daily data volume, and organization membership (the scenario's
-- organization plus accounts added or removed later by fixture hooks). Read-only over the
-- scenario; it neither decides member states nor raises errors.
local time = require "aws.time"
local store = require "detlua.emulator.detective_store"

local M = {}

local PACKAGES = { "DETECTIVE_CORE", "EKS_AUDIT", "ASFF_SECURITYHUB_FINDING" }

function M.record(world, id)
    return world:account(id)
end

function M.email(world, id)
    local a = world:account(id)
    return a and (a.email or a.root_email)
end

-- When the GuardDuty emulator holds an enabled detector of `id` in `region`, its creation time
-- (read-only look at world.data.guardduty, whose layout guardduty_store.lua documents): an
-- account that enables GuardDuty through the emulator becomes a GuardDuty customer then.
local function detector_since(world, id, region)
    local gd = type(world.data) == "table" and world.data.guardduty
    local dets = type(gd) == "table" and gd.detectors
    if type(dets) ~= "table" then return nil end
    local best
    for _, det in pairs(dets) do
        if type(det) == "table" and det.account == id and det.region == region and det.status ~= "DISABLED"
            and type(det.created_at) == "number" and (not best or det.created_at < best) then
            best = det.created_at
        end
    end
    return best
end

-- Epoch seconds since when the account is a GuardDuty customer in `region`, or nil when it is
-- not one: the scenario's guardduty_since (epoch seconds, an ISO 8601 string, or true = "for a
-- long time"; false or absent = not a customer), or the creation of a GuardDuty detector in the
-- emulator, whichever is earlier.
function M.guardduty_since(world, id, region)
    local a = world:account(id)
    local v = a and a.guardduty_since
    local since
    if v == true then
        since = -math.huge
    elseif type(v) == "number" then
        since = v
    elseif type(v) == "string" then
        since = time.parse(v)
    end
    local det = region and detector_since(world, id, region)
    if det and (not since or det < since) then since = det end
    return since
end

-- Daily data volume in bytes by datasource package; the scenario gives either a number (all of it
-- DETECTIVE_CORE) or a map by package. Returns the total and the map (nil, nil when unknown).
function M.daily_volume(world, id)
    local a = world:account(id)
    local v = a and (a.detective_daily_volume_bytes or a.daily_volume_bytes)
    if type(v) == "number" then return v, { DETECTIVE_CORE = v } end
    if type(v) == "table" then
        local total, by = 0, {}
        for _, p in ipairs(PACKAGES) do
            if type(v[p]) == "number" then
                by[p] = v[p]
                total = total + v[p]
            end
        end
        return total, by
    end
    return nil, nil
end

local function org_record(world)
    local ok, org = pcall(world.org, world)
    if ok and type(org) == "table" then return org end
    return nil
end

-- Management account id of the scenario's organization, or nil when there is none.
function M.management(world)
    local org = org_record(world)
    if not org then return nil end
    return org.management_account or org.management_account_id or org.management
end

-- Delegated administrator for Detective already registered in Organizations by the scenario.
function M.scenario_delegated_admin(world)
    local org = org_record(world)
    if not org then return nil end
    local da = org.delegated_administrators or org.delegated_admins
    if type(da) == "table" and type(da.detective) == "string" then return da.detective end
    return org.detective_delegated_admin
end

local function scenario_member(org, id)
    if org.management_account == id or org.management_account_id == id or org.management == id then return true end
    for _, key in ipairs({ "members", "accounts" }) do
        for _, a in ipairs(org[key] or {}) do
            local aid = type(a) == "table" and (a.id or a.account_id or a.AccountId) or a
            if aid == id then return true end
        end
    end
    return false
end

function M.in_org(world, id)
    local org = org_record(world)
    if not org then return false end
    local d = store.root(world)
    if d.org_removed[id] then return false end
    if d.org_added[id] then return true end
    return scenario_member(org, id)
end

M.PACKAGES = PACKAGES

return M
