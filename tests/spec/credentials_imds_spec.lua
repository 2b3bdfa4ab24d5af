-- Instance metadata (IMDSv2 with v1 fallback) and container credentials against the
-- loopback fake tests/helpers/fake_imds.py, which counts and records every request: it is
-- the oracle for what detlua sent. The real metadata address is never used: every env
-- table either disables IMDS or points AWS_EC2_METADATA_SERVICE_ENDPOINT at the fake.
local aws = require("aws")
local credentials = require("aws.credentials")
local container = require("aws.credentials.container")
local S = require("credentials_support")
local files = require("files")

if not S.have_python then
  describe("instance and container credentials", function() pending("needs /usr/bin/python3") end)
  return
end

local fakedir, port, dir
local TOKEN_PATH = "PUT /latest/api/token"
local ROLE_LIST = "GET /latest/meta-data/iam/security-credentials/"
local ROLE_CREDS = ROLE_LIST .. "detlua-test-role"

setup(function()
  fakedir = files.tmpdir()
  port = S.start_fake_imds(fakedir)
end)
teardown(function()
  S.stop_fakes()
  files.rmdir(fakedir)
end)
before_each(function()
  dir = files.tmpdir()
  files.write(dir .. "/config", "")
  files.write(dir .. "/credentials", "")
end)
after_each(function()
  credentials.set_clock(nil)
  credentials.set_sleep(nil)
  files.rmdir(dir)
end)

local function count(state, key)
  return state.counts[key] or 0
end

-- IMDS env: the fake's address, explicitly enabled (the test suite's environment disables it)
local function imds_env(extra)
  return S.env(dir, { AWS_EC2_METADATA_DISABLED = "false",
    AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:" .. port .. "/" }, extra)
end

local function delta(before, after, key)
  return count(after, key) - count(before, key)
end

describe("instance metadata (IMDS)", function()
  it("uses IMDSv2: a token PUT with a TTL, then the role and its credentials with the token", function()
    S.configure_fake(port, {})
    local before = S.fake_state(port)
    local c = credentials.resolve{ env = imds_env() }
    local after = S.fake_state(port)
    assert.equal("iam-role", c.source)
    assert.matches("^ASIAFAKEIMDS", c.access_key_id)
    assert.is_string(c.session_token)
    assert.equal(1, delta(before, after, TOKEN_PATH))
    assert.equal(1, delta(before, after, ROLE_LIST))
    assert.equal(1, delta(before, after, ROLE_CREDS))
    assert.equal("21600", after.headers[TOKEN_PATH]["x-aws-ec2-metadata-token-ttl-seconds"])
    local tok = after.headers[ROLE_LIST]["x-aws-ec2-metadata-token"]
    assert.matches("^imdsToken", tok)
    assert.equal(tok, after.headers[ROLE_CREDS]["x-aws-ec2-metadata-token"])
  end)

  it("caches the credentials and refreshes them before they expire", function()
    S.configure_fake(port, { expires_in = 3600 })
    local e = imds_env()
    local base = os.time()
    credentials.set_clock(function() return base end)
    local before = S.fake_state(port)
    local c1 = credentials.resolve{ env = e }
    local cl = aws.client("sts", { region = "us-east-1", endpoint = "http://127.0.0.1:9", env = e })
    assert.equal(c1.access_key_id, cl:config().access_key_id)
    assert.equal(1, delta(before, S.fake_state(port), ROLE_CREDS))
    credentials.set_clock(function() return base + 3100 end)
    local c2 = credentials.resolve{ env = e }
    assert.not_equal(c1.access_key_id, c2.access_key_id)
    assert.equal(2, delta(before, S.fake_state(port), ROLE_CREDS))
  end)

  for _, status in ipairs({ "403", "404", "405" }) do
    it("falls back to IMDSv1 when the token request answers " .. status, function()
      S.configure_fake(port, { token = status })
      local before = S.fake_state(port)
      local c = credentials.resolve{ env = imds_env() }
      local after = S.fake_state(port)
      assert.matches("^ASIAFAKEIMDS", c.access_key_id)
      assert.equal(1, delta(before, after, ROLE_CREDS))
      assert.is_nil(after.headers[ROLE_CREDS]["x-aws-ec2-metadata-token"])
    end)
  end

  it("does not fall back to IMDSv1 when it is disabled, nor after a 400", function()
    S.configure_fake(port, { token = "404" })
    local before = S.fake_state(port)
    local ok, e = pcall(credentials.resolve, { env = imds_env{ AWS_EC2_METADATA_V1_DISABLED = "true" } })
    assert.is_false(ok)
    assert.equal("NoCredentials", e.code)
    assert.matches("IMDSv1 is disabled", e.message)
    S.configure_fake(port, { token = "400" })
    ok, e = pcall(credentials.resolve, { env = imds_env() })
    assert.is_false(ok)
    assert.equal("NoCredentials", e.code)
    assert.matches("HTTP 400", e.message)
    assert.equal(0, delta(before, S.fake_state(port), ROLE_LIST))
  end)

  it("finds nothing when the instance has no role, and says where it looked", function()
    S.configure_fake(port, { role = "" })
    local ok, e = pcall(credentials.resolve, { env = imds_env() })
    assert.is_false(ok)
    assert.equal("NoCredentials", e.code)
    assert.matches("no instance role", e.message)
    assert.matches("127%.0%.0%.1:" .. port, e.message)
    assert.matches("AWS_ACCESS_KEY_ID", e.message)
  end)

  it("keeps using credentials the service hands out already expired, for a few minutes", function()
    S.configure_fake(port, { expires_in = -60 })
    local warned
    local saved = credentials.warn
    credentials.warn = function(m) warned = m end
    local ok, c = pcall(credentials.resolve, { env = imds_env() })
    credentials.warn = saved
    assert.is_true(ok, tostring(c))
    assert.is_true(c.expiration >= os.time() + 290 and c.expiration <= os.time() + 610)
    assert.matches("expired credentials", warned)
  end)

  it("honours AWS_EC2_METADATA_DISABLED, also from the process environment", function()
    S.configure_fake(port, {})
    local before = S.fake_state(port)
    local ok, e = pcall(credentials.resolve, { env = imds_env{ AWS_EC2_METADATA_DISABLED = "true" } })
    assert.is_false(ok)
    assert.matches("disabled by AWS_EC2_METADATA_DISABLED", e.message)
    if os.getenv("AWS_EC2_METADATA_DISABLED") == "true" then
      -- the env table does not say: the process-wide setting applies
      ok, e = pcall(credentials.resolve, { env = imds_env{ AWS_EC2_METADATA_DISABLED = false } })
      assert.is_false(ok)
      assert.matches("disabled by AWS_EC2_METADATA_DISABLED", e.message)
    end
    assert.equal(0, delta(before, S.fake_state(port), TOKEN_PATH))
  end)

  it("rejects a malformed endpoint setting", function()
    local ok, e = pcall(credentials.resolve, { env = imds_env{ AWS_EC2_METADATA_SERVICE_ENDPOINT = "169.254.169.254" } })
    assert.is_false(ok)
    assert.equal("InvalidConfig", e.code)
  end)

  it("serves credential_source = Ec2InstanceMetadata (the STS call then fails at the fake keys)", function()
    S.configure_fake(port, {})
    local srv = S.start_emulator()
    files.write(dir .. "/config", "[profile ec2]\nrole_arn = " .. S.HOP1 .. "\ncredential_source = Ec2InstanceMetadata\n")
    local before = S.fake_state(port)
    local ok, e = pcall(credentials.resolve, { profile = "ec2",
      env = imds_env{ AWS_ENDPOINT_URL = srv:url(), AWS_REGION = "us-east-1" } })
    srv:stop()
    assert.is_false(ok)
    assert.equal("AssumeRoleFailed", e.code)
    assert.equal(1, delta(before, S.fake_state(port), ROLE_CREDS))
    assert.is_nil(S.error_text(e):find("fakeSecret", 1, true))
  end)
end)

describe("container credentials", function()
  local function cenv(extra)
    return S.env(dir, { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/container/v2/credentials/task-1",
      DETLUA_CONTAINER_CREDENTIALS_HOST = "127.0.0.1:" .. port }, extra)
  end

  it("GETs the relative URI and sends the authorization token", function()
    S.configure_fake(port, { authorization = "Bearer t0ken-from-env" })
    local c = credentials.resolve{ env = cenv{ AWS_CONTAINER_AUTHORIZATION_TOKEN = "Bearer t0ken-from-env" } }
    assert.equal("container-role", c.source)
    assert.matches("^ASIAFAKEIMDS", c.access_key_id)
    local st = S.fake_state(port)
    local h = st.headers["GET /container/v2/credentials/task-1"]
    assert.equal("application/json", h.accept)
    assert.equal("Bearer t0ken-from-env", h.authorization)
  end)

  it("prefers the token file, read on each call, and uses FULL_URI on loopback", function()
    S.configure_fake(port, { authorization = "from-file" })
    local tf = files.write(dir .. "/token", "from-file\n")
    local e = cenv{ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = false,
      AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://127.0.0.1:" .. port .. "/container/full",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = tf, AWS_CONTAINER_AUTHORIZATION_TOKEN = "from-env" }
    local c = credentials.resolve{ env = e }
    assert.equal("container-role", c.source)
    assert.equal("from-file", S.fake_state(port).headers["GET /container/full"].authorization)
  end)

  it("retries three times, then fails with the status and without secrets", function()
    S.configure_fake(port, { authorization = "right" })
    local slept = {}
    credentials.set_sleep(function(s) slept[#slept + 1] = s end)
    local before = S.fake_state(port)
    local ok, e = pcall(credentials.resolve, { env = cenv{ AWS_CONTAINER_AUTHORIZATION_TOKEN = "wrong-token-value" } })
    assert.is_false(ok)
    assert.equal("ContainerCredentialsError", e.code)
    assert.matches("HTTP 401", e.message)
    assert.equal(3, delta(before, S.fake_state(port), "GET /container/v2/credentials/task-1"))
    assert.same({ 1, 1 }, slept)
    assert.is_nil(S.error_text(e):find("wrong-token-value", 1, true))
  end)

  it("allows plain http only to loopback and the ECS/EKS addresses", function()
    local function url(full)
      local e = { AWS_CONTAINER_CREDENTIALS_FULL_URI = full }
      return pcall(container.url, function(k) return e[k] end)
    end
    for _, ok_url in ipairs({ "http://127.0.0.1:8080/c", "http://localhost/c", "http://[::1]:9/c",
        "http://169.254.170.2/v2", "http://169.254.170.23/v1", "http://[fd00:ec2::23]/v1", "https://creds.example.com/x" }) do
      local ok, r = url(ok_url)
      assert.is_true(ok, ok_url)
      assert.equal(ok_url, r)
    end
    for _, bad in ipairs({ "http://creds.example.com/x", "http://10.0.0.1/x", "http://127.0.0.1.evil.com/x",
        "http://user@127.0.0.1/x", "ftp://127.0.0.1/x", "127.0.0.1/x" }) do
      local ok, e = url(bad)
      assert.is_false(ok, bad)
      assert.equal("InvalidConfig", e.code)
    end
    -- our host override is for loopback only
    local ok, e = pcall(credentials.resolve, { env = cenv{ DETLUA_CONTAINER_CREDENTIALS_HOST = "10.1.2.3" } })
    assert.is_false(ok)
    assert.equal("InvalidConfig", e.code)
    assert.matches("DETLUA_CONTAINER_CREDENTIALS_HOST", e.message)
  end)

  it("refuses an authorization token with a line break", function()
    local ok, e = pcall(credentials.resolve, { env = cenv{ AWS_CONTAINER_AUTHORIZATION_TOKEN = "a\r\nX-Evil: 1" } })
    assert.is_false(ok)
    assert.equal("InvalidConfig", e.code)
  end)

  it("serves credential_source = EcsContainer", function()
    S.configure_fake(port, {})
    files.write(dir .. "/config", "[profile ecs]\nrole_arn = " .. S.HOP1 .. "\ncredential_source = EcsContainer\n")
    local srv = S.start_emulator()
    local before = S.fake_state(port)
    local ok, e = pcall(credentials.resolve, { profile = "ecs", env = cenv{ AWS_ENDPOINT_URL = srv:url(), AWS_REGION = "us-east-1" } })
    srv:stop()
    assert.is_false(ok)
    assert.equal("AssumeRoleFailed", e.code) -- the fake's keys mean nothing to the emulator
    assert.equal(1, delta(before, S.fake_state(port), "GET /container/v2/credentials/task-1"))
  end)
end)
