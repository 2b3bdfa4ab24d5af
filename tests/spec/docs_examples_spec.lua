-- Every ```lua block of the guides runs against the emulator (`detlua run --local`) and
-- must succeed, so the documentation cannot drift from what the code does. A block
-- whose first line is `-- not run: <why>` is skipped (for fragments that need AWS).
-- docs/playbooks.md has its own spec (docs_playbooks_spec.lua).
local child = require("child")

local src = os.getenv("DT_SRC") or "."
local GUIDES = { "getting-started.md", "credentials.md", "emulator.md", "repl.md", "architecture.md", "README.md" }

local function blocks(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local out = {}
  for code in text:gmatch("```lua\n(.-)```") do out[#out + 1] = code end
  return out
end

describe("guide examples", function()
  for _, guide in ipairs(GUIDES) do
    local list = blocks(src .. "/docs/" .. guide)
    if list then
      for i, code in ipairs(list) do
        local skip = code:match("^%-%- not run: ([^\n]*)")
        local name = guide .. " example " .. i
        if skip then
          pending(name .. " (" .. skip .. ")")
        else
          it(name, function()
            local path = os.tmpname()
            local fh = assert(io.open(path, "wb"))
            fh:write(code)
            fh:close()
            local r = child.run{ argv = { child.detlua(), "run", "--local", path, "--note=docs" } }
            os.remove(path)
            assert.are.equal(0, r.code, name .. " failed:\n" .. r.stderr .. "\n--- code ---\n" .. code)
          end)
        end
      end
    end
  end
end)
