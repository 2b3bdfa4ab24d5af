-- model_spec.lua: aws.core.model checked against independent oracles.
--
-- With $DT_SHARED set, each service-2.json (read with cjson) is the oracle: every operation's
-- HTTP binding, input/output and errors, and every shape's type, bounds, pattern, enum,
-- sensitivity and members must match what the generated tables expose. botocore's
-- xform_name (Debian's /usr/bin/python3) is the oracle for lua_name. Parts whose oracle is
-- missing are reported as pending, not failed.
local model = require("aws.core.model")
local files = require("files")
local proc = require("proc")
local tables = require("tables")

local shared = os.getenv("DT_SHARED")
local have_cjson, cjson = pcall(require, "cjson")
local function load_json(path)
    local text = files.read(path)
    return text and cjson.decode(text)
end
local have_models = have_cjson and shared and files.read(shared .. "/models/detective/service-2.json") ~= nil

local SERVICES = { "detective", "guardduty", "sts" }

local function is_null(v)
    return v == nil or (have_cjson and v == cjson.null)
end

local sorted_keys = tables.sorted_keys

describe("aws.core.model", function()
    it("lists the bound services", function()
        assert.same({ "detective", "guardduty", "sts" }, model.services())
    end)

    it("returns nil and a message for an unknown service", function()
        local s, err = model.service("s3")
        assert.is_nil(s)
        assert.matches("unknown service", err)
        assert.is_nil(model.operation("s3", "ListBuckets"))
    end)

    it("caches each service view", function()
        assert.equal(model.service("detective"), model.service("detective"))
        assert.equal(model.service("detective"), model.service("Detective"))
    end)

    it("finds every operation by Name, snake_name and kebab-name", function()
        for _, sn in ipairs(SERVICES) do
            local svc = model.service(sn)
            for _, on in ipairs(svc.operation_names) do
                local op = svc.operations[on]
                assert.equal(op, model.operation(sn, on))
                assert.equal(op, model.operation(sn, op.lua_name))
                assert.equal(op, model.operation(sn, (op.lua_name:gsub("_", "-"))))
            end
            assert.is_nil(model.operation(sn, "NoSuchThing"))
        end
    end)

    it("lists operation names sorted and complete", function()
        for _, sn in ipairs(SERVICES) do
            local svc = model.service(sn)
            local names = sorted_keys(svc.operations)
            assert.same(names, svc.operation_names)
        end
    end)

    it("builds shapes on first lookup, and pairs() still sees every one", function()
        for _, sn in ipairs(SERVICES) do
            local svc = model.service(sn)
            local op = svc.operations[svc.operation_names[1]]
            local first = svc.shapes[op.input]
            assert.equal(first, svc.shapes[op.input]) -- cached: the same table each time
            assert.is_nil(svc.shapes.NoSuchShapeAnywhere)
            assert.is_nil(rawget(svc.shapes, "NoSuchShapeAnywhere"))
            assert.is_nil(svc.shapes[42])
            local n = 0
            for name, sh in pairs(svc.shapes) do
                n = n + 1
                assert.equal(name, sh.name)
            end
            -- pairs() built every shape: a raw walk of the table now finds the same number
            local m = 0
            for _ in next, svc.shapes do m = m + 1 end
            assert.equal(n, m)
            assert.is_true(n > #svc.operation_names)
            assert.equal(first, svc.shapes[op.input])
        end
    end)

    it("builds operations on first lookup by model name, and pairs() sees every one", function()
        for _, sn in ipairs(SERVICES) do
            local svc = model.service(sn)
            local name = svc.operation_names[#svc.operation_names]
            local op = svc.operations[name]
            assert.equal(name, op.name)
            assert.equal(op, svc.operations[name])
            assert.equal(op, model.operation(sn, op.lua_name))
            assert.is_nil(svc.operations[op.lua_name]) -- keys are model names only
            assert.is_nil(rawget(svc.operations, op.lua_name))
            local seen = {}
            for k, v in pairs(svc.operations) do
                assert.equal(k, v.name)
                seen[#seen + 1] = k
            end
            table.sort(seen)
            assert.same(svc.operation_names, seen)
        end
    end)

    it("refers only to shapes that exist", function()
        for _, sn in ipairs(SERVICES) do
            local svc = model.service(sn)
            for _, op in pairs(svc.operations) do
                if op.input then assert.is_table(svc.shapes[op.input], op.input) end
                if op.output then assert.is_table(svc.shapes[op.output], op.output) end
                for _, e in ipairs(op.errors) do assert.is_true(svc.shapes[e].exception, e) end
            end
            for name, sh in pairs(svc.shapes) do
                assert.equal(name, sh.name)
                for i, m in ipairs(sh.members or {}) do
                    assert.is_table(svc.shapes[m.shape], name .. "." .. m.name)
                    assert.equal(i, sh.member_index[m.name])
                end
                if sh.type == "list" then assert.is_table(svc.shapes[sh.member], name) end
                if sh.type == "map" then
                    assert.is_table(svc.shapes[sh.key], name)
                    assert.is_table(svc.shapes[sh.value], name)
                end
            end
        end
    end)
end)

-- ---------------------------------------------------------------------------------------
-- lua_name against botocore.xform_name

local function botocore_names(names)
    local cmd = proc.PYTHON .. " -c 'import sys\nfrom botocore import xform_name\n" ..
                    "for n in sys.argv[1:]: print(n, xform_name(n))' " .. table.concat(names, " ") ..
                    " 2>/dev/null"
    local out = {}
    for line in proc.output(cmd):gmatch("[^\n]+") do
        local n, x = line:match("^(%S+) (%S+)$")
        if n then out[n] = x end
    end
    return next(out) and out or nil
end

do
    local all = {}
    for _, sn in ipairs(SERVICES) do
        for _, on in ipairs(model.service(sn).operation_names) do
            assert(on:match("^%w+$"))
            all[#all + 1] = on
        end
    end
    local oracle = botocore_names(all)
    describe("lua_name", function()
        if not oracle then
            pending("botocore (/usr/bin/python3) not available")
            return
        end
        it("equals botocore.xform_name for every operation of every service", function()
            for _, sn in ipairs(SERVICES) do
                for _, on in ipairs(model.service(sn).operation_names) do
                    assert.equal(oracle[on], model.operation(sn, on).lua_name, sn .. "." .. on)
                end
            end
        end)
    end)
end

-- ---------------------------------------------------------------------------------------
-- everything against the model files

local function reachable(m)
    local seen = {}
    local function visit(name)
        if seen[name] then return end
        seen[name] = true
        local s = m.shapes[name]
        for _, mm in pairs(s.members or {}) do visit(mm.shape) end
        if s.member then visit(s.member.shape) end
        if s.key then visit(s.key.shape) end
        if s.value then visit(s.value.shape) end
    end
    for _, o in pairs(m.operations) do
        if not is_null(o.input) then visit(o.input.shape) end
        if not is_null(o.output) then visit(o.output.shape) end
        for _, e in ipairs(o.errors or {}) do visit(e.shape) end
    end
    for name, s in pairs(m.shapes) do
        if s.exception or s.fault then visit(name) end
    end
    return seen
end

local function opt(v)
    if is_null(v) then return nil end
    return v
end

for _, sn in ipairs(SERVICES) do
    describe("model of " .. sn, function()
        if not have_models then
            pending("$DT_SHARED/models or lua-cjson not available")
            return
        end
        local dir = shared .. "/models/" .. sn
        local m = load_json(dir .. "/service-2.json")
        local svc = model.service(sn)

        it("has the model's metadata", function()
            local md = m.metadata
            assert.equal(md.serviceId, svc.service_id)
            assert.equal(md.serviceFullName, svc.full_name)
            assert.equal(md.apiVersion, svc.api_version)
            assert.equal(md.protocol, svc.protocol)
            assert.equal(md.endpointPrefix, svc.endpoint_prefix)
            assert.equal(opt(md.signingName) or md.endpointPrefix, svc.signing_name)
            assert.equal(opt(md.xmlNamespace), svc.xml_namespace)
            assert.equal(opt(md.globalEndpoint), svc.global_endpoint)
            assert.matches("^%x+$", svc.model_sha256)
            assert.equal(64, #svc.model_sha256)
        end)

        it("has exactly the model's operations with their HTTP bindings", function()
            assert.same(sorted_keys(m.operations), sorted_keys(svc.operations))
            for on, o in pairs(m.operations) do
                local op = svc.operations[on]
                local where = sn .. "." .. on
                assert.equal(on, op.name, where)
                assert.equal(o.http.method, op.http_method, where)
                assert.equal(o.http.requestUri, op.request_uri, where)
                assert.equal(opt(o.http.responseCode) or 200, op.success_status, where)
                assert.equal(not is_null(o.input) and o.input.shape or nil, op.input, where)
                assert.equal(not is_null(o.output) and o.output.shape or nil, op.output, where)
                local errs = {}
                for _, e in ipairs(o.errors or {}) do errs[#errs + 1] = e.shape end
                assert.same(errs, op.errors, where)
                assert.equal(o.deprecated == true, op.deprecated, where)
            end
        end)

        it("has every reachable shape as the model defines it", function()
            local n = 0
            for name in pairs(reachable(m)) do
                n = n + 1
                local s, got = m.shapes[name], svc.shapes[name]
                local where = sn .. ":" .. name
                assert.is_table(got, where)
                assert.equal(s.type, got.type, where)
                assert.equal(opt(s.min), got.min, where)
                assert.equal(opt(s.max), got.max, where)
                assert.equal(opt(s.pattern), got.pattern, where)
                assert.same(opt(s.enum), got.enum, where)
                assert.equal(s.sensitive == true, got.sensitive, where)
                assert.equal(s.deprecated == true, got.deprecated, where)
                if s.type == "timestamp" then
                    assert.equal(opt(s.timestampFormat), got.timestamp_format, where)
                end
                assert.equal(s.exception == true, got.exception, where)
                assert.equal(s.fault == true, got.fault, where)
                if s.exception or s.fault then
                    local e = opt(s.error) or {}
                    assert.equal(opt(e.code) or name, got.error_code, where)
                    assert.equal(opt(e.httpStatusCode) or (s.fault and 500 or 400),
                                 got.error_status, where)
                else
                    assert.is_nil(got.error_code, where)
                end
                if s.type == "list" then assert.equal(s.member.shape, got.member, where) end
                if s.type == "map" then
                    assert.equal(s.key.shape, got.key, where)
                    assert.equal(s.value.shape, got.value, where)
                end
                if s.type == "structure" then
                    local required = {}
                    for _, r in ipairs(s.required or {}) do required[r] = true end
                    local names = sorted_keys(s.members)
                    assert.equal(#names, #got.members, where)
                    for i, mn in ipairs(names) do
                        local mm, gm = s.members[mn], got.members[i]
                        local w = where .. "." .. mn
                        assert.equal(mn, gm.name, w)
                        assert.equal(mm.shape, gm.shape, w)
                        assert.equal(opt(mm.locationName) or mn, gm.wire_name, w)
                        assert.equal(opt(mm.location) or "body", gm.location, w)
                        assert.equal(required[mn] == true, gm.required, w)
                        assert.equal(mm.idempotencyToken == true, gm.idempotency_token, w)
                        assert.equal(mm.deprecated == true, gm.deprecated, w)
                    end
                end
            end
            assert.is_true(n > 0)
        end)

        it("marks greedy URI labels", function()
            for on, o in pairs(m.operations) do
                if not is_null(o.input) then
                    local got = svc.shapes[o.input.shape]
                    for _, gm in ipairs(got.members) do
                        if gm.location == "uri" then
                            local greedy = o.http.requestUri:find("{" .. gm.wire_name .. "+}", 1, true)
                            assert.equal(greedy ~= nil, gm.greedy, on .. "." .. gm.name)
                            local plain = o.http.requestUri:find("{" .. gm.wire_name .. "}", 1, true)
                            assert.truthy(greedy or plain, on .. "." .. gm.name .. " in URI")
                        end
                    end
                end
            end
        end)

        it("pages what the paginator files declare and every NextToken operation", function()
            local declared = {}
            for _, f in ipairs({ "paginators-1.json", "paginators.aws-sdk-js-v2.json" }) do
                local p = files.read(dir .. "/" .. f) and load_json(dir .. "/" .. f)
                for on, spec in pairs(p and p.pagination or {}) do
                    declared[on] = declared[on] or {}
                    for k, v in pairs(spec) do declared[on][k] = v end
                end
            end
            for on, o in pairs(m.operations) do
                local op = svc.operations[on]
                local inm = not is_null(o.input) and m.shapes[o.input.shape].members or {}
                local outm = not is_null(o.output) and m.shapes[o.output.shape].members or {}
                local d = declared[on]
                if d or (inm.NextToken and outm.NextToken) then
                    assert.is_table(op.paging, on)
                    assert.equal(d and d.input_token or "NextToken", op.paging.input_token, on)
                    assert.equal(d and d.output_token or "NextToken", op.paging.output_token, on)
                    if d and d.limit_key then assert.equal(d.limit_key, op.paging.limit_key, on) end
                    if d and d.result_key then
                        assert.equal(d.result_key, op.paging.result_key, on)
                    elseif op.paging.result_key then
                        local t = m.shapes[outm[op.paging.result_key].shape].type
                        assert.truthy(t == "list" or t == "map", on)
                    end
                else
                    assert.is_nil(op.paging, on)
                end
            end
            if sn == "detective" then
                local paged = {}
                for on, op in pairs(svc.operations) do
                    if op.paging then paged[#paged + 1] = on end
                end
                table.sort(paged)
                assert.same({ "ListDatasourcePackages", "ListGraphs", "ListIndicators",
                              "ListInvestigations", "ListInvitations", "ListMembers",
                              "ListOrganizationAdminAccounts" }, paged)
                assert.equal("DatasourcePackages",
                             svc.operations.ListDatasourcePackages.paging.result_key)
                assert.equal("map", svc.shapes[svc.shapes.ListDatasourcePackagesResponse.members[
                    svc.shapes.ListDatasourcePackagesResponse.member_index.DatasourcePackages].shape].type)
            end
        end)
    end)
end
