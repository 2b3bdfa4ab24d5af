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

-- A group is one aws.map/aws.parallel call: `workers` coroutines (at most the
-- concurrency) each take the next item until none is left, so a map over 100,000
-- items creates only as many coroutines as it runs at once.
local function worker_body(group)
  while true do
    local i = group.next
    if i > group.n then break end
    group.next = i + 1
    local ok, v = pcall(group.fn, group.items[i], i)
    if ok then
      group.results[i] = v
    else
      group.errors[i] = v
      group.failed = group.failed + 1
    end
    group.left = group.left - 1
  end
end

local function resume(task, value)
  local co = task.co
  local ok, err = coroutine.resume(co, value)
  if coroutine.status(co) == "dead" then
    tasks[co] = nil
    live = live - 1
    local group = task.group
    group.workers = group.workers - 1
    if not ok then
      -- only the scheduler's own code can fail here (fn runs under pcall)
      group.internal_error = group.internal_error or err
    end
    if group.workers == 0 then
      M._groups[group] = nil
      if group.parent then runnable[#runnable + 1] = { task = group.parent } end
    end
  end
  -- "io", "sleep" and "join" leave the task parked where the hook put it.
end

local function start_workers(group)
  local k = math.min(group.concurrency, group.n)
  group.workers = k
  for _ = 1, k do
    local task = { group = group }
    task.co = coroutine.create(worker_body)
    tasks[task.co] = task
    live = live + 1
    runnable[#runnable + 1] = { task = task, value = group }
  end
end

-- Drives the scheduler until `group` has no worker left.
local function run_until_done(group)
  local head = 1
  while group.workers > 0 do
    -- resume what is ready (a queue with a moving head: no table.remove shifting)
    while head <= #runnable do
      local r = runnable[head]
      runnable[head] = false
      head = head + 1
      resume(r.task, r.value)
    end
    runnable, head = {}, 1
    if group.workers == 0 then break end
    -- wake sleepers whose time has come
    local now = host.monotonic_ms()
    local next_wake
    for i = #sleepers, 1, -1 do
      local s = sleepers[i]
      if s.until_ms <= now then
        table.remove(sleepers, i)
        runnable[#runnable + 1] = { task = s.task }
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
      if not any then
        if next_wake then
          host.sleep_ms(math.max(0, next_wake - host.monotonic_ms()))
        elseif #runnable == 0 then
          error("aws.map: internal error: tasks are waiting on nothing", 0)
        end
      end
    end
  end
  if group.internal_error then error(group.internal_error, 0) end
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
  local group = { items = items, n = n, fn = fn, concurrency = concurrency, next = 1, workers = 0,
    left = n, results = {}, errors = {}, failed = 0 }
  if n == 0 then return group end
  M._groups[group] = true
  local parent = current_task()
  start_workers(group)
  if parent then
    -- nested: the running scheduler resumes the new workers; this task waits for them
    group.parent = parent
    coroutine.yield("join")
  else
    run_until_done(group)
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
