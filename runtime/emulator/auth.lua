-- detlua.emulator.auth: who is calling. Parses SigV4 authentication (the Authorization
-- header, or presigned X-Amz-* query parameters), finds the key (scenario accounts, or
-- temporary credentials that STS issued and world.data.sts holds), checks the clock skew,
-- the session token and expiry, and verifies the signature for real by recomputing it
-- with aws.sigv4 over the request as received. Failures raise detlua.emulator.errors
-- objects with the rest-json codes (the router renames them for STS's query protocol).
-- It does not decide what the caller may do; service modules do.
local E = require "detlua.emulator.errors"
local sigv4 = require "aws.sigv4"
local crypto = require "aws.core.crypto"

local M = {}

M.MAX_SKEW_S = 300

local MSG_BAD_SIGNATURE = "The request signature we calculated does not match the signature you provided. "
    .. "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
local MSG_BAD_TOKEN = "The security token included in the request is invalid."
local MSG_EXPIRED_TOKEN = "The security token included in the request is expired"

local function incomplete(msg)
    E.raise("IncompleteSignatureException", msg, nil, { status = 400 })
end

local function amz_date(t)
    return os.date("!%Y%m%dT%H%M%SZ", math.floor(t))
end
M.amz_date = amz_date

local function parse_amz_date(s)
    local y, mo, d, h, mi, se = tostring(s):match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
    if not y then return nil end
    local time = require "aws.time"
    y, mo, d, h, mi, se = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(se)
    if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
    return time.timegm(y, mo, d, h, mi, se)
end
M.parse_amz_date = parse_amz_date

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }
-- "Wed, 21 Oct 2015 07:28:00 GMT" (the Date header, when X-Amz-Date is absent)
local function parse_http_date(s)
    local d, mon, y, h, mi, se = tostring(s):match("^%a%a%a, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if not d or not MONTHS[mon] then return nil end
    local time = require "aws.time"
    return time.timegm(tonumber(y), MONTHS[mon], tonumber(d), tonumber(h), tonumber(mi), tonumber(se))
end
M.parse_http_date = parse_http_date

local function const_eq(a, b)
    if type(a) ~= "string" or type(b) ~= "string" or #a ~= #b then return false end
    local acc = 0
    for i = 1, #a do acc = acc | (a:byte(i) ~ b:byte(i)) end
    return acc == 0
end

-- "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request,
--  SignedHeaders=host;x-amz-date, Signature=5d67..." -> table, or raises
function M.parse_authorization(value)
    local algo, rest = value:match("^%s*(%S+)%s*(.*)$")
    if not algo then incomplete("Authorization header is empty.") end
    if algo ~= "AWS4-HMAC-SHA256" then
        incomplete("Unsupported Authorization Type: the emulator accepts AWS4-HMAC-SHA256 signatures only (got " .. algo:sub(1, 40) .. ").")
    end
    local fields = {}
    for part in rest:gmatch("[^,]+") do
        local k, v = part:match("^%s*([%w%-]+)=(.-)%s*$")
        if k then fields[k] = v end
    end
    for _, need in ipairs({ "Credential", "SignedHeaders", "Signature" }) do
        if not fields[need] or fields[need] == "" then
            incomplete("Authorization header requires '" .. need .. "' parameter. Authorization=" .. algo .. " ...")
        end
    end
    return fields.Credential, fields.SignedHeaders, fields.Signature
end

-- "AKID/20150830/us-east-1/iam/aws4_request" -> akid, date, region, service
local function parse_credential(cred)
    local akid, date, region, service, term = cred:match("^([^/]+)/(%d%d%d%d%d%d%d%d)/([^/]+)/([^/]+)/([^/]+)$")
    if not akid then
        incomplete("Credential should be of the form AccessKeyId/YYYYMMDD/region/service/aws4_request; got '"
            .. cred:gsub("^([^/]*)", function(k) return k:sub(1, 4) .. "..." end):sub(1, 80) .. "'.")
    end
    if term ~= "aws4_request" then
        E.raise("InvalidSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request', not '" .. term:sub(1, 40) .. "'.", nil, { status = 403 })
    end
    if not region:match("^[a-z][a-z0-9%-]*$") then
        E.raise("InvalidSignatureException", "Credential should be scoped to a valid region, not '" .. region:sub(1, 40) .. "'.", nil, { status = 403 })
    end
    return akid, date, region, service
end

-- Splits the raw query into the presign parameters and the rest (raw pieces kept).
local function split_presign(query)
    local auth, rest = {}, {}
    for piece in query:gmatch("[^&]+") do
        local k, v = piece:match("^([^=]*)=?(.*)$")
        local dk = k:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
        if dk:match("^X%-Amz%-") and dk ~= "X-Amz-Content-Sha256" then
            auth[dk] = v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
        else
            rest[#rest + 1] = piece
        end
    end
    return auth, table.concat(rest, "&")
end

-- How the request authenticates: "header", "query" or nil (no authentication at all).
function M.kind(req)
    local a = req.headers.authorization
    if a ~= nil and a ~= "" then return "header" end
    if req.query:find("X%-Amz%-Signature=") or req.query:find("X%-Amz%-Credential=") then return "query" end
    return nil
end

-- Reads the credential scope without verifying anything (the router needs the service
-- name to pick the error format before verification). Returns nil when unauthenticated.
function M.scope(req)
    local kind = M.kind(req)
    if kind == "header" then
        local ok, cred = pcall(M.parse_authorization, req.headers.authorization)
        if not ok then return nil end
        local ok2, akid, date, region, service = pcall(parse_credential, cred)
        if ok2 then return { access_key_id = akid, date = date, region = region, service = service } end
    elseif kind == "query" then
        local auth = split_presign(req.query)
        if auth["X-Amz-Credential"] then
            local ok2, akid, date, region, service = pcall(parse_credential, auth["X-Amz-Credential"])
            if ok2 then return { access_key_id = akid, date = date, region = region, service = service } end
        end
    end
    return nil
end

-- Looks the access key up: scenario keys first, then STS sessions. Raises when unknown,
-- when the session token does not match, or when temporary credentials have expired.
local function find_identity(app, akid, token, now)
    local key = app.keys[akid]
    if key then
        if token ~= nil and token ~= "" then E.raise("UnrecognizedClientException", MSG_BAD_TOKEN, nil, { status = 403 }) end
        return key
    end
    local sts = app.world.data.sts
    local s = sts and sts.sessions and sts.sessions[akid]
    if not s then E.raise("UnrecognizedClientException", MSG_BAD_TOKEN, nil, { status = 403 }) end
    if token == nil or token == "" or not const_eq(token, s.session_token) then
        E.raise("UnrecognizedClientException", MSG_BAD_TOKEN, nil, { status = 403 })
    end
    if s.expires <= now then E.raise("ExpiredTokenException", MSG_EXPIRED_TOKEN, nil, { status = 400 }) end
    return {
        kind = s.kind,
        account = s.account,
        arn = s.arn,
        user_id = s.user_id,
        access_key_id = akid,
        secret_access_key = s.secret_access_key,
        session = s,
    }
end

local function check_skew(t, wall)
    local skew = M.MAX_SKEW_S
    if t < wall - skew then
        E.raise("InvalidSignatureException", string.format("Signature expired: %s is now earlier than %s (%s - %d min.)",
            amz_date(t), amz_date(wall - skew), amz_date(wall), skew // 60), nil, { status = 403 })
    elseif t > wall + skew then
        E.raise("InvalidSignatureException", string.format("Signature not yet current: %s is still later than %s (%s + %d min.)",
            amz_date(t), amz_date(wall + skew), amz_date(wall), skew // 60), nil, { status = 403 })
    end
end

local function redact_canonical(s, token)
    if token and token ~= "" then
        local i, j = s:find(token, 1, true)
        while i do
            s = s:sub(1, i - 1) .. "<redacted>" .. s:sub(j + 1)
            i, j = s:find(token, i + 10, true)
        end
    end
    return s
end

local function mismatch(res, token)
    E.raise("InvalidSignatureException", MSG_BAD_SIGNATURE
        .. "\n\nThe Canonical String for this request should have been\n'" .. redact_canonical(res.canonical_request, token)
        .. "'\n\nThe String-to-Sign should have been\n'" .. res.string_to_sign .. "'\n", nil, { status = 403 })
end

-- verify(app, req, wall, now) -> identity, scope. wall: real time (skew is checked against
-- it, because clients sign with their real clock); now: the emulated time (expiry).
function M.verify(app, req, wall, now)
    local h = req.headers
    local kind = M.kind(req)
    if kind == nil then
        E.raise("MissingAuthenticationTokenException", "Missing Authentication Token", nil, { status = 403 })
    end
    local url = req.path .. (req.query ~= "" and ("?" .. req.query) or "")
    local cred, signed, signature, t, token, expires, query_rest
    if kind == "header" then
        cred, signed, signature = M.parse_authorization(h.authorization)
        token = h["x-amz-security-token"]
        if h["x-amz-date"] then
            t = parse_amz_date(h["x-amz-date"])
            if not t then incomplete("Date must be in ISO-8601 'basic format'. Got '" .. h["x-amz-date"]:sub(1, 40) .. "'. See http://en.wikipedia.org/wiki/ISO_8601") end
        elseif h.date then
            t = parse_http_date(h.date)
            if not t then incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.") end
        else
            incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        end
    else
        local auth
        auth, query_rest = split_presign(req.query)
        for _, need in ipairs({ "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature" }) do
            if not auth[need] or auth[need] == "" then incomplete("AWS query-string parameters must include '" .. need .. "'.") end
        end
        if auth["X-Amz-Algorithm"] ~= "AWS4-HMAC-SHA256" then incomplete("X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'.") end
        cred, signed, signature = auth["X-Amz-Credential"], auth["X-Amz-SignedHeaders"], auth["X-Amz-Signature"]
        token = auth["X-Amz-Security-Token"]
        t = parse_amz_date(auth["X-Amz-Date"])
        if not t then incomplete("X-Amz-Date must be in ISO-8601 'basic format'.") end
        expires = math.tointeger(tonumber(auth["X-Amz-Expires"] or "")) or 900
        if expires < 1 or expires > 604800 then incomplete("X-Amz-Expires must be an integer between 1 and 604800.") end
    end

    local akid, date, region, service = parse_credential(cred)
    local identity = find_identity(app, akid, token, now)

    if date ~= amz_date(t):sub(1, 8) then
        E.raise("InvalidSignatureException", string.format(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
            date, amz_date(t):sub(1, 8), amz_date(t)), nil, { status = 403 })
    end
    if kind == "header" then
        check_skew(t, wall)
    else
        if t > wall + M.MAX_SKEW_S then check_skew(t, wall) end
        if wall > t + expires then
            E.raise("InvalidSignatureException", string.format("Signature expired: %s is now earlier than %s (%s + %d s expiry).",
                amz_date(t + expires), amz_date(wall), amz_date(t), expires), nil, { status = 403 })
        end
    end

    local names = {}
    for name in signed:gmatch("[^;]+") do names[#names + 1] = name end
    local headers = {}
    for _, name in ipairs(names) do
        if h[name] == nil then
            -- a signed header that did not arrive cannot verify
            E.raise("InvalidSignatureException", MSG_BAD_SIGNATURE, nil, { status = 403 })
        end
        headers[name] = h[name]
    end

    local payload_hash
    local xsha = h["x-amz-content-sha256"]
    if xsha ~= nil then
        if xsha:match("^%x+$") and #xsha == 64 then
            if xsha:lower() ~= crypto.sha256_hex(req.body) then
                E.raise("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", nil, { status = 400 })
            end
            payload_hash = xsha:lower()
        elseif xsha == "UNSIGNED-PAYLOAD" then
            payload_hash = xsha
        end
    end

    local creds = { access_key_id = akid, secret_access_key = identity.secret_access_key }
    local args = {
        method = req.method,
        url = kind == "header" and url or (req.path .. (query_rest ~= "" and ("?" .. query_rest) or "")),
        headers = headers,
        body = req.body,
        region = region,
        service = service,
        credentials = creds,
        time = t,
        signed_headers = names,
        payload_hash = payload_hash,
    }
    local ok, res
    if kind == "header" then
        ok, res = pcall(sigv4.sign, args)
    else
        creds.session_token = token
        args.expires = expires
        ok, res = pcall(sigv4.presign, args)
    end
    if not ok then
        -- the signer refused the request as received (e.g. a malformed header name)
        E.raise("InvalidSignatureException", MSG_BAD_SIGNATURE, nil, { status = 403 })
    end
    if not const_eq(res.signature, signature:lower()) then mismatch(res, token) end
    return identity, { access_key_id = akid, date = date, region = region, service = service }
end

return M
