-- aws.dryrun: the dry-run mode of clients created with dry_run = true (`--dry-run` sets
-- it for the default clients). Operations that only read (List*, Get*, Describe*,
-- BatchGet*, and every STS call, which only hands out temporary credentials) are sent as
-- usual, so a playbook still sees real data to decide on. Every other operation is
-- validated as usual, then not sent: a plan line goes to stderr and the call returns a
-- placeholder result marked __dry_run = true. Implemented as the client's before_send
-- hook (chained to any earlier one); the audit log learns of each skipped call through
-- the after_call hook with info.dry_run = true. It does not guess realistic outputs:
-- placeholders only fill the members the output shape requires.
local client = require("aws.client")
local redact = require("aws.redact")
local json = require("aws.json")

local M = {}

M.READ_PREFIXES = { "List", "Get", "Describe", "BatchGet" }
-- Services whose every operation runs under dry run (STS creates nothing in the account,
-- and role-based playbooks need its credentials to plan member-side calls).
M.PASS_SERVICES = { sts = true }

-- Where plan lines go (the playbook kit may redirect them).
function M.write(line)
  io.stderr:write(redact.text(line), "\n")
  io.stderr:flush()
end

function M.is_read_only(service, opname)
  if M.PASS_SERVICES[service] then return true end
  for _, p in ipairs(M.READ_PREFIXES) do
    if opname:sub(1, #p) == p and opname:sub(#p + 1, #p + 1):match("%u") then return true end
  end
  return false
end

-- True when this client's call of op would be skipped.
function M.skips(c, op)
  return c.opts.dry_run and not M.is_read_only(c.svc.name, op.name) or false
end

local function is_list(t)
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function render(v, depth)
  local t = type(v)
  if t == "string" then
    if v == redact.MARK then return v end
    if #v > 80 then v = v:sub(1, 77) .. "..." end
    return json.quote(v)
  elseif t ~= "table" then
    return tostring(v)
  end
  if next(v) == nil then return "{}" end
  if is_list(v) then
    local scalars = #v <= 5
    for _, x in ipairs(v) do if type(x) == "table" then scalars = false end end
    if scalars then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = render(x, depth + 1) end
      return "[" .. table.concat(parts, ", ") .. "]"
    end
    return "[" .. #v .. (#v == 1 and " item]" or " items]")
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  if depth >= 2 then return "{" .. #keys .. (#keys == 1 and " key}" or " keys}") end
  local parts = {}
  for i, k in ipairs(keys) do
    local x = v[k]
    if x == nil then x = v[tonumber(k)] end
    parts[i] = k .. "=" .. render(x, depth + 1)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A one-line, redacted summary of call parameters:
-- {Accounts=[2 items], GraphArn="arn:...", Message=<redacted>}
function M.summary(svc, op, params)
  return redact.text(render(redact.value(params or {}, svc, op.input), 0))
end

local function zero(svc, shape_name, depth)
  local s = svc.shapes[shape_name]
  if not s or depth > 8 then return nil end
  local t = s.type
  if t == "string" then return s.enum and s.enum[1] or "dry-run"
  elseif t == "integer" or t == "long" or t == "double" or t == "float" then return s.min or 0
  elseif t == "boolean" then return false
  elseif t == "timestamp" then return require("aws.time").now()
  elseif t == "blob" then return ""
  elseif t == "list" then return json.array()
  elseif t == "map" then return {}
  elseif t == "structure" then
    local out = {}
    for _, m in ipairs(s.members or {}) do
      if m.required then out[m.name] = zero(svc, m.shape, depth + 1) end
    end
    return out
  end
  return nil
end

-- {__dry_run = true} plus a value for each member the output shape requires: strings
-- "dry-run" (the first value of an enum), numbers their minimum or 0, booleans false,
-- lists and maps empty, timestamps now, structures filled the same way.
function M.placeholder(svc, op)
  local out = op.output and zero(svc, op.output, 0) or {}
  if type(out) ~= "table" then out = {} end
  out.__dry_run = true
  return out
end

-- True for a result that a dry run made up.
function M.is_placeholder(result)
  return type(result) == "table" and rawget(result, "__dry_run") == true
end

local previous = client.hooks.before_send
client.hooks.before_send = function(c, op, params, req)
  if M.skips(c, op) then
    M.write("[dry-run] would call " .. c.svc.service_id .. "." .. op.name .. " " .. M.summary(c.svc, op, params))
    local after = client.hooks.after_call
    if after then
      after(c, op, params, { ok = true, dry_run = true, attempts = 0, duration_ms = 0 })
    end
    return M.placeholder(c.svc, op)
  end
  if previous then return previous(c, op, params, req) end
  return nil
end

return M
