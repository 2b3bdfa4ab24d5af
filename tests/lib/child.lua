-- tests/lib/child.lua: run a child process (the detlua binary or a tool) from a spec and
-- capture its stdout, stderr and exit status. Arguments are shell-quoted here.
local M = {}

function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- run{argv = {...}, stdin = "...", env = {NAME = value}} -> {code, stdout, stderr}
function M.run(t)
  local dir = os.tmpname()
  os.remove(dir)
  local out, err, inp = dir .. ".out", dir .. ".err", dir .. ".in"
  local parts = {}
  for k, v in pairs(t.env or {}) do parts[#parts + 1] = k .. "=" .. M.quote(v) end
  if #parts > 0 then table.insert(parts, 1, "env") end
  for _, a in ipairs(t.argv) do parts[#parts + 1] = M.quote(a) end
  local cmd = table.concat(parts, " ")
  if t.stdin then
    local f = assert(io.open(inp, "wb")); f:write(t.stdin); f:close()
    cmd = cmd .. " <" .. inp
  else
    cmd = cmd .. " </dev/null"
  end
  cmd = cmd .. " >" .. out .. " 2>" .. err
  local ok, how, code = os.execute(cmd)
  local function slurp(p)
    local f = io.open(p, "rb")
    if not f then return "" end
    local s = f:read("a"); f:close(); os.remove(p)
    return s
  end
  os.remove(inp)
  return { code = (how == "exit") and code or 128 + (code or 0), stdout = slurp(out), stderr = slurp(err) }
end

function M.detlua()
  return os.getenv("DETLUA") or "build/detlua"
end

return M
