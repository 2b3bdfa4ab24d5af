-- http_spec: the libcurl transport (module aws.core.http) against local servers on
-- 127.0.0.1 only: tests/helpers/http_test_server.py (a capture server that echoes what
-- it received, a forward proxy, TLS servers with certificates made here with the
-- openssl CLI). The servers, not the client, are the oracles: they count connections,
-- record headers and bodies. Environment-dependent cases (proxy variables,
-- AWS_CA_BUNDLE) run in a child detlua with its own environment.
local H = require("aws.core.http")
local cjson = require("cjson")
local files = require("files")
local loopback = require("loopback")
local proc = require("proc")

local SERVER = files.src("tests/helpers/http_test_server.py")
local DETLUA = os.getenv("DETLUA")
local q = proc.quote

-- The output of a shell command line (its status is not needed here).
local function run(cmd)
  return (proc.output(cmd))
end

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local have_python = files.exists(proc.PYTHON) and files.exists(SERVER)
local have_openssl = proc.have("openssl")

-- In-process requests follow the proxy variables of the test's own environment; a
-- proxy there that is not bypassed for 127.0.0.1 would reroute them.
local function env_proxy_in_the_way()
  local p = os.getenv("http_proxy") or os.getenv("https_proxy") or os.getenv("HTTPS_PROXY")
    or os.getenv("all_proxy") or os.getenv("ALL_PROXY")
  if not p or p == "" then return false end
  local np = (os.getenv("no_proxy") or os.getenv("NO_PROXY") or "")
  return not (np == "*" or np:find("127.0.0.1", 1, true))
end

local tmpdir

local function start_server(name, args)
  return loopback.start_python(SERVER, tmpdir, name, args)
end

local function free_port()
  return tonumber(run(proc.PYTHON .. " " .. q(SERVER) .. " --free-port")) or error("no free port")
end

-- A child detlua with its own environment: prints status and body, or the error code.
local CHILD = [[
local H = require("aws.core.http")
local st, h, b = H.new{}:request{method = "POST", url = arg[1], body = "via child"}
if st then
  io.write("status=", st, "\nvia=", tostring(h["x-via-test-proxy"]), "\n", b)
else
  io.write("error=", h.code, "\n", h.message)
end
]]

local function child(env, url)
  local script = tmpdir .. "/child.lua"
  if not files.exists(script) then files.write(script, CHILD) end
  return run(string.format("env %s %s %s %s 2>&1", env, q(DETLUA), q(script), q(url)))
end

local function mkcerts(dir)
  local function sh(cmd)
    local ok = os.execute("cd " .. q(dir) .. " && " .. cmd .. " >>openssl.log 2>&1")
    assert(ok, "openssl failed: " .. (files.read(dir .. "/openssl.log") or ""))
  end
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  sh("openssl req -x509 " .. ec .. " -keyout ca.key -out ca.pem -days 2 -subj '/CN=detlua test CA'"
    .. " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign")
  local sans = { good = "IP:127.0.0.1,DNS:localhost", wrong = "DNS:other.invalid" }
  for name, san in pairs(sans) do
    files.write(dir .. "/" .. name .. ".ext", "subjectAltName=" .. san .. "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    sh("openssl req -new " .. ec .. " -keyout " .. name .. ".key -out " .. name .. ".csr -subj /CN="
      .. name)
    sh("openssl x509 -req -in " .. name .. ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
      .. " -extfile " .. name .. ".ext -out " .. name .. ".pem")
  end
end

describe("aws.core.http caller mistakes", function()
  it("raise before any I/O, naming the parameter", function()
    local c = H.new({})
    local function fails(req, pat)
      local ok, err = pcall(c.request, c, req)
      assert.is_false(ok)
      assert.matches(pat, tostring(err), 1, true)
    end
    fails({ url = "http://127.0.0.1:1/" }, "request.method")
    fails({ method = 1, url = "http://127.0.0.1:1/" }, "request.method")
    fails({ method = "GE T", url = "http://127.0.0.1:1/" }, "request.method")
    fails({ method = "GET" }, "request.url")
    fails({ method = "GET", url = "ftp://127.0.0.1/" }, "request.url")
    fails({ method = "GET", url = "http://127.0.0.1:1/", body = {} }, "request.body")
    fails({ method = "GET", url = "http://127.0.0.1:1/", headers = "x" }, "request.headers")
    fails({ method = "GET", url = "http://127.0.0.1:1/", headers = { { "X-A" } } }, "request.headers[1]")
    fails({ method = "GET", url = "http://127.0.0.1:1/", headers = { { "X A", "v" } } },
      "request.headers[1][1]")
    fails({ method = "GET", url = "http://127.0.0.1:1/", headers = { { "X-A", "a\r\nB: c" } } },
      "request.headers[1]")
    fails({ method = "GET", url = "http://127.0.0.1:1/", headres = {} }, "headres")
    assert.has_error(function() c.request(c, "GET") end)
    assert.has_error(function() H.new({ connect_timeout_ms = "fast" }) end)
    assert.has_error(function() H.new({ timeout = 5 }) end)
    assert.has_error(function() H.new({ ca_bundle = "/nonexistent/ca.pem" }) end)
    assert.has_error(function() H.multi({ max_total_connections = -1 }) end)
  end)

  it("close is idempotent and shared by __close and __gc", function()
    local c = H.new({})
    c:close()
    c:close()
    assert.has_error(function() c:request({ method = "GET", url = "http://127.0.0.1:1/" }) end,
      "aws.core.http: connection is closed")
    do
      local d <close> = H.multi({})
      assert.equals(0, d:pending())
    end
    local m = H.multi({})
    m:close()
    m:close()
    assert.has_error(function() m:pending() end, "aws.core.http: multi is closed")
  end)
end)

describe("aws.core.http against local servers", function()
  if not have_python then
    pending("no /usr/bin/python3: transport tests skipped")
    return
  end
  if env_proxy_in_the_way() then
    pending("a proxy variable in the environment would reroute 127.0.0.1: skipped")
    return
  end

  local port, proxy_port, base

  setup(function()
    tmpdir = files.tmpdir()
    port = start_server("echo")
    proxy_port = start_server("proxy", "--proxy")
    base = "http://127.0.0.1:" .. port
  end)

  teardown(function()
    loopback.stop_all()
    files.rmdir(tmpdir)
  end)

  local function expect_error(code, retryable, ...)
    local st, e = ...
    assert.is_nil(st)
    assert.equals("table", type(e))
    assert.equals("transport", e.kind)
    assert.equals(code, e.code, e.message)
    assert.equals(retryable, e.retryable)
    assert.equals("string", type(e.message))
    return e
  end

  it("keeps one connection alive across requests", function()
    local c = H.new({})
    local seen = {}
    for i = 1, 3 do
      local st, _, body = c:request({ method = "GET", url = base .. "/echo?i=" .. i })
      assert.equals(200, st)
      seen[i] = cjson.decode(body).conn
    end
    assert.equals(seen[1], seen[2])
    assert.equals(seen[1], seen[3])
    assert.equals(1, c:stats().connects)
    assert.equals(1, H.stats(c).connects)
    assert.equals(3, c:stats().requests)
  end)

  it("sends method, path, headers and body as given and returns the response", function()
    local c = H.new({})
    local bytes = {}
    for b = 0, 255 do bytes[#bytes + 1] = string.char(b) end
    local body = table.concat(bytes)
    local st, h, resp = c:request({
      method = "PUT",
      url = base .. "/a/./b/../c?x=1&y=%2F",
      headers = { { "Content-Type", "application/x-amz-json-1.1" }, { "X-Amz-Target", "T.Op" },
        { "X-Empty", "" }, ["X-Map-Form"] = "m" },
      body = body,
    })
    assert.equals(200, st)
    assert.equals("application/json", h["content-type"])
    local got = cjson.decode(resp)
    assert.equals("PUT", got.method)
    assert.equals("/a/./b/../c?x=1&y=%2F", got.path) -- as signed: no dot-segment removal
    assert.equals(hex(body), got.body_hex)
    local hdr = {}
    for _, kv in ipairs(got.headers) do hdr[kv[1]:lower()] = kv[2] end
    assert.equals("application/x-amz-json-1.1", hdr["content-type"])
    assert.equals("T.Op", hdr["x-amz-target"])
    assert.equals("", hdr["x-empty"])
    assert.equals("m", hdr["x-map-form"])
    assert.equals("256", hdr["content-length"])
    assert.is_nil(hdr["expect"])
  end)

  it("adds no Content-Type or Expect of its own to a body", function()
    local c = H.new({})
    local st, _, resp = c:request({ method = "POST", url = base .. "/echo",
      body = string.rep("b", 2 * 1024 * 1024) })
    assert.equals(200, st)
    local hdr = {}
    for _, kv in ipairs(cjson.decode(resp).headers) do hdr[kv[1]:lower()] = kv[2] end
    assert.is_nil(hdr["content-type"])
    assert.is_nil(hdr["expect"])
    assert.equals(tostring(2 * 1024 * 1024), hdr["content-length"])
  end)

  it("joins repeated response headers and trims values", function()
    local st, h = H.new({}):request({ method = "GET", url = base .. "/repeat" })
    assert.equals(200, st)
    assert.equals("a, b", h["x-multi"])
    assert.equals("padded", h["x-single"])
  end)

  it("sends User-Agent detlua/<version>, with the caller's suffix", function()
    local version = DETLUA and run(q(DETLUA) .. " --version"):match("^detlua (%S+)")
    assert.is_string(version)
    local function ua(opts)
      local _, _, body = H.new(opts):request({ method = "GET", url = base .. "/echo" })
      for _, kv in ipairs(cjson.decode(body).headers) do
        if kv[1]:lower() == "user-agent" then return kv[2] end
      end
    end
    assert.equals("detlua/" .. version, ua({}))
    assert.equals("detlua/" .. version .. " playbook/2", ua({ user_agent_suffix = "playbook/2" }))
  end)

  it("returns 4xx and 5xx responses instead of raising", function()
    local c = H.new({})
    local st, h, body = c:request({ method = "POST", url = base .. "/status/500", body = "{}" })
    assert.equals(500, st)
    assert.equals("application/json", h["content-type"])
    assert.same({ status = 500 }, cjson.decode(body))
    assert.equals(404, (c:request({ method = "GET", url = base .. "/status/404" })))
  end)

  it("classifies a refused connection, naming the host and not the headers or query", function()
    local p = free_port()
    local e = expect_error("ConnectionRefused", true, H.new({}):request({ method = "GET",
      url = "http://127.0.0.1:" .. p .. "/x?X-Amz-Signature=sig-in-query",
      headers = { { "Authorization", "secret-authorization-value" } } }))
    assert.matches("127.0.0.1:" .. p, e.message, 1, true)
    assert.is_nil(e.message:find("secret-authorization-value", 1, true))
    assert.is_nil(e.message:find("sig-in-query", 1, true))
  end)

  it("times out connecting to a listener that never accepts", function()
    local stuck = start_server("stuck", "--stuck")
    local st, e = H.new({ connect_timeout_ms = 300 }):request({ method = "GET",
      url = "http://127.0.0.1:" .. stuck .. "/" })
    if e and e.code == "ConnectionRefused" then
      pending("this kernel resets connections when the accept queue is full")
      return
    end
    expect_error("ConnectTimeout", true, st, e)
  end)

  it("times out reading from a server that stalls", function()
    local c = H.new({ read_timeout_ms = 1000 })
    expect_error("ReadTimeout", true, c:request({ method = "GET", url = base .. "/stall?ms=5000" }))
    -- the same after a kept-alive request, and when the body stops halfway
    local c2 = H.new({ read_timeout_ms = 1000 })
    assert.equals(200, (c2:request({ method = "GET", url = base .. "/echo" })))
    expect_error("ReadTimeout", true, c2:request({ method = "GET", url = base .. "/stall?ms=5000" }))
    expect_error("ReadTimeout", true, c2:request({ method = "GET", url = base .. "/trickle?ms=5000" }))
    -- the whole-transfer timeout
    local c3 = H.new({ timeout_ms = 1000 })
    expect_error("ReadTimeout", true, c3:request({ method = "GET", url = base .. "/stall?ms=5000" }))
  end)

  it("classifies a reset connection as retryable", function()
    expect_error("ConnectionReset", true, H.new({}):request({ method = "GET", url = base .. "/reset" }))
  end)

  it("caps the response body, with Content-Length and chunked", function()
    local c = H.new({ max_response_bytes = 100000 })
    local st, _, body = c:request({ method = "GET", url = base .. "/big?n=100000" })
    assert.equals(200, st)
    assert.equals(100000, #body)
    local e = expect_error("ResponseTooLarge", false,
      c:request({ method = "GET", url = base .. "/big?n=100001" }))
    assert.matches("127.0.0.1:" .. port, e.message, 1, true)
    st, _, body = c:request({ method = "GET", url = base .. "/chunked?n=100000" })
    assert.equals(200, st)
    assert.equals(string.rep("y", 100000), body)
    expect_error("ResponseTooLarge", false, c:request({ method = "GET", url = base .. "/chunked?n=100001" }))
    expect_error("ResponseTooLarge", false, c:request({ method = "GET", url = base .. "/chunked?n=5000000" }))
    -- the connection is still usable afterwards
    assert.equals(200, (c:request({ method = "GET", url = base .. "/echo" })))
    -- a HEAD answer announces a length but carries no body: not over the cap
    local h
    st, h, body = c:request({ method = "HEAD", url = base .. "/big?n=200000" })
    assert.equals(200, st)
    assert.equals("200000", h["content-length"])
    assert.equals("", body)
    -- default cap: 64 MiB (refused from the Content-Length alone)
    expect_error("ResponseTooLarge", false, H.new({}):request({ method = "GET",
      url = base .. "/big?n=" .. (64 * 1024 * 1024 + 1) }))
  end)

  it("caps the response headers", function()
    local c = H.new({ max_header_bytes = 4096 })
    assert.equals(200, (c:request({ method = "GET", url = base .. "/bigheaders?n=1000" })))
    expect_error("ResponseTooLarge", false, c:request({ method = "GET", url = base .. "/bigheaders?n=5000" }))
  end)

  it("multi: 50 requests in flight complete with the right body per id", function()
    local m = H.multi({})
    local want = {}
    for i = 1, 50 do
      local id = m:add({ method = "POST", url = base .. "/echo?n=" .. i, body = "body-" .. i })
      assert.is_number(id)
      assert.is_nil(want[id])
      want[id] = i
    end
    assert.equals(50, m:pending())
    local got, first_conns = {}, {}
    while m:pending() > 0 do
      for _, d in ipairs(m:perform(1000)) do
        assert.is_nil(d.error, d.error and d.error.message)
        assert.equals(200, d.status)
        assert.equals("application/json", d.headers["content-type"])
        local echo = cjson.decode(d.body)
        local i = want[d.id]
        assert.equals("body-" .. i, echo.body)
        assert.equals("/echo?n=" .. i, echo.path)
        assert.is_nil(got[d.id])
        got[d.id] = true
        first_conns[echo.conn] = true
      end
    end
    local n = 0
    for _ in pairs(got) do n = n + 1 end
    assert.equals(50, n)
    -- a second round reuses the connections of the first (the server's own count)
    for i = 1, 50 do m:add({ method = "GET", url = base .. "/echo?round=2&n=" .. i }) end
    local done = 0
    while m:pending() > 0 do
      for _, d in ipairs(m:perform(1000)) do
        assert.equals(200, d.status)
        assert.is_true(first_conns[cjson.decode(d.body).conn] ~= nil)
        done = done + 1
      end
    end
    assert.equals(50, done)
    assert.equals(100, m:stats().requests)
    assert.is_true(m:stats().connects <= 50)
    -- a failed transfer comes back as {id, error}
    local bad = m:add({ method = "GET", url = "http://127.0.0.1:" .. free_port() .. "/" })
    local res = {}
    while #res == 0 do res = m:perform(1000) end
    assert.equals(bad, res[1].id)
    assert.equals("ConnectionRefused", res[1].error.code)
    assert.is_true(res[1].error.retryable)
    -- cancelling drops a transfer in flight
    local slow = m:add({ method = "GET", url = base .. "/stall?ms=3000" })
    assert.is_true(m:cancel(slow))
    assert.equals(0, m:pending())
    assert.same({}, m:perform(0))
    m:close()
  end)

  it("multi honours max_host_connections", function()
    local m = H.multi({ max_host_connections = 2 })
    for i = 1, 10 do m:add({ method = "GET", url = base .. "/echo?i=" .. i }) end
    local conns, done = {}, 0
    while m:pending() > 0 do
      for _, d in ipairs(m:perform(1000)) do
        conns[cjson.decode(d.body).conn] = true
        done = done + 1
      end
    end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.equals(10, done)
    assert.is_true(n <= 2)
  end)

  describe("proxy variables (child detlua)", function()
    if not DETLUA then
      pending("DETLUA not set")
      return
    end
    local clean = "-u no_proxy -u NO_PROXY -u all_proxy -u ALL_PROXY -u https_proxy -u HTTPS_PROXY"

    it("sends http:// requests through http_proxy", function()
      local out = child(clean .. " http_proxy=http://127.0.0.1:" .. proxy_port, base .. "/echo")
      assert.matches("^status=200\nvia=1\n", out)
      local echo = cjson.decode(out:match("\n({.*)$"))
      local hdr = {}
      for _, kv in ipairs(echo.headers) do hdr[kv[1]:lower()] = kv[2] end
      assert.equals(tostring(proxy_port), hdr["x-test-proxy"])
      assert.equals("via child", echo.body)
    end)

    it("bypasses the proxy for hosts in no_proxy", function()
      local out = child(clean .. " http_proxy=http://127.0.0.1:" .. proxy_port .. " no_proxy=127.0.0.1",
        base .. "/echo")
      assert.matches("^status=200\nvia=nil\n", out)
    end)

    it("reports an unreachable proxy as ProxyError without its credentials", function()
      local out = child(clean .. " http_proxy=http://user:proxy-password@127.0.0.1:" .. free_port(),
        base .. "/echo")
      assert.matches("^error=ProxyError\n", out)
      assert.is_nil(out:find("proxy-password", 1, true))
    end)
  end)

  describe("TLS", function()
    if not have_openssl then
      pending("no openssl CLI: TLS tests skipped")
      return
    end
    local tls_port, wrong_port, ca

    setup(function()
      local dir = tmpdir .. "/tls"
      files.mkdir(dir)
      mkcerts(dir)
      ca = dir .. "/ca.pem"
      tls_port = start_server("tls", "--tls-cert " .. q(dir .. "/good.pem") .. " --tls-key "
        .. q(dir .. "/good.key"))
      wrong_port = start_server("tls-wrong", "--tls-cert " .. q(dir .. "/wrong.pem")
        .. " --tls-key " .. q(dir .. "/wrong.key"))
    end)

    it("rejects a certificate from an unknown CA", function()
      local e = expect_error("TLSError", false, H.new({}):request({ method = "GET",
        url = "https://127.0.0.1:" .. tls_port .. "/echo" }))
      assert.matches("127.0.0.1:" .. tls_port, e.message, 1, true)
    end)

    it("accepts it with the ca_bundle option, by address and by name", function()
      local c = H.new({ ca_bundle = ca })
      local st, _, body = c:request({ method = "POST", url = "https://127.0.0.1:" .. tls_port .. "/echo",
        body = "over tls" })
      assert.equals(200, st)
      assert.equals("over tls", cjson.decode(body).body)
      assert.equals(200, (c:request({ method = "GET", url = "https://127.0.0.1:" .. tls_port .. "/echo" })))
      assert.equals(1, c:stats().connects)
      assert.equals(200, (c:request({ method = "GET", url = "https://localhost:" .. tls_port .. "/echo" })))
    end)

    it("accepts it with AWS_CA_BUNDLE (child detlua)", function()
      if not DETLUA then
        pending("DETLUA not set")
        return
      end
      local clean = "-u https_proxy -u HTTPS_PROXY -u all_proxy -u ALL_PROXY"
      local url = "https://127.0.0.1:" .. tls_port .. "/echo"
      assert.matches("^status=200\n", child(clean .. " AWS_CA_BUNDLE=" .. q(ca), url))
      assert.matches("^error=TLSError\n", child(clean .. " -u AWS_CA_BUNDLE", url))
    end)

    it("rejects a certificate for another host name even from the trusted CA", function()
      local e = expect_error("TLSError", false, H.new({ ca_bundle = ca }):request({ method = "GET",
        url = "https://127.0.0.1:" .. wrong_port .. "/echo" }))
      assert.matches("127.0.0.1:" .. wrong_port, e.message, 1, true)
    end)
  end)
end)
