-- repl_complete_spec: detlua.complete called directly with an environment built here.
-- Oracles: the service model tables (aws.core.model: operation names, input members,
-- enum values) and, when ../shared is present, the botocore JSON models read with cjson,
-- so the candidates are checked against the API definition rather than against
-- themselves.
local complete = require("detlua.complete")
local model = require("aws.core.model")
local aws = require("aws")
local files = require("files")
local tables = require("tables")

local shared = os.getenv("DT_SHARED")
local have_cjson, cjson = pcall(require, "cjson")

local function botocore(service)
  if not (shared and have_cjson) then return nil end
  local text = files.read(shared .. "/models/" .. service .. "/service-2.json")
  return text and cjson.decode(text)
end

local env
before_each(function()
  env = setmetatable({
    aws = aws,
    detective = aws.client("detective", { region = "us-east-1" }),
    guardduty = aws.client("guardduty", { region = "us-east-1" }),
    sts = aws.client("sts", { region = "us-east-1" }),
    help = function() end,
    graph_arn = "arn",
  }, { __index = _G })
end)

local function cands(before, extra)
  local opts = { env = env }
  for k, v in pairs(extra or {}) do opts[k] = v end
  local list, word = complete.candidates(before, opts)
  return list, word
end

local function set(list, f)
  local s = {}
  for _, v in ipairs(list) do s[f and f(v) or v] = true end
  return s
end

local sorted = tables.sorted

describe("detlua.complete: client methods", function()
  it("offers every operation whose Lua name starts with the word", function()
    for _, service in ipairs(model.services()) do
      local svc = model.service(service)
      local expected = {}
      for _, name in ipairs(svc.operation_names) do
        local ln = svc.operations[name].lua_name
        if ln:sub(1, 5) == "list_" then expected[#expected + 1] = ln .. "{" end
      end
      local got, word = cands(service .. ":list_")
      assert.equal("list_", word)
      assert.same(sorted(expected), got)
    end
  end)

  it("matches the botocore model's List operations", function()
    local m = botocore("detective")
    if not m then pending("no botocore model (set DT_SHARED)") return end
    local n = 0
    for name in pairs(m.operations) do
      if name:sub(1, 4) == "List" then n = n + 1 end
    end
    local got = cands("detective:list_")
    assert.equal(n, #got)
  end)

  it("completes a unique operation and the generic methods", function()
    assert.same({ "list_members{" }, (cands("detective:list_mem")))
    local all = set((cands("detective:")))
    assert.truthy(all["call("] and all["pages("] and all["each("])
    -- with '.', the names alone (for help(detective.list_members))
    assert.same({ "list_members" }, (cands("detective.list_mem")))
  end)
end)

describe("detlua.complete: parameters", function()
  local function input_members(service, op)
    local svc = model.service(service)
    local o = model.operation(service, op)
    local out = {}
    for _, m in ipairs(svc.shapes[o.input].members) do out[#out + 1] = m.name .. " = " end
    return sorted(out)
  end

  it("offers an operation's input members inside its table", function()
    for _, service in ipairs(model.services()) do
      local svc = model.service(service)
      for _, name in ipairs(svc.operation_names) do
        local op = svc.operations[name]
        if op.input and svc.shapes[op.input] and #svc.shapes[op.input].members > 0 then
          local got = cands(service .. ":" .. op.lua_name .. "{")
          assert.same(input_members(service, name), got)
        end
      end
    end
  end)

  it("completes a parameter name from its prefix, in any case", function()
    local got, word = cands("detective:list_members{Gr")
    assert.equal("Gr", word)
    assert.same({ "GraphArn = " }, got)
    assert.same({ "MaxResults = " }, (cands("detective:list_members{GraphArn = graph_arn, maxr")))
  end)

  it("leaves out parameters already given", function()
    local got = cands("detective:list_members{GraphArn = graph_arn, ")
    assert.same({ "MaxResults = ", "NextToken = " }, got)
  end)

  it("follows call(), parentheses and nested structures", function()
    assert.same(input_members("detective", "ListMembers"), (cands('detective:call("ListMembers", {')))
    assert.same(input_members("detective", "ListMembers"), (cands("detective:list_members({")))
    local svc = model.service("detective")
    local create = svc.shapes[model.operation("detective", "CreateMembers").input]
    local accounts = create.members[create.member_index.Accounts]
    local account_shape = svc.shapes[svc.shapes[accounts.shape].member]
    local expected = {}
    for _, m in ipairs(account_shape.members) do expected[#expected + 1] = m.name .. " = " end
    assert.same(sorted(expected), (cands("detective:create_members{GraphArn = graph_arn, Accounts = {{")))
    assert.same(sorted(expected), (cands('detective:create_members{Accounts = {{AccountId = "1"}, {')))
  end)

  it("offers aws.client options in its second argument", function()
    local got = set((cands('aws.client("detective", {')))
    assert.truthy(got["region = "] and got["profile = "] and got["endpoint = "])
  end)
end)

describe("detlua.complete: values", function()
  it("offers an enum member's values after Member = \"", function()
    local svc = model.service("detective")
    local op = model.operation("detective", "ListIndicators")
    local input = svc.shapes[op.input]
    local shape = svc.shapes[input.members[input.member_index.IndicatorType].shape]
    assert.truthy(shape.enum and #shape.enum > 0)
    local got, word = cands('detective:list_indicators{IndicatorType = "')
    assert.equal("", word)
    assert.same(sorted(shape.enum), (function()
      local s = {}
      for i, c in ipairs(got) do s[i] = c:sub(1, -2) end
      return s
    end)())
    for _, c in ipairs(got) do assert.equal('"', c:sub(-1)) end
    -- single quotes close with a single quote
    local single = cands("detective:list_indicators{IndicatorType = 'TTP")
    assert.equal(1, #single)
    assert.equal("'", single[1]:sub(-1))
  end)

  it("agrees with the botocore enum", function()
    local m = botocore("detective")
    if not m then pending("no botocore model (set DT_SHARED)") return end
    local input = m.shapes[m.operations.ListIndicators.input.shape]
    local enum = m.shapes[input.members.IndicatorType.shape].enum
    local got = cands('detective:list_indicators{IndicatorType = "')
    assert.equal(#enum, #got)
  end)

  it("offers enum values as list elements", function()
    local got = cands('detective:update_datasource_packages{DatasourcePackages = {"')
    local svc = model.service("detective")
    local op = model.operation("detective", "UpdateDatasourcePackages")
    local input = svc.shapes[op.input]
    local list = svc.shapes[input.members[input.member_index.DatasourcePackages].shape]
    assert.equal(#svc.shapes[list.member].enum, #got)
  end)

  it("offers profile names for aws.client's profile option and .profile", function()
    local names = function() return { "prod", "prod-ro", "dev" } end
    assert.same({ 'prod"', 'prod-ro"' }, (cands('aws.client("detective", {profile = "pr', { profile_names = names })))
    assert.same({ "dev" }, (cands(".profile d", { profile_names = names })))
    -- a failing lookup offers nothing instead of raising
    assert.same({}, (cands('aws.client("detective", {profile = "', { profile_names = function() error("x") end })))
  end)

  it("offers service names to aws.client and names to help", function()
    assert.same(sorted({ 'detective"', 'guardduty"', 'sts"' }), (cands('aws.client("')))
    local got = set((cands('help("ListMem')))
    assert.truthy(got['ListMembers"'])
    assert.same({ 'detective.ListMembers"' }, (cands('help("detective.ListMem')))
  end)
end)

describe("detlua.complete: names", function()
  it("offers globals, keywords and module fields", function()
    assert.same({ "help(" }, (cands("hel")))
    assert.truthy(set((cands("lo")))["local "])
    local got = set((cands("aws.ti")))
    assert.truthy(got.time)
    local fields = set((cands("aws.time.")))
    for k, v in pairs(aws.time) do
      if type(v) == "function" then assert.truthy(fields[k .. "("], k) end
    end
  end)

  it("offers nothing inside comments, numbers or ordinary strings", function()
    assert.same({}, (cands("-- detective:list_")))
    assert.same({}, (cands("x = 1.5")))
    assert.same({}, (cands('x = "detective:list_')))
  end)

  it("offers the REPL's dot commands at the start of a line", function()
    local got = cands(".re", { dot_commands = { ".region", ".profile", ".help" } })
    assert.same({ ".region " }, got)
  end)
end)

describe("detlua.complete.edit", function()
  it("inserts the rest of a single candidate", function()
    assert.same({ 0, "bers{" }, { complete.edit("list_mem", { "list_members{" }) })
  end)
  it("inserts a longer common prefix instead of listing", function()
    assert.same({ 0, "st_" }, { complete.edit("li", { "list_graphs{", "list_members{" }) })
  end)
  it("lists when the candidates share nothing more", function()
    local d, ins, listing = complete.edit("list_", { "list_graphs{", "list_members{" }, 80)
    assert.equal(0, d)
    assert.equal("", ins)
    assert.truthy(listing:find("list_graphs", 1, true) and listing:find("list_members", 1, true))
    assert.falsy(listing:find("{", 1, true))
  end)
  it("replaces the word when the match ignored case", function()
    assert.same({ 4, "MaxResults = " }, { complete.edit("maxr", { "MaxResults = " }) })
  end)
  it("does nothing without candidates", function()
    assert.same({ 0, "" }, { complete.edit("zz", {}) })
  end)
  it("lays listings out in columns that fit the width", function()
    local list = {}
    for i = 1, 30 do list[i] = string.format("name_%02d", i) end
    local text = complete.listing(list, 40)
    for line in text:gmatch("[^\n]+") do assert.truthy(#line <= 40, line) end
    local seen = 0
    for _ in text:gmatch("name_%d%d") do seen = seen + 1 end
    assert.equal(30, seen)
  end)
end)
