-- aws.credentials.process: credentials printed by the program a profile names in
-- `credential_process` (the AWS CLI's "sourcing credentials with an external process").
--
-- The command line is split with POSIX shell quoting rules (as Python's shlex.split, which
-- botocore uses) and the program is run directly, never through a shell, with a deadline.
-- Its stdout must be JSON {Version = 1, AccessKeyId, SecretAccessKey, SessionToken?,
-- Expiration?}. Failures raise aws.Error kind="credentials" code="CredentialProcessError";
-- messages show at most a short, redacted excerpt of the program's stderr and never its
-- stdout. Caching and refreshing are aws.credentials' business, not this file's.
local proc = require("aws.core.process")
local errors = require("aws.errors")
local redact = require("aws.redact")
local json = require("aws.json")
local time = require("aws.time")

local M = {}

M.TIMEOUT_MS = 60000          -- botocore waits forever; a hung helper should not hang a playbook
M.MAX_STDOUT_BYTES = 1 << 20
M.MAX_STDERR_BYTES = 4096
M.STDERR_EXCERPT_CHARS = 160

local function fail(where, msg)
  error(errors.new{ kind = "credentials", code = "CredentialProcessError", message = where .. ": " .. msg }, 0)
end

-- Splits a command line as Python's shlex.split (POSIX mode) does, which is what botocore
-- runs: whitespace separates words, '...' is literal, inside "..." only \" and \\ are
-- escapes, elsewhere a backslash takes the next character literally. Nothing is expanded.
-- Returns the list of words, or nil and a message.
function M.split(s)
  local words, cur, have = {}, {}, false
  local i, n = 1, #s
  local function push()
    if have then words[#words + 1] = table.concat(cur) end
    cur, have = {}, false
  end
  while i <= n do
    local c = s:sub(i, i)
    if c == " " or c == "\t" or c == "\n" or c == "\r" then
      push()
      i = i + 1
    elseif c == "'" then
      local j = s:find("'", i + 1, true)
      if not j then return nil, "no closing quotation (')" end
      cur[#cur + 1] = s:sub(i + 1, j - 1)
      have = true
      i = j + 1
    elseif c == '"' then
      have = true
      i = i + 1
      while true do
        if i > n then return nil, "no closing quotation (\")" end
        local d = s:sub(i, i)
        if d == '"' then
          i = i + 1
          break
        elseif d == "\\" and i < n and s:sub(i + 1, i + 1):match('["\\]') then
          cur[#cur + 1] = s:sub(i + 1, i + 1)
          i = i + 2
        else
          cur[#cur + 1] = d
          i = i + 1
        end
      end
    elseif c == "\\" then
      if i == n then return nil, "nothing after the final backslash" end
      cur[#cur + 1] = s:sub(i + 1, i + 1)
      have = true
      i = i + 2
    else
      cur[#cur + 1] = c
      have = true
      i = i + 1
    end
  end
  push()
  return words
end

-- A short, single-line, redacted excerpt of a helper's stderr: helpers sometimes print
-- tokens while debugging, so long key-like runs are masked too.
function M.excerpt(s)
  s = (s or ""):gsub("[%c]+", " "):gsub("^%s+", ""):gsub("%s+$", "")
  if s == "" then return nil end
  local cut = #s > M.STDERR_EXCERPT_CHARS
  s = s:sub(1, M.STDERR_EXCERPT_CHARS)
  s = redact.text(s)
  s = s:gsub("[%w/+=_%-]+", function(w)
    if #w >= 20 and w:match("%d") and w:match("%a") then return redact.MARK end
  end)
  return s .. (cut and " ..." or "")
end

-- fetch{command = "...", profile = "name", env = table|nil, now = epoch seconds,
--       timeout_ms = ?} -> {access_key_id, secret_access_key, session_token?, expiration?,
--       source = "custom-process"}
function M.fetch(o)
  local where = string.format("credential_process of profile \"%s\"", o.profile)
  local argv, serr = M.split(o.command)
  if not argv then fail(where, "cannot split the command line: " .. serr) end
  if #argv == 0 then fail(where, "the command line is empty") end
  local r, rerr = proc.run{ argv = argv, env = o.env, timeout_ms = o.timeout_ms or M.TIMEOUT_MS,
    max_stdout_bytes = M.MAX_STDOUT_BYTES, max_stderr_bytes = M.MAX_STDERR_BYTES }
  if not r then fail(where, rerr) end
  local ex = M.excerpt(r.stderr)
  local tail = ex and ("; stderr: " .. ex) or ""
  if r.interrupted then fail(where, argv[1] .. " was stopped: interrupted") end
  if r.timed_out then
    fail(where, string.format("%s did not finish within %g s and was killed%s", argv[1],
      (o.timeout_ms or M.TIMEOUT_MS) / 1000, tail))
  end
  if r.stdout_overflow then fail(where, string.format("%s printed more than %d bytes", argv[1], M.MAX_STDOUT_BYTES)) end
  if r.signal then fail(where, string.format("%s was killed by signal %d%s", argv[1], r.signal, tail)) end
  if r.exit_code ~= 0 then fail(where, string.format("%s exited with status %d%s", argv[1], r.exit_code, tail)) end
  local doc = json.decode(r.stdout)
  if type(doc) ~= "table" or doc[1] ~= nil then
    fail(where, argv[1] .. " did not print a JSON object on stdout")
  end
  if doc.Version ~= 1 then
    local v = doc.Version
    fail(where, "unsupported Version " .. (type(v) == "number" and tostring(v) or (v == nil and "(missing)" or type(v)))
      .. " in the output (supported: 1)")
  end
  for _, k in ipairs({ "AccessKeyId", "SecretAccessKey" }) do
    if type(doc[k]) ~= "string" or doc[k] == "" then
      fail(where, "the output lacks " .. k .. " (a non-empty string)")
    end
  end
  if doc.SessionToken ~= nil and type(doc.SessionToken) ~= "string" then
    fail(where, "SessionToken in the output must be a string")
  end
  local c = { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
    session_token = doc.SessionToken ~= "" and doc.SessionToken or nil, source = "custom-process" }
  redact.register(c.secret_access_key)
  redact.register(c.session_token)
  if doc.Expiration ~= nil then
    local t = type(doc.Expiration) == "string" and time.parse(doc.Expiration)
    if not t then fail(where, "Expiration in the output is not an ISO 8601 date-time") end
    c.expiration = math.floor(t)
    if o.now and c.expiration <= o.now then
      fail(where, "the credentials it printed expired at " .. time.format(c.expiration))
    end
  end
  return c
end

return M
