-- IAM Identity Center (SSO) credentials in the default chain, against the loopback fake
-- portal and OIDC service tests/helpers/fake_sso_portal.py (it checks the bearer token,
-- role and account, and CreateToken's refresh grant, and records what it got: the oracle
-- for what detlua sent) and a token cache in a temporary HOME, named as the AWS CLI names
-- it (SHA-1 computed here by Debian's Python, not by detlua). End to end, the portal hands
-- out an emulator STS session, and a call signed with it must be accepted by the emulator.
-- Token refresh is also checked against Debian's botocore (SSOTokenProvider): it must
-- accept the cache file detlua wrote, and detlua the one botocore wrote.
local aws = require("aws")
local credentials = require("aws.credentials")
local json = require("aws.json")
local S = require("credentials_support")
local files = require("files")
local loopback = require("loopback")
local proc = require("proc")
local secrets = require("secrets")

if not S.have_python then
  describe("SSO credentials", function() pending("needs /usr/bin/python3") end)
  return
end

local FAKE = files.src("tests/helpers/fake_sso_portal.py")
local ACCOUNT, ROLE = "111122223333", "DetectiveReader"
local START_URL = "https://example-corp.awsapps.com/start"
local TOKEN = "ssoAccessTokenForTheSpec-" .. string.rep("x7Q", 12)
local OTHER_TOKEN = "ssoRevokedTokenForTheSpec-" .. string.rep("k9Z", 12)
-- the client registration and refresh token `aws sso login` caches for sso-session profiles
local CLIENT_ID = "clientIdForTheSpec-" .. string.rep("c1D", 6)
local CLIENT_SECRET = "clientSecretForTheSpec-" .. string.rep("s3C", 12)
local REFRESH = "refreshTokenForTheSpec-" .. string.rep("r5T", 12)

local fakedir, port, srv, dir
local texts = {}          -- every error text and debug output, searched at the end

local function sha1_hex(s)
  local prog = "import hashlib,sys;print(hashlib.sha1(sys.argv[1].encode()).hexdigest())"
  local out = proc.output(proc.PYTHON .. " -c " .. proc.quote(prog) .. " " .. proc.quote(s))
  return (out:gsub("%s+$", ""))
end

local function call(method, path, body)
  return loopback.json_call(nil, method, "http://127.0.0.1:" .. port .. path, body)
end

local function configure(cfg)
  local all = { tokens = { TOKEN }, account_id = ACCOUNT, role_name = ROLE, status = 200, expires_in = 3600,
    creds = json.null, client_id = CLIENT_ID, client_secret = CLIENT_SECRET, refresh_token = REFRESH,
    token_expires_in = 3600, rotate_refresh = true, revoke_on_refresh = false, token_status = 200,
    token_answer = json.null, race_write = json.null }
  for k, v in pairs(cfg or {}) do all[k] = v end
  call("POST", "/_control/config", all)
end

local function state() return call("GET", "/_control/state") end
local function fetches(st) return (st or state()).counts["/federation/credentials"] or 0 end
local function refreshes(st) return (st or state()).counts["/token"] or 0 end

local CONFIG = table.concat({
  "[profile sso-new]",
  "sso_session = corp",
  "sso_account_id = " .. ACCOUNT,
  "sso_role_name = " .. ROLE,
  "region = us-east-1",
  "",
  "[sso-session corp]",
  "sso_start_url = " .. START_URL,
  "sso_region = eu-west-1",
  "sso_registration_scopes = sso:account:access",
  "",
  "[profile sso-legacy]",
  "sso_start_url = " .. START_URL,
  "sso_region = eu-west-1",
  "sso_account_id = " .. ACCOUNT,
  "sso_role_name = " .. ROLE,
  "",
  "[profile sso-norole]",
  "sso_session = corp",
  "sso_account_id = " .. ACCOUNT,
  "",
  "[profile sso-nosession]",
  "sso_session = missing",
  "sso_account_id = " .. ACCOUNT,
  "sso_role_name = " .. ROLE,
  "",
  "[profile sso-forbidden]",
  "sso_session = corp",
  "sso_account_id = 999999999999",
  "sso_role_name = " .. ROLE,
  "",
}, "\n")

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

-- Writes the token cache file the CLI would write for key (a session name or start URL).
local function write_token(key, token, expires_at)
  files.mkdir(dir .. "/.aws/sso/cache")
  files.write(dir .. "/.aws/sso/cache/" .. sha1_hex(key) .. ".json", json.encode{ startUrl = START_URL,
    region = "eu-west-1", accessToken = token, expiresAt = expires_at })
end

local function cache_path(key) return dir .. "/.aws/sso/cache/" .. sha1_hex(key) .. ".json" end

-- Writes the cache file the CLI writes for an sso-session login: the token, the client
-- registration and the refresh token. extra: fields to add or (false) remove.
local function write_refreshable(key, token, expires_at, extra)
  local doc = { startUrl = START_URL, region = "eu-west-1", accessToken = token, expiresAt = expires_at,
    clientId = CLIENT_ID, clientSecret = CLIENT_SECRET, registrationExpiresAt = iso(os.time() + 90 * 86400),
    refreshToken = REFRESH }
  for k, v in pairs(extra or {}) do
    if v == false then doc[k] = nil else doc[k] = v end
  end
  files.mkdir(dir .. "/.aws/sso/cache")
  return files.write(cache_path(key), json.encode(doc), "600"), doc
end

-- Python's output for prog, run with sys.argv[1] = arg (trailing whitespace dropped), and its
-- exit status: permission bits, directory listings and dates as Python sees them.
local function py(prog, arg)
  local out, code = proc.output(proc.PYTHON .. " -c " .. proc.quote(prog) .. " " .. proc.quote(arg) .. " 2>&1")
  return (out:gsub("%s+$", "")), code
end
local function mode_of(path)
  return (py("import os,sys;print('%o' % (os.stat(sys.argv[1]).st_mode & 0o7777))", path))
end
-- Epoch seconds of an expiresAt in the AWS CLI v2's format ("2026-01-01T00:00:00Z"), read
-- by Python's strptime (anything else fails the spec).
local function epoch_of(s)
  local out, code = py("import datetime,sys;print(int(datetime.datetime.strptime(sys.argv[1], '%Y-%m-%dT%H:%M:%SZ')"
    .. ".replace(tzinfo=datetime.timezone.utc).timestamp()))", s)
  assert(code == 0, "not the CLI's expiresAt format: " .. s)
  return tonumber(out)
end
local function listing(path)
  return (py("import os,sys;print(' '.join(sorted(os.listdir(sys.argv[1]))))", path))
end

local function env(extra)
  local fake = "http://127.0.0.1:" .. port
  return S.env(dir, { AWS_ENDPOINT_URL_SSO = fake, AWS_ENDPOINT_URL_SSO_OIDC = fake }, extra)
end

local function failure(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok)
  texts[#texts + 1] = S.error_text(e)
  return e
end

setup(function()
  fakedir = files.tmpdir()
  port = loopback.start_python(FAKE, fakedir, "sso")
  srv = S.start_emulator()
end)
teardown(function()
  S.stop_fakes()
  srv:stop()
  files.rmdir(fakedir)
end)
before_each(function()
  dir = files.tmpdir()
  files.write(dir .. "/config", CONFIG)
  files.write(dir .. "/credentials", "", "600")
  configure{}
end)
after_each(function()
  credentials.set_clock(nil)
  files.rmdir(dir)
end)

describe("SSO credentials", function()
  it("uses an sso-session profile: token keyed by the session name, unsigned GET with the bearer token", function()
    write_token("corp", TOKEN, iso(os.time() + 8 * 3600))
    local n0 = fetches()
    local e = env()
    local c = credentials.resolve{ profile = "sso-new", env = e }
    local st = state()
    assert.equal(n0 + 1, fetches(st))
    local issued = st.issued[#st.issued]
    assert.equal("sso", c.source)
    assert.equal(issued.accessKeyId, c.access_key_id)
    assert.equal(issued.secretAccessKey, c.secret_access_key)
    assert.equal(issued.sessionToken, c.session_token)
    assert.equal(issued.expiration // 1000, c.expiration)
    assert.same({ role_name = ROLE, account_id = ACCOUNT }, st.last.query)
    assert.equal(TOKEN, st.last.headers["x-amz-sso_bearer_token"])
    assert.is_nil(st.last.headers["authorization"])
    -- as a user gets it: a client's credential source
    local cl = aws.client("sts", { profile = "sso-new", env = e, region = "us-east-1", endpoint = srv:url() })
    assert.equal("sso", cl:config().credential_source)
    assert.equal(c.access_key_id, cl:config().access_key_id)
    assert.equal(n0 + 1, fetches()) -- cached: one fetch for both
  end)

  it("uses a legacy profile: sso_start_url and sso_region in the profile, token keyed by the start URL", function()
    write_token(START_URL, TOKEN, iso(os.time() + 8 * 3600))
    local cl = aws.client("sts", { profile = "sso-legacy", env = env(), region = "us-east-1", endpoint = srv:url() })
    assert.equal("sso", cl:config().credential_source)
    local st = state()
    assert.equal(st.issued[#st.issued].accessKeyId, cl:config().access_key_id)
  end)

  it("signs calls with the role credentials (the emulator accepts them)", function()
    local admin = aws.client("sts", { region = "us-east-1", endpoint = srv:url(), credentials = S.ADMIN })
    local st = admin:get_session_token{}.Credentials
    configure{ creds = { accessKeyId = st.AccessKeyId, secretAccessKey = st.SecretAccessKey,
      sessionToken = st.SessionToken } }
    write_token("corp", TOKEN, iso(os.time() + 8 * 3600))
    local cl = aws.client("sts", { profile = "sso-new", env = env(), region = "us-east-1", endpoint = srv:url() })
    assert.equal(ACCOUNT, cl:get_caller_identity{}.Account)
  end)

  it("comes before keys in the credentials file (botocore's order)", function()
    files.write(dir .. "/credentials", "[sso-new]\naws_access_key_id = AKIASTATICNOTUSED01\n"
      .. "aws_secret_access_key = staticSecretNotUsed000000000\n", "600")
    write_token("corp", TOKEN, iso(os.time() + 8 * 3600))
    local c = credentials.resolve{ profile = "sso-new", env = env() }
    assert.equal("sso", c.source)
  end)

  it("fetches again with the cached token when the credentials near their expiry", function()
    write_token("corp", TOKEN, iso(os.time() + 8 * 3600))
    local base = os.time()
    credentials.set_clock(function() return base end)
    local e = env()
    local n0 = fetches()
    local c1 = credentials.resolve{ profile = "sso-new", env = e }
    credentials.set_clock(function() return base + 3100 end)
    local c2 = credentials.resolve{ profile = "sso-new", env = e }
    assert.equal(n0 + 2, fetches())
    assert.not_equal(c1.access_key_id, c2.access_key_id)
  end)

  it("refuses an expired token it cannot refresh without calling the portal, and says to log in", function()
    write_token("corp", TOKEN, iso(os.time() - 60)) -- no registration or refresh token in the file
    local n0, r0 = fetches(), refreshes()
    local e = failure(credentials.resolve, { profile = "sso-new", env = env() })
    assert.equal("credentials", e.kind)
    assert.equal("SSOError", e.code)
    assert.matches("expired", e.message)
    assert.matches("cannot be refreshed", e.message)
    assert.matches("refreshToken, clientId, clientSecret, registrationExpiresAt", e.message)
    assert.matches("aws sso login %-%-profile sso%-new", e.message)
    assert.equal(n0, fetches())
    assert.equal(r0, refreshes())
  end)

  it("says to log in when there is no cached token", function()
    local e = failure(credentials.resolve, { profile = "sso-legacy", env = env() })
    assert.equal("credentials", e.kind)
    assert.matches("no cached token", e.message)
    assert.matches("aws sso login %-%-profile sso%-legacy", e.message)
    -- a client surfaces the same error on its first call
    local cl = aws.client("sts", { profile = "sso-legacy", env = env(), region = "us-east-1", endpoint = srv:url() })
    e = failure(cl.get_caller_identity, cl, {})
    assert.equal("credentials", e.kind)
    assert.matches("aws sso login", e.message)
  end)

  it("turns a 401 (revoked token) into an error naming profile, account and role", function()
    write_token("corp", OTHER_TOKEN, iso(os.time() + 8 * 3600))
    local e = failure(credentials.resolve, { profile = "sso-new", env = env() })
    assert.equal("credentials", e.kind)
    assert.equal(401, e.status)
    assert.equal("UnauthorizedException", e.fields.sso_code)
    assert.matches("sso%-new", e.message)
    assert.matches(ACCOUNT, e.message)
    assert.matches(ROLE, e.message)
    assert.matches("aws sso login %-%-profile sso%-new", e.message)
  end)

  it("turns a 403 (no access to the role) into an error naming profile, account and role", function()
    write_token("corp", TOKEN, iso(os.time() + 8 * 3600))
    local e = failure(credentials.resolve, { profile = "sso-forbidden", env = env() })
    assert.equal("credentials", e.kind)
    assert.equal(403, e.status)
    assert.equal("ForbiddenException", e.fields.sso_code)
    assert.matches("sso%-forbidden", e.message)
    assert.matches("999999999999", e.message)
    assert.matches(ROLE, e.message)
  end)

  it("reports incomplete or dangling SSO settings as InvalidConfig before any request", function()
    write_token("corp", TOKEN, iso(os.time() + 8 * 3600))
    local n0 = fetches()
    local e = failure(credentials.resolve, { profile = "sso-norole", env = env() })
    assert.equal("InvalidConfig", e.code)
    assert.matches("sso_role_name", e.message)
    e = failure(credentials.resolve, { profile = "sso-nosession", env = env() })
    assert.equal("InvalidConfig", e.code)
    assert.matches("sso%-session missing", e.message)
    assert.equal(n0, fetches())
  end)

  it("uses the portal botocore resolves for sso_region, unless an endpoint is configured", function()
    if not proc.python_has("botocore.session") then return pending("needs python3-botocore") end
    local sso = require("aws.credentials.sso")
    local function none() return nil end
    for _, region in ipairs({ "eu-west-1", "cn-north-1", "us-gov-west-1" }) do
      local prog = "import botocore.session,sys;print(botocore.session.get_session().create_client('sso', "
        .. "region_name=sys.argv[1], aws_access_key_id='a', aws_secret_access_key='b').meta.endpoint_url)"
      local want = proc.output(proc.PYTHON .. " -c " .. proc.quote(prog) .. " " .. region):gsub("%s+$", "")
      assert.equal(want, sso.endpoint(none, {}, {}, region))
    end
    local e = { AWS_ENDPOINT_URL = "http://127.0.0.1:1", AWS_ENDPOINT_URL_SSO = "http://127.0.0.1:2/" }
    local function getenv(k) return e[k] end
    assert.equal("http://127.0.0.1:2", sso.endpoint(getenv, {}, {}, "eu-west-1"))
    e.AWS_ENDPOINT_URL_SSO = nil
    assert.equal("http://127.0.0.1:1", sso.endpoint(getenv, {}, {}, "eu-west-1"))
    e.AWS_ENDPOINT_URL = nil
    local p = { services = "local", endpoint_url = "http://127.0.0.1:4" }
    local services = { ["local"] = { sso = { endpoint_url = "http://127.0.0.1:3" } } }
    assert.equal("http://127.0.0.1:3", sso.endpoint(getenv, p, services, "eu-west-1"))
    assert.equal("http://127.0.0.1:4", sso.endpoint(getenv, p, {}, "eu-west-1"))
    e.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true"
    assert.equal("https://portal.sso.eu-west-1.amazonaws.com", sso.endpoint(getenv, p, {}, "eu-west-1"))
  end)

  it("uses the SSO OIDC endpoint botocore resolves for sso_region, unless one is configured", function()
    if not proc.python_has("botocore.session") then return pending("needs python3-botocore") end
    local sso = require("aws.credentials.sso")
    local function none() return nil end
    for _, region in ipairs({ "eu-west-1", "cn-north-1", "us-gov-west-1" }) do
      local prog = "import botocore.session,botocore,sys;print(botocore.session.get_session().create_client("
        .. "'sso-oidc', region_name=sys.argv[1], config=botocore.config.Config(signature_version=botocore.UNSIGNED))"
        .. ".meta.endpoint_url)"
      local want = proc.output(proc.PYTHON .. " -c " .. proc.quote("import botocore.config;" .. prog) .. " "
        .. region):gsub("%s+$", "")
      assert.equal(want, sso.endpoint(none, {}, {}, region, sso.OIDC))
    end
    local e = { AWS_ENDPOINT_URL = "http://127.0.0.1:1", AWS_ENDPOINT_URL_SSO = "http://127.0.0.1:5",
      AWS_ENDPOINT_URL_SSO_OIDC = "http://127.0.0.1:2/" }
    local function getenv(k) return e[k] end
    assert.equal("http://127.0.0.1:2", sso.endpoint(getenv, {}, {}, "eu-west-1", sso.OIDC))
    e.AWS_ENDPOINT_URL_SSO_OIDC = nil
    assert.equal("http://127.0.0.1:1", sso.endpoint(getenv, {}, {}, "eu-west-1", sso.OIDC))
    e.AWS_ENDPOINT_URL = nil
    local p = { services = "local", endpoint_url = "http://127.0.0.1:4" }
    local services = { ["local"] = { sso = { endpoint_url = "http://127.0.0.1:6" },
      sso_oidc = { endpoint_url = "http://127.0.0.1:3" } } }
    assert.equal("http://127.0.0.1:3", sso.endpoint(getenv, p, services, "eu-west-1", sso.OIDC))
    assert.equal("http://127.0.0.1:4", sso.endpoint(getenv, p, {}, "eu-west-1", sso.OIDC))
    e.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true"
    assert.equal("https://oidc.eu-west-1.amazonaws.com", sso.endpoint(getenv, p, services, "eu-west-1", sso.OIDC))
    e.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = nil
    e.AWS_ENDPOINT_URL_SSO_OIDC = "ftp://127.0.0.1"
    local err = failure(sso.endpoint, getenv, p, services, "eu-west-1", sso.OIDC)
    assert.equal("InvalidConfig", err.code)
    assert.matches("AWS_ENDPOINT_URL_SSO_OIDC", err.message)
  end)

  -- ------------------------------------------------------------------ token refresh

  -- The refresh must have happened as the service documents it: one CreateToken with the
  -- refresh grant and the cached registration, unsigned; returns the token it issued.
  local function assert_refreshed(st, r0, refresh_token)
    assert.equal(r0 + 1, refreshes(st))
    local req = st.token_requests[#st.token_requests]
    assert.same({ grantType = "refresh_token", clientId = CLIENT_ID, clientSecret = CLIENT_SECRET,
      refreshToken = refresh_token or REFRESH }, req.body)
    assert.is_nil(req.headers["authorization"])
    return st.tokens_issued[#st.tokens_issued]
  end

  it("refreshes a token that expires within the refresh window and rewrites the cache file", function()
    local sso = require("aws.credentials.sso")
    assert.equal(900, sso.REFRESH_WINDOW_S) -- botocore's SSOTokenProvider._REFRESH_WINDOW
    local path, old = write_refreshable("corp", TOKEN, iso(os.time() + 300), { someCliField = "dropped" })
    configure{ token_expires_in = 7200 }
    local r0, n0 = refreshes(), fetches()
    local t0 = os.time()
    local c = credentials.resolve{ profile = "sso-new", env = env() }
    local t1 = os.time()
    local st = state()
    local issued = assert_refreshed(st, r0)
    assert.not_equal(TOKEN, issued.accessToken)
    assert.equal(n0 + 1, fetches(st))
    assert.equal(issued.accessToken, st.last.headers["x-amz-sso_bearer_token"])
    assert.equal("sso", c.source)
    assert.equal(st.issued[#st.issued].accessKeyId, c.access_key_id)
    -- the file as botocore writes it after a refresh (its field set), with the rotated token
    local doc = json.decode(assert(files.read(path)))
    local keys = {}
    for k in pairs(doc) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.same({ "accessToken", "clientId", "clientSecret", "expiresAt", "refreshToken", "region",
      "registrationExpiresAt", "startUrl" }, keys)
    assert.equal(START_URL, doc.startUrl)
    assert.equal("eu-west-1", doc.region)
    assert.equal(issued.accessToken, doc.accessToken)
    assert.equal(CLIENT_ID, doc.clientId)
    assert.equal(CLIENT_SECRET, doc.clientSecret)
    assert.equal(old.registrationExpiresAt, doc.registrationExpiresAt)
    assert.equal(issued.refreshToken, doc.refreshToken)
    assert.equal(st.refresh_token, doc.refreshToken)
    local at = epoch_of(doc.expiresAt) -- the CLI's format, or Python refuses it
    assert.is_true(at >= t0 + 7200 - 1 and at <= t1 + 7200 + 1, doc.expiresAt)
    assert.equal("600", mode_of(path))
    assert.equal(sha1_hex("corp") .. ".json", listing(dir .. "/.aws/sso/cache")) -- no temporary file left
  end)

  it("refreshes a token that has already expired while the registration is valid", function()
    write_refreshable("corp", TOKEN, iso(os.time() - 60))
    configure{ revoke_on_refresh = true }
    local r0 = refreshes()
    local c = credentials.resolve{ profile = "sso-new", env = env() }
    local st = state()
    local issued = assert_refreshed(st, r0)
    assert.same({ issued.accessToken }, st.tokens) -- the old token is revoked
    assert.equal(issued.accessToken, st.last.headers["x-amz-sso_bearer_token"])
    assert.equal(st.issued[#st.issued].accessKeyId, c.access_key_id)
    -- the next resolution uses the token in the file without refreshing again
    credentials.resolve{ profile = "sso-new", env = env() }
    st = state()
    assert.equal(r0 + 1, refreshes(st))
    assert.equal(issued.accessToken, st.last.headers["x-amz-sso_bearer_token"])
  end)

  it("never refreshes a legacy profile (no sso_session), as botocore", function()
    local path = write_refreshable(START_URL, TOKEN, iso(os.time() + 300))
    local before = files.read(path)
    local r0 = refreshes()
    local c = credentials.resolve{ profile = "sso-legacy", env = env() }
    assert.equal("sso", c.source)
    assert.equal(TOKEN, state().last.headers["x-amz-sso_bearer_token"])
    assert.equal(before, files.read(path))
    write_refreshable(START_URL, TOKEN, iso(os.time() - 60))
    local e = failure(credentials.resolve, { profile = "sso-legacy", env = env() })
    assert.equal("SSOError", e.code)
    assert.matches("expired", e.message)
    assert.matches("aws sso login %-%-profile sso%-legacy", e.message)
    assert.equal(r0, refreshes())
  end)

  it("does not call CreateToken when the client registration has expired", function()
    local reg = iso(os.time() - 3600)
    write_refreshable("corp", TOKEN, iso(os.time() - 60), { registrationExpiresAt = reg })
    local r0 = refreshes()
    local e = failure(credentials.resolve, { profile = "sso-new", env = env() })
    assert.equal("SSOError", e.code)
    assert.matches("expired", e.message)
    assert.matches("registration expired at " .. reg, e.message, 1, true)
    assert.matches("aws sso login %-%-profile sso%-new", e.message)
    assert.equal(r0, refreshes())
    -- a token still valid is used as it is
    write_refreshable("corp", TOKEN, iso(os.time() + 300), { registrationExpiresAt = reg })
    assert.equal("sso", credentials.resolve{ profile = "sso-new", env = env() }.source)
    assert.equal(TOKEN, state().last.headers["x-amz-sso_bearer_token"])
    assert.equal(r0, refreshes())
  end)

  it("keeps using a still valid token when the refresh fails, and leaves the file alone", function()
    local cases = {
      { name = "InvalidGrantException", cfg = { token_status = 400 }, calls = 1 },
      { name = "InternalServerException", cfg = { token_status = 500 }, calls = 1 },
      { name = "no accessToken in the answer", cfg = { token_answer = { tokenType = "Bearer", expiresIn = 3600 } },
        calls = 1 },
      { name = "no expiresIn in the answer", cfg = { token_answer = { accessToken = "fakeOidcAccessNoExpiry0001" } },
        calls = 1 },
      { name = "transport error", cfg = {}, env = { AWS_ENDPOINT_URL_SSO_OIDC = "http://127.0.0.1:1" }, calls = 0 },
    }
    for _, case in ipairs(cases) do
      configure(case.cfg)
      local path = write_refreshable("corp", TOKEN, iso(os.time() + 300))
      local before = files.read(path)
      local r0 = refreshes()
      local c = credentials.resolve{ profile = "sso-new", env = env(case.env) }
      local st = state()
      assert.equal("sso", c.source, case.name)
      assert.equal(r0 + case.calls, refreshes(st), case.name)
      assert.equal(TOKEN, st.last.headers["x-amz-sso_bearer_token"], case.name)
      assert.equal(before, files.read(path), case.name)
    end
  end)

  it("fails naming the refusal when an expired token cannot be refreshed", function()
    configure{ token_status = 400 }
    write_refreshable("corp", TOKEN, iso(os.time() - 60))
    local n0 = fetches()
    local e = failure(credentials.resolve, { profile = "sso-new", env = env() })
    assert.equal("credentials", e.kind)
    assert.equal("SSOError", e.code)
    assert.equal("InvalidGrantException", e.fields.oidc_code)
    assert.matches("expired", e.message)
    assert.matches("refreshing it failed", e.message)
    assert.matches("InvalidGrantException", e.message)
    assert.matches("aws sso login %-%-profile sso%-new", e.message)
    assert.equal(n0, fetches())
    -- and an unreachable OIDC endpoint
    configure{}
    local unreachable = env{ AWS_ENDPOINT_URL_SSO_OIDC = "http://127.0.0.1:1" }
    e = failure(credentials.resolve, { profile = "sso-new", env = unreachable })
    assert.equal("SSOError", e.code)
    assert.matches("refreshing it failed", e.message)
    assert.matches("127%.0%.0%.1:1", e.message)
    assert.matches("aws sso login %-%-profile sso%-new", e.message)
  end)

  it("takes the token another process refreshed meanwhile when its own refresh is refused", function()
    -- the fake rewrites the cache file as a concurrent refresh would, then refuses this one
    -- (InvalidGrantException: the refresh token was spent by the other process)
    local path = write_refreshable("corp", TOKEN, iso(os.time() - 60))
    local OTHER = "fakeOidcAccessFromAnotherProcess0001"
    local other_doc = { startUrl = START_URL, region = "eu-west-1", accessToken = OTHER,
      expiresAt = iso(os.time() + 3600), clientId = CLIENT_ID, clientSecret = CLIENT_SECRET,
      registrationExpiresAt = iso(os.time() + 86400), refreshToken = "fakeOidcRefreshRotatedElsewhere" }
    configure{ token_status = 400, tokens = { OTHER },
      race_write = { path = path, content = json.encode(other_doc) } }
    local r0 = refreshes()
    local c = credentials.resolve{ profile = "sso-new", env = env() }
    assert.equal("sso", c.source)
    local st = state()
    assert.equal(r0 + 1, refreshes(st))
    assert.equal(OTHER, st.last.headers["x-amz-sso_bearer_token"])
    assert.equal(json.encode(other_doc), files.read(path)) -- the other process's file, untouched
    -- without such a rewrite the same refusal is an error (the token has expired)
    configure{ token_status = 400 }
    write_refreshable("corp", TOKEN, iso(os.time() - 60))
    local e = failure(credentials.resolve, { profile = "sso-new", env = env() })
    assert.matches("refreshing it failed", e.message)
  end)

  it("keeps the old refresh token when CreateToken does not rotate it", function()
    configure{ rotate_refresh = false }
    local path = write_refreshable("corp", TOKEN, iso(os.time() + 300))
    local r0 = refreshes()
    credentials.resolve{ profile = "sso-new", env = env() }
    local issued = assert_refreshed(state(), r0)
    assert.is_nil(issued.refreshToken)
    local doc = json.decode(assert(files.read(path)))
    assert.equal(issued.accessToken, doc.accessToken)
    assert.equal(REFRESH, doc.refreshToken)
    -- which still refreshes the next time
    local base = os.time()
    credentials.set_clock(function() return base + 3600 - 60 end)
    credentials.resolve{ profile = "sso-new", env = env() }
    assert_refreshed(state(), r0 + 1)
  end)

  it("uses the refreshed token when the cache file cannot be written, and leaves the file whole", function()
    -- A process that may not write files (ulimit -f 0, SIGXFSZ ignored): the write fails in
    -- the middle. botocore rewrites the file in place and would leave it empty.
    local path = write_refreshable("corp", TOKEN, iso(os.time() + 300))
    local before = files.read(path)
    local e1, e2 = env(), env()
    local script = dir .. "/twice.lua"
    files.write(script, "local json = require('aws.json')\n"
      .. "local credentials = require('aws.credentials')\n"
      .. "print(credentials.resolve{ profile = 'sso-new', env = json.decode(" .. string.format("%q", json.encode(e1))
      .. ") }.source)\n"
      .. "-- a second chain reads the cache file again\n"
      .. "print(credentials.resolve{ profile = 'sso-new', env = json.decode(" .. string.format("%q", json.encode(e2))
      .. ") }.source)\n")
    local r0, n0 = refreshes(), fetches()
    local out, code = proc.output("trap '' XFSZ; ulimit -f 0; " .. proc.quote(proc.detlua()) .. " run "
      .. proc.quote(script) .. " 2>&1")
    texts[#texts + 1] = out
    assert.equal(0, code, out)
    assert.equal("sso\nsso\n", out)
    local st = state()
    local issued = assert_refreshed(st, r0)
    assert.equal(n0 + 2, fetches(st)) -- both with the new token, one CreateToken
    assert.equal(issued.accessToken, st.last.headers["x-amz-sso_bearer_token"])
    assert.equal(before, files.read(path))
    assert.equal("600", mode_of(path))
    assert.equal(sha1_hex("corp") .. ".json", listing(dir .. "/.aws/sso/cache"))
  end)

  -- Debian's botocore as the oracle of the cache file: its SSOTokenProvider, with the
  -- sso-oidc client pointed at the fake (botocore 1.29 knows no AWS_ENDPOINT_URL_SSO_OIDC).
  local BOTOCORE_TOKEN = table.concat({
    "import json, sys",
    "import botocore.session, botocore.tokens",
    "from botocore.utils import JSONFileCache",
    "cache_dir, profile, endpoint = sys.argv[1:4]",
    "session = botocore.session.Session(profile=profile)",
    "create = session.create_client",
    "session.create_client = lambda *a, **k: create(*a, endpoint_url=endpoint, **k)",
    "cache = JSONFileCache(cache_dir, dumps_func=botocore.tokens._sso_json_dumps)",
    "token = botocore.tokens.SSOTokenProvider(session, cache=cache).load_token().get_frozen_token()",
    "print(json.dumps({'token': token.token, 'expiration': token.expiration.timestamp()}))",
  }, "\n")
  local function botocore_token(profile)
    local cmd = "env -i PATH=/usr/bin:/bin HOME=" .. proc.quote(dir)
      .. " AWS_CONFIG_FILE=" .. proc.quote(dir .. "/config")
      .. " AWS_SHARED_CREDENTIALS_FILE=" .. proc.quote(dir .. "/credentials")
      .. " " .. proc.PYTHON .. " -c " .. proc.quote(BOTOCORE_TOKEN) .. " " .. proc.quote(dir .. "/.aws/sso/cache") .. " " .. profile .. " "
      .. proc.quote("http://127.0.0.1:" .. port) .. " 2>&1"
    local out, code = proc.output(cmd)
    assert.equal(0, code, out)
    return assert(json.decode(out), out)
  end

  it("writes a cache file botocore reads as a valid token it does not refresh", function()
    if not proc.python_has("botocore.tokens") then return pending("needs python3-botocore") end
    local path = write_refreshable("corp", TOKEN, iso(os.time() + 300))
    local r0 = refreshes()
    credentials.resolve{ profile = "sso-new", env = env() }
    local issued = assert_refreshed(state(), r0)
    local doc = json.decode(assert(files.read(path)))
    local got = botocore_token("sso-new")
    assert.equal(issued.accessToken, got.token)
    assert.equal(r0 + 1, refreshes()) -- botocore saw no reason to refresh
    assert.equal(epoch_of(doc.expiresAt), got.expiration)
  end)

  it("reads the cache file botocore wrote after its own refresh", function()
    if not proc.python_has("botocore.tokens") then return pending("needs python3-botocore") end
    local path = write_refreshable("corp", TOKEN, iso(os.time() + 300))
    local r0 = refreshes()
    local got = botocore_token("sso-new")
    local issued = assert_refreshed(state(), r0) -- the fake's oracle holds for botocore too
    assert.equal(issued.accessToken, got.token)
    local doc = json.decode(assert(files.read(path)))
    assert.equal(issued.accessToken, doc.accessToken)
    local c = credentials.resolve{ profile = "sso-new", env = env() }
    local st = state()
    assert.equal("sso", c.source)
    assert.equal(r0 + 1, refreshes(st)) -- botocore's token is fresh: no second refresh
    assert.equal(issued.accessToken, st.last.headers["x-amz-sso_bearer_token"])
  end)

  it("redacts the bearer-token header wherever headers are logged", function()
    local shown = require("aws.redact").headers({ { "x-amz-sso_bearer_token", "a-token-value" },
      { "Accept", "application/json" } })
    assert.equals("<redacted>", shown[1][2])
    assert.equals("application/json", shown[2][2])
  end)

  it("never shows the tokens, the client secret or the role secrets, in errors or in --debug output", function()
    write_refreshable("corp", TOKEN, iso(os.time() + 300)) -- refreshed by the first run
    local admin = aws.client("sts", { region = "us-east-1", endpoint = srv:url(), credentials = S.ADMIN })
    local st = admin:get_session_token{}.Credentials
    configure{ creds = { accessKeyId = st.AccessKeyId, secretAccessKey = st.SecretAccessKey,
      sessionToken = st.SessionToken } }
    local script = dir .. "/whoami.lua"
    files.write(script, "local aws = require('aws')\n"
      .. "local sts = aws.client('sts', { endpoint = '" .. srv:url() .. "', region = 'us-east-1' })\n"
      .. "print(sts:get_caller_identity{}.Account)\n"
      .. "print(require('aws.credentials').resolve{ profile = 'sso-new' }.source)\n")
    local run_env = env{ AWS_ENDPOINT_URL = false }
    local r = proc.run{ argv = { proc.detlua(), "run", "--profile", "sso-new", "--debug", script }, env = run_env }
    assert.equal(0, r.code, r.stderr)
    assert.matches(ACCOUNT, r.stdout)
    assert.matches("sso", r.stdout)
    texts[#texts + 1] = r.stdout .. r.stderr
    -- and a failing run (the portal refuses the token)
    configure{ tokens = {} }
    r = proc.run{ argv = { proc.detlua(), "run", "--profile", "sso-new", "--debug", script }, env = run_env }
    assert.not_equal(0, r.code)
    assert.matches("aws sso login", r.stderr)
    texts[#texts + 1] = r.stdout .. r.stderr
    -- and a refresh the OIDC service refuses, with an expired token
    configure{ token_status = 400 }
    write_refreshable("corp", TOKEN, iso(os.time() - 60))
    r = proc.run{ argv = { proc.detlua(), "run", "--profile", "sso-new", "--debug", script }, env = run_env }
    assert.not_equal(0, r.code)
    assert.matches("InvalidGrantException", r.stderr)
    assert.matches("aws sso login", r.stderr)
    texts[#texts + 1] = r.stdout .. r.stderr
    local all = table.concat(texts, "\n")
    local portal = state()
    assert.is_true(#portal.tokens_issued > 0)
    local sc = { accounts = { { secret_access_key = TOKEN }, { secret_access_key = OTHER_TOKEN },
      { secret_access_key = REFRESH }, { secret_access_key = CLIENT_SECRET },
      { secret_access_key = st.SecretAccessKey }, { secret_access_key = st.SessionToken } } }
    for _, rc in ipairs(portal.issued) do
      sc.accounts[#sc.accounts + 1] = { secret_access_key = rc.secretAccessKey }
      sc.accounts[#sc.accounts + 1] = { secret_access_key = rc.sessionToken }
    end
    for _, t in ipairs(portal.tokens_issued) do
      sc.accounts[#sc.accounts + 1] = { secret_access_key = t.accessToken }
      if t.refreshToken then sc.accounts[#sc.accounts + 1] = { secret_access_key = t.refreshToken } end
    end
    secrets.assert_no_secrets(all, sc, "SSO error texts and --debug output")
  end)
end)
