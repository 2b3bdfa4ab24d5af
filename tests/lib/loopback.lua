-- tests/lib/loopback.lua: servers on 127.0.0.1 that the specs start and talk to outside the
-- client under test: the Python helpers of tests/helpers (they pick a free port, write
-- "port pid" to a port file and exit with this process), and JSON calls to control
-- endpoints (the emulator's /_emulator/ fixture hooks, the fakes' /_control/). It does not
-- build signed requests (emulator_client.lua does, for the emulator specs).
local host = require("aws.core.host")
local http = require("aws.core.http")
local json = require("aws.json")
local proc = require("proc")

local M = {}

local pids = {}

-- start_python(script, dir, name, args) -> port: runs `python3 script --port-file
-- dir/name.port --parent-pid <ours> args` in the background (log in dir/name.log) and
-- waits for its port file. args is a string of words already quoted.
function M.start_python(script, dir, name, args)
  local pf = dir .. "/" .. name .. ".port"
  local log = dir .. "/" .. name .. ".log"
  os.execute(string.format("%s %s --port-file %s --parent-pid %d %s >%s 2>&1 &", proc.PYTHON, proc.quote(script),
    proc.quote(pf), host.pid(), args or "", proc.quote(log)))
  for _ = 1, 400 do
    local f = io.open(pf, "r")
    if f then
      local port, pid = f:read("n", "n")
      f:close()
      if port and pid then
        pids[#pids + 1] = pid
        return port
      end
    end
    host.sleep_ms(25)
  end
  local f = io.open(log, "rb")
  error(name .. " (" .. script .. ") did not start: " .. (f and f:read("a") or ""))
end

-- Stops every server start_python started.
function M.stop_all()
  for _, pid in ipairs(pids) do os.execute("kill " .. math.floor(pid) .. " 2>/dev/null") end
  pids = {}
end

-- json_call(conn, method, url, body) -> the decoded answer; fails unless HTTP 200. body: a
-- table (encoded), a string (sent as it is) or nil (no body). conn: an aws.core.http
-- connection, or nil for one opened and closed here.
function M.json_call(conn, method, url, body)
  local own = conn == nil
  conn = conn or http.new{}
  if type(body) == "table" then body = json.encode(body) end
  local status, _, answer = conn:request{ method = method, url = url,
    headers = { { "content-type", "application/json" } }, body = body }
  if own then conn:close() end
  assert(status == 200, method .. " " .. url .. ": HTTP " .. tostring(status) .. " " .. tostring(answer))
  return json.decode(answer)
end

-- emulator_hook(conn, base_url, method, what, body): json_call to base_url/_emulator/what.
function M.emulator_hook(conn, base_url, method, what, body)
  return M.json_call(conn, method, base_url .. "/_emulator/" .. what, body)
end

return M
