-- Test support for the emulator server specs (not a spec itself): builds SigV4-signed
-- requests with aws.sigv4 (its own tests check it against the AWS suite), drives the
-- router in-process, talks HTTP to a running emulator through curl, and starts
-- `$DETLUA emulator` as a child process reading its listening line. Files and shell
-- quoting come from tests/lib (files, proc).
local sigv4 = require "aws.sigv4"
local host = require "aws.core.host"
local files = require "files"
local proc = require "proc"

local C = {}

-- Keys of the built-in scenario (docs/emulator.md).
C.ADMIN = { access_key_id = "AKIAEMULATORSECURITY", secret_access_key = "emulator-security-secret-key-not-real-0001", account = "111122223333" }
C.PROD = { access_key_id = "AKIAEMULATORMEMBER01", secret_access_key = "emulator-member01-secret-key-not-real-0002", account = "444455556666" }
C.MGMT = { access_key_id = "AKIAEMULATORORGMGMT1", secret_access_key = "emulator-orgmgmt1-secret-key-not-real-0005", account = "999988887777" }

local function urlencode(s)
    return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end
C.urlencode = urlencode

-- "Action=X&Version=2011-06-15&k=v..." (keys sorted, for stable bodies)
function C.form(action, params)
    local parts = { "Action=" .. urlencode(action), "Version=2011-06-15" }
    local keys = {}
    for k in pairs(params or {}) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(params[k]) end
    return table.concat(parts, "&")
end

-- signed{method, path, query, body, headers, service, region, creds, time, host,
--        content_type} -> req {method, path, query, headers (lowercase), body}
function C.signed(o)
    local method = o.method or "POST"
    local path = o.path or "/"
    local query = o.query or ""
    local body = o.body or ""
    local hostport = o.host or "127.0.0.1:8000"
    local headers = { host = hostport }
    if o.content_type ~= false then
        headers["content-type"] = o.content_type or (o.service == "sts" and "application/x-www-form-urlencoded; charset=utf-8" or "application/json")
    end
    for k, v in pairs(o.headers or {}) do headers[k:lower()] = v end
    local creds = o.creds or C.ADMIN
    local res = sigv4.sign {
        method = method,
        url = "http://" .. hostport .. path .. (query ~= "" and ("?" .. query) or ""),
        headers = headers,
        body = body,
        region = o.region or "us-east-1",
        service = o.service or "sts",
        credentials = { access_key_id = creds.access_key_id, secret_access_key = creds.secret_access_key, session_token = creds.session_token },
        time = o.time or host.realtime(),
    }
    for _, h in ipairs(res.headers) do headers[h[1]:lower()] = h[2] end
    return { method = method, path = path, query = query, headers = headers, body = body }
end

-- Runs req through an in-process router app; returns {status, headers (lowercase map), body,
-- directive (what the server is told to do with the connection, for faults)}.
function C.call(app, req)
    local status, hlist, body, directive = app:handle(req)
    local h = {}
    for _, p in ipairs(hlist) do h[p[1]:lower()] = p[2] end
    return { status = status, headers = h, body = body, directive = directive }
end

-- An STS query-protocol call through an in-process router app, signed with creds.
function C.sts(app, action, params, creds)
    return C.call(app, C.signed { service = "sts", body = C.form(action, params), creds = creds })
end

-- XML element text (first match)
function C.xml(body, tag)
    return body:match("<" .. tag .. ">(.-)</" .. tag .. ">")
end

-- The temporary credentials in an STS answer's XML body.
function C.creds_of(body)
    return {
        access_key_id = C.xml(body, "AccessKeyId"),
        secret_access_key = C.xml(body, "SecretAccessKey"),
        session_token = C.xml(body, "SessionToken"),
    }
end

-- --- HTTP through curl -------------------------------------------------------------------

local shq = proc.quote

-- http(base_url, req) with req as built by C.signed (headers sent verbatim, Host too).
-- Returns {status, headers (lowercase map), body}.
function C.http(base, req, extra_args)
    local bodyf, outf, hdrf = files.tmpname(), files.tmpname(), files.tmpname()
    files.write(bodyf, req.body or "")
    local args = { "curl", "-s", "--globoff", "-X", shq(req.method or "GET"), "-o", shq(outf), "-D", shq(hdrf), "-w", "'%{http_code}'" }
    for k, v in pairs(req.headers or {}) do
        args[#args + 1] = "-H"
        args[#args + 1] = shq(k .. ": " .. v)
    end
    if req.headers == nil or req.headers["content-type"] == nil then args[#args + 1] = "-H 'Content-Type:'" end
    args[#args + 1] = "-H 'Accept:'"
    args[#args + 1] = "-H 'User-Agent: detlua-tests'"
    if (req.body or "") ~= "" then
        args[#args + 1] = "--data-binary"
        args[#args + 1] = shq("@" .. bodyf)
    end
    for _, a in ipairs(extra_args or {}) do args[#args + 1] = a end
    args[#args + 1] = shq(base .. req.path .. ((req.query or "") ~= "" and ("?" .. req.query) or ""))
    local code = proc.output(table.concat(args, " ") .. " 2>/dev/null")
    local out = files.read(outf) or ""
    local headers = {}
    for line in (files.read(hdrf) or ""):gmatch("[^\r\n]+") do
        local k, v = line:match("^([^:]+):%s*(.*)$")
        if k then headers[k:lower()] = v end
    end
    os.remove(bodyf)
    os.remove(outf)
    os.remove(hdrf)
    return { status = tonumber(code), headers = headers, body = out }
end

-- --- a child `detlua emulator` -------------------------------------------------------------

-- spawn(args) -> {pid, url, port, stderr = path, stop(), kill9(), wait() -> exit status}
-- args: extra command-line words (already shell-quoted where needed).
function C.spawn(args)
    local detlua = proc.detlua()
    local errf = files.tmpname()
    local statusf = files.tmpname()
    local cmd = "sh -c " .. shq("echo $$; exec " .. shq(detlua) .. " emulator --port 0 " .. table.concat(args or {}, " ")
        .. " 2>" .. shq(errf)) .. "; echo $? > " .. shq(statusf)
    local p = io.popen("(" .. cmd .. ") 2>/dev/null", "r")
    local pid = tonumber(p:read("l"))
    local line = p:read("l")
    local c = { pid = pid, stderr = errf, line = line, pipe = p }
    if line then
        c.url = line:match("^listening on (http://%S+)$")
        c.port = c.url and tonumber(c.url:match(":(%d+)$"))
    end
    function c.signal(sig)
        os.execute("kill -" .. sig .. " " .. pid .. " 2>/dev/null")
    end
    function c.wait()
        if c.pipe then
            c.rest = c.pipe:read("a")
            c.pipe:close()
            c.pipe = nil
            c.status = tonumber(files.read(statusf) or "")
            os.remove(statusf)
        end
        return c.status
    end
    function c.stop()
        c.signal("TERM")
        return c.wait()
    end
    function c.kill9()
        c.signal("KILL")
        return c.wait()
    end
    function c.errors()
        return files.read(errf) or ""
    end
    return c
end

-- Runs `$DETLUA emulator ARGS` expecting it to exit by itself; returns status, stdout, stderr.
function C.run_emulator(args)
    local errf = files.tmpname()
    local out, rc = proc.output(shq(proc.detlua()) .. " emulator " .. args .. " 2>" .. shq(errf) .. " </dev/null")
    local err = files.read(errf) or ""
    os.remove(errf)
    return rc, out, err
end

return C
