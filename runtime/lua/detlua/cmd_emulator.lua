-- detlua.cmd_emulator: `detlua emulator [--host H] [--port N] [--scenario FILE]
-- [--state FILE] [--region R] [--faults SPEC] [--quiet]`: serve the local emulator (Detective, GuardDuty
-- subset, STS) on loopback until SIGINT/SIGTERM. Prints exactly
-- "listening on http://HOST:PORT" on stdout once ready (port 0 = a free port), one log
-- line per request on stderr unless --quiet. Exit 0 when stopped by a signal, 2 for
-- usage and scenario/state validation errors, 1 when it cannot listen.
local cli = require("detlua.cli")

local M = {}

M.USAGE = [[
usage: detlua emulator [--host 127.0.0.1] [--port N] [--scenario FILE] [--state FILE]
                       [--region R] [--faults SPEC] [--quiet]

Serves Amazon Detective, a GuardDuty subset and STS on a loopback address until
interrupted (Ctrl-C or SIGTERM).
  --host H         loopback address to listen on: 127.0.0.1 (default), ::1 or localhost
  --port N         TCP port, 0 (default) for a free one; the chosen one is printed
  --scenario FILE  scenario JSON (accounts, keys, roles, organization, findings, ...);
                   without it the built-in scenario is used (docs/emulator.md)
  --state FILE     keep the emulated state in FILE: every acknowledged change is written
                   before the answer is sent, and FILE is read again on start
  --region R       default Region (overrides the scenario's)
  --faults SPEC    inject faults into API answers, e.g.
                   "ListMembers:throttle@1,2;*:reset-before@rate=0.1;seed=42", a JSON
                   object {"seed":..,"rules":[..]}, or @FILE holding either
                   (docs/emulator.md, "Fault injection"); replaces the scenario's faults
  --quiet          no per-request log on stderr
  --print-scenario print the built-in scenario as JSON and exit
]]

local OPTS = {
  ["--host"] = "value", ["--port"] = "value", ["--scenario"] = "value", ["--state"] = "value",
  ["--region"] = "value", ["--faults"] = "value", ["--quiet"] = "flag", ["--help"] = "flag", ["--print-scenario"] = "flag",
}

local function loopback(host)
  if host == "localhost" or host == "::1" then return true end
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, x in ipairs({ a, b, c, d }) do
    if tonumber(x) > 255 or (#x > 1 and x:sub(1, 1) == "0") then return false end
  end
  return tonumber(a) == 127
end

function M.main(argv, first)
  for i = first, #argv do
    local a = argv[i]
    local name = a:match("^(%-%-[%w-]+)=") or a
    if a:sub(1, 1) == "-" and not OPTS[name] then
      return cli.usage_error("emulator: unknown option " .. a)
    end
  end
  local opts, rest = cli.parse_common(argv, first, OPTS)
  if opts.help then
    io.stdout:write(M.USAGE)
    return 0
  end
  if rest[1] then return cli.usage_error("emulator: unexpected argument " .. rest[1]) end
  if opts.print_scenario then
    local json = require("detlua.emulator.wire_json")
    local scenario = require("detlua.emulator.scenario")
    io.stdout:write(json.encode(scenario.default_raw()), "\n")
    return 0
  end
  local host = opts.host or "127.0.0.1"
  if not loopback(host) then
    return cli.usage_error("emulator: --host " .. host .. " is not a loopback address; the emulator only listens on 127.0.0.1, ::1 or localhost")
  end
  local port = 0
  if opts.port ~= nil then
    port = math.tointeger(tonumber(opts.port))
    if not opts.port:match("^%d+$") or not port or port > 65535 then
      return cli.usage_error("emulator: --port expects an integer 0-65535, got " .. opts.port)
    end
  end

  -- Validate the scenario and the state file here, so that their mistakes are usage
  -- errors (exit 2) with the message naming the file and the JSON path.
  local faults = opts.faults
  if faults ~= nil and faults:sub(1, 1) == "@" then
    local f, ferr = io.open(faults:sub(2), "rb")
    if not f then return cli.usage_error("emulator: --faults: cannot open " .. tostring(ferr)) end
    faults = f:read("a")
    f:close()
  end
  local ok, err = pcall(function()
    local scenario = require("detlua.emulator.scenario")
    local state = require("detlua.emulator.state")
    local sc = scenario.from_options({ scenario = opts.scenario, region = opts.region })
    if opts.state then state.new(sc, { state = opts.state }) end
    if faults ~= nil then require("detlua.emulator.faults").parse(faults) end
  end)
  if not ok then return cli.usage_error("emulator: " .. tostring(err)) end

  local emulator = require("aws.core.emulator")
  local sok, serr = pcall(emulator.serve, {
    host = host, port = port, scenario = opts.scenario, state = opts.state, region = opts.region,
    log = not opts.quiet, faults = faults,
  })
  if not sok then
    io.stderr:write("detlua: emulator: ", tostring(serr), "\n")
    return 1
  end
  return 0
end

return M
