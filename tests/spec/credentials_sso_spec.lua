-- IAM Identity Center (SSO) credentials in the default chain, against the loopback fake
-- portal tests/helpers/fake_sso_portal.py (it checks the bearer token, role and account and
-- records what it got: the oracle for what detlua sent) and a token cache in a temporary
-- HOME, named as the AWS CLI names it (SHA-1 computed here by Debian's Python, not by
-- detlua). End to end, the portal hands out an emulator STS session, and a call signed
-- with it must be accepted by the emulator.
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
    creds = json.null }
  for k, v in pairs(cfg or {}) do all[k] = v end
  call("POST", "/_control/config", all)
end

local function state() return call("GET", "/_control/state") end
local function fetches(st) return (st or state()).counts["/federation/credentials"] or 0 end

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

local function env(extra)
  return S.env(dir, { AWS_ENDPOINT_URL_SSO = "http://127.0.0.1:" .. port }, extra)
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

  it("refuses an expired token without calling the portal, and says to log in", function()
    write_token("corp", TOKEN, iso(os.time() - 60))
    local n0 = fetches()
    local e = failure(credentials.resolve, { profile = "sso-new", env = env() })
    assert.equal("credentials", e.kind)
    assert.matches("expired", e.message)
    assert.matches("aws sso login %-%-profile sso%-new", e.message)
    assert.equal(n0, fetches())
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

  it("redacts the bearer-token header wherever headers are logged", function()
    local shown = require("aws.redact").headers({ { "x-amz-sso_bearer_token", "a-token-value" },
      { "Accept", "application/json" } })
    assert.equals("<redacted>", shown[1][2])
    assert.equals("application/json", shown[2][2])
  end)

  it("never shows the token or the role secrets, in errors or in --debug output", function()
    write_token("corp", TOKEN, iso(os.time() + 8 * 3600))
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
    local all = table.concat(texts, "\n")
    local portal = state()
    local sc = { accounts = { { secret_access_key = TOKEN }, { secret_access_key = OTHER_TOKEN },
      { secret_access_key = st.SecretAccessKey }, { secret_access_key = st.SessionToken } } }
    for _, rc in ipairs(portal.issued) do
      sc.accounts[#sc.accounts + 1] = { secret_access_key = rc.secretAccessKey }
      sc.accounts[#sc.accounts + 1] = { secret_access_key = rc.sessionToken }
    end
    secrets.assert_no_secrets(all, sc, "SSO error texts and --debug output")
  end)
end)
