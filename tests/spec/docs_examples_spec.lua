-- Every ```lua block of the guides runs against the emulator (`detlua run --local`) and
-- must succeed, so the documentation cannot drift from what the code does. A block
-- whose first line is `-- not run: <why>` is skipped (for fragments that need AWS).
-- docs/playbooks.md has its own spec (docs_playbooks_spec.lua).
local files = require("files")
local proc = require("proc")

local GUIDES = { "getting-started.md", "credentials.md", "emulator.md", "repl.md", "architecture.md", "README.md" }

local function blocks(path)
  local text = files.read(path)
  if not text then return nil end
  local out = {}
  for code in text:gmatch("```lua\n(.-)```") do out[#out + 1] = code end
  return out
end

describe("guide examples", function()
  for _, guide in ipairs(GUIDES) do
    local list = blocks(files.src("docs/" .. guide))
    if list then
      for i, code in ipairs(list) do
        local skip = code:match("^%-%- not run: ([^\n]*)")
        local name = guide .. " example " .. i
        if skip then
          pending(name .. " (" .. skip .. ")")
        else
          it(name, function()
            local path = files.write(files.tmpname(), code)
            local r = proc.run_detlua{ "run", "--local", path, "--note=docs" }
            os.remove(path)
            assert.are.equal(0, r.code, name .. " failed:\n" .. r.stderr .. "\n--- code ---\n" .. code)
          end)
        end
      end
    end
  end
end)
