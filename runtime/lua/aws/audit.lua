-- aws.audit: a tamper-evident record of API calls, one JSON line per call, for
-- `--audit-log FILE` and aws.audit.open(path). Each line is
--   {"hash":"<sha256 of the rest>", <the record's keys, sorted>}
-- where the record holds account, attempts, duration_ms, error_code, operation, outcome
-- ("ok" | "error" | "dry-run"), params (redacted with the model's sensitive marks),
-- playbook, prev (sha256 of the previous line's bytes; 64 zeros on the first line),
-- region, request_id, status and time. "hash" makes a changed byte show at its own line;
-- "prev" chains the lines so removing, reordering or rewriting one shows at the next.
-- Anyone able to write the file can still rebuild the whole chain: keep the head hash
-- (`detlua audit verify` prints it) somewhere else to detect that.
-- Lines are appended and flushed one by one (they survive the process dying, not a power
-- failure: Lua's io has no fsync). Never written: credentials, headers, response bodies.
-- Fed by the client's after_call hook (chained to any earlier one); dry-run skips arrive
-- there with info.dry_run = true.
local client = require("aws.client")
local config = require("aws.core.config")
local crypto = require("aws.core.crypto")
local json = require("aws.json")
local redact = require("aws.redact")
local time = require("aws.time")

local M = {}

M.ZERO = string.rep("0", 64)
-- Label of the client that looks up the caller's account; its own call is not recorded.
M.IDENTITY_LABEL = "aws.audit.identity"
local TAIL_BYTES = 4 * 1024 * 1024 -- how much of an existing log is read to find its last line

local open_logs = {} -- list of open Log objects

local Log = { __name = "aws.AuditLog" }
Log.__index = Log

local function hex_ok(s)
  return type(s) == "string" and #s == 64 and not s:find("[^0-9a-f]")
end

-- Splits a stored line into its hash and the hashed body. nil, reason when malformed.
local function parse_line(line)
  local h, rest = line:match('^{"hash":"(%x+)",(.*)$')
  if not h or not hex_ok(h) then return nil, "not an audit record (it must start with {\"hash\":\"<64 hex>\",)" end
  return h, "{" .. rest
end

-- Reads the last line of an existing log, so that appending continues its chain.
local function tail_hash(path)
  local f = io.open(path, "rb")
  if not f then return M.ZERO end
  local size = f:seek("end")
  if size == 0 then f:close(); return M.ZERO end
  local from = math.max(0, size - TAIL_BYTES)
  f:seek("set", from)
  local data = f:read("a")
  f:close()
  if data:sub(-1) ~= "\n" then
    error("aws.audit.open: " .. path .. " ends with an incomplete line; check it with `detlua audit verify "
      .. path .. "` and start a new log", 0)
  end
  local body = data:sub(1, -2)
  local last = body:match("([^\n]*)$")
  if from > 0 and #last == #body then
    error("aws.audit.open: " .. path .. ": last line longer than " .. TAIL_BYTES .. " bytes", 0)
  end
  if not parse_line(last) then
    error("aws.audit.open: " .. path .. " is not a detlua audit log (its last line is not a record); refusing to append", 0)
  end
  return crypto.sha256_hex(last)
end

-- aws.audit.open(path, {playbook = name, lookup_account = true}) -> log
-- Appends to path (created if missing), continuing the chain of what is there.
function M.open(path, opts)
  if type(path) ~= "string" or path == "" then
    error("aws.audit.open: path: expected a file name, got " .. type(path), 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then error("aws.audit.open: options: expected a table", 2) end
  for k in pairs(opts) do
    if k ~= "playbook" and k ~= "lookup_account" then
      error("aws.audit.open: unknown option \"" .. tostring(k) .. "\" (playbook, lookup_account)", 2)
    end
  end
  local prev = tail_hash(path)
  local fh, err = io.open(path, "ab")
  if not fh then error("aws.audit.open: " .. tostring(err), 2) end
  local playbook = opts.playbook
  if playbook == nil then
    local a = rawget(_G, "arg")
    playbook = type(a) == "table" and type(a[0]) == "string" and a[0] or nil
  end
  local log = setmetatable({ path = path, fh = fh, prev = prev, records = 0, playbook = playbook,
    lookup_account = opts.lookup_account ~= false }, Log)
  open_logs[#open_logs + 1] = log
  return log
end

local KEYS = { "account", "attempts", "duration_ms", "error_code", "operation", "outcome", "params",
  "playbook", "prev", "region", "request_id", "status", "time" }

-- Appends one record (keys as listed above; params is {value, svc, shape}).
function Log:write(rec)
  if not self.fh then error("aws.audit: the log " .. self.path .. " is closed", 2) end
  rec.prev = self.prev
  local parts = {}
  for i, k in ipairs(KEYS) do
    local v = rec[k]
    local enc
    if k == "params" then
      enc = json.encode(v[1], { svc = v[2], shape = v[3] })
    else
      enc = json.encode(v)
    end
    parts[i] = json.quote(k) .. ":" .. enc
  end
  local body = "{" .. table.concat(parts, ",") .. "}"
  local line = '{"hash":"' .. crypto.sha256_hex(body) .. '",' .. body:sub(2)
  local ok, err = self.fh:write(line, "\n")
  if ok then ok, err = self.fh:flush() end
  if not ok then error("aws.audit: cannot write " .. self.path .. ": " .. tostring(err), 0) end
  self.prev = crypto.sha256_hex(line)
  self.records = self.records + 1
end

function Log:close()
  if self.fh then
    self.fh:close()
    self.fh = nil
    for i, l in ipairs(open_logs) do
      if l == self then table.remove(open_logs, i); break end
    end
  end
end
Log.__close = Log.close
Log.__gc = Log.close

function Log:__tostring()
  return "aws.AuditLog(" .. self.path .. (self.fh and "" or ", closed") .. ")"
end

-- Closes every log opened so far.
function M.close_all()
  for i = #open_logs, 1, -1 do open_logs[i]:close() end
end

function M.open_logs()
  local out = {}
  for i, l in ipairs(open_logs) do out[i] = l end
  return out
end

-- The caller's account. Taken from the credentials when they carry it (account_id);
-- otherwise from one STS GetCallerIdentity per access key, made lazily the first time
-- that key's call is recorded and cached for the process. Null when the lookup fails,
-- when no open log wants it, or for a dry-run call whose client has not resolved its
-- credentials yet (dry run resolves nothing it does not send). A failed lookup (throttling,
-- a network blip) is tried again once LOOKUP_RETRY_S have passed, not for every record.
local identities = {} -- access key id -> account id | {failed_at = s} | PENDING
local PENDING = {}
M.LOOKUP_RETRY_S = 60

-- Forgets the accounts looked up so far (specs).
function M.forget_accounts()
  identities = {}
end

local function account_of(c, want_lookup)
  local cfg = rawget(c, "_cfg")
  local creds = cfg and cfg.credentials
  if not creds then return nil end
  if type(creds.account_id) == "string" then return creds.account_id end
  local key = creds.access_key_id
  if type(key) ~= "string" then return nil end
  -- A lookup already running in another concurrent task: wait for it (bounded).
  local waited = 0
  while identities[key] == PENDING and waited < 15 do
    client.sleep(0.02)
    waited = waited + 0.02
  end
  local known = identities[key]
  if known == PENDING then return nil end
  if type(known) == "table" then
    if time.now() - known.failed_at < M.LOOKUP_RETRY_S then return nil end
    known = nil
  end
  if known ~= nil or not want_lookup then return known end
  identities[key] = PENDING
  local ok, account = pcall(function()
    local sts = client.new("sts", { region = cfg.region, endpoint = c.opts.endpoint, env = c.opts.env,
      credentials = function() return creds end, max_attempts = 1, timeout_ms = 10000,
      label = M.IDENTITY_LABEL, dry_run = false, debug = c.opts.debug })
    local r = sts:get_caller_identity{}
    sts:close()
    return r.Account
  end)
  if ok and type(account) == "string" then
    identities[key] = account
    return account
  end
  identities[key] = { failed_at = time.now() }
  return nil
end
M._account_of = account_of

local function region_of(c)
  local cfg = rawget(c, "_cfg")
  if cfg then return cfg.region end
  local o = c.opts
  local ok, r = pcall(config.region, { region = o.region, profile = o.profile, env = o.env })
  if ok and type(r) == "string" then return r end
  return nil
end

-- The after_call hook: one record per call in every open log.
function M.record(c, op, params, info)
  if #open_logs == 0 or c.opts.label == M.IDENTITY_LABEL then return end
  local want = false
  for _, l in ipairs(open_logs) do if l.lookup_account then want = true end end
  local account = account_of(c, want)
  local err = info.error
  local outcome = info.dry_run and "dry-run" or (info.ok and "ok" or "error")
  local svc = c.svc
  local rec_base = {
    time = time.format(time.now(), { ms = true }),
    account = account,
    region = region_of(c),
    operation = svc.service_id .. "." .. op.name,
    outcome = outcome,
    error_code = err and err.code or nil,
    status = info.status or (err and err.status) or nil,
    request_id = info.request_id or (err and err.request_id) or nil,
    attempts = info.attempts,
    duration_ms = info.duration_ms and math.floor(info.duration_ms + 0.5) or nil,
  }
  local shown = redact.value(params or {}, svc, op.input)
  for _, l in ipairs(open_logs) do
    local rec = {}
    for k, v in pairs(rec_base) do rec[k] = v end
    rec.playbook = l.playbook
    rec.params = { shown, svc, op.input }
    l:write(rec)
  end
end

local previous = client.hooks.after_call
client.hooks.after_call = function(c, op, params, info)
  if previous then previous(c, op, params, info) end
  M.record(c, op, params, info)
end

-- Checks a log. Returns true, {records = n, head = hash of the last line} or
-- false, {line = number, reason = text, records = lines that checked out}.
function M.verify(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, { reason = tostring(err) } end
  local expected = M.ZERO
  local n = 0
  for raw in f:lines("L") do
    n = n + 1
    local function broken(reason)
      f:close()
      return false, { line = n, reason = reason, records = n - 1 }
    end
    if raw:sub(-1) ~= "\n" then return broken("incomplete line (no newline at the end)") end
    local line = raw:sub(1, -2)
    local h, body = parse_line(line)
    if not h then return broken(body) end
    if crypto.sha256_hex(body) ~= h then return broken("the line's content does not match its hash") end
    local rec = json.decode(body)
    if type(rec) ~= "table" then return broken("not valid JSON") end
    if not hex_ok(rec.prev) then return broken("no valid \"prev\" hash") end
    if rec.prev ~= expected then
      if n == 1 then return broken("the first line's \"prev\" is not 64 zeros (lines missing before it?)") end
      return broken("\"prev\" does not match line " .. (n - 1) .. " (a line was removed, reordered or rewritten)")
    end
    expected = crypto.sha256_hex(line)
  end
  f:close()
  return true, { records = n, head = expected }
end

return M
