-- detlua.cli: the command line. Parses argv, dispatches to the commands (run, -e,
-- call, emulator, repl), maps failures to exit statuses (0 ok, 1 service/transport/
-- playbook error, 2 usage or validation error). Printing of results lives in the
-- commands; this file only routes.
local M = {}

local VERSION = "0.1.0"

-- Set by a command whose Lua state ends holding nothing a finalizer must see to (`detlua
-- call` without --local: its connection is closed and its output written): the host then
-- ends the process without closing the state, which would only free memory.
M.state_disposable = false

M.USAGE = [==[
usage: detlua [OPTIONS] [FILE [ARGS...]]
       detlua run [--local] [OPTIONS] FILE [ARGS...]
       detlua -e CHUNK [OPTIONS]
       detlua call SERVICE OPERATION [JSON] [OPTIONS]
       detlua emulator [--host H] [--port N] [--scenario FILE] [--state FILE] [--region R]
       detlua repl
       detlua audit verify FILE
       detlua --version | --help

Options:
  --region R          AWS Region for the default clients
  --profile P         profile from the shared config and credentials files
  --endpoint-url URL  send requests to URL instead of the standard endpoint
  --debug             log each request and response on stderr (secrets redacted)
  --dry-run           send only reads; show every other request instead of sending it
  --audit-log FILE    append a hash-chained record of every call to FILE (secrets redacted)
  --yes               answer yes to the playbook's confirm() questions
  --local             run against an embedded emulator on a free loopback port
  --scenario FILE     with --local: the emulator's scenario (default: the built-in one)
  -e CHUNK            run a chunk of Lua
  --version           print the version and exit
  --help              print this help and exit

Exit status: 0 success, 1 service, transport or playbook error, 2 usage or validation error.
]==]

local function usage_error(msg)
  io.stderr:write("detlua: ", msg, "\n", "Try 'detlua --help'.\n")
  return 2
end

M.usage_error = usage_error
M.VERSION = VERSION

-- Common options shared by run, -e and call. Returns opts, rest (positional args).
function M.parse_common(argv, first, allow)
  local opts, rest = {}, {}
  local i = first
  local function value(name)
    local v = argv[i + 1]
    if v == nil then error({usage = "option " .. name .. " needs a value"}) end
    i = i + 1
    return v
  end
  local stop = false
  while argv[i] ~= nil do
    local a = argv[i]
    if stop then
      rest[#rest + 1] = a
    elseif a == "--" then
      stop = true
    elseif a:match("^%-%-[%w-]+=") and allow[a:match("^(%-%-[%w-]+)=")] then
      local k, v = a:match("^%-%-([%w-]+)=(.*)$")
      opts[k:gsub("-", "_")] = v
    elseif allow[a] == "value" then
      opts[a:sub(3):gsub("-", "_")] = value(a)
    elseif allow[a] == "flag" then
      opts[a:sub(3):gsub("-", "_")] = true
    else
      rest[#rest + 1] = a
      if allow.stop_at_positional then stop = true end
    end
    i = i + 1
  end
  return opts, rest
end

-- The defaults for aws.client that the host options set (--region, --profile,
-- --endpoint-url, --debug, --dry-run): what every client of the run starts from.
function M.client_defaults(opts)
  return { region = opts.region, profile = opts.profile, endpoint = opts.endpoint_url,
    debug = opts.debug, dry_run = opts.dry_run }
end

local commands = {}
M.commands = commands

local function load_command(name)
  return require("detlua.cmd_" .. name)
end

function M.main(argv)
  local a1 = argv[1]
  local ok, rc = pcall(function()
    if a1 == "--version" or a1 == "-v" then
      io.stdout:write("detlua ", VERSION, " (", _VERSION, ")\n")
      return 0
    elseif a1 == "--help" or a1 == "-h" then
      io.stdout:write(M.USAGE)
      return 0
    elseif a1 == nil or a1 == "repl" then
      return load_command("repl").main(argv, a1 == nil and 1 or 2)
    elseif a1 == "run" then
      return load_command("run").main(argv, 2)
    elseif a1 == "-e" then
      return load_command("run").main(argv, 1)
    elseif a1 == "call" then
      return load_command("call").main(argv, 2)
    elseif a1 == "emulator" then
      return load_command("emulator").main(argv, 2)
    elseif a1 == "audit" then
      return load_command("audit").main(argv, 2)
    elseif a1:sub(1, 1) == "-" and a1 ~= "-" and not a1:match("^%-%-[%w-]+") then
      return usage_error("unknown option " .. a1)
    else
      return load_command("run").main(argv, 1)
    end
  end)
  if ok then return rc or 0 end
  if type(rc) == "table" and rc.usage then return usage_error(rc.usage) end
  io.stderr:write("detlua: ", tostring(rc), "\n")
  return 1
end

return M
