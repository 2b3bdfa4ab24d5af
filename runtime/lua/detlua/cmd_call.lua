-- detlua.cmd_call: `detlua call SERVICE OPERATION [JSON] [options]`: one API call from
-- the shell. Parameters as JSON (argument, or stdin when no argument and stdin is not
-- a terminal); the result as JSON on stdout; errors on stderr. Exit 0 success, 1
-- service/transport/credential error, 2 usage or validation error.
local cli = require("detlua.cli")

local M = {}

local OPTS = {
  ["--region"] = "value", ["--profile"] = "value", ["--endpoint-url"] = "value",
  ["--debug"] = "flag", ["--local"] = "flag", ["--scenario"] = "value", ["--dry-run"] = "flag",
  ["--cli-input-json"] = "value", ["--output"] = "value", ["--compact"] = "flag",
}

function M.main(argv, first)
  local opts, pos = cli.parse_common(argv, first, OPTS)
  for i = first, #argv do
    local a = argv[i]
    if a:sub(1, 2) == "--" and not OPTS[a] and not OPTS[a:match("^(%-%-[%w-]+)=") or ""] then
      return cli.usage_error("call: unknown option " .. a)
    end
  end
  local service, opname, input = pos[1], pos[2], pos[3]
  if not service or not opname then
    return cli.usage_error("call: usage: detlua call SERVICE OPERATION [JSON] [--region R] [--profile P] [--endpoint-url URL] [--debug]")
  end
  if pos[4] then return cli.usage_error("call: unexpected argument " .. pos[4]) end
  local model = require("aws.core.model")
  local svc = model.service(service)
  if not svc then
    return cli.usage_error("call: unknown service \"" .. service .. "\" (known: " .. table.concat(model.services(), ", ") .. ")")
  end
  local op = model.operation(service, opname)
  if not op then
    return cli.usage_error("call: " .. service .. " has no operation \"" .. opname .. "\"")
  end
  if input == nil then input = opts.cli_input_json end
  local params
  if input == nil then
    -- no parameters in the arguments: a terminal on stdin is not read, and an empty stdin
    -- means none (then nothing needs decoding)
    local host = require("aws.core.host")
    input = not host.isatty(0) and io.read("a") or ""
    if input:match("^%s*$") then params = {} end
  end
  local json = require("aws.json")
  if not params then
    local jerr
    params, jerr = json.decode(input)
    if params == nil then
      return cli.usage_error("call: parameters are not valid JSON: " .. tostring(jerr))
    end
    if type(params) ~= "table" then
      return cli.usage_error("call: parameters must be a JSON object, got " .. type(params))
    end
  end

  local session, env, client
  if opts["local"] then
    -- the emulator comes with a session; the playbook kit is for chunks, not for a call
    session = require("detlua.session")
    opts.kit = false
    local ok_start
    ok_start, env = pcall(session.start, opts)
    if not ok_start then
      io.stderr:write("detlua: ", tostring(env), "\n")
      return 1
    end
    client = _G[svc.name]
  else
    -- one call against a real endpoint: one client, without the `aws` module, the default
    -- clients or the playbook kit a session sets up
    local client_mod = require("aws.client")
    client_mod.set_defaults(cli.client_defaults(opts))
    client = client_mod.new(svc.name)
  end
  local ok, result = pcall(client.call, client, op.name, params)
  if env then
    session.stop(env)
  else
    client:close()
    cli.state_disposable = true
  end
  if not ok then
    local errors = require("aws.errors")
    if errors.is_error(result) then
      io.stderr:write("detlua: ", tostring(result), "\n")
      return 1
    end
    io.stderr:write("detlua: ", require("aws.redact").text(tostring(result)), "\n")
    return 2
  end
  io.stdout:write(json.encode(result or {}, { svc = svc, shape = op.output, indent = (not opts.compact) and 4 or nil }), "\n")
  return 0
end

return M
