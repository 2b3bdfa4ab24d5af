-- aws.concurrency: aws.map and aws.parallel. Calls made inside them run concurrently on
-- Lua coroutines over one libcurl multi handle: when a task sends a request it is added
-- to the multi and the task yields; the scheduler drives the multi and resumes each task
-- when its response (or transport error) arrives. No threads touch Lua. Retries' sleeps
-- also yield. Calls made outside aws.map/aws.parallel block as before.
--
-- Nesting works: an aws.map inside a task adds its items to the running scheduler and
-- waits for them without blocking the other tasks.
local http = require("aws.core.http")
local host = require("aws.core.host")
local client = require("aws.client")

local M = {}

local tasks = setmetatable({}, { __mode = "k" }) -- coroutine -> task
local runnable = {}   -- list of {task, values...} ready to resume
local waiting = {}    -- transfer id -> task
local sleepers = {}   -- list of {task, until_ms}
local multis = {}     -- options key -> aws.http.Multi
local live = 0        -- tasks started and not finished

local function current_task()
  local co, main = coroutine.running()
  if main then return nil end
  return tasks[co]
end
M.current_task = current_task

local function multi_for(c)
  local o = c.opts
  local key = table.concat({ tostring(o.connect_timeout_ms), tostring(o.timeout_ms),
    tostring(o.read_timeout_ms), tostring(o.ca_bundle) }, "|")
  local m = multis[key]
  if not m then
    m = http.multi{ connect_timeout_ms = o.connect_timeout_ms, timeout_ms = o.timeout_ms,
      read_timeout_ms = o.read_timeout_ms, ca_bundle = o.ca_bundle }
    multis[key] = m
  end
  return m
end

-- Transport hook: inside a task the request joins the multi and the task yields.
local previous_transport = client.hooks.transport
client.hooks.transport = function(c, req)
  local task = current_task()
  if not task then
    if previous_transport then return previous_transport(c, req) end
    return client.connection(c):request(req)
  end
  local m = multi_for(c)
  local id = m:add(req)
  task.multi = m
  waiting[id] = task
  local r = coroutine.yield("io")
  if r.error then return nil, r.error end
  return r.status, r.headers, r.body
end

local previous_sleep = client.hooks.sleep
client.hooks.sleep = function(seconds)
  local task = current_task()
  if not task then
    if previous_sleep then return previous_sleep(seconds) end
    return host.sleep_ms(seconds * 1000)
  end
  sleepers[#sleepers + 1] = { task = task, until_ms = host.monotonic_ms() + seconds * 1000 }
  coroutine.yield("sleep")
end

local function finish(task, ok, ...)
  live = live - 1
  local group = task.group
  group.left = group.left - 1
  if ok then
    group.results[task.index] = (...)
  else
    group.errors[task.index] = (...)
    group.failed = group.failed + 1
  end
  if group.left == 0 and group.parent then
    runnable[#runnable + 1] = { task = group.parent }
  end
end

local function resume(task, value)
  local co = task.co
  local ok, what = coroutine.resume(co, value)
  if coroutine.status(co) == "dead" then
    if ok then
      finish(task, true, what)
    else
      finish(task, false, what)
    end
    tasks[co] = nil
  elseif not ok then
    finish(task, false, what)
  end
  -- "io", "sleep" and "join" leave the task parked where the hook put it.
end

local function start_task(group, index, fn, arg)
  local task = { group = group, index = index }
  task.co = coroutine.create(function()
    return fn(arg, index)
  end)
  tasks[task.co] = task
  live = live + 1
  return task
end

-- Drives the scheduler until `group` has no task left.
local function run_until_done(group)
  while group.left > 0 do
    -- start more tasks of any group with room
    local progressed = false
    for g in pairs(M._groups) do
      while g.running < g.concurrency and g.next <= g.n do
        local i = g.next
        g.next = i + 1
        g.running = g.running + 1
        local t = start_task(g, i, g.fn, g.items[i])
        t.on_done = true
        runnable[#runnable + 1] = { task = t }
        progressed = true
      end
    end
    -- resume what is ready
    while #runnable > 0 do
      local r = table.remove(runnable, 1)
      local before = r.task.group.left
      resume(r.task, r.value)
      if r.task.group.left < before then
        r.task.group.running = r.task.group.running - 1
        if r.task.group.left == 0 then M._groups[r.task.group] = nil end
      end
      progressed = true
    end
    if group.left == 0 then break end
    -- wake sleepers whose time has come
    local now = host.monotonic_ms()
    local next_wake
    for i = #sleepers, 1, -1 do
      local s = sleepers[i]
      if s.until_ms <= now then
        table.remove(sleepers, i)
        runnable[#runnable + 1] = { task = s.task }
        progressed = true
      elseif not next_wake or s.until_ms < next_wake then
        next_wake = s.until_ms
      end
    end
    if #runnable == 0 then
      -- wait for network activity (bounded so sleepers wake on time)
      local timeout_ms = 1000
      if next_wake then timeout_ms = math.max(0, math.min(timeout_ms, math.ceil(next_wake - now))) end
      local any = false
      for _, m in pairs(multis) do
        if m:pending() > 0 then
          any = true
          local done = m:perform(timeout_ms)
          for _, d in ipairs(done) do
            local t = waiting[d.id]
            if t then
              waiting[d.id] = nil
              runnable[#runnable + 1] = { task = t, value = d }
            end
          end
          if #runnable > 0 then timeout_ms = 0 end
        end
      end
      if not any and not next_wake and #runnable == 0 and not progressed then
        error("aws.map: internal error: tasks are waiting on nothing", 0)
      end
      if not any and next_wake then host.sleep_ms(math.max(0, next_wake - host.monotonic_ms())) end
    end
  end
end

M._groups = {}

local function check_opts(where, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error(where .. ": options: expected a table", 3) end
  local c = opts.concurrency or 16
  if math.type(c) ~= "integer" or c < 1 or c > 1024 then
    error(where .. ": concurrency: expected an integer from 1 to 1024, got " .. tostring(opts.concurrency), 3)
  end
  for k in pairs(opts) do
    if k ~= "concurrency" then error(where .. ": unknown option \"" .. tostring(k) .. "\" (concurrency)", 3) end
  end
  return c
end

local function run_group(items, n, fn, concurrency)
  local group = { items = items, n = n, fn = fn, concurrency = concurrency, next = 1, running = 0,
    left = n, results = {}, errors = {}, failed = 0 }
  if n == 0 then return group end
  M._groups[group] = true
  local parent = current_task()
  if parent then
    -- nested: the running scheduler picks the items up; this task waits for them
    group.parent = parent
    coroutine.yield("join")
  else
    local ok, err = pcall(run_until_done, group)
    if not ok then
      M._groups[group] = nil
      error(err, 0)
    end
  end
  return group
end

-- aws.map(list, fn, {concurrency = 16}) -> results, errors
-- fn(item, index) runs once per item; results[i] is its first return value, errors[i]
-- the error it raised (an aws.Error or a message). Results keep input order.
function M.map(list, fn, opts)
  if type(list) ~= "table" then error("aws.map: list: expected a table, got " .. type(list), 2) end
  if type(fn) ~= "function" then error("aws.map: fn: expected a function, got " .. type(fn), 2) end
  local concurrency = check_opts("aws.map", opts)
  local g = run_group(list, #list, fn, concurrency)
  return g.results, g.errors, g.failed
end

-- aws.parallel(f1, f2, ...) -> results, errors (results[i] from fi)
function M.parallel(...)
  local fns = table.pack(...)
  for i = 1, fns.n do
    if type(fns[i]) ~= "function" then
      error("aws.parallel: argument " .. i .. ": expected a function, got " .. type(fns[i]), 2)
    end
  end
  local g = run_group(fns, fns.n, function(f) return f() end, math.max(1, fns.n))
  return g.results, g.errors, g.failed
end

return M
