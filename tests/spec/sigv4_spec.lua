-- sigv4_spec.lua: the Lua API of aws.sigv4 and aws.core.crypto.
--
-- Oracles: the official AWS SigV4 suite ($DT_SHARED/sigv4-suite, when present), the
-- project's botocore-generated vectors (tests/data/sigv4), botocore itself on ~200
-- randomized requests (tests/oracle/sigv4_botocore.py, run once through /usr/bin/python3),
-- RFC test vectors for the crypto functions, and the SigV4 key-derivation definition
-- recomputed here with HMAC. Shapes, options and caller-mistake messages are checked
-- against the documented contract.
local sigv4 = require("aws.sigv4")
local crypto = require("aws.core.crypto")
local cjson = require("cjson")

local files = require("files")
local proc = require("proc")

local shared = os.getenv("DT_SHARED")

local AKID = "AKIDEXAMPLE"
local SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


local function base_params(over)
  local p = {
    method = "POST",
    url = "https://api.detective.us-east-1.amazonaws.com/graph/members/list",
    headers = { { "Content-Type", "application/json" } },
    body = '{"GraphArn":"arn:aws:detective:us-east-1:111122223333:graph:abc"}',
    region = "us-east-1",
    service = "detective",
    credentials = { access_key_id = AKID, secret_access_key = SECRET },
    time = "2015-08-30T12:36:00Z",
  }
  for k, v in pairs(over or {}) do p[k] = v end
  return p
end

local function header(list, name)
  for _, h in ipairs(list) do
    if h[1]:lower() == name:lower() then return h[2] end
  end
end

-- SigV4 signing key by its definition: HMAC chain over date, region, service, "aws4_request".
local function signing_key(secret, date8, region, service)
  local k = crypto.hmac_sha256("AWS4" .. secret, date8)
  k = crypto.hmac_sha256(k, region)
  k = crypto.hmac_sha256(k, service)
  return crypto.hmac_sha256(k, "aws4_request")
end

-- every string reachable from v
local function strings_in(v, out)
  out = out or {}
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" then
    for k, x in pairs(v) do
      strings_in(k, out)
      strings_in(x, out)
    end
  end
  return out
end

local function contains_plain(hay, needle)
  return hay:find(needle, 1, true) ~= nil
end

describe("aws.sigv4.sign", function()
  it("returns every stage and the headers to add", function()
    local s = sigv4.sign(base_params())
    for _, f in ipairs({ "canonical_request", "string_to_sign", "signature", "authorization",
                         "amz_date", "signed_headers", "credential_scope", "payload_hash" }) do
      assert.is_string(s[f], f)
    end
    assert.equals("20150830T123600Z", s.amz_date)
    assert.equals("content-type;host;x-amz-date", s.signed_headers)
    assert.equals("20150830/us-east-1/detective/aws4_request", s.credential_scope)
    assert.matches("^%x+$", s.signature)
    assert.equals(64, #s.signature)
    assert.equals(crypto.sha256_hex(base_params().body), s.payload_hash)
    -- the stages chain as SigV4 defines them
    local cr_lines = {}
    for line in (s.canonical_request .. "\n"):gmatch("(.-)\n") do cr_lines[#cr_lines + 1] = line end
    assert.equals("POST", cr_lines[1])
    assert.equals("/graph/members/list", cr_lines[2])
    assert.equals(s.payload_hash, cr_lines[#cr_lines])
    assert.equals(table.concat({ "AWS4-HMAC-SHA256", s.amz_date, s.credential_scope,
      crypto.sha256_hex(s.canonical_request) }, "\n"), s.string_to_sign)
    local key = signing_key(SECRET, "20150830", "us-east-1", "detective")
    assert.equals(crypto.hex(crypto.hmac_sha256(key, s.string_to_sign)), s.signature)
    assert.equals("AWS4-HMAC-SHA256 Credential=" .. AKID .. "/" .. s.credential_scope ..
      ", SignedHeaders=" .. s.signed_headers .. ", Signature=" .. s.signature, s.authorization)
    -- headers: a list of {name, value} pairs, Host first when absent
    assert.same({ "Host", "api.detective.us-east-1.amazonaws.com" }, s.headers[1])
    assert.same({ "X-Amz-Date", "20150830T123600Z" }, s.headers[2])
    assert.same({ "Authorization", s.authorization }, s.headers[3])
    assert.equals(3, #s.headers)
  end)

  it("accepts headers as a list of pairs (order and duplicates kept) or as a map", function()
    local list = sigv4.sign(base_params({ headers = {
      { "X-Dup", "first" }, { "Content-Type", "application/json" }, { "x-dup", "  second  " },
      { "Host", "api.detective.us-east-1.amazonaws.com" } } }))
    assert.truthy(contains_plain(list.canonical_request, "\nx-dup:first,second\n"))
    assert.is_nil(header(list.headers, "Host"))
    local map = sigv4.sign(base_params({ headers = { ["Content-Type"] = "application/json",
      ["X-Dup"] = { "first", "second" }, Host = "api.detective.us-east-1.amazonaws.com" } }))
    assert.equals(list.canonical_request, map.canonical_request)
    assert.equals(list.signature, map.signature)
    local num = sigv4.sign(base_params({ headers = { { "Content-Length", 13 } } }))
    assert.truthy(contains_plain(num.canonical_request, "\ncontent-length:13\n"))
  end)

  it("reads credentials through __index (an object), even one that signs meanwhile", function()
    local plain = sigv4.sign(base_params())
    local fields = { access_key_id = AKID, secret_access_key = SECRET }
    local obj = setmetatable({}, { __index = function(_, k)
      -- a nested sign while the outer call is reading its parameters
      sigv4.sign(base_params({ headers = { { "X-Nested", "1" }, { "X-Other", "2" } } }))
      return fields[k]
    end })
    local s = sigv4.sign(base_params({ credentials = obj }))
    assert.equals(plain.signature, s.signature)
    assert.equals(plain.canonical_request, s.canonical_request)
  end)

  it("reads the time as ISO 8601, X-Amz-Date form or epoch seconds, default now", function()
    local a = sigv4.sign(base_params({ time = "2015-08-30T12:36:00Z" }))
    local b = sigv4.sign(base_params({ time = "20150830T123600Z" }))
    local c = sigv4.sign(base_params({ time = 1440938160 }))
    local d = sigv4.sign(base_params({ time = 1440938160.75 }))
    assert.equals(a.signature, b.signature)
    assert.equals(a.signature, c.signature)
    assert.equals(a.signature, d.signature)
    local before = os.time()
    local np = base_params()
    np.time = nil
    local now = sigv4.sign(np)
    local after = os.time()
    local ok = now.amz_date == os.date("!%Y%m%dT%H%M%SZ", before)
        or now.amz_date == os.date("!%Y%m%dT%H%M%SZ", after)
    assert.is_true(ok, now.amz_date)
  end)

  it("normalize_path removes dot segments and empty segments unless false", function()
    local n = sigv4.sign(base_params({ url = "https://h.example/a/./b/../c//d" }))
    assert.truthy(contains_plain(n.canonical_request, "POST\n/a/c/d\n"))
    local k = sigv4.sign(base_params({ url = "https://h.example/a/./b/../c//d", normalize_path = false }))
    assert.truthy(contains_plain(k.canonical_request, "POST\n/a/./b/../c//d\n"))
  end)

  it("URI-encodes the wire path once more and re-encodes the query", function()
    local s = sigv4.sign(base_params({
      url = "https://h.example/tags/arn%3Aaws%3Adetective%3Aus-east-1%3A1%3Agraph%2Fx?b=2&a=%7E&a=1&e=&f" }))
    assert.truthy(contains_plain(s.canonical_request,
      "\n/tags/arn%253Aaws%253Adetective%253Aus-east-1%253A1%253Agraph%252Fx\na=1&a=~&b=2&e=&f=\n"))
  end)

  it("session token: signed by default, added after signing when sign_session_token=false", function()
    local creds = { access_key_id = AKID, secret_access_key = SECRET, session_token = "TOK/EN+=" }
    local s = sigv4.sign(base_params({ credentials = creds }))
    assert.equals("content-type;host;x-amz-date;x-amz-security-token", s.signed_headers)
    assert.equals("TOK/EN+=", header(s.headers, "X-Amz-Security-Token"))
    local u = sigv4.sign(base_params({ credentials = creds, sign_session_token = false }))
    assert.equals("content-type;host;x-amz-date", u.signed_headers)
    assert.equals("TOK/EN+=", header(u.headers, "X-Amz-Security-Token"))
    assert.is_nil(u.canonical_request:find("TOK", 1, true))
  end)

  it("content_sha256_header and payload_hash", function()
    local s = sigv4.sign(base_params({ content_sha256_header = true }))
    assert.equals(s.payload_hash, header(s.headers, "X-Amz-Content-Sha256"))
    assert.equals("content-type;host;x-amz-content-sha256;x-amz-date", s.signed_headers)
    local u = sigv4.sign(base_params({ payload_hash = sigv4.UNSIGNED_PAYLOAD, content_sha256_header = true }))
    assert.equals("UNSIGNED-PAYLOAD", header(u.headers, "X-Amz-Content-Sha256"))
    assert.truthy(u.canonical_request:match("\nUNSIGNED%-PAYLOAD$"))
    local h = string.rep("ab", 32)
    local p = sigv4.sign(base_params({ payload_hash = h }))
    assert.truthy(p.canonical_request:match("\n" .. h .. "$"))
    assert.is_nil(header(p.headers, "X-Amz-Content-Sha256"))
  end)

  it("skips the headers SDKs never sign", function()
    local hs = { { "Content-Type", "a/b" } }
    for _, n in ipairs({ "Authorization", "User-Agent", "X-Amzn-Trace-Id", "Expect", "Connection",
                         "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
                         "Transfer-Encoding", "Upgrade" }) do
      hs[#hs + 1] = { n, "v" }
    end
    local s = sigv4.sign(base_params({ headers = hs }))
    assert.equals("content-type;host;x-amz-date", s.signed_headers)
  end)

  it("signed_headers: signs exactly the listed names (verifying a received request)", function()
    local sent = sigv4.sign(base_params({ headers = { { "Content-Type", "application/json" } } }))
    local rx = { { "Content-Type", "application/json" }, { "User-Agent", "sdk" } }
    for _, h in ipairs(sent.headers) do rx[#rx + 1] = h end
    local v = sigv4.sign(base_params({ headers = rx, signed_headers = { "content-type", "host", "x-amz-date" },
      time = sent.amz_date }))
    assert.equals(sent.signature, v.signature)
    local ua = sigv4.sign(base_params({ headers = rx, signed_headers = { "host", "user-agent", "x-amz-date" } }))
    assert.equals("host;user-agent;x-amz-date", ua.signed_headers)
    local ok, err = pcall(sigv4.sign, base_params({ headers = rx, signed_headers = { "host", "x-missing" } }))
    assert.is_false(ok)
    assert.matches("aws.sigv4.sign: signed_headers: 'x%-missing' is not in the request", err)
  end)
end)

describe("aws.sigv4.presign", function()
  it("returns the URL with the authentication parameters and the stages", function()
    local params = base_params({ method = "GET", url = "https://h.example/report?x=1#frag", expires = 900 })
    params.body, params.headers = nil, nil
    local p = sigv4.presign(params)
    for _, f in ipairs({ "url", "canonical_request", "string_to_sign", "signature", "amz_date",
                         "signed_headers" }) do
      assert.is_string(p[f], f)
    end
    assert.equals("host", p.signed_headers)
    assert.truthy(p.url:find("^https://h%.example/report%?x=1&X%-Amz%-Algorithm=AWS4%-HMAC%-SHA256&"))
    assert.truthy(contains_plain(p.url, "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fdetective%2Faws4_request"))
    assert.truthy(contains_plain(p.url, "&X-Amz-Expires=900&"))
    assert.truthy(p.url:find("&X%-Amz%-Signature=" .. p.signature .. "$"))
    assert.is_nil(p.url:find("#", 1, true))
    assert.is_nil(p.authorization)
    assert.truthy(contains_plain(p.canonical_request, "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&"))
    local key = signing_key(SECRET, "20150830", "us-east-1", "detective")
    assert.equals(crypto.hex(crypto.hmac_sha256(key, p.string_to_sign)), p.signature)
  end)

  it("puts the token in the signed query, or after the signature when not signed", function()
    local creds = { access_key_id = AKID, secret_access_key = SECRET, session_token = "T/K" }
    local p = sigv4.presign(base_params({ method = "GET", credentials = creds }))
    assert.truthy(contains_plain(p.canonical_request, "&X-Amz-Security-Token=T%2FK&"))
    local u = sigv4.presign(base_params({ method = "GET", credentials = creds, sign_session_token = false }))
    assert.is_nil(u.canonical_request:find("Security-Token", 1, true))
    assert.truthy(u.url:find("&X%-Amz%-Signature=%x+&X%-Amz%-Security%-Token=T%%2FK$"))
  end)
end)

describe("caller mistakes raise before signing", function()
  local cases = {
    { "not a table", function() return sigv4.sign("x") end,
      "aws.sigv4.sign: expected a table of parameters, got string" },
    { "missing secret", function()
        return sigv4.sign(base_params({ credentials = { access_key_id = AKID } }))
      end, "aws.sigv4.sign: credentials.secret_access_key: expected string, got nil" },
    { "missing credentials", function() return sigv4.sign(base_params({ credentials = false })) end,
      "aws.sigv4.sign: credentials: expected table, got boolean" },
    { "token type", function()
        return sigv4.sign(base_params({ credentials = { access_key_id = AKID, secret_access_key = SECRET, session_token = 5 } }))
      end, "aws.sigv4.sign: credentials.session_token: expected string or nil, got number" },
    { "missing method", function() return sigv4.sign(base_params({ method = false })) end,
      "aws.sigv4.sign: method: expected string, got boolean" },
    { "missing url", function()
        local p = base_params(); p.url = nil; return sigv4.sign(p)
      end, "aws.sigv4.sign: url: expected string, got nil" },
    { "bad url", function() return sigv4.sign(base_params({ url = "host/path" })) end,
      "aws.sigv4.sign: url: expected scheme://host[:port]/path?query or /path?query" },
    { "bad region", function() return sigv4.sign(base_params({ region = "us east" })) end,
      "aws.sigv4.sign: region: expected a region name such as us-east-1" },
    { "misspelt field", function() return sigv4.sign(base_params({ normalise_path = true })) end,
      "aws.sigv4.sign: unknown field 'normalise_path' (did you mean normalize_path?)" },
    { "unknown field", function() return sigv4.sign(base_params({ zzz = 1 })) end,
      "aws.sigv4.sign: unknown field 'zzz'" },
    { "expires on sign", function() return sigv4.sign(base_params({ expires = 60 })) end,
      "aws.sigv4.sign: unknown field 'expires'" },
    { "bad pair", function() return sigv4.sign(base_params({ headers = { { "A", "b" }, "c" } })) end,
      "aws.sigv4.sign: headers[2]: expected a {name, value} pair, got string" },
    { "bad value", function() return sigv4.sign(base_params({ headers = { { "A", {} } } })) end,
      "aws.sigv4.sign: headers[1][2]: expected string, got table" },
    { "mixed headers", function() return sigv4.sign(base_params({ headers = { { "A", "b" }, X = "y" } })) end,
      "aws.sigv4.sign: headers: mixes a list of {name, value} pairs with named fields" },
    { "bad header name", function() return sigv4.sign(base_params({ headers = { { "A B", "c" } } })) end,
      "aws.sigv4.sign: headers[1]: invalid header name" },
    { "bool option", function() return sigv4.sign(base_params({ normalize_path = "yes" })) end,
      "aws.sigv4.sign: normalize_path: expected boolean, got string" },
    { "bad time", function() return sigv4.sign(base_params({ time = "yesterday" })) end,
      "aws.sigv4.sign: time: expected ISO 8601" },
    { "body type", function() return sigv4.sign(base_params({ body = 42 })) end,
      "aws.sigv4.sign: body: expected string, got number" },
    { "payload hash", function() return sigv4.sign(base_params({ payload_hash = "nope" })) end,
      "aws.sigv4.sign: payload_hash: expected 64 lowercase hex digits or UNSIGNED-PAYLOAD" },
    { "signed_headers case", function() return sigv4.sign(base_params({ signed_headers = { "Host" } })) end,
      "aws.sigv4.sign: signed_headers[1]: expected a lowercase header name" },
    { "expires range", function() return sigv4.presign(base_params({ expires = 604801 })) end,
      "aws.sigv4.presign: expires: expected 1..604800 seconds, got 604801" },
    { "expires type", function() return sigv4.presign(base_params({ expires = "60" })) end,
      "aws.sigv4.presign: expires: expected integer (seconds), got string" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local ok, err = pcall(c[2])
      assert.is_false(ok)
      assert.is_string(err)
      assert.truthy(contains_plain(err, c[3]), err)
      assert.is_nil(err:find(SECRET, 1, true))
    end)
  end
end)

describe("secrets", function()
  local secret = "SuperSecretKey/With+Chars0123456789abcdEF"
  local creds = { access_key_id = AKID, secret_access_key = secret, session_token = "tok" }
  local key = signing_key(secret, "20150830", "us-east-1", "detective")

  it("never appear in results", function()
    local s = sigv4.sign(base_params({ credentials = creds }))
    local p = sigv4.presign(base_params({ credentials = creds }))
    for _, str in ipairs(strings_in({ s, p })) do
      assert.is_nil(str:find(secret, 1, true))
      assert.is_nil(str:find(key, 1, true))
      assert.is_nil(str:find(crypto.hex(key), 1, true))
      assert.is_nil(str:find(crypto.base64_encode(key), 1, true))
    end
  end)

  it("never appear in error messages", function()
    local bad = {
      base_params({ credentials = creds, url = secret }),
      base_params({ credentials = creds, region = secret .. " x" }),
      base_params({ credentials = { access_key_id = secret .. "/", secret_access_key = secret } }),
      base_params({ credentials = { access_key_id = AKID, secret_access_key = secret, session_token = "a\nb" } }),
      base_params({ credentials = creds, [secret] = 1 }),
    }
    for i, params in ipairs(bad) do
      local ok, err = pcall(sigv4.sign, params)
      assert.is_false(ok, i)
      -- the unknown-field message names the field the caller wrote, which is theirs to see;
      -- every other message must not carry the secret
      if i < 5 then assert.is_nil(err:find(secret, 1, true), err) end
    end
  end)
end)

describe("aws.core.crypto", function()
  it("sha256 and sha256_hex (FIPS 180-2)", function()
    assert.equals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", crypto.sha256_hex("abc"))
    assert.equals(crypto.sha256_hex("abc"), crypto.hex(crypto.sha256("abc")))
    assert.equals(32, #crypto.sha256(""))
  end)
  it("hmac_sha256 (RFC 4231 cases 1, 2, 6)", function()
    assert.equals("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      crypto.hex(crypto.hmac_sha256(string.rep("\11", 20), "Hi There")))
    assert.equals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      crypto.hex(crypto.hmac_sha256("Jefe", "what do ya want for nothing?")))
    assert.equals("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      crypto.hex(crypto.hmac_sha256(string.rep("\170", 131), "Test Using Larger Than Block-Size Key - Hash Key First")))
  end)
  it("hex and base64 (RFC 4648)", function()
    assert.equals("00ff7f", crypto.hex("\0\255\127"))
    local v = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
    for plain, enc in pairs(v) do
      assert.equals(enc, crypto.base64_encode(plain))
      assert.equals(plain, crypto.base64_decode(enc))
    end
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    all = table.concat(all)
    assert.equals(all, crypto.base64_decode(crypto.base64_encode(all)))
    local r, msg = crypto.base64_decode("Zm9v!")
    assert.is_nil(r)
    assert.is_string(msg)
    assert.is_nil((crypto.base64_decode("Zg=")))
  end)
  it("random_bytes and uuid4", function()
    assert.equals(0, #crypto.random_bytes(0))
    assert.equals(33, #crypto.random_bytes(33))
    assert.not_equals(crypto.random_bytes(16), crypto.random_bytes(16))
    assert.has_error(function() crypto.random_bytes(-1) end)
    local u = crypto.uuid4()
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$", u)
    assert.not_equals(u, crypto.uuid4())
  end)
end)

-- ---------------------------------------------------------------- suite-format cases

-- request.txt: "METHOD SP URI SP HTTP/1.1", "Name:value" lines (value byte-exact), lines
-- starting with whitespace continue the previous value (newline kept), blank line, body.
local function parse_request(text)
  local first, rest = text:match("^([^\n]*)\n?(.*)$")
  local method, uri = first:match("^(%S+) (.*) HTTP/1%.1$")
  local headers, body = {}, ""
  local pos = 1
  while pos <= #rest do
    local e = rest:find("\n", pos, true)
    local line = rest:sub(pos, (e or #rest + 1) - 1)
    local nextpos = e and e + 1 or #rest + 1
    if line == "" then
      body = rest:sub(nextpos)
      break
    end
    if line:match("^[ \t]") and #headers > 0 then
      headers[#headers][2] = headers[#headers][2] .. "\n" .. line
    else
      local n, v = line:match("^([^:]*):(.*)$")
      headers[#headers + 1] = { n, v }
    end
    pos = nextpos
  end
  return method, uri, headers, body
end

local function run_case(dir)
  local method, uri, headers, body = parse_request((assert(files.read(dir .. "/request.txt"))))
  local ctx = cjson.decode((assert(files.read(dir .. "/context.json"))))
  local host = header(headers, "host")
  local params = {
    method = method, url = "https://" .. host .. uri, headers = headers, body = body,
    region = ctx.region, service = ctx.service, time = ctx.timestamp,
    credentials = { access_key_id = ctx.credentials.access_key_id,
                    secret_access_key = ctx.credentials.secret_access_key,
                    session_token = ctx.credentials.token },
    normalize_path = ctx.normalize, sign_session_token = not ctx.omit_session_token,
    content_sha256_header = ctx.sign_body, payload_hash = ctx.payload_hash,
  }
  local checked = 0
  for _, kind in ipairs({ "header", "query" }) do
    local want_cr = files.read(dir .. "/" .. kind .. "-canonical-request.txt")
    if want_cr then
      local p = {}
      for k, v in pairs(params) do p[k] = v end
      local got
      if kind == "query" then
        p.expires = ctx.expiration_in_seconds
        got = sigv4.presign(p)
      else
        got = sigv4.sign(p)
      end
      assert.equals(want_cr, got.canonical_request, dir .. " " .. kind)
      assert.equals(files.read(dir .. "/" .. kind .. "-string-to-sign.txt"), got.string_to_sign, dir .. " " .. kind)
      assert.equals(files.read(dir .. "/" .. kind .. "-signature.txt"), got.signature, dir .. " " .. kind)
      checked = checked + 1
    end
  end
  return checked
end

local function case_dirs(root)
  local dirs = {}
  for name in proc.output("ls -1 " .. proc.quote(root) .. " 2>/dev/null"):gmatch("[^\n]+") do
    if files.read(root .. "/" .. name .. "/request.txt") then dirs[#dirs + 1] = root .. "/" .. name end
  end
  return dirs
end

describe("suite-format cases through the Lua API", function()
  it("the project's botocore vectors (tests/data/sigv4)", function()
    local dirs = case_dirs(files.src("tests/data/sigv4"))
    assert.is_true(#dirs >= 8)
    for _, d in ipairs(dirs) do assert.is_true(run_case(d) > 0, d) end
  end)

  it("the official AWS SigV4 suite ($DT_SHARED/sigv4-suite)", function()
    local root = shared and (shared .. "/sigv4-suite")
    if not root or not files.read(root .. "/get-vanilla/request.txt") then
      pending("DT_SHARED absent: official SigV4 suite skipped")
      return
    end
    local dirs = case_dirs(root)
    assert.equals(38, #dirs)
    local n = 0
    for _, d in ipairs(dirs) do n = n + run_case(d) end
    assert.equals(76, n)
  end)
end)

-- ---------------------------------------------------------------- botocore cross-check

local PIECES = { "graph", "members", "a b", "caf\u{e9}", "\u{1234}", "50%", "%41", "x+y", "a=b",
  "~user", "..", ".", "", "semi;colon", "at@sign", "!$&'()*,", "arn:aws:detective:us-east-1:111122223333:graph:abc",
  "arn%3Aaws%3Adetective%3Aus-east-1%3A111122223333%3Agraph%2Fabc", "d\u{e9}j\u{e0} vu", "tab%09", "UPPER" }
local QKEYS = { "a", "b", "Param", "a b", "\u{43a}\u{43b}\u{44e}\u{447}", "x%20y", "k~", "A", "empty", "plus+", "%zz", "s%2Fl" }
local QVALS = { "1", "", "v a l", "%2F", "\u{1234}", "a+b", "x=y", "%7E", "arn:aws:x", "10", "2" }
local HNAMES = { "X-Custom", "x-custom", "Content-Type", "X-Amz-Target", "Accept", "X-Multi", "User-Agent", "X-Empty" }
local HVALS = { "  a  b  ", "\tx\t", "", "v,w", "caf\u{e9}", "application/json", "one  two   three", " lead", "trail " }
local HOSTS = { "https://api.detective.us-east-1.amazonaws.com", "https://Example.COM:8443", "http://localhost:4566",
  "https://example.com:443", "http://example.com:80", "http://127.0.0.1:8080" }
local REGIONS = { "us-east-1", "eu-west-2", "ap-southeast-1" }
local SERVICES = { "detective", "guardduty", "sts", "execute-api" }

local function pick(t) return t[math.random(#t)] end

local function random_request(i)
  local mode = (i % 3 == 0) and "query" or "header"
  local segs = {}
  for _ = 1, math.random(1, 4) do segs[#segs + 1] = pick(PIECES) end
  local path = "/" .. table.concat(segs, "/") .. (math.random() < 0.3 and "/" or "")
  local q = {}
  local used = {}
  for _ = 1, math.random(0, 5) do
    local k = pick(QKEYS)
    if mode == "header" or not used[k] then
      used[k] = true
      local r = math.random()
      if r < 0.1 then q[#q + 1] = k
      elseif r < 0.15 then q[#q + 1] = ""
      else q[#q + 1] = k .. "=" .. pick(QVALS) end
    end
  end
  local url = pick(HOSTS) .. path .. (#q > 0 and ("?" .. table.concat(q, "&")) or "")
  local headers = {}
  for _ = 1, math.random(0, 4) do headers[#headers + 1] = { pick(HNAMES), pick(HVALS) } end
  if math.random() < 0.4 then
    local host = url:match("^https?://([^/]+)")
    local pos = math.random(#headers + 1)
    table.insert(headers, pos, { pick({ "Host", "host", "HOST" }), host:lower() })
  end
  local body = ""
  if mode == "header" and math.random() < 0.6 then
    body = '{"GraphArn":"arn:aws:detective:us-east-1:111122223333:graph:' .. string.format("%08x", math.random(0, 0x7fffffff)) ..
      '","MaxResults":' .. math.random(1, 200) .. ',"Note":"caf\u{e9} \u{1234}"}'
  end
  local token
  if math.random() < 0.4 then
    local raw = {}
    for j = 1, math.random(10, 40) do raw[j] = string.char(math.random(0, 255)) end
    token = "IQoJb3JpZ2luX2Vj" .. crypto.base64_encode(table.concat(raw))
  end
  local t = math.random(1262304000, 2051222400) -- 2010..2035
  local r = {
    mode = mode, method = pick({ "GET", "POST", "PUT", "DELETE", "PATCH" }), url = url,
    headers = headers, body = body, region = pick(REGIONS), service = pick(SERVICES),
    creds = { access_key_id = "AKIA" .. string.format("%012d", math.random(0, 999999999)),
              secret_access_key = crypto.base64_encode(string.char(math.random(0, 255), math.random(0, 255),
                math.random(0, 255))) .. "/K7MDENG+bPxRfiCY" .. math.random(1000000),
              session_token = token },
    time = os.date("!%Y%m%dT%H%M%SZ", t), epoch = t,
    normalize_path = math.random() < 0.8, sign_session_token = math.random() < 0.7,
    content_sha256_header = mode == "header" and math.random() < 0.3,
    expires = math.random(1, 604800),
  }
  if mode == "header" and math.random() < 0.1 then
    r.payload_hash = "UNSIGNED-PAYLOAD"
    r.content_sha256_header = true
  end
  return r
end

local function have_botocore()
  return proc.python_has("botocore.auth")
end

describe("cross-check against botocore", function()
  it("~200 random requests agree stage by stage", function()
    if not have_botocore() then
      pending("no /usr/bin/python3 with botocore")
      return
    end
    math.randomseed(20150830)
    local reqs = {}
    for i = 1, 201 do reqs[i] = random_request(i) end
    local lines = {}
    for _, r in ipairs(reqs) do
      local copy = {}
      for k, v in pairs(r) do copy[k] = v end
      copy.epoch = nil
      if #copy.headers == 0 then copy.headers = nil end
      lines[#lines + 1] = cjson.encode(copy) .. "\n"
    end
    local oracle = proc.run{ argv = { proc.PYTHON, files.src("tests/oracle/sigv4_botocore.py") }, stdin = table.concat(lines) }
    local answers = {}
    for line in oracle.stdout:gmatch("[^\n]+") do answers[#answers + 1] = cjson.decode(line) end
    assert.equals(#reqs, #answers)

    local failures, compared = {}, 0
    for i, r in ipairs(reqs) do
      local want = answers[i]
      if want.error then
        failures[#failures + 1] = ("#%d oracle error: %s"):format(i, want.error)
      else
        local p = {
          method = r.method, url = r.url, headers = r.headers, body = r.body, region = r.region,
          service = r.service, time = (i % 2 == 0) and r.epoch or r.time,
          credentials = { access_key_id = r.creds.access_key_id, secret_access_key = r.creds.secret_access_key,
                          session_token = r.creds.session_token },
          normalize_path = r.normalize_path, sign_session_token = r.sign_session_token,
        }
        local got
        if r.mode == "query" then
          p.expires = r.expires
          got = sigv4.presign(p)
        else
          p.content_sha256_header = r.content_sha256_header
          p.payload_hash = r.payload_hash
          got = sigv4.sign(p)
        end
        compared = compared + 1
        for _, stage in ipairs({ "canonical_request", "string_to_sign", "signature" }) do
          if got[stage] ~= want[stage] then
            failures[#failures + 1] = ("#%d %s %s %s\n--- botocore:\n%s\n--- detlua:\n%s"):format(
              i, r.mode, r.url, stage, tostring(want[stage]), tostring(got[stage]))
            break
          end
        end
        if r.mode == "header" and got.authorization ~= want.authorization then
          failures[#failures + 1] = ("#%d authorization differs"):format(i)
        end
      end
    end
    assert.equals(#reqs, compared)
    assert.equals(0, #failures, table.concat(failures, "\n\n", 1, math.min(#failures, 3)))
  end)
end)
