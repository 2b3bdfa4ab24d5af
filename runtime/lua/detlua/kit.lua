-- detlua.kit: the small toolkit `detlua run` gives playbooks as globals:
--   log.info/warn/error/debug(fmt, ...)  UTC-stamped lines on stderr, secrets scrubbed
--   emit(table)                          one JSON line on stdout (keys sorted) per result
--   confirm(question)                    y/N on the terminal; --yes answers yes; with no
--                                        terminal and no --yes: false, and a warning
--   kit.progress(done, total, label)     one self-rewriting line on stderr, only on a
--                                        terminal and only once a fan-out runs > 1 s
-- Time helpers are aws.time; arguments are `args` (detlua.cmd_run). The kit decides
-- nothing about the playbook's flow: log.error logs, it does not raise.
local json = require("aws.json")
local redact = require("aws.redact")
local time = require("aws.time")
local host = require("aws.core.host")

local M = {}

local ARRAY_MT = getmetatable(json.array())

-- redact.value copies tables; put back the aws.json.array marks it dropped, so that an
-- empty list still emits as [].
local function remark(orig, copy, depth)
  if type(orig) ~= "table" or type(copy) ~= "table" or depth > 64 then return end
  if getmetatable(orig) == ARRAY_MT then setmetatable(copy, ARRAY_MT) end
  for k, x in pairs(orig) do remark(x, copy[k], depth + 1) end
end

M.PROGRESS_AFTER_S = 1 -- a fan-out shorter than this shows no progress line
M.PROGRESS_INTERVAL_S = 0.2 -- at most five redraws a second

local LEVELS = { debug = "DEBUG", info = "INFO", warn = "WARN", error = "ERROR" }

-- M.new{stdout=, stderr=, stdin=, isatty=fn(fd), clock=fn() -> ms, now=fn() -> s,
--       yes=bool, debug=bool} -> kit. The defaults are the process's own streams and
-- clocks; specs pass their own.
function M.new(o)
  o = o or {}
  local stderr = o.stderr or io.stderr
  local stdout = o.stdout or io.stdout
  local stdin = o.stdin or io.stdin
  local isatty = o.isatty or host.isatty
  local clock = o.clock or host.monotonic_ms
  local now = o.now or time.now
  local k = { yes = o.yes and true or false, debug = o.debug and true or false }
  local bar -- the progress line: {label, total, done, started_ms, drawn_ms, shown}

  local function clear()
    if bar and bar.shown then
      stderr:write("\r\27[K")
      stderr:flush()
      bar.shown = false
    end
  end
  k.clear_progress = clear

  local function message(level, f, ...)
    if select("#", ...) == 0 then return tostring(f) end
    if type(f) ~= "string" then error("log." .. level .. ": expected a format string, got " .. type(f), 3) end
    local ok, s = pcall(string.format, f, ...)
    if not ok then error("log." .. level .. ": " .. tostring(s), 3) end
    return s
  end

  local log = {}
  for level, word in pairs(LEVELS) do
    log[level] = function(f, ...)
      if level == "debug" and not k.debug then return end
      local text = message(level, f, ...)
      clear()
      stderr:write(time.format(now()), " ", word, string.rep(" ", 6 - #word), redact.text(text), "\n")
      stderr:flush()
    end
  end
  k.log = log

  function k.emit(v)
    if type(v) ~= "table" then error("emit: expected a table, got " .. type(v), 2) end
    local shown = redact.value(v)
    remark(v, shown, 0)
    local ok, s = pcall(json.encode, shown)
    if not ok then error("emit: " .. tostring(s), 2) end
    clear()
    stdout:write(s, "\n")
    stdout:flush()
  end

  function k.confirm(question)
    if type(question) ~= "string" then error("confirm: expected a question (a string), got " .. type(question), 2) end
    if k.yes then
      log.info("%s -> yes (--yes)", question)
      return true
    end
    if isatty(0) and isatty(2) then
      clear()
      stderr:write(redact.text(question), " [y/N] ")
      stderr:flush()
      local line = stdin:read("l")
      if line == nil then
        stderr:write("\n")
        return false
      end
      return line:match("^%s*[yY]%s*$") ~= nil or line:match("^%s*[yY][eE][sS]%s*$") ~= nil
    end
    log.warn("%s -> no (no terminal to ask; run with --yes to answer yes)", question)
    return false
  end

  function k.progress(done, total, label)
    if type(done) ~= "number" or type(total) ~= "number" then
      error("kit.progress: expected numbers done, total", 2)
    end
    label = label ~= nil and tostring(label) or "progress"
    local t = clock()
    if not bar or bar.label ~= label or bar.total ~= total or done < bar.done then
      clear()
      bar = { label = label, total = total, done = done, started_ms = t, shown = false }
    end
    bar.done = done
    if done >= total then
      clear()
      bar = nil
      return
    end
    if not isatty(2) then return end
    if t - bar.started_ms < M.PROGRESS_AFTER_S * 1000 then return end
    if bar.shown and t - bar.drawn_ms < M.PROGRESS_INTERVAL_S * 1000 then return end
    local pct = total > 0 and math.floor(done * 100 / total) or 0
    stderr:write("\r", redact.text(label), ": ", string.format("%d/%d (%d%%)", done, total, pct), "\27[K")
    stderr:flush()
    bar.shown = true
    bar.drawn_ms = t
  end

  -- Clears a progress line left on the terminal (the session does it at the end).
  function k.finish()
    clear()
    bar = nil
  end

  return k
end

local installed

-- Sets the globals log, emit, confirm and kit for a session; dry-run plan lines go
-- through the kit so they do not tear a progress line. Returns the kit.
function M.install(o)
  local k = M.new(o)
  _G.log, _G.emit, _G.confirm, _G.kit = k.log, k.emit, k.confirm, k
  local dryrun = require("aws.dryrun")
  local previous_write = dryrun.write
  dryrun.write = function(line)
    k.clear_progress()
    io.stderr:write(redact.text(line), "\n")
    io.stderr:flush()
  end
  k._restore = function() dryrun.write = previous_write end
  installed = k
  return k
end

function M.uninstall(k)
  k = k or installed
  if not k then return end
  k.finish()
  if k._restore then k._restore(); k._restore = nil end
  if installed == k then installed = nil end
end

return M
