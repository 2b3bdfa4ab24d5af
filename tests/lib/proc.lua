-- tests/lib/proc.lua: processes for the specs: shell quoting, a shell command's output, what
-- is installed (a program on PATH, Debian's python3 with a module), and a child run with
-- argv, stdin and environment whose stdout, stderr and exit status are captured. It does
-- not start servers (loopback.lua) nor manage temporary directories (files.lua).
local M = {}

-- Debian's interpreter: the one with python3-botocore (never the one first on PATH).
M.PYTHON = "/usr/bin/python3"

-- One shell word, whatever s holds.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- An exit status as child.run reports it: the code, or 128 + the signal number.
local function status(how, code)
  return (how == "exit") and code or 128 + (code or 0)
end

-- output(cmd) -> stdout, status: runs a shell command line and reads all it prints.
function M.output(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local _, how, code = p:close()
  return out, status(how, code)
end

-- True when the shell finds program (a name on PATH or a path).
function M.have(program)
  return os.execute("command -v " .. program .. " >/dev/null 2>&1") == true
end

-- True when Debian's python3 exists and imports `imports` ("botocore.auth", or a list
-- "botocore.serialize, botocore.parsers").
function M.python_has(imports)
  local f = io.open(M.PYTHON, "rb")
  if not f then return false end
  f:close()
  return os.execute(M.PYTHON .. " -c " .. M.quote("import " .. imports) .. " >/dev/null 2>&1") == true
end

-- The detlua binary under test.
function M.detlua()
  return os.getenv("DETLUA") or "build/detlua"
end

-- run{argv = {...}, stdin = "...", env = {NAME = value}} -> {code, stdout, stderr}
function M.run(t)
  local base = os.tmpname()
  os.remove(base)
  local out, err, inp = base .. ".out", base .. ".err", base .. ".in"
  local parts = {}
  for k, v in pairs(t.env or {}) do parts[#parts + 1] = k .. "=" .. M.quote(v) end
  if #parts > 0 then table.insert(parts, 1, "env") end
  for _, a in ipairs(t.argv) do parts[#parts + 1] = M.quote(a) end
  local cmd = table.concat(parts, " ")
  if t.stdin then
    local f = assert(io.open(inp, "wb"))
    f:write(t.stdin)
    f:close()
    cmd = cmd .. " <" .. inp
  else
    cmd = cmd .. " </dev/null"
  end
  cmd = cmd .. " >" .. out .. " 2>" .. err
  local _, how, code = os.execute(cmd)
  -- the captures are read once and removed (files.read would leave them behind)
  local function take(p)
    local f = io.open(p, "rb")
    if not f then return "" end
    local s = f:read("a")
    f:close()
    os.remove(p)
    return s
  end
  os.remove(inp)
  return { code = status(how, code), stdout = take(out), stderr = take(err) }
end

-- run_detlua(argv, stdin, env): run{} with the binary put before argv.
function M.run_detlua(argv, stdin, env)
  local full = { M.detlua() }
  for _, a in ipairs(argv) do full[#full + 1] = a end
  return M.run{ argv = full, stdin = stdin, env = env }
end

return M
