-- The client layer end to end against the in-process emulator, and its retry and error
-- policy against scripted transports (require("aws.client").hooks.transport).
local aws = require("aws")
local client_mod = require("aws.client")
local retry = require("aws.retry")
local emulator = require("aws.core.emulator")
local proc = require("proc")
local secrets = require("secrets")

local srv, creds
local function new(service, extra)
  local o = { region = "us-east-1", endpoint = srv:url(), credentials = creds }
  for k, v in pairs(extra or {}) do o[k] = v end
  return aws.client(service, o)
end

-- Runs fn with a scripted transport: each entry of `script` answers one send
-- ({status, headers, body} or {error = {...}}); returns the sent requests.
local function scripted(script, fn)
  local sent = {}
  local saved_t, saved_s = client_mod.hooks.transport, client_mod.hooks.sleep
  client_mod.hooks.transport = function(_, req)
    sent[#sent + 1] = req
    local a = script[#sent] or script[#script]
    if a.error then return nil, a.error end
    return a[1], a[2] or {}, a[3] or ""
  end
  local slept = {}
  client_mod.hooks.sleep = function(s) slept[#slept + 1] = s end
  retry.reset()
  local ok, err = pcall(fn)
  client_mod.hooks.transport, client_mod.hooks.sleep = saved_t, saved_s
  return ok, err, sent, slept
end

setup(function()
  srv = emulator.start{ port = 0 }
  creds = secrets.plain(srv:admin_credentials())
end)
teardown(function() srv:stop() end)

describe("aws.client", function()
  it("rejects unknown services and options with a clear message", function()
    assert.has_error(function() aws.client("detektive") end)
    local ok, e = pcall(aws.client, "detective", { regoin = "x" })
    assert.is_false(ok)
    assert.matches('unknown option "regoin"', e)
  end)

  it("takes the emulator's administrator credentials as they come (with their account)", function()
    local admin = srv:admin_credentials()
    assert.is_string(admin.account)
    local c = aws.client("detective", { region = "us-east-1", endpoint = srv:url(), credentials = admin })
    assert.is_table(c:list_graphs{}.GraphList)
    admin.account = 42
    local bad = aws.client("detective", { region = "us-east-1", endpoint = srv:url(), credentials = admin })
    local ok, err = pcall(bad.list_graphs, bad, {})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("account: expected a string", 1, true), tostring(err))
  end)

  it("says so when an operation is called with '.'", function()
    local d = new("detective")
    local ok, e = pcall(d.list_graphs, {})
    assert.is_false(ok)
    assert.matches("called with '%.' instead of ':'", e)
  end)

  it("calls operations and returns model-named results", function()
    local d = new("detective")
    local arn = d:create_graph{}.GraphArn
    assert.matches("^arn:aws:detective:us%-east%-1:%d+:graph:%x+$", arn)
    local list = d:list_graphs{}.GraphList
    assert.are.equal(arn, list[1].Arn)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT", list[1].CreatedTime)
  end)

  it("raises aws.Error with the fields of a service error", function()
    local d = new("detective")
    local ok, e = pcall(d.list_members, d, { GraphArn = "arn:aws:detective:us-east-1:111122223333:graph:" .. string.rep("0", 32) })
    assert.is_false(ok)
    assert.is_true(aws.is_error(e))
    assert.are.equal("service", e.kind)
    assert.are.equal("ResourceNotFoundException", e.code)
    assert.are.equal(404, e.status)
    assert.are.equal("Detective.ListMembers", e.operation)
    assert.is_string(e.request_id)
    assert.is_false(e.retryable)
    assert.are.equal(1, e.attempts)
    assert.matches("^Detective%.ListMembers: ResourceNotFoundException %(HTTP 404, request [%w-]+%): .+", tostring(e))
  end)

  it("validates before anything is sent", function()
    local ok, err, sent = scripted({ { 200, {}, "{}" } }, function()
      new("detective"):create_members{ GraphArn = "arn:aws:detective:us-east-1:111122223333:graph:" .. string.rep("a", 32),
        Accounts = { { AccountId = "12345", EmailAddress = "a@example.com" } } }
    end)
    assert.is_false(ok)
    assert.matches("^detective:create_members: Accounts%[1%]%.AccountId: ", err)
    assert.are.equal(0, #sent)
  end)

  it("raises a credentials error naming where it looked", function()
    local d = aws.client("detective", { region = "us-east-1", endpoint = srv:url(),
      env = { HOME = "/nonexistent", AWS_EC2_METADATA_DISABLED = "true", AWS_CONFIG_FILE = "/nonexistent/c", AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/k" } })
    local ok, e = pcall(d.list_graphs, d, {})
    assert.is_false(ok)
    assert.is_true(aws.is_error(e))
    assert.are.equal("credentials", e.kind)
    assert.matches("AWS_ACCESS_KEY_ID", e.message)
  end)
end)

describe("retries (standard mode)", function()
  local throttle = { 400, { ["x-amzn-errortype"] = "TooManyRequestsException" }, '{"Message":"slow down"}' }
  local unavailable = { 503, {}, "<html>busy</html>" }
  local okay = { 200, {}, '{"GraphList":[]}' }

  it("retries throttling and 5xx, then succeeds", function()
    local ok, res, sent, slept = scripted({ throttle, unavailable, okay }, function()
      return new("detective"):list_graphs{}
    end)
    assert.is_true(ok)
    assert.are.same({}, res.GraphList)
    assert.are.equal(3, #sent)
    assert.are.equal(2, #slept)
    -- full jitter: each wait is within [0, min(20, 2^(attempt-1))]
    assert.is_true(slept[1] >= 0 and slept[1] <= 1)
    assert.is_true(slept[2] >= 0 and slept[2] <= 2)
  end)

  it("gives up after max attempts with err.attempts", function()
    local ok, e, sent = scripted({ throttle }, function() return new("detective"):list_graphs{} end)
    assert.is_false(ok)
    assert.are.equal("TooManyRequestsException", e.code)
    assert.are.equal(3, e.attempts)
    assert.are.equal(3, #sent)
  end)

  it("honours max_attempts and AWS_MAX_ATTEMPTS", function()
    local _, e1, sent1 = scripted({ unavailable }, function() return new("detective", { max_attempts = 5 }):list_graphs{} end)
    assert.are.equal(5, #sent1)
    assert.are.equal(5, e1.attempts)
    local _, _, sent2 = scripted({ unavailable }, function()
      return new("detective", { env = { AWS_MAX_ATTEMPTS = "2", AWS_CONFIG_FILE = "/nonexistent", AWS_EC2_METADATA_DISABLED = "true" } }):list_graphs{}
    end)
    assert.are.equal(2, #sent2)
  end)

  it("does not retry other client errors", function()
    local ok, e, sent = scripted({ { 400, { ["x-amzn-errortype"] = "ValidationException" }, '{"Message":"no","ErrorCode":"INVALID_REQUEST_BODY"}' } },
      function() return new("detective"):list_graphs{} end)
    assert.is_false(ok)
    assert.are.equal(1, #sent)
    assert.are.equal("INVALID_REQUEST_BODY", e.fields.ErrorCode)
  end)

  it("retries retryable transport errors, not the others", function()
    local _, e, sent = scripted({ { error = { kind = "transport", code = "ConnectionReset", message = "reset", retryable = true } }, okay },
      function() return new("detective"):list_graphs{} end)
    assert.is_nil(e and e.code)
    assert.are.equal(2, #sent)
    local ok2, e2, sent2 = scripted({ { error = { kind = "transport", code = "TLSError", message = "bad cert", retryable = false } } },
      function() return new("detective"):list_graphs{} end)
    assert.is_false(ok2)
    assert.are.equal("transport", e2.kind)
    assert.are.equal("TLSError", e2.code)
    assert.are.equal(1, #sent2)
  end)

  it("stops when the retry quota is exhausted", function()
    retry.reset()
    local saved = retry.INITIAL_QUOTA
    retry.INITIAL_QUOTA = 7 -- room for one retry (cost 5)
    local saved_t, saved_s = client_mod.hooks.transport, client_mod.hooks.sleep
    local n = 0
    client_mod.hooks.transport = function() n = n + 1; return 503, {}, "" end
    client_mod.hooks.sleep = function() end
    local ok, e = pcall(function() return new("detective", { max_attempts = 10 }):list_graphs{} end)
    client_mod.hooks.transport, client_mod.hooks.sleep = saved_t, saved_s
    retry.INITIAL_QUOTA = saved
    retry.reset()
    assert.is_false(ok)
    assert.are.equal(2, n)
    assert.are.equal(2, e.attempts)
  end)

  it("corrects the clock from the server's Date header after a skew rejection", function()
    local future = os.time() + 3600
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", future)
    local skewed = { 403, { ["x-amzn-errortype"] = "InvalidSignatureException", date = date }, '{"message":"Signature expired"}' }
    local ok, _, sent = scripted({ skewed, { 200, { date = date }, '{"GraphList":[]}' } }, function()
      return new("detective"):list_graphs{}
    end)
    assert.is_true(ok)
    assert.are.equal(2, #sent)
    local amz
    for _, h in ipairs(sent[2].headers) do if h[1] == "X-Amz-Date" then amz = h[2] end end
    local t = aws.time.parse(amz)
    assert.is_true(math.abs(t - future) < 120, "second attempt signed at server time")
  end)
end)

describe("paging", function()
  it("pages ListMembers and iterates items", function()
    local d = new("detective")
    local g = d:create_graph{}.GraphArn
    d:create_members{ GraphArn = g, Accounts = {
      { AccountId = "444455556666", EmailAddress = "a@example.com" },
      { AccountId = "777788889999", EmailAddress = "b@example.com" },
      { AccountId = "555566667777", EmailAddress = "c@example.com" } } }
    local pages, ids = 0, {}
    for page in d:pages("list_members", { GraphArn = g, MaxResults = 1 }) do
      pages = pages + 1
      assert.is_true(#page.MemberDetails <= 1)
    end
    for m in d:each("list_members", { GraphArn = g }, { page_size = 2 }) do ids[#ids + 1] = m.AccountId end
    assert.are.equal(3, pages)
    table.sort(ids)
    assert.are.same({ "444455556666", "555566667777", "777788889999" }, ids)
    local limited = 0
    for _ in d:each("list_members", { GraphArn = g }, { page_size = 1, max_items = 2 }) do limited = limited + 1 end
    assert.are.equal(2, limited)
  end)

  it("iterates a map result as key, value", function()
    local d = new("detective")
    local g = d:create_graph{}.GraphArn
    local seen = {}
    for k, v in d:each("list_datasource_packages", { GraphArn = g }) do seen[k] = v.DatasourcePackageIngestState end
    assert.is_string(seen.DETECTIVE_CORE)
  end)

  it("stops with an error on a repeated or empty token", function()
    local ok, e = scripted({ { 200, {}, '{"GraphList":[],"NextToken":"abc"}' } }, function()
      for _ in new("detective"):pages("list_graphs", {}) do end
    end)
    assert.is_false(ok)
    assert.matches("repeated a NextToken", e)
    local ok2, e2 = scripted({ { 200, {}, '{"GraphList":[],"NextToken":""}' } }, function()
      for _ in new("detective"):pages("list_graphs", {}) do end
    end)
    assert.is_false(ok2)
    assert.matches("empty NextToken", e2)
  end)

  it("refuses operations that do not page", function()
    assert.has_error(function() new("detective"):pages("create_graph", {}) end)
  end)
end)

describe("aws.map and aws.parallel", function()
  it("keeps input order and collects errors per item", function()
    local d = new("detective")
    local items = {}
    for i = 1, 40 do items[i] = i end
    local res, errs, failed = aws.map(items, function(i)
      if i % 10 == 0 then error("item " .. i) end
      d:list_graphs{}
      return i * 2
    end, { concurrency = 8 })
    assert.are.equal(4, failed)
    for i = 1, 40 do
      if i % 10 == 0 then assert.matches("item " .. i, errs[i]) else assert.are.equal(i * 2, res[i]) end
    end
  end)

  it("runs calls concurrently and nests", function()
    local s = new("sts")
    local res = aws.map({ 1, 2, 3 }, function(i)
      local inner = aws.parallel(function() return s:get_caller_identity{}.Account end, function() return i end)
      return inner[1] .. "/" .. inner[2]
    end)
    assert.are.same({ creds and "111122223333/1" or nil, "111122223333/2", "111122223333/3" }, res)
  end)
end)

describe("detlua call", function()
  local function call(args, stdin, env)
    return proc.run_detlua({ "call", table.unpack(args) }, stdin, env)
  end

  it("prints the result as JSON and exits 0", function()
    local r = call({ "detective", "create-graph", "{}", "--local" })
    assert.are.equal(0, r.code, r.stderr)
    local v = aws.json.decode(r.stdout)
    assert.matches("^arn:aws:detective:", v.GraphArn)
  end)

  it("reads parameters from stdin and accepts all three operation spellings", function()
    for _, name in ipairs({ "list-graphs", "list_graphs", "ListGraphs" }) do
      local r = call({ "detective", name, "--local" }, '{"MaxResults": 5}')
      assert.are.equal(0, r.code, r.stderr)
      assert.are.same({}, aws.json.decode(r.stdout).GraphList)
    end
    -- an empty or blank stdin means no parameters; an empty argument is not JSON
    for _, stdin in ipairs({ "", " \n\t\n" }) do
      local r = call({ "detective", "list-graphs", "--local" }, stdin)
      assert.are.equal(0, r.code, r.stderr)
      assert.are.same({}, aws.json.decode(r.stdout).GraphList)
    end
    local bad = call({ "detective", "list-graphs", "", "--local" })
    assert.are.equal(2, bad.code)
    assert.matches("parameters are not valid JSON", bad.stderr)
  end)

  it("exits 2 on validation and usage errors, 1 on service errors", function()
    local r = call({ "detective", "list-members", "{}", "--local" })
    assert.are.equal(2, r.code)
    assert.matches("GraphArn: required", r.stderr)
    assert.are.equal(2, call({ "detective", "list-members", "{not json", "--local" }).code)
    assert.are.equal(2, call({ "detective", "no-such-op", "--local" }).code)
    assert.are.equal(2, call({ "nope", "list-graphs" }).code)
    local r2 = call({ "detective", "list-members", '{"GraphArn":"arn:aws:detective:us-east-1:111122223333:graph:' .. string.rep("0", 32) .. '"}', "--local" })
    assert.are.equal(1, r2.code)
    assert.matches("ResourceNotFoundException %(HTTP 404", r2.stderr)
  end)

  it("--debug logs the exchange with secrets redacted", function()
    local r = call({ "sts", "get-caller-identity", "--local", "--debug" })
    assert.are.equal(0, r.code, r.stderr)
    assert.matches("Authorization: <redacted>", r.stderr)
    local sc = require("detlua.emulator.scenario").default()
    for _, a in ipairs(sc.accounts) do
      if a.secret_access_key then
        assert.is_nil(r.stderr:find(a.secret_access_key, 1, true))
        assert.is_nil(r.stdout:find(a.secret_access_key, 1, true))
      end
    end
  end)

  it("sends to --endpoint-url with credentials from the environment", function()
    local c = srv:admin_credentials()
    local r = call({ "sts", "get-caller-identity", "--endpoint-url", srv:url(), "--region", "us-east-1" }, nil,
      { AWS_ACCESS_KEY_ID = c.access_key_id, AWS_SECRET_ACCESS_KEY = c.secret_access_key,
        AWS_CONFIG_FILE = "/nonexistent", AWS_SHARED_CREDENTIALS_FILE = "/nonexistent" })
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal(c.account or "111122223333", aws.json.decode(r.stdout).Account)
  end)
end)
