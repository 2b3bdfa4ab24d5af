-- repl_pretty_spec: detlua.pretty, the REPL's value printer, called directly.
-- Oracles: Lua itself (the printed constructor is loaded back and compared with the
-- value, so quoting, nesting and key syntax are checked by the Lua parser), aws.Error's
-- own __tostring for the error line, and counts computed here for folding.
local pretty = require("detlua.pretty")
local errors = require("aws.errors")

local function deep_equal(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then
    if a ~= a and b ~= b then return true end -- NaN
    return a == b and math.type(a) == math.type(b)
  end
  for k, v in pairs(a) do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function reload(text)
  local fn = assert(load("return " .. text, "=printed", "t", { math = math }))
  return fn()
end

describe("detlua.pretty.format", function()
  it("writes values that Lua reads back unchanged", function()
    local v = {
      "first", 2, 2.5, -7, true,
      GraphArn = "arn:aws:detective:us-east-1:111122223333:graph:0123456789abcdef0123456789abcdef",
      quotes = 'say "hi"\n\tand \\ back\0zero', utf8 = "ünïcødé ✓",
      ["not-an-identifier"] = 1, ["end"] = "keyword key", [10] = false, [2.5] = "float key",
      nested = { deeper = { deepest = { 1, { a = {} } } } },
      empty = {}, huge = math.huge, tiny = -math.huge,
    }
    local text = pretty.format(v)
    assert.is_true(deep_equal(v, reload(text)), text)
  end)

  it("shows timestamps exactly as they came", function()
    local ts = "2026-01-02T03:04:05.678Z"
    local text = pretty.format({ CreatedTime = ts })
    assert.truthy(text:find('"' .. ts .. '"', 1, true))
  end)

  it("puts the list part first, then keys sorted, one per line when nested", function()
    local text = pretty.format({ zeta = 1, alpha = { x = { 1 } }, Mid = 2, [1] = "a", [2] = "b" })
    local order = {}
    for line in text:gmatch("[^\n]+") do
      local key = line:match("^  ([%w_]+) =") or line:match('^  "(%a)",')
      if key then order[#order + 1] = key end
    end
    -- byte order: upper case sorts before lower case
    assert.same({ "a", "b", "Mid", "alpha", "zeta" }, order)
  end)

  it("indents each level by the indent string", function()
    local text = pretty.format({ a = { b = { c = { d = { 1, 2, { e = 1 } } } } } }, { width = 10 })
    assert.truthy(text:find("\n      c = ", 1, true), text)
    assert.truthy(text:find("\n        d = ", 1, true), text)
  end)

  it("keeps small flat tables on one line and breaks wide ones", function()
    assert.equal('{ 1, 2, 3 }', pretty.format({ 1, 2, 3 }))
    assert.equal('{ a = 1, b = "x" }', pretty.format({ b = "x", a = 1 }))
    local wide = {}
    for i = 1, 10 do wide["Key" .. i] = string.rep("v", 20) end
    local text = pretty.format(wide, { width = 80 })
    local lines = 0
    for _ in text:gmatch("\n") do lines = lines + 1 end
    assert.equal(11, lines) -- "{", ten keys, "}"
  end)

  it("folds long lists and says how many items there are", function()
    for _, n in ipairs({ 5, 20, 21, 137 }) do
      local list = {}
      for i = 1, n do list[i] = { Id = i } end
      local text = pretty.format({ Items = list }, { max_items = 20 })
      local shown = 0
      for _ in text:gmatch("Id = ") do shown = shown + 1 end
      assert.equal(math.min(n, 20), shown)
      if n > 20 then
        assert.truthy(text:find(string.format("%d more (%d items in all)", n - 20, n), 1, true), text)
        -- the folded text still loads: the note is a comment
        assert.equal(20, #reload(text).Items)
      else
        assert.falsy(text:find("more", 1, true))
      end
    end
  end)

  it("marks cycles instead of recursing", function()
    local t = { name = "loop" }
    t.self = t
    local text = pretty.format(t)
    assert.truthy(text:find("cycle", 1, true))
    local back = reload(text)
    assert.equal("loop", back.name)
  end)

  it("uses __tostring for objects and never calls __index or __pairs", function()
    local obj = setmetatable({}, { __tostring = function() return "OBJECT" end })
    assert.equal("OBJECT", pretty.format(obj))
    local touched = false
    local trap = setmetatable({ real = 1 }, {
      __index = function() touched = true end,
      __pairs = function() touched = true; return next, {}, nil end,
    })
    assert.equal("{ real = 1 }", pretty.format(trap))
    assert.is_false(touched)
  end)

  it("names functions when told how", function()
    local f = function() end
    local text = pretty.format({ f = f }, { function_name = function(g) return g == f and "detective.list_graphs" end })
    assert.truthy(text:find("function: detective.list_graphs", 1, true))
  end)

  it("colours only when asked", function()
    local v = { a = "x", b = 1, c = { true } }
    assert.falsy(pretty.format(v):find("\27", 1, true))
    local colored = pretty.format(v, { color = true })
    assert.truthy(colored:find("\27[", 1, true))
    assert.equal(pretty.format(v), (colored:gsub("\27%[[%d;]*m", "")))
  end)
end)

describe("detlua.pretty.want_color", function()
  local function env(t) return function(k) return t[k] end end
  it("is on for a terminal and off otherwise", function()
    assert.is_true(pretty.want_color(true, env{}))
    assert.is_false(pretty.want_color(false, env{}))
  end)
  it("honours NO_COLOR when it is set and not empty, and TERM=dumb", function()
    assert.is_false(pretty.want_color(true, env{ NO_COLOR = "1" }))
    assert.is_true(pretty.want_color(true, env{ NO_COLOR = "" }))
    assert.is_false(pretty.want_color(true, env{ TERM = "dumb" }))
  end)
end)

describe("detlua.pretty.error", function()
  it("prints an aws.Error as its one-line message plus its fields", function()
    local e = errors.new{ kind = "service", code = "ValidationException", message = "bad request",
      status = 400, request_id = "req-1", operation = "Detective.CreateMembers",
      fields = { ErrorCode = "INVALID_REQUEST_BODY", ErrorCodeReason = "too many accounts" } }
    local text = pretty.error(e)
    local first, rest = text:match("^([^\n]*)\n(.*)$")
    assert.equal(tostring(e), first)
    assert.truthy(rest:find("fields", 1, true))
    local fields = reload(rest:match("=%s*(.*)$"))
    assert.same(e.fields, fields)
  end)

  it("prints an error without fields on one line", function()
    local e = errors.new{ kind = "transport", code = "ConnectionRefused", message = "refused",
      operation = "Detective.ListGraphs" }
    assert.equal(tostring(e), pretty.error(e))
  end)

  it("shortens Ctrl-C and passes other messages through", function()
    assert.equal("interrupted", pretty.error("client.lua:12: interrupted!"))
    assert.equal("stdin:1: boom", pretty.error("stdin:1: boom"))
    assert.truthy(pretty.error({}):find("^table"))
  end)
end)
