-- apidoc_spec.lua: detlua.apidoc checked against independent oracles.
--
-- The botocore-format models under $DT_SHARED/models (read with cjson) say what each
-- operation's documentation must mention: required parameters, bounds, enum values,
-- error codes with their HTTP status, paginator keys. Example parameters are checked
-- by tests/lib/check_examples.py against the same JSON models (Python's re for the
-- patterns), and by aws.core.protocol's validator when that module is present. The
-- rendered example is executed against a recording stub client so that the Lua text
-- and the parameter table cannot disagree. Without the models, only the self-contained
-- checks run and the rest are pending.
local apidoc = require("detlua.apidoc")
local model = require("aws.core.model")
local markdown = require("markdown")

local SERVICES = model.services()
local shared = os.getenv("DT_SHARED")
local src = os.getenv("DT_SRC") or "."
local have_cjson, cjson = pcall(require, "cjson")

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function load_json(path)
  local text = have_cjson and shared and read_file(path)
  return text and cjson.decode(text) or nil
end

local models, paginators = {}, {}
for _, s in ipairs(SERVICES) do
  models[s] = load_json((shared or "") .. "/models/" .. s .. "/service-2.json")
  local p = load_json((shared or "") .. "/models/" .. s .. "/paginators-1.json")
  paginators[s] = p and p.pagination or {}
end
local have_models = models.detective ~= nil

local function plain_find(haystack, needle)
  return haystack:find(needle, 1, true) ~= nil
end

-- The block of `text` that starts with the line beginning `heading`, up to a blank line.
local function section(text, heading)
  local at = text:find("\n" .. heading, 1, true)
  if not at then return nil end
  local stop = text:find("\n\n", at + 1, true) or #text
  return text:sub(at + 1, stop)
end

-- The top-level row (two-space indent) of a section whose first column is `name`.
local function row_of(block, name)
  for line in (block or ""):gmatch("[^\n]+") do
    if line:sub(1, 2 + #name) == "  " .. name and line:sub(3 + #name, 3 + #name):match("^[%s%[]?$") then
      return line
    end
  end
  return nil
end

local function json_null(v)
  return v == nil or (have_cjson and v == cjson.null)
end

describe("detlua.apidoc", function()
  describe("operation_text", function()
    it("accepts every name form and rejects unknown operations", function()
      local a = apidoc.operation_text("detective", "ListMembers")
      assert.equal(a, apidoc.operation_text("detective", "list_members"))
      assert.equal(a, apidoc.operation_text("detective", "list-members"))
      local ok, err = pcall(apidoc.operation_text, "detective", "ListBuckets")
      assert.is_false(ok)
      assert.matches("detective has no operation", err)
      ok, err = pcall(apidoc.operation_text, "s3", "ListBuckets")
      assert.is_false(ok)
      assert.matches("unknown service", err)
    end)

    it("shows the call form, wire binding, and every section", function()
      local t = apidoc.operation_text("detective", "ListMembers")
      assert.truthy(plain_find(t, "result = detective:list_members{"))
      assert.truthy(plain_find(t, "POST /graph/members/list -> 200"))
      for _, section in ipairs({ "Parameters (", "Result (", "Errors (", "Pages:", "Example:" }) do
        assert.truthy(plain_find(t, section), section)
      end
    end)

    it("documents every operation of every service from the model JSON", function()
      if not have_models then pending("no service models (set DT_SHARED)") return end
      for _, sn in ipairs(SERVICES) do
        local m = models[sn]
        for opname, op in pairs(m.operations) do
          local t = apidoc.operation_text(sn, opname)
          local where = sn .. "." .. opname
          assert.truthy(plain_find(t, sn .. ":"), where)
          if op.input then
            local shape = m.shapes[op.input.shape]
            local params = section(t, "Parameters")
            local required = {}
            for _, r in ipairs(shape.required or {}) do required[r] = true end
            for mname, mem in pairs(shape.members or {}) do
              local line = row_of(params, mname)
              assert.is_not_nil(line, where .. ": parameter " .. mname)
              if required[mname] then
                assert.truthy(plain_find(line, "required"), where .. ": " .. mname .. " required")
              end
              local ms = m.shapes[mem.shape]
              if ms.type == "integer" or ms.type == "long" then
                if not json_null(ms.min) and not json_null(ms.max) and ms.min ~= ms.max then
                  assert.truthy(plain_find(line, string.format("range %d..%d", ms.min, ms.max)),
                    where .. ": " .. mname .. " range in " .. line)
                end
              elseif ms.type == "string" and ms.enum and #ms.enum <= 12 then
                for _, v in ipairs(ms.enum) do
                  assert.truthy(plain_find(params, v), where .. ": " .. mname .. " enum value " .. v)
                end
              end
            end
          end
          local errs = section(t, "Errors")
          for _, e in ipairs(op.errors or {}) do
            local es = m.shapes[e.shape]
            local code = (es.error and not json_null(es.error.code)) and es.error.code or e.shape
            local status = es.error and es.error.httpStatusCode
            local line = row_of(errs, code)
            assert.is_not_nil(line, where .. ": error " .. code)
            if status then assert.truthy(plain_find(line, string.format("HTTP %d", status)), where .. ": " .. code) end
          end
          if op.deprecated then assert.truthy(plain_find(t, "Deprecated"), where) end
          local pg = paginators[sn][opname]
          if pg then
            local pages = t:match("\nPages:[^\n]*")
            assert.is_not_nil(pages, where .. ": paging")
            local function keys(v) return type(v) == "table" and v or { v } end
            for _, k in ipairs({ "input_token", "output_token", "limit_key", "result_key" }) do
              for _, key in ipairs(keys(pg[k])) do
                if not json_null(key) then assert.truthy(plain_find(pages, key), where .. ": " .. k .. " " .. key) end
              end
            end
          end
        end
      end
    end)

    it("marks a paged operation's paging and the deprecated operations", function()
      local t = apidoc.operation_text("detective", "ListMembers")
      local op = model.operation("detective", "ListMembers")
      assert.is_table(op.paging)
      assert.truthy(plain_find(t, 'detective:pages("list_members"'))
      assert.truthy(plain_find(t, 'detective:each("list_members"'))
      for _, sn in ipairs(SERVICES) do
        local svc = model.service(sn)
        for _, n in ipairs(svc.operation_names) do
          if svc.operations[n].deprecated then
            assert.truthy(plain_find(apidoc.operation_text(sn, n), "Deprecated:"), n)
          end
        end
      end
    end)
  end)

  describe("service_text", function()
    it("lists every operation once, in model order", function()
      for _, sn in ipairs(SERVICES) do
        local svc = model.service(sn)
        local t = apidoc.service_text(sn)
        local last = 0
        for _, n in ipairs(svc.operation_names) do
          local lua_name = svc.operations[n].lua_name
          local at = t:find("\n  " .. lua_name .. "[{(]")
          assert.is_not_nil(at, sn .. ": " .. lua_name)
          assert.is_true(at > last, lua_name .. " out of order")
          last = at
        end
        assert.truthy(plain_find(t, svc.full_name))
      end
    end)
  end)

  describe("shape_text", function()
    it("shows every shape an operation help points to", function()
      for _, sn in ipairs(SERVICES) do
        local svc = model.service(sn)
        for _, n in ipairs(svc.operation_names) do
          for ref in apidoc.operation_text(sn, n):gmatch("fields: see shape ([%w_]+)") do
            local t = apidoc.shape_text(sn, ref)
            for _, m in ipairs(svc.shapes[ref].members) do
              assert.truthy(t:find("\n  " .. m.name .. "%f[^%w_]"), sn .. "." .. ref .. "." .. m.name)
            end
          end
        end
      end
    end)

    it("lists an enum's values and rejects unknown shapes", function()
      if not have_models then pending("no service models (set DT_SHARED)") return end
      local t = apidoc.shape_text("detective", "MemberStatus")
      for _, v in ipairs(models.detective.shapes.MemberStatus.enum) do
        assert.truthy(plain_find(t, "\n  " .. v .. "\n") or plain_find(t, "\n  " .. v), v)
      end
      assert.is_false(pcall(apidoc.shape_text, "detective", "NoSuchShape"))
    end)
  end)

  describe("example", function()
    -- Runs the example text with a stub client for its service and returns the
    -- parameters the example passed.
    local function run_example(sn, opname)
      local text = apidoc.example(sn, opname)
      local captured, called = nil, nil
      local client = setmetatable({}, {
        __index = function(_, key)
          return function(self, params, ...)
            assert(select("#", ...) == 0, "extra arguments")
            called, captured = key, params
            return {}
          end
        end,
      })
      local env = setmetatable({
        [sn] = client,
        aws = { json = { encode = function() return "" end } },
        print = function() end,
      }, { __index = _G })
      local chunk, err = load(text, "=example", "t", env)
      assert(chunk, err)
      chunk()
      return called, captured, text
    end

    local function deep_equal(a, b)
      if type(a) ~= type(b) then return false end
      if type(a) ~= "table" then return a == b end
      for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
      for k in pairs(b) do if a[k] == nil then return false end end
      return true
    end

    it("runs, calls the operation, and passes exactly example_params", function()
      for _, sn in ipairs(SERVICES) do
        local svc = model.service(sn)
        for _, n in ipairs(svc.operation_names) do
          local op = svc.operations[n]
          local called, params = run_example(sn, n)
          assert.equal(op.lua_name, called)
          local expected = apidoc.example_params(sn, n)
          assert.is_true(deep_equal(expected, params), sn .. "." .. n)
        end
      end
    end)

    it("fills every required parameter, recursively, using the model tables", function()
      local function check(svc, shape_name, v, path)
        local sh = svc.shapes[shape_name]
        if sh.type == "structure" then
          assert.is_table(v, path)
          for _, m in ipairs(sh.members) do
            if m.required then
              assert.is_not_nil(v[m.name], path .. "." .. m.name)
            end
            if v[m.name] ~= nil then check(svc, m.shape, v[m.name], path .. "." .. m.name) end
          end
        elseif sh.type == "list" then
          for i, x in ipairs(v) do check(svc, sh.member, x, path .. "[" .. i .. "]") end
        elseif sh.enum then
          local found = false
          for _, e in ipairs(sh.enum) do if e == v then found = true end end
          assert.is_true(found, path)
        end
      end
      for _, sn in ipairs(SERVICES) do
        local svc = model.service(sn)
        for _, n in ipairs(svc.operation_names) do
          local op = svc.operations[n]
          local p = apidoc.example_params(sn, n)
          if op.input then check(svc, op.input, p, sn .. "." .. n) else assert.is_nil(p) end
        end
      end
    end)

    it("uses the realistic values for well-known names", function()
      local p = apidoc.example_params("detective", "CreateMembers")
      assert.equal("arn:aws:detective:us-east-1:111122223333:graph:027c7c4610ea4aacaf0b883093cab899", p.GraphArn)
      assert.equal("444455556666", p.Accounts[1].AccountId)
    end)

    it("satisfies the model JSON's constraints (checked by Python)", function()
      if not have_models then pending("no service models (set DT_SHARED)") return end
      local py = "/usr/bin/python3"
      if not io.open(py, "r") then pending("no /usr/bin/python3") return end
      local all = {}
      for _, sn in ipairs(SERVICES) do
        all[sn] = {}
        for _, n in ipairs(model.service(sn).operation_names) do
          local p = apidoc.example_params(sn, n)
          all[sn][n] = p == nil and cjson.null or p
        end
      end
      local tmp = os.tmpname()
      local f = assert(io.open(tmp, "wb"))
      f:write(cjson.encode(all))
      f:close()
      local cmd = string.format("DT_SHARED='%s' %s '%s/tests/lib/check_examples.py' < '%s' 2>&1", shared, py, src, tmp)
      local h = assert(io.popen(cmd))
      local out = h:read("a")
      local ok = h:close()
      os.remove(tmp)
      assert.is_true(ok, out)
      assert.matches("0 problems", out)
    end)

    it("passes aws.core.protocol's validation", function()
      local ok, protocol = pcall(require, "aws.core.protocol")
      if not ok or type(protocol.build) ~= "function" then pending("aws.core.protocol not built") return end
      for _, sn in ipairs(SERVICES) do
        for _, n in ipairs(model.service(sn).operation_names) do
          local p = apidoc.example_params(sn, n)
          local built, err = pcall(protocol.build, sn, n, p)
          assert.is_true(built, sn .. "." .. n .. ": " .. tostring(err))
        end
      end
    end)
  end)

  describe("markdown", function()
    it("starts with a GENERATED line and has a section per operation", function()
      for _, sn in ipairs(SERVICES) do
        local svc = model.service(sn)
        local md = apidoc.service_markdown(sn)
        assert.matches("^<!%-%- GENERATED by scripts/gen%-docs%.lua", md)
        assert.truthy(plain_find(md, svc.model_sha256))
        for _, n in ipairs(svc.operation_names) do
          assert.truthy(plain_find(md, "\n## " .. n .. "\n"), n)
          assert.truthy(plain_find(md, '<a id="op-' .. n:lower() .. '"></a>'), n)
        end
      end
    end)

    it("links only to anchors that exist", function()
      for _, sn in ipairs(SERVICES) do
        local md = apidoc.service_markdown(sn)
        local ids = {}
        for id in md:gmatch('<a id="([^"]+)"></a>') do
          assert.is_nil(ids[id], "duplicate anchor " .. id)
          ids[id] = true
        end
        for id in md:gmatch("%]%(#([^)]+)%)") do
          assert.is_true(ids[id] == true, sn .. ": dangling link #" .. id)
        end
      end
    end)

    it("keeps table rows well formed (pipes in patterns escaped)", function()
      for _, sn in ipairs(SERVICES) do
        assert.is_nil(markdown.table_error(apidoc.service_markdown(sn)), sn)
      end
    end)

    it("renders one operation on its own", function()
      local md = apidoc.operation_markdown("guardduty", "get_findings")
      assert.matches("^<a id=\"op%-getfindings\"></a>\n\n## GetFindings\n", md)
      assert.truthy(plain_find(md, "guardduty:get_findings{"))
    end)
  end)

  describe("LuaLS stubs", function()
    it("parse as Lua and declare every operation, input and output", function()
      for _, sn in ipairs(SERVICES) do
        local svc = model.service(sn)
        local stub = apidoc.luals(sn)
        assert.equal("---@meta\n-- GENERATED by scripts/gen-docs.lua", stub:sub(1, 45))
        assert(load(stub, "=" .. sn .. " stub", "t"))
        assert.truthy(plain_find(stub, "---@class " .. sn .. ".Client: aws.Client"))
        for _, n in ipairs(svc.operation_names) do
          local op = svc.operations[n]
          assert.truthy(plain_find(stub, "function Client:" .. op.lua_name .. "("), n)
          if op.input then
            local cls = sn .. "." .. n .. "Input"
            assert.truthy(plain_find(stub, "\n---@class " .. cls .. "\n"), cls)
            assert.truthy(plain_find(stub, " " .. cls .. "\nfunction Client:" .. op.lua_name .. "(") or
              plain_find(stub, " " .. cls .. "\n---@return"), n .. " @param")
            for _, m in ipairs(svc.shapes[op.input].members) do
              assert.truthy(stub:find("\n%-%-%-@field " .. m.name .. (m.required and " " or "%? ")), n .. "." .. m.name)
            end
          end
          if op.output then
            assert.truthy(plain_find(stub, "---@return " .. sn .. "." .. n .. "Output\n"), n)
          end
        end
      end
      assert(load(apidoc.luals_core(), "=aws stub", "t"))
    end)

    it("turns enums into aliases with exactly the model's values", function()
      if not have_models then pending("no service models (set DT_SHARED)") return end
      for _, sn in ipairs(SERVICES) do
        local stub = apidoc.luals(sn)
        for name, shape in pairs(models[sn].shapes) do
          if shape.enum then
            local block = stub:match("\n%-%-%-@alias " .. sn .. "%." .. name:gsub("%p", "%%%0") .. "\n(.-)\n\n")
            assert.is_not_nil(block, sn .. "." .. name)
            local got = {}
            for v in block:gmatch('%-%-%-| "([^"]*)"') do got[#got + 1] = v end
            assert.same(shape.enum, got)
          end
        end
      end
    end)
  end)
end)
