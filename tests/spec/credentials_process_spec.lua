-- credential_process: command-line splitting (oracle: Python's shlex.split, which botocore
-- uses), running without a shell, output validation, errors without secrets, caching and
-- refresh. The helper is tests/helpers/fake_credential_process.py; a count file it appends
-- to is the oracle for how many times it ran.
local aws = require("aws")
local credentials = require("aws.credentials")
local process = require("aws.credentials.process")
local json = require("aws.json")
local S = require("credentials_support")
local files = require("files")
local proc = require("proc")

if not S.have_python then
  describe("credential_process", function() pending("needs /usr/bin/python3") end)
  return
end

local dir

local function runs(file)
  local n = 0
  for _ in (files.read(file) or ""):gmatch("run\n") do n = n + 1 end
  return n
end

-- A profile "p" with the given credential_process line; returns its env table.
local function with_process(args, extra_env)
  local line = proc.PYTHON .. " " .. S.FAKE_PROCESS .. " " .. args
  files.write(dir .. "/config", "[profile p]\ncredential_process = " .. line .. "\n")
  files.write(dir .. "/credentials", "")
  return S.env(dir, extra_env)
end

local function resolve(e)
  return credentials.resolve{ profile = "p", env = e }
end

before_each(function() dir = files.tmpdir() end)
after_each(function()
  credentials.set_clock(nil)
  files.rmdir(dir)
end)

describe("credential_process command lines", function()
  it("split like Python's shlex.split", function()
    local cases = {
      "prog a b", "  prog   'a b'  c ", [[prog "a \"b\" c" d]], [[prog 'it'"'"'s']], [[prog a\ b \\x]],
      [[prog "x\y" "\\"]], [[prog '' ""]], "prog --flag=\"v w\"", [[/opt/my\ tool/bin --p 'x;y' "$HOME" `id`]],
      "prog\ta\nb", [[prog "nested 'single'" 'nested "double"']],
    }
    local src = files.write(dir .. "/cases.json", json.encode(cases))
    local expected = json.decode((proc.output(proc.PYTHON
      .. " -c 'import json,shlex,sys; print(json.dumps([shlex.split(c) for c in json.load(open(sys.argv[1]))]))' "
      .. proc.quote(src))))
    assert.equal(#cases, #expected)
    for i, c in ipairs(cases) do
      assert.same(expected[i], process.split(c), c)
    end
    for _, bad in ipairs({ "prog 'open", 'prog "open', "prog trailing\\" }) do
      local words, err = process.split(bad)
      assert.is_nil(words)
      assert.is_string(err)
    end
  end)

  it("runs the program without a shell", function()
    local e = with_process([[argv 'a b' "$HOME" ';' 'x|y' $(id)]])
    local c = resolve(e)
    assert.equal("AKIAARGV5", c.access_key_id)
    assert.same({ "a b", "$HOME", ";", "x|y", "$(id)" }, json.decode(c.session_token))
  end)

  it("gives the program the call's environment", function()
    local c = resolve(with_process("env", { DETLUA_TEST_MARK = "MARK1" }))
    assert.equal("AKIAENVMARK1", c.access_key_id)
  end)
end)

describe("credential_process credentials", function()
  it("are used by clients and cached: one run for many resolutions", function()
    local count = dir .. "/count"
    local e = with_process("static --count-file " .. proc.quote(count))
    local c = resolve(e)
    assert.equal("AKIAFAKEPROCESS00001", c.access_key_id)
    assert.equal("custom-process", c.source)
    assert.is_nil(c.session_token)
    assert.is_nil(c.expiration)
    resolve(e)
    local cl = aws.client("sts", { region = "us-east-1", endpoint = "http://127.0.0.1:9", profile = "p", env = e })
    assert.equal("custom-process", cl:config().credential_source)
    assert.equal(1, runs(count))
  end)

  it("with an Expiration are run again before they expire", function()
    local count = dir .. "/count"
    local e = with_process("valid --expires-in 3600 --count-file " .. proc.quote(count))
    local base = os.time()
    credentials.set_clock(function() return base end)
    local c = resolve(e)
    assert.equal("AKIAFAKEPROCESS00001", c.access_key_id)
    assert.is_true(c.expiration > base + 3000)
    credentials.set_clock(function() return base + 1800 end)
    assert.equal("AKIAFAKEPROCESS00001", resolve(e).access_key_id)
    credentials.set_clock(function() return base + 3100 end)
    assert.equal("AKIAFAKEPROCESS00002", resolve(e).access_key_id)
    assert.equal(2, runs(count))
  end)
end)

describe("credential_process failures", function()
  local function failure(args, extra_env)
    local e = with_process(args, extra_env)
    local ok, err = pcall(resolve, e)
    assert.is_false(ok)
    assert.is_true(aws.is_error(err), tostring(err))
    assert.equal("credentials", err.kind)
    assert.equal("CredentialProcessError", err.code)
    assert.matches('profile "p"', err.message)
    return err
  end

  it("reports output that is not JSON without echoing it", function()
    local err = failure("invalid-json")
    assert.matches("did not print a JSON object", err.message)
    assert.is_nil(S.error_text(err):find("processSecret", 1, true))
  end)

  it("reports a non-zero exit with a short, redacted excerpt of stderr", function()
    local secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY9"
    local err = failure("fail --stderr " .. proc.quote("login failed for token " .. secret .. " " .. string.rep("x", 400)))
    assert.matches("exited with status 3", err.message)
    assert.matches("login failed for token", err.message)
    assert.is_nil(S.error_text(err):find(secret, 1, true))
    assert.is_true(#err.message < 400)
  end)

  it("validates Version, the key pair and the expiration", function()
    assert.matches("unsupported Version 2", failure("version2").message)
    assert.matches("lacks SecretAccessKey", failure("no-secret").message)
    assert.matches("expired at", failure("expired").message)
  end)

  it("kills a program that does not finish in time", function()
    local saved = process.TIMEOUT_MS
    process.TIMEOUT_MS = 300
    local ok, err = pcall(failure, "sleep")
    process.TIMEOUT_MS = saved
    assert.is_true(ok, tostring(err))
    assert.matches("did not finish within 0.3 s", err.message)
  end)

  it("says when the program cannot be run", function()
    files.write(dir .. "/config", "[profile p]\ncredential_process = /nonexistent/helper --x\n")
    local ok, err = pcall(resolve, S.env(dir))
    assert.is_false(ok)
    assert.equal("CredentialProcessError", err.code)
    -- posix_spawnp reports the failed exec; under valgrind the child exits 127 instead
    assert.is_truthy(err.message:find("cannot run '/nonexistent/helper'", 1, true)
      or err.message:find("/nonexistent/helper exited with status 127", 1, true), err.message)
    files.write(dir .. "/config", "[profile p]\ncredential_process = helper 'unbalanced\n")
    ok, err = pcall(resolve, S.env(dir))
    assert.is_false(ok)
    assert.matches("cannot split", err.message)
  end)
end)
