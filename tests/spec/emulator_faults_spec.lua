-- emulator_faults_spec.lua: the emulator's fault injection (docs/emulator.md, "Fault
-- injection"): the SPEC syntax and its JSON form, the router's decisions (which request
-- gets which fault, counted per operation), the fixture hooks /_emulator/faults and
-- /_emulator/stats, the scenario key and `detlua emulator --faults`, and what each fault
-- looks like on the wire and to the client (through a real listener). The client-side
-- expectations (codes, retryable or not) follow AWS's standard retry mode and the models.
local C = require "emulator_client"
local files = require "files"
local proc = require "proc"
local secrets = require "secrets"
local json = require "detlua.emulator.wire_json"
local faults = require "detlua.emulator.faults"
local router = require "detlua.emulator.router"
local emulator = require "aws.core.emulator"
local http = require "aws.core.http"
local aws = require "aws"

local function app(opts)
    return router.new(opts or {})
end

-- A signed Detective ListGraphs / CreateGraph request for the in-process router.
local function list_graphs()
    return C.signed { method = "POST", path = "/graphs/list", body = "{}", service = "detective" }
end

local handle = C.call

local function hook(a, method, what, body)
    return handle(a, { method = method, path = "/_emulator/" .. what, query = "", headers = {},
        body = body and json.encode(body) or "" })
end

local function client(srv, opts)
    local o = { endpoint = srv:url(), region = "us-east-1", credentials = secrets.plain(srv:admin_credentials()) }
    for k, v in pairs(opts or {}) do o[k] = v end
    return aws.client("detective", o)
end

local function raises(fn)
    local ok, err = pcall(fn)
    assert.is_false(ok, "expected an error")
    return err
end

describe("fault SPEC parsing", function()
    it("reads the string syntax", function()
        local cfg = faults.parse("ListMembers:throttle@1,2;*:reset-before@rate=0.1;seed=42")
        assert.equal(42, cfg.seed)
        assert.equal(2, #cfg.rules)
        assert.same({ { 1, 1 }, { 2, 2 } }, cfg.rules[1].calls)
        assert.equal("ListMembers", cfg.rules[1].operation)
        assert.equal("throttle", cfg.rules[1].fault)
        assert.equal("*", cfg.rules[2].operation)
        assert.equal(0.1, cfg.rules[2].rate)
        assert.equal("reset-before", cfg.rules[2].fault)
    end)

    it("reads ranges, arguments, services and aliases", function()
        local cfg = faults.parse("detective.GetMembers:delay=2500@3-5,9-; sts.*:429 ; ListGraphs:content-type=text/plain@all")
        local r1, r2, r3 = cfg.rules[1], cfg.rules[2], cfg.rules[3]
        assert.equal("detective", r1.service)
        assert.equal(2500, r1.delay_ms)
        assert.same({ { 3, 5 }, { 9, math.huge } }, r1.calls)
        assert.equal("sts", r2.service)
        assert.equal("throttle", r2.fault)
        assert.is_nil(r2.calls)
        assert.is_nil(r2.rate)
        assert.equal("text/plain", r3.content_type)
    end)

    it("reads the JSON form, as a table or as text", function()
        local t = { seed = 7, rules = { { operation = "ListMembers", fault = "throttle", calls = { 1, 2 } },
            { operation = "*", fault = "503", rate = 0.1 } } }
        local a = faults.parse(t)
        local b = faults.parse(json.encode(t))
        for _, cfg in ipairs({ a, b }) do
            assert.equal(7, cfg.seed)
            assert.same({ { 1, 1 }, { 2, 2 } }, cfg.rules[1].calls)
            assert.equal("503", cfg.rules[2].fault)
            assert.equal(0.1, cfg.rules[2].rate)
        end
        assert.equal(1, #faults.parse({ spec = "ListGraphs:500@1" }).rules)
        assert.same({ rules = {} }, faults.parse(nil))
        assert.equal(0, #faults.parse("").rules)
    end)

    it("names the item and the problem when the SPEC is wrong", function()
        assert.matches("unknown fault \"explode\"", raises(function() faults.parse("ListGraphs:explode") end))
        assert.matches("item 2 %(ListMember:throttle%).*no emulated operation is named \"ListMember\"",
            raises(function() faults.parse("ListGraphs:500;ListMember:throttle") end))
        assert.matches("expected call numbers", raises(function() faults.parse("ListGraphs:500@0") end))
        assert.matches("expected call numbers", raises(function() faults.parse("ListGraphs:500@5-2") end))
        assert.matches("probability", raises(function() faults.parse("ListGraphs:500@rate=1.5") end))
        assert.matches("takes no argument", raises(function() faults.parse("ListGraphs:500=3@1") end))
        assert.matches("expected an integer from 1 to 120000", raises(function() faults.parse("ListGraphs:delay=999999") end))
        assert.matches("unknown service \"s3\"", raises(function() faults.parse("s3.GetObject:500") end))
        assert.matches("rules%[0%]: give calls or rate, not both",
            raises(function() faults.parse({ rules = { { fault = "500", calls = { 1 }, rate = 0.5 } } }) end))
        assert.matches("rules%[0%]%.bytes: does not apply to fault 500",
            raises(function() faults.parse({ rules = { { fault = "500", bytes = 3 } } }) end))
        assert.matches("not valid JSON", raises(function() faults.parse("{\"rules\": [") end))
        -- E.start raises the same at once, without a traceback
        local msg = raises(function() emulator.start { faults = "Nope:500" } end)
        assert.matches("emulator%.start: faults: item 1 %(Nope:500%)", msg)
        assert.is_nil(msg:find("traceback", 1, true))
        assert.matches("faults: expected a string or a table", raises(function() emulator.start { faults = 5 } end))
    end)

    it("describes the rules back in both forms", function()
        local f = faults.new(faults.parse("ListMembers:throttle@1,2;*:truncate=10@4-;sts.GetCallerIdentity:503@rate=0.25;seed=9"))
        local d = f:describe()
        assert.equal("ListMembers:throttle@1,2;*:truncate=10@4-;sts.GetCallerIdentity:503@rate=0.25;seed=9", d.spec)
        assert.same({ calls = "1,2", fault = "throttle", fired = 0, operation = "ListMembers", phase = "before" }, d.rules[1])
        -- the canonical string reads back to the same rules
        local again = faults.new(faults.parse(d.spec)):describe()
        assert.same(d.rules, again.rules)
    end)
end)

describe("fault decisions", function()
    it("counts calls per operation and fires by call number", function()
        local f = faults.new(faults.parse("ListMembers:throttle@2,3;*:500@1"), 1)
        local seen = {}
        for _ = 1, 4 do
            local r = f:decide("detective", "ListMembers")
            seen[#seen + 1] = r and r.fault or "-"
        end
        assert.same({ "500", "throttle", "throttle", "-" }, seen)
        -- another operation has its own count
        assert.equal("500", f:decide("detective", "GetMembers").fault)
        assert.is_nil(f:decide("detective", "GetMembers"))
        -- GuardDuty's ListMembers is another operation than Detective's
        assert.equal("500", f:decide("guardduty", "ListMembers").fault)
    end)

    it("draws rates from the seed, the operation and the call number only", function()
        local function fired(seed, interleave)
            local f = faults.new(faults.parse("ListMembers:503@rate=0.5;seed=" .. seed))
            local out = {}
            for i = 1, 40 do
                if interleave then f:decide("detective", "GetMembers") end
                out[i] = f:decide("detective", "ListMembers") ~= nil
            end
            return out
        end
        local a = fired(1, false)
        assert.same(a, fired(1, true))
        assert.are_not.same(a, fired(2, false))
        local n = 0
        for _, x in ipairs(a) do if x then n = n + 1 end end
        assert.is_true(n > 5 and n < 35)
    end)

    it("applies rate 0 never and rate 1 always", function()
        local f = faults.new(faults.parse("ListGraphs:500@rate=0;GetMembers:500@rate=1;seed=3"))
        for _ = 1, 20 do
            assert.is_nil(f:decide("detective", "ListGraphs"))
            assert.is_truthy(f:decide("detective", "GetMembers"))
        end
    end)
end)

describe("the router with faults", function()
    it("answers Detective's modeled 429 and counts it", function()
        local a = app { faults = "ListGraphs:throttle@1" }
        local r = handle(a, list_graphs())
        assert.equal(429, r.status)
        assert.equal("TooManyRequestsException", r.headers["x-amzn-errortype"])
        assert.matches("Rate exceeded", json.decode(r.body).Message)
        assert.is_truthy(r.headers["x-amzn-requestid"])
        assert.equal(200, handle(a, list_graphs()).status)
        local s = json.decode(hook(a, "GET", "stats").body)
        assert.equal(2, s.operations["detective.ListGraphs"].requests)
        assert.equal(1, s.operations["detective.ListGraphs"].statuses["429"])
        assert.equal(1, s.operations["detective.ListGraphs"].faults.throttle)
    end)

    it("renders each status fault in the service's protocol", function()
        local a = app { faults = "*:503@1;*:502@2;*:500@3;*:400@4" }
        local r = handle(a, list_graphs())
        assert.equal(503, r.status)
        assert.equal("ServiceUnavailableException", r.headers["x-amzn-errortype"])
        r = handle(a, list_graphs())
        assert.equal(502, r.status)
        assert.matches("^text/html", r.headers["content-type"])
        assert.matches("<title>502 Bad Gateway</title>", r.body, 1, true)
        r = handle(a, list_graphs())
        assert.equal(500, r.status)
        assert.equal("InternalServerException", r.headers["x-amzn-errortype"])
        r = handle(a, list_graphs())
        assert.equal(400, r.status)
        assert.equal("ValidationException", r.headers["x-amzn-errortype"])
        -- STS keeps its query-protocol codes
        local b = app { faults = "sts.*:throttle@1" }
        r = handle(b, C.signed { body = C.form("GetCallerIdentity"), service = "sts" })
        assert.equal(400, r.status)
        assert.equal("Throttling", C.xml(r.body, "Code"))
    end)

    it("tells server.c how to deliver connection-level faults", function()
        local a = app { faults = "ListGraphs:reset-before@1;ListGraphs:reset-after@2;ListGraphs:delay=1500@3;"
            .. "ListGraphs:truncate@4;ListGraphs:truncate=3@5;ListGraphs:oversize=5000@6" }
        assert.same({ reset = "before" }, handle(a, list_graphs()).directive)
        assert.same({ reset = "after" }, handle(a, list_graphs()).directive)
        assert.same({ delay_ms = 1500 }, handle(a, list_graphs()).directive)
        local r = handle(a, list_graphs())
        assert.same({ truncate_to = #r.body // 2 }, r.directive)
        assert.same({ truncate_to = 3 }, handle(a, list_graphs()).directive)
        assert.same({ pad_to = 5000 }, handle(a, list_graphs()).directive)
        assert.is_nil(handle(a, list_graphs()).directive)
    end)

    it("changes nothing on reset-before and performs the operation on reset-after", function()
        local a = app { faults = "CreateGraph:reset-before@1;CreateGraph:reset-after@2" }
        local create = function() return C.signed { method = "POST", path = "/graph", body = "{}", service = "detective" } end
        handle(a, create())
        assert.same({}, json.decode(handle(a, list_graphs()).body).GraphList)
        handle(a, create())
        assert.equal(1, #json.decode(handle(a, list_graphs()).body).GraphList)
    end)

    it("cuts a malformed body short and swaps the Content-Type", function()
        local a = app { faults = "ListGraphs:malformed-json@1;ListGraphs:content-type=text/plain@2" }
        local r = handle(a, list_graphs())
        assert.equal(200, r.status)
        assert.is_nil(json.decode(r.body))
        r = handle(a, list_graphs())
        assert.equal("text/plain", r.headers["content-type"])
        assert.is_table(json.decode(r.body))
    end)

    it("skews the signature clock and the Date header from the firing call on", function()
        local a = app { faults = "ListGraphs:skew=900@1" }
        local r = handle(a, list_graphs())
        assert.equal(403, r.status)
        assert.equal("InvalidSignatureException", r.headers["x-amzn-errortype"])
        local doc = json.decode(r.body)
        assert.matches("Signature expired", doc.message or doc.Message)
        local auth = require "detlua.emulator.auth"
        local shown = auth.parse_http_date(r.headers.date)
        local now = require("aws.core.host").realtime()
        assert.is_true(math.abs(shown - now - 900) < 60)
        -- a request signed with the server's (skewed) clock passes
        local req = C.signed { method = "POST", path = "/graphs/list", body = "{}", service = "detective", time = now + 900 }
        assert.equal(200, handle(a, req).status)
    end)

    it("never touches fixture hooks or unsigned requests", function()
        local a = app { faults = "*:reset-before@1-" }
        assert.equal(200, hook(a, "GET", "health").status)
        local r = handle(a, { method = "POST", path = "/graphs/list", query = "", headers = {}, body = "{}" })
        assert.equal(403, r.status)
        assert.is_nil(r.directive)
        assert.same({ reset = "before" }, handle(a, list_graphs()).directive)
    end)

    it("takes new rules and zeroes counters through the hooks", function()
        local a = app { faults = "ListGraphs:500@1" }
        local r = hook(a, "POST", "faults", { spec = "ListGraphs:503@2;seed=5" })
        assert.equal(200, r.status)
        local d = json.decode(r.body)
        assert.equal("ListGraphs:503@2;seed=5", d.spec)
        assert.equal(200, handle(a, list_graphs()).status) -- counting starts again: call 1
        assert.equal(503, handle(a, list_graphs()).status)
        d = json.decode(hook(a, "GET", "faults").body)
        assert.equal(2, d.calls["detective.ListGraphs"])
        assert.equal(1, d.rules[1].fired)
        r = hook(a, "POST", "faults", { rules = { { operation = "Nope", fault = "500" } } })
        assert.equal(400, r.status)
        assert.matches("Nope", json.decode(r.body).message)
        assert.equal(200, hook(a, "POST", "faults", { rules = {} }).status)
        assert.equal(200, handle(a, list_graphs()).status)
        assert.equal(3, json.decode(hook(a, "GET", "stats").body).operations["detective.ListGraphs"].requests)
        assert.equal(200, hook(a, "POST", "stats", { reset = true }).status)
        assert.equal(0, json.decode(hook(a, "GET", "stats").body).requests)
        assert.equal(400, hook(a, "POST", "stats", {}).status)
    end)

    it("reads the scenario's faults key and lets start{faults=} replace it", function()
        local sc = require("detlua.emulator.scenario").default_raw()
        sc.faults = { seed = 1, rules = { { operation = "ListGraphs", fault = "500", calls = { 1 } } } }
        assert.equal(500, handle(app { scenario_table = sc }, list_graphs()).status)
        assert.equal(503, handle(app { scenario_table = sc, faults = "ListGraphs:503@1" }, list_graphs()).status)
        sc.faults = { rules = { { operation = "ListGraphs", fault = "melt" } } }
        assert.matches("faults: rules%[0%]%.fault: unknown fault", raises(function() app { scenario_table = sc } end))
    end)
end)

describe("faults on the wire", function()
    local srv
    before_each(function() srv = emulator.start { faults = "" } end)
    after_each(function() srv:stop() end)

    local function set(spec)
        local conn = http.new {}
        local status, _, body = conn:request { method = "POST", url = srv:url() .. "/_emulator/faults",
            headers = { { "content-type", "application/json" } }, body = json.encode({ spec = spec }) }
        conn:close()
        assert.equal(200, status, body)
    end

    local function fails(c, fn)
        local ok, err = pcall(fn, c)
        assert.is_false(ok)
        assert.is_true(aws.is_error(err), tostring(err))
        return err
    end

    it("a reset is a retryable ConnectionReset", function()
        set("ListGraphs:reset-before@1")
        local err = fails(client(srv, { max_attempts = 1 }), function(c) return c:list_graphs {} end)
        assert.equal("transport", err.kind)
        assert.equal("ConnectionReset", err.code)
        assert.is_true(err.retryable)
    end)

    it("a truncated body is a retryable ConnectionReset; curl sees the short read", function()
        set("ListGraphs:truncate=5@1")
        local err = fails(client(srv, { max_attempts = 1 }), function(c) return c:list_graphs {} end)
        assert.equal("ConnectionReset", err.code)
        assert.is_true(err.retryable)
        if proc.have("curl") then
            -- on the wire: the declared Content-Length, 5 bytes of body, then the close
            set("ListGraphs:truncate=5@1")
            local hostport = srv:url():match("^http://(.*)$")
            local req = C.signed { method = "POST", path = "/graphs/list", body = "{}", service = "detective", host = hostport }
            local args = { "curl -s -o /dev/null -D - -w 'got=%{size_download}' -X POST --data-binary '{}'" }
            for k, v in pairs(req.headers) do args[#args + 1] = "-H " .. proc.quote(k .. ": " .. v) end
            args[#args + 1] = proc.quote(srv:url() .. "/graphs/list")
            local out = proc.output(table.concat(args, " ") .. "; echo \" rc=$?\"")
            local declared = tonumber(out:match("[Cc]ontent%-[Ll]ength: (%d+)"))
            assert.is_true(declared > 5, out)
            assert.matches("got=5 rc=18", out) -- CURLE_PARTIAL_FILE
        end
    end)

    it("an oversized body is a ResponseTooLarge the client does not retry", function()
        set("ListGraphs:oversize@1")
        local err = fails(client(srv), function(c) return c:list_graphs {} end)
        assert.equal("ResponseTooLarge", err.code)
        assert.is_false(err.retryable)
        assert.equal(1, err.attempts)
    end)

    it("padding below the client's cap is only trailing whitespace", function()
        set("ListGraphs:oversize=100000@1")
        assert.same({}, client(srv):list_graphs {}.GraphList)
    end)

    it("a malformed 2xx body is a MalformedResponse, not retried", function()
        set("ListGraphs:malformed-json@1")
        local err = fails(client(srv), function(c) return c:list_graphs {} end)
        assert.equal("MalformedResponse", err.code)
        assert.equal("transport", err.kind)
        assert.equal(200, err.status)
        assert.is_false(err.retryable)
        assert.equal(1, err.attempts)
    end)

    it("a 502 page from a gateway is retried and the call succeeds", function()
        set("ListGraphs:502@1")
        assert.same({}, client(srv):list_graphs {}.GraphList)
    end)

    it("a delayed answer does not hold up other clients", function()
        set("ListGraphs:delay=3000@1")
        local c1, c2 = client(srv), client(srv)
        local order = {}
        local _, errs = aws.parallel(function()
            c1:list_graphs {}
            order[#order + 1] = "delayed"
        end, function()
            c2:list_invitations {}
            order[#order + 1] = "other"
        end)
        assert.same({}, errs)
        assert.same({ "other", "delayed" }, order)
    end)

    it("a delay past the read timeout is a ReadTimeout, retried", function()
        set("ListGraphs:delay=8000@1")
        local err = fails(client(srv, { read_timeout_ms = 1000, max_attempts = 1 }), function(c) return c:list_graphs {} end)
        assert.equal("ReadTimeout", err.code)
        assert.is_true(err.retryable)
        set("ListGraphs:delay=8000@1")
        assert.same({}, client(srv, { read_timeout_ms = 1000 }):list_graphs {}.GraphList)
    end)

    it("stops promptly with an answer still held", function()
        set("ListGraphs:delay=60000@1")
        local c = client(srv, { timeout_ms = 300, max_attempts = 1 })
        local err = fails(c, function(x) return x:list_graphs {} end)
        assert.equal("ReadTimeout", err.code)
        srv:stop() -- must not wait for the 60 s
        assert.is_false(srv:running())
        srv = emulator.start {}
    end)
end)

describe("detlua emulator --faults", function()
    it("refuses a bad SPEC with exit 2", function()
        local rc, _, err = C.run_emulator("--faults 'ListGraphs:explode'")
        assert.equal(2, rc)
        assert.matches("unknown fault \"explode\"", err)
    end)

    it("reads @FILE and serves with the faults", function()
        local f = files.tmpname()
        files.write(f, json.encode({ rules = { { operation = "ListGraphs", fault = "throttle", calls = { 1 } } } }))
        local child = C.spawn({ "--quiet", "--faults", proc.quote("@" .. f) })
        assert.is_truthy(child.url, child.errors())
        local r = C.http(child.url, C.signed { method = "POST", path = "/graphs/list", body = "{}", service = "detective",
            host = child.url:match("^http://(.*)$") })
        assert.equal(429, r.status)
        assert.equal("TooManyRequestsException", r.headers["x-amzn-errortype"])
        assert.equal(0, child.stop())
        os.remove(f)
    end)
end)
