-- bad_input_spec.lua: a generated corpus of invalid parameter sets for every Detective and
-- GuardDuty operation, each of which must be refused before anything is sent.
--
-- For every operation the example parameters of the API reference (detlua.apidoc, checked
-- valid first) are mutated once per constraint the model states along them, one mistake at a
-- time: a required member removed; a value of the wrong Lua type (and a function); a string
-- outside its enum, shorter or longer than its length bounds, not matching its pattern, not
-- valid UTF-8, or huge; a number below or above its range, NaN, infinite or (for integers)
-- fractional; a list or map with too few or too many entries; a list where a structure goes
-- and the other way round; an unknown member name; a table that contains itself. Members the
-- example leaves out are mutated too (their invalid values need no valid neighbours).
--
-- The constraints come from the model (aws.core.model), never from the validator; a value
-- that breaks a pattern is chosen by Python's re module (Smithy patterns are searched, not
-- anchored), so the pattern cases need /usr/bin/python3 and are left out without it. Each case
-- goes through a real client (client:call) whose transport hook counts sends; each must
-- raise a string "<service>:<lua_op>: <Path>: <problem>" naming the mutated parameter path,
-- with the problem's wording for that constraint kind, and the hook must never run.
local aws = require("aws")
local client_mod = require("aws.client")
local model = require("aws.core.model")
local P = require("aws.core.protocol")
local apidoc = require("detlua.apidoc")
local json = require("aws.json")
local proc = require("proc")

local REMOVE = {}           -- marker: delete the member
local CYCLE_PARENT = {}     -- marker: the member becomes the table that holds it
local CYCLE_SELF_LIST = {}  -- marker: a list whose first item is the list itself
local HUGE_BYTES = 2 * 1024 * 1024 + 1

-- pattern -> a value it does not match (re.search), for every pattern of both models
local PATTERN_CANDIDATES = { "\1\2 !! \127", "!!", " ", "\t", "~", "@#%", "aws:x", "\u{2603}" }
local function pattern_breakers()
  local set, list = {}, {}
  for _, s in ipairs({ "detective", "guardduty" }) do
    for _, sh in pairs(model.service(s).shapes) do
      if sh.pattern and not set[sh.pattern] then
        set[sh.pattern] = true
        list[#list + 1] = sh.pattern
      end
    end
  end
  table.sort(list)
  local script = [[
import json, re, sys
req = json.load(sys.stdin)
out = {}
for p in req["patterns"]:
    try:
        rx = re.compile(p)
    except re.error:
        continue
    for c in req["candidates"]:
        if rx.search(c) is None:
            out[p] = c
            break
json.dump(out, sys.stdout)
]]
  local r = proc.run { argv = { proc.PYTHON, "-c", script },
    stdin = json.encode({ patterns = list, candidates = PATTERN_CANDIDATES }) }
  if r.code ~= 0 then return nil end
  return json.decode(r.stdout)
end
local BREAKERS = pattern_breakers()

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = deepcopy(x) end
  return t
end

local huge_strings = {}
local function huge_string(n)
  huge_strings[n] = huge_strings[n] or string.rep("x", n)
  return huge_strings[n]
end

local function path_join(path, name)
  return path == "" and name or (path .. "." .. name)
end

-- One service's cases: {op, lua_name, steps = {k...}, value, path, kind, phrases}
local function generate(svcname)
  local svc = model.service(svcname)
  local cases = {}
  local invalid_examples = {}

  for _, opname in ipairs(svc.operation_names) do
    local op = svc.operations[opname]
    local base = apidoc.example_params(svcname, opname) or {}
    if not P.validate(svcname, opname, base) then
      invalid_examples[#invalid_examples + 1] = opname
      goto next_op
    end

    do
      local function add(steps, value, path, kind, phrases)
        cases[#cases + 1] = { op = opname, lua_name = op.lua_name, base = base, steps = steps, value = value,
          path = path, kind = kind, phrases = phrases }
      end
      local function plus(steps, k)
        local s = { table.unpack(steps) }
        s[#s + 1] = k
        return s
      end

      -- invalid values for a slot of shape `shname` at steps/path; in_struct: the slot is a
      -- structure member (so a cycle back to the parent is possible)
      local function invalid_values(shname, steps, path, sample, in_struct)
        local sh = svc.shapes[shname]
        local t = sh.type
        add(steps, print, path, "type", { "expected" })
        if t == "string" then
          add(steps, true, path, "type", { "expected string" })
          add(steps, "\xff\xfeinvalid", path, "utf8", { "not valid UTF%-8" })
          local huge = math.max(HUGE_BYTES, (sh.max or 0) * 4 + 1)
          if huge < 64 * 1024 * 1024 then add(steps, huge_string(huge), path, "huge", { "over the limit" }) end
          if sh.enum then
            add(steps, "NOT_A_MODELED_VALUE", path, "enum", { "is not one of" })
          else
            if sh.min and sh.min > 0 then add(steps, "", path, "length", { "character", "does not match" }) end
            if sh.max and sh.max < 100000 then
              local s = type(sample) == "string" and sample ~= "" and sample or "a"
              s = string.rep(s, sh.max // #s + 1)
              add(steps, s, path, "length", { "character", "does not match" })
            end
            local breaker = sh.pattern and BREAKERS and BREAKERS[sh.pattern]
            if breaker then add(steps, breaker, path, "pattern", { "does not match" }) end
          end
        elseif t == "integer" or t == "long" then
          add(steps, "twelve", path, "type", { "expected" })
          add(steps, 1.5, path, "type", { "expected" })
          add(steps, 0 / 0, path, "nan", { "expected" })
          add(steps, math.huge, path, "inf", { "expected", "out of range" })
          if sh.min then add(steps, sh.min - 1, path, "range", { "below the minimum", "out of range" }) end
          if sh.max then add(steps, sh.max + 1, path, "range", { "above the maximum", "out of range" }) end
        elseif t == "double" or t == "float" then
          add(steps, "twelve", path, "type", { "expected number" })
          add(steps, 0 / 0, path, "nan", { "finite" })
          add(steps, -math.huge, path, "inf", { "finite" })
          if sh.min then add(steps, sh.min - 1, path, "range", { "below the minimum" }) end
          if sh.max then add(steps, sh.max + 1, path, "range", { "above the maximum" }) end
        elseif t == "boolean" then
          add(steps, "yes", path, "type", { "expected boolean" })
        elseif t == "timestamp" then
          add(steps, true, path, "type", { "expected timestamp" })
          add(steps, "last tuesday", path, "timestamp", { "not an ISO 8601 timestamp" })
          add(steps, 0 / 0, path, "nan", { "epoch seconds", "expected" })
          add(steps, math.huge, path, "inf", { "epoch seconds", "expected" })
        elseif t == "blob" then
          add(steps, true, path, "type", { "expected string" })
        elseif t == "structure" then
          add(steps, "text", path, "type", { "expected a table" })
          add(steps, { { "a" }, { "b" } }, path, "nesting", { "expected a structure" })
          if in_struct then add(steps, CYCLE_PARENT, path, "cycle", { "cyclic table" }) end
        elseif t == "list" then
          add(steps, "text", path, "type", { "expected a list" })
          add(steps, { Name = "x" }, path, "nesting", { "expected a list" })
          if sh.min and sh.min > 0 then add(steps, {}, path, "count", { "item" }) end
          if sh.max and sh.max < 10000 then
            local items = {}
            for i = 1, sh.max + 1 do items[i] = deepcopy(sample and sample[1] or "x") end
            add(steps, items, path, "count", { "item" })
          end
          local et = svc.shapes[sh.member].type
          if et == "structure" or et == "list" or et == "map" then
            add(steps, CYCLE_SELF_LIST, path .. "[1]", "cycle", { "cyclic table" })
          end
        elseif t == "map" then
          add(steps, "text", path, "type", { "expected a map" })
          add(steps, { "a", "b" }, path, "nesting", { "expected a map" })
          if sh.min and sh.min > 0 then add(steps, {}, path, "count", { "entr" }) end
          if sh.max and sh.max < 10000 then
            local entries = {}
            local v = sample and select(2, next(sample))
            for i = 1, sh.max + 1 do entries["key" .. i] = deepcopy(v or "x") end
            add(steps, entries, path, "count", { "entr" })
          end
        end
      end

      local function walk(shname, value, steps, path)
        local sh = svc.shapes[shname]
        if sh.type == "structure" then
          add(plus(steps, "NoSuchMember"), 1, path_join(path, "NoSuchMember"), "unknown", { "unknown parameter" })
          for _, m in ipairs(sh.members) do
            local msteps, mpath = plus(steps, m.name), path_join(path, m.name)
            local v = value and value[m.name]
            if m.required and v ~= nil then add(msteps, REMOVE, mpath, "required", { "required parameter missing" }) end
            invalid_values(m.shape, msteps, mpath, v, true)
            if v ~= nil then walk(m.shape, v, msteps, mpath) end
          end
        elseif sh.type == "list" and type(value) == "table" and value[1] ~= nil then
          local esteps, epath = plus(steps, 1), path .. "[1]"
          invalid_values(sh.member, esteps, epath, value[1], false)
          walk(sh.member, value[1], esteps, epath)
        elseif sh.type == "map" and type(value) == "table" then
          local k, v = next(value)
          if k ~= nil then
            local esteps, epath = plus(steps, k), path .. '["' .. k .. '"]'
            invalid_values(sh.value, esteps, epath, v, false)
            walk(sh.value, v, esteps, epath)
          end
        end
      end

      if op.input then
        walk(op.input, base, {}, "")
      else
        add({ "NoSuchMember" }, 1, "NoSuchMember", "unknown", { "unknown parameter" })
      end
    end
    ::next_op::
  end
  return cases, invalid_examples
end

-- The parameters of one case: a copy of the example with the one mistake applied.
local function materialize(case)
  local root = deepcopy(case.base)
  local parent = root
  for i = 1, #case.steps - 1 do parent = parent[case.steps[i]] end
  local key = case.steps[#case.steps]
  local v = case.value
  if v == REMOVE then
    v = nil
  elseif v == CYCLE_PARENT then
    v = parent
  elseif v == CYCLE_SELF_LIST then
    local l = {}
    l[1] = l
    v = l
  else
    v = deepcopy(v)
  end
  parent[key] = v
  return root
end

describe("bad input from Lua", function()
  local sends = 0
  local saved_transport
  local totals = { cases = 0, rejected = 0, kinds = {} }

  setup(function()
    saved_transport = client_mod.hooks.transport
    client_mod.hooks.transport = function(cl, req)
      sends = sends + 1
      return 200, { ["content-type"] = "application/json" }, "{}"
    end
  end)

  teardown(function()
    client_mod.hooks.transport = saved_transport
  end)

  for _, svcname in ipairs({ "detective", "guardduty" }) do
    local cases, invalid_examples = generate(svcname)
    local by_op, order = {}, {}
    for _, c in ipairs(cases) do
      if not by_op[c.op] then
        by_op[c.op] = {}
        order[#order + 1] = c.op
      end
      table.insert(by_op[c.op], c)
    end

    it(svcname .. ": the example parameters of every operation are valid (the corpus's base)", function()
      assert.are.same({}, invalid_examples)
      assert.are.equal(#model.service(svcname).operation_names, #order)
    end)

    for _, opname in ipairs(order) do
      it(svcname .. " " .. opname .. ": every bad input raises a validation error naming its path", function()
        local cl = aws.client(svcname, { region = "us-east-1", endpoint = "http://127.0.0.1:9", max_attempts = 1,
          credentials = { access_key_id = "AKIDBADINPUT", secret_access_key = "bad-input-spec-secret" } })
        local problems = {}
        local sends_before = sends
        for _, c in ipairs(by_op[opname]) do
          totals.cases = totals.cases + 1
          local ok, err = pcall(cl.call, cl, opname, materialize(c))
          local prefix = svcname .. ":" .. c.lua_name .. ": " .. c.path .. ": "
          local good = not ok and type(err) == "string" and err:sub(1, #prefix) == prefix
          if good then
            local phrase_ok = false
            for _, p in ipairs(c.phrases) do
              if err:find(p) then phrase_ok = true end
            end
            good = phrase_ok
          end
          if good then
            totals.rejected = totals.rejected + 1
            totals.kinds[c.kind] = (totals.kinds[c.kind] or 0) + 1
          elseif #problems < 5 then
            problems[#problems + 1] = string.format("%s at %s: %s", c.kind, c.path,
              ok and "accepted" or tostring(err):sub(1, 300))
          end
        end
        cl:close()
        assert.are.same({}, problems)
        assert.are.equal(sends_before, sends, "requests were sent")
      end)
    end
  end

  it("rejected every bad input and sent nothing", function()
    local kinds = {}
    for k, n in pairs(totals.kinds) do kinds[#kinds + 1] = k .. "=" .. n end
    table.sort(kinds)
    print(string.format("# %d bad inputs rejected, %d sent (%s)", totals.rejected, sends, table.concat(kinds, " ")))
    assert.are.equal(0, sends)
    assert.are.equal(totals.cases, totals.rejected)
    local want = { "required", "type", "enum", "length", "range", "count", "unknown", "nesting", "cycle", "huge",
      "utf8", "nan", "inf" }
    if BREAKERS then want[#want + 1] = "pattern" end
    for _, k in ipairs(want) do
      assert.is_true((totals.kinds[k] or 0) > 0, "no case of kind " .. k)
    end
  end)
end)
