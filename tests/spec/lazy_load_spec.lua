-- Parts of the aws module that load on first use (aws/init.lua, aws.client EXTENSIONS,
-- the credential sources): each is reachable exactly as before, from a fresh process, and
-- a one-call process does not load what it does not use. Every check runs in a child
-- detlua so that nothing this spec runner loaded hides a missing require.
local proc = require("proc")

local function fresh(chunk)
  local r = proc.run{ argv = { proc.detlua(), "-e", chunk },
    env = { AWS_ACCESS_KEY_ID = "AKIDLAZYLOAD00000001", AWS_SECRET_ACCESS_KEY = "lazy/secret",
      AWS_REGION = "us-east-1", AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null" } }
  assert.equal(0, r.code, r.stderr)
  return r.stdout
end

describe("lazily loaded parts of aws", function()
  it("are the modules' own functions when first touched", function()
    local out = fresh([[
      local checks = {
        aws.map == require("aws.concurrency").map,
        aws.parallel == require("aws.concurrency").parallel,
        aws.wait == require("aws.waiters").wait,
        aws.audit == require("aws.audit"),
        aws.assume_role == require("aws.credentials").assume_role,
        aws.json == require("aws.json"),
        aws.time == require("aws.time"),
        aws.redact == require("aws.redact"),
        aws.model == require("aws.core.model"),
      }
      for i, c in ipairs(checks) do io.write(tostring(c), i < #checks and " " or "\n") end
      io.write(tostring(aws.no_such_field), "\n")
    ]])
    assert.equal("true true true true true true true true true\nnil\n", out)
  end)

  it("pairs(aws) lists every field, loaded or not", function()
    local out = fresh([[
      local names = {}
      for k in pairs(aws) do names[#names + 1] = k end
      table.sort(names)
      print(table.concat(names, " "))
    ]])
    for _, k in ipairs({ "map", "parallel", "wait", "audit", "assume_role", "json", "time", "redact",
      "model", "client", "try", "sigv4", "Error", "is_error" }) do
      assert.truthy(out:find("%f[%w_]" .. k .. "%f[^%w_]"), k)
    end
  end)

  it("client methods from other modules resolve before their module is loaded", function()
    local out = fresh([[
      local c = aws.client("detective", { endpoint = "http://127.0.0.1:9" })
      local client = require("aws.client")
      local missing = {}
      for name, mod in pairs(client.EXTENSIONS) do
        local f = c[name]
        if type(f) ~= "function" or client.methods[name] ~= f then missing[#missing + 1] = name end
        if package.loaded[mod] == nil then missing[#missing + 1] = mod .. " not loaded" end
      end
      print(#missing == 0 and "ok" or table.concat(missing, ","))
    ]])
    assert.equal("ok\n", out)
  end)

  it("EXTENSIONS lists exactly the methods the modules define", function()
    local out = fresh([[
      local client = require("aws.client")
      local generic = {}
      for k in pairs(client.methods) do generic[k] = true end
      client.load_extensions()
      local added = {}
      for k in pairs(client.methods) do
        if not generic[k] then added[#added + 1] = k end
      end
      local listed = 0
      for _ in pairs(client.EXTENSIONS) do listed = listed + 1 end
      local unlisted = {}
      for _, k in ipairs(added) do if not client.EXTENSIONS[k] then unlisted[#unlisted + 1] = k end end
      print(#added, listed, #unlisted)
      print(pcall(client.add_method, "not_listed_anywhere", print))
    ]])
    local added, listed, unlisted, rest = out:match("^(%d+)%s+(%d+)%s+(%d+)\n(.*)$")
    assert.equal(listed, added)
    assert.equal("0", unlisted)
    assert.truthy(rest:find("^false\t.*not_listed_anywhere.*EXTENSIONS"), rest)
  end)

  it("a dry-run client loads the dry-run hook by itself", function()
    -- `detlua call` installs no playbook kit (which would load aws.dryrun): the client's
    -- dry_run option alone must keep the mutating call from being sent.
    local r = proc.run{ argv = { proc.detlua(), "call", "detective", "create-graph", "{}", "--dry-run",
      "--endpoint-url", "http://127.0.0.1:9", "--compact" },
      env = { AWS_ACCESS_KEY_ID = "AKIDLAZYLOAD00000001", AWS_SECRET_ACCESS_KEY = "lazy/secret",
        AWS_REGION = "us-east-1", AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null" } }
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"__dry_run":true}\n', r.stdout)
    assert.truthy(r.stderr:find("[dry-run] would call Detective.CreateGraph", 1, true), r.stderr)
  end)

  it("keys in the environment sign a call without loading the credential chain", function()
    local out = fresh([[
      local c = aws.client("detective", { endpoint = "http://127.0.0.1:9", max_attempts = 1 })
      local ok, err = pcall(c.list_graphs, c, {})
      print(ok, err.kind, c:config().credential_source, package.loaded["aws.credentials"] ~= nil)
      -- incomplete keys in the environment: the same error with or without the chain
      local bad = aws.client("detective", { endpoint = "http://127.0.0.1:9",
        env = { AWS_ACCESS_KEY_ID = "AKIDONLYTHEKEYID0001", AWS_REGION = "us-east-1" } })
      local ok2, e2 = pcall(bad.list_graphs, bad, {})
      local ok3, e3 = pcall(require("aws.credentials").resolve, { env = { AWS_ACCESS_KEY_ID = "AKIDONLYTHEKEYID0001" } })
      print(ok2, e2.kind, e2.code, ok3, e3.kind, e3.code, e2.message == e3.message)
    ]])
    assert.equal("false\ttransport\tenv\tfalse\nfalse\tcredentials\tInvalidConfig\tfalse\tcredentials\tInvalidConfig\ttrue\n", out)
  end)

  it("detlua call loads neither the playbook kit nor unused helpers", function()
    -- A call that fails at validation (no I/O) still goes through the whole start-up.
    local r = proc.run{ argv = { proc.detlua(), "call", "detective", "list-members", "{}" } }
    assert.equal(2, r.code, r.stderr)
    assert.truthy(r.stderr:find("GraphArn"), r.stderr)
    -- `detlua call` itself (detlua.cmd_call) without --local, from a state where nothing of
    -- detlua is loaded yet: -e has loaded and set up plenty, so it is unloaded first and
    -- what the call loads is read afterwards.
    local r2 = proc.run{ argv = { proc.detlua(), "-e", [[
      for k in pairs(package.loaded) do
        if k:match("^aws") or k:match("^detlua") then package.loaded[k] = nil end
      end
      _G.aws, _G.detective = nil, nil
      local rc = require("detlua.cmd_call").main({ "call", "detective", "list-graphs",
        "--endpoint-url", "http://127.0.0.1:9" }, 2)
      local loaded = {}
      for k in pairs(package.loaded) do
        if k:match("^aws") or k:match("^detlua") then loaded[#loaded + 1] = k end
      end
      table.sort(loaded)
      print(rc, rawget(_G, "aws") == nil, table.concat(loaded, " "))
    ]] }, env = { AWS_ACCESS_KEY_ID = "AKIDLAZYLOAD00000001", AWS_SECRET_ACCESS_KEY = "lazy/secret",
      AWS_REGION = "us-east-1", AWS_MAX_ATTEMPTS = "1", AWS_CONFIG_FILE = "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE = "/dev/null" } }
    assert.equal(0, r2.code, r2.stderr)
    local rc, no_global, list = r2.stdout:match("^(%S+)\t(%S+)\t(.-)\n$")
    assert.equal("1", rc, r2.stdout)           -- nothing listens on port 9
    assert.truthy(r2.stderr:find("ConnectionRefused", 1, true), r2.stderr)
    assert.equal("true", no_global)            -- no `aws` global set up
    local loaded = {}
    for m in list:gmatch("%S+") do loaded[m] = true end
    assert.truthy(loaded["aws.client"] and loaded["aws.sigv4"], list)
    for _, m in ipairs({ "aws", "detlua.kit", "aws.paging", "aws.batch", "aws.waiters",
      "aws.concurrency", "aws.audit", "aws.dryrun", "aws.credentials", "aws.credentials.imds",
      "aws.credentials.container", "aws.credentials.process", "aws.credentials.web_identity",
      "detlua.session", "aws.time" }) do
      assert.is_nil(loaded[m], m .. " was loaded by a plain call: " .. list)
    end
  end)

  it("libm is opened by the first math function, and every one gives stock Lua's result", function()
    -- detlua does not link libm (runtime/libm_lazy.c): a call needs none of it. The oracle
    -- for the results is the stock lua5.4, which links libm as usual.
    local chunk = [[
      local function maps(lib)
        local f = assert(io.open("/proc/self/maps")) local m = f:read("a") f:close()
        return m:find(lib, 1, true) ~= nil
      end
      -- the sanitizers' runtime (a sanitizer build) links libm itself
      local before = maps("libm.so") and not maps("libasan")
      local r = {}
      local function add(v) r[#r + 1] = string.format("%.17g", v) end
      for _, x in ipairs({ -2.5, -1, -0.5, 0.25, 0.5, 1, 3.7, 1e10 }) do
        add(math.floor(x)) add(math.ceil(x)) add(math.abs(x)) add(math.exp(x / 7))
        add(math.sin(x)) add(math.cos(x)) add(math.tan(x)) add(math.atan(x, 2))
        if x >= 0 then add(math.sqrt(x)) add(math.log(x + 1)) add(math.log(x + 1, 2)) add(math.log(x + 1, 10)) end
        if x >= -1 and x <= 1 then add(math.asin(x)) add(math.acos(x)) end
        add(math.fmod(x, 0.75)) add(x % 0.75) add(2 ^ x) add(x // 0.3)
      end
      print((before and "loaded" or "absent") .. " " .. table.concat(r, " "))
    ]]
    local r = proc.run{ argv = { proc.detlua(), "-e", chunk } }
    assert.equal(0, r.code, r.stderr)
    assert.equal("absent ", r.stdout:sub(1, 7))
    if not proc.have("lua5.4") then return pending("no stock lua5.4 to compare with") end
    local stock = proc.run{ argv = { "lua5.4", "-e", chunk } }
    assert.equal(0, stock.code, stock.stderr)
    assert.equal(stock.stdout:sub(8), r.stdout:sub(8))
    if proc.have("readelf") then
      local dyn = proc.output("readelf -d " .. proc.quote(proc.detlua()))
      if dyn:find("liblua5.4.so", 1, true) == nil then -- Lua linked in: libm is not
        assert.is_nil(dyn:find("libm.so", 1, true), dyn)
      end
    end
  end)
end)
