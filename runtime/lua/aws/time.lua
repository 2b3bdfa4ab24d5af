-- aws.time: UTC time for playbooks: now, durations ("24h", "90m", "7d"), ISO 8601
-- format and parse. Pure arithmetic on epoch seconds; no time zones but UTC and
-- explicit offsets, no locale.
local host = require("aws.core.host")

local M = {}

-- Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
local function days_from_civil(y, m, d)
  y = (m <= 2) and (y - 1) or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

function M.timegm(y, mo, d, h, mi, s)
  return days_from_civil(y, mo, d) * 86400 + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0)
end

function M.now()
  return host.realtime()
end

local UNITS = { s = 1, m = 60, h = 3600, d = 86400, w = 604800 }

-- "24h", "1d12h", "90m", "45s", "2w" -> seconds
function M.duration(spec)
  if type(spec) == "number" then return spec end
  if type(spec) ~= "string" or spec == "" then
    error("aws.time.duration: expected a duration such as \"24h\" or \"90m\", got " .. tostring(spec), 2)
  end
  local total, rest = 0, spec
  while rest ~= "" do
    local n, u, tail = rest:match("^(%d+%.?%d*)([smhdw])(.*)$")
    if not n then
      error("aws.time.duration: cannot read \"" .. spec .. "\" (use numbers with s, m, h, d or w, e.g. \"1d12h\")", 2)
    end
    total = total + tonumber(n) * UNITS[u]
    rest = tail
  end
  return total
end

-- Seconds since the epoch, `spec` ago from now (or from `from`).
function M.ago(spec, from)
  return (from or M.now()) - M.duration(spec)
end

-- ISO 8601 UTC. opts.ms = true adds milliseconds.
function M.format(t, opts)
  if type(t) ~= "number" then error("aws.time.format: expected epoch seconds, got " .. type(t), 2) end
  local whole = math.floor(t)
  local s = os.date("!%Y-%m-%dT%H:%M:%S", whole)
  if opts and opts.ms then
    s = s .. string.format(".%03d", math.floor((t - whole) * 1000 + 0.5) % 1000)
  end
  return s .. "Z"
end
M.iso8601 = M.format

-- Parses ISO 8601 date-times ("2026-01-01T00:00:00Z", with fractions, with +hh:mm
-- offsets, or the compact "20260101T000000Z" form). Returns epoch seconds or nil, msg.
function M.parse(s)
  if type(s) == "number" then return s end
  if type(s) ~= "string" then return nil, "expected an ISO 8601 string, got " .. type(s) end
  local y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then
    y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)(.*)$")
  end
  if not y then
    y, mo, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
    if y then h, mi, sec, rest = "0", "0", "0", "Z" end
  end
  if not y then return nil, "not an ISO 8601 date-time: \"" .. s .. "\"" end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then
    return nil, "date-time out of range: \"" .. s .. "\""
  end
  local frac = 0
  local f, tail = rest:match("^%.(%d+)(.*)$")
  if f then frac = tonumber("0." .. f); rest = tail end
  local offset = 0
  if rest == "Z" or rest == "z" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil, "missing or bad time zone in \"" .. s .. "\" (use Z or +hh:mm)" end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  return M.timegm(y, mo, d, h, mi, sec) + frac - offset
end

return M
