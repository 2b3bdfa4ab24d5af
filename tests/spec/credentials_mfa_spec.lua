-- MFA for assumed roles: profiles with mfa_serial and aws.assume_role with SerialNumber
-- (TokenCode, the token_code option, the terminal prompt). The prompt is replaced through
-- aws.credentials.set_prompt, except in two runs of the real binary: one with no
-- controlling terminal (setsid) and one in a tmux pane where the code is typed. The
-- emulator is the oracle for what reached STS: its sessions hook shows each issued
-- session's MFA serial and code, and its AssumeRole refuses a SerialNumber without a
-- 6-digit TokenCode.
local aws = require("aws")
local credentials = require("aws.credentials")
local host = require("aws.core.host")
local S = require("credentials_support")
local files = require("files")
local proc = require("proc")

local srv, dir

local ADMIN_KEYS = "aws_access_key_id = " .. S.ADMIN.access_key_id .. "\naws_secret_access_key = "
  .. S.ADMIN.secret_access_key .. "\n"
local PROMPT = "Enter MFA code for " .. S.MFA .. ": "

local function profile_files(config, creds) S.profile_files(dir, config, creds) end

-- [profile ops]: Hop1 from base's keys, with mfa_serial; extra lines appended
local function mfa_profile(extra)
  profile_files("[profile ops]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\nmfa_serial = " .. S.MFA .. "\n"
    .. (extra or ""), "[base]\n" .. ADMIN_KEYS)
end

local function env(extra) return S.emulator_env(dir, srv, extra) end

local function sts(opts) return S.emulator_sts(srv, opts) end

-- A prompt that answers from a list and records what it was asked.
local function scripted(answers)
  local log = { texts = {}, serials = {} }
  local i = 0
  credentials.set_prompt(function(text, serial)
    i = i + 1
    log.texts[i], log.serials[i] = text, serial
    return answers[i]
  end)
  return log
end

-- The emulator's record of the session whose key is akid.
local function session_of(akid)
  for _, s in ipairs(S.sts_session_list(srv)) do
    if s.access_key_id == akid then return s end
  end
  error("the emulator issued no session " .. tostring(akid))
end

setup(function()
  srv = S.start_emulator()
end)
teardown(function()
  srv:stop()
end)
before_each(function()
  dir = files.tmpdir()
end)
after_each(function()
  credentials.set_prompt(nil)
  credentials.set_clock(nil)
  files.rmdir(dir)
end)

describe("profiles with mfa_serial", function()
  it("asks for a code and sends it with the serial to AssumeRole", function()
    mfa_profile()
    local log = scripted({ " 123456\n" })
    local c = sts{ profile = "ops", env = env() }
    assert.matches("assumed%-role/Hop1/", c:get_caller_identity{}.Arn)
    assert.same({ PROMPT }, log.texts)
    assert.same({ S.MFA }, log.serials)
    local rec = session_of(c:config().access_key_id)
    assert.equal(S.MFA, rec.mfa_serial)
    assert.equal("123456", rec.mfa_token_code)
    -- cached: no second prompt
    c:get_caller_identity{}
    sts{ profile = "ops", env = c.opts.env }:get_caller_identity{}
    assert.equal(1, #log.texts)
  end)

  it("without a terminal raises MfaRequired saying what to do, before any request", function()
    mfa_profile()
    scripted({})
    local n0 = S.sts_sessions(srv)
    local ok, e = pcall(function() return sts{ profile = "ops", env = env() }:get_caller_identity{} end)
    assert.is_false(ok)
    assert.equal("credentials", e.kind)
    assert.equal("MfaRequired", e.code)
    for _, what in ipairs({ 'profile "ops"', S.MFA, "terminal", "aws.assume_role", "TokenCode", "token_code" }) do
      assert.is_truthy(e.message:find(what, 1, true), what)
    end
    assert.equal(n0, S.sts_sessions(srv))
  end)

  it("refuses a code that is not 6 digits before any request, naming mfa_serial", function()
    mfa_profile()
    local n0 = S.sts_sessions(srv)
    for _, bad in ipairs({ "12345", "1234567", "12a456", "" }) do
      scripted({ bad })
      local ok, e = pcall(function() return sts{ profile = "ops", env = env() }:get_caller_identity{} end)
      assert.is_false(ok)
      assert.is_string(e, bad)
      assert.matches("mfa_serial", e)
      assert.is_truthy(e:find(S.MFA, 1, true))
      assert.matches("6 digits", e)
      if bad ~= "" then assert.is_nil(e:find(bad, 1, true), "the message quotes the code") end
    end
    assert.equal(n0, S.sts_sessions(srv))
  end)

  it("asks again for each refresh: a code is good for one AssumeRole", function()
    mfa_profile("duration_seconds = 900\n")
    local base = os.time()
    credentials.set_clock(function() return base end)
    local log = scripted({ "111111", "222222" })
    local c = sts{ profile = "ops", env = env() }
    c:get_caller_identity{}
    local first = c:config().access_key_id
    assert.equal("111111", session_of(first).mfa_token_code)
    credentials.set_clock(function() return base + 300 end)
    c:get_caller_identity{}
    assert.equal(1, #log.texts)
    -- 200 s left of 900: mandatory refresh
    credentials.set_clock(function() return base + 700 end)
    assert.matches("assumed%-role/Hop1/", c:get_caller_identity{}.Arn)
    local second = c:config().access_key_id
    assert.not_equal(first, second)
    assert.equal(2, #log.texts)
    assert.equal("222222", session_of(second).mfa_token_code)
  end)

  it("asks once for 8 aws.map tasks, at the first fetch and at a refresh", function()
    mfa_profile()
    local base = os.time()
    credentials.set_clock(function() return base end)
    local n = 0
    credentials.set_prompt(function()
      n = n + 1
      require("aws.client").sleep(0.05) -- yields inside a task: the other tasks run meanwhile
      return string.format("%06d", n)
    end)
    local e = env()
    local n0 = S.sts_sessions(srv)
    local items = {}
    for i = 1, 8 do items[i] = i end
    local function run()
      local res, errs = aws.map(items, function()
        return sts{ profile = "ops", env = e }:get_caller_identity{}.Arn
      end, { concurrency = 8 })
      assert.same({}, errs)
      assert.equal(8, #res)
    end
    run()
    assert.equal(1, n)
    assert.equal(n0 + 1, S.sts_sessions(srv))
    -- 3600 s credentials, 500 s left: every task needs fresh ones
    credentials.set_clock(function() return base + 3100 end)
    run()
    assert.equal(2, n)
    assert.equal(n0 + 2, S.sts_sessions(srv))
  end)

  it("refuses an empty mfa_serial", function()
    profile_files("[profile ops]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\nmfa_serial =\n", "[base]\n" .. ADMIN_KEYS)
    scripted({ "123456" })
    local ok, e = pcall(function() return sts{ profile = "ops", env = env() }:get_caller_identity{} end)
    assert.is_false(ok)
    assert.equal("InvalidConfig", e.code)
    assert.matches("mfa_serial", e.message)
  end)
end)

describe("aws.assume_role with SerialNumber", function()
  local admin
  before_each(function()
    admin = sts{ credentials = S.ADMIN }
  end)

  it("sends TokenCode once, then asks token_code at each refresh", function()
    local base = os.time()
    credentials.set_clock(function() return base end)
    local asked = {}
    local sess = aws.assume_role({ RoleArn = S.HOP1, RoleSessionName = "mfa", DurationSeconds = 900,
      SerialNumber = S.MFA, TokenCode = "314159" }, { client = admin, token_code = function(serial)
        asked[#asked + 1] = serial
        return "271828"
      end })
    local first = sess:credentials().access_key_id
    assert.equal(S.MFA, session_of(first).mfa_serial)
    assert.equal("314159", session_of(first).mfa_token_code)
    assert.same({}, asked)
    credentials.set_clock(function() return base + 700 end)
    local second = sess:credentials().access_key_id
    assert.not_equal(first, second)
    assert.same({ S.MFA }, asked)
    assert.equal("271828", session_of(second).mfa_token_code)
  end)

  it("asks token_code for the first call too when TokenCode is absent", function()
    local n = 0
    local sess = aws.assume_role({ RoleArn = S.HOP1, RoleSessionName = "mfa", SerialNumber = S.MFA },
      { client = admin, token_code = function() n = n + 1 return "000042" end })
    assert.equal(1, n)
    assert.equal("000042", session_of(sess:credentials().access_key_id).mfa_token_code)
  end)

  it("falls back to the terminal prompt, and to MfaRequired without one", function()
    local base = os.time()
    credentials.set_clock(function() return base end)
    local log = scripted({ "654321" })
    local sess = aws.assume_role({ RoleArn = S.HOP1, RoleSessionName = "mfa", DurationSeconds = 900,
      SerialNumber = S.MFA }, { client = admin })
    assert.same({ PROMPT }, log.texts)
    assert.equal("654321", session_of(sess:credentials().access_key_id).mfa_token_code)
    -- refresh: the prompt has no more answers (no terminal)
    credentials.set_clock(function() return base + 700 end)
    local ok, e = pcall(sess.credentials, sess)
    assert.is_false(ok)
    assert.equal("MfaRequired", e.code)
    assert.is_truthy(e.message:find("aws.assume_role", 1, true))
    assert.is_truthy(e.message:find(S.MFA, 1, true))
    assert.matches("token_code", e.message)
  end)

  it("checks codes and options before any request", function()
    local n0 = S.sts_sessions(srv)
    local function refused(params, opts, pattern)
      params.RoleArn = params.RoleArn or S.HOP1
      params.RoleSessionName = "mfa"
      opts = opts or {}
      opts.client = admin
      local ok, e = pcall(aws.assume_role, params, opts)
      assert.is_false(ok)
      assert.is_string(e)
      assert.matches(pattern, e)
    end
    refused({ SerialNumber = S.MFA, TokenCode = "12345" }, nil, "TokenCode: must be 6 digits")
    refused({ SerialNumber = S.MFA, TokenCode = "12a456" }, nil, "TokenCode: must be 6 digits")
    refused({ SerialNumber = S.MFA, TokenCode = 123456 }, nil, "TokenCode: must be a string")
    refused({ TokenCode = "123456" }, nil, "TokenCode: needs SerialNumber")
    refused({}, { token_code = function() return "123456" end }, "token_code: needs SerialNumber")
    refused({ SerialNumber = S.MFA }, { token_code = "123456" }, "token_code: expected a function")
    refused({ SerialNumber = S.MFA }, { token_code = function() return "12345" end }, "token_code: the code it returns must be 6 digits")
    refused({ SerialNumber = S.MFA }, { token_code = function() return nil end }, "token_code: the code it returns must be a string")
    assert.equal(n0, S.sts_sessions(srv))
  end)
end)

describe("the emulator's AssumeRole with SerialNumber", function()
  it("refuses a missing or malformed TokenCode with AccessDenied", function()
    local admin = sts{ credentials = S.ADMIN }
    local n0 = S.sts_sessions(srv)
    for _, code in ipairs({ false, "abcdef" }) do
      local ok, e = pcall(admin.assume_role, admin, { RoleArn = S.HOP1, RoleSessionName = "mfa", SerialNumber = S.MFA,
        TokenCode = code or nil })
      assert.is_false(ok)
      assert.equal("AccessDenied", e.code)
      assert.equal(403, e.status)
    end
    assert.equal(n0, S.sts_sessions(srv))
    local r = admin:assume_role{ RoleArn = S.HOP1, RoleSessionName = "mfa", SerialNumber = S.MFA, TokenCode = "987654" }
    assert.equal("987654", session_of(r.Credentials.AccessKeyId).mfa_token_code)
    -- without SerialNumber nothing changes
    r = admin:assume_role{ RoleArn = S.HOP1, RoleSessionName = "plain" }
    assert.is_nil(session_of(r.Credentials.AccessKeyId).mfa_serial)
  end)
end)

-- --- the real binary -------------------------------------------------------------------

local DETLUA = os.getenv("DETLUA")
local PLAYBOOK = 'print("arn=" .. sts:get_caller_identity{}.Arn)\n'

local function run_env()
  return { HOME = dir, AWS_CONFIG_FILE = dir .. "/config", AWS_SHARED_CREDENTIALS_FILE = dir .. "/credentials",
    AWS_EC2_METADATA_DISABLED = "true", AWS_ENDPOINT_URL = srv:url(), PATH = "/usr/bin:/bin" }
end

describe("detlua run", function()
  it("without a controlling terminal fails with MfaRequired", function()
    if not (DETLUA and proc.have("setsid")) then return pending("needs DETLUA and setsid") end
    mfa_profile()
    files.write(dir .. "/who.lua", PLAYBOOK)
    local n0 = S.sts_sessions(srv)
    local r = proc.run{ argv = { "setsid", "-w", DETLUA, "run", "--profile", "ops", "--region", "us-east-1",
      "--endpoint-url", srv:url(), dir .. "/who.lua" }, env = run_env() }
    assert.equal(1, r.code, r.stderr)
    assert.matches("MfaRequired", r.stderr)
    assert.is_truthy(r.stderr:find(S.MFA, 1, true), r.stderr)
    assert.matches("terminal", r.stderr)
    assert.equal("", r.stdout)
    assert.equal(n0, S.sts_sessions(srv))
  end)

  it("in a terminal asks for the code without echoing it, and uses it (tmux)", function()
    if not (DETLUA and proc.have("tmux")) then return pending("needs DETLUA and tmux") end
    mfa_profile()
    files.write(dir .. "/who.lua", PLAYBOOK)
    local socket = dir .. "/tmux-" .. host.pid()
    local function tmux(args)
      return (proc.output("tmux -S " .. proc.quote(socket) .. " " .. args .. " 2>&1"))
    end
    local vars = {}
    for k, v in pairs(run_env()) do vars[#vars + 1] = k .. "=" .. proc.quote(v) end
    vars[#vars + 1] = "TERM=xterm"
    -- the pane stays after the run so its last screen can be read
    local cmd = "env -i " .. table.concat(vars, " ") .. " " .. proc.quote(DETLUA) .. " run --profile ops --region us-east-1 "
      .. "--endpoint-url " .. proc.quote(srv:url()) .. " " .. proc.quote(dir .. "/who.lua")
      .. "; echo exit=$?; sleep 60"
    tmux("new-session -d -s mfa -x 200 -y 40 " .. proc.quote(cmd))
    local ok, err = pcall(function()
      local function wait_for(text)
        local stop = host.monotonic_ms() + 20000
        while true do
          local s = tmux("capture-pane -p -J -t mfa")
          if s:find(text, 1, true) then return s end
          if host.monotonic_ms() > stop then error("gave up waiting for " .. text .. "; screen:\n" .. s, 0) end
          host.sleep_ms(50)
        end
      end
      wait_for(PROMPT)
      tmux("send-keys -t mfa -l 246810")
      tmux("send-keys -t mfa Enter")
      local s = wait_for("exit=")
      assert.is_truthy(s:find("exit=0", 1, true), s)
      -- typed with echo off: the screen shows the prompt, never the code
      assert.is_truthy(s:find(PROMPT, 1, true), s)
      assert.is_nil(s:find("246810", 1, true), s)
      assert.matches("arn=arn:aws:sts::444455556666:assumed%-role/Hop1/", s)
      local found
      for _, rec in ipairs(S.sts_session_list(srv)) do
        if rec.mfa_token_code == "246810" then found = rec end
      end
      assert.is_table(found)
      assert.equal(S.MFA, found.mfa_serial)
    end)
    tmux("kill-server")
    if not ok then error(err, 0) end
  end)
end)
