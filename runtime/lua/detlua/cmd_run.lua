-- detlua.cmd_run: `detlua FILE`, `detlua run [--local] FILE ARGS`, `detlua -e CHUNK`.
-- Sets up the globals (aws, detective, guardduty, sts), the `arg` table as lua.c does,
-- `args` (the --name=value pairs), then runs the chunk. Errors: aws.Error and other
-- playbook errors exit 1 with the message on stderr.
local M = {}

local HOST_OPTS = {
  ["--region"] = "value", ["--profile"] = "value", ["--endpoint-url"] = "value",
  ["--debug"] = "flag", ["--local"] = "flag", ["--scenario"] = "value",
  ["--dry-run"] = "flag", ["--audit-log"] = "value", ["--yes"] = "flag",
}

-- Host options come before FILE; everything after FILE belongs to the playbook.
local function split(argv, first)
  local opts, i = {}, first
  local chunk
  while argv[i] do
    local a = argv[i]
    local name, val = a:match("^(%-%-[%w-]+)=(.*)$")
    if a == "-e" then
      chunk = argv[i + 1]
      if not chunk then error({usage = "-e needs a chunk"}) end
      i = i + 2
    elseif name and HOST_OPTS[name] == "value" then
      opts[name:sub(3):gsub("-", "_")] = val
      i = i + 1
    elseif HOST_OPTS[a] == "value" then
      if argv[i + 1] == nil then error({usage = "option " .. a .. " needs a value"}) end
      opts[a:sub(3):gsub("-", "_")] = argv[i + 1]
      i = i + 2
    elseif HOST_OPTS[a] == "flag" then
      opts[a:sub(3):gsub("-", "_")] = true
      i = i + 1
    elseif a == "--" then
      i = i + 1
      break
    elseif a:sub(1, 2) == "--" and not chunk then
      error({usage = "unknown option " .. a})
    else
      break
    end
  end
  return opts, chunk, i
end

function M.main(argv, first)
  local opts, chunk, i = split(argv, first)
  local script, script_index
  if not chunk then
    script = argv[i]
    if not script then error({usage = "no playbook given"}) end
    script_index = i
    i = i + 1
  end
  -- arg as in lua.c: arg[0] the script, arg[1..] its arguments, negatives before it.
  local arg, args = {}, {}
  local base = script_index or (i - 1)
  for k = 0, #argv do arg[k - base] = argv[k] end
  for k = i, #argv do
    local name, val = argv[k]:match("^%-%-([%w_.-]+)=(.*)$")
    if name then
      args[name:gsub("-", "_")] = val
    elseif argv[k]:match("^%-%-[%w_.-]+$") then
      args[argv[k]:sub(3):gsub("-", "_")] = true
    else
      args[#args + 1] = argv[k]
    end
  end
  _G.arg, _G.args = arg, args

  local session = require("detlua.session")
  opts.playbook = script or "(command line)" -- named in --audit-log records
  local env = session.start(opts)
  local fn, err
  if chunk then
    fn, err = load(chunk, "=(command line)", "t")
  else
    fn, err = loadfile(script ~= "-" and script or nil, "t")
  end
  if not fn then
    session.stop(env)
    io.stderr:write("detlua: ", err, "\n")
    return 1
  end
  local rest = {}
  for k = 1, #arg do rest[k] = arg[k] end
  local ok, perr = xpcall(fn, function(e)
    if type(e) == "string" then return debug.traceback(e, 2) end
    return e
  end, table.unpack(rest))
  session.stop(env)
  if ok then return 0 end
  io.stderr:write("detlua: ", tostring(perr), "\n")
  return 1
end

return M
