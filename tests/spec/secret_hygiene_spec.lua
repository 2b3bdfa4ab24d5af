-- secret_hygiene_spec.lua: no secret in any byte detlua writes. Runs, with --debug, the
-- shipped playbooks under --local and against a `detlua emulator` child, a fixture that
-- uses temporary credentials every common way (tests/data/secrets/sessions.lua), `detlua
-- call`, a REPL transcript, and the error paths (a wrong secret key, expired temporary
-- credentials, a malformed STS answer); then searches everything written (stdout, stderr,
-- the audit logs, every file left in the runs' HOME/working directory, the emulator's
-- stderr log) for each secret access key, session token and SigV4 signing key (kDate,
-- kRegion, kService, kSigning for the dates around now, raw, hex and base64), and for the
-- first and last 16 characters of each secret and token.
--
-- Where the secrets come from (independent of the code under test): the scenario's keys
-- (`detlua emulator --print-scenario`), the wrong key the spec makes up, and the emulator's
-- state file, which holds every temporary credential STS issued. That state file is a
-- credential store by design (docs/emulator.md: mode 0600) and is the one file not
-- searched; the spec checks its mode. Temporary credentials issued inside a --local run
-- never leave that process, so for those runs the scenario's keys are what is searched;
-- the same client code paths are covered with known session secrets by the runs against
-- the emulator child.
--
-- Also here: the warning about a shared credentials file readable by group or others,
-- printed once on stderr by the client layer.
local C = require "emulator_client"
local files = require "files"
local loopback = require "loopback"
local proc = require "proc"
local json = require "aws.json"
local crypto = require "aws.core.crypto"
local aws = require "aws"

local function abspath(p)
    if p:sub(1, 1) == "/" then return p end
    return (os.getenv("PWD") or ".") .. "/" .. p
end

local SRC = abspath(files.SRC)
local DETLUA = abspath(proc.detlua())
local REGION = "us-east-1"
local WRONG_SECRET = "wrong-secret-key-made-up-by-the-spec-0123456"

local function files_under(dir)
    local out = {}
    for line in proc.output("find " .. proc.quote(dir) .. " -type f 2>/dev/null"):gmatch("[^\n]+") do out[#out + 1] = line end
    return out
end

local function file_mode(path)
    return (proc.output("stat -c %a " .. proc.quote(path) .. " 2>/dev/null"):match("^[^\n]+"))
end

-- SigV4 key derivation (the AWS documentation's chain), for every date in `dates`.
local function signing_keys(secret, dates)
    local out = {}
    for _, date in ipairs(dates) do
        local k_date = crypto.hmac_sha256("AWS4" .. secret, date)
        for _, service in ipairs({ "detective", "guardduty", "sts" }) do
            local k_region = crypto.hmac_sha256(k_date, REGION)
            local k_service = crypto.hmac_sha256(k_region, service)
            local k_signing = crypto.hmac_sha256(k_service, "aws4_request")
            for _, k in ipairs({ k_date, k_region, k_service, k_signing }) do
                out[#out + 1] = k
                out[#out + 1] = crypto.hex(k)
                out[#out + 1] = crypto.base64_encode(k)
            end
        end
    end
    return out
end

local function dates_around_now()
    local now = os.time()
    local out, seen = {}, {}
    for _, t in ipairs({ now - 86400, now, now + 86400 }) do
        local d = os.date("!%Y%m%d", t)
        if not seen[d] then seen[d] = true; out[#out + 1] = d end
    end
    return out
end

-- needles: {text = ..., what = label}; returns the labels found in `hay`.
local function hits(hay, needles)
    local found = {}
    for _, n in ipairs(needles) do
        if #n.text >= 8 and hay:find(n.text, 1, true) then found[#found + 1] = n.what end
    end
    return found
end

local function add_secret(needles, secret, what, dates)
    if type(secret) ~= "string" or secret == "" then return end
    needles[#needles + 1] = { text = secret, what = what }
    if #secret >= 32 then
        needles[#needles + 1] = { text = secret:sub(1, 16), what = what .. " (first 16 characters)" }
        needles[#needles + 1] = { text = secret:sub(-16), what = what .. " (last 16 characters)" }
    end
    if dates then
        for _, k in ipairs(signing_keys(secret, dates)) do
            needles[#needles + 1] = { text = k, what = "a signing key derived from " .. what }
        end
    end
end

describe("secret hygiene", function()
    local dir, emu, url, admin
    local outputs = {}  -- {name, text}
    local control       -- an output that must hit: proves the search finds what it looks for
    local excluded = {} -- path -> why
    local state_path

    local function record(name, r)
        outputs[#outputs + 1] = { name = name .. " stdout", text = r.stdout }
        outputs[#outputs + 1] = { name = name .. " stderr", text = r.stderr }
    end

    -- run{name, argv (after DETLUA), env, stdin} in dir, with HOME = dir
    local function run(o)
        local argv = { "env", "-C", dir, DETLUA }
        for _, a in ipairs(o.argv) do argv[#argv + 1] = a end
        local env = { HOME = dir, TMPDIR = dir, AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null",
            AWS_EC2_METADATA_DISABLED = "true" }
        for k, v in pairs(o.env or {}) do env[k] = v end
        local r = proc.run { argv = { "timeout", "60", table.unpack(argv) }, env = env, stdin = o.stdin }
        if o.name then record(o.name, r) end
        return r
    end

    local function admin_env(extra)
        local e = { AWS_ACCESS_KEY_ID = admin.access_key_id, AWS_SECRET_ACCESS_KEY = admin.secret_access_key }
        for k, v in pairs(extra or {}) do e[k] = v end
        return e
    end

    local function hook(method, what, body)
        return loopback.emulator_hook(nil, url, method, what, body)
    end

    setup(function()
        dir = files.tmpdir()
        state_path = dir .. "/emulator-state.json"
        excluded[state_path] = "the emulator's state file: a credential store by design (mode 0600)"
        emu = C.spawn { "--state", proc.quote(state_path) }
        assert(emu.url, "the emulator did not start: " .. emu.errors())
        url = emu.url
        admin = { access_key_id = C.ADMIN.access_key_id, secret_access_key = C.ADMIN.secret_access_key }
    end)

    teardown(function()
        if emu then emu.stop() end
        if dir then files.rmdir(dir) end
    end)

    it("runs the shipped playbooks under --local with --debug and an audit log", function()
        local r = run { name = "investigate-finding --local", argv = { "run", "--local", "--debug", "--audit-log",
            dir .. "/audit-investigate.log", SRC .. "/scripts/playbooks/investigate-finding.lua", "--json" } }
        assert.equal(0, r.code, r.stderr)
        r = run { name = "onboard-members --local", argv = { "run", "--local", "--debug", "--yes", "--audit-log",
            dir .. "/audit-onboard-local.log", SRC .. "/scripts/playbooks/onboard-members.lua",
            "--csv=" .. SRC .. "/tests/data/faults/members.csv", "--format=json" } }
        assert.equal(0, r.code, r.stderr)
        r = run { name = "member-health --local", argv = { "run", "--local", "--debug", "--audit-log",
            dir .. "/audit-health.log", SRC .. "/scripts/audits/member-health.lua", "--format=csv" } }
        assert.equal(0, r.code, r.stderr)
    end)

    it("runs playbooks and temporary credentials against the emulator", function()
        local r = run { name = "onboard-members", env = admin_env(), argv = { "run", "--endpoint-url", url, "--region",
            REGION, "--debug", "--audit-log", dir .. "/audit-onboard.log", SRC .. "/scripts/playbooks/onboard-members.lua",
            "--csv=" .. SRC .. "/tests/data/faults/members.csv", "--format=json" } }
        assert.equal(0, r.code, r.stderr)
        r = run { name = "sessions.lua", env = admin_env(), argv = { "run", "--endpoint-url", url, "--region", REGION,
            "--debug", "--audit-log", dir .. "/audit-sessions.log", SRC .. "/tests/data/secrets/sessions.lua" } }
        assert.equal(0, r.code, r.stderr)
        assert.matches("acting as arn:aws:sts::444455556666:assumed%-role/DetectiveMember/secret%-hygiene", r.stdout)
        assert.matches("failing call false", r.stdout)
    end)

    it("runs detlua call with --debug", function()
        local r = run { name = "call list-graphs", env = admin_env(), argv = { "call", "detective", "list-graphs",
            "--endpoint-url", url, "--region", REGION, "--debug" } }
        assert.equal(0, r.code, r.stderr)
        r = run { name = "call --local", argv = { "call", "guardduty", "list-detectors", "--local", "--debug" } }
        assert.equal(0, r.code, r.stderr)
    end)

    it("runs a REPL transcript with --debug", function()
        local transcript = table.concat({
            "s = sts:get_session_token{}",
            "= s",
            "c = aws.client('detective', {credentials = {access_key_id = s.Credentials.AccessKeyId, "
                .. "secret_access_key = s.Credentials.SecretAccessKey, session_token = s.Credentials.SessionToken}})",
            "= c:list_graphs{}",
            "= c",
            "= c:config()",
            "= c:get_members{GraphArn = 'arn:aws:detective:us-east-1:111122223333:graph:' .. ('0'):rep(32), "
                .. "AccountIds = {'111122223333'}}",
            "",
        }, "\n")
        local r = run { name = "repl", env = admin_env(), stdin = transcript,
            argv = { "repl", "--endpoint-url", url, "--region", REGION, "--debug" } }
        assert.equal(0, r.code, r.stderr)
        assert.matches("ASIA", r.stdout) -- the transcript did run
    end)

    it("runs the error paths: a wrong secret key, expired credentials, a malformed STS answer", function()
        local r = run { name = "wrong secret key", env = { AWS_ACCESS_KEY_ID = admin.access_key_id,
            AWS_SECRET_ACCESS_KEY = WRONG_SECRET }, argv = { "call", "detective", "list-graphs", "--endpoint-url", url,
            "--region", REGION, "--debug" } }
        assert.equal(1, r.code, r.stderr)
        assert.matches("InvalidSignatureException", r.stderr)

        hook("POST", "faults", { spec = "sts.GetSessionToken:malformed-json@1" })
        r = run { name = "malformed STS answer", env = admin_env(), argv = { "run", "--endpoint-url", url, "--region",
            REGION, "--debug", "-e", "local ok, e = pcall(sts.get_session_token, sts, {}) print(ok, tostring(e))" } }
        hook("POST", "faults", { rules = {} })
        assert.equal(0, r.code, r.stderr)
        assert.matches("MalformedResponse", r.stdout)

        -- temporary credentials, then the emulated clock moved past their expiration
        local sts = aws.client("sts", { endpoint = url, region = REGION, credentials = admin })
        local s = sts:get_session_token { DurationSeconds = 900 }.Credentials
        sts:close()
        hook("POST", "clock", { advance_seconds = 3600 })
        r = run { name = "expired credentials", env = { AWS_ACCESS_KEY_ID = s.AccessKeyId,
            AWS_SECRET_ACCESS_KEY = s.SecretAccessKey, AWS_SESSION_TOKEN = s.SessionToken },
            argv = { "call", "detective", "list-graphs", "--endpoint-url", url, "--region", REGION, "--debug" } }
        hook("POST", "clock", { offset_seconds = 0 })
        assert.equal(1, r.code, r.stderr)
        assert.matches("ExpiredToken", r.stderr)
    end)

    it("prints credentials only where a credential call's result is asked for", function()
        -- `detlua call sts get-session-token` answers with the credentials, as the AWS CLI
        -- does: they are its result. Its debug log must still not show them, and its stdout
        -- nothing but the session it created.
        local r = run { env = admin_env(), argv = { "call", "sts", "get-session-token", "--endpoint-url", url,
            "--region", REGION, "--debug" } }
        assert.equal(0, r.code, r.stderr)
        local own = json.decode(r.stdout).Credentials
        assert.is_string(own.SecretAccessKey)
        control = r.stdout
        outputs[#outputs + 1] = { name = "call get-session-token stderr", text = r.stderr }
        outputs[#outputs + 1] = { name = "call get-session-token stdout (without its own result)",
            text = (r.stdout:gsub(own.SecretAccessKey:gsub("%p", "%%%0"), ""):gsub(own.SessionToken:gsub("%p", "%%%0"), "")) }
    end)

    it("finds no secret in anything written", function()
        -- the emulator's own log, after a clean stop
        assert.equal(0, emu.stop())
        outputs[#outputs + 1] = { name = "emulator stderr log", text = emu.errors() }
        emu = nil

        -- the state file: the credential store, mode 0600, holding every session issued
        assert.equal("600", file_mode(state_path))
        local state = json.decode(files.read(state_path))
        local dates = dates_around_now()
        local needles = {}
        local scenario = json.decode(proc.run { argv = { DETLUA, "emulator", "--print-scenario" } }.stdout)
        local n_secrets = 0
        for _, a in ipairs(scenario.accounts) do
            add_secret(needles, a.secret_access_key, "the secret key of " .. a.id, dates)
            n_secrets = n_secrets + 1
            for _, k in ipairs(a.keys or {}) do
                add_secret(needles, k.secret_access_key, "a secret key of " .. a.id, dates)
                n_secrets = n_secrets + 1
            end
        end
        add_secret(needles, WRONG_SECRET, "the wrong secret key", dates)
        local sessions = 0
        for akid, rec in pairs(state.data.sts.sessions) do
            add_secret(needles, rec.secret_access_key, "the secret key of session " .. akid, dates)
            add_secret(needles, rec.session_token, "the session token of " .. akid, nil)
            sessions = sessions + 1
        end
        -- GetSessionToken x3, AssumeRole x3 (onboard x2, sessions.lua x1), malformed x1, expired x1
        assert.is_true(sessions >= 7, "only " .. sessions .. " sessions in the state file")

        for _, f in ipairs(files_under(dir)) do
            if not excluded[f] then
                outputs[#outputs + 1] = { name = "file " .. f:sub(#dir + 2), text = files.read(f) or "" }
            end
        end
        local audit_files = 0
        for _, o in ipairs(outputs) do
            if o.name:match("^file audit%-") then audit_files = audit_files + 1 end
        end
        assert.equal(5, audit_files)

        local found = hits(control, needles)
        assert.is_true(#found >= 2, "the search does not find a session's own credentials")
        local problems, bytes = {}, 0
        for _, o in ipairs(outputs) do
            bytes = bytes + #o.text
            for _, what in ipairs(hits(o.text, needles)) do
                problems[#problems + 1] = o.name .. ": " .. what
            end
        end
        assert.same({}, problems)
        io.stdout:write(string.format("# searched %d outputs (%d bytes) for %d secret keys, %d session credentials "
            .. "and their signing keys (%d needles): no hit\n", #outputs, bytes, n_secrets + 1, sessions, #needles))
    end)
end)

describe("a shared credentials file readable by others", function()
    local dir, srv
    before_each(function()
        dir = files.tmpdir()
        srv = require("aws.core.emulator").start {}
    end)
    after_each(function()
        srv:stop()
        files.rmdir(dir)
    end)

    local function run_with_mode(mode)
        local cred = dir .. "/credentials"
        files.write(cred, "[default]\naws_access_key_id = " .. C.ADMIN.access_key_id
            .. "\naws_secret_access_key = " .. C.ADMIN.secret_access_key .. "\n", mode)
        -- two clients, two services, several calls: the warning still comes once
        local chunk = "detective:list_graphs{} guardduty:list_detectors{} aws.client('detective'):list_graphs{} print('done')"
        return proc.run { argv = { DETLUA, "run", "--endpoint-url", srv:url(), "--region", REGION, "-e", chunk },
            env = { AWS_SHARED_CREDENTIALS_FILE = cred, AWS_CONFIG_FILE = "/dev/null", AWS_EC2_METADATA_DISABLED = "true",
                HOME = dir } }, cred
    end

    it("is warned about once on stderr, without the secret", function()
        local r, cred = run_with_mode("644")
        assert.equal(0, r.code, r.stderr)
        local n = 0
        for _ in r.stderr:gmatch("accessible by group or others") do n = n + 1 end
        assert.equal(1, n, r.stderr)
        assert.matches(cred, r.stderr, 1, true)
        assert.matches("0644", r.stderr, 1, true)
        assert.is_nil(r.stderr:find(C.ADMIN.secret_access_key, 1, true))
    end)

    it("is not warned about at mode 0600", function()
        local r = run_with_mode("600")
        assert.equal(0, r.code, r.stderr)
        assert.is_nil(r.stderr:find("accessible by group or others", 1, true), r.stderr)
    end)

    it("is not warned about when the keys come from the environment", function()
        local cred = dir .. "/credentials"
        files.write(cred, "[default]\naws_access_key_id = AKIAOTHERKEY00000001\naws_secret_access_key = x\n", "644")
        local r = proc.run { argv = { DETLUA, "run", "--endpoint-url", srv:url(), "--region", REGION, "-e",
            "detective:list_graphs{}" }, env = { AWS_SHARED_CREDENTIALS_FILE = cred, AWS_CONFIG_FILE = "/dev/null",
            AWS_ACCESS_KEY_ID = C.ADMIN.access_key_id, AWS_SECRET_ACCESS_KEY = C.ADMIN.secret_access_key,
            AWS_EC2_METADATA_DISABLED = "true", HOME = dir } }
        assert.equal(0, r.code, r.stderr)
        assert.is_nil(r.stderr:find("accessible by group or others", 1, true), r.stderr)
    end)
end)
