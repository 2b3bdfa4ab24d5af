-- wrapper.lua: runs the script named by $FAULTS_SCRIPT (a shipped playbook or paging.lua)
-- after adjusting the default clients for the fault matrix: $FAULTS_READ_TIMEOUT_MS sets
-- read_timeout_ms (the delay faults), $FAULTS_MAX_ATTEMPTS max_attempts, and
-- $FAULTS_BACKOFF_SCALE shortens the retry back-off sleeps (the matrix checks retry
-- decisions, not back-off times, and runs about 70 children). The script sees
-- arg[0] = its own path (playbooks find scripts/lib from it) and the same `args`.
local client = require("aws.client")
local d = {}
for k, v in pairs(client.defaults()) do d[k] = v end
local rt = tonumber(os.getenv("FAULTS_READ_TIMEOUT_MS") or "")
if rt then d.read_timeout_ms = math.tointeger(rt) end
local ma = tonumber(os.getenv("FAULTS_MAX_ATTEMPTS") or "")
if ma then d.max_attempts = math.tointeger(ma) end
client.set_defaults(d)
local scale = tonumber(os.getenv("FAULTS_BACKOFF_SCALE") or "")
if scale then
  local sleep = client.hooks.sleep -- aws.concurrency's: yields inside aws.map tasks
  client.hooks.sleep = function(seconds)
    if sleep then return sleep(seconds * scale) end
    return require("aws.core.host").sleep_ms(seconds * scale * 1000)
  end
end
for _, name in ipairs({ "detective", "guardduty", "sts" }) do
  local old = rawget(_G, name)
  if old then old:close() end
  _G[name] = aws.client(name)
end
local script = assert(os.getenv("FAULTS_SCRIPT"), "FAULTS_SCRIPT is not set")
arg[0] = script
local chunk = assert(loadfile(script, "t"))
return chunk(table.unpack(arg))
