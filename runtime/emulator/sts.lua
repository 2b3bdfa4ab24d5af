-- detlua.emulator.sts: the STS operations the emulator serves: GetCallerIdentity,
-- AssumeRole (the role must be in the scenario and trust the caller's account; a
-- SerialNumber needs a 6-digit TokenCode, though no MFA device is emulated),
-- AssumeRoleWithWebIdentity (scenario-configured token acceptance), GetSessionToken.
-- Issued temporary credentials live in world.data.sts.sessions (so they survive a
-- restart with --state) and act as the role's account until they expire; auth.lua looks
-- them up. It also derives the identities of the scenario's long-term keys. Other STS
-- operations answer 501 NotImplemented. Wire encoding is the router's job.
local E = require "detlua.emulator.errors"
local json = require "detlua.emulator.wire_json"
local crypto = require "aws.core.crypto"

local S = {}

S.IMPLEMENTED = { "AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity", "GetSessionToken" }

-- IAM unique ids use upper-case letters and digits; derive them from a stable name.
local ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
local SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function stable_id(prefix, name)
    local h = crypto.sha256(name)
    local out = {}
    for i = 1, 17 do
        local k = h:byte(i) % #ID_ALPHABET + 1
        out[i] = ID_ALPHABET:sub(k, k)
    end
    return prefix .. table.concat(out)
end
S.stable_id = stable_id

-- --- identities of long-term keys ----------------------------------------------------------

local function user_identity(account, akid, secret, user_name)
    user_name = user_name or account.user_name or "admin"
    local id = {
        kind = "user",
        account = account.id,
        access_key_id = akid,
        secret_access_key = secret,
        user_name = user_name,
    }
    if user_name == "root" then
        id.kind = "root"
        id.arn = "arn:aws:iam::" .. account.id .. ":root"
        id.user_id = account.id
    else
        id.arn = "arn:aws:iam::" .. account.id .. ":user/" .. user_name
        id.user_id = account.user_id or stable_id("AIDA", account.id .. "/" .. user_name)
    end
    return id
end

-- keys(scenario) -> {access_key_id -> identity} for every long-term key of the scenario
function S.keys(scenario)
    local keys = {}
    for _, a in ipairs(scenario.accounts) do
        if a.access_key_id then keys[a.access_key_id] = user_identity(a, a.access_key_id, a.secret_access_key) end
        for _, k in ipairs(a.keys or {}) do
            keys[k.access_key_id] = user_identity(a, k.access_key_id, k.secret_access_key, k.user_name)
        end
    end
    return keys
end

-- --- sessions --------------------------------------------------------------------------------

function S.new(world)
    return setmetatable({ world = world }, { __index = S })
end

local function sessions(world)
    local d = world.data.sts
    if type(d) ~= "table" then
        d = {}
        world.data.sts = d
    end
    d.sessions = d.sessions or {}
    return d.sessions
end

-- Forget credentials that expired more than a day ago (until then they answer
-- ExpiredToken rather than "invalid").
local function purge(world, now)
    local s = sessions(world)
    for k, rec in pairs(s) do
        if rec.expires + 86400 < now then s[k] = nil end
    end
end

local function issue(world, now, duration, fields)
    purge(world, now)
    local s = sessions(world)
    local akid
    repeat akid = "ASIA" .. world:random_string(16) until s[akid] == nil
    local rec = {
        access_key_id = akid,
        secret_access_key = world:random_string(40, SECRET_ALPHABET),
        session_token = "EmulatorSessionToken/" .. world:random_string(160, SECRET_ALPHABET),
        created = now,
        expires = math.floor(now) + duration,
    }
    for k, v in pairs(fields) do rec[k] = v end
    s[akid] = rec
    world:mark_dirty()
    return rec
end

local function credentials(rec)
    return {
        AccessKeyId = rec.access_key_id,
        SecretAccessKey = rec.secret_access_key,
        SessionToken = rec.session_token,
        Expiration = rec.expires,
    }
end

local function access_denied(msg)
    E.raise("AccessDenied", msg, nil, { status = 403 })
end

local function validation(msg)
    E.raise("ValidationError", msg, nil, { status = 400 })
end

local function role_name(arn)
    return arn:match("([^/]+)$")
end

-- Session policies and tags are packed; report their size like STS (percent of the limit).
local function packed_size(input)
    local n, any = 0, false
    if input.Policy then
        any = true
        local doc = json.decode(input.Policy, 50)
        if type(doc) ~= "table" then
            E.raise("MalformedPolicyDocumentException", "The policy is not in the valid JSON format.")
        end
        n = n + #input.Policy
    end
    for _, p in ipairs(input.PolicyArns or {}) do
        any = true
        n = n + #(p.arn or "")
    end
    for _, t in ipairs(input.Tags or {}) do
        any = true
        n = n + #(t.Key or "") + #(t.Value or "")
    end
    if not any then return nil end
    local pct = math.max(1, math.ceil(n * 100 / 2048))
    if pct > 100 then
        E.raise("PackedPolicyTooLargeException", "Packed size of the session policies and tags exceeds the limit (" .. pct .. "% of the allowed size).")
    end
    return pct
end

local function assumed_role_fields(world, role, session_name, extra)
    local role_account = role.arn:match("^arn:[^:]+:iam::(%d+):")
    local role_id = role.role_id or stable_id("AROA", role.arn)
    local f = {
        kind = "assumed-role",
        account = role_account,
        role_arn = role.arn,
        session_name = session_name,
        arn = "arn:aws:sts::" .. role_account .. ":assumed-role/" .. role_name(role.arn) .. "/" .. session_name,
        user_id = role_id .. ":" .. session_name,
    }
    for k, v in pairs(extra or {}) do f[k] = v end
    return f
end

-- The model's pattern [\w+=,.@-]* is unanchored (any string contains an empty match), but
-- STS applies it to the whole name.
local function check_session_name(name)
    if not name:match("^[%w_+=,.@%-]*$") then
        validation("1 validation error detected: Value '" .. name .. "' at 'roleSessionName' failed to satisfy "
            .. "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    end
end

local function check_duration(role, duration, chained)
    if chained and duration > 3600 then
        validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
    end
    local max = role.max_session_duration or 43200
    if duration > max then
        validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    end
end

-- --- operations --------------------------------------------------------------------------------

local OPS = {}

function OPS.GetCallerIdentity(self, ctx)
    local id = ctx.identity
    return { UserId = id.user_id, Account = id.account, Arn = id.arn }
end

function OPS.AssumeRole(self, ctx, input)
    local world = self.world
    local id = ctx.identity
    local role = world:role(input.RoleArn)
    local denied = "User: " .. tostring(id.arn) .. " is not authorized to perform: sts:AssumeRole on resource: " .. input.RoleArn
    if not role then access_denied(denied) end
    local trusted = false
    for _, a in ipairs(role.trusts or {}) do
        if a == id.account then trusted = true end
    end
    if not trusted then access_denied(denied) end
    if role.external_id and role.external_id ~= input.ExternalId then access_denied(denied) end
    -- The emulator has no MFA devices: with a SerialNumber any well-formed code passes, which
    -- is enough to test that a client asked for one and sent it.
    if input.SerialNumber ~= nil and (type(input.TokenCode) ~= "string" or not input.TokenCode:match("^%d%d%d%d%d%d$")) then
        access_denied("MultiFactorAuthentication failed: " .. (input.TokenCode == nil and "no TokenCode was given"
            or "the TokenCode is not a 6-digit code") .. " for the MFA device " .. input.SerialNumber .. ".")
    end
    check_session_name(input.RoleSessionName)
    local duration = input.DurationSeconds or 3600
    check_duration(role, duration, id.kind == "assumed-role")
    local size = packed_size(input)
    local rec = issue(world, ctx.now, duration, assumed_role_fields(world, role, input.RoleSessionName, {
        source = "AssumeRole",
        source_identity = input.SourceIdentity,
        caller_arn = id.arn,
        mfa_serial = input.SerialNumber,
        mfa_token_code = input.SerialNumber and input.TokenCode or nil,
    }))
    return {
        Credentials = credentials(rec),
        AssumedRoleUser = { AssumedRoleId = rec.user_id, Arn = rec.arn },
        PackedPolicySize = size,
        SourceIdentity = input.SourceIdentity,
    }
end

local function b64url_decode(s)
    s = s:gsub("-", "+"):gsub("_", "/")
    s = s .. string.rep("=", (4 - #s % 4) % 4)
    return crypto.base64_decode(s)
end

-- Claims of a JWT (unverified: the emulator trusts the scenario, not signatures), or nil.
local function jwt_claims(token)
    local payload = token:match("^[%w_%-]+%.([%w_%-]+)%.[%w_%-]*$")
    if not payload then return nil end
    local raw = b64url_decode(payload)
    local doc = raw and json.decode(raw, 20)
    if type(doc) ~= "table" or json.is_array(doc) then return nil end
    return json.plain(doc)
end

function OPS.AssumeRoleWithWebIdentity(self, ctx, input)
    local world = self.world
    local role = world:role(input.RoleArn)
    if not role or role.web_identity == false then
        access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
    end
    check_session_name(input.RoleSessionName)
    local token = input.WebIdentityToken
    local claims = jwt_claims(token) or {}
    if type(claims.exp) == "number" and claims.exp <= ctx.now then
        E.raise("ExpiredTokenException", "Token expired: current date/time " .. os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(ctx.now))
            .. " must be before the expiration date/time " .. os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(claims.exp)))
    end
    local subject = type(claims.sub) == "string" and claims.sub or nil
    local allowed = role.web_identity_subjects or (world.scenario.sts or {}).web_identity_subjects
    if allowed then
        local ok = false
        for _, a in ipairs(allowed) do
            if a == token or (subject and a == subject) then ok = true end
        end
        if not ok then
            E.raise("InvalidIdentityTokenException", "The web identity token was not accepted: its subject"
                .. (subject and (" '" .. subject .. "'") or "") .. " is not listed in the emulator scenario.")
        end
    end
    local duration = input.DurationSeconds or 3600
    check_duration(role, duration, false)
    local size = packed_size(input)
    local aud = claims.aud
    if type(aud) == "table" then aud = aud[1] end
    subject = subject or ("web-identity-" .. stable_id("", token):sub(1, 12):lower())
    local provider = type(claims.iss) == "string" and claims.iss or input.ProviderId or "emulator.detlua.local"
    local rec = issue(world, ctx.now, duration, assumed_role_fields(world, role, input.RoleSessionName, {
        source = "AssumeRoleWithWebIdentity",
        subject = subject,
        provider = provider,
    }))
    return {
        Credentials = credentials(rec),
        SubjectFromWebIdentityToken = subject,
        AssumedRoleUser = { AssumedRoleId = rec.user_id, Arn = rec.arn },
        PackedPolicySize = size,
        Provider = provider,
        Audience = type(aud) == "string" and aud or "sts.amazonaws.com",
    }
end

function OPS.GetSessionToken(self, ctx, input)
    local id = ctx.identity
    if id.kind ~= "user" and id.kind ~= "root" then
        access_denied("Cannot call GetSessionToken with session credentials")
    end
    local duration = input.DurationSeconds or 43200
    if id.kind == "root" and duration > 3600 then duration = 3600 end
    local rec = issue(self.world, ctx.now, duration, {
        kind = "session",
        account = id.account,
        arn = id.arn,
        user_id = id.user_id,
        source = "GetSessionToken",
    })
    return { Credentials = credentials(rec) }
end

-- Operations callable without credentials (the token is the proof).
S.UNSIGNED = { AssumeRoleWithWebIdentity = true, AssumeRoleWithSAML = true }

function S:handle(ctx, op, input)
    local fn = OPS[op]
    if not fn then
        E.raise("NotImplemented", "The detlua emulator does not implement the STS operation " .. tostring(op)
            .. " (implemented: " .. table.concat(S.IMPLEMENTED, ", ") .. ").", nil, { status = 501 })
    end
    if ctx.identity.kind == "anonymous" and not S.UNSIGNED[op] then
        E.raise("MissingAuthenticationToken", "Request is missing Authentication Token", nil, { status = 403 })
    end
    return fn(self, ctx, input or {})
end

-- Fixture hooks: POST /_emulator/sts/<action>
--   sessions {}  -> {"sessions": [{access_key_id, kind, account, arn, expires, mfa_serial?,
--                 mfa_token_code?}]} (no secrets: a used MFA code is worth nothing)
function S:admin(ctx, action, body)
    if action == "sessions" then
        local list = {}
        for k, rec in pairs(sessions(self.world)) do
            list[#list + 1] = { access_key_id = k, kind = rec.kind, account = rec.account, arn = rec.arn, expires = rec.expires,
                mfa_serial = rec.mfa_serial, mfa_token_code = rec.mfa_token_code }
        end
        table.sort(list, function(a, b) return a.access_key_id < b.access_key_id end)
        return { sessions = list }
    end
    E.raise("UnknownActionException", "Unknown STS emulator action " .. tostring(action) .. " (known: sessions).", nil, { status = 404 })
end

return S
