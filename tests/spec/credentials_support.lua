-- Shared by tests/spec/credentials_*_spec.lua: env tables that never reach the real
-- instance metadata service, the loopback fakes in tests/helpers
-- (fake_imds.py, fake_credential_process.py) and an in-process emulator whose STS counts
-- the sessions it issued (POST /_emulator/sts/sessions), which is the oracle for "how many
-- AssumeRole calls were made".
local http = require("aws.core.http")
local json = require("aws.json")
local files = require("files")
local loopback = require("loopback")
local proc = require("proc")

local S = {}

S.FAKE_IMDS = files.src("tests/helpers/fake_imds.py")
S.FAKE_PROCESS = files.src("tests/helpers/fake_credential_process.py")
S.have_python = files.exists(proc.PYTHON)

-- A fresh env table (so aws.credentials' cache starts empty for it) pointing at config and
-- credentials files in dir, with IMDS disabled unless the test says otherwise. Each extra
-- table is applied in turn; a false value removes the variable.
function S.env(dir, ...)
  local e = { HOME = dir, AWS_CONFIG_FILE = dir .. "/config", AWS_SHARED_CREDENTIALS_FILE = dir .. "/credentials",
    AWS_EC2_METADATA_DISABLED = "true" }
  for i = 1, select("#", ...) do
    for k, v in pairs(select(i, ...) or {}) do
      if v == false then e[k] = nil else e[k] = v end
    end
  end
  return e
end

-- The shared config and credentials files of a test home (the credentials file mode 600,
-- as the CLI writes it, so that no permission warning is printed).
function S.profile_files(dir, config, creds)
  files.write(dir .. "/config", config or "")
  files.write(dir .. "/credentials", creds or "", "600")
end

-- An env table for dir's files with STS (and every service) at the emulator srv, us-east-1.
function S.emulator_env(dir, srv, ...)
  return S.env(dir, { AWS_ENDPOINT_URL = srv:url(), AWS_REGION = "us-east-1" }, ...)
end

-- An STS client at the emulator srv (opts added to region and endpoint).
function S.emulator_sts(srv, opts)
  local o = { region = "us-east-1", endpoint = srv:url() }
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("aws").client("sts", o)
end

-- --- fake IMDS / container endpoint ----------------------------------------------------

function S.start_fake_imds(dir)
  return loopback.start_python(S.FAKE_IMDS, dir, "imds")
end

S.stop_fakes = loopback.stop_all

-- A JSON call on a connection of its own with a short timeout (the fakes and the
-- emulator's hooks answer at once).
local function call(method, url, body)
  local c = http.new{ timeout_ms = 5000 }
  local answer = loopback.json_call(c, method, url, body)
  c:close()
  return answer
end

local function control(port, method, path, body)
  return call(method, "http://127.0.0.1:" .. port .. path, body)
end

-- Defaults of fake_imds.py, restored before each configuration.
local FAKE_DEFAULTS = { token = "v2", v1 = true, role = "detlua-test-role", creds_status = 200, creds = json.null,
  expires_in = 21600, authorization = json.null, container_status = 200 }

function S.configure_fake(port, cfg)
  local all = {}
  for k, v in pairs(FAKE_DEFAULTS) do all[k] = v end
  for k, v in pairs(cfg or {}) do all[k] = v end
  control(port, "POST", "/_control/config", json.encode(all))
end

-- {counts = {"PUT /latest/api/token" = n, ...}, headers = {...}, issued = n}
function S.fake_state(port)
  return control(port, "GET", "/_control/state")
end

-- --- emulator ---------------------------------------------------------------------------

S.ADMIN = { access_key_id = "AKIACREDSPECADMIN001", secret_access_key = "adminSecretForTheCredentialsSpec0000001" }
S.HOP1 = "arn:aws:iam::444455556666:role/Hop1"
S.HOP2 = "arn:aws:iam::777788889999:role/Hop2"
S.EXT = "arn:aws:iam::444455556666:role/WithExternalId"
S.CI = "arn:aws:iam::444455556666:role/CI"
S.SUBJECT = "repo:example/ir:ref:refs/heads/main"
S.MFA = "arn:aws:iam::111122223333:mfa/alice"

S.SCENARIO = {
  accounts = {
    { id = "111122223333", access_key_id = S.ADMIN.access_key_id, secret_access_key = S.ADMIN.secret_access_key },
    { id = "444455556666" },
    { id = "777788889999" },
  },
  roles = {
    { arn = S.HOP1, trusts = { "111122223333" } },
    { arn = S.HOP2, trusts = { "444455556666" } },
    { arn = S.EXT, trusts = { "111122223333" }, external_id = "ext-123" },
    { arn = S.CI, trusts = {}, web_identity_subjects = { S.SUBJECT } },
  },
}

function S.start_emulator()
  return require("aws.core.emulator").start{ port = 0, scenario_table = S.SCENARIO }
end

-- The temporary credentials the emulator's STS has issued so far (no secrets; the MFA
-- serial and code an AssumeRole was given).
function S.sts_session_list(srv)
  return call("POST", srv:url() .. "/_emulator/sts/sessions", "{}").sessions
end

-- How many temporary credentials the emulator's STS has issued so far.
function S.sts_sessions(srv)
  return #S.sts_session_list(srv)
end

-- An unsigned-looking JWT (the emulator reads claims, it does not verify signatures).
function S.jwt(claims)
  local crypto = require("aws.core.crypto")
  local function b64url(s) return (crypto.base64_encode(s):gsub("+", "-"):gsub("/", "_"):gsub("=", "")) end
  return b64url('{"alg":"none"}') .. "." .. b64url(json.encode(claims)) .. ".sig"
end

-- Every string field of an error, concatenated (what could leak a secret).
function S.error_text(e)
  local parts = { tostring(e) }
  if type(e) == "table" then
    for _, v in pairs(e) do if type(v) == "string" then parts[#parts + 1] = v end end
    for _, v in pairs(e.fields or {}) do if type(v) == "string" then parts[#parts + 1] = v end end
  end
  return table.concat(parts, "\n")
end

return S
