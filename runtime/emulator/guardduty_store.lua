-- GuardDuty emulator: where the service keeps its state (world.data.guardduty), the detectors
-- and administrator/member relationships the scenario implies, deterministic identifiers, time
-- strings, page tokens and the error replies every operation shares. It implements no operation
-- itself and keeps nothing outside world.data, so that all of it survives persistence as JSON.
-- Scenario findings are not read here (guardduty_findings.lua normalises them).
local E = require "detlua.emulator.errors"
local time = require "aws.time"
local page_token = require "detlua.emulator.page_token"

local M = {}

-- world.data.guardduty layout (string keys or sequences only):
--   detectors = { [detector id] = detector }           see M.new_detector
--   findings  = { finding, ... }                       Finding tables, MODEL member names,
--                                                      in insertion order
--   members   = { [region] = { [member account] = rel } }
--       rel = { admin, status, type ("organization"|"invitation"), invitation_id, invited_at,
--               updated_at (epoch seconds), email }
--   seeded_findings = true once the scenario's findings were imported
--   seeded_regions  = { [region] = true } once the scenario's relationships were applied there
function M.root(world)
    local d = world.data.guardduty
    if type(d) ~= "table" then
        d = {}
        world.data.guardduty = d
    end
    d.detectors = d.detectors or {}
    d.findings = d.findings or {}
    d.members = d.members or {}
    d.seeded_regions = d.seeded_regions or {}
    return d
end

function M.setting(world, name, default)
    local ok, v = pcall(world.setting, world, "guardduty", name, default)
    if not ok or v == nil then return default end
    return v
end

---------------------------------------------------------------------------------------------
-- Errors. GuardDuty's modeled errors carry `message` and `Type`; real replies add a finer
-- `__type` (InvalidInputException for bad parameters, BOTO3-3890), so both are sent.

function M.bad_request(message, finer)
    finer = finer or "InvalidInputException"
    E.raise("BadRequestException", message, { Type = finer }, { type = finer })
end

function M.internal(message)
    E.raise("InternalServerErrorException", message, { Type = "InternalException" },
        { type = "InternalException" })
end

-- The exact text AWS answers for a detector id that is not the caller's in this Region.
M.BAD_DETECTOR = "The request is rejected because the parameter detectorId has an invalid value."
-- Generic text AWS answers for an out-of-range or unknown input value.
M.BAD_INPUT = "The request is rejected because an invalid or out-of-range value is specified as an input parameter."
-- UnprocessedAccount.Result AWS gives for an account that is not the caller's member (wording
-- as captured from the service, aws-security-reference-architecture-examples issue #151).
M.NOT_MEMBER = "The request is rejected because the given account ID is not an associated member of account the current account."

---------------------------------------------------------------------------------------------
-- Deterministic identifiers: detectors and findings the scenario implies get ids derived from
-- what they are, so that they do not depend on request order or on the shared random stream.

-- FNV-1a 64 of `s` as an integer (shared with Detective's page tokens).
M.fnv64 = page_token.fnv64

-- 32 lowercase hex digits (the form GuardDuty detector and finding ids take) from `s`.
function M.hex32(s)
    return string.format("%016x%016x", M.fnv64("a:" .. s), M.fnv64("b:" .. s))
end

function M.random_hex32(world)
    local ok, v = pcall(world.random_hex, world, 32)
    if ok and type(v) == "string" and #v == 32 then return v:lower() end
    return M.hex32(tostring(os.time()) .. tostring({}))
end

---------------------------------------------------------------------------------------------
-- Time. GuardDuty answers timestamps inside findings, members and detectors as strings.

function M.iso(t)
    return time.format(t, { ms = true })
end

-- Epoch seconds from a number, an ISO 8601 string or nil.
function M.epoch(v)
    if type(v) == "number" then return v end
    if type(v) == "string" then return (time.parse(v)) end
    return nil
end

function M.partition(region)
    if region:match("^cn%-") then return "aws-cn" end
    if region:match("^us%-gov%-") then return "aws-us-gov" end
    if region:match("^us%-iso%-") then return "aws-iso" end
    if region:match("^us%-isob%-") then return "aws-iso-b" end
    return "aws"
end

---------------------------------------------------------------------------------------------
-- Scenario reading (accounts and organization; shapes read defensively).

local function scenario(world)
    return type(world.scenario) == "table" and world.scenario or {}
end

function M.scenario_guardduty(world)
    local g = scenario(world).guardduty
    return type(g) == "table" and g or {}
end

function M.account(world, id)
    local ok, a = pcall(world.account, world, id)
    if ok and type(a) == "table" then return a end
    return nil
end

local function org(world)
    local ok, o = pcall(world.org, world)
    if ok and type(o) == "table" then return o end
    return nil
end

local DEFAULT_SINCE = 1577836800 -- 2020-01-01T00:00:00Z, for guardduty_since = true

-- Since when the scenario says `id` has GuardDuty (epoch seconds), or nil.
function M.guardduty_since(world, id)
    local a = M.account(world, id)
    local v = a and a.guardduty_since
    if v == true then return M.epoch(M.setting(world, "default_since", DEFAULT_SINCE)) or DEFAULT_SINCE end
    if v == false then return nil end
    return M.epoch(v)
end

function M.email(world, id)
    local a = M.account(world, id)
    return a and (a.email or a.root_email) or (id .. "@example.com")
end

local function account_id_of(a)
    if type(a) == "table" then return a.id or a.account_id or a.accountId or a.AccountId end
    return a
end

-- Account ids of the scenario's organization (management account included), sorted.
function M.org_accounts(world)
    local o = org(world)
    if not o then return {} end
    local seen, out = {}, {}
    local function add(id)
        if type(id) == "string" and not seen[id] then
            seen[id] = true
            out[#out + 1] = id
        end
    end
    add(o.management_account or o.management_account_id or o.management)
    for _, key in ipairs({ "members", "accounts" }) do
        for _, a in ipairs(o[key] or {}) do add(account_id_of(a)) end
    end
    table.sort(out)
    return out
end

-- The account that administers GuardDuty by default: the scenario's administrator (its
-- Detective/security account), unless guardduty.administrator names another.
function M.default_admin(world)
    local g = M.scenario_guardduty(world)
    if type(g.administrator) == "string" then return g.administrator end
    local a = scenario(world).administrator
    if type(a) == "table" then a = a.id end
    return type(a) == "string" and a or nil
end

---------------------------------------------------------------------------------------------
-- Detectors.

-- Feature defaults: everything on except Runtime Monitoring (§8); the three foundational
-- sources are always on. Additional configurations (agent management) start off.
local FEATURES = {
    "FLOW_LOGS", "CLOUD_TRAIL", "DNS_LOGS", "S3_DATA_EVENTS", "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS",
    "EKS_RUNTIME_MONITORING", "RUNTIME_MONITORING", "AI_PROTECTION", "AI_ANALYST",
}
M.FEATURES = FEATURES
local OFF_BY_DEFAULT = { RUNTIME_MONITORING = true }
local ADDITIONAL = {
    EKS_RUNTIME_MONITORING = { "EKS_ADDON_MANAGEMENT" },
    RUNTIME_MONITORING = { "EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT" },
}

function M.default_features(at)
    local out = {}
    for _, name in ipairs(FEATURES) do
        local f = { name = name, status = OFF_BY_DEFAULT[name] and "DISABLED" or "ENABLED", updated_at = at }
        if ADDITIONAL[name] then
            f.additional = {}
            for _, a in ipairs(ADDITIONAL[name]) do
                f.additional[#f.additional + 1] = { name = a, status = "DISABLED", updated_at = at }
            end
        end
        out[#out + 1] = f
    end
    return out
end

function M.new_detector(world, account, region, id, at, fields)
    fields = fields or {}
    local det = {
        id = id,
        account = account,
        region = region,
        status = fields.status or "ENABLED",
        created_at = at,
        updated_at = at,
        frequency = fields.frequency or M.setting(world, "finding_publishing_frequency", "SIX_HOURS"),
        tags = fields.tags or {},
        features = fields.features or M.default_features(at),
        client_token = fields.client_token,
    }
    M.root(world).detectors[id] = det
    world:mark_dirty()
    return det
end

local function find_detector(world, account, region)
    for _, det in pairs(M.root(world).detectors) do
        if det.account == account and det.region == region then return det end
    end
    return nil
end

-- Makes sure the detector the scenario implies for (account, region) exists, created at `at`
-- with an id derived from the pair. Returns it.
-- `id`, when given, is the id the scenario uses for it (a finding's service.detectorId).
function M.implied_detector(world, account, region, at, id)
    local det = find_detector(world, account, region)
    if det then return det end
    id = id or M.hex32("detector|" .. account .. "|" .. region)
    local other = M.root(world).detectors[id]
    if other then
        M.internal("The scenario gives detector id " .. id .. " to both " .. other.account .. " in " .. other.region ..
            " and " .. account .. " in " .. region .. ".")
    end
    return M.new_detector(world, account, region, id, at)
end

-- The caller's detector in `region`, or nil. An account the scenario marks as a GuardDuty
-- customer (guardduty_since, not in the future) has one, created lazily with that date.
function M.detector_of(world, account, region, now)
    local det = find_detector(world, account, region)
    if det then return det end
    local since = M.guardduty_since(world, account)
    if since and since <= now then return M.implied_detector(world, account, region, since) end
    return nil
end

-- The detector named by `id`, which must be the caller's in the caller's Region; otherwise
-- the exact 400 AWS sends (BOTO3-3890).
function M.caller_detector(world, ctx, id)
    local det = M.detector_of(world, ctx.account, ctx.region, ctx.now)
    if not det or det.id ~= id then M.bad_request(M.BAD_DETECTOR) end
    return det
end

---------------------------------------------------------------------------------------------
-- Relationships (administrator <-> members), per Region.

function M.relationships(world, region)
    local d = M.root(world)
    d.members[region] = d.members[region] or {}
    return d.members[region]
end

-- The relationship record of `member` in `region`, or nil.
function M.rel_of(world, region, member)
    return M.relationships(world, region)[member]
end

-- The administrator `account` is an enabled member of in `region`, or nil.
function M.admin_of(world, region, account)
    local rel = M.rel_of(world, region, account)
    if rel and rel.status == "Enabled" then return rel.admin end
    return nil
end

-- Member records administered by `admin` in `region`, sorted by account id.
function M.members_of(world, region, admin)
    local out = {}
    for id, rel in pairs(M.relationships(world, region)) do
        if rel.admin == admin then out[#out + 1] = { id = id, rel = rel } end
    end
    table.sort(out, function(a, b) return a.id < b.id end)
    return out
end

local function member_entries(world)
    local g = M.scenario_guardduty(world)
    if g.members ~= nil then
        local out = {}
        for i, m in ipairs(g.members) do
            if type(m) == "string" then
                out[#out + 1] = { id = m, type = "invitation" }
            elseif type(m) == "table" then
                local id = account_id_of(m)
                if type(id) ~= "string" then
                    M.internal("scenario guardduty.members[" .. i .. "]: an account id is required")
                end
                out[#out + 1] = {
                    id = id,
                    status = m.status or m.relationship_status or m.relationshipStatus,
                    type = m.type or "invitation",
                    email = m.email,
                    invitation_id = m.invitation_id or m.invitationId,
                    invited_at = m.invited_at or m.invitedAt,
                }
            end
        end
        return M.default_admin(world), out, false
    end
    -- Default: the scenario's administrator (security account) administers every other
    -- organization account that is a GuardDuty customer (organization-managed, no invitation).
    local admin = M.default_admin(world)
    local out = {}
    if admin then
        for _, id in ipairs(M.org_accounts(world)) do
            if id ~= admin and M.guardduty_since(world, id) then
                out[#out + 1] = { id = id, type = "organization" }
            end
        end
    end
    return admin, out, true
end

-- Applies the scenario's relationships to `region` once (later changes are state).
function M.seed_region(world, region)
    local d = M.root(world)
    if d.seeded_regions[region] then return end
    d.seeded_regions[region] = true
    world:mark_dirty()
    local admin, entries, implicit = member_entries(world)
    if type(admin) ~= "string" or #entries == 0 then return end
    if implicit and not M.guardduty_since(world, admin) then return end
    local rels = M.relationships(world, region)
    local admin_since = M.guardduty_since(world, admin) or DEFAULT_SINCE
    M.implied_detector(world, admin, region, admin_since)
    for _, e in ipairs(entries) do
        if e.id ~= admin and not rels[e.id] then
            local since = M.guardduty_since(world, e.id) or admin_since
            local invited = M.epoch(e.invited_at) or math.max(since, admin_since)
            M.implied_detector(world, e.id, region, since)
            rels[e.id] = {
                admin = admin,
                status = e.status or "Enabled",
                type = e.type,
                email = e.email or M.email(world, e.id),
                invitation_id = e.invitation_id or M.hex32("invitation|" .. admin .. "|" .. e.id .. "|" .. region),
                invited_at = invited,
                updated_at = invited,
            }
        end
    end
end

---------------------------------------------------------------------------------------------
-- Paging: opaque tokens carrying the operation, a fingerprint of the other arguments and the
-- caller, and the offset of the next item. Anything else is rejected like a bad parameter.

local canon = page_token.canon
M.canon = canon

local function tohex(s)
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function fromhex(s)
    if #s % 2 ~= 0 or s:find("[^0-9a-f]") then return nil end
    return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

local function token_for(op, fp, offset)
    local body = "gd1|" .. op .. "|" .. fp .. "|" .. offset
    return tohex(body .. "|" .. string.format("%016x", M.fnv64(body)))
end

-- One page of `items` (a sequence in a stable order). `args` are the request arguments that
-- must stay unchanged between pages (the caller's identity is added here).
-- Returns the page and the next token (nil on the last page).
function M.page(ctx, op, args, items, max_results, token)
    local limit = max_results or 50
    local fp = string.format("%016x", M.fnv64(canon({ ctx.account, ctx.region, args })))
    local offset = 0
    if token ~= nil then
        local raw = type(token) == "string" and fromhex(token)
        local tag, top, tfp, toff, check = nil, nil, nil, nil, nil
        if raw then tag, top, tfp, toff, check = raw:match("^(gd1)|([^|]+)|([^|]+)|(%d+)|(%x+)$") end
        local body = tag and (tag .. "|" .. top .. "|" .. tfp .. "|" .. toff)
        if not tag or check ~= string.format("%016x", M.fnv64(body)) or top ~= op or tfp ~= fp
            or tonumber(toff) > #items then
            M.bad_request("The request is rejected because the parameter nextToken has an invalid value.")
        end
        offset = tonumber(toff)
    end
    local out = {}
    for i = offset + 1, math.min(offset + limit, #items) do out[#out + 1] = items[i] end
    local next_token
    if offset + limit < #items then next_token = token_for(op, fp, offset + limit) end
    return out, next_token
end

return M
