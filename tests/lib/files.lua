-- tests/lib/files.lua: files for the specs: paths in the source tree, temporary names and
-- directories, whole-file read and write, and text cut into lines or JSON lines.
-- Temporary directories are made as /tmp/detlua_test_XXXXXX (no Lua pattern characters in
-- the name, specs match paths in messages) and rmdir removes only those, so a wrong
-- argument cannot delete anything else. It does not run programs (proc.lua).
local proc = require("proc")
local json = require("aws.json")

local M = {}

-- The source tree (ctest sets DT_SRC; specs run from it otherwise).
M.SRC = os.getenv("DT_SRC") or "."

-- src(rel) -> a path in the source tree; an absolute path is returned as it is.
function M.src(rel)
  if rel:sub(1, 1) == "/" then return rel end
  return M.SRC .. "/" .. rel
end

function M.exists(path)
  local f = path and io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- read(path) -> text, or nil and io.open's message (assert(files.read(p)) where it must exist).
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- write(path, text, mode) -> path; mode ("600") is given to chmod when present.
function M.write(path, text, mode)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  if mode then assert(os.execute("chmod " .. mode .. " " .. proc.quote(path))) end
  return path
end

-- tmpname(suffix) -> a fresh name in the temporary directory; nothing is left there.
function M.tmpname(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. (suffix or "")
end

-- tmpdir() -> a new empty directory, removed with rmdir.
function M.tmpdir()
  local p = assert(io.popen("mktemp -d /tmp/detlua_test_XXXXXX"))
  local d = p:read("l")
  p:close()
  assert(d and d ~= "", "mktemp -d failed")
  return d
end

-- mkdir(path) -> path, with its parents.
function M.mkdir(path)
  assert(os.execute("mkdir -p " .. proc.quote(path)), "mkdir failed: " .. path)
  return path
end

-- Removes a directory tmpdir() made, with all below it; any other path is left alone.
function M.rmdir(dir)
  if dir and dir:match("^/tmp/detlua_test_%w+$") then os.execute("rm -rf " .. proc.quote(dir)) end
end

-- Every line that ends with "\n" (empty ones included).
function M.lines(text)
  local out = {}
  for l in text:gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

-- The lines of text that start with "{", decoded (the JSON lines a playbook emits among
-- other output); lines that do not decode are skipped.
function M.json_lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    if line:sub(1, 1) == "{" then
      local v = json.decode(line)
      if type(v) == "table" then out[#out + 1] = v end
    end
  end
  return out
end

-- Every line of a JSON-lines file (an audit log), decoded; {} when there is no file.
function M.json_records(path)
  local out = {}
  local f = io.open(path, "rb")
  if not f then return out end
  for line in f:lines() do
    local v = json.decode(line)
    if type(v) == "table" then out[#out + 1] = v end
  end
  f:close()
  return out
end

return M
