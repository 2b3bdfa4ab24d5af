-- apidoc_coverage_spec.lua: detlua.apidoc describes the whole aws surface that the service
-- models do not: every public field of the aws table and of its modules (json, time, redact,
-- sigv4, model, audit, credentials), every generic method of a client, of an
-- aws.assume_role session and its provider, of an audit log, and of aws.emulator under
-- --local has an entry (or is listed in apidoc_core.INTERNAL with a reason), and every entry
-- names something that exists.
--
-- The oracle is the running code: names are enumerated at run time from real objects (a
-- client with an unreachable endpoint and explicit keys that never sends, a session from
-- the in-process emulator, a child `detlua run --local` for aws.emulator), never from the
-- documentation. Documented names are read from the objects first, so modules that attach
-- their functions on first access are loaded before the objects are enumerated. Parameter
-- counts are checked against debug.getinfo of the Lua functions, and every example runs
-- under `detlua run --local`.
local apidoc = require("detlua.apidoc")
local model = require("aws.core.model")
local proc = require("proc")
local markdown = require("markdown")
local aws = require("aws")

local documented, internal = apidoc.core_names()
local ENTRIES = apidoc.core_entries()

local UNREACHABLE = "http://127.0.0.1:9"
local KEYS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }
local MEMBER_ROLE = "arn:aws:iam::444455556666:role/DetectiveMember"

local function is_public(k)
  return type(k) == "string" and k:sub(1, 1) ~= "_"
end

-- Names reachable on t: its own keys (pairs honours __pairs) plus a table __index.
local function keys_of(t, extra)
  local out = {}
  for k in pairs(t) do out[k] = true end
  local mt = getmetatable(t)
  local idx = type(mt) == "table" and rawget(mt, "__index")
  if type(idx) == "table" and idx ~= t then
    for k in pairs(idx) do out[k] = true end
  end
  for _, x in ipairs(extra or {}) do
    for k in pairs(x) do out[k] = true end
  end
  return out
end

-- The documented entries whose name is prefix .. sep .. member: {member = entry}.
local function entries_under(prefix, sep)
  local out = {}
  local head = prefix .. sep
  for _, e in ipairs(ENTRIES) do
    if e.name:sub(1, #head) == head then
      local member = e.name:sub(#head + 1)
      if not member:find("[%.:]") then out[member] = e end
    end
  end
  return out
end

-- Every documented member exists on obj (reading it loads what is loaded on demand), and
-- functions are functions.
local function check_documented_exist(prefix, sep, obj)
  local bad = {}
  for member, e in pairs(entries_under(prefix, sep)) do
    local v = obj[member]
    if v == nil and e.only == nil then
      bad[#bad + 1] = e.name .. " is documented but missing"
    elseif e.kind == "function" and type(v) ~= "function" then
      bad[#bad + 1] = e.name .. " is documented as a function but is a " .. type(v)
    end
  end
  table.sort(bad)
  assert.same({}, bad)
end

-- Every public name on obj is documented or internal. functions_only: objects, whose data
-- fields (role_arn, path, ...) are described with their class instead.
local function check_all_documented(prefix, sep, obj, opts)
  opts = opts or {}
  local missing = {}
  for k in pairs(keys_of(obj, opts.extra)) do
    if is_public(k) and not (opts.skip and opts.skip[k]) then
      local v = obj[k]
      if v ~= nil and (not opts.functions_only or type(v) == "function") then
        local name = prefix .. sep .. k
        if not documented[name] and not internal[name] then missing[#missing + 1] = name end
      end
    end
  end
  table.sort(missing)
  assert.same({}, missing)
end

local function check_object(prefix, sep, obj, opts)
  check_documented_exist(prefix, sep, obj)
  check_all_documented(prefix, sep, obj, opts)
end

-- Top-level documented parameters (not "opts.x" rows).
local function top_params(e)
  local n, vararg = 0, false
  for _, p in ipairs(e.params or {}) do
    if p[1] == "..." then vararg = true
    elseif not p[1]:find(".", 1, true) then n = n + 1 end
  end
  return n, vararg
end

-- A Lua function's parameters agree with its entry (methods: self not counted). C
-- functions and vararg-only wrappers say nothing and are skipped.
local function check_arity(e, f, is_method)
  local info = debug.getinfo(f, "Su")
  if info.what ~= "Lua" then return end
  local nparams = info.nparams - (is_method and 1 or 0)
  if info.isvararg and nparams <= 0 and not select(2, top_params(e)) then return end
  local n, vararg = top_params(e)
  assert.equal(nparams, n, e.name .. ": documented parameters vs the function's")
  assert.equal(info.isvararg, vararg, e.name .. ": vararg")
end

local function service_client(service)
  return aws.client(service, { region = "us-east-1", endpoint = UNREACHABLE, credentials = KEYS })
end

-- Refuses any request: the objects examined here must never send.
local client_mod = require("aws.client")
local saved_transport
setup(function()
  saved_transport = client_mod.hooks.transport
  client_mod.hooks.transport = function(c, req)
    if req.url:sub(1, #UNREACHABLE) == UNREACHABLE then error("apidoc coverage: a request was sent to " .. req.url, 0) end
    if saved_transport then return saved_transport(c, req) end
    return client_mod.connection(c):request(req)
  end
end)
teardown(function()
  client_mod.hooks.transport = saved_transport
end)

describe("apidoc coverage of the aws module", function()
  it("documents every field of the aws table", function()
    check_object("aws", ".", aws)
  end)

  it("documents every field of aws.json, aws.time, aws.redact, aws.sigv4, aws.model and aws.audit", function()
    for _, m in ipairs({ "json", "time", "redact", "sigv4", "model", "audit" }) do
      assert.is_table(aws[m], "aws." .. m)
      assert.is_not_nil(documented["aws." .. m], "aws." .. m .. " has an entry")
      check_object("aws." .. m, ".", aws[m])
    end
  end)

  it("documents every field of the aws.credentials module", function()
    local credentials = require("aws.credentials")
    assert.is_not_nil(documented["aws.credentials"])
    check_object("aws.credentials", ".", credentials)
    if aws.credentials ~= nil then assert.equal(credentials, aws.credentials) end
    assert.equal(aws.assume_role, credentials.assume_role)
  end)

  it("documents every generic method of a client of each service", function()
    for _, service in ipairs(model.services()) do
      local c = service_client(service)
      local ops = {}
      local svc = model.service(service)
      for _, n in ipairs(svc.operation_names) do ops[svc.operations[n].lua_name] = true end
      -- an operation method is described by the service's page, not here
      for member, e in pairs(entries_under("client", ":")) do
        assert.is_nil(ops[member], e.name .. " shadows an operation of " .. service)
      end
      check_documented_exist("client", ":", c)
      -- the generic methods, and the ones other modules add on first lookup (EXTENSIONS)
      local extra = { rawget(client_mod, "methods") or {}, rawget(client_mod, "EXTENSIONS") or {} }
      check_all_documented("client", ":", c, { functions_only = true, skip = ops, extra = extra })
      c:close()
    end
  end)

  it("documents every method of a session, its provider and an audit log", function()
    local srv = require("aws.core.emulator").start{ host = "127.0.0.1", port = 0 }
    local ok, err = pcall(function()
      local admin = srv:admin_credentials()
      local sts = aws.client("sts", { region = "us-east-1", endpoint = srv:url(),
        credentials = { access_key_id = admin.access_key_id, secret_access_key = admin.secret_access_key } })
      local sess = aws.assume_role({ RoleArn = MEMBER_ROLE, RoleSessionName = "apidoc-coverage" }, { client = sts })
      check_object("session", ":", sess, { functions_only = true })
      check_object("provider", ":", sess:provider(), { functions_only = true })
      sts:close()
    end)
    srv:stop()
    assert(ok, err)
    local path = os.tmpname()
    local log = aws.audit.open(path, { playbook = "apidoc-coverage" })
    ok, err = pcall(check_object, "log", ":", log, { functions_only = true })
    log:close()
    os.remove(path)
    assert(ok, err)
  end)

  it("documents aws.emulator and the aws table as `detlua run --local` sets them up", function()
    local probe = os.tmpname()
    local f = assert(io.open(probe, "wb"))
    f:write([[
local function dump(prefix, t)
  for k, v in pairs(t) do print(prefix, k, type(v)) end
  local mt = getmetatable(t)
  if type(mt) == "table" and type(rawget(mt, "__index")) == "table" then
    for k, v in pairs(mt.__index) do print(prefix, k, type(v)) end
  end
end
dump("aws", aws)
dump("aws.emulator", aws.emulator)
]])
    f:close()
    local r = proc.run{ argv = { proc.detlua(), "run", "--local", probe } }
    os.remove(probe)
    assert.equal(0, r.code, r.stderr)
    local seen = { aws = {}, ["aws.emulator"] = {} }
    for prefix, k, t in r.stdout:gmatch("([%w%.]+)\t([^\t\n]+)\t(%w+)\n") do seen[prefix][k] = t end
    assert.equal("table", seen.aws.emulator)
    local missing = {}
    for prefix, sep in pairs({ aws = ".", ["aws.emulator"] = ":" }) do
      for k, t in pairs(seen[prefix]) do
        local name = prefix .. sep .. k
        local is_data = prefix == "aws.emulator" and t ~= "function"
        if is_public(k) and not is_data and not documented[name] and not internal[name] then
          missing[#missing + 1] = name
        end
      end
      for member, e in pairs(entries_under(prefix, sep)) do
        local t = seen[prefix][member]
        if e.only ~= "require" then
          assert.is_not_nil(t, e.name .. " is documented but missing under --local")
          if e.kind == "function" then assert.equal("function", t, e.name) end
        end
      end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("documents the parameters the Lua functions take", function()
    local c = service_client("detective")
    local srv = require("aws.core.emulator").start{ host = "127.0.0.1", port = 0 }
    local ok, err = pcall(function()
      local admin = srv:admin_credentials()
      local sts = aws.client("sts", { region = "us-east-1", endpoint = srv:url(),
        credentials = { access_key_id = admin.access_key_id, secret_access_key = admin.secret_access_key } })
      local sess = aws.assume_role({ RoleArn = MEMBER_ROLE, RoleSessionName = "apidoc-arity" }, { client = sts })
      local path = os.tmpname()
      local log = aws.audit.open(path)
      log:close()
      os.remove(path)
      local objects = { client = c, session = sess, provider = sess:provider(), log = log }
      local checked = 0
      for _, e in ipairs(ENTRIES) do
        if e.kind == "function" then
          local obj, member = e.name:match("^(.-):([%w_]+)$")
          local f
          if obj then
            f = objects[obj] and objects[obj][member]
          else
            local t = e.name:sub(1, 16) == "aws.credentials." and require("aws.credentials") or aws
            local path_ = e.name:sub(1, 16) == "aws.credentials." and e.name:sub(17) or e.name:sub(5)
            for part in path_:gmatch("[^%.]+") do t = t[part] end
            f = t
          end
          if f then
            check_arity(e, f, obj ~= nil)
            checked = checked + 1
          end
        end
      end
      assert.is_true(checked > 50, "checked " .. checked)
      sts:close()
    end)
    srv:stop()
    c:close()
    assert(ok, err)
  end)
end)

describe("apidoc rendering of the aws module", function()
  it("gives help text for every entry, by name and by function value", function()
    for _, e in ipairs(ENTRIES) do
      local t = apidoc.core_text(e.name)
      assert.is_string(t, e.name)
      if e.kind == "function" then assert.truthy(t:find(e.call, 1, true), e.name) end
    end
    assert.equal(apidoc.core_text("aws.map"), apidoc.core_text(aws.map))
    assert.equal(apidoc.core_text("aws.assume_role"), apidoc.core_text(aws.assume_role))
    assert.equal(apidoc.core_text("aws.json.encode"), apidoc.core_text(aws.json.encode))
    local c = service_client("detective")
    assert.equal(apidoc.core_text("client:pages"), apidoc.core_text(c.pages))
    assert.equal(apidoc.core_text("client:pages"), apidoc.core_text("detective:pages"))
    assert.equal(apidoc.core_text("client:wait_members"), apidoc.core_text(c.wait_members))
    assert.equal(apidoc.core_text("session:client"), apidoc.core_text(require("aws.credentials").Session.client))
    c:close()
    assert.is_nil(apidoc.core_text("aws.no_such_thing"))
    assert.is_nil(apidoc.core_text(print))
    assert.truthy(apidoc.core_summary_text():find("aws.assume_role", 1, true))
  end)

  it("states the chunk sizes of the batch helpers from the model", function()
    local svc = model.service("detective")
    local t = apidoc.core_text("client:create_members_all")
    local accounts = svc.shapes.CreateMembersRequest.members[svc.shapes.CreateMembersRequest.member_index.Accounts]
    assert.truthy(t:find("at most " .. math.tointeger(svc.shapes[accounts.shape].max) .. " items", 1, true), t)
  end)

  it("renders a Markdown page with unique anchors, working links and well-formed tables", function()
    local md = apidoc.core_markdown()
    assert.matches("^<!%-%- GENERATED by scripts/gen%-docs%.lua", md)
    local ids = {}
    for id in md:gmatch('<a id="([^"]+)"></a>') do
      assert.is_nil(ids[id], "duplicate anchor " .. id)
      ids[id] = true
    end
    for id in md:gmatch("%]%(#([^)]+)%)") do assert.is_true(ids[id] == true, "dangling link #" .. id) end
    for _, e in ipairs(ENTRIES) do
      assert.truthy(md:find("\n### " .. e.name .. "\n", 1, true), e.name)
    end
    assert.is_nil(markdown.table_error(md))
    assert.truthy(apidoc.index_markdown():find("(aws.md)", 1, true))
  end)

  it("declares every function in the LuaLS stub, which parses", function()
    local stub = apidoc.luals_core()
    assert(load(stub, "=aws stub", "t"))
    local locals = {}
    for prefix, class in pairs(require("detlua.apidoc_core").OBJECTS) do
      locals[prefix] = class:gsub("^aws%.", "")
    end
    for _, e in ipairs(ENTRIES) do
      if e.kind == "function" then
        local obj, member = e.name:match("^(.-):([%w_]+)$")
        local decl
        if obj then
          decl = "\nfunction " .. locals[obj] .. ":" .. member .. "("
        else
          local parent, m = e.name:match("^(.*)%.([%w_]+)$")
          decl = "\nfunction " .. (parent == "aws" and "aws" or parent:gsub("^aws%.", "")) .. "." .. m .. "("
        end
        assert.truthy(stub:find(decl, 1, true), e.name .. ": " .. decl)
      end
    end
    for name, text in pairs(apidoc.luals_required_modules()) do
      assert(load(text, "=" .. name, "t"))
    end
  end)
end)

describe("apidoc examples of the aws module", function()
  for _, e in ipairs(ENTRIES) do
    if e.example then
      it("run: " .. e.name, function()
        local path = os.tmpname()
        local f = assert(io.open(path, "wb"))
        f:write(e.example, "\n")
        f:close()
        local r = proc.run{ argv = { proc.detlua(), "run", "--local", path } }
        os.remove(path)
        assert.equal(0, r.code, e.name .. " failed:\n" .. r.stderr .. "\n--- code ---\n" .. e.example)
      end)
    end
  end
end)
