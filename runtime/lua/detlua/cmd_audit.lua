-- detlua.cmd_audit: `detlua audit verify FILE`: checks an audit log written by
-- --audit-log / aws.audit.open (each line's own hash and the chain of "prev" hashes) and
-- prints either the number of records and the head hash, or the first broken line.
-- Exit status: 0 intact, 1 broken, 2 usage error or unreadable file. It never repairs.
local M = {}

M.USAGE = [[
usage: detlua audit verify FILE

Checks the hash chain of an audit log written with --audit-log FILE.
Prints "FILE: ok, N records, head HASH" and exits 0 when every line is intact;
prints "FILE:LINE: broken: REASON" and exits 1 at the first line that is not.
Keep the head hash elsewhere to detect a rewritten or truncated log.
]]

local function usage(msg)
  io.stderr:write("detlua audit: ", msg, "\n", M.USAGE)
  return 2
end

function M.main(argv, first)
  local sub = argv[first]
  if sub == "--help" or sub == "-h" or sub == "help" then
    io.stdout:write(M.USAGE)
    return 0
  end
  if sub == nil then return usage("missing subcommand") end
  if sub ~= "verify" then return usage("unknown subcommand " .. sub) end
  local path = argv[first + 1]
  if path == nil then return usage("verify needs a FILE") end
  if argv[first + 2] ~= nil then return usage("unexpected argument " .. argv[first + 2]) end
  local ok, info = require("aws.audit").verify(path)
  if ok == nil then
    io.stderr:write("detlua audit: cannot read ", path, ": ", info.reason, "\n")
    return 2
  end
  if ok then
    io.stdout:write(string.format("%s: ok, %d record%s, head %s\n", path, info.records,
      info.records == 1 and "" or "s", info.head))
    return 0
  end
  io.stdout:write(string.format("%s:%d: broken: %s\n", path, info.line, info.reason))
  return 1
end

return M
