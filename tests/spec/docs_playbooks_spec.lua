-- docs_playbooks_spec: every ```lua block of docs/playbooks.md is a complete playbook; each
-- is run with `$DETLUA run --local` (plus the host options of a `<!-- run: ... -->` line
-- right before the block) and must exit 0 without printing a secret key. The checks on
-- results live in the examples' own assert calls and in the JSON lines they emit.
local K = require("kit_support")
local files = require("files")
local cjson = require("cjson")

local function blocks(text)
  local out = {}
  local n = 0
  local run_opts
  local inside, buf, start
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if inside then
      if line:match("^```%s*$") then
        out[#out + 1] = { code = table.concat(buf, "\n") .. "\n", line = start, opts = run_opts }
        inside, run_opts = false, nil
      else
        buf[#buf + 1] = line
      end
    elseif line:match("^```lua%s*$") then
      inside, buf, start = true, {}, n
    else
      local o = line:match("^<!%-%- run: (.-) %-%->$")
      if o then
        run_opts = {}
        for w in o:gmatch("%S+") do run_opts[#run_opts + 1] = w end
      elseif line:match("%S") then
        run_opts = nil
      end
    end
  end
  return out
end

describe("docs/playbooks.md", function()
  local text = files.read(files.src("docs/playbooks.md"))

  it("exists and has examples", function()
    assert.is_string(text)
    assert.is_true(#blocks(text) >= 8)
  end)

  for _, b in ipairs(blocks(text or "")) do
    it("example at line " .. b.line .. " runs", function()
      local r = K.run_playbook(b.code, b.opts)
      assert.equals(0, r.code, "line " .. b.line .. ":\n" .. r.stderr)
      for l in r.stdout:gmatch("[^\n]+") do
        assert.is_table(cjson.decode(l), "stdout is JSON lines: " .. l)
      end
      K.assert_no_secrets(r.stdout .. r.stderr, nil, "example at line " .. b.line)
    end)
  end
end)
