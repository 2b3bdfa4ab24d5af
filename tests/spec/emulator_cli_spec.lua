-- The emulator driven by independent clients: Debian's AWS CLI v2 (/usr/bin/aws) and botocore
-- (python3-botocore, through tests/oracle/boto_e2e.py, one python run for all calls). For every
-- Detective and GuardDuty operation the client knows and the emulator implements, a happy-path
-- call must pass the emulator's SigV4 check (no 403) and the client's own parser must accept
-- the answer; a few error calls check that the client reads the error code we mean. State a
-- call needs (graph, members, detector, findings) is created by earlier calls of the same run.
-- The old bundled models lack the five investigation operations; when the reference models are
-- present (DT_SHARED) they are put on AWS_DATA_PATH in a temporary directory so both clients
-- cover all 29 Detective operations; otherwise the clients cover what they know (24).
local aws = require "aws"
local files = require "files"
local proc = require "proc"
local secrets = require "secrets"
local E = require "aws.core.emulator"
local scenario = require "detlua.emulator.scenario"
local json = aws.json

local SRC = files.SRC
local SHARED = os.getenv("DT_SHARED")
local AWS_CLI, PY = "/usr/bin/aws", proc.PYTHON
local REGION = "us-east-1"
local ADMIN, PROD, DEV, SANDBOX, MGMT = "111122223333", "444455556666", "777788889999", "555566667777", "999988887777"
local NODET = { id = "121212121212", name = "no-detector", email = "nodetector@example.com",
    access_key_id = "AKIAE2ENODETECTOR001", secret_access_key = "e2e-nodetector-secret-key-not-real-0006" }

local have_cli = files.exists(AWS_CLI)
local have_botocore = proc.python_has("botocore")

-- Extra models (only from the reference directory, only into a temp dir).
local data_path
local function prepare_data_path()
    if not SHARED then return nil end
    local text = files.read(SHARED .. "/models/detective/service-2.json")
    if not text then return nil end
    local dir = files.tmpdir()
    files.write(files.mkdir(dir .. "/detective/2018-10-26") .. "/service-2.json", text)
    return dir
end

local function the_scenario()
    local sc = scenario.default_raw()
    sc.settings = { detective = { investigation_delay_seconds = 0 } }
    sc.accounts[#sc.accounts + 1] = NODET
    sc.guardduty = sc.guardduty or {}
    sc.guardduty.members = { PROD,
        { account_id = DEV, status = "Invited", invitation_id = "inv-dev" },
        { account_id = SANDBOX, status = "Invited", invitation_id = "inv-sandbox" } }
    return sc
end

local function scenario_keys(account)
    return secrets.keys_by_account(the_scenario())[account]
end

-- A fresh emulator with the credentials of every actor (members through sts:assume_role).
local function start()
    local srv = E.start { port = 0, scenario_table = the_scenario() }
    local creds = { admin = secrets.plain(srv:admin_credentials()), mgmt = scenario_keys(MGMT), nodet = scenario_keys(NODET.id) }
    local sts = aws.client("sts", { endpoint = srv:url(), region = REGION, credentials = creds.admin })
    for name, acct in pairs { prod = PROD, dev = DEV, sandbox = SANDBOX } do
        local c = sts:assume_role { RoleArn = "arn:aws:iam::" .. acct .. ":role/DetectiveMember", RoleSessionName = "cli-e2e" }.Credentials
        creds[name] = secrets.from_sts(c)
    end
    return srv, creds
end

-- The calls, in order. as = actor; save = {var = dotted path in the result}; expect = error code.
local function calls()
    local t1 = aws.time.format(aws.time.ago("24h"))
    local t2 = aws.time.format(aws.time.now())
    local missing_graph = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" .. string.rep("0", 32)
    local G = "${graph}"
    local D = "detective"
    local list = {
        { D, "ListGraphs", "admin", {} },
        { D, "CreateGraph", "admin", { Tags = { Team = "secops" } }, save = { graph = "GraphArn" } },
        { D, "TagResource", "admin", { ResourceArn = G, Tags = { Env = "prod" } } },
        { D, "ListTagsForResource", "admin", { ResourceArn = G } },
        { D, "UntagResource", "admin", { ResourceArn = G, TagKeys = { "Env" } } },
        { D, "ListDatasourcePackages", "admin", { GraphArn = G } },
        { D, "UpdateDatasourcePackages", "admin", { GraphArn = G, DatasourcePackages = { "EKS_AUDIT" } } },
        { D, "CreateMembers", "admin", { GraphArn = G, Message = "join", Accounts = {
            { AccountId = PROD, EmailAddress = "prod@example.com" }, { AccountId = DEV, EmailAddress = "dev@example.com" },
            { AccountId = SANDBOX, EmailAddress = "sandbox@example.com" } } } },
        { D, "GetMembers", "admin", { GraphArn = G, AccountIds = { PROD, DEV, SANDBOX } } },
        { D, "ListMembers", "admin", { GraphArn = G } },
        { D, "ListMembers", "admin", { GraphArn = missing_graph }, expect = "ResourceNotFoundException" },
        { D, "ListInvitations", "prod", {} },
        { D, "AcceptInvitation", "prod", { GraphArn = G } },
        { D, "AcceptInvitation", "prod", { GraphArn = G }, expect = "ConflictException" },
        { D, "AcceptInvitation", "sandbox", { GraphArn = G } },
        { D, "StartMonitoringMember", "admin", { GraphArn = G, AccountId = SANDBOX } },
        { D, "BatchGetGraphMemberDatasources", "admin", { GraphArn = G, AccountIds = { PROD } } },
        { D, "BatchGetMembershipDatasources", "prod", { GraphArns = { G } } },
        { D, "RejectInvitation", "dev", { GraphArn = G } },
        { D, "DisassociateMembership", "prod", { GraphArn = G } },
        { D, "DeleteMembers", "admin", { GraphArn = G, AccountIds = { SANDBOX } } },
        { D, "StartInvestigation", "admin", { GraphArn = G, EntityArn = "arn:aws:iam::" .. PROD .. ":user/alice",
            ScopeStartTime = t1, ScopeEndTime = t2 }, save = { inv = "InvestigationId" } },
        { D, "GetInvestigation", "admin", { GraphArn = G, InvestigationId = "${inv}" } },
        { D, "ListInvestigations", "admin", { GraphArn = G, FilterCriteria = { Severity = { Value = "CRITICAL" } } } },
        { D, "ListIndicators", "admin", { GraphArn = G, InvestigationId = "${inv}", MaxResults = 3 } },
        { D, "UpdateInvestigationState", "admin", { GraphArn = G, InvestigationId = "${inv}", State = "ARCHIVED" } },
        { D, "DeleteGraph", "admin", { GraphArn = G } },
        { D, "EnableOrganizationAdminAccount", "mgmt", { AccountId = ADMIN } },
        { D, "ListOrganizationAdminAccounts", "mgmt", {}, save = { orggraph = "Administrators.0.GraphArn" } },
        { D, "DescribeOrganizationConfiguration", "admin", { GraphArn = "${orggraph}" } },
        { D, "UpdateOrganizationConfiguration", "admin", { GraphArn = "${orggraph}", AutoEnable = true } },
        { D, "DisableOrganizationAdminAccount", "mgmt", {} },
    }
    local GD = "guardduty"
    local more = {
        { GD, "ListDetectors", "admin", {}, save = { det = "DetectorIds.0" } },
        { GD, "GetDetector", "admin", { DetectorId = "${det}" } },
        { GD, "GetDetector", "admin", { DetectorId = string.rep("0", 32) }, expect = "BadRequestException" },
        { GD, "CreateDetector", "nodet", { Enable = true, FindingPublishingFrequency = "ONE_HOUR" } },
        { GD, "CreateSampleFindings", "admin", { DetectorId = "${det}", FindingTypes = { "Recon:EC2/PortProbeUnprotectedPort" } } },
        { GD, "ListFindings", "admin", { DetectorId = "${det}", FindingCriteria = { Criterion = {
            ["service.additionalInfo.sample"] = { Equals = { "true" } } } } }, save = { finding = "FindingIds.0" } },
        { GD, "GetFindings", "admin", { DetectorId = "${det}", FindingIds = { "${finding}" } } },
        { GD, "ArchiveFindings", "admin", { DetectorId = "${det}", FindingIds = { "${finding}" } } },
        { GD, "UnarchiveFindings", "admin", { DetectorId = "${det}", FindingIds = { "${finding}" } } },
        { GD, "GetMembers", "admin", { DetectorId = "${det}", AccountIds = { PROD, DEV } } },
        { GD, "ListMembers", "admin", { DetectorId = "${det}", OnlyAssociated = "false" } },
        { GD, "GetRemainingFreeTrialDays", "admin", { DetectorId = "${det}", AccountIds = { ADMIN, PROD } } },
        { GD, "ListDetectors", "prod", {}, save = { pdet = "DetectorIds.0" } },
        { GD, "GetAdministratorAccount", "prod", { DetectorId = "${pdet}" } },
        { GD, "GetMasterAccount", "prod", { DetectorId = "${pdet}" } },
        { GD, "ListDetectors", "dev", {}, save = { ddet = "DetectorIds.0" } },
        { GD, "AcceptAdministratorInvitation", "dev", { DetectorId = "${ddet}", AdministratorId = ADMIN, InvitationId = "inv-dev" } },
        { GD, "DisassociateFromAdministratorAccount", "dev", { DetectorId = "${ddet}" } },
        { GD, "ListDetectors", "sandbox", {}, save = { sdet = "DetectorIds.0" } },
        { GD, "AcceptInvitation", "sandbox", { DetectorId = "${sdet}", MasterId = ADMIN, InvitationId = "inv-sandbox" } },
        { GD, "DisassociateFromMasterAccount", "sandbox", { DetectorId = "${sdet}" } },
        { GD, "ListFilters", "admin", { DetectorId = "${det}" }, expect = "NotImplementedException" },
    }
    local out = {}
    for _, l in ipairs { list, more } do
        for _, c in ipairs(l) do
            out[#out + 1] = { id = #out + 1, service = c[1], op = c[2], as = c[3], params = c[4], save = c.save, expect = c.expect }
        end
    end
    return out
end

local function known(ops_of_client, service, op)
    for _, n in ipairs(ops_of_client[service] or {}) do if n == op then return true end end
    return false
end

-- Judges one result; returns nil when fine, else a description.
local function judge(call, res)
    if call.expect then
        if res.ok or res.code ~= call.expect then
            return string.format("#%d %s.%s: expected %s, got %s", call.id, call.service, call.op, call.expect, json.encode(res))
        end
        return nil
    end
    if not res.ok then
        return string.format("#%d %s.%s as %s %s -> %s", call.id, call.service, call.op, call.as, json.encode(call.params), json.encode(res))
    end
end

local function env_prefix(creds)
    local parts = { "env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 AWS_CONFIG_FILE=/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_PAGER=",
        "AWS_ACCESS_KEY_ID=" .. proc.quote(creds.access_key_id), "AWS_SECRET_ACCESS_KEY=" .. proc.quote(creds.secret_access_key) }
    if creds.session_token then parts[#parts + 1] = "AWS_SESSION_TOKEN=" .. proc.quote(creds.session_token) end
    if data_path then parts[#parts + 1] = "AWS_DATA_PATH=" .. proc.quote(data_path) end
    return table.concat(parts, " ")
end

local function subst(v, saved)
    if type(v) == "string" then
        local var = v:match("^%${(.-)}$")
        if var then return assert(saved[var], "no saved value " .. var) end
        return v
    end
    if type(v) == "table" then
        local o = {}
        for k, x in pairs(v) do o[k] = subst(x, saved) end
        if next(v) == nil then return json.decode("{}") end
        return o
    end
    return v
end

local function lookup(v, path)
    for part in path:gmatch("[^.]+") do
        if type(v) ~= "table" then return nil end
        local n = tonumber(part)
        v = n and v[n + 1] or v[part]
    end
    return v
end

local function kebab(op) return (op:gsub("(%l)(%u)", "%1-%2"):gsub("(%u)(%u%l)", "%1-%2"):lower()) end

local known_ops
local counts = {}

describe("emulator with independent clients", function()
    setup(function()
        data_path = prepare_data_path()
        if have_botocore then
            local out = proc.output(env_prefix({ access_key_id = "x", secret_access_key = "y" }) .. " " .. PY .. " "
                .. proc.quote(SRC .. "/tests/oracle/boto_e2e.py") .. " ops")
            known_ops = json.decode(out)
        end
    end)
    teardown(function()
        files.rmdir(data_path)
        print(string.format("# %s Detective + %s GuardDuty operations accepted by aws-cli, %s + %s by botocore",
            tostring(counts.cli_detective or "-"), tostring(counts.cli_guardduty or "-"),
            tostring(counts.boto_detective or "-"), tostring(counts.boto_guardduty or "-")))
    end)

    local function covered(ops, accepted, prefix)
        -- every known+implemented op must have been accepted at least once
        local missing = {}
        local gd_impl = require("detlua.emulator.guardduty").implemented()
        local det_ops = {}
        for _, op in ipairs(aws.client("detective", { region = REGION, credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "x" } }):operations()) do
            local n = type(op) == "table" and op.name or tostring(op)
            det_ops[#det_ops + 1] = (n:gsub("^%l", string.upper):gsub("_(%l)", string.upper))
        end
        for svc, list in pairs { detective = det_ops, guardduty = gd_impl } do
            local n = 0
            for _, op in ipairs(list) do
                if known(ops, svc, op) then
                    if accepted[svc .. "." .. op] then n = n + 1 else missing[#missing + 1] = svc .. "." .. op end
                end
            end
            counts[prefix .. "_" .. svc] = n
        end
        return missing
    end

    it("botocore signs, sends and parses every operation it knows", function()
        if not have_botocore then
            pending("python3-botocore is not installed")
            return
        end
        local srv, creds = start()
        local list = {}
        for _, c in ipairs(calls()) do
            if known(known_ops.botocore, c.service, c.op) then list[#list + 1] = c end
        end
        local job = { endpoint = srv:url(), region = REGION, creds = creds, calls = list }
        local tmp = files.write(files.tmpname(), json.encode(job))
        local out = proc.output(env_prefix(creds.admin) .. " " .. PY .. " " .. proc.quote(SRC .. "/tests/oracle/boto_e2e.py")
            .. " run < " .. proc.quote(tmp) .. " 2>&1")
        os.remove(tmp)
        srv:stop()
        local results, failures, accepted = {}, {}, {}
        for line in out:gmatch("[^\n]+") do
            local ok, r = pcall(json.decode, line)
            if ok and type(r) == "table" and r.id then results[r.id] = r else failures[#failures + 1] = "python: " .. line end
        end
        for _, c in ipairs(list) do
            local r = results[c.id]
            if not r then
                failures[#failures + 1] = string.format("#%d %s.%s: no result", c.id, c.service, c.op)
            else
                local bad = judge(c, r)
                if bad then failures[#failures + 1] = bad else accepted[c.service .. "." .. c.op] = true end
            end
        end
        assert.same({}, failures)
        assert.same({}, covered(known_ops.botocore, accepted, "boto"))
        assert.is_true(counts.boto_detective >= 24)
    end)

    it("the AWS CLI v2 signs, sends and parses every Detective and implemented GuardDuty operation", function()
        if not have_cli then
            pending("/usr/bin/aws is not installed")
            return
        end
        local cli_ops = known_ops and known_ops.awscli
        if not cli_ops then
            pending("cannot list the AWS CLI's operations (needs awscli.botocore and /usr/bin/python3)")
            return
        end
        local srv, creds = start()
        local port = srv:url():match(":(%d+)")
        local saved, failures, accepted = {}, {}, {}
        for _, c in ipairs(calls()) do
            if known(cli_ops, c.service, c.op) then
                local params = subst(c.params, saved)
                local tmp = files.write(files.tmpname(), json.encode(params))
                local cmd = env_prefix(creds[c.as]) .. " " .. AWS_CLI .. " " .. c.service .. " " .. kebab(c.op)
                    .. " --endpoint-url http://127.0.0.1:" .. port .. " --region " .. REGION .. " --output json"
                    .. " --cli-input-json " .. proc.quote("file://" .. tmp) .. " 2>" .. proc.quote(tmp .. ".err")
                local out, code = proc.output(cmd)
                local err = files.read(tmp .. ".err") or ""
                os.remove(tmp)
                os.remove(tmp .. ".err")
                local res
                if code == 0 then
                    local okj, parsed = pcall(json.decode, out ~= "" and out or "{}")
                    res = { ok = okj, output = okj and nil or out }
                    if okj then
                        for var, path in pairs(c.save or {}) do saved[var] = lookup(parsed, path) end
                    end
                else
                    res = { ok = false, exit = code, code = err:match("%((%w+)%) when calling"), stderr = err:sub(1, 400) }
                end
                local bad = judge(c, res)
                if bad then failures[#failures + 1] = bad else accepted[c.service .. "." .. c.op] = true end
            end
        end
        srv:stop()
        assert.same({}, failures)
        assert.same({}, covered(cli_ops, accepted, "cli"))
        assert.is_true(counts.cli_detective >= 24)
        if data_path then assert.equal(29, counts.cli_detective) end
    end)
end)
