-- gen-docs.lua: writes the generated documentation from the model tables compiled into
-- detlua, so the reference can never describe a different model than the clients use:
--   <out>/README.md, <out>/<service>.md      API reference (Markdown)
--   <out>/aws.md                               the rest of the aws module (detlua.apidoc_core)
--   <types>/aws.lua, <types>/aws/<service>.lua  LuaLS type stubs (---@meta files)
--   <types>/aws/credentials.lua                 stubs for modules reached with require()
-- Run by the built binary:  build/detlua scripts/gen-docs.lua [--out docs/api] [--types docs/types]
-- (`make docs`). scripts/check-docs.sh runs it into a temporary directory and diffs.
-- All rendering lives in detlua.apidoc; this script only picks paths and writes files.
local apidoc = require("detlua.apidoc")
local model = require("aws.core.model")

local out_dir, types_dir = "docs/api", nil
local i = 1
while arg[i] do
  local a = arg[i]
  if a == "--out" and arg[i + 1] then out_dir = arg[i + 1]; i = i + 2
  elseif a == "--types" and arg[i + 1] then types_dir = arg[i + 1]; i = i + 2
  else
    io.stderr:write("gen-docs: unknown argument ", a, "\nusage: gen-docs.lua [--out DIR] [--types DIR]\n")
    os.exit(2)
  end
end
-- Stubs go beside the API pages unless told otherwise: docs/api -> docs/types.
types_dir = types_dir or (out_dir:gsub("/*$", ""):gsub("[^/]+$", "types"))
if types_dir == out_dir then types_dir = out_dir .. "/types" end

local function mkdir(path)
  local ok = os.execute("mkdir -p '" .. path:gsub("'", "'\\''") .. "'")
  if not ok then error("gen-docs: cannot create directory " .. path) end
end

local function write(path, text)
  local f, err = io.open(path, "wb")
  if not f then error("gen-docs: " .. err) end
  f:write(text)
  f:close()
  print("wrote " .. path)
end

mkdir(out_dir)
mkdir(types_dir .. "/aws")
write(out_dir .. "/README.md", apidoc.index_markdown())
write(out_dir .. "/aws.md", apidoc.core_markdown())
write(types_dir .. "/aws.lua", apidoc.luals_core())
local required = apidoc.luals_required_modules()
local names = {}
for name in pairs(required) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  write(types_dir .. "/aws/" .. name .. ".lua", required[name])
end
for _, name in ipairs(model.services()) do
  write(out_dir .. "/" .. name .. ".md", apidoc.service_markdown(name))
  write(types_dir .. "/aws/" .. name .. ".lua", apidoc.luals(name))
end
