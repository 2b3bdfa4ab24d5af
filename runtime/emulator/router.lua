-- detlua.emulator.router: one HTTP request in, one response out. Order of work:
--   fixture hooks (/_emulator/..., unauthenticated) | SigV4 verification and identity
--   (auth.lua) -> service from the credential scope -> operation (rest-json: method + path
--   against the model's request URIs; query: Action) -> decode (codec_*.lua) -> model
--   validation (aws.core.protocol) -> the service module's handle(ctx, op, input) ->
--   encode; errors rendered per protocol (JSON + x-amzn-ErrorType, or the STS XML
--   envelope); x-amzn-RequestId on every answer; with a state file, world.data is written
--   before the answer leaves. Service semantics live in the service modules, the wire
--   formats in the codecs; this file only sequences them and maps failures to errors.
--   Injected faults (faults.lua) are decided here for signed, routed API requests: error
--   answers and mangled bodies are made here, connection-level faults (reset, delay,
--   truncation, padding) leave as a 4th return value for server.c to carry out.
local E = require "detlua.emulator.errors"
local auth = require "detlua.emulator.auth"
local restjson = require "detlua.emulator.codec_restjson"
local query = require "detlua.emulator.codec_query"
local json = require "detlua.emulator.wire_json"
local scenario = require "detlua.emulator.scenario"
local state = require "detlua.emulator.state"
local sts = require "detlua.emulator.sts"
local faults = require "detlua.emulator.faults"
local stats = require "detlua.emulator.stats"
local model = require "aws.core.model"
local crypto = require "aws.core.crypto"
local host = require "aws.core.host"

local protocol
do
    local ok, p = pcall(require, "aws.core.protocol")
    if ok then protocol = p end
end

local M = {}

local App = {}
App.__index = App
M.App = App

M.SERVICES = { "detective", "guardduty", "sts" }

-- Internal-error shape per service (the model's 500 error).
local INTERNAL = { detective = "InternalServerException", guardduty = "InternalServerErrorException", sts = "InternalFailure" }

-- Authentication errors keep AWS's per-protocol names: the query protocol (STS) uses
-- the older codes.
local QUERY_AUTH_CODES = {
    InvalidSignatureException = "SignatureDoesNotMatch",
    UnrecognizedClientException = "InvalidClientTokenId",
    MissingAuthenticationTokenException = "MissingAuthenticationToken",
    ExpiredTokenException = "ExpiredToken",
    IncompleteSignatureException = "IncompleteSignature",
}

-- new{scenario = path, scenario_table = tbl, state = path, region = r, settings = tbl,
--     log = bool, services = {name = module table} (tests: replaces detlua.emulator.<name>),
--     faults = spec string | {seed=, rules=} (over the scenario's "faults")}
function M.new(opts)
    opts = opts or {}
    local sc = scenario.from_options(opts)
    local world = state.new(sc, { state = opts.state })
    local fcfg = faults.parse(opts.faults ~= nil and opts.faults or sc.faults)
    return setmetatable({
        world = world,
        keys = sts.keys(sc),
        log = opts.log and true or false,
        overrides = opts.services or {},
        instances = {},
        route_tables = {},
        warned = {},
        faults = faults.new(fcfg, sc.seed),
        default_seed = sc.seed,
        stats = stats.new(),
    }, App)
end

function App:admin_credentials()
    local a = self.world:administrator()
    return { access_key_id = a.access_key_id, secret_access_key = a.secret_access_key, account = a.id }
end

function App:region()
    return self.world:region()
end

function App:warn(rid, msg)
    if self.warned[msg] then return end
    self.warned[msg] = true
    io.stderr:write("detlua emulator: request ", rid or "-", ": warning: ", msg, "\n")
end

-- --- services -----------------------------------------------------------------------------------

function App:instance(service)
    local inst = self.instances[service]
    if inst then return inst end
    local mod = self.overrides[service]
    if not mod then
        local ok, m = pcall(require, "detlua.emulator." .. service)
        if not ok then
            E.raise("NotImplemented", "This detlua build has no emulator module for " .. service .. ".", nil, { status = 501 })
        end
        mod = m
    end
    inst = mod.new(self.world)
    self.instances[service] = inst
    return inst
end

function App:routes_for(svc)
    local t = self.route_tables[svc.name]
    if not t then
        t = restjson.routes(svc)
        self.route_tables[svc.name] = t
    end
    return t
end

-- The service's own "your input is wrong" error.
local function bad_input(service, msg, error_code)
    if service == "detective" then
        E.raise("ValidationException", msg, { ErrorCode = error_code or "INVALID_REQUEST_BODY", ErrorCodeReason = msg })
    elseif service == "guardduty" then
        E.raise("BadRequestException", "The request is rejected because " .. msg:gsub("^%u", string.lower), nil,
            { type = "InvalidInputException" })
    elseif service == "sts" then
        E.raise("ValidationError", msg, nil, { status = 400 })
    end
    E.raise("ValidationException", msg, nil, { status = 400 })
end
M.bad_input = bad_input

-- GraphArn pattern from the Detective model, checked here so that a malformed ARN gets
-- ErrorCode INVALID_GRAPH_ARN rather than the generic INVALID_REQUEST_BODY:
-- ^arn:aws[-\w]{0,10}?:detective:[-\w]{2,20}?:\d{12}?:graph:[abcdef\d]{32}?$
local function graph_arn_ok(s)
    local parts = {}
    for p in (s .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = p end
    if #parts ~= 7 or parts[1] ~= "arn" or parts[3] ~= "detective" or parts[6] ~= "graph" then return false end
    local partition = parts[2]
    if partition:sub(1, 3) ~= "aws" or #partition > 13 or not partition:sub(4):match("^[%w_%-]*$") then return false end
    if #parts[4] < 2 or #parts[4] > 20 or not parts[4]:match("^[%w_%-]+$") then return false end
    if not parts[5]:match("^%d%d%d%d%d%d%d%d%d%d%d%d$") then return false end
    return parts[7]:match("^[a-f%d]+$") ~= nil and #parts[7] == 32
end
M.graph_arn_ok = graph_arn_ok

local function check_graph_arns(svc, op, input)
    if not op.input or type(input) ~= "table" then return end
    for _, m in ipairs(svc.shapes[op.input].members) do
        local v = input[m.name]
        local ms = svc.shapes[m.shape]
        local function check(x, path)
            if type(x) == "string" and not graph_arn_ok(x) then
                bad_input("detective", path .. ": \"" .. x:sub(1, 100) .. "\" is not a valid behavior graph ARN "
                    .. "(arn:aws:detective:<region>:<account>:graph:<32 hex digits>)", "INVALID_GRAPH_ARN")
            end
        end
        if m.shape == "GraphArn" then
            check(v, m.name)
        elseif ms and ms.type == "list" and ms.member == "GraphArn" and type(v) == "table" then
            for i, x in ipairs(v) do check(x, m.name .. "[" .. i .. "]") end
        end
    end
end

function App:validate(r, op, input)
    if r.service == "detective" then check_graph_arns(r.svc, op, input) end
    if not protocol then return end
    local ok, msg = protocol.validate(r.service, op.name, input)
    if not ok then
        msg = tostring(msg):gsub("^[%w]+:[%w_]+: ", "")
        bad_input(r.service, msg)
    end
end

function App:call(r, op, input)
    local identity = r.identity
    local ctx = {
        account = identity.account,
        principal_arn = identity.arn,
        access_key_id = identity.access_key_id,
        identity = identity,
        region = r.scope.region,
        request_id = r.rid,
        now = r.now,
        service = r.service,
        operation = op.name,
    }
    r.account = identity.account
    return self:instance(r.service):handle(ctx, op.name, input)
end

-- --- protocols -----------------------------------------------------------------------------------

function App:rest_dispatch(r)
    local req, svc = r.req, r.svc
    local q, bad = restjson.parse_query(req.query)
    if not q then bad_input(r.service, "the query string has invalid percent-encoding near '" .. bad:sub(1, 60) .. "'") end
    local op, labels, allowed = restjson.match(self:routes_for(svc), req.method, req.path, q)
    if not op then
        if labels == "method" then
            E.raise("MethodNotAllowedException", "The method " .. req.method .. " is not allowed for " .. req.path:sub(1, 200)
                .. " (allowed: " .. table.concat(allowed, ", ") .. ").", nil,
                { status = 405, headers = { { "Allow", table.concat(allowed, ", ") } } })
        end
        E.raise("UnknownOperationException", "No " .. svc.service_id .. " operation matches " .. req.method .. " "
            .. req.path:sub(1, 200) .. ".", nil, { status = 404 })
    end
    r.op = op
    local input = restjson.decode_input(svc, op, req, labels, q, function(msg) bad_input(r.service, msg) end)
    self:validate(r, op, input)
    local out = self:call(r, op, input)
    return restjson.encode_output(svc, op, out, function(msg) self:warn(r.rid, svc.name .. "." .. op.name .. " output: " .. msg) end)
end

-- STS parameters: the form body (POST) over the query string, without SigV4's own.
function App:query_params(r)
    if r.params then return r.params end
    local req = r.req
    local params, bad = query.parse_form(req.query)
    if not params then E.raise("MalformedQueryString", "Invalid percent-encoding near '" .. bad:sub(1, 60) .. "'.", nil, { status = 400 }) end
    for k in pairs(params) do
        if k:match("^X%-Amz%-") then params[k] = nil end
    end
    if req.method == "POST" and req.body ~= "" then
        local form
        form, bad = query.parse_form(req.body)
        if not form then E.raise("MalformedQueryString", "Invalid percent-encoding near '" .. bad:sub(1, 60) .. "'.", nil, { status = 400 }) end
        for k, v in pairs(form) do params[k] = v end
    end
    r.params = params
    return params
end

function App:query_dispatch(r)
    local svc = r.svc
    local req = r.req
    if req.method ~= "POST" and req.method ~= "GET" then
        E.raise("MethodNotAllowedException", "The query protocol accepts POST and GET only.", nil,
            { status = 405, headers = { { "Allow", "GET, POST" } } })
    end
    if req.path ~= "/" then
        E.raise("UnknownOperationException", "STS serves the path /, not " .. req.path:sub(1, 200) .. ".", nil, { status = 404 })
    end
    local params = self:query_params(r)
    local action = params.Action
    if action == nil or action == "" then
        E.raise("MissingAction", "The request must contain the parameter Action.", nil, { status = 400 })
    end
    local op = svc.operations[action]
    if not op or (params.Version and params.Version ~= svc.api_version) then
        E.raise("InvalidAction", "Could not find operation " .. action:sub(1, 100) .. " for version "
            .. (params.Version or svc.api_version):sub(1, 20) .. ".", nil, { status = 400 })
    end
    r.op = op
    local input = query.decode_input(svc, op, params, function(msg) bad_input("sts", msg) end)
    self:validate(r, op, input)
    local out = self:call(r, op, input)
    return query.encode_output(svc, op, out, r.rid, function(msg) self:warn(r.rid, "sts." .. op.name .. " output: " .. msg) end)
end

local function is_form(req)
    local ct = req.headers["content-type"] or ""
    return ct:lower():find("^application/x%-www%-form%-urlencoded") ~= nil
end

function App:dispatch(r)
    local req = r.req
    local kind = auth.kind(req)
    if kind == nil and r.service == "sts" then
        -- AssumeRoleWithWebIdentity/SAML are called without credentials: the token is the proof.
        local params = self:query_params(r)
        if sts.UNSIGNED[params.Action] then
            r.identity = { kind = "anonymous" }
            r.scope = { region = self.world:region(), service = "sts" }
            return self:query_dispatch(r)
        end
    end
    -- An injected clock skew moves the clock signatures are checked against (and the
    -- Date header), not the emulated clock.
    local ok, identity, scope = pcall(auth.verify, self, req, r.wall + self.faults.skew_seconds, r.now)
    if not ok then
        if E.is_error(identity) then identity.auth = true end
        error(identity, 0)
    end
    r.identity, r.scope = identity, scope
    r.account = identity.account
    if not r.svc then
        E.raise("UnknownOperationException", "The emulator serves " .. table.concat(M.SERVICES, ", ")
            .. "; this request was signed for service '" .. tostring(scope.service):sub(1, 40) .. "'.", nil, { status = 404 })
    end
    if r.fault and r.fault.phase == "before" then return self:fault_before(r) end
    if r.protocol == "query" then return self:query_dispatch(r) end
    return self:rest_dispatch(r)
end

-- --- errors ----------------------------------------------------------------------------------------

function App:render_error(r, err)
    local warn = function(msg) self:warn(r.rid, msg) end
    if r.admin then
        local body = json.encode({ message = err.message, __type = err.code })
        return err.status or 400, { { "Content-Type", "application/json" }, { "x-amzn-ErrorType", err.code } }, body
    end
    if r.protocol == "query" then
        local shape = r.svc and r.svc.shapes[err.code]
        if shape and not shape.exception then shape = nil end
        local code = (err.auth and QUERY_AUTH_CODES[err.code]) or (shape and shape.error_code) or err.code
        local status = err.status or (shape and shape.error_status) or 400
        local s, h, b = query.encode_error(status, code, err.message, r.rid, r.svc and r.svc.xml_namespace)
        for _, hv in ipairs(err.headers or {}) do h[#h + 1] = hv end
        return s, h, b
    end
    return restjson.encode_error(r.svc, err, warn)
end

function App:internal_error(r)
    local code = INTERNAL[r.service] or "InternalServerException"
    local what = r.op and (r.service .. "." .. r.op.name) or "the request"
    return E.new(code, "The emulator failed while handling " .. what .. " (request " .. r.rid
        .. "); the details are on its standard error.", nil, { status = 500 })
end

-- --- injected faults ----------------------------------------------------------------------------

-- The operation a request names, told before authenticating it (for counting and faults).
function App:peek_operation(r)
    local svc, req = r.svc, r.req
    if not svc then return nil end
    if r.protocol == "query" then
        local ok, params = pcall(self.query_params, self, r)
        if not ok or type(params.Action) ~= "string" then return nil end
        return svc.operations[params.Action]
    end
    local q = restjson.parse_query(req.query)
    if not q then return nil end
    return (restjson.match(self:routes_for(svc), req.method, req.path, q))
end

-- Counts the request under its operation and, for a signed one, picks its fault. Call
-- numbers count every signed request to the operation, including those whose signature
-- is then refused; a fault only takes effect on a request that authenticates (a skew
-- fault takes effect at the signature check itself).
function App:pick_fault(r)
    local op = self:peek_operation(r)
    if not op then return end
    r.op_key = r.service .. "." .. op.name
    if auth.kind(r.req) == nil then return end
    local rule, n, index = self.faults:decide(r.service, op.name)
    if not rule then return end
    r.fault, r.fault_call, r.fault_index = rule, n, index
    if rule.phase == "auth" then r.fault_applied = true end
end

local THROTTLE = { detective = { "TooManyRequestsException", 429 }, guardduty = { "TooManyRequestsException", 429 },
    sts = { "Throttling", 400 } }
local UNAVAILABLE = { detective = "ServiceUnavailableException", guardduty = "ServiceUnavailableException",
    sts = "ServiceUnavailable" }
local GATEWAY = { [502] = "Bad Gateway", [504] = "Gateway Timeout" }

function App:fault_note(r)
    return " (fault injected by the emulator: rule " .. r.fault_index .. ", call " .. r.fault_call .. " of "
        .. r.op_key .. ")"
end

-- Faults that replace the operation: the world is not touched.
function App:fault_before(r)
    local f = r.fault.fault
    local note = self:fault_note(r)
    r.fault_applied = true
    if f == "reset-before" then
        r.directive = { reset = "before" }
        return 500, {}, ""
    elseif f == "throttle" then
        local t = THROTTLE[r.service]
        E.raise(t[1], "Rate exceeded" .. note, nil, { status = t[2] })
    elseif f == "400" then
        bad_input(r.service, "The request was rejected" .. note)
    elseif f == "500" then
        E.raise(INTERNAL[r.service] or "InternalServerException", "The service encountered an internal error" .. note,
            nil, { status = 500 })
    elseif f == "503" then
        E.raise(UNAVAILABLE[r.service] or "ServiceUnavailableException", "Service unavailable, try again later" .. note,
            nil, { status = 503 })
    end
    -- 502, 504: a gateway in front of the service answers, as load balancers do, in HTML.
    local status = faults.KINDS[f].status
    local title = status .. " " .. GATEWAY[status]
    return status, { { "Content-Type", "text/html" } },
        "<html>\r\n<head><title>" .. title .. "</title></head>\r\n<body>\r\n<center><h1>" .. title
        .. "</h1></center>\r\n</body>\r\n</html>\r\n"
end

-- Faults on the answer of an operation that ran (and whose change, if any, is saved).
function App:fault_after(r, status, headers, body)
    local rule = r.fault
    local f = rule.fault
    r.fault_applied = true
    if f == "reset-after" then
        r.directive = { reset = "after" }
    elseif f == "delay" then
        r.directive = { delay_ms = rule.delay_ms }
    elseif f == "truncate" then
        if #body == 0 then
            r.directive = { reset = "after" } -- nothing to cut short: the connection closes instead
        else
            local keep = rule.bytes
            if keep < 0 then keep = #body // 2 end
            r.directive = { truncate_to = math.min(keep, #body - 1) }
        end
    elseif f == "malformed-json" then
        -- A proper prefix of a JSON object (or an XML document) is never well-formed.
        body = #body > 1 and body:sub(1, #body // 2) or "{"
        if status == 204 then status = 200 end
    elseif f == "content-type" then
        local out = {}
        for _, h in ipairs(headers) do
            if h[1]:lower() ~= "content-type" then out[#out + 1] = h end
        end
        out[#out + 1] = { "Content-Type", rule.content_type }
        headers = out
    elseif f == "oversize" then
        r.directive = { pad_to = math.max(rule.bytes, #body) }
    end
    return status, headers, body
end

-- --- fixture hooks ------------------------------------------------------------------------------

local function admin_body(req)
    if req.body:match("^%s*$") then return {} end
    local doc, err = json.decode(req.body, 64)
    if doc == nil then E.raise("BadRequest", "The body is not valid JSON: " .. err, nil, { status = 400 }) end
    if type(doc) ~= "table" or json.is_array(doc) then E.raise("BadRequest", "The body must be a JSON object.", nil, { status = 400 }) end
    return json.plain(doc)
end

function App:admin(r)
    r.admin = true
    local req = r.req
    local rest = req.path:match("^/_emulator/?(.*)$")
    local world = self.world
    local answer
    if rest == "health" then
        answer = { status = "ok", region = world:region(), services = M.SERVICES, time = restjson.iso8601_ms(r.now) }
    elseif rest == "clock" then
        local d = world:emulator_data()
        if req.method == "POST" then
            local b = admin_body(req)
            local off = d.clock_offset_seconds or 0
            if b.advance_seconds ~= nil then
                if type(b.advance_seconds) ~= "number" then E.raise("BadRequest", "advance_seconds: expected a number", nil, { status = 400 }) end
                off = off + b.advance_seconds
            elseif b.offset_seconds ~= nil then
                if type(b.offset_seconds) ~= "number" then E.raise("BadRequest", "offset_seconds: expected a number", nil, { status = 400 }) end
                off = b.offset_seconds
            else
                E.raise("BadRequest", "Give advance_seconds or offset_seconds.", nil, { status = 400 })
            end
            d.clock_offset_seconds = off
            world:mark_dirty()
            r.now = world:now(r.wall)
        elseif req.method ~= "GET" then
            E.raise("MethodNotAllowed", "Use GET or POST.", nil, { status = 405 })
        end
        answer = { offset_seconds = d.clock_offset_seconds or 0, now = restjson.iso8601_ms(r.now), now_epoch = r.now }
    elseif rest == "faults" then
        if req.method == "POST" then
            local b = admin_body(req)
            local pok, cfg = pcall(faults.parse, b)
            if not pok then E.raise("BadRequest", tostring(cfg), nil, { status = 400 }) end
            self.faults:set(cfg, self.default_seed)
        elseif req.method ~= "GET" then
            E.raise("MethodNotAllowed", "Use GET or POST.", nil, { status = 405 })
        end
        answer = self.faults:describe()
    elseif rest == "stats" then
        if req.method == "POST" then
            local b = admin_body(req)
            if b.reset ~= true then E.raise("BadRequest", "POST {\"reset\": true} to zero the counters.", nil, { status = 400 }) end
            self.stats:reset()
        elseif req.method ~= "GET" then
            E.raise("MethodNotAllowed", "Use GET or POST.", nil, { status = 405 })
        end
        answer = self.stats:snapshot()
    else
        local service, action = rest:match("^([%w_]+)/([%w_%-]+)$")
        local known = false
        for _, s in ipairs(M.SERVICES) do
            if s == service then known = true end
        end
        if not known then
            E.raise("UnknownOperationException", "Unknown emulator endpoint /_emulator/" .. rest:sub(1, 100)
                .. " (known: health, clock, faults, stats, <service>/<action>).", nil, { status = 404 })
        end
        if req.method ~= "POST" then E.raise("MethodNotAllowed", "Fixture hooks take POST.", nil, { status = 405 }) end
        r.service = service
        local inst = self:instance(service)
        if type(inst.admin) ~= "function" then
            E.raise("UnknownOperationException", "The " .. service .. " module has no fixture hooks.", nil, { status = 404 })
        end
        local admin = world:administrator()
        local ctx = {
            account = admin.id,
            principal_arn = "arn:aws:iam::" .. admin.id .. ":root",
            region = world:region(),
            request_id = r.rid,
            now = r.now,
            service = service,
        }
        answer = inst:admin(ctx, action, admin_body(req))
    end
    return 200, { { "Content-Type", "application/json" } }, json.encode(answer or {})
end

-- --- the entry point -------------------------------------------------------------------------

local function handler(e)
    if E.is_error(e) then return e end
    return { internal = true, message = debug.traceback(tostring(e), 2) }
end

local function route(self, r)
    local req = r.req
    if req.path == "/_emulator" or req.path:sub(1, 11) == "/_emulator/" then return self:admin(r) end
    local scope = auth.scope(req)
    r.service = scope and scope.service
    if not r.service and (is_form(req) or req.query:find("Action=", 1, true)) then r.service = "sts" end
    if r.service then
        local svc = model.service(r.service)
        r.svc = svc
    end
    r.protocol = r.svc and r.svc.protocol or (r.service == "sts" and "query") or "rest-json"
    self:pick_fault(r)
    return self:dispatch(r)
end

-- handle(req) -> status, headers {{name, value}...}, body, directive. req = {method, path
-- (raw), query (raw), headers (lowercase names), body}. Never raises for anything a client
-- sends. directive (nil unless a fault says so) tells server.c how to deliver the answer:
-- {reset = "before"|"after"} close the connection without answering; {delay_ms = N} hold
-- the answer; {truncate_to = N} declare the whole body, send N bytes, close; {pad_to = N}
-- declare N bytes and send the body followed by spaces.
function App:handle(req)
    local wall = host.realtime()
    local r = {
        rid = crypto.uuid4(),
        wall = wall,
        now = self.world:now(wall),
        req = req,
        t0 = host.monotonic_ms(),
    }
    req.method = req.method or "GET"
    req.path = req.path or "/"
    req.query = req.query or ""
    req.headers = req.headers or {}
    req.body = req.body or ""
    local ok, status, headers, body = xpcall(route, handler, self, r)
    if not ok then
        local err = status
        if not E.is_error(err) then
            io.stderr:write("detlua emulator: request ", r.rid, ": internal error in ",
                r.op and (r.service .. "." .. r.op.name) or (req.method .. " " .. req.path:sub(1, 200)), ": ",
                tostring(err.message), "\n")
            -- partial changes from a failed handler must not be acknowledged
            self.world:rollback()
            err = self:internal_error(r)
        end
        local rok, s, h, b = pcall(self.render_error, self, r, err)
        if rok then
            status, headers, body = s, h, b
        else
            io.stderr:write("detlua emulator: request ", r.rid, ": cannot render an error: ", tostring(s), "\n")
            status, headers, body = 500, { { "Content-Type", "application/json" } }, '{"message":"internal error"}'
        end
    end
    if self.world.dirty then
        local pok, perr = self.world:persist()
        if not pok then
            io.stderr:write("detlua emulator: request ", r.rid, ": cannot save the state file: ", tostring(perr), "\n")
            local err = E.new(INTERNAL[r.service] or "InternalServerException",
                "The emulator could not save its state file; the change was not applied (request " .. r.rid .. ").",
                nil, { status = 500 })
            status, headers, body = self:render_error(r, err)
        end
    end
    if r.fault and r.fault.phase == "after" and r.identity then
        status, headers, body = self:fault_after(r, status, headers, body)
    end
    headers[#headers + 1] = { "x-amzn-RequestId", r.rid }
    if not r.admin then
        local skew = self.faults.skew_seconds
        if skew ~= 0 then
            -- the skewed server clock shows in Date, which clients use to correct theirs
            headers[#headers + 1] = { "Date", os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(wall + skew)) }
        end
        local shown = r.directive and r.directive.reset and "reset" or status
        self.stats:record(r.op_key, shown, r.fault_applied and r.fault.fault or nil)
    end
    if self.log then
        io.stderr:write(string.format("%s %s %s -> %s %s%s%s (%.1f ms) %s\n", os.date("!%H:%M:%S", math.floor(wall)),
            req.method, req.path:sub(1, 120), r.directive and r.directive.reset and "reset" or tostring(status),
            r.op and (r.service .. "." .. r.op.name) or (r.admin and "fixture" or r.op_key or "-"),
            r.account and (" account " .. r.account) or "",
            r.fault_applied and (" fault " .. r.fault.fault) or "",
            host.monotonic_ms() - r.t0, r.rid))
    end
    return status, headers, body, r.directive
end

return M
