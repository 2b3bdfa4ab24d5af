-- detlua.emulator.scenario: the emulated world's fixed facts (accounts and their keys,
-- IAM roles and who may assume them, the organization, GuardDuty findings, investigation
-- fixtures, settings): the built-in default scenario, loading a scenario JSON file, and
-- validation with messages that name the JSON path (0-based indexes, like jq:
-- `accounts[2].id`). The result is a plain Lua table with defaults filled in. It holds no
-- mutable state (state.lua) and implements no service behaviour. Format: docs/emulator.md.
local json = require "detlua.emulator.wire_json"

local M = {}

local ADMIN = "111122223333"
local PROD = "444455556666"
local DEV = "777788889999"
local SANDBOX = "555566667777"
local MGMT = "999988887777"

-- The built-in scenario. Keys are obviously fake (AKIAEMULATOR...); they only work here.
local function default_scenario()
    local alice = "arn:aws:iam::" .. PROD .. ":user/alice"
    local detector = "c2b5a8e1f4d7093a6b9c2e5f8a1d4b7e"
    local finding1 = "4ec6ea5b2f3d1a9c8e7b6d5f4a3c2b1e"
    local finding2 = "7a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d"
    local function finding(id, ftype, title, description, severity, api, extra_service)
        local f = {
            schemaVersion = "2.0",
            accountId = PROD,
            region = "us-east-1",
            partition = "aws",
            id = id,
            arn = "arn:aws:guardduty:us-east-1:" .. PROD .. ":detector/" .. detector .. "/finding/" .. id,
            type = ftype,
            title = title,
            description = description,
            severity = severity,
            confidence = 8.0,
            createdAt = "2026-01-14T09:12:44.381Z",
            updatedAt = "2026-01-14T09:42:10.027Z",
            resource = {
                resourceType = "AccessKey",
                accessKeyDetails = {
                    accessKeyId = "AKIAEMULATORALICE001",
                    principalId = "AIDAEMULATORALICE0001",
                    userName = "alice",
                    userType = "IAMUser",
                },
            },
            service = {
                serviceName = "guardduty",
                detectorId = detector,
                archived = false,
                count = 3,
                resourceRole = "TARGET",
                eventFirstSeen = "2026-01-14T08:55:02.000Z",
                eventLastSeen = "2026-01-14T09:38:47.000Z",
                action = {
                    actionType = "AWS_API_CALL",
                    awsApiCallAction = {
                        api = api,
                        serviceName = api == "ConsoleLogin" and "signin.amazonaws.com" or "iam.amazonaws.com",
                        callerType = "Remote IP",
                        userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                        remoteIpDetails = {
                            ipAddressV4 = "203.0.113.77",
                            city = { cityName = "Sydney" },
                            country = { countryCode = "AU", countryName = "Australia" },
                            geoLocation = { lat = -33.8688, lon = 151.2093 },
                            organization = { asn = "64500", asnOrg = "Example Hosting Pty", isp = "Example Hosting Pty", org = "Example Hosting Pty" },
                        },
                    },
                },
            },
        }
        for k, v in pairs(extra_service or {}) do f.service[k] = v end
        return f
    end
    return {
        description = "detlua built-in scenario: a security (Detective administrator) account, three "
            .. "member accounts, an organization management account, and a compromised IAM user "
            .. "(alice in " .. PROD .. ") with GuardDuty findings and investigation indicators.",
        region = "us-east-1",
        administrator = ADMIN,
        accounts = {
            { id = ADMIN, name = "security", email = "security@example.com",
              access_key_id = "AKIAEMULATORSECURITY", secret_access_key = "emulator-security-secret-key-not-real-0001",
              user_name = "security-admin", guardduty_since = "2025-01-01T00:00:00Z" },
            { id = PROD, name = "workload-prod", email = "prod@example.com",
              access_key_id = "AKIAEMULATORMEMBER01", secret_access_key = "emulator-member01-secret-key-not-real-0002",
              user_name = "admin", guardduty_since = "2025-01-01T00:00:00Z" },
            { id = DEV, name = "workload-dev", email = "dev@example.com",
              access_key_id = "AKIAEMULATORMEMBER02", secret_access_key = "emulator-member02-secret-key-not-real-0003",
              user_name = "admin", guardduty_since = "2025-06-01T00:00:00Z" },
            { id = SANDBOX, name = "sandbox", email = "sandbox@example.com",
              access_key_id = "AKIAEMULATORMEMBER03", secret_access_key = "emulator-member03-secret-key-not-real-0004",
              user_name = "admin" }, -- not a GuardDuty customer: Detective cannot enable it
            { id = MGMT, name = "management", email = "management@example.com",
              access_key_id = "AKIAEMULATORORGMGMT1", secret_access_key = "emulator-orgmgmt1-secret-key-not-real-0005",
              user_name = "org-admin", guardduty_since = "2025-01-01T00:00:00Z" },
        },
        roles = {
            { arn = "arn:aws:iam::" .. PROD .. ":role/DetectiveMember", trusts = { ADMIN } },
            { arn = "arn:aws:iam::" .. DEV .. ":role/DetectiveMember", trusts = { ADMIN } },
            { arn = "arn:aws:iam::" .. SANDBOX .. ":role/DetectiveMember", trusts = { ADMIN } },
            { arn = "arn:aws:iam::" .. ADMIN .. ":role/DetectiveAdministrator", trusts = { ADMIN, MGMT } },
            { arn = "arn:aws:iam::" .. ADMIN .. ":role/IncidentResponderCI", trusts = {}, web_identity = true },
        },
        organization = {
            management_account = MGMT,
            members = { ADMIN, PROD, DEV, SANDBOX },
        },
        guardduty = {
            findings = {
                finding(finding1, "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B",
                    "Unusual console logins were seen for principal alice.",
                    "Multiple worldwide successful console logins were observed for IAM user alice: "
                        .. "Seattle, US at 08:55 UTC and Sydney, AU at 09:02 UTC.",
                    8.0, "ConsoleLogin"),
                finding(finding2, "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
                    "API CreateAccessKey was invoked from a known malicious IP address.",
                    "API CreateAccessKey was invoked by IAM user alice from IP address 203.0.113.77, "
                        .. "which is on a threat list.",
                    8.0, "CreateAccessKey",
                    { additionalInfo = { type = "default", value = "{\"threatListName\":\"ProofPoint\"}" },
                      evidence = { threatIntelligenceDetails = { { threatListName = "ProofPoint", threatNames = { "Compromised host" } } } } }),
            },
        },
        investigations = {
            [alice] = {
                severity = "CRITICAL",
                indicators = {
                    { IndicatorType = "TTP_OBSERVED", IndicatorDetail = { TTPsObservedDetail = {
                        Tactic = "Persistence", Technique = "Account Manipulation", Procedure = "Additional Cloud Credentials",
                        IpAddress = "203.0.113.77", APIName = "CreateAccessKey", APISuccessCount = 2, APIFailureCount = 0 } } },
                    { IndicatorType = "IMPOSSIBLE_TRAVEL", IndicatorDetail = { ImpossibleTravelDetail = {
                        StartingIpAddress = "198.51.100.23", EndingIpAddress = "203.0.113.77",
                        StartingLocation = "Seattle, US", EndingLocation = "Sydney, AU", HourlyTimeDelta = 1 } } },
                    { IndicatorType = "FLAGGED_IP_ADDRESS", IndicatorDetail = { FlaggedIpAddressDetail = {
                        IpAddress = "203.0.113.77", Reason = "AWS_THREAT_INTELLIGENCE" } } },
                    { IndicatorType = "NEW_GEOLOCATION", IndicatorDetail = { NewGeolocationDetail = {
                        Location = "Sydney, AU", IpAddress = "203.0.113.77", IsNewForEntireAccount = true } } },
                    { IndicatorType = "NEW_ASO", IndicatorDetail = { NewAsoDetail = {
                        Aso = "AS64500 Example Hosting Pty", IsNewForEntireAccount = true } } },
                    { IndicatorType = "NEW_USER_AGENT", IndicatorDetail = { NewUserAgentDetail = {
                        UserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                        IsNewForEntireAccount = false } } },
                    { IndicatorType = "RELATED_FINDING", IndicatorDetail = { RelatedFindingDetail = {
                        Arn = "arn:aws:guardduty:us-east-1:" .. PROD .. ":detector/" .. detector .. "/finding/" .. finding2,
                        Type = "UnauthorizedAccess:IAMUser/MaliciousIPCaller", IpAddress = "203.0.113.77" } } },
                    { IndicatorType = "RELATED_FINDING_GROUP", IndicatorDetail = { RelatedFindingGroupDetail = {
                        Id = "3f0c2a7e-9b41-4d5c-8e6f-1a2b3c4d5e6f" } } },
                },
            },
        },
        settings = {},
    }
end

-- --- validation helpers ------------------------------------------------------------------

local function is_array(v)
    if type(v) ~= "table" or v == json.null then return false end
    if json.is_array(v) then return true end
    return next(v) == nil or json.is_sequence(v)
end

local function is_object(v)
    if type(v) ~= "table" or v == json.null or json.is_array(v) then return false end
    return next(v) == nil or not json.is_sequence(v)
end

local function describe(v)
    if v == json.null then return "null" end
    if type(v) == "table" then return is_array(v) and "an array" or "an object" end
    if type(v) == "string" then return string.format("%q", #v > 40 and v:sub(1, 40) .. "..." or v) end
    return tostring(v)
end

local Checker = {}
Checker.__index = Checker

function Checker:fail(path, msg)
    error("scenario " .. self.source .. ": " .. path .. ": " .. msg, 0)
end

function Checker:string(v, path, opts)
    opts = opts or {}
    if type(v) ~= "string" then self:fail(path, "expected a string, got " .. describe(v)) end
    if opts.min and #v < opts.min then self:fail(path, "must be at least " .. opts.min .. " characters") end
    if opts.max and #v > opts.max then self:fail(path, "must be at most " .. opts.max .. " characters") end
    if opts.pattern and not v:match(opts.pattern) then
        self:fail(path, (opts.what or "has an invalid format") .. ", got " .. describe(v))
    end
    return v
end

function Checker:account_id(v, path)
    return self:string(v, path, { pattern = "^%d%d%d%d%d%d%d%d%d%d%d%d$", what = "expected a 12-digit account id" })
end

function Checker:array(v, path, min)
    if not is_array(v) then self:fail(path, "expected an array, got " .. describe(v)) end
    if min and #v < min then self:fail(path, "must hold at least " .. min .. " element(s)") end
    return v
end

function Checker:object(v, path)
    if not is_object(v) then self:fail(path, "expected an object, got " .. describe(v)) end
    return v
end

function Checker:optional(v)
    return v == nil or v == json.null
end

local function distance(a, b)
    local d = {}
    for i = 0, #a do d[i] = { [0] = i } end
    for j = 0, #b do d[0][j] = j end
    for i = 1, #a do
        for j = 1, #b do
            local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
            d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        end
    end
    return d[#a][#b]
end

local TOP_KEYS = {
    "region", "accounts", "roles", "organization", "guardduty", "investigations", "settings",
    "seed", "administrator", "sts", "description", "detective", "faults",
}

local function parse_time(v)
    if type(v) == "number" then return v end
    local time = require "aws.time"
    return time.parse(v)
end

local function model_enum(service, shape)
    local ok, model = pcall(require, "aws.core.model")
    if not ok then return nil end
    local s = model.shape(service, shape)
    if not s or not s.enum then return nil end
    local set = {}
    for _, e in ipairs(s.enum) do set[e] = true end
    return set, table.concat(s.enum, ", ")
end

function Checker:validate(sc)
    if not is_object(sc) then self:fail("(top level)", "expected a JSON object, got " .. describe(sc)) end
    local known = {}
    for _, k in ipairs(TOP_KEYS) do known[k] = true end
    for k in pairs(sc) do
        if type(k) ~= "string" then self:fail("(top level)", "keys must be strings") end
        if not known[k] and k:sub(1, 1) ~= "_" then
            local best, bd = nil, 4
            for _, c in ipairs(TOP_KEYS) do
                local d = distance(k, c)
                if d < bd then best, bd = c, d end
            end
            self:fail(k, "unknown key" .. (best and (" (did you mean \"" .. best .. "\"?)") or "")
                .. "; known keys: " .. table.concat(TOP_KEYS, ", ") .. " (keys starting with _ are ignored)")
        end
    end

    if not self:optional(sc.region) then
        self:string(sc.region, "region", { pattern = "^[a-z][a-z]+%-[a-z0-9%-]*%d$", what = "expected a Region name such as us-east-1" })
    end
    if not self:optional(sc.seed) then
        if type(sc.seed) ~= "string" and math.type(sc.seed) ~= "integer" then
            self:fail("seed", "expected a string or an integer, got " .. describe(sc.seed))
        end
    end
    if not self:optional(sc.description) then self:string(sc.description, "description") end
    if not self:optional(sc.faults) then
        -- injected faults (faults.lua; docs/emulator.md "Fault injection")
        local ok, err = pcall(require("detlua.emulator.faults").parse, sc.faults)
        if not ok then self:fail("faults", tostring(err):gsub("^faults: ", "")) end
    end

    -- accounts
    self:array(sc.accounts, "accounts", 1)
    local ids, keys = {}, {}
    local function check_key(akid, secret, path)
        self:string(akid, path .. ".access_key_id", { pattern = "^[A-Z0-9]+$", min = 16, max = 128,
            what = "expected 16-128 upper-case letters and digits (like AKIA...)" })
        if akid:sub(1, 4) == "ASIA" then self:fail(path .. ".access_key_id", "ASIA... keys are reserved for temporary credentials") end
        if keys[akid] then self:fail(path .. ".access_key_id", "duplicate access key id (also at " .. keys[akid] .. ")") end
        keys[akid] = path .. ".access_key_id"
        if self:optional(secret) then self:fail(path .. ".secret_access_key", "required when access_key_id is given") end
        self:string(secret, path .. ".secret_access_key", { min = 1, max = 256 })
    end
    for i, a in ipairs(sc.accounts) do
        local p = "accounts[" .. (i - 1) .. "]"
        self:object(a, p)
        self:account_id(a.id, p .. ".id")
        if ids[a.id] then self:fail(p .. ".id", "duplicate account id " .. a.id .. " (also at " .. ids[a.id] .. ")") end
        ids[a.id] = p
        if not self:optional(a.name) then self:string(a.name, p .. ".name", { max = 50 }) end
        if not self:optional(a.email) then
            self:string(a.email, p .. ".email", { pattern = "^[^@%s]+@[^@%s]+%.[^@%s]+$", what = "expected an email address" })
        end
        if not self:optional(a.access_key_id) then check_key(a.access_key_id, a.secret_access_key, p)
        elseif not self:optional(a.secret_access_key) then self:fail(p .. ".access_key_id", "required when secret_access_key is given") end
        if not self:optional(a.user_name) then
            self:string(a.user_name, p .. ".user_name", { pattern = "^[%w+=,.@_%-]+$", max = 64, what = "expected an IAM user name" })
        end
        if not self:optional(a.keys) then
            self:array(a.keys, p .. ".keys")
            for j, k in ipairs(a.keys) do
                local kp = p .. ".keys[" .. (j - 1) .. "]"
                self:object(k, kp)
                check_key(k.access_key_id, k.secret_access_key, kp)
                if not self:optional(k.user_name) then
                    self:string(k.user_name, kp .. ".user_name", { pattern = "^[%w+=,.@_%-]+$", max = 64, what = "expected an IAM user name" })
                end
            end
        end
        local g = a.guardduty_since
        if not self:optional(g) and g ~= true and g ~= false then
            if type(g) == "string" then
                if not parse_time(g) then self:fail(p .. ".guardduty_since", "expected an ISO 8601 time such as 2026-01-01T00:00:00Z, got " .. describe(g)) end
            elseif type(g) ~= "number" then
                self:fail(p .. ".guardduty_since", "expected an ISO 8601 time, epoch seconds, true or false, got " .. describe(g))
            end
        end
    end
    if not self:optional(sc.administrator) then
        self:account_id(sc.administrator, "administrator")
        if not ids[sc.administrator] then self:fail("administrator", "account " .. sc.administrator .. " is not in accounts") end
    end
    do
        -- the administrator's keys are what `detlua run --local` signs with
        local admin_id = self:optional(sc.administrator) and sc.accounts[1].id or sc.administrator
        local p = ids[admin_id]
        for _, a in ipairs(sc.accounts) do
            if a.id == admin_id and self:optional(a.access_key_id) then
                self:fail(p .. ".access_key_id", "the administrator account (" .. admin_id .. ") needs access_key_id and secret_access_key"
                    .. (self:optional(sc.administrator) and " (the first account is the administrator unless \"administrator\" names another)" or ""))
            end
        end
    end

    -- roles
    if not self:optional(sc.roles) then
        self:array(sc.roles, "roles")
        local arns = {}
        for i, r in ipairs(sc.roles) do
            local p = "roles[" .. (i - 1) .. "]"
            self:object(r, p)
            self:string(r.arn, p .. ".arn", { pattern = "^arn:aws[%w%-]*:iam::%d%d%d%d%d%d%d%d%d%d%d%d:role/[%w+=,.@_%-/]+$",
                what = "expected a role ARN such as arn:aws:iam::444455556666:role/DetectiveMember" })
            local name = r.arn:match("([^/]+)$")
            if #name > 64 then self:fail(p .. ".arn", "role name longer than 64 characters") end
            if arns[r.arn] then self:fail(p .. ".arn", "duplicate role (also at " .. arns[r.arn] .. ")") end
            arns[r.arn] = p
            if self:optional(r.trusts) then self:fail(p .. ".trusts", "required: the account ids allowed to assume the role (may be [])") end
            self:array(r.trusts, p .. ".trusts")
            for j, t in ipairs(r.trusts) do self:account_id(t, p .. ".trusts[" .. (j - 1) .. "]") end
            if not self:optional(r.max_session_duration) then
                local v = r.max_session_duration
                if math.type(v) ~= "integer" or v < 3600 or v > 43200 then
                    self:fail(p .. ".max_session_duration", "expected an integer 3600-43200 (seconds), got " .. describe(v))
                end
            end
            if not self:optional(r.external_id) then self:string(r.external_id, p .. ".external_id", { min = 2, max = 1224 }) end
            if not self:optional(r.web_identity) and type(r.web_identity) ~= "boolean" then
                self:fail(p .. ".web_identity", "expected true or false, got " .. describe(r.web_identity))
            end
            if not self:optional(r.web_identity_subjects) then
                self:array(r.web_identity_subjects, p .. ".web_identity_subjects")
                for j, s in ipairs(r.web_identity_subjects) do self:string(s, p .. ".web_identity_subjects[" .. (j - 1) .. "]", { min = 1 }) end
            end
        end
    end

    -- organization
    if not self:optional(sc.organization) then
        local o = self:object(sc.organization, "organization")
        self:account_id(o.management_account, "organization.management_account")
        for _, key in ipairs({ "members", "accounts" }) do
            if not self:optional(o[key]) then
                self:array(o[key], "organization." .. key)
                for j, m in ipairs(o[key]) do self:account_id(m, "organization." .. key .. "[" .. (j - 1) .. "]") end
            end
        end
    end

    -- sts
    if not self:optional(sc.sts) then
        local s = self:object(sc.sts, "sts")
        if not self:optional(s.web_identity_subjects) then
            self:array(s.web_identity_subjects, "sts.web_identity_subjects")
            for j, v in ipairs(s.web_identity_subjects) do self:string(v, "sts.web_identity_subjects[" .. (j - 1) .. "]", { min = 1 }) end
        end
    end

    -- guardduty
    if not self:optional(sc.guardduty) then
        local g = self:object(sc.guardduty, "guardduty")
        if not self:optional(g.findings) then
            self:array(g.findings, "guardduty.findings")
            local seen = {}
            for i, f in ipairs(g.findings) do
                local p = "guardduty.findings[" .. (i - 1) .. "]"
                self:object(f, p)
                self:account_id(f.accountId, p .. ".accountId")
                self:string(f.type, p .. ".type", { min = 1, max = 100 })
                if not self:optional(f.id) then
                    self:string(f.id, p .. ".id", { min = 1, max = 300 })
                    if seen[f.id] then self:fail(p .. ".id", "duplicate finding id (also at " .. seen[f.id] .. ")") end
                    seen[f.id] = p
                end
                if not self:optional(f.severity) and type(f.severity) ~= "number" then
                    self:fail(p .. ".severity", "expected a number, got " .. describe(f.severity))
                end
            end
        end
    end

    -- investigations: an object keyed by entity ARN, or an array of entries with entity_arn
    if not self:optional(sc.investigations) then
        local inv = sc.investigations
        local entries = {}
        if json.is_array(inv) or (is_array(inv) and next(inv) ~= nil) then
            for i, e in ipairs(inv) do
                local p = "investigations[" .. (i - 1) .. "]"
                self:object(e, p)
                self:string(e.entity_arn or e.EntityArn, p .. ".entity_arn", { pattern = "^arn:", what = "expected an ARN" })
                entries[#entries + 1] = { p, e }
            end
        else
            self:object(inv, "investigations")
            local arns = {}
            for k in pairs(inv) do arns[#arns + 1] = k end
            table.sort(arns)
            for _, k in ipairs(arns) do
                local p = "investigations[" .. string.format("%q", k) .. "]"
                if not k:match("^arn:") then self:fail(p, "keys must be entity ARNs (arn:...)") end
                self:object(inv[k], p)
                entries[#entries + 1] = { p, inv[k] }
            end
        end
        local severities, sev_list = model_enum("detective", "Severity")
        local types, type_list = model_enum("detective", "IndicatorType")
        local details = {}
        do
            local ok, model = pcall(require, "aws.core.model")
            local s = ok and model.shape("detective", "IndicatorDetail")
            for _, m in ipairs(s and s.members or {}) do details[m.name] = true end
        end
        for _, pe in ipairs(entries) do
            local p, e = pe[1], pe[2]
            if not self:optional(e.severity) then
                self:string(e.severity, p .. ".severity")
                if severities and not severities[e.severity] then self:fail(p .. ".severity", "expected one of " .. sev_list .. ", got " .. describe(e.severity)) end
            end
            if not self:optional(e.indicators) then
                self:array(e.indicators, p .. ".indicators")
                for j, ind in ipairs(e.indicators) do
                    local ip = p .. ".indicators[" .. (j - 1) .. "]"
                    self:object(ind, ip)
                    self:string(ind.IndicatorType, ip .. ".IndicatorType")
                    if types and not types[ind.IndicatorType] then
                        self:fail(ip .. ".IndicatorType", "expected one of " .. type_list .. ", got " .. describe(ind.IndicatorType))
                    end
                    if not self:optional(ind.IndicatorDetail) then
                        self:object(ind.IndicatorDetail, ip .. ".IndicatorDetail")
                        if next(details) then
                            for k in pairs(ind.IndicatorDetail) do
                                if not details[k] then self:fail(ip .. ".IndicatorDetail." .. tostring(k), "not a member of IndicatorDetail") end
                            end
                        end
                    end
                end
            end
        end
    end

    -- settings
    if not self:optional(sc.settings) then
        self:object(sc.settings, "settings")
        for k, v in pairs(sc.settings) do self:object(v, "settings." .. tostring(k)) end
    end
    for _, svc in ipairs({ "detective" }) do
        if not self:optional(sc[svc]) then self:object(sc[svc], svc) end
    end
end

local function deep_copy(v)
    if type(v) ~= "table" then return v end
    local out = {}
    for k, x in pairs(v) do out[k] = deep_copy(x) end
    return out
end

-- Fills defaults into a validated scenario (plain tables).
local function normalize(sc)
    sc.region = sc.region or "us-east-1"
    sc.administrator = sc.administrator or sc.accounts[1].id
    sc.roles = sc.roles or {}
    sc.settings = sc.settings or {}
    sc.guardduty = sc.guardduty or {}
    sc.guardduty.findings = sc.guardduty.findings or {}
    sc.investigations = sc.investigations or {}
    sc.sts = sc.sts or {}
    local o = sc.organization
    if o then
        -- "members" is the documented key; "accounts" is accepted as an alias. Both name
        -- the same list afterwards.
        local list, seen = {}, {}
        for _, key in ipairs({ "members", "accounts" }) do
            for _, id in ipairs(o[key] or {}) do
                if not seen[id] then
                    seen[id] = true
                    list[#list + 1] = id
                end
            end
        end
        o.members, o.accounts = list, list
    end
    return sc
end

-- validate(tbl, source) -> normalized copy (raises "scenario <source>: <path>: <message>")
function M.validate(tbl, source)
    local c = setmetatable({ source = source or "(table)" }, Checker)
    c:validate(tbl)
    return normalize(json.plain(tbl))
end

function M.default()
    return M.validate(default_scenario(), "(built-in)")
end

-- The built-in scenario as a raw table (not normalized), e.g. to write it out as JSON.
function M.default_raw()
    return default_scenario()
end

function M.decode(text, source)
    local doc, err = json.decode(text, 200)
    if doc == nil then error("scenario " .. source .. ": not valid JSON: " .. err, 0) end
    return M.validate(doc, source)
end

function M.load(path)
    local f, err = io.open(path, "rb")
    if not f then error("scenario " .. path .. ": cannot open: " .. tostring(err), 0) end
    local text = f:read("a")
    f:close()
    return M.decode(text or "", path)
end

-- from_options{scenario = path, scenario_table = tbl, region = r, settings = {...}}:
-- the scenario the emulator runs with (file, table, or the built-in one), with the
-- region and settings overrides applied.
function M.from_options(opts)
    local sc
    if opts.scenario_table ~= nil then
        sc = M.validate(deep_copy(opts.scenario_table), "(scenario_table)")
    elseif opts.scenario ~= nil then
        sc = M.load(opts.scenario)
    else
        sc = M.default()
    end
    if opts.region ~= nil then
        if type(opts.region) ~= "string" or not opts.region:match("^[a-z][a-z]+%-[a-z0-9%-]*%d$") then
            error("region: expected a Region name such as us-east-1, got " .. tostring(opts.region), 0)
        end
        sc.region = opts.region
    end
    if opts.settings ~= nil then
        if type(opts.settings) ~= "table" then error("settings: expected a table", 0) end
        for svc, t in pairs(opts.settings) do
            if type(t) ~= "table" then error("settings." .. tostring(svc) .. ": expected a table", 0) end
            sc.settings[svc] = sc.settings[svc] or {}
            for k, v in pairs(t) do sc.settings[svc][k] = v end
        end
    end
    return sc
end

return M
