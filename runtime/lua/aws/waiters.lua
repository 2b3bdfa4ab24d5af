-- aws.waiters: waiting for states the Detective model defines no waiter for, and the
-- generic aws.wait(fn, opts) they are built on. Each check is an ordinary API call; the
-- pause between checks grows geometrically (delay_s, times backoff, capped at
-- max_delay_s) and goes through aws.client.sleep so the concurrency scheduler can run
-- other work meanwhile. A deadline that passes, or a state that can no longer turn into
-- the wanted one, raises an aws.Error of kind "waiter" naming what was waited for and
-- what was seen last. It does not retry failed calls (the client's retry policy does)
-- and adds no jitter: one playbook polls a handful of resources, not a fleet.
local client = require("aws.client")
local errors = require("aws.errors")
local host = require("aws.core.host")
local json = require("aws.json")
local redact = require("aws.redact")
require("aws.batch") -- get_members_all, used by wait_members

local M = {}

M.DEFAULTS = { timeout_s = 300, delay_s = 2, max_delay_s = 30, backoff = 1.5 }

-- Per-waiter defaults: investigations take minutes on AWS; member verification seconds to
-- minutes; package ingest starts within minutes.
local WAITER_DEFAULTS = {
  wait_investigation = { timeout_s = 900, delay_s = 2, max_delay_s = 30, backoff = 1.5 },
  wait_members = { timeout_s = 600, delay_s = 2, max_delay_s = 30, backoff = 1.5 },
  wait_datasource_packages = { timeout_s = 600, delay_s = 2, max_delay_s = 30, backoff = 1.5 },
}

local TIMING_KEYS = { timeout_s = true, delay_s = true, max_delay_s = true, backoff = true }
local WAIT_KEYS = { timeout_s = true, delay_s = true, max_delay_s = true, backoff = true,
  what = true, operation = true, describe = true }

-- level: error level pointing at the playbook line that passed the option.
local function check_number(where, k, v, min, allow_equal, level)
  if type(v) ~= "number" or v ~= v or v < min or (not allow_equal and v == min) then
    error(where .. ": " .. k .. ": expected a number " .. (allow_equal and ">= " or "> ") .. min
      .. ", got " .. tostring(v), level + 1)
  end
end

local function describe_default(v)
  if v == nil then return "nothing observed yet" end
  if type(v) == "string" then return v end
  if type(v) == "table" then
    local ok, s = pcall(json.encode, redact.value(v))
    if ok then
      if #s > 300 then s = s:sub(1, 297) .. "..." end
      return s
    end
  end
  return tostring(v)
end

-- aws.wait(fn, opts): calls fn(n) (n = 1, 2, ...) until it is done.
--   fn returns a truthy value         -> done: aws.wait returns fn's results
--   fn returns false|nil, state       -> not yet; state is what was observed
--   fn returns false|nil, state, why  -> it can no longer succeed: raises WaiterFailure
-- opts: timeout_s (default 300), delay_s (first pause, 2), max_delay_s (30), backoff
-- (factor per pause, 1.5), what ("the investigation to finish", for messages), operation
-- (where the error says it came from), describe(state) -> string.
-- The deadline counts the larger of the wall time spent and the time slept, so a sleep
-- hook that only pretends to sleep still ends the wait. The last check happens at the
-- deadline.
function M.wait(fn, opts)
  if type(fn) ~= "function" then error("aws.wait: expected a function, got " .. type(fn), 2) end
  opts = opts or {}
  if type(opts) ~= "table" then error("aws.wait: options: expected a table, got " .. type(opts), 2) end
  for k in pairs(opts) do
    if not WAIT_KEYS[k] then
      error("aws.wait: unknown option \"" .. tostring(k) .. "\" (timeout_s, delay_s, max_delay_s, backoff, what, operation, describe)", 2)
    end
  end
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = opts[k] == nil and v or opts[k] end
  check_number("aws.wait", "timeout_s", o.timeout_s, 0, true, 2)
  check_number("aws.wait", "delay_s", o.delay_s, 0, false, 2)
  check_number("aws.wait", "max_delay_s", o.max_delay_s, 0, false, 2)
  check_number("aws.wait", "backoff", o.backoff, 1, true, 2)
  if opts.what ~= nil and type(opts.what) ~= "string" then error("aws.wait: what: expected a string", 2) end
  if opts.describe ~= nil and type(opts.describe) ~= "function" then error("aws.wait: describe: expected a function", 2) end
  local what = opts.what or "the condition"
  local operation = opts.operation or "aws.wait"
  local describe = opts.describe or describe_default

  local started_ms = host.monotonic_ms()
  local slept_s = 0
  local delay = math.min(o.delay_s, o.max_delay_s)
  local n = 0
  while true do
    n = n + 1
    local r = table.pack(fn(n))
    if r[1] then return table.unpack(r, 1, r.n) end
    local state, why = r[2], r[3]
    local elapsed = math.max((host.monotonic_ms() - started_ms) / 1000, slept_s)
    if why ~= nil then
      error(errors.new{ kind = "waiter", code = "WaiterFailure", operation = operation,
        message = string.format("waiting for %s: %s; last observed: %s", what, tostring(why), describe(state)),
        last = state, polls = n, elapsed_s = elapsed }, 0)
    end
    local left = o.timeout_s - elapsed
    if left <= 0 then
      error(errors.new{ kind = "waiter", code = "WaiterTimeout", operation = operation,
        message = string.format("gave up waiting for %s after %.1f s (%d check%s); last observed: %s",
          what, elapsed, n, n == 1 and "" or "s", describe(state)),
        last = state, polls = n, elapsed_s = elapsed }, 0)
    end
    local pause = math.min(delay, left)
    client.sleep(pause)
    slept_s = slept_s + pause
    delay = math.min(o.max_delay_s, delay * o.backoff)
  end
end

-- Splits a waiter's argument into model parameters and options. Options may sit in the
-- parameter table (lower-case keys such as timeout_s, which no model member uses) or in a
-- second table.
local function split(self, name, params, opts, extra)
  if getmetatable(self) ~= client.Client then
    error(name .. ": use client:" .. name .. "{...}", 3)
  end
  if type(params) ~= "table" then
    error(self.service .. ":" .. name .. ": expected a table of parameters, got " .. type(params), 3)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(self.service .. ":" .. name .. ": options: expected a table, got " .. type(opts), 3)
  end
  local p, o = {}, {}
  for k, v in pairs(WAITER_DEFAULTS[name]) do o[k] = v end
  local function take(k, v)
    if TIMING_KEYS[k] then
      check_number(self.service .. ":" .. name, k, v, k == "backoff" and 1 or 0,
        k == "backoff" or k == "timeout_s", 4)
      o[k] = v
      return true
    elseif extra and extra[k] then
      o[k] = v
      return true
    end
    return false
  end
  for k, v in pairs(params) do
    if not take(k, v) then p[k] = v end
  end
  for k, v in pairs(opts or {}) do
    if not take(k, v) then
      error(self.service .. ":" .. name .. ": unknown option \"" .. tostring(k) .. "\" (timeout_s, delay_s, max_delay_s, backoff)", 3)
    end
  end
  return p, o
end

local function require_member(self, name, p, key, kind)
  local v = p[key]
  if v == nil then error(self.service .. ":" .. name .. ": " .. key .. ": required parameter missing", 3) end
  if kind == "string" and type(v) ~= "string" then
    error(self.service .. ":" .. name .. ": " .. key .. ": expected a string, got " .. type(v), 3)
  end
  if kind == "list" and type(v) ~= "table" then
    error(self.service .. ":" .. name .. ": " .. key .. ": expected a list, got " .. type(v), 3)
  end
  return v
end

local function need_op(self, name, opname)
  if not self.svc.operations[opname] then
    error(self.service .. ":" .. name .. ": not available for " .. self.service
      .. " (it waits on Detective's " .. opname .. ")", 3)
  end
end

local function timing(o)
  return { timeout_s = o.timeout_s, delay_s = o.delay_s, max_delay_s = o.max_delay_s, backoff = o.backoff }
end

-- detective:wait_investigation{GraphArn=, InvestigationId=} -> the GetInvestigation result
-- once Status is SUCCESSFUL. FAILED raises WaiterFailure (the result is in err.last).
function M.wait_investigation(self, params, opts)
  local name = "wait_investigation"
  local p, o = split(self, name, params, opts)
  need_op(self, name, "GetInvestigation")
  local id = require_member(self, name, p, "InvestigationId", "string")
  require_member(self, name, p, "GraphArn", "string")
  local w = timing(o)
  w.what = "investigation " .. id .. " to finish"
  w.operation = self.svc.service_id .. "." .. name
  w.describe = function(r)
    if type(r) ~= "table" then return describe_default(r) end
    return "Status " .. tostring(r.Status) .. (r.State and (", State " .. r.State) or "")
  end
  return M.wait(function()
    local r = self:get_investigation(p)
    if r.Status == "SUCCESSFUL" then return r end
    if r.Status == "FAILED" then return nil, r, "the investigation ended FAILED" end
    return nil, r
  end, w)
end

local MEMBER_UNTIL = { ENABLED = true, verified = true }

local function member_summary(r, wanted)
  local by, order = {}, {}
  for _, m in ipairs(r.MemberDetails or {}) do
    local s = m.Status or "?"
    if not by[s] then by[s] = {}; order[#order + 1] = s end
    local id = m.AccountId
    if m.DisabledReason then id = id .. " " .. m.DisabledReason end
    table.insert(by[s], id)
  end
  table.sort(order)
  local parts = {}
  for _, s in ipairs(order) do
    local ids = by[s]
    local part = s .. " " .. #ids
    if s ~= wanted then
      local shown = {}
      for i = 1, math.min(5, #ids) do shown[i] = ids[i] end
      part = part .. " (" .. table.concat(shown, ", ") .. (#ids > 5 and ", ..." or "") .. ")"
    end
    parts[#parts + 1] = part
  end
  local un = r.UnprocessedAccounts or {}
  if #un > 0 then
    local shown = {}
    for i = 1, math.min(5, #un) do shown[i] = tostring(un[i].AccountId) end
    parts[#parts + 1] = "not members " .. #un .. " (" .. table.concat(shown, ", ") .. (#un > 5 and ", ..." or "") .. ")"
  end
  if #parts == 0 then return "no members" end
  return table.concat(parts, ", ")
end

-- detective:wait_members{GraphArn=, AccountIds={...}, until="ENABLED"|"verified"}
--   until="ENABLED" (default): every account ENABLED. An account that is not a member
--     (GetMembers lists it unprocessed) or whose verification failed cannot get there
--     without a new CreateMembers: WaiterFailure at once. INVITED (waiting for the member
--     to accept) and ACCEPTED_BUT_DISABLED (Detective re-checks those hourly) keep the
--     waiter waiting; at the deadline they end in WaiterTimeout naming them and the
--     DisabledReason.
--   until="verified": no account is VERIFICATION_IN_PROGRESS any more, whatever the
--     outcome (INVITED, VERIFICATION_FAILED, ENABLED, ...); only non-members fail.
-- Returns the merged GetMembers result {MemberDetails, UnprocessedAccounts}.
function M.wait_members(self, params, opts)
  local name = "wait_members"
  local p, o = split(self, name, params, opts, { ["until"] = true })
  need_op(self, name, "GetMembers")
  local want = o["until"] or "ENABLED"
  if not MEMBER_UNTIL[want] then
    error(self.service .. ":" .. name .. ": until: expected \"ENABLED\" or \"verified\", got " .. tostring(want), 2)
  end
  require_member(self, name, p, "GraphArn", "string")
  local ids = require_member(self, name, p, "AccountIds", "list")
  local w = timing(o)
  w.what = (want == "ENABLED" and "member accounts to be ENABLED" or "member verification to finish")
    .. " (" .. #ids .. " account" .. (#ids == 1 and "" or "s") .. ")"
  w.operation = self.svc.service_id .. "." .. name
  w.describe = function(r)
    if type(r) ~= "table" then return describe_default(r) end
    return member_summary(r, want == "ENABLED" and "ENABLED" or nil)
  end
  return M.wait(function()
    local r = self:get_members_all(p)
    local un = r.UnprocessedAccounts or {}
    if #un > 0 then
      return nil, r, #un .. " account(s) are not members of the graph (" .. tostring(un[1].AccountId) .. ": " .. tostring(un[1].Reason) .. ")"
    end
    local pending = false
    for _, m in ipairs(r.MemberDetails or {}) do
      if want == "ENABLED" then
        if m.Status == "VERIFICATION_FAILED" then
          return nil, r, "account " .. tostring(m.AccountId) .. " failed verification (VERIFICATION_FAILED)"
        end
        if m.Status ~= "ENABLED" then pending = true end
      elseif m.Status == "VERIFICATION_IN_PROGRESS" then
        pending = true
      end
    end
    if pending then return nil, r end
    return r
  end, w)
end

-- detective:wait_datasource_packages{GraphArn=, Packages={"EKS_AUDIT", ...}} -> the
-- graph's DatasourcePackages map (all pages) once every listed package is STARTED. No
-- state is terminal (a STOPPED or DISABLED package can still be started), so the only
-- failure is the deadline.
function M.wait_datasource_packages(self, params, opts)
  local name = "wait_datasource_packages"
  local p, o = split(self, name, params, opts)
  need_op(self, name, "ListDatasourcePackages")
  local packages = require_member(self, name, p, "Packages", "list")
  p.Packages = nil
  require_member(self, name, p, "GraphArn", "string")
  local enum = self.svc.shapes.DatasourcePackage and self.svc.shapes.DatasourcePackage.enum
  local known = {}
  for _, e in ipairs(enum or {}) do known[e] = true end
  if #packages == 0 then
    error(self.service .. ":" .. name .. ": Packages: expected at least one package", 2)
  end
  for i, pkg in ipairs(packages) do
    if enum and not known[pkg] then
      error(self.service .. ":" .. name .. ": Packages[" .. i .. "]: expected one of " .. table.concat(enum, ", ")
        .. ", got " .. tostring(pkg), 2)
    end
  end
  local w = timing(o)
  w.what = "data source package" .. (#packages == 1 and " " or "s ") .. table.concat(packages, ", ") .. " to be STARTED"
  w.operation = self.svc.service_id .. "." .. name
  w.describe = function(map)
    if type(map) ~= "table" then return describe_default(map) end
    local parts = {}
    for _, pkg in ipairs(packages) do
      local d = map[pkg]
      parts[#parts + 1] = pkg .. " " .. (d and tostring(d.DatasourcePackageIngestState) or "absent")
    end
    return table.concat(parts, ", ")
  end
  return M.wait(function()
    local map = {}
    for page in self:pages("ListDatasourcePackages", p) do
      for k, v in pairs(page.DatasourcePackages or {}) do map[k] = v end
    end
    for _, pkg in ipairs(packages) do
      local d = map[pkg]
      if not d or d.DatasourcePackageIngestState ~= "STARTED" then return nil, map end
    end
    return map
  end, w)
end

client.add_method("wait_investigation", M.wait_investigation)
client.add_method("wait_members", M.wait_members)
client.add_method("wait_datasource_packages", M.wait_datasource_packages)

return M
