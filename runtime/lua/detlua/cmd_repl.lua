-- detlua.cmd_repl: `detlua` with no arguments, or `detlua repl`: an interactive prompt
-- with the session globals. Reads lines from stdin, keeps incomplete chunks open,
-- evaluates expressions and prints their values. Line editing, completion and help
-- come from detlua.repl when that module is present.
local M = {}

function M.main(argv, first)
  local ok_full, full = pcall(require, "detlua.repl")
  if ok_full and full.main then return full.main(argv, first) end
  local cli = require("detlua.cli")
  local opts = cli.parse_common(argv, first, {
    ["--region"] = "value", ["--profile"] = "value", ["--endpoint-url"] = "value",
    ["--debug"] = "flag", ["--local"] = "flag",
  })
  local session = require("detlua.session")
  local env = session.start(opts)
  local tty = require("aws.core.host").isatty(0)
  if tty then io.stdout:write("detlua ", cli.VERSION, " (", _VERSION, ")\n") end
  local buffer = ""
  while true do
    if tty then io.stdout:write(buffer == "" and "> " or ">> "); io.stdout:flush() end
    local line = io.read("L")
    if not line then break end
    buffer = buffer .. line
    local src = buffer:gsub("^%s*=", "return ")
    local fn, err = load("return " .. src, "=stdin", "t")
    if not fn then fn, err = load(src, "=stdin", "t") end
    if not fn and err:match("<eof>$") then
      -- incomplete chunk: keep reading
    else
      buffer = ""
      if not fn then
        io.stderr:write(err, "\n")
      else
        local res = table.pack(pcall(fn))
        if not res[1] then
          io.stderr:write(tostring(res[2]), "\n")
        elseif res.n > 1 then
          local out = {}
          for i = 2, res.n do
            local v = res[i]
            if type(v) == "table" and getmetatable(v) == nil then
              out[#out + 1] = require("aws.json").encode(require("aws.redact").value(v), { indent = 2 })
            else
              out[#out + 1] = tostring(v)
            end
          end
          io.stdout:write(table.concat(out, "\t"), "\n")
        end
      end
    end
  end
  session.stop(env)
  return 0
end

return M
