-- emulator_guardduty_spec.lua: the GuardDuty emulator module driven directly through S:handle
-- (no HTTP, no router). The world (built here) and the errors module (detective_world's) are
-- small fakes to the emulator contract (docs: /work/notes/emulator-contract.md), injected
-- through package.loaded.
-- Oracles: the GuardDuty service model (aws.core.model: shapes, member names, required members,
-- enums, error statuses) and the semantics reference §1.2/§8 (the real-capture error text, the
-- criteria fields and operators, paging limits, archive permission, sample marking).
local model = require("aws.core.model")
local json = require("aws.json")
local time = require("aws.time")
local tables = require("tables")

---------------------------------------------------------------------------------------------
-- Fakes: errors module (the emulator contract's, shared with the Detective specs) and world.

local FakeE = require("detective_world").E

local function load_module()
    for _, name in ipairs({ "detlua.emulator.errors", "detlua.emulator.guardduty",
        "detlua.emulator.guardduty_store", "detlua.emulator.guardduty_findings",
        "detlua.emulator.guardduty_samples" }) do
        package.loaded[name] = nil
    end
    package.loaded["detlua.emulator.errors"] = FakeE
    return require("detlua.emulator.guardduty")
end
local GD = load_module()

local function new_world(scenario)
    local w = { data = {}, scenario = scenario or {}, dirty = 0, rng = 0 }
    function w:setting(service, name, default)
        local s = self.scenario.settings and self.scenario.settings[service]
        if s and s[name] ~= nil then return s[name] end
        return default
    end
    function w:random_hex(n)
        self.rng = self.rng + 1
        return string.format("%0" .. n .. "x", self.rng * 7919)
    end
    function w:random_digits(n)
        self.rng = self.rng + 1
        return string.format("%0" .. n .. "d", self.rng)
    end
    function w:mark_dirty() self.dirty = self.dirty + 1 end
    function w:account(id)
        for _, a in ipairs(self.scenario.accounts or {}) do
            if a.id == id then return a end
        end
        return nil
    end
    function w:org() return self.scenario.organization end
    return w
end

---------------------------------------------------------------------------------------------
-- Scenario used by most tests.

local NOW = 1717243200 -- 2024-06-01T12:00:00Z
local DAY = 86400
local MGMT, SEC, WL1, WL2, NOGD, OUT =
    "111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666"
local ID_A, ID_B, ID_C, ID_E, ID_F =
    ("a"):rep(32), ("b"):rep(32), ("c"):rep(32), ("e"):rep(32), ("f"):rep(32)

local function iso(t) return time.format(t, { ms = true }) end
local function ms(s) return math.floor(time.parse(s) * 1000) end

local function scenario_findings()
    return {
        { -- A: compromised IAM user, API call from a flagged IP
            id = ID_A, accountId = WL1, region = "us-east-1",
            type = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
            severity = 8, confidence = 9,
            createdAt = "2024-05-30T09:00:00.000Z", updatedAt = "2024-05-30T10:00:00.000Z",
            resource = {
                resourceType = "AccessKey",
                accessKeyDetails = { accessKeyId = "ASIAEXAMPLEA", principalId = "AIDAEXAMPLEA",
                    userName = "alice", userType = "IAMUser" },
            },
            service = {
                action = { actionType = "AWS_API_CALL", awsApiCallAction = {
                    api = "ListBuckets", callerType = "Remote IP", serviceName = "s3.amazonaws.com",
                    remoteIpDetails = { ipAddressV4 = "198.51.100.7", city = { cityName = "Sydney" },
                        country = { countryName = "Australia" },
                        organization = { asn = "64501", asnOrg = "EXAMPLE-AS" } },
                } },
                additionalInfo = { value = "{\"threatListName\":\"ProofPointList\"}", type = "default" },
                resourceRole = "TARGET",
            },
        },
        { -- B: EC2 instance talking to a C&C server
            id = ID_B, accountId = WL2, region = "us-east-1", type = "Backdoor:EC2/C&CActivity.B",
            severity = 5.5, confidence = 5,
            createdAt = "2024-05-31T09:00:00.000Z", updatedAt = "2024-05-31T10:00:00.000Z",
            resource = {
                resourceType = "Instance",
                instanceDetails = {
                    iamInstanceProfile = { id = "AIPAEXAMPLEB" }, imageId = "ami-0b", instanceId = "i-0b",
                    networkInterfaces = { {
                        ipv6Addresses = { "2001:db8::b" },
                        privateIpAddresses = { { privateIpAddress = "10.0.0.11" } },
                        publicDnsName = "ec2-b.example.com", publicIp = "203.0.113.11",
                        securityGroups = { { groupId = "sg-0b", groupName = "web" } },
                        subnetId = "subnet-0b", vpcId = "vpc-0b",
                    } },
                    tags = { { key = "Team", value = "blue" } },
                },
            },
            service = {
                action = { actionType = "NETWORK_CONNECTION", networkConnectionAction = {
                    blocked = false, connectionDirection = "OUTBOUND", localPortDetails = { port = 49152 },
                    protocol = "TCP", remotePortDetails = { port = 443 },
                    remoteIpDetails = { ipAddressV4 = "203.0.113.99", country = { countryName = "Nowhere" },
                        organization = { asn = "64502", asnOrg = "BAD-AS" } },
                } },
                ebsVolumeScanDetails = { scanId = "scan-b" },
                resourceRole = "ACTOR", archived = false,
            },
        },
        { -- C: archived DNS finding
            id = ID_C, accountId = WL1, region = "us-east-1", type = "CryptoCurrency:EC2/BitcoinTool.B!DNS",
            severity = 2, createdAt = "2024-05-29T09:00:00.000Z", updatedAt = "2024-05-29T10:00:00.000Z",
            resource = { resourceType = "Instance" },
            service = { archived = true, resourceRole = "TARGET", action = { actionType = "DNS_REQUEST",
                dnsRequestAction = { domain = "pool.example.org", domainWithSuffix = "example.org" } } },
        },
        { -- D: the security account's own finding, with only the essentials
            accountId = SEC, type = "Recon:IAMUser/MaliciousIPCaller", severity = 5,
            resource = { resourceType = "AccessKey" },
        },
        { -- E: a standalone account outside the organization
            id = ID_E, accountId = OUT, region = "us-east-1", type = "Policy:IAMUser/RootCredentialUsage",
            severity = 2, createdAt = "2024-05-20T00:00:00Z", updatedAt = "2024-05-20T00:00:00Z",
            resource = { resourceType = "AccessKey" },
        },
        { -- F: another Region
            id = ID_F, accountId = WL1, region = "eu-west-1", type = "Backdoor:EC2/C&CActivity.B",
            severity = 8, createdAt = "2024-05-20T00:00:00Z", updatedAt = "2024-05-20T00:00:00Z",
            resource = { resourceType = "Instance" },
        },
    }
end

local function base_scenario(extra)
    local sc = {
        region = "us-east-1",
        accounts = {
            { id = MGMT, email = "mgmt@example.com" },
            { id = SEC, email = "security@example.com", guardduty_since = iso(NOW - 100 * DAY) },
            { id = WL1, email = "wl1@example.com", guardduty_since = iso(NOW - 10 * DAY) },
            { id = WL2, email = "wl2@example.com", guardduty_since = NOW - 100 * DAY },
            { id = NOGD, email = "nogd@example.com" },
            { id = OUT, email = "out@example.com", guardduty_since = iso(NOW - 40 * DAY) },
        },
        administrator = SEC,
        organization = { management_account = MGMT, members = { SEC, WL1, WL2, NOGD } },
        guardduty = { findings = scenario_findings() },
    }
    for k, v in pairs(extra or {}) do sc[k] = v end
    return sc
end

---------------------------------------------------------------------------------------------
-- Helpers.

local function ctx(account, region, now)
    return { account = account, principal_arn = "arn:aws:iam::" .. account .. ":user/tester",
        region = region or "us-east-1", request_id = "req-1", now = now or NOW, service = "guardduty" }
end

local function new_gd(scenario)
    local world = new_world(scenario or base_scenario())
    return GD.new(world), world
end

local function call(gd, account, op, input, opts)
    opts = opts or {}
    return gd:handle(ctx(account, opts.region, opts.now), op, input or {})
end

local function fail(gd, account, op, input, opts)
    local ok, e = pcall(call, gd, account, op, input, opts)
    assert.is_false(ok, op .. " was expected to fail")
    assert.is_true(FakeE.is_error(e), "not an emulator error: " .. tostring(e))
    return e
end

-- HTTP status the router would send: opts.status, else the model's error shape.
local function status_of(e)
    if e.opts.status then return e.opts.status end
    local sh = model.shape("guardduty", e.code)
    return sh and sh.error_status
end

local function assert_bad_request(e, pattern)
    assert.equal("BadRequestException", e.code)
    assert.equal(400, status_of(e))
    assert.equal("InvalidInputException", e.opts.type)
    if pattern then assert.matches(pattern, e.message) end
end

local function detector(gd, account, opts)
    local out = call(gd, account, "ListDetectors", {}, opts)
    return out.DetectorIds[1]
end

local sorted = tables.sorted

-- Checks `v` against model shape `shape_name`: every key a member (model name), required
-- members present, scalar types and enums right. Returns a list of problems.
local function conform(shape_name, v, path, errs)
    errs = errs or {}
    path = path or shape_name
    local sh = model.shape("guardduty", shape_name)
    if not sh then
        errs[#errs + 1] = path .. ": unknown shape " .. tostring(shape_name)
        return errs
    end
    local t = sh.type
    if t == "structure" then
        if type(v) ~= "table" then
            errs[#errs + 1] = path .. ": expected a structure"
            return errs
        end
        for k, x in pairs(v) do
            local idx = sh.member_index[k]
            if not idx then
                errs[#errs + 1] = path .. "." .. tostring(k) .. ": not a member of " .. shape_name
            else
                conform(sh.members[idx].shape, x, path .. "." .. k, errs)
            end
        end
        for _, m in ipairs(sh.members) do
            if m.required and v[m.name] == nil then errs[#errs + 1] = path .. "." .. m.name .. ": required" end
        end
    elseif t == "list" then
        if type(v) ~= "table" then
            errs[#errs + 1] = path .. ": expected a list"
            return errs
        end
        for k in pairs(v) do
            if math.type(k) ~= "integer" then errs[#errs + 1] = path .. ": list with key " .. tostring(k) end
        end
        for i, x in ipairs(v) do conform(sh.member, x, path .. "[" .. i .. "]", errs) end
    elseif t == "map" then
        for k, x in pairs(v) do conform(sh.value, x, path .. "." .. tostring(k), errs) end
    elseif t == "string" then
        if type(v) ~= "string" then
            errs[#errs + 1] = path .. ": expected a string, got " .. type(v)
        elseif sh.enum then
            local ok = false
            for _, e in ipairs(sh.enum) do ok = ok or e == v end
            if not ok then errs[#errs + 1] = path .. ": " .. v .. " not in enum " .. shape_name end
        end
    elseif t == "integer" or t == "long" then
        if math.type(v) ~= "integer" then errs[#errs + 1] = path .. ": expected an integer" end
    elseif t == "double" or t == "float" then
        if type(v) ~= "number" then errs[#errs + 1] = path .. ": expected a number" end
    elseif t == "boolean" then
        if type(v) ~= "boolean" then errs[#errs + 1] = path .. ": expected a boolean" end
    elseif t == "timestamp" then
        if type(v) ~= "number" then errs[#errs + 1] = path .. ": expected epoch seconds" end
    end
    return errs
end

local function assert_output(op, out)
    local o = model.operation("guardduty", op)
    assert.same({}, conform(o.output, out))
end

local ISO_MS = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"

---------------------------------------------------------------------------------------------

describe("emulator GuardDuty", function()
    describe("detectors", function()
        it("CreateDetector returns a 32-hex id, GetDetector describes it with the feature defaults", function()
            local gd = new_gd()
            local out = call(gd, MGMT, "CreateDetector", { Enable = true, FindingPublishingFrequency = "ONE_HOUR",
                Tags = { team = "sec" } })
            assert_output("CreateDetector", out)
            assert.matches("^" .. ("%x"):rep(32) .. "$", out.DetectorId)
            assert.is_nil(out.DetectorId:find("[A-F]"))
            local d = call(gd, MGMT, "GetDetector", { DetectorId = out.DetectorId })
            assert_output("GetDetector", d)
            assert.equal("ENABLED", d.Status)
            assert.equal("ONE_HOUR", d.FindingPublishingFrequency)
            assert.same({ team = "sec" }, d.Tags)
            assert.matches(ISO_MS, d.CreatedAt)
            assert.matches(ISO_MS, d.UpdatedAt)
            assert.equal(NOW, time.parse(d.CreatedAt))
            assert.matches("^arn:aws:iam::" .. MGMT .. ":role/", d.ServiceRole)
            -- §8: every optional feature on by default except RUNTIME_MONITORING.
            local by = {}
            for _, f in ipairs(d.Features) do by[f.Name] = f.Status end
            for _, name in ipairs(model.shape("guardduty", "DetectorFeature").enum) do
                local want = name == "RUNTIME_MONITORING" and "DISABLED" or "ENABLED"
                assert.equal(want, by[name], name)
            end
            assert.equal("ENABLED", d.DataSources.CloudTrail.Status)
            assert.equal("ENABLED", d.DataSources.S3Logs.Status)
        end)

        it("honours Enable=false, Features and the deprecated DataSources", function()
            local gd = new_gd()
            local id = call(gd, MGMT, "CreateDetector", {
                Enable = false,
                DataSources = { S3Logs = { Enable = false } },
                Features = { { Name = "RUNTIME_MONITORING", Status = "ENABLED",
                    AdditionalConfiguration = { { Name = "EC2_AGENT_MANAGEMENT", Status = "ENABLED" } } } },
            }).DetectorId
            local d = call(gd, MGMT, "GetDetector", { DetectorId = id })
            assert.equal("DISABLED", d.Status)
            local by = {}
            for _, f in ipairs(d.Features) do by[f.Name] = f end
            assert.equal("DISABLED", by.S3_DATA_EVENTS.Status)
            assert.equal("DISABLED", d.DataSources.S3Logs.Status)
            assert.equal("ENABLED", by.RUNTIME_MONITORING.Status)
            local ec2
            for _, a in ipairs(by.RUNTIME_MONITORING.AdditionalConfiguration) do
                if a.Name == "EC2_AGENT_MANAGEMENT" then ec2 = a.Status end
            end
            assert.equal("ENABLED", ec2)
        end)

        it("allows one detector per account and Region", function()
            local gd = new_gd()
            local first = call(gd, MGMT, "CreateDetector", { Enable = true, ClientToken = "tok-1" }).DetectorId
            -- the same idempotency token gives the same detector back
            assert.equal(first, call(gd, MGMT, "CreateDetector", { Enable = true, ClientToken = "tok-1" }).DetectorId)
            local e = fail(gd, MGMT, "CreateDetector", { Enable = true, ClientToken = "tok-2" })
            assert_bad_request(e, "already exists")
            assert.equal("InvalidInputException", e.fields.Type)
            -- another Region is another detector
            local other = call(gd, MGMT, "CreateDetector", { Enable = true }, { region = "eu-west-1" }).DetectorId
            assert.are_not.equal(first, other)
            -- a scenario GuardDuty customer already has one
            assert_bad_request(fail(gd, WL1, "CreateDetector", { Enable = true }), "already exists")
        end)

        it("rejects EKS_RUNTIME_MONITORING together with RUNTIME_MONITORING", function()
            local gd = new_gd()
            assert_bad_request(fail(gd, MGMT, "CreateDetector", { Enable = true, Features = {
                { Name = "EKS_RUNTIME_MONITORING", Status = "ENABLED" },
                { Name = "RUNTIME_MONITORING", Status = "ENABLED" } } }))
        end)

        it("ListDetectors lists the caller's detector in the Region, with paging", function()
            local gd = new_gd()
            local none = call(gd, MGMT, "ListDetectors", {})
            assert_output("ListDetectors", none)
            assert.same({}, none.DetectorIds)
            assert.is_nil(none.NextToken)
            local id = call(gd, MGMT, "CreateDetector", { Enable = true }).DetectorId
            local out = call(gd, MGMT, "ListDetectors", { MaxResults = 1 })
            assert.same({ id }, out.DetectorIds)
            assert.is_nil(out.NextToken)
            assert.same({}, call(gd, MGMT, "ListDetectors", {}, { region = "ap-southeast-2" }).DetectorIds)
            assert_bad_request(fail(gd, MGMT, "ListDetectors", { NextToken = "garbage" }), "nextToken")
        end)

        it("gives scenario GuardDuty customers a detector from guardduty_since, not before", function()
            local gd = new_gd()
            local id = detector(gd, WL1)
            assert.matches("^" .. ("%x"):rep(32) .. "$", id)
            assert.equal(NOW - 10 * DAY, time.parse(call(gd, WL1, "GetDetector", { DetectorId = id }).CreatedAt))
            assert.equal(id, detector(gd, WL1)) -- stable
            -- deterministic: a fresh world gives the same id
            assert.equal(id, detector(new_gd(), WL1))
            -- guardduty_since in the future: not yet (findings would imply one, so none here)
            local gd2 = new_gd(base_scenario({ guardduty = {} }))
            assert.is_nil(detector(gd2, OUT, { now = NOW - 50 * DAY }))
            assert.is_string(detector(gd2, OUT, { now = NOW - 30 * DAY }))
            assert.is_nil(detector(gd2, NOGD))
        end)

        it("answers the real-capture 400 for a detector id that is not the caller's", function()
            local gd = new_gd()
            local other = detector(gd, WL2)
            local ops = {
                { "GetDetector", {} }, { "ListFindings", {} }, { "GetFindings", { FindingIds = {} } },
                { "ArchiveFindings", { FindingIds = {} } }, { "UnarchiveFindings", { FindingIds = {} } },
                { "CreateSampleFindings", {} }, { "GetAdministratorAccount", {} },
                { "AcceptAdministratorInvitation", { AdministratorId = SEC, InvitationId = "x" } },
                { "DisassociateFromAdministratorAccount", {} }, { "GetMembers", { AccountIds = { WL1 } } },
                { "ListMembers", {} }, { "GetRemainingFreeTrialDays", { AccountIds = { WL1 } } },
            }
            for _, case in ipairs(ops) do
                for _, bad in ipairs({ "mygooddetectorid", other }) do
                    local input = {}
                    for k, v in pairs(case[2]) do input[k] = v end
                    input.DetectorId = bad
                    local e = fail(gd, WL1, case[1], input)
                    assert_bad_request(e)
                    assert.equal("The request is rejected because the parameter detectorId has an invalid value.",
                        e.message, case[1])
                end
            end
            -- an account without GuardDuty has no detector at all
            local e = fail(gd, NOGD, "GetDetector", { DetectorId = other })
            assert.equal("The request is rejected because the parameter detectorId has an invalid value.", e.message)
        end)
    end)

    describe("scenario findings", function()
        it("are converted from wire names to model names and completed", function()
            local gd = new_gd()
            local det = detector(gd, SEC)
            local ids = call(gd, SEC, "ListFindings", { DetectorId = det,
                FindingCriteria = { Criterion = { type = { Equals = { "Recon:IAMUser/MaliciousIPCaller" } } } } })
                .FindingIds
            assert.equal(1, #ids)
            local out = call(gd, SEC, "GetFindings", { DetectorId = det, FindingIds = ids })
            assert_output("GetFindings", out)
            local f = out.Findings[1]
            assert.matches("^" .. ("%x"):rep(32) .. "$", f.Id)
            assert.equal(SEC, f.AccountId)
            assert.equal("us-east-1", f.Region)
            assert.equal("aws", f.Partition)
            assert.equal("2.0", f.SchemaVersion)
            assert.equal("arn:aws:guardduty:us-east-1:" .. SEC .. ":detector/" .. det .. "/finding/" .. f.Id, f.Arn)
            assert.equal(det, f.Service.DetectorId)
            assert.matches(ISO_MS, f.CreatedAt)
            assert.matches(ISO_MS, f.UpdatedAt)
            assert.is_false(f.Service.Archived)
            assert.equal(5, f.Severity)
        end)

        it("keep what the scenario gives, in model member names", function()
            local gd = new_gd()
            local det = detector(gd, SEC)
            local f = call(gd, SEC, "GetFindings", { DetectorId = det, FindingIds = { ID_A, ID_B } }).Findings
            assert.equal(2, #f)
            local a = f[1].Id == ID_A and f[1] or f[2]
            local b = f[1].Id == ID_B and f[1] or f[2]
            assert.same({}, conform("Finding", a))
            assert.same({}, conform("Finding", b))
            assert.equal("alice", a.Resource.AccessKeyDetails.UserName)
            assert.equal("198.51.100.7", a.Service.Action.AwsApiCallAction.RemoteIpDetails.IpAddressV4)
            assert.equal("2024-05-30T10:00:00.000Z", a.UpdatedAt)
            assert.equal("blue", b.Resource.InstanceDetails.Tags[1].Value)
            assert.equal(443, b.Service.Action.NetworkConnectionAction.RemotePortDetails.Port)
            -- a member's finding carries the member's detector
            assert.equal(detector(gd, WL2), b.Service.DetectorId)
            assert.equal("arn:aws:guardduty:us-east-1:" .. WL2 .. ":detector/" .. detector(gd, WL2) ..
                "/finding/" .. ID_B, b.Arn)
        end)

        it("accept additionalInfo written as a free object", function()
            local sc = base_scenario()
            sc.guardduty.findings = { { id = ID_A, accountId = WL1, type = "Recon:IAMUser/MaliciousIPCaller",
                severity = 5, resource = { resourceType = "AccessKey" },
                service = { additionalInfo = { threatListName = "ListX", sample = false } } } }
            local gd = new_gd(sc)
            local det = detector(gd, WL1)
            local f = call(gd, WL1, "GetFindings", { DetectorId = det, FindingIds = { ID_A } }).Findings[1]
            assert.same({}, conform("Finding", f))
            assert.equal("ListX", json.decode(f.Service.AdditionalInfo.Value).threatListName)
            assert.same({ ID_A }, call(gd, WL1, "ListFindings", { DetectorId = det, FindingCriteria = { Criterion = {
                ["service.additionalInfo.threatListName"] = { Equals = { "ListX" } } } } }).FindingIds)
        end)

        it("give the account's detector the id a finding names", function()
            local sc = base_scenario()
            local det = ("d"):rep(32)
            sc.guardduty.findings = {
                { accountId = WL2, type = "Recon:IAMUser/MaliciousIPCaller", severity = 5,
                    service = { detectorId = det } },
                { accountId = WL1, type = "Recon:IAMUser/MaliciousIPCaller", severity = 5,
                    arn = "arn:aws:guardduty:us-east-1:" .. WL1 .. ":detector/" .. ("9"):rep(32) .. "/finding/x1" },
            }
            local gd = new_gd(sc)
            assert.equal(det, detector(gd, WL2))
            assert.equal(("9"):rep(32), detector(gd, WL1))
            local f = call(gd, WL1, "GetFindings", { DetectorId = ("9"):rep(32), FindingIds = { "x1" } }).Findings[1]
            assert.equal("x1", f.Id)
            assert.equal(("9"):rep(32), f.Service.DetectorId)
        end)

        it("can be added through the add_findings fixture hook, JSON nulls and all", function()
            local gd, world = new_gd()
            local ok, wire = pcall(require, "detlua.emulator.wire_json")
            local decode = ok and wire.decode or json.decode
            local body = decode('{"account": "' .. OUT .. '", "findings": [{"id": "fx1", "type": ' ..
                '"Recon:IAMUser/MaliciousIPCaller", "severity": 3, "title": null, ' ..
                '"resource": {"resourceType": "AccessKey", "accessKeyDetails": {"userName": "bob"}}}]}')
            local before = world.dirty
            local out = gd:admin(ctx(OUT), "add_findings", body)
            assert.same({ "fx1" }, out.findingIds)
            assert.is_true(world.dirty > before)
            local det = detector(gd, OUT)
            local f = call(gd, OUT, "GetFindings", { DetectorId = det, FindingIds = { "fx1" } }).Findings[1]
            assert.same({}, conform("Finding", f))
            assert.equal("bob", f.Resource.AccessKeyDetails.UserName)
            -- same id again replaces it
            gd:admin(ctx(OUT), "add_findings", { findings = { { id = "fx1", type = "Recon:IAMUser/MaliciousIPCaller",
                severity = 7, resource = { resourceType = "AccessKey" } } }, account = OUT })
            local again = call(gd, OUT, "GetFindings", { DetectorId = det, FindingIds = { "fx1" } }).Findings
            assert.equal(1, #again)
            assert.equal(7, again[1].Severity)
            assert_bad_request(select(2, pcall(gd.admin, gd, ctx(OUT), "add_findings",
                { findings = { { type = "X:Y/Z", nope = 1 } }, account = OUT })), "nope")
            assert_bad_request(select(2, pcall(gd.admin, gd, ctx(OUT), "no_such_action", {})), "no_such_action")
        end)

        it("report a bad scenario finding with its path", function()
            local sc = base_scenario()
            sc.guardduty.findings = { { accountId = WL1, type = "X:Y/Z", severity = 1,
                resource = { resourceType = "AccessKey", bogusField = 1 } } }
            local gd = new_gd(sc)
            local e = fail(gd, WL1, "ListDetectors", {})
            assert.equal("InternalServerErrorException", e.code)
            assert.equal(500, status_of(e))
            assert.matches("guardduty.findings[0].resource.bogusField", e.message, 1, true) -- 0-based, like the loader
            sc.guardduty.findings = { { type = "X:Y/Z", severity = 1 } }
            assert.matches("accountId", fail(new_gd(sc), WL1, "ListDetectors", {}).message)
        end)
    end)

    describe("ListFindings", function()
        local gd, det
        before_each(function()
            gd = new_gd()
            det = detector(gd, SEC)
        end)

        local function list(criterion, extra)
            local input = { DetectorId = det, FindingCriteria = criterion and { Criterion = criterion } or nil }
            for k, v in pairs(extra or {}) do input[k] = v end
            local out = call(gd, SEC, "ListFindings", input)
            assert_output("ListFindings", out)
            return out.FindingIds
        end

        local function d_id()
            return list({ accountId = { Equals = { SEC } } })[1]
        end

        it("lists the administrator's and its members' findings of this Region, archived included", function()
            local all = list(nil)
            assert.same(sorted({ ID_A, ID_B, ID_C, d_id() }), sorted(all))
            -- a member sees only its own; a standalone account only its own
            local wl1 = call(gd, WL1, "ListFindings", { DetectorId = detector(gd, WL1) }).FindingIds
            assert.same(sorted({ ID_A, ID_C }), sorted(wl1))
            assert.same({ ID_E }, call(gd, OUT, "ListFindings", { DetectorId = detector(gd, OUT) }).FindingIds)
            -- another Region has its own findings
            local eu = detector(gd, WL1, { region = "eu-west-1" })
            assert.same({ ID_F }, call(gd, WL1, "ListFindings", { DetectorId = eu }, { region = "eu-west-1" })
                .FindingIds)
        end)

        it("matches every documented criterion field", function()
            local D = d_id()
            local A, B, C = ID_A, ID_B, ID_C
            local cases = {
                { "accountId", { Equals = { WL2 } }, { B } },
                { "region", { Equals = { "us-east-1" } }, { A, B, C, D } },
                { "region", { Equals = { "eu-west-1" } }, {} },
                { "confidence", { GreaterThanOrEqual = 9 }, { A } },
                { "id", { Equals = { B } }, { B } },
                { "resource.accessKeyDetails.accessKeyId", { Equals = { "ASIAEXAMPLEA" } }, { A } },
                { "resource.accessKeyDetails.principalId", { Equals = { "AIDAEXAMPLEA" } }, { A } },
                { "resource.accessKeyDetails.userName", { Equals = { "alice" } }, { A } },
                { "resource.accessKeyDetails.userType", { Equals = { "IAMUser" } }, { A } },
                { "resource.instanceDetails.iamInstanceProfile.id", { Equals = { "AIPAEXAMPLEB" } }, { B } },
                { "resource.instanceDetails.imageId", { Equals = { "ami-0b" } }, { B } },
                { "resource.instanceDetails.instanceId", { Equals = { "i-0b" } }, { B } },
                { "resource.instanceDetails.networkInterfaces.ipv6Addresses", { Equals = { "2001:db8::b" } }, { B } },
                { "resource.instanceDetails.networkInterfaces.privateIpAddresses.privateIpAddress",
                    { Equals = { "10.0.0.11" } }, { B } },
                { "resource.instanceDetails.networkInterfaces.publicDnsName", { Equals = { "ec2-b.example.com" } },
                    { B } },
                { "resource.instanceDetails.networkInterfaces.publicIp", { Equals = { "203.0.113.11" } }, { B } },
                { "resource.instanceDetails.networkInterfaces.securityGroups.groupId", { Equals = { "sg-0b" } },
                    { B } },
                { "resource.instanceDetails.networkInterfaces.securityGroups.groupName", { Equals = { "web" } },
                    { B } },
                { "resource.instanceDetails.networkInterfaces.subnetId", { Equals = { "subnet-0b" } }, { B } },
                { "resource.instanceDetails.networkInterfaces.vpcId", { Equals = { "vpc-0b" } }, { B } },
                { "resource.instanceDetails.tags.key", { Equals = { "Team" } }, { B } },
                { "resource.instanceDetails.tags.value", { Equals = { "blue" } }, { B } },
                { "resource.resourceType", { Equals = { "Instance" } }, { B, C } },
                { "service.action.actionType", { Equals = { "AWS_API_CALL" } }, { A } },
                { "service.action.awsApiCallAction.api", { Equals = { "ListBuckets" } }, { A } },
                { "service.action.awsApiCallAction.callerType", { Equals = { "Remote IP" } }, { A } },
                { "service.action.awsApiCallAction.remoteIpDetails.city.cityName", { Equals = { "Sydney" } }, { A } },
                { "service.action.awsApiCallAction.remoteIpDetails.country.countryName", { Equals = { "Australia" } },
                    { A } },
                { "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4", { Equals = { "198.51.100.7" } },
                    { A } },
                { "service.action.awsApiCallAction.remoteIpDetails.organization.asn", { Equals = { "64501" } }, { A } },
                { "service.action.awsApiCallAction.remoteIpDetails.organization.asnOrg", { Equals = { "EXAMPLE-AS" } },
                    { A } },
                { "service.action.awsApiCallAction.serviceName", { Equals = { "s3.amazonaws.com" } }, { A } },
                { "service.action.dnsRequestAction.domain", { Equals = { "pool.example.org" } }, { C } },
                { "service.action.dnsRequestAction.domainWithSuffix", { Equals = { "example.org" } }, { C } },
                { "service.action.networkConnectionAction.blocked", { Equals = { "false" } }, { B } },
                { "service.action.networkConnectionAction.connectionDirection", { Equals = { "OUTBOUND" } }, { B } },
                { "service.action.networkConnectionAction.localPortDetails.port", { Equals = { "49152" } }, { B } },
                { "service.action.networkConnectionAction.protocol", { Equals = { "TCP" } }, { B } },
                { "service.action.networkConnectionAction.remoteIpDetails.country.countryName",
                    { Equals = { "Nowhere" } }, { B } },
                { "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", { Equals = { "203.0.113.99" } },
                    { B } },
                { "service.action.networkConnectionAction.remoteIpDetails.organization.asn", { Equals = { "64502" } },
                    { B } },
                { "service.action.networkConnectionAction.remoteIpDetails.organization.asnOrg",
                    { Equals = { "BAD-AS" } }, { B } },
                { "service.action.networkConnectionAction.remotePortDetails.port", { GreaterThanOrEqual = 443 }, { B } },
                { "service.additionalInfo.threatListName", { Equals = { "ProofPointList" } }, { A } },
                { "service.archived", { Equals = { "true" } }, { C } },
                { "service.archived", { Equals = { "false" } }, { A, B, D } },
                { "service.ebsVolumeScanDetails.scanId", { Equals = { "scan-b" } }, { B } },
                { "service.resourceRole", { Equals = { "ACTOR" } }, { B } },
                { "severity", { GreaterThanOrEqual = 5 }, { A, B, D } },
                { "severity", { LessThan = 5 }, { C } },
                { "type", { Equals = { "Recon:IAMUser/MaliciousIPCaller" } }, { D } },
                { "updatedAt", { GreaterThanOrEqual = ms("2024-05-30T00:00:00Z") }, { A, B, D } },
                { "updatedAt", { LessThan = ms("2024-05-30T00:00:00Z") }, { C } },
            }
            for _, c in ipairs(cases) do
                assert.same(sorted(c[3]), sorted(list({ [c[1]] = c[2] })), c[1])
            end
        end)

        it("applies every operator, current and deprecated", function()
            local D = d_id()
            local A, B, C = ID_A, ID_B, ID_C
            local cases = {
                { { Equals = { "8", "2" } }, { A, C } },
                { { Eq = { "8", "2" } }, { A, C } },
                { { NotEquals = { "8" } }, { B, C, D } },
                { { Neq = { "8", "2" } }, { B, D } },
                { { GreaterThan = 5 }, { A, B } },
                { { Gt = 5 }, { A, B } },
                { { GreaterThanOrEqual = 5 }, { A, B, D } },
                { { Gte = 5 }, { A, B, D } },
                { { LessThan = 5 }, { C } },
                { { Lt = 5 }, { C } },
                { { LessThanOrEqual = 5 }, { C, D } },
                { { Lte = 5 }, { C, D } },
                { { GreaterThan = 2, LessThan = 8 }, { B, D } }, -- conditions in one criterion: all hold
            }
            for i, c in ipairs(cases) do
                assert.same(sorted(c[2]), sorted(list({ severity = c[1] })), "case " .. i)
            end
            -- several criteria: all hold
            assert.same({ A }, list({ severity = { Gte = 5 }, ["resource.resourceType"] = { Equals = { "AccessKey" } },
                ["service.action.actionType"] = { Eq = { "AWS_API_CALL" } } }))
            -- notEquals matches findings without the field
            assert.same(sorted({ A, C, D }), sorted(list({ ["service.resourceRole"] = { NotEquals = { "ACTOR" } } })))
            -- deprecated integer bounds on updatedAt in milliseconds do not fit 32 bits; long ones do
            assert.same({ C }, list({ updatedAt = { LessThanOrEqual = ms("2024-05-29T10:00:00Z") } }))
        end)

        it("rejects unknown fields and the filter-only matches operators", function()
            assert_bad_request(fail(gd, SEC, "ListFindings", { DetectorId = det,
                FindingCriteria = { Criterion = { ["resource.noSuchThing"] = { Equals = { "x" } } } } }), "noSuchThing")
            assert_bad_request(fail(gd, SEC, "ListFindings", { DetectorId = det,
                FindingCriteria = { Criterion = { type = { Matches = { "Recon*" } } } } }), "matches")
            assert_bad_request(fail(gd, SEC, "ListFindings", { DetectorId = det,
                FindingCriteria = { Criterion = { resource = { Equals = { "x" } } } } }))
        end)

        it("sorts by sortCriteria", function()
            local D = d_id()
            assert.same({ ID_A, ID_B, D, ID_C }, list(nil, { SortCriteria = { AttributeName = "severity",
                OrderBy = "DESC" } }))
            assert.same({ ID_C, D, ID_B, ID_A }, list(nil, { SortCriteria = { AttributeName = "severity",
                OrderBy = "ASC" } }))
            assert.same({ ID_C, ID_A, ID_B, D }, list(nil, { SortCriteria = { AttributeName = "updatedAt" } }))
            -- findings without the attribute come last either way
            assert.same({ ID_A, ID_C, ID_B, D }, list(nil, { SortCriteria = {
                AttributeName = "service.action.actionType", OrderBy = "ASC" } }))
            assert.same({ ID_B, ID_C, ID_A, D }, list(nil, { SortCriteria = {
                AttributeName = "service.action.actionType", OrderBy = "DESC" } }))
            assert_bad_request(fail(gd, SEC, "ListFindings", { DetectorId = det,
                SortCriteria = { AttributeName = "nope" } }), "nope")
        end)

        it("pages with maxResults and opaque tokens", function()
            local seen = {}
            local token
            repeat
                local out = call(gd, SEC, "ListFindings", { DetectorId = det, MaxResults = 1, NextToken = token,
                    SortCriteria = { AttributeName = "severity", OrderBy = "DESC" } })
                assert.is_true(#out.FindingIds <= 1)
                for _, id in ipairs(out.FindingIds) do seen[#seen + 1] = id end
                token = out.NextToken
            until token == nil
            assert.same({ ID_A, ID_B, d_id(), ID_C }, seen)
            -- a token belongs to its query
            local first = call(gd, SEC, "ListFindings", { DetectorId = det, MaxResults = 1 })
            assert.is_string(first.NextToken)
            assert_bad_request(fail(gd, SEC, "ListFindings", { DetectorId = det, MaxResults = 1,
                NextToken = first.NextToken, FindingCriteria = { Criterion = { severity = { Gte = 1 } } } }),
                "nextToken")
            assert_bad_request(fail(gd, SEC, "ListFindings", { DetectorId = det, NextToken = "not-a-token" }),
                "nextToken")
            assert_bad_request(fail(gd, SEC, "ListFindings", { DetectorId = det,
                NextToken = first.NextToken:sub(1, -3) .. "00" }), "nextToken")
            -- and to its caller
            local wl1 = detector(gd, WL1)
            assert_bad_request(fail(gd, WL1, "ListFindings", { DetectorId = wl1, MaxResults = 1,
                NextToken = first.NextToken }), "nextToken")
        end)

        it("returns at most 50 ids when maxResults is absent", function()
            local world_gd, world = new_gd()
            local findings = {}
            for i = 1, 60 do
                findings[i] = { id = string.format("%032x", i), type = "Recon:IAMUser/MaliciousIPCaller",
                    severity = 2, resource = { resourceType = "AccessKey" } }
            end
            world_gd:admin(ctx(OUT), "add_findings", { findings = findings, account = OUT })
            assert.is_true(world.dirty > 0)
            local d = detector(world_gd, OUT)
            local p1 = call(world_gd, OUT, "ListFindings", { DetectorId = d })
            assert.equal(50, #p1.FindingIds)
            local p2 = call(world_gd, OUT, "ListFindings", { DetectorId = d, NextToken = p1.NextToken })
            assert.equal(61 - 50, #p2.FindingIds) -- 60 added + the scenario's E
            assert.is_nil(p2.NextToken)
        end)
    end)

    describe("GetFindings", function()
        it("returns the requested visible findings, silently omitting the others", function()
            local gd = new_gd()
            local det = detector(gd, WL1)
            local out = call(gd, WL1, "GetFindings", { DetectorId = det,
                FindingIds = { ID_C, "0000", ID_A, ID_B, ID_E, ID_F, ID_A } })
            assert_output("GetFindings", out)
            local ids = {}
            for i, f in ipairs(out.Findings) do ids[i] = f.Id end
            assert.same({ ID_C, ID_A }, ids)
            assert.same({}, call(gd, WL1, "GetFindings", { DetectorId = det, FindingIds = {} }).Findings)
        end)

        it("sorts with sortCriteria", function()
            local gd = new_gd()
            local det = detector(gd, SEC)
            local out = call(gd, SEC, "GetFindings", { DetectorId = det, FindingIds = { ID_C, ID_A, ID_B },
                SortCriteria = { AttributeName = "severity", OrderBy = "DESC" } })
            local sev = {}
            for i, f in ipairs(out.Findings) do sev[i] = f.Severity end
            assert.same({ 8, 5.5, 2 }, sev)
        end)

        it("returns copies, not the stored findings", function()
            local gd = new_gd()
            local det = detector(gd, WL1)
            local f = call(gd, WL1, "GetFindings", { DetectorId = det, FindingIds = { ID_A } }).Findings[1]
            f.Severity = 0
            assert.equal(8, call(gd, WL1, "GetFindings", { DetectorId = det, FindingIds = { ID_A } })
                .Findings[1].Severity)
        end)
    end)

    describe("archiving", function()
        it("lets the administrator archive and unarchive members' findings", function()
            local gd, world = new_gd()
            local det = detector(gd, SEC)
            local before = world.dirty
            assert.is_nil(call(gd, SEC, "ArchiveFindings", { DetectorId = det, FindingIds = { ID_A, "missing" } }))
            assert.is_true(world.dirty > before)
            local f = call(gd, SEC, "GetFindings", { DetectorId = det, FindingIds = { ID_A } }).Findings[1]
            assert.is_true(f.Service.Archived)
            assert.same(sorted({ ID_A, ID_C }), sorted(call(gd, SEC, "ListFindings", { DetectorId = det,
                FindingCriteria = { Criterion = { ["service.archived"] = { Equals = { "true" } } } } }).FindingIds))
            assert.is_nil(call(gd, SEC, "UnarchiveFindings", { DetectorId = det, FindingIds = { ID_A } }))
            f = call(gd, SEC, "GetFindings", { DetectorId = det, FindingIds = { ID_A } }).Findings[1]
            assert.is_false(f.Service.Archived)
        end)

        it("refuses a member account", function()
            local gd = new_gd()
            local det = detector(gd, WL1)
            for _, op in ipairs({ "ArchiveFindings", "UnarchiveFindings" }) do
                local e = fail(gd, WL1, op, { DetectorId = det, FindingIds = { ID_A } })
                assert_bad_request(e)
                assert.matches("Only the administrator account can archive findings", e.message, 1, true)
            end
            local f = call(gd, WL1, "GetFindings", { DetectorId = det, FindingIds = { ID_A } }).Findings[1]
            assert.is_false(f.Service.Archived)
        end)

        it("lets a standalone account archive its own findings", function()
            local gd = new_gd()
            local det = detector(gd, OUT)
            call(gd, OUT, "ArchiveFindings", { DetectorId = det, FindingIds = { ID_E } })
            assert.is_true(call(gd, OUT, "GetFindings", { DetectorId = det, FindingIds = { ID_E } })
                .Findings[1].Service.Archived)
        end)
    end)

    describe("CreateSampleFindings", function()
        local function all_findings(gd, account)
            local det = detector(gd, account)
            local ids = call(gd, account, "ListFindings", { DetectorId = det }).FindingIds
            return call(gd, account, "GetFindings", { DetectorId = det, FindingIds = ids }).Findings, det
        end

        it("creates one sample finding per listed type, marked as a sample", function()
            local gd = new_gd()
            local det = call(gd, MGMT, "CreateDetector", { Enable = true }).DetectorId
            local types = { "Backdoor:EC2/C&CActivity.B", "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
                "Recon:EC2/PortProbeUnprotectedPort" }
            assert.is_nil(call(gd, MGMT, "CreateSampleFindings", { DetectorId = det, FindingTypes = types }))
            local findings = all_findings(gd, MGMT)
            assert.equal(3, #findings)
            local got = {}
            for _, f in ipairs(findings) do
                got[#got + 1] = f.Type
                assert.same({}, conform("Finding", f))
                assert.equal("[SAMPLE]", f.Title:sub(1, 8))
                assert.is_true(json.decode(f.Service.AdditionalInfo.Value).sample)
                assert.equal(MGMT, f.AccountId)
                assert.equal("us-east-1", f.Region)
                assert.equal(det, f.Service.DetectorId)
                assert.equal("arn:aws:guardduty:us-east-1:" .. MGMT .. ":detector/" .. det .. "/finding/" .. f.Id, f.Arn)
                assert.matches("^" .. ("%x"):rep(32) .. "$", f.Id)
                assert.equal(NOW, time.parse(f.CreatedAt))
                assert.is_false(f.Service.Archived)
            end
            assert.same(sorted(types), sorted(got))
            -- the sample flag is a criterion like any other
            assert.equal(3, #call(gd, MGMT, "ListFindings", { DetectorId = det, FindingCriteria = { Criterion = {
                ["service.additionalInfo.sample"] = { Equals = { "true" } } } } }).FindingIds)
        end)

        it("creates samples of many distinct types when findingTypes is empty or absent", function()
            local gd = new_gd()
            local det = call(gd, MGMT, "CreateDetector", { Enable = true }).DetectorId
            call(gd, MGMT, "CreateSampleFindings", { DetectorId = det })
            local findings = all_findings(gd, MGMT)
            assert.is_true(#findings >= 10)
            local types, resources = {}, {}
            for _, f in ipairs(findings) do
                assert.is_nil(types[f.Type], "duplicate type " .. f.Type)
                types[f.Type] = true
                resources[f.Resource.ResourceType] = true
                assert.same({}, conform("Finding", f))
            end
            assert.is_true(resources.AccessKey and resources.Instance and true or false)
            local gd2 = new_gd()
            local det2 = call(gd2, MGMT, "CreateDetector", { Enable = true }).DetectorId
            call(gd2, MGMT, "CreateSampleFindings", { DetectorId = det2, FindingTypes = {} })
            assert.equal(#findings, #all_findings(gd2, MGMT))
        end)

        it("folds a repeated sample into the existing finding and rejects malformed types", function()
            local gd = new_gd()
            local det = call(gd, MGMT, "CreateDetector", { Enable = true }).DetectorId
            local t = { "Backdoor:EC2/C&CActivity.B" }
            call(gd, MGMT, "CreateSampleFindings", { DetectorId = det, FindingTypes = t })
            call(gd, MGMT, "CreateSampleFindings", { DetectorId = det, FindingTypes = t }, { now = NOW + 60 })
            local findings = all_findings(gd, MGMT)
            assert.equal(1, #findings)
            assert.equal(2, findings[1].Service.Count)
            assert.equal(NOW + 60, time.parse(findings[1].UpdatedAt))
            assert_bad_request(fail(gd, MGMT, "CreateSampleFindings", { DetectorId = det,
                FindingTypes = { "not a type" } }))
            assert.equal(1, #all_findings(gd, MGMT))
        end)
    end)

    describe("administrator and members", function()
        it("GetAdministratorAccount: member -> its administrator; administrator and standalone -> empty", function()
            local gd = new_gd()
            local out = call(gd, WL1, "GetAdministratorAccount", { DetectorId = detector(gd, WL1) })
            assert_output("GetAdministratorAccount", out)
            assert.equal(SEC, out.Administrator.AccountId)
            assert.equal("Enabled", out.Administrator.RelationshipStatus)
            assert.is_nil(call(gd, SEC, "GetAdministratorAccount", { DetectorId = detector(gd, SEC) }))
            assert.is_nil(call(gd, OUT, "GetAdministratorAccount", { DetectorId = detector(gd, OUT) }))
            local m = call(gd, WL2, "GetMasterAccount", { DetectorId = detector(gd, WL2) })
            assert_output("GetMasterAccount", m)
            assert.equal(SEC, m.Master.AccountId)
        end)

        it("does not make accounts without GuardDuty members by default", function()
            local gd = new_gd()
            local out = call(gd, SEC, "GetMembers", { DetectorId = detector(gd, SEC), AccountIds = { NOGD, MGMT, WL2 } })
            assert_output("GetMembers", out)
            assert.equal(1, #out.Members)
            assert.equal(WL2, out.Members[1].AccountId)
            local un = {}
            for _, u in ipairs(out.UnprocessedAccounts) do
                un[#un + 1] = u.AccountId
                assert.is_string(u.Result)
            end
            assert.same({ NOGD, MGMT }, un)
        end)

        it("GetMembers and ListMembers describe the members", function()
            local gd = new_gd()
            local det = detector(gd, SEC)
            local out = call(gd, SEC, "ListMembers", { DetectorId = det })
            assert_output("ListMembers", out)
            local ids = {}
            for i, m in ipairs(out.Members) do
                ids[i] = m.AccountId
                assert.equal(SEC, m.MasterId)
                assert.equal(SEC, m.AdministratorId)
                assert.equal("Enabled", m.RelationshipStatus)
                assert.equal(detector(gd, m.AccountId), m.DetectorId)
                assert.matches(ISO_MS, m.UpdatedAt)
            end
            assert.same({ WL1, WL2 }, ids)
            local p1 = call(gd, SEC, "ListMembers", { DetectorId = det, MaxResults = 1 })
            assert.same(WL1, p1.Members[1].AccountId)
            local p2 = call(gd, SEC, "ListMembers", { DetectorId = det, MaxResults = 1, NextToken = p1.NextToken })
            assert.same(WL2, p2.Members[1].AccountId)
            assert.is_nil(p2.NextToken)
            assert_bad_request(fail(gd, SEC, "ListMembers", { DetectorId = det, NextToken = p1.NextToken,
                OnlyAssociated = "false" }), "nextToken")
            assert_bad_request(fail(gd, SEC, "ListMembers", { DetectorId = det, OnlyAssociated = "maybe" }))
            -- a member administers nobody
            assert.same({}, call(gd, WL1, "ListMembers", { DetectorId = detector(gd, WL1) }).Members)
        end)

        local function invite_scenario()
            return base_scenario({ guardduty = {
                administrator = SEC,
                members = { WL2, { account_id = WL1, status = "Invited", invitation_id = "inv-1" },
                    { account_id = OUT, status = "Created" } },
                findings = scenario_findings(),
            } })
        end

        it("accepts an invitation, then lets the member disassociate", function()
            local gd, world = new_gd(invite_scenario())
            local wl1 = detector(gd, WL1)
            local sec = detector(gd, SEC)
            assert.is_nil(call(gd, WL1, "GetAdministratorAccount", { DetectorId = wl1 }))
            -- invited members are not associated
            local assoc = call(gd, SEC, "ListMembers", { DetectorId = sec, OnlyAssociated = "true" })
            assert.equal(1, #assoc.Members)
            local all = call(gd, SEC, "ListMembers", { DetectorId = sec, OnlyAssociated = "false" })
            assert.equal(3, #all.Members)
            assert_bad_request(fail(gd, WL1, "AcceptAdministratorInvitation",
                { DetectorId = wl1, AdministratorId = SEC, InvitationId = "wrong" }))
            assert_bad_request(fail(gd, WL1, "AcceptAdministratorInvitation",
                { DetectorId = wl1, AdministratorId = WL2, InvitationId = "inv-1" }))
            local before = world.dirty
            assert.is_nil(call(gd, WL1, "AcceptAdministratorInvitation",
                { DetectorId = wl1, AdministratorId = SEC, InvitationId = "inv-1" }))
            assert.is_true(world.dirty > before)
            local adm = call(gd, WL1, "GetAdministratorAccount", { DetectorId = wl1 }).Administrator
            assert.same({ AccountId = SEC, InvitationId = "inv-1", RelationshipStatus = "Enabled",
                InvitedAt = adm.InvitedAt }, adm)
            assert.matches(ISO_MS, adm.InvitedAt)
            -- the administrator now sees the member's findings
            assert.same(sorted({ ID_A, ID_C }), sorted(call(gd, SEC, "ListFindings", { DetectorId = sec,
                FindingCriteria = { Criterion = { accountId = { Equals = { WL1 } } } } }).FindingIds))
            assert.is_nil(call(gd, WL1, "DisassociateFromAdministratorAccount", { DetectorId = wl1 }))
            assert.is_nil(call(gd, WL1, "GetAdministratorAccount", { DetectorId = wl1 }))
            local m = call(gd, SEC, "GetMembers", { DetectorId = sec, AccountIds = { WL1 } }).Members[1]
            assert.equal("Resigned", m.RelationshipStatus)
            assert.equal(NOW, time.parse(m.UpdatedAt))
            assert.same({}, call(gd, SEC, "ListFindings", { DetectorId = sec,
                FindingCriteria = { Criterion = { accountId = { Equals = { WL1 } } } } }).FindingIds)
            -- deprecated aliases work too
            assert.is_nil(call(gd, WL2, "DisassociateFromMasterAccount", { DetectorId = detector(gd, WL2) }))
        end)

        it("keeps organization-managed members from disassociating", function()
            local gd = new_gd()
            assert_bad_request(fail(gd, WL1, "DisassociateFromAdministratorAccount", { DetectorId = detector(gd, WL1) }))
            assert.is_not_nil(call(gd, WL1, "GetAdministratorAccount", { DetectorId = detector(gd, WL1) }))
        end)
    end)

    describe("GetRemainingFreeTrialDays", function()
        it("counts down from the detector's creation for the caller and its members", function()
            local gd = new_gd()
            local out = call(gd, SEC, "GetRemainingFreeTrialDays", { DetectorId = detector(gd, SEC),
                AccountIds = { WL1, SEC, NOGD, OUT } })
            assert_output("GetRemainingFreeTrialDays", out)
            local by = {}
            for _, a in ipairs(out.Accounts) do by[a.AccountId] = a end
            assert.is_nil(by[NOGD])
            assert.is_nil(by[OUT])
            local names = {}
            for _, f in ipairs(by[WL1].Features) do
                names[#names + 1] = f.Name
                assert.equal(20, f.FreeTrialDaysRemaining) -- 30-day trial, GuardDuty since 10 days
            end
            assert.same(sorted(model.shape("guardduty", "FreeTrialFeatureResult").enum), sorted(names))
            assert.equal(20, by[WL1].DataSources.CloudTrail.FreeTrialDaysRemaining)
            assert.equal(20, by[WL1].DataSources.Kubernetes.AuditLogs.FreeTrialDaysRemaining)
            assert.equal(20, by[WL1].DataSources.MalwareProtection.ScanEc2InstanceWithFindings.FreeTrialDaysRemaining)
            assert.equal(0, by[SEC].Features[1].FreeTrialDaysRemaining)
            local un = {}
            for _, u in ipairs(out.UnprocessedAccounts) do un[#un + 1] = u.AccountId end
            assert.same({ NOGD, OUT }, un)
        end)
    end)

    describe("unsupported operations", function()
        it("answer 501 naming the operation", function()
            local gd = new_gd()
            local supported = {}
            for _, n in ipairs(GD.implemented()) do supported[n] = true end
            local count = 0
            for _, op in ipairs(model.service("guardduty").operation_names) do
                if not supported[op] then
                    count = count + 1
                    local e = fail(gd, SEC, op, {})
                    assert.equal(501, status_of(e))
                    assert.matches(op, e.message, 1, true)
                end
            end
            assert.is_true(count > 50)
            assert.equal("NotImplementedException", fail(gd, SEC, "InviteMembers", {}).code)
            for _, op in ipairs({ "CreateDetector", "ListDetectors", "GetDetector", "CreateSampleFindings",
                "ListFindings", "GetFindings", "ArchiveFindings", "UnarchiveFindings", "GetAdministratorAccount",
                "AcceptAdministratorInvitation", "DisassociateFromAdministratorAccount", "GetMembers", "ListMembers",
                "GetRemainingFreeTrialDays" }) do
                assert.is_true(supported[op], op)
                assert.is_not_nil(model.operation("guardduty", op), op)
            end
        end)
    end)

    describe("with the emulator's own scenario and world", function()
        it("serves the built-in scenario's compromised-user findings to the administrator", function()
            local ok_sc, scenario = pcall(require, "detlua.emulator.scenario")
            local ok_st, state = pcall(require, "detlua.emulator.state")
            if not (ok_sc and ok_st) then
                pending("scenario.lua / state.lua not available")
                return
            end
            local sc = scenario.default()
            local world = state.new(sc, {})
            local gd = GD.new(world)
            local admin = sc.administrator
            local raw = scenario.default_raw().guardduty.findings
            assert.is_true(#raw > 0)
            local det = detector(gd, admin)
            assert.is_string(det)
            local ids = call(gd, admin, "ListFindings", { DetectorId = det }).FindingIds
            local want = {}
            for i, f in ipairs(raw) do want[i] = f.id end
            assert.same(sorted(want), sorted(ids))
            local out = call(gd, admin, "GetFindings", { DetectorId = det, FindingIds = ids })
            assert_output("GetFindings", out)
            for _, f in ipairs(out.Findings) do
                -- the finding's ARN names its account's detector
                local member_det = detector(gd, f.AccountId)
                assert.equal(member_det, f.Service.DetectorId)
                assert.equal("arn:aws:guardduty:" .. f.Region .. ":" .. f.AccountId .. ":detector/" .. member_det ..
                    "/finding/" .. f.Id, f.Arn)
            end
            -- the account whose user is compromised is a member of the administrator
            local acct = raw[1].accountId
            local adm = call(gd, acct, "GetAdministratorAccount", { DetectorId = detector(gd, acct) })
            assert.equal(admin, adm.Administrator.AccountId)
            -- the pivot playbooks make: the user's findings by user name
            local user = raw[1].resource.accessKeyDetails.userName
            assert.same(sorted(want), sorted(call(gd, admin, "ListFindings", { DetectorId = det, FindingCriteria = {
                Criterion = { ["resource.accessKeyDetails.userName"] = { Equals = { user } } } } }).FindingIds))
        end)
    end)

    describe("state", function()
        it("lives in world.data.guardduty and survives a JSON round trip", function()
            local gd, world = new_gd()
            local det = call(gd, MGMT, "CreateDetector", { Enable = true }).DetectorId
            call(gd, MGMT, "CreateSampleFindings", { DetectorId = det, FindingTypes = { "Backdoor:EC2/C&CActivity.B" } })
            call(gd, SEC, "ArchiveFindings", { DetectorId = detector(gd, SEC), FindingIds = { ID_B } })
            assert.is_table(world.data.guardduty)
            local text = json.encode(world.data)
            local world2 = new_world(base_scenario())
            world2.data = json.decode(text)
            local gd2 = GD.new(world2)
            assert.equal(det, detector(gd2, MGMT))
            assert.equal(1, #call(gd2, MGMT, "ListFindings", { DetectorId = det }).FindingIds)
            local b = call(gd2, SEC, "GetFindings", { DetectorId = detector(gd2, SEC), FindingIds = { ID_B } })
                .Findings[1]
            assert.is_true(b.Service.Archived)
            assert.same({}, conform("Finding", b))
            -- the scenario is not imported twice
            assert.equal(4, #call(gd2, SEC, "ListFindings", { DetectorId = detector(gd2, SEC) }).FindingIds)
        end)
    end)
end)
