-- audit_spec: aws.audit (the hash-chained JSON-lines log fed by the after_call hook) and
-- `detlua audit verify`. Hashes are checked with coreutils' sha256sum, not with the
-- code under test; what was sent is seen by a transport hook; the account comes from the
-- scenario; tampering is done byte by byte on copies of a real log.
local K = require("kit_support")
local files = require("files")
local proc = require("proc")
local aws = require("aws")
local json = require("aws.json")
local audit = require("aws.audit")

local ZERO = string.rep("0", 64)

local function sha256sum(text)
  local f = files.write(files.tmpname(), text)
  local out = proc.output("sha256sum " .. f)
  os.remove(f)
  return out:match("^(%x+)")
end

local function have_sha256sum()
  return proc.have("sha256sum")
end

-- Replaces the byte at (line, column) of a copy of path; returns the copy's path.
local function tamper(path, line_no, find, replace)
  local lines = files.lines(files.read(path))
  local l = lines[line_no]
  local at = assert(l:find(find, 1, true), "pattern not in line")
  lines[line_no] = l:sub(1, at - 1) .. replace .. l:sub(at + #find)
  local copy = files.tmpname(".log")
  files.write(copy, table.concat(lines, "\n") .. "\n")
  return copy
end

describe("aws.audit", function()
  local env, d, dry, g, path
  local lines, records
  setup(function()
    audit.forget_accounts()
    env = K.start()
    d = env.detective
    dry = env:client("detective", nil, { dry_run = true })
    path = files.tmpname(".log")
    local write = require("aws.dryrun").write
    require("aws.dryrun").write = function() end
    local rec = K.record_requests()
    local log = aws.audit.open(path, { playbook = "audit_spec" })
    g = d:create_graph{}.GraphArn
    pcall(d.get_members, d, { GraphArn = "arn:aws:detective:us-east-1:111122223333:graph:" .. string.rep("0", 32),
      AccountIds = { K.PROD } })
    dry:delete_graph{ GraphArn = g }
    d:create_members{ GraphArn = g, Message = "confidential invitation text",
      Accounts = { { AccountId = K.PROD, EmailAddress = "prod@example.com" } } }
    log:close()
    rec.restore()
    require("aws.dryrun").write = write
    env.requests = rec
    lines = files.lines(files.read(path))
    records = {}
    for i, l in ipairs(lines) do records[i] = json.decode(l) end
  end)
  teardown(function()
    env:stop()
    os.remove(path)
  end)

  it("writes one record per call, the dry-run one included", function()
    assert.equals(4, #lines)
    local ops, outcomes = {}, {}
    for i, r in ipairs(records) do ops[i] = r.operation; outcomes[i] = r.outcome end
    assert.same({ "Detective.CreateGraph", "Detective.GetMembers", "Detective.DeleteGraph", "Detective.CreateMembers" }, ops)
    assert.same({ "ok", "error", "dry-run", "ok" }, outcomes)
  end)

  it("records who, where, how it went and how long it took", function()
    local ok, err, dr = records[1], records[2], records[3]
    assert.equals(K.ADMIN, ok.account) -- the scenario's administrator
    assert.equals("us-east-1", ok.region)
    assert.equals("audit_spec", ok.playbook)
    assert.equals(1, ok.attempts)
    assert.equals(200, ok.status)
    assert.is_string(ok.request_id)
    assert.is_number(ok.duration_ms)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", ok.time)
    assert.is_nil(ok.error_code)
    assert.equals("ResourceNotFoundException", err.error_code)
    assert.equals(404, err.status)
    assert.is_string(err.request_id)
    assert.equals(K.ADMIN, err.account)
    assert.equals(0, dr.attempts)
    assert.equals(g, dr.params.GraphArn)
    -- every field is present on every line (null when unknown)
    for _, l in ipairs(lines) do
      for _, k in ipairs({ "account", "attempts", "duration_ms", "error_code", "operation", "outcome", "params",
        "playbook", "prev", "region", "request_id", "status", "time" }) do
        assert.truthy(l:find('"' .. k .. '":', 1, true), k)
      end
    end
  end)

  it("looks the account up once per access key and does not record the lookup", function()
    local sts = 0
    for _, r in ipairs(env.requests.requests) do if r.operation == "sts" then sts = sts + 1 end end
    assert.equals(1, sts)
    assert.equals(4, env.requests.count) -- 3 calls sent (the dry-run one is not) + 1 lookup
    for _, r in ipairs(records) do assert.is_nil(r.operation:match("^STS")) end
  end)

  it("redacts sensitive parameters and never writes secrets", function()
    local text = files.read(path)
    assert.equals("<redacted>", records[4].params.Message)
    assert.equals("<redacted>", records[4].params.Accounts[1].EmailAddress)
    assert.equals(K.PROD, records[4].params.Accounts[1].AccountId)
    assert.is_nil(text:find("confidential", 1, true))
    assert.is_nil(text:find("prod@example.com", 1, true))
    K.assert_no_secrets(text, nil, "audit log")
    assert.is_nil(text:find("AKIAEMULATORSECURITY", 1, true))
  end)

  it("chains each line to the SHA-256 of the one before, and hashes its own content", function()
    if not have_sha256sum() then pending("needs sha256sum") return end
    assert.equals(ZERO, records[1].prev)
    for i = 2, #lines do assert.equals(sha256sum(lines[i - 1]), records[i].prev, "line " .. i) end
    for i, l in ipairs(lines) do
      local h, rest = l:match('^{"hash":"(%x+)",(.*)$')
      assert.equals(sha256sum("{" .. rest), h, "line " .. i)
    end
  end)

  it("verifies an intact log and reports the head hash", function()
    local ok, info = audit.verify(path)
    assert.is_true(ok)
    assert.equals(4, info.records)
    if have_sha256sum() then assert.equals(sha256sum(lines[4]), info.head) end
  end)

  it("finds a changed byte at its own line, wherever it is", function()
    for _, n in ipairs({ 1, 2, 4 }) do
      local copy = tamper(path, n, '"region":"us-east-1"', '"region":"us-east-2"')
      local ok, info = audit.verify(copy)
      os.remove(copy)
      assert.is_false(ok)
      assert.equals(n, info.line)
    end
  end)

  it("finds a rewritten line (hash recomputed) at the next line", function()
    local ls = files.lines(files.read(path))
    local body = ls[2]:match('^{"hash":"%x+",(.*)$')
    body = "{" .. body:gsub('"outcome":"error"', '"outcome":"ok"')
    ls[2] = '{"hash":"' .. require("aws.core.crypto").sha256_hex(body) .. '",' .. body:sub(2)
    local copy = files.tmpname(".log")
    files.write(copy, table.concat(ls, "\n") .. "\n")
    local ok, info = audit.verify(copy)
    os.remove(copy)
    assert.is_false(ok)
    assert.equals(3, info.line)
  end)

  it("finds removed and truncated lines", function()
    local ls = files.lines(files.read(path))
    local copy = files.tmpname(".log")
    files.write(copy, ls[1] .. "\n" .. ls[3] .. "\n" .. ls[4] .. "\n")
    local ok, info = audit.verify(copy)
    assert.is_false(ok)
    assert.equals(2, info.line)
    files.write(copy, ls[1] .. "\n" .. ls[2]:sub(1, 40))
    ok, info = audit.verify(copy)
    assert.is_false(ok)
    assert.equals(2, info.line)
    files.write(copy, ls[2] .. "\n")
    ok, info = audit.verify(copy)
    assert.is_false(ok)
    assert.equals(1, info.line)
    os.remove(copy)
  end)

  it("continues the chain when a log is opened again", function()
    local copy = files.tmpname(".log")
    files.write(copy, files.read(path))
    local log = aws.audit.open(copy, { playbook = "again" })
    d:list_graphs{}
    log:close()
    local ls = files.lines(files.read(copy))
    assert.equals(5, #ls)
    local ok, info = audit.verify(copy)
    assert.is_true(ok, info.reason)
    assert.equals(5, info.records)
    os.remove(copy)
  end)

  it("refuses to append to a file that is not an audit log", function()
    local other = files.tmpname(".txt")
    files.write(other, "hello\n")
    assert.has_error(function() aws.audit.open(other) end)
    files.write(other, lines[1]) -- no newline at the end
    assert.has_error(function() aws.audit.open(other) end)
    os.remove(other)
  end)

  it("writes nothing when no log is open", function()
    local before = files.read(path)
    d:list_graphs{}
    assert.equals(before, files.read(path))
  end)
end)

describe("detlua run --audit-log and detlua audit verify", function()
  local log, run
  setup(function()
    log = files.tmpname(".log")
    run = K.run_playbook([[
      local g = detective:create_graph{}.GraphArn
      detective:create_members{ GraphArn = g, Message = "top secret note",
        Accounts = { { AccountId = "444455556666", EmailAddress = "prod@example.com" } } }
      detective:list_members{ GraphArn = g }
      pcall(detective.accept_invitation, detective, { GraphArn = g })
      log.info("done with %s", args.who)
    ]], { "--audit-log", log }, { "--who=tester" })
  end)
  teardown(function() os.remove(log) end)

  it("records every call of the playbook, naming it", function()
    assert.equals(0, run.code, run.stderr)
    local ls = files.lines(files.read(log))
    assert.equals(4, #ls)
    local r = json.decode(ls[1])
    assert.matches("%.lua$", r.playbook)
    assert.equals(K.ADMIN, r.account)
    assert.equals("error", json.decode(ls[4]).outcome)
    K.assert_no_secrets(files.read(log) .. run.stdout .. run.stderr, nil, "audit run")
    assert.is_nil(files.read(log):find("top secret", 1, true))
  end)

  it("verify prints ok and the head hash, exit 0", function()
    local r = proc.run_detlua({ "audit", "verify", log })
    assert.equals(0, r.code, r.stderr)
    local head = r.stdout:match("^" .. log:gsub("%p", "%%%0") .. ": ok, 4 records, head (%x+)\n$")
    assert.is_string(head)
    if have_sha256sum() then assert.equals(sha256sum(files.lines(files.read(log))[4]), head) end
  end)

  it("verify names the first broken line, exit 1", function()
    local copy = tamper(log, 3, '"outcome":"ok"', '"outcome":"OK"')
    local r = proc.run_detlua({ "audit", "verify", copy })
    os.remove(copy)
    assert.equals(1, r.code)
    assert.matches(":3: broken", r.stdout, 1, true)
  end)

  it("usage errors exit 2", function()
    assert.equals(2, proc.run_detlua({ "audit" }).code)
    assert.equals(2, proc.run_detlua({ "audit", "verify" }).code)
    assert.equals(2, proc.run_detlua({ "audit", "check", log }).code)
    assert.equals(2, proc.run_detlua({ "audit", "verify", log, "extra" }).code)
    assert.equals(2, proc.run_detlua({ "audit", "verify", files.tmpname(".missing") }).code)
    local h = proc.run_detlua({ "audit", "--help" })
    assert.equals(0, h.code)
    assert.matches("usage: detlua audit verify FILE", h.stdout, 1, true)
  end)

  it("a bad --audit-log path fails before the playbook runs", function()
    local r = K.run_playbook("emit{ ran = true }", { "--audit-log", "/nonexistent-dir/x.log" })
    assert.equals(1, r.code)
    assert.equals("", r.stdout)
    assert.matches("aws.audit.open", r.stderr, 1, true)
  end)
end)

describe("aws.audit account lookup", function()
  it("tries a failed lookup again only after LOOKUP_RETRY_S", function()
    local client = require("aws.client")
    audit.forget_accounts()
    local sent, answer = 0, nil
    local saved = client.hooks.transport
    client.hooks.transport = function(_, req)
      sent = sent + 1
      if answer then return 200, { ["content-type"] = "text/xml" }, answer end
      return nil, { code = "ConnectionRefused", message = "refused", retryable = false }
    end
    local c = setmetatable({ opts = { endpoint = "http://127.0.0.1:9" }, _cfg = { region = "us-east-1",
      credentials = { access_key_id = "AKIDAUDITLOOKUP00001", secret_access_key = "s" } } }, client.Client)
    local saved_retry = audit.LOOKUP_RETRY_S
    local ok, err = pcall(function()
      assert.is_nil(audit._account_of(c, true)) -- the lookup fails
      assert.equals(1, sent)
      assert.is_nil(audit._account_of(c, true)) -- within the window: not tried again
      assert.equals(1, sent)
      audit.LOOKUP_RETRY_S = 0
      answer = "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account>"
        .. "<Arn>arn:aws:iam::123456789012:user/a</Arn><UserId>AIDA</UserId></GetCallerIdentityResult>"
        .. "</GetCallerIdentityResponse>"
      assert.equals("123456789012", audit._account_of(c, true)) -- tried again, and kept
      assert.equals(2, sent)
      assert.equals("123456789012", audit._account_of(c, true))
      assert.equals(2, sent)
    end)
    client.hooks.transport = saved
    audit.LOOKUP_RETRY_S = saved_retry
    audit.forget_accounts()
    assert(ok, err)
  end)
end)
