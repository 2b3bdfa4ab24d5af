-- manpage_spec.lua: docs/detlua.1 and `detlua --help` document the same options.
--
-- Both texts are parsed for option tokens (-e, --region, ...): in the help, every token
-- anywhere in the output; in the man page, every token after roff escapes are undone
-- (\- -> -, font changes dropped), comment lines excluded. The two sets must be equal,
-- so an option added to one and not the other fails here with its name. The help comes
-- from the built binary ($DETLUA --help) when it can be run, else from detlua.cli.USAGE.
-- When groff is installed, the page must also format without warnings.
local files = require("files")
local proc = require("proc")
local tables = require("tables")

local MAN_PAGE = files.src("docs/detlua.1")

-- What a command line prints when it exits 0; else nil and what it printed.
local function run(cmd)
  local out, status = proc.output(cmd)
  return status == 0 and out or nil, out
end

-- Option tokens: one or two dashes then a letter, at the start of a word (after
-- whitespace, "[", "(", "|" or the start of a line).
local function options_in(text)
  local set = {}
  for opt in ("\n" .. text):gmatch("[%s%[(|](%-%-?%a[%w-]*)") do set[opt] = true end
  return set
end

local function roff_to_text(roff)
  local lines = {}
  for line in (roff .. "\n"):gmatch("(.-)\n") do
    if not line:match('^%.%s*\\"') and not line:match('^\\"') then lines[#lines + 1] = line end
  end
  local t = table.concat(lines, "\n")
  t = t:gsub("\\f%[[^%]]*%]", ""):gsub("\\f%(..", ""):gsub("\\f.", "")
  t = t:gsub("\\%-", "-"):gsub("\\%(aq", "'"):gsub("\\%(em", "--"):gsub("\\&", "")
  -- a macro's quoted arguments: ".BI \-\-region " region"" keeps its words
  t = t:gsub('"', " ")
  return t
end

local function help_text()
  local bin = os.getenv("DETLUA")
  if bin and bin ~= "" then
    local out = run(proc.quote(bin) .. " --help 2>/dev/null")
    if out and out ~= "" then return out end
  end
  return require("detlua.cli").USAGE
end

local sorted = tables.sorted_keys

describe("docs/detlua.1", function()
  local page = files.read(MAN_PAGE)

  it("exists and is a man(7) page for section 1", function()
    assert.is_string(page)
    assert.matches("\n%.TH DETLUA 1 ", "\n" .. page)
    for _, sh in ipairs({ "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS" }) do
      assert.truthy(page:find("\n.SH " .. sh .. "\n", 1, true), sh)
    end
  end)

  it("documents exactly the options of detlua --help", function()
    local help = options_in(help_text())
    local man = options_in(roff_to_text(page))
    assert.truthy(help["--help"], "the help parser found no options")
    local missing_in_man, missing_in_help = {}, {}
    for _, o in ipairs(sorted(help)) do if not man[o] then missing_in_man[#missing_in_man + 1] = o end end
    for _, o in ipairs(sorted(man)) do if not help[o] then missing_in_help[#missing_in_help + 1] = o end end
    assert.same({}, missing_in_man, "in --help but not in the man page")
    assert.same({}, missing_in_help, "in the man page but not in --help")
  end)

  it("states the exit statuses the help states", function()
    local help = help_text()
    for code in help:match("Exit status:([^\n]*)"):gmatch("(%d) ") do
      assert.truthy(page:find("\n.B " .. code .. "\n", 1, true), "exit status " .. code)
    end
  end)

  it("formats without groff warnings", function()
    if not proc.have("groff") then
      pending("groff is not installed")
      return
    end
    local out, raw = run("groff -man -ww -z " .. proc.quote(MAN_PAGE) .. " 2>&1")
    assert.is_string(out, raw)
    assert.equal("", out)
  end)
end)
