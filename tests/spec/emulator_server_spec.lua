-- The emulator's front end: SigV4 verification, routing by credential scope + method/path,
-- request decoding and validation, error and response encoding (router.lua + codecs), the
-- scenario loader, the HTTP server (server.c via aws.core.emulator) and the `detlua emulator`
-- command. Oracles: the service models (bindings, status codes, wire names), the AWS wire
-- conventions in the reference (§1.2, §1.3, §8), curl's own SigV4 signer (--aws-sigv4) as an
-- independent client. Service modules are replaced by stubs defined here (router option
-- `services`), so these tests do not depend on the Detective/GuardDuty semantics.
local C = require "emulator_client"
local files = require "files"
local proc = require "proc"
local router = require "detlua.emulator.router"
local E = require "detlua.emulator.errors"
local model = require "aws.core.model"
local host = require "aws.core.host"
local scenario = require "detlua.emulator.scenario"

local SRC = files.SRC
local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local GRAPH = "arn:aws:detective:us-east-1:111122223333:graph:" .. string.rep("0123456789abcdef", 2)

-- --- stubs -----------------------------------------------------------------------------------

local calls = {}
local function last() return calls[#calls] end

local DetStub = {}
DetStub.__index = DetStub
function DetStub.new(world) return setmetatable({ world = world }, DetStub) end
function DetStub:handle(ctx, op, input)
    calls[#calls + 1] = { ctx = ctx, op = op, input = input }
    if op == "ListGraphs" then
        return { GraphList = { { Arn = GRAPH, CreatedTime = 1700000000.25 } } }
    elseif op == "CreateGraph" then
        local tags = input.Tags or {}
        if tags.boom == "plain" then error("stub exploded") end
        if tags.boom == "quota" then E.raise("ServiceQuotaExceededException", "Too many members.", { Resources = { "MemberAccount" } }) end
        if tags.boom == "denied" then
            E.raise("AccessDeniedException", "Not yours.", { ErrorCode = "INVALID_REQUEST_BODY", SubErrorCode = "INVALID_GRAPH_ARN" })
        end
        self.world.data.stub = { created = true }
        self.world:mark_dirty()
        return { GraphArn = GRAPH }
    elseif op == "ListTagsForResource" then
        return { Tags = { Team = "ir" } }
    end
    return nil
end

local GdStub = {}
GdStub.__index = GdStub
function GdStub.new(world) return setmetatable({ world = world }, GdStub) end
function GdStub:handle(ctx, op, input)
    calls[#calls + 1] = { ctx = ctx, op = op, input = input }
    if op == "ListDetectors" then return { DetectorIds = { "d1" }, NextToken = "t" } end
    if op == "GetFindings" then
        return { Findings = { { Id = "f1", AccountId = "444455556666", Arn = "arn", CreatedAt = "2026-01-01T00:00:00.000Z",
            Region = "us-east-1", SchemaVersion = "2.0", Severity = 8, Type = "T", UpdatedAt = "2026-01-01T00:00:00.000Z",
            Resource = { ResourceType = "AccessKey" } } } }
    end
    if op == "ArchiveFindings" then E.raise("BadRequestException", "The request is rejected because the detector is gone.", nil, { type = "InvalidInputException" }) end
    return nil
end

local function app(opts)
    opts = opts or {}
    opts.services = opts.services or { detective = DetStub, guardduty = GdStub }
    return router.new(opts)
end

local function rest(a, service, method, path, body, extra)
    extra = extra or {}
    local req = C.signed {
        service = service, method = method, path = path, query = extra.query, body = body or "",
        creds = extra.creds, time = extra.time, headers = extra.headers,
    }
    if extra.mutate then extra.mutate(req) end
    return C.call(a, req)
end

local function json_body(r)
    local wire = require "detlua.emulator.wire_json"
    return wire.plain(assert(wire.decode(r.body)))
end

-- =================================================================================================

describe("emulator router: SigV4 verification", function()
    local a = app()

    it("accepts a correctly signed request and names the caller's account", function()
        local r = rest(a, "detective", "POST", "/graphs/list", "{}")
        assert.equal(200, r.status)
        assert.equal("ListGraphs", last().op)
        assert.equal(C.ADMIN.account, last().ctx.account)
        assert.equal("arn:aws:iam::111122223333:user/security-admin", last().ctx.principal_arn)
        assert.equal("us-east-1", last().ctx.region)
        assert.matches(UUID, r.headers["x-amzn-requestid"])
        assert.equal(r.headers["x-amzn-requestid"], last().ctx.request_id)
    end)

    it("takes the calling account from the access key", function()
        rest(a, "detective", "POST", "/graphs/list", "{}", { creds = C.PROD })
        assert.equal(C.PROD.account, last().ctx.account)
    end)

    it("rejects a signature made with the wrong secret (403 InvalidSignatureException)", function()
        local n = #calls
        local r = rest(a, "detective", "POST", "/graphs/list", "{}",
            { creds = { access_key_id = C.ADMIN.access_key_id, secret_access_key = "not-the-secret" } })
        assert.equal(403, r.status)
        assert.equal("InvalidSignatureException", r.headers["x-amzn-errortype"])
        assert.matches("^The request signature we calculated does not match the signature you provided%.", json_body(r).message)
        assert.equal(n, #calls)
    end)

    it("rejects a request changed after signing", function()
        local r = rest(a, "detective", "POST", "/graphs/list", '{"MaxResults": 5}', {
            mutate = function(req) req.body = '{"MaxResults": 6}' end })
        assert.equal(403, r.status)
        assert.equal("InvalidSignatureException", r.headers["x-amzn-errortype"])
    end)

    it("rejects an unknown access key (403 UnrecognizedClientException)", function()
        local r = rest(a, "detective", "POST", "/graphs/list", "{}",
            { creds = { access_key_id = "AKIAUNKNOWNKEY000000", secret_access_key = "x" } })
        assert.equal(403, r.status)
        assert.equal("UnrecognizedClientException", r.headers["x-amzn-errortype"])
        assert.equal("The security token included in the request is invalid.", json_body(r).message)
    end)

    it("rejects a request without authentication (403 MissingAuthenticationTokenException)", function()
        local r = C.call(a, { method = "POST", path = "/graphs/list", query = "", headers = { host = "x", ["content-type"] = "application/json" }, body = "{}" })
        assert.equal(403, r.status)
        assert.equal("MissingAuthenticationTokenException", r.headers["x-amzn-errortype"])
        assert.matches(UUID, r.headers["x-amzn-requestid"])
    end)

    it("rejects a request signed more than 5 minutes ago, with AWS's message", function()
        local now = host.realtime()
        local r = rest(a, "detective", "POST", "/graphs/list", "{}", { time = now - 600 })
        assert.equal(403, r.status)
        assert.equal("InvalidSignatureException", r.headers["x-amzn-errortype"])
        local m = json_body(r).message
        local t, floor, wall = m:match("^Signature expired: (%d+T%d+Z) is now earlier than (%d+T%d+Z) %((%d+T%d+Z) %- 5 min%.%)$")
        assert.truthy(t, m)
        assert.equal(os.date("!%Y%m%dT%H%M%SZ", math.floor(now - 600)), t)
        local auth = require "detlua.emulator.auth"
        assert.equal(300, auth.parse_amz_date(wall) - auth.parse_amz_date(floor))
    end)

    it("rejects a request signed more than 5 minutes in the future", function()
        local r = rest(a, "detective", "POST", "/graphs/list", "{}", { time = host.realtime() + 900 })
        assert.equal(403, r.status)
        assert.matches("^Signature not yet current: ", json_body(r).message)
    end)

    it("accepts a small clock skew", function()
        local r = rest(a, "detective", "POST", "/graphs/list", "{}", { time = host.realtime() - 120 })
        assert.equal(200, r.status)
    end)

    it("rejects a malformed Authorization header (400 IncompleteSignatureException)", function()
        local r = rest(a, "detective", "POST", "/graphs/list", "{}", {
            mutate = function(req) req.headers.authorization = "AWS4-HMAC-SHA256 Credential=AKIAEMULATORSECURITY/20260101/us-east-1/detective/aws4_request" end })
        assert.equal(400, r.status)
        assert.equal("IncompleteSignatureException", r.headers["x-amzn-errortype"])
        r = rest(a, "detective", "POST", "/graphs/list", "{}", {
            mutate = function(req) req.headers.authorization = "Basic dXNlcjpwYXNz" end })
        assert.equal(400, r.status)
    end)

    it("answers STS authentication failures in XML with the query-protocol codes", function()
        local r = C.call(a, C.signed { service = "sts", body = C.form("GetCallerIdentity"),
            creds = { access_key_id = C.ADMIN.access_key_id, secret_access_key = "wrong" } })
        assert.equal(403, r.status)
        assert.equal("text/xml", r.headers["content-type"])
        assert.equal("SignatureDoesNotMatch", C.xml(r.body, "Code"))
        assert.equal("Sender", C.xml(r.body, "Type"))
        assert.equal(r.headers["x-amzn-requestid"], C.xml(r.body, "RequestId"))
        r = C.call(a, C.signed { service = "sts", body = C.form("GetCallerIdentity"),
            creds = { access_key_id = "AKIANOBODY0000000000", secret_access_key = "x" } })
        assert.equal("InvalidClientTokenId", C.xml(r.body, "Code"))
        r = C.call(a, { method = "POST", path = "/", query = "", body = C.form("GetCallerIdentity"),
            headers = { host = "x", ["content-type"] = "application/x-www-form-urlencoded" } })
        assert.equal(403, r.status)
        assert.equal("MissingAuthenticationToken", C.xml(r.body, "Code"))
    end)

    it("accepts presigned (query) authentication", function()
        local sigv4 = require "aws.sigv4"
        local res = sigv4.presign {
            method = "GET", url = "http://127.0.0.1:8000/?Action=GetCallerIdentity&Version=2011-06-15",
            region = "us-east-1", service = "sts", credentials = C.ADMIN, time = host.realtime(), expires = 60,
        }
        local path, q = res.url:match("^http://[^/]+(/[^?]*)%??(.*)$")
        local r = C.call(a, { method = "GET", path = path, query = q, headers = { host = "127.0.0.1:8000" }, body = "" })
        assert.equal(200, r.status, r.body)
        assert.equal(C.ADMIN.account, C.xml(r.body, "Account"))
        -- change the signature's first digit to a different one (a fixed "0" would be a
        -- no-op one time in sixteen)
        local bad = q:gsub("X%-Amz%-Signature=(%x)", function(d)
            return "X-Amz-Signature=" .. (d == "0" and "1" or "0")
        end)
        r = C.call(a, { method = "GET", path = path, query = bad, headers = { host = "127.0.0.1:8000" }, body = "" })
        assert.equal(403, r.status)
    end)
end)

describe("emulator router: routing", function()
    local a = app()

    it("routes by the credential scope's service on one endpoint", function()
        assert.equal(200, rest(a, "detective", "POST", "/graphs/list", "{}").status)
        assert.equal("ListGraphs", last().op)
        assert.equal(200, rest(a, "guardduty", "GET", "/detector", "").status)
        assert.equal("ListDetectors", last().op)
        local r = C.call(a, C.signed { service = "sts", body = C.form("GetCallerIdentity") })
        assert.equal(200, r.status)
    end)

    it("answers 404 UnknownOperationException for a path no operation has", function()
        local r = rest(a, "detective", "POST", "/graphs/lists", "{}")
        assert.equal(404, r.status)
        assert.equal("UnknownOperationException", r.headers["x-amzn-errortype"])
        r = rest(a, "detective", "POST", "/graphs/list/", "{}")
        assert.equal(404, r.status)
    end)

    it("answers 405 with Allow for a known path and the wrong method", function()
        local r = rest(a, "detective", "GET", "/graphs/list", "")
        assert.equal(405, r.status)
        assert.equal("POST", r.headers.allow)
        assert.equal("application/json", r.headers["content-type"])
        assert.truthy(json_body(r).message)
    end)

    it("answers 404 for a service the emulator does not serve", function()
        local r = rest(a, "s3", "GET", "/", "")
        assert.equal(404, r.status)
        assert.matches("s3", json_body(r).message)
    end)

    it("matches every Detective and GuardDuty request URI of the model to its operation", function()
        for _, sname in ipairs({ "detective", "guardduty" }) do
            local svc = model.service(sname)
            for _, name in ipairs(svc.operation_names) do
                local op = svc.operations[name]
                local path = op.request_uri:gsub("{[%w_]+%+?}", "x1")
                local routes = require("detlua.emulator.codec_restjson").routes(svc)
                local got = require("detlua.emulator.codec_restjson").match(routes, op.http_method, path:match("^[^?]*"), {})
                assert.equal(name, got and got.name, sname .. " " .. op.http_method .. " " .. path)
            end
        end
    end)

    it("percent-decodes URI labels (ListTagsForResource /tags/{ResourceArn})", function()
        local r = rest(a, "detective", "GET", "/tags/" .. C.urlencode(GRAPH), "")
        assert.equal(200, r.status)
        assert.equal("ListTagsForResource", last().op)
        assert.equal(GRAPH, last().input.ResourceArn)
        assert.same({ Tags = { Team = "ir" } }, json_body(r))
    end)

    it("refuses bad percent-encoding in a label with a validation error", function()
        local r = rest(a, "detective", "GET", "/tags/arn%3Zaws", "")
        assert.equal(400, r.status)
        assert.equal("ValidationException", r.headers["x-amzn-errortype"])
    end)

    it("reads repeated query parameters into a list (UntagResource tagKeys)", function()
        local r = rest(a, "detective", "DELETE", "/tags/" .. C.urlencode(GRAPH), "", { query = "tagKeys=a&tagKeys=b%3Ac" })
        assert.equal(model.operation("detective", "UntagResource").success_status, r.status)
        assert.equal(204, r.status)
        assert.equal("", r.body)
        assert.same({ "a", "b:c" }, last().input.TagKeys)
    end)

    it("answers the model's success status with an empty body for empty outputs (TagResource 204)", function()
        local r = rest(a, "detective", "POST", "/tags/" .. C.urlencode(GRAPH), '{"Tags":{"k":"v"}}')
        assert.equal(204, r.status)
        assert.equal("", r.body)
        assert.same({ k = "v" }, last().input.Tags)
    end)

    it("accepts {} and an empty body for an operation without input", function()
        for _, body in ipairs({ "{}", "" }) do
            local r = rest(a, "detective", "POST", "/orgs/disableAdminAccount", body)
            assert.equal(200, r.status)
            assert.equal("DisableOrganizationAdminAccount", last().op)
            assert.equal("", r.body)
        end
    end)

    it("maps GuardDuty's lowerCamel wire names to member names and back", function()
        local r = rest(a, "guardduty", "POST", "/detector/d1/findings/get", '{"findingIds":["f1"],"unknownKey":1}')
        assert.equal(200, r.status)
        assert.same({ DetectorId = "d1", FindingIds = { "f1" } }, last().input)
        local out = json_body(r)
        assert.equal("f1", out.findings[1].id)
        assert.equal("AccessKey", out.findings[1].resource.resourceType)
        assert.equal(8.0, out.findings[1].severity)
        r = rest(a, "guardduty", "GET", "/detector", "", { query = "maxResults=5" })
        assert.equal(5, last().input.MaxResults)
        assert.same({ detectorIds = { "d1" }, nextToken = "t" }, json_body(r))
    end)

    it("formats Detective timestamps as ISO 8601 with milliseconds", function()
        local r = rest(a, "detective", "POST", "/graphs/list", "{}")
        assert.equal("2023-11-14T22:13:20.250Z", json_body(r).GraphList[1].CreatedTime)
    end)

    it("parses timestamps in requests into epoch seconds", function()
        local body = '{"GraphArn":"' .. GRAPH .. '","EntityArn":"arn:aws:iam::444455556666:user/alice",'
            .. '"ScopeStartTime":"2026-01-01T00:00:00Z","ScopeEndTime":"2026-01-02T00:00:00.500Z"}'
        local r = rest(a, "detective", "POST", "/investigations/startInvestigation", body)
        assert.equal(200, r.status, r.body)
        assert.equal(1767225600, last().input.ScopeStartTime)
        assert.equal(1767312000.5, last().input.ScopeEndTime)
    end)
end)

describe("emulator router: bad input", function()
    local a = app()

    it("answers malformed JSON with Detective's ValidationException / INVALID_REQUEST_BODY", function()
        for _, body in ipairs({ "{", '{"MaxResults": }', "[1,2]", '"x"', "{} trailing", '{"a":1,}' }) do
            local r = rest(a, "detective", "POST", "/graphs/list", body)
            assert.equal(400, r.status, body)
            assert.equal("ValidationException", r.headers["x-amzn-errortype"])
            local b = json_body(r)
            assert.equal("INVALID_REQUEST_BODY", b.ErrorCode)
            assert.truthy(b.Message)
        end
    end)

    it("answers GuardDuty input errors as BadRequestException with __type InvalidInputException", function()
        local r = rest(a, "guardduty", "POST", "/detector/d1/findings/get", "{nope")
        assert.equal(400, r.status)
        assert.equal("BadRequestException", r.headers["x-amzn-errortype"])
        local b = json_body(r)
        assert.equal("InvalidInputException", b.__type)
        assert.matches("^The request is rejected because ", b.message)
        r = rest(a, "guardduty", "POST", "/detector/d1/findings/get", "{}")
        assert.equal(400, r.status)
        assert.matches("[Ff]indingIds", json_body(r).message)
    end)

    it("answers model violations with ValidationException / INVALID_REQUEST_BODY", function()
        local cases = {
            { "/graph/members/list", '{"GraphArn":"' .. GRAPH .. '","MaxResults":0}', "MaxResults" },
            { "/graph/members/list", '{"GraphArn":"' .. GRAPH .. '","MaxResults":"5"}', "MaxResults" },
            { "/graph/members/list", '{}', "GraphArn" },
            { "/graph/members", '{"GraphArn":"' .. GRAPH .. '","Accounts":[{"AccountId":"12345"}]}', "AccountId" },
            { "/graph/members", '{"GraphArn":"' .. GRAPH .. '","Accounts":{"AccountId":"123456789012"}}', "Accounts" },
            { "/investigations/updateInvestigationState", '{"GraphArn":"' .. GRAPH .. '","InvestigationId":"000000000000000000001","State":"DONE"}', "State" },
        }
        for _, c in ipairs(cases) do
            local r = rest(a, "detective", "POST", c[1], c[2])
            assert.equal(400, r.status, c[2])
            assert.equal("ValidationException", r.headers["x-amzn-errortype"])
            local b = json_body(r)
            assert.equal("INVALID_REQUEST_BODY", b.ErrorCode, c[2])
            assert.matches(c[3], b.Message)
        end
    end)

    it("answers a malformed graph ARN with ErrorCode INVALID_GRAPH_ARN", function()
        for _, arn in ipairs({ "arn:aws:detective:us-east-1:111122223333:graph:123412341234",
            "arn:aws:detective:us-east-1:1111:graph:" .. string.rep("a", 32), "nonsense" }) do
            local r = rest(a, "detective", "POST", "/graph/members/list", '{"GraphArn":"' .. arn .. '"}')
            assert.equal(400, r.status)
            assert.equal("INVALID_GRAPH_ARN", json_body(r).ErrorCode, arn)
        end
        local r = rest(a, "detective", "POST", "/membership/datasources/get", '{"GraphArns":["' .. GRAPH .. '","bad"]}')
        assert.equal("INVALID_GRAPH_ARN", json_body(r).ErrorCode)
    end)

    it("does not call the service module for rejected input", function()
        local n = #calls
        rest(a, "detective", "POST", "/graph/members/list", '{"GraphArn": 5}')
        assert.equal(n, #calls)
    end)
end)

describe("emulator router: service errors", function()
    local a = app()

    it("encodes a modeled error with its model status and extra members", function()
        local r = rest(a, "detective", "POST", "/graph", '{"Tags":{"boom":"quota"}}')
        assert.equal(model.shape("detective", "ServiceQuotaExceededException").error_status, r.status)
        assert.equal(402, r.status)
        assert.equal("ServiceQuotaExceededException", r.headers["x-amzn-errortype"])
        assert.same({ Message = "Too many members.", Resources = { "MemberAccount" } }, json_body(r))
        r = rest(a, "detective", "POST", "/graph", '{"Tags":{"boom":"denied"}}')
        assert.equal(403, r.status)
        assert.same({ Message = "Not yours.", ErrorCode = "INVALID_REQUEST_BODY", SubErrorCode = "INVALID_GRAPH_ARN" }, json_body(r))
    end)

    it("encodes GuardDuty errors with message and __type", function()
        local r = rest(a, "guardduty", "POST", "/detector/d1/findings/archive", '{"findingIds":["f1"]}')
        assert.equal(400, r.status)
        assert.equal("BadRequestException", r.headers["x-amzn-errortype"])
        assert.same({ message = "The request is rejected because the detector is gone.", __type = "InvalidInputException" }, json_body(r))
    end)

    it("turns a plain Lua error in a service module into 500 InternalServerException and keeps serving", function()
        local r = rest(a, "detective", "POST", "/graph", '{"Tags":{"boom":"plain"}}')
        assert.equal(500, r.status)
        assert.equal("InternalServerException", r.headers["x-amzn-errortype"])
        assert.matches(r.headers["x-amzn-requestid"], json_body(r).Message, 1, true)
        assert.not_matches("stub exploded", r.body)
        assert.equal(200, rest(a, "detective", "POST", "/graphs/list", "{}").status)
    end)
end)

describe("emulator scenario", function()
    it("has a built-in default with an administrator, members, a management account and fixtures", function()
        local sc = scenario.default()
        assert.equal("111122223333", sc.administrator)
        assert.equal("999988887777", sc.organization.management_account)
        assert.is_true(#sc.accounts >= 4)
        for _, acct in ipairs(sc.accounts) do
            assert.matches("^AKIAEMULATOR", acct.access_key_id)
        end
        local types = {}
        local inv = sc.investigations["arn:aws:iam::444455556666:user/alice"]
        for _, ind in ipairs(inv.indicators) do types[ind.IndicatorType] = true end
        for _, t in ipairs(model.shape("detective", "IndicatorType").enum) do assert.is_true(types[t], t) end
        assert.is_true(#sc.guardduty.findings >= 1)
        local member_roles = 0
        for _, r in ipairs(sc.roles) do
            if r.arn:match(":role/DetectiveMember$") then
                member_roles = member_roles + 1
                assert.same({ sc.administrator }, r.trusts)
            end
        end
        assert.is_true(member_roles >= 2)
    end)

    it("loads the contract's example format", function()
        local sc = scenario.load(SRC .. "/tests/data/scenarios/contract-example.json")
        assert.equal("111122223333", sc.administrator)
        assert.same({ "111122223333", "444455556666" }, sc.organization.members)
    end)

    it("names the JSON path of a mistake", function()
        local ok, err = pcall(scenario.load, SRC .. "/tests/data/scenarios/bad-account-id.json")
        assert.is_false(ok)
        assert.matches("bad%-account%-id%.json: accounts%[1%]%.id: expected a 12%-digit account id", err)
        ok, err = pcall(scenario.load, SRC .. "/tests/data/scenarios/bad-json.json")
        assert.is_false(ok)
        assert.matches("not valid JSON", err)
        local cases = {
            { { accounts = {} }, "accounts: must hold at least 1" },
            { { accounts = { { id = "111122223333" } } }, "access_key_id" },
            { { accounts = { { id = "111122223333", access_key_id = "AKIAX", secret_access_key = "s" } } }, "accounts%[0%]%.access_key_id" },
            { { accounts = { { id = "111122223333", access_key_id = "AKIAEMULATORSECURITY", secret_access_key = "s" } }, roles = { { arn = "arn:aws:iam::1:role/x", trusts = {} } } }, "roles%[0%]%.arn" },
            { { accounts = { { id = "111122223333", access_key_id = "AKIAEMULATORSECURITY", secret_access_key = "s" } }, acounts = {} }, "did you mean \"accounts\"" },
            { { accounts = { { id = "111122223333", access_key_id = "AKIAEMULATORSECURITY", secret_access_key = "s" } },
                investigations = { ["arn:aws:iam::1:user/a"] = { indicators = { { IndicatorType = "NOPE" } } } } }, "indicators%[0%]%.IndicatorType" },
        }
        for _, c in ipairs(cases) do
            local ok2, e = pcall(scenario.validate, c[1], "t")
            assert.is_false(ok2)
            assert.matches(c[2], e)
        end
    end)

    it("drives the identities: keys of scenario_table accounts sign requests", function()
        local sc = { accounts = { { id = "123456789012", access_key_id = "AKIATESTONLY00000001", secret_access_key = "sekrit", user_name = "bob" } } }
        local a = app({ scenario_table = sc })
        assert.same({ access_key_id = "AKIATESTONLY00000001", secret_access_key = "sekrit", account = "123456789012" }, a:admin_credentials())
        local r = C.call(a, C.signed { service = "sts", body = C.form("GetCallerIdentity"),
            creds = { access_key_id = "AKIATESTONLY00000001", secret_access_key = "sekrit" } })
        assert.equal(200, r.status)
        assert.equal("arn:aws:iam::123456789012:user/bob", C.xml(r.body, "Arn"))
    end)
end)

-- =================================================================================================

describe("aws.core.emulator over HTTP", function()
    local emulator = require "aws.core.emulator"
    local have_curl = proc.have("curl")

    it("starts on a free loopback port and stops idempotently", function()
        local srv = emulator.start { port = 0 }
        assert.matches("^http://127%.0%.0%.1:%d+$", srv:url())
        assert.equal(srv:port(), tonumber(srv:url():match(":(%d+)$")))
        assert.same(C.ADMIN, srv:admin_credentials())
        assert.equal("us-east-1", srv:region())
        srv:stop()
        srv:stop()
        assert.matches("stopped", tostring(srv))
        assert.has_error(function() srv:url() end)
    end)

    it("refuses non-loopback hosts and bad options before listening", function()
        assert.has_error(function() emulator.start { host = "0.0.0.0" } end)
        assert.has_error(function() emulator.start { host = "192.168.1.1" } end)
        assert.has_error(function() emulator.start { port = 70000 } end)
        assert.has_error(function() emulator.start { scenario_table = { accounts = {} } } end)
        local ok, err = pcall(emulator.start, { scenario = SRC .. "/tests/data/scenarios/bad-account-id.json" })
        assert.is_false(ok)
        assert.matches("accounts%[1%]%.id", err)
    end)

    it("closes with <close>", function()
        local url
        do
            local srv <close> = emulator.start { port = 0 }
            url = srv:url()
        end
        if have_curl then
            local r = C.http(url, { method = "GET", path = "/_emulator/health" })
            assert.equal(0, r.status) -- nothing listens any more
        end
    end)

    describe("with curl", function()
        if not have_curl then
            pending("curl is not installed")
            return
        end
        local srv
        setup(function() srv = emulator.start { port = 0 } end)
        teardown(function() srv:stop() end)

        local function sigv4_curl(service, path, data, creds, extra)
            creds = creds or C.ADMIN
            local cmd = string.format("curl -s -o - -w '\\n%%{http_code}' --aws-sigv4 %s --user %s %s %s %s",
                proc.quote("aws:amz:us-east-1:" .. service), proc.quote(creds.access_key_id .. ":" .. creds.secret_access_key),
                data and ("--data-binary " .. proc.quote(data)) or "", extra or "", proc.quote(srv:url() .. path))
            local body, code = proc.output(cmd):match("^(.*)\n(%d+)$")
            return tonumber(code), body
        end

        it("verifies curl's own SigV4 signature (an independent signer)", function()
            local code, body = sigv4_curl("sts", "/", C.form("GetCallerIdentity"))
            assert.equal(200, code)
            assert.equal(C.ADMIN.account, C.xml(body, "Account"))
            code = sigv4_curl("sts", "/", C.form("GetCallerIdentity"), { access_key_id = C.ADMIN.access_key_id, secret_access_key = "x" })
            assert.equal(403, code)
        end)

        it("sends x-amzn-RequestId on every response, errors included", function()
            for _, req in ipairs({ { method = "GET", path = "/_emulator/health" }, { method = "GET", path = "/nope" },
                { method = "POST", path = "/", body = "Action=GetCallerIdentity", headers = { ["content-type"] = "application/x-www-form-urlencoded" } } }) do
                local r = C.http(srv:url(), req)
                assert.matches(UUID, r.headers["x-amzn-requestid"])
            end
        end)

        it("refuses bodies over the cap with 413 and keeps serving", function()
            local big = files.tmpname()
            files.write(big, string.rep("x", 2 * 1024 * 1024))
            local out = proc.output("curl -s -o - -w '\\n%{http_code}' -H 'Content-Type: application/json' --data-binary @" .. big .. " " .. srv:url() .. "/graphs/list")
            assert.equal("413", out:match("(%d+)$"))
            assert.matches("exceeds the limit of 1048576 bytes", out)
            -- chunked: no Content-Length, the cap is found while reading
            out = proc.output("curl -s -o - -w '\\n%{http_code}' -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary @" .. big .. " " .. srv:url() .. "/graphs/list")
            assert.equal("413", out:match("(%d+)$"))
            os.remove(big)
            assert.equal(200, (sigv4_curl("sts", "/", C.form("GetCallerIdentity"))))
        end)

        it("survives hostile input and answers each with an error", function()
            local cases = {
                { { method = "POST", path = "/graphs/list", body = "{", headers = { ["content-type"] = "application/json" } }, 403 },
                { { method = "GET", path = "/%zz/%%", query = "a=%G1&&=&b" }, 403 },
                { { method = "GET", path = "/_emulator/nothing" }, 404 },
                { { method = "DELETE", path = "/_emulator/health/x" }, 404 },
                { { method = "POST", path = "/", body = "Action=%ZZ", headers = { ["content-type"] = "application/x-www-form-urlencoded" } }, 400 },
                { { method = "POST", path = "/", body = "Action=GetCallerIdentity", headers = { ["content-type"] = "application/x-www-form-urlencoded", ["x-empty"] = "" } }, 403 },
                { { method = "PUT", path = "/graph", body = string.rep("[", 5000), headers = { authorization = "AWS4-HMAC-SHA256 garbage" } }, 400 },
            }
            for _, c in ipairs(cases) do
                local r = C.http(srv:url(), c[1])
                assert.equal(c[2], r.status, c[1].method .. " " .. c[1].path)
                assert.truthy(r.body ~= "")
            end
            -- a header line without a colon: MHD itself refuses the request
            local r = C.http(srv:url(), { method = "GET", path = "/_emulator/health" }, { "-H", proc.quote("X-Novalue;") })
            assert.equal(200, r.status)
            assert.equal(200, (sigv4_curl("sts", "/", C.form("GetCallerIdentity"))))
        end)

        it("passes the raw, percent-encoded path to the router", function()
            local code, body = sigv4_curl("detective", "/tags/" .. C.urlencode(GRAPH), nil, nil, "-X GET")
            -- whatever the Detective module says about this graph, the path was routed and decoded
            assert.truthy(code == 200 or code == 404 or code == 403, body)
            assert.not_matches("UnknownOperation", body)
        end)

        it("serves concurrent clients correctly", function()
            local dir = files.tmpdir()
            local cmds = {}
            for i = 1, 8 do
                local creds = i % 2 == 0 and C.PROD or C.ADMIN
                cmds[#cmds + 1] = string.format("curl -s -o %s/%d.out -w '%%{http_code}' --aws-sigv4 aws:amz:us-east-1:sts --user %s --data-binary %s %s > %s/%d.code &",
                    proc.quote(dir), i, proc.quote(creds.access_key_id .. ":" .. creds.secret_access_key), proc.quote(C.form("GetCallerIdentity")), proc.quote(srv:url() .. "/"), proc.quote(dir), i)
            end
            os.execute("(" .. table.concat(cmds, " ") .. " wait)")
            for i = 1, 8 do
                local expect = i % 2 == 0 and C.PROD.account or C.ADMIN.account
                assert.equal("200", files.read(dir .. "/" .. i .. ".code"))
                assert.equal(expect, C.xml(files.read(dir .. "/" .. i .. ".out"), "Account"))
            end
            files.rmdir(dir)
        end)
    end)
end)

describe("detlua emulator (the command)", function()
    if not os.getenv("DETLUA") or not proc.have("curl") then
        pending("needs $DETLUA and curl")
        return
    end

    it("prints the listening line, serves, and exits 0 on SIGTERM and on SIGINT", function()
        for _, sig in ipairs({ "TERM", "INT" }) do
            local child = C.spawn({ "--quiet" })
            assert.matches("^listening on http://127%.0%.0%.1:%d+$", child.line)
            local r = C.http(child.url, { method = "GET", path = "/_emulator/health" })
            assert.equal(200, r.status)
            child.signal(sig)
            assert.equal(0, child.wait())
            assert.equal("", child.rest)
        end
    end)

    it("logs one line per request on stderr, without secrets", function()
        local child = C.spawn({})
        local req = C.signed { service = "sts", body = C.form("GetCallerIdentity"), host = "127.0.0.1:" .. child.port }
        local r = C.http(child.url, req)
        assert.equal(200, r.status)
        assert.equal(0, child.stop())
        local log = child.errors()
        assert.matches("POST / %-> 200 sts%.GetCallerIdentity account 111122223333", log)
        assert.not_matches(C.ADMIN.secret_access_key, log, 1, true)
        assert.not_matches("Signature=", log)
    end)

    it("refuses a non-loopback --host and bad options with exit 2", function()
        local rc, out, err = C.run_emulator("--host 0.0.0.0 --port 0")
        assert.equal(2, rc)
        assert.equal("", out)
        assert.matches("not a loopback address", err)
        rc = C.run_emulator("--port 99999")
        assert.equal(2, rc)
        rc = C.run_emulator("--bogus")
        assert.equal(2, rc)
    end)

    it("exits 2 with the JSON path for an invalid scenario", function()
        local rc, _, err = C.run_emulator("--port 0 --scenario " .. proc.quote(SRC .. "/tests/data/scenarios/bad-account-id.json"))
        assert.equal(2, rc)
        assert.matches("accounts%[1%]%.id", err)
        rc = C.run_emulator("--port 0 --scenario /nonexistent/file.json")
        assert.equal(2, rc)
    end)

    it("serves a scenario file given with --scenario", function()
        local child = C.spawn({ "--quiet", "--scenario", proc.quote(SRC .. "/tests/data/scenarios/contract-example.json") })
        assert.truthy(child.url, child.errors())
        local req = C.signed { service = "sts", body = C.form("GetCallerIdentity"), host = "127.0.0.1:" .. child.port,
            creds = { access_key_id = "AKIATESTMEMBER000001", secret_access_key = "test-member-secret" } }
        local r = C.http(child.url, req)
        assert.equal(200, r.status)
        assert.equal("444455556666", C.xml(r.body, "Account"))
        child.stop()
    end)

    it("prints the built-in scenario, which validates", function()
        local rc, out = C.run_emulator("--print-scenario")
        assert.equal(0, rc)
        local sc = scenario.decode(out, "(printed)")
        assert.equal("111122223333", sc.administrator)
    end)
end)
