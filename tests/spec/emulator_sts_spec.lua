-- The emulator's STS (sts.lua through the router): GetCallerIdentity, AssumeRole and the
-- temporary credentials it issues (acting as the role's account, needing their session
-- token, expiring), AssumeRoleWithWebIdentity, GetSessionToken, errors in the query
-- protocol's XML envelope. Oracles: the STS model (constraints, error codes), the AWS STS
-- documentation's response shapes (reference §9), and the AWS CLI v2 (botocore's signer and
-- XML parser) as an independent client when /usr/bin/aws is installed.
local C = require "emulator_client"
local files = require "files"
local proc = require "proc"
local secrets = require "secrets"
local router = require "detlua.emulator.router"
local model = require "aws.core.model"
local host = require "aws.core.host"

local NS = "https://sts.amazonaws.com/doc/2011-06-15/"
local MEMBER_ROLE = "arn:aws:iam::444455556666:role/DetectiveMember"
local DEV_ROLE = "arn:aws:iam::777788889999:role/DetectiveMember"

local calls = {}
local DetStub = { new = function(world) return setmetatable({ world = world }, { __index = function(_, k)
    if k == "handle" then
        return function(_, ctx, op, input)
            calls[#calls + 1] = { ctx = ctx, op = op }
            return { GraphList = {} }
        end
    end
end }) end }

local function new_app(opts)
    opts = opts or {}
    opts.services = { detective = DetStub }
    return router.new(opts)
end

local sts = C.sts

local function creds_of(r)
    return C.creds_of(r.body)
end

local function advance(a, seconds)
    local r = C.call(a, { method = "POST", path = "/_emulator/clock", query = "", headers = { ["content-type"] = "application/json" },
        body = '{"advance_seconds": ' .. seconds .. "}" })
    assert.equal(200, r.status, r.body)
end

local function iso_to_epoch(s)
    return require("aws.time").parse(s)
end

describe("emulator STS", function()
    it("GetCallerIdentity answers the key's user, in the STS XML envelope", function()
        local a = new_app()
        local r = sts(a, "GetCallerIdentity")
        assert.equal(200, r.status)
        assert.equal("text/xml", r.headers["content-type"])
        assert.matches('^<GetCallerIdentityResponse xmlns="' .. NS:gsub("%p", "%%%0") .. '"><GetCallerIdentityResult>', r.body)
        assert.matches("</GetCallerIdentityResult><ResponseMetadata><RequestId>" .. r.headers["x-amzn-requestid"]:gsub("%-", "%%-")
            .. "</RequestId></ResponseMetadata></GetCallerIdentityResponse>", r.body)
        assert.equal("111122223333", C.xml(r.body, "Account"))
        assert.equal("arn:aws:iam::111122223333:user/security-admin", C.xml(r.body, "Arn"))
        assert.matches("^AIDA[A-Z0-9]+$", C.xml(r.body, "UserId"))
    end)

    it("AssumeRole issues credentials that act as the role's account", function()
        local a = new_app()
        local t0 = host.realtime()
        local r = sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "ir-playbook" })
        assert.equal(200, r.status, r.body)
        local c = creds_of(r)
        assert.matches("^ASIA[A-Z0-9]+$", c.access_key_id)
        assert.equal(20, #c.access_key_id)
        assert.truthy(#c.secret_access_key >= 40)
        assert.truthy(#c.session_token > 20)
        local exp = iso_to_epoch(C.xml(r.body, "Expiration"))
        assert.truthy(math.abs(exp - (t0 + 3600)) < 60, "default duration is one hour")
        assert.equal("arn:aws:sts::444455556666:assumed-role/DetectiveMember/ir-playbook", C.xml(r.body, "Arn"))
        assert.matches("^AROA[A-Z0-9]+:ir%-playbook$", C.xml(r.body, "AssumedRoleId"))

        local who = sts(a, "GetCallerIdentity", nil, c)
        assert.equal(200, who.status)
        assert.equal("444455556666", C.xml(who.body, "Account"))
        assert.equal("arn:aws:sts::444455556666:assumed-role/DetectiveMember/ir-playbook", C.xml(who.body, "Arn"))
        assert.equal(C.xml(r.body, "AssumedRoleId"), C.xml(who.body, "UserId"))

        -- and on the other services, the calling account is the role's
        local d = C.call(a, C.signed { service = "detective", path = "/graphs/list", body = "{}", creds = c })
        assert.equal(200, d.status)
        assert.equal("444455556666", calls[#calls].ctx.account)
        assert.equal("arn:aws:sts::444455556666:assumed-role/DetectiveMember/ir-playbook", calls[#calls].ctx.principal_arn)
    end)

    it("temporary credentials need their session token", function()
        local a = new_app()
        local c = creds_of(sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "s1" }))
        local r = sts(a, "GetCallerIdentity", nil, { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key })
        assert.equal(403, r.status)
        assert.equal("InvalidClientTokenId", C.xml(r.body, "Code"))
        r = sts(a, "GetCallerIdentity", nil, { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key, session_token = "forged" })
        assert.equal(403, r.status)
        r = C.call(a, C.signed { service = "detective", path = "/graphs/list", body = "{}",
            creds = { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key } })
        assert.equal(403, r.status)
        assert.equal("UnrecognizedClientException", r.headers["x-amzn-errortype"])
        -- a long-term key with a token attached is not valid either
        r = sts(a, "GetCallerIdentity", nil, { access_key_id = C.ADMIN.access_key_id, secret_access_key = C.ADMIN.secret_access_key, session_token = "x" })
        assert.equal(403, r.status)
    end)

    it("refuses a role that does not trust the caller, or is unknown, with AccessDenied", function()
        local a = new_app()
        for _, case in ipairs({
            { MEMBER_ROLE, C.PROD }, -- trusts only the administrator account
            { DEV_ROLE, C.MGMT },
            { "arn:aws:iam::444455556666:role/NoSuchRole", C.ADMIN },
        }) do
            local r = sts(a, "AssumeRole", { RoleArn = case[1], RoleSessionName = "x1" }, case[2])
            assert.equal(403, r.status)
            assert.equal("AccessDenied", C.xml(r.body, "Code"))
            assert.equal("Sender", C.xml(r.body, "Type"))
            assert.matches("^<ErrorResponse xmlns=\"" .. NS:gsub("%p", "%%%0") .. "\"><Error>", r.body)
            assert.matches("is not authorized to perform: sts:AssumeRole on resource: " .. case[1]:gsub("%p", "%%%0"), C.xml(r.body, "Message"))
            assert.equal(r.headers["x-amzn-requestid"], C.xml(r.body, "RequestId"))
        end
    end)

    it("validates RoleSessionName and DurationSeconds against the model", function()
        local a = new_app()
        local dur = model.shape("sts", "roleDurationSecondsType")
        for _, params in ipairs({
            { RoleArn = MEMBER_ROLE, RoleSessionName = "x" },
            { RoleArn = MEMBER_ROLE, RoleSessionName = "has space" },
            { RoleArn = MEMBER_ROLE, RoleSessionName = string.rep("a", 65) },
            { RoleArn = MEMBER_ROLE, RoleSessionName = "ok", DurationSeconds = tostring(dur.min - 1) },
            { RoleArn = MEMBER_ROLE, RoleSessionName = "ok", DurationSeconds = tostring(dur.max + 1) },
            { RoleArn = MEMBER_ROLE, RoleSessionName = "ok", DurationSeconds = "soon" },
            { RoleSessionName = "ok" },
        }) do
            local r = sts(a, "AssumeRole", params)
            assert.equal(400, r.status, r.body)
            assert.equal("ValidationError", C.xml(r.body, "Code"))
        end
        local r = sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "a+b=c,d.e@f-g_h", DurationSeconds = "900" })
        assert.equal(200, r.status, r.body)
        local exp = iso_to_epoch(C.xml(r.body, "Expiration"))
        assert.truthy(math.abs(exp - (host.realtime() + 900)) < 60)
    end)

    it("expired temporary credentials answer ExpiredToken", function()
        local a = new_app()
        local c = creds_of(sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "short", DurationSeconds = "900" }))
        assert.equal(200, sts(a, "GetCallerIdentity", nil, c).status)
        advance(a, 901)
        local r = sts(a, "GetCallerIdentity", nil, c)
        assert.equal(400, r.status)
        assert.equal("ExpiredToken", C.xml(r.body, "Code"))
        r = C.call(a, C.signed { service = "detective", path = "/graphs/list", body = "{}", creds = c })
        assert.equal(400, r.status)
        assert.equal("ExpiredTokenException", r.headers["x-amzn-errortype"])
        -- long-term keys are unaffected by the emulated clock
        assert.equal(200, sts(a, "GetCallerIdentity").status)
    end)

    it("limits role chaining to one hour", function()
        local a = new_app()
        local c = creds_of(sts(a, "AssumeRole", { RoleArn = "arn:aws:iam::111122223333:role/DetectiveAdministrator", RoleSessionName = "hop1" }))
        local r = sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "hop2", DurationSeconds = "7200" }, c)
        assert.equal(400, r.status)
        assert.matches("role chaining", C.xml(r.body, "Message"))
        r = sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "hop2" }, c)
        assert.equal(200, r.status)
    end)

    it("GetSessionToken issues credentials for the same user, not from session credentials", function()
        local a = new_app()
        local r = sts(a, "GetSessionToken", { DurationSeconds = "1800" })
        assert.equal(200, r.status, r.body)
        local c = creds_of(r)
        local who = sts(a, "GetCallerIdentity", nil, c)
        assert.equal("arn:aws:iam::111122223333:user/security-admin", C.xml(who.body, "Arn"))
        r = sts(a, "GetSessionToken", nil, c)
        assert.equal(403, r.status)
        assert.equal("AccessDenied", C.xml(r.body, "Code"))
    end)

    it("AssumeRoleWithWebIdentity takes no signature and accepts any token by default", function()
        local a = new_app()
        local body = C.form("AssumeRoleWithWebIdentity", { RoleArn = MEMBER_ROLE, RoleSessionName = "ci", WebIdentityToken = "opaque-token" })
        local r = C.call(a, { method = "POST", path = "/", query = "", body = body,
            headers = { host = "x", ["content-type"] = "application/x-www-form-urlencoded" } })
        assert.equal(200, r.status, r.body)
        local c = creds_of(r)
        assert.equal("444455556666", C.xml(sts(a, "GetCallerIdentity", nil, c).body, "Account"))
        -- other operations still need a signature
        r = C.call(a, { method = "POST", path = "/", query = "", body = C.form("AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "ci" }),
            headers = { host = "x", ["content-type"] = "application/x-www-form-urlencoded" } })
        assert.equal(403, r.status)
    end)

    it("AssumeRoleWithWebIdentity accepts only the subjects the scenario lists", function()
        local crypto = require "aws.core.crypto"
        local function jwt(claims)
            local function b64url(s) return (crypto.base64_encode(s):gsub("+", "-"):gsub("/", "_"):gsub("=", "")) end
            return b64url('{"alg":"none"}') .. "." .. b64url(claims) .. ".sig"
        end
        local sc = {
            accounts = { { id = "111122223333", access_key_id = "AKIATESTWEBIDENTITY1", secret_access_key = "s" } },
            roles = { { arn = "arn:aws:iam::111122223333:role/CI", trusts = {} } },
            sts = { web_identity_subjects = { "repo:example/ir:ref:refs/heads/main" } },
        }
        local a = new_app({ scenario_table = sc })
        local function call(token)
            return C.call(a, { method = "POST", path = "/", query = "", headers = { host = "x", ["content-type"] = "application/x-www-form-urlencoded" },
                body = C.form("AssumeRoleWithWebIdentity", { RoleArn = "arn:aws:iam::111122223333:role/CI", RoleSessionName = "gh", WebIdentityToken = token }) })
        end
        local ok = call(jwt('{"sub":"repo:example/ir:ref:refs/heads/main","iss":"https://token.example","aud":"sts.amazonaws.com"}'))
        assert.equal(200, ok.status, ok.body)
        assert.equal("repo:example/ir:ref:refs/heads/main", C.xml(ok.body, "SubjectFromWebIdentityToken"))
        assert.equal("https://token.example", C.xml(ok.body, "Provider"))
        local bad = call(jwt('{"sub":"repo:attacker/x"}'))
        assert.equal(400, bad.status)
        assert.equal(model.shape("sts", "InvalidIdentityTokenException").error_code, C.xml(bad.body, "Code"))
    end)

    it("names unimplemented and unknown actions", function()
        local a = new_app()
        local r = sts(a, "GetFederationToken", { Name = "bob" })
        assert.equal(501, r.status)
        assert.equal("NotImplemented", C.xml(r.body, "Code"))
        assert.matches("GetFederationToken", C.xml(r.body, "Message"))
        r = sts(a, "NoSuchAction")
        assert.equal(400, r.status)
        assert.equal("InvalidAction", C.xml(r.body, "Code"))
        r = C.call(a, C.signed { service = "sts", body = "Version=2011-06-15" })
        assert.equal(400, r.status)
        assert.equal("MissingAction", C.xml(r.body, "Code"))
    end)

    it("escapes XML special characters in answers", function()
        local a = new_app()
        local r = sts(a, "AssumeRole", { RoleArn = "arn:aws:iam::444455556666:role/<x>&", RoleSessionName = "ok" })
        assert.equal(403, r.status)
        assert.matches("&lt;x&gt;&amp;", r.body)
        assert.not_matches("<x>&", r.body, 1, true)
    end)
end)

describe("emulator STS with the AWS CLI", function()
    if not proc.have("/usr/bin/aws") then
        pending("/usr/bin/aws (AWS CLI v2) is not installed")
        return
    end
    local emulator = require "aws.core.emulator"
    local srv
    setup(function() srv = emulator.start { port = 0 } end)
    teardown(function() srv:stop() end)

    local function aws(creds, args)
        local env = { "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_DEFAULT_REGION=us-east-1",
            "AWS_ACCESS_KEY_ID=" .. proc.quote(creds.access_key_id), "AWS_SECRET_ACCESS_KEY=" .. proc.quote(creds.secret_access_key),
            "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true" }
        if creds.session_token then env[#env + 1] = "AWS_SESSION_TOKEN=" .. proc.quote(creds.session_token) end
        local errf = files.tmpname()
        local out, rc = proc.output("env -u AWS_PROFILE -u AWS_SESSION_TOKEN " .. table.concat(env, " ")
            .. " /usr/bin/aws --endpoint-url " .. srv:url() .. " --output json " .. args .. " 2>" .. errf)
        local err = files.read(errf)
        os.remove(errf)
        return rc, out, err
    end

    local cjson = require "cjson"

    it("get-caller-identity verifies botocore's signature and parses our XML", function()
        local rc, out, err = aws(C.ADMIN, "sts get-caller-identity")
        assert.equal(0, rc, err)
        local doc = cjson.decode(out)
        assert.equal("111122223333", doc.Account)
        assert.equal("arn:aws:iam::111122223333:user/security-admin", doc.Arn)
    end)

    it("assume-role credentials work in the AWS CLI as the assumed role", function()
        local rc, out, err = aws(C.ADMIN, "sts assume-role --role-arn " .. MEMBER_ROLE .. " --role-session-name cli-test")
        assert.equal(0, rc, err)
        local doc = cjson.decode(out)
        assert.matches("^ASIA", doc.Credentials.AccessKeyId)
        assert.equal("arn:aws:sts::444455556666:assumed-role/DetectiveMember/cli-test", doc.AssumedRoleUser.Arn)
        assert.truthy(doc.Credentials.Expiration)
        local c = secrets.from_sts(doc.Credentials)
        rc, out, err = aws(c, "sts get-caller-identity")
        assert.equal(0, rc, err)
        doc = cjson.decode(out)
        assert.equal("444455556666", doc.Account)
        assert.equal("arn:aws:sts::444455556666:assumed-role/DetectiveMember/cli-test", doc.Arn)
    end)

    it("the AWS CLI sees AccessDenied and a bad secret as the service's errors", function()
        local rc, _, err = aws(C.PROD, "sts assume-role --role-arn " .. MEMBER_ROLE .. " --role-session-name nope")
        assert.equal(254, rc)
        assert.matches("%(AccessDenied%)", err)
        rc, _, err = aws({ access_key_id = C.ADMIN.access_key_id, secret_access_key = "wrong" }, "sts get-caller-identity")
        assert.equal(254, rc)
        assert.matches("%(SignatureDoesNotMatch%)", err)
    end)

    it("the AWS CLI reaches Detective and GuardDuty on the same port", function()
        local rc, out, err = aws(C.ADMIN, "detective list-graphs")
        assert.equal(0, rc, err)
        assert.truthy(cjson.decode(out).GraphList)
        rc, out, err = aws(C.ADMIN, "detective list-members --graph-arn arn:aws:detective:us-east-1:111122223333:graph:bad")
        assert.equal(254, rc)
        assert.matches("%(ValidationException%)", err)
    end)
end)
