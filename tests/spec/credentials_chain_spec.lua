-- The credential chain of aws.credentials against the in-process emulator's STS: assume
-- role profiles (source_profile, credential_source, role chains, cycles), web identity
-- (environment and profile), the chain's order, caching, refresh with a controllable clock
-- (one refresh at a time under aws.map) and aws.assume_role sessions. The emulator is the
-- oracle: it says who the caller is (GetCallerIdentity) and how many sessions STS issued.
-- IMDS is never reached: every env table sets AWS_EC2_METADATA_DISABLED=true.
local aws = require("aws")
local credentials = require("aws.credentials")
local S = require("credentials_support")
local files = require("files")
local proc = require("proc")

local srv, dir

local function profile_files(config, creds) S.profile_files(dir, config, creds) end

local function env(extra) return S.emulator_env(dir, srv, extra) end

local function sts(opts) return S.emulator_sts(srv, opts) end

local function whoami(opts)
  return sts(opts):get_caller_identity{}.Arn
end

local ADMIN_KEYS = "aws_access_key_id = " .. S.ADMIN.access_key_id .. "\naws_secret_access_key = "
  .. S.ADMIN.secret_access_key .. "\n"

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
  credentials.set_clock(nil)
  files.rmdir(dir)
end)

describe("assume role profiles", function()
  it("assumes role_arn with the source_profile's keys and caches the credentials", function()
    profile_files("[profile ops]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\nrole_session_name = ops-session\n",
      "[base]\n" .. ADMIN_KEYS)
    local e = env()
    local before = S.sts_sessions(srv)
    assert.equal("arn:aws:sts::444455556666:assumed-role/Hop1/ops-session", whoami{ profile = "ops", env = e })
    local c = sts{ profile = "ops", env = e }
    assert.equal("assume-role", c:config().credential_source)
    assert.matches("^ASIA", c:config().access_key_id)
    whoami{ profile = "ops", env = e }
    -- three clients, four calls: one AssumeRole
    assert.equal(before + 1, S.sts_sessions(srv))
  end)

  it("follows role chains: source_profile pointing at a profile with role_arn", function()
    profile_files("[profile hop1]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\n"
      .. "[profile hop2]\nrole_arn = " .. S.HOP2 .. "\nsource_profile = hop1\nrole_session_name = second\n",
      "[base]\n" .. ADMIN_KEYS)
    local before = S.sts_sessions(srv)
    assert.equal("arn:aws:sts::777788889999:assumed-role/Hop2/second", whoami{ profile = "hop2", env = env() })
    assert.equal(before + 2, S.sts_sessions(srv))
  end)

  it("uses AWS_PROFILE when no profile is named, and the role beats static keys of the same profile", function()
    profile_files("[profile ops]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = ops\n", "[ops]\n" .. ADMIN_KEYS)
    -- source_profile naming the profile itself takes that profile's own keys
    assert.matches("assumed%-role/Hop1/", whoami{ env = env{ AWS_PROFILE = "ops" } })
  end)

  it("refuses source_profile cycles before calling STS, naming the cycle", function()
    profile_files("[profile a]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = b\n"
      .. "[profile b]\nrole_arn = " .. S.HOP2 .. "\nsource_profile = c\n"
      .. "[profile c]\nrole_arn = " .. S.HOP2 .. "\nsource_profile = a\n")
    local before = S.sts_sessions(srv)
    local ok, e = pcall(whoami, { profile = "a", env = env() })
    assert.is_false(ok)
    assert.is_true(aws.is_error(e))
    assert.equal("credentials", e.kind)
    assert.equal("InvalidConfig", e.code)
    assert.matches('"a" %-> "b" %-> "c" %-> "a"', e.message)
    assert.equal(before, S.sts_sessions(srv))
    -- a profile naming itself without keys of its own is a cycle too
    profile_files("[profile self]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = self\n")
    ok, e = pcall(whoami, { profile = "self", env = env() })
    assert.is_false(ok)
    assert.equal("InvalidConfig", e.code)
    assert.matches("cycle", e.message)
  end)

  it("rejects inconsistent role settings with InvalidConfig", function()
    profile_files("[profile both]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\ncredential_source = Environment\n"
      .. "[profile none]\nrole_arn = " .. S.HOP1 .. "\n"
      .. "[profile missing]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = nosuch\n"
      .. "[profile badsource]\nrole_arn = " .. S.HOP1 .. "\ncredential_source = Mainframe\n"
      .. "[profile empty]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = blank\n[profile blank]\nregion = us-east-1\n",
      "[base]\n" .. ADMIN_KEYS)
    local cases = {
      both = "both source_profile and credential_source",
      none = "neither source_profile nor credential_source",
      missing = 'source_profile "nosuch" of profile "missing" does not exist',
      badsource = "credential_source Mainframe .* is not valid",
      empty = 'source_profile "blank" of profile "empty" has no credentials',
    }
    for name, pattern in pairs(cases) do
      local ok, e = pcall(whoami, { profile = name, env = env() })
      assert.is_false(ok, name)
      assert.equal("InvalidConfig", e.code, name)
      assert.matches(pattern, e.message)
    end
  end)

  it("takes credential_source = Environment from the environment variables", function()
    profile_files("[profile envrole]\nrole_arn = " .. S.HOP1 .. "\ncredential_source = Environment\n")
    local e = env{ AWS_ACCESS_KEY_ID = S.ADMIN.access_key_id, AWS_SECRET_ACCESS_KEY = S.ADMIN.secret_access_key }
    -- named explicitly: the environment keys do not short-cut the chain, the role uses them
    assert.matches("assumed%-role/Hop1/", whoami{ profile = "envrole", env = e })
    local ok, err = pcall(whoami, { profile = "envrole", env = env() })
    assert.is_false(ok)
    assert.equal("NoCredentials", err.code)
    assert.matches("AWS_ACCESS_KEY_ID", err.message)
  end)

  it("passes external_id and duration_seconds from the profile", function()
    profile_files("[profile ext]\nrole_arn = " .. S.EXT .. "\nsource_profile = base\nexternal_id = ext-123\n"
      .. "duration_seconds = 900\n"
      .. "[profile noext]\nrole_arn = " .. S.EXT .. "\nsource_profile = base\n",
      "[base]\n" .. ADMIN_KEYS)
    local e = env()
    local c = sts{ profile = "ext", env = e }
    assert.matches("WithExternalId", c:get_caller_identity{}.Arn)
    local left = c._cfg.credentials.expiration - os.time()
    assert.is_true(left > 800 and left <= 905, "lifetime " .. left)
    local ok, err = pcall(whoami, { profile = "noext", env = e })
    assert.is_false(ok)
    assert.equal("AssumeRoleFailed", err.code)
    assert.equal("AccessDenied", err.fields.sts_code)
  end)

  it("reports STS refusals as AssumeRoleFailed without secrets", function()
    profile_files("[profile denied]\nrole_arn = " .. S.HOP2 .. "\nsource_profile = base\n", "[base]\n" .. ADMIN_KEYS)
    local en = env()
    local ok, e = pcall(whoami, { profile = "denied", env = en })
    assert.is_false(ok)
    assert.equal("credentials", e.kind)
    assert.equal("AssumeRoleFailed", e.code)
    assert.equal("AccessDenied", e.fields.sts_code)
    assert.equal(403, e.status)
    assert.matches("Hop2", e.message)
    assert.matches('profile "denied"', e.message)
    assert.is_nil(S.error_text(e):find(S.ADMIN.secret_access_key, 1, true))
    -- a broken profile is not cached: fixing the file fixes the next call
    profile_files("[profile denied]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\n", "[base]\n" .. ADMIN_KEYS)
    assert.matches("assumed%-role/Hop1", whoami{ profile = "denied", env = en })
  end)
end)

describe("web identity", function()
  it("reads AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME (unsigned call)", function()
    local token = files.write(dir .. "/token", S.jwt{ sub = S.SUBJECT, aud = "sts.amazonaws.com" })
    profile_files("")
    local e = env{ AWS_WEB_IDENTITY_TOKEN_FILE = token, AWS_ROLE_ARN = S.CI, AWS_ROLE_SESSION_NAME = "gha" }
    local c = sts{ env = e }
    assert.equal("arn:aws:sts::444455556666:assumed-role/CI/gha", c:get_caller_identity{}.Arn)
    assert.equal("assume-role-with-web-identity", c:config().credential_source)
  end)

  it("reads web_identity_token_file and role_arn from the profile", function()
    local token = files.write(dir .. "/token", S.jwt{ sub = S.SUBJECT })
    profile_files("[profile ci]\nweb_identity_token_file = " .. token .. "\nrole_arn = " .. S.CI
      .. "\nrole_session_name = from-profile\n")
    assert.matches("assumed%-role/CI/from%-profile$", whoami{ profile = "ci", env = env() })
  end)

  it("turns a rejected token into AssumeRoleFailed and a missing role ARN into InvalidConfig", function()
    local token = files.write(dir .. "/token", S.jwt{ sub = "repo:attacker/x" })
    profile_files("")
    local ok, e = pcall(whoami, { env = env{ AWS_WEB_IDENTITY_TOKEN_FILE = token, AWS_ROLE_ARN = S.CI } })
    assert.is_false(ok)
    assert.equal("AssumeRoleFailed", e.code)
    assert.equal(require("aws.core.model").shape("sts", "InvalidIdentityTokenException").error_code, e.fields.sts_code)
    ok, e = pcall(whoami, { env = env{ AWS_WEB_IDENTITY_TOKEN_FILE = token } })
    assert.is_false(ok)
    assert.equal("InvalidConfig", e.code)
    assert.matches("AWS_ROLE_ARN", e.message)
    ok, e = pcall(whoami, { env = env{ AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/nope", AWS_ROLE_ARN = S.CI } })
    assert.is_false(ok)
    assert.equal("InvalidConfig", e.code)
    assert.matches("token file", e.message)
  end)
end)

describe("the chain's order", function()
  it("prefers environment keys to AWS_PROFILE's role, and a named profile to environment keys", function()
    profile_files("[profile ops]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\n", "[base]\n" .. ADMIN_KEYS)
    local e = env{ AWS_PROFILE = "ops", AWS_ACCESS_KEY_ID = S.ADMIN.access_key_id,
      AWS_SECRET_ACCESS_KEY = S.ADMIN.secret_access_key }
    assert.matches(":user/", whoami{ env = e })
    assert.matches("assumed%-role/Hop1", whoami{ env = e, profile = "ops" })
  end)

  it("puts credential_process after the credentials file and before the config file", function()
    if not S.have_python then return pending("needs /usr/bin/python3") end
    local cmd = proc.PYTHON .. " " .. S.FAKE_PROCESS .. " static"
    -- keys in the credentials file win over credential_process
    profile_files("[profile p]\ncredential_process = " .. cmd .. "\n", "[p]\n" .. ADMIN_KEYS)
    assert.equal("shared-credentials-file", sts{ profile = "p", env = env() }:config().credential_source)
    -- credential_process wins over keys in the config file
    profile_files("[profile p]\ncredential_process = " .. cmd .. "\n" .. ADMIN_KEYS)
    assert.equal("custom-process", sts{ profile = "p", env = env() }:config().credential_source)
    -- keys in the config file alone
    profile_files("[profile p]\n" .. ADMIN_KEYS)
    assert.equal("config-file", sts{ profile = "p", env = env() }:config().credential_source)
  end)

  it("names every place it searched when nothing is found, without touching IMDS", function()
    profile_files("")
    local ok, e = pcall(whoami, { env = env() })
    assert.is_false(ok)
    assert.equal("credentials", e.kind)
    assert.equal("NoCredentials", e.code)
    for _, what in ipairs({ "AWS_ACCESS_KEY_ID", "role_arn", "AWS_WEB_IDENTITY_TOKEN_FILE", "credential_process",
        dir .. "/credentials [default]", dir .. "/config [default]",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "EC2 instance metadata (disabled" }) do
      assert.is_truthy(e.message:find(what, 1, true), what)
    end
    ok, e = pcall(whoami, { env = env(), profile = "nosuch" })
    assert.is_false(ok)
    assert.equal("ProfileNotFound", e.code)
    assert.matches('"nosuch"', e.message)
  end)
end)

describe("caching and refresh", function()
  it("refreshes an assumed role before it expires, once", function()
    profile_files("[profile ops]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\nduration_seconds = 900\n",
      "[base]\n" .. ADMIN_KEYS)
    local e = env()
    local base = os.time()
    credentials.set_clock(function() return base end)
    local c = sts{ profile = "ops", env = e }
    local n0 = S.sts_sessions(srv)
    local first = c:config().access_key_id
    assert.equal(n0 + 1, S.sts_sessions(srv))
    -- well inside the lifetime: cached
    credentials.set_clock(function() return base + 300 end)
    c:get_caller_identity{}
    assert.equal(first, c:config().access_key_id)
    assert.equal(n0 + 1, S.sts_sessions(srv))
    -- 200 s left of 900: inside the mandatory window, refreshed before use
    credentials.set_clock(function() return base + 700 end)
    assert.matches("assumed%-role/Hop1", c:get_caller_identity{}.Arn)
    assert.not_equal(first, c:config().access_key_id)
    assert.equal(n0 + 2, S.sts_sessions(srv))
    c:get_caller_identity{}
    assert.equal(n0 + 2, S.sts_sessions(srv))
  end)

  it("makes one refresh at a time when many aws.map tasks need it", function()
    profile_files("[profile ops]\nrole_arn = " .. S.HOP1 .. "\nsource_profile = base\n", "[base]\n" .. ADMIN_KEYS)
    local e = env()
    local base = os.time()
    credentials.set_clock(function() return base end)
    local c = sts{ profile = "ops", env = e }
    c:get_caller_identity{}
    local n0 = S.sts_sessions(srv)
    -- 3600 s credentials, 500 s left: every task must wait for fresh ones
    credentials.set_clock(function() return base + 3100 end)
    local items = {}
    for i = 1, 12 do items[i] = i end
    local results, errs = aws.map(items, function()
      return c:get_caller_identity{}.Arn
    end, { concurrency = 12 })
    assert.same({}, errs)
    assert.equal(12, #results)
    assert.equal(n0 + 1, S.sts_sessions(srv))
  end)

  it("shares one refreshing provider among tasks (counting fake)", function()
    local now = 1000000
    credentials.set_clock(function() return now end)
    local fetches, in_flight, max_in_flight = 0, 0, 0
    local client = require("aws.client")
    local p = credentials.provider{ name = "counting", fetch = function()
      fetches = fetches + 1
      in_flight = in_flight + 1
      max_in_flight = math.max(max_in_flight, in_flight)
      client.sleep(0.05) -- yields inside a task: other tasks run meanwhile
      in_flight = in_flight - 1
      return { access_key_id = "AKIACOUNTING" .. fetches, secret_access_key = "countingSecret" .. fetches,
        expiration = now + 3600 }
    end }
    local items = {}
    for i = 1, 20 do items[i] = i end
    local function run()
      local res, errs = aws.map(items, function() return p:get().access_key_id end, { concurrency = 20 })
      assert.same({}, errs)
      return res
    end
    local r1 = run()
    assert.equal(1, fetches)
    for i = 1, 20 do assert.equal("AKIACOUNTING1", r1[i]) end
    now = now + 1000 -- 2600 s left: fresh
    run()
    assert.equal(1, fetches)
    now = now + 2100 -- 500 s left: mandatory
    local r3 = run()
    assert.equal(2, fetches)
    for i = 1, 20 do assert.equal("AKIACOUNTING2", r3[i]) end
    assert.equal(1, max_in_flight)
  end)

  it("keeps the current credentials when an advisory refresh fails, and raises in the mandatory window", function()
    local now = 2000000
    credentials.set_clock(function() return now end)
    local fail_next = false
    local n = 0
    local p = credentials.provider{ name = "flaky", fetch = function()
      n = n + 1
      if fail_next then error(require("aws.errors").new{ kind = "credentials", code = "Boom", message = "down" }, 0) end
      return { access_key_id = "AKIAFLAKY" .. n, secret_access_key = "flakySecret" .. n, expiration = now + 3600 }
    end }
    assert.equal("AKIAFLAKY1", p:get().access_key_id)
    fail_next = true
    now = now + 2800 -- 800 s left: advisory (900), not mandatory (600)
    assert.equal("AKIAFLAKY1", p:get().access_key_id)
    assert.equal(2, n)
    now = now + 300 -- 500 s left: mandatory
    local ok, e = pcall(p.get, p)
    assert.is_false(ok)
    assert.equal("Boom", e.code)
    fail_next = false
    assert.equal("AKIAFLAKY4", p:get().access_key_id)
  end)
end)

describe("aws.assume_role", function()
  local admin
  before_each(function()
    admin = sts{ credentials = S.ADMIN }
  end)

  it("returns a session whose clients act as the role", function()
    local n0 = S.sts_sessions(srv)
    local sess = aws.assume_role({ RoleArn = S.HOP1, RoleSessionName = "playbook" }, { client = admin })
    assert.equal(S.HOP1, sess.role_arn)
    assert.equal("444455556666", sess.account)
    assert.equal(n0 + 1, S.sts_sessions(srv))
    local c = sess:client("sts", { endpoint = srv:url() })
    assert.equal("arn:aws:sts::444455556666:assumed-role/Hop1/playbook", c:get_caller_identity{}.Arn)
    local d = sess:client("detective", { endpoint = srv:url() })
    assert.is_table(d:list_graphs{}.GraphList)
    local creds = sess:credentials()
    assert.matches("^ASIA", creds.access_key_id)
    assert.is_number(creds.expiration)
    local s = tostring(sess)
    assert.matches("Hop1", s)
    assert.matches("playbook", s)
    assert.is_nil(s:find(creds.secret_access_key, 1, true))
    assert.is_nil(s:find(creds.session_token, 1, true))
    assert.is_nil(tostring(sess:provider()):find(creds.secret_access_key, 1, true))
    assert.equal(n0 + 1, S.sts_sessions(srv))
  end)

  it("assumes the role again when the session's credentials near expiry", function()
    local base = os.time()
    credentials.set_clock(function() return base end)
    local sess = aws.assume_role({ RoleArn = S.HOP1, RoleSessionName = "refresh", DurationSeconds = 900 }, { client = admin })
    local c = sess:client("sts", { endpoint = srv:url() })
    local first = sess:credentials().access_key_id
    local n0 = S.sts_sessions(srv)
    credentials.set_clock(function() return base + 700 end)
    assert.matches("assumed%-role/Hop1/refresh", c:get_caller_identity{}.Arn)
    assert.not_equal(first, sess:credentials().access_key_id)
    assert.equal(n0 + 1, S.sts_sessions(srv))
  end)

  it("checks its arguments before any call and wraps refusals", function()
    local n0 = S.sts_sessions(srv)
    local ok, e = pcall(aws.assume_role, { RoleSessionName = "x1" }, { client = admin })
    assert.is_false(ok)
    assert.matches("RoleArn", e)
    ok, e = pcall(aws.assume_role, { RoleArn = S.HOP1, RoleSessionName = "x" }, { client = admin })
    assert.is_false(ok)
    assert.matches("RoleSessionName", e)
    ok, e = pcall(aws.assume_role, { RoleArn = S.HOP1 }, { client = admin, region = "x" })
    assert.is_false(ok)
    assert.matches('unknown option "region"', e)
    assert.equal(n0, S.sts_sessions(srv))
    ok, e = pcall(aws.assume_role, { RoleArn = S.HOP2, RoleSessionName = "denied" }, { client = admin })
    assert.is_false(ok)
    assert.equal("credentials", e.kind)
    assert.equal("AssumeRoleFailed", e.code)
    assert.equal("AccessDenied", e.fields.sts_code)
    assert.is_nil(S.error_text(e):find(S.ADMIN.secret_access_key, 1, true))
    -- ExternalId passes through
    local sess = aws.assume_role({ RoleArn = S.EXT, RoleSessionName = "ext", ExternalId = "ext-123" }, { client = admin })
    assert.matches("WithExternalId/ext$", sess:client("sts", { endpoint = srv:url() }):get_caller_identity{}.Arn)
  end)
end)
