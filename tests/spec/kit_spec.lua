-- kit_spec: the playbook kit (detlua.kit: log, emit, confirm, kit.progress) with fake
-- streams, terminals and clocks, and the same through `detlua run` (plain pipes, and a
-- real pseudo-terminal from util-linux `script` for confirm). Expected timestamps are
-- fixed epoch values whose UTC form is known independently (1700000000 is
-- 2023-11-14T22:13:20Z); emitted JSON is read back with lua-cjson.
local K = require("kit_support")
local files = require("files")
local proc = require("proc")
local kit = require("detlua.kit")
local redact = require("aws.redact")
local cjson = require("cjson")

local T0 = 1700000000

local function sink()
  local s = { buf = {} }
  function s:write(...)
    for _, x in ipairs({ ... }) do self.buf[#self.buf + 1] = tostring(x) end
    return self
  end
  function s:flush() return self end
  function s:text() return table.concat(self.buf) end
  function s:reset() self.buf = {} end
  return s
end

local function source(text)
  local s = { text = text }
  function s:read()
    if self.text == nil then return nil end
    local line, rest = self.text:match("^([^\n]*)\n(.*)$")
    if not line then line, rest = self.text, nil end
    if line == "" and rest == nil then self.text = nil; return nil end
    self.text = rest
    return line
  end
  return s
end

-- A kit with fake everything; tty: set of fds that are terminals; clock in ms.
local function fake(o)
  o = o or {}
  local t = { ms = 0, err = sink(), out = sink() }
  t.kit = kit.new{ stderr = t.err, stdout = t.out, stdin = source(o.input or ""),
    isatty = function(fd) return (o.tty or {})[fd] == true end,
    clock = function() return t.ms end, now = function() return T0 end,
    yes = o.yes, debug = o.debug }
  return t
end

describe("log", function()
  it("writes UTC-stamped, levelled lines on stderr", function()
    local t = fake()
    t.kit.log.info("graph %s has %d members", "g-1", 3)
    t.kit.log.warn("careful")
    t.kit.log.error("it broke: %s", "reason")
    assert.equals("2023-11-14T22:13:20Z INFO  graph g-1 has 3 members\n"
      .. "2023-11-14T22:13:20Z WARN  careful\n"
      .. "2023-11-14T22:13:20Z ERROR it broke: reason\n", t.err:text())
    assert.equals("", t.out:text())
  end)

  it("prints a lone argument as is (no format) and debug only with --debug", function()
    local t = fake()
    t.kit.log.info("100% done")
    t.kit.log.debug("hidden")
    assert.equals("2023-11-14T22:13:20Z INFO  100% done\n", t.err:text())
    local d = fake{ debug = true }
    d.kit.log.debug("shown %d", 1)
    assert.equals("2023-11-14T22:13:20Z DEBUG shown 1\n", d.err:text())
  end)

  it("scrubs registered secrets", function()
    local secret = "kit-spec-secret-value-0123456789"
    redact.register(secret)
    local t = fake()
    t.kit.log.info("key is %s", secret)
    assert.is_nil(t.err:text():find(secret, 1, true))
    assert.matches("key is <redacted>", t.err:text(), 1, true)
  end)

  it("raises on a bad format, pointing at the caller", function()
    local t = fake()
    local ok, err = pcall(function() t.kit.log.info("%d accounts", "many") end)
    assert.is_false(ok)
    assert.matches("log.info:", err, 1, true)
    assert.matches("kit_spec.lua", err, 1, true)
  end)
end)

describe("emit", function()
  it("writes one JSON line with sorted keys on stdout", function()
    local t = fake()
    t.kit.emit{ zeta = 1, alpha = { "a", "b" }, mid = { x = true }, name = "g" }
    t.kit.emit{ n = 2 }
    local lines = files.lines(t.out:text())
    assert.equals(2, #lines)
    assert.equals('{"alpha":["a","b"],"mid":{"x":true},"name":"g","zeta":1}', lines[1])
    assert.same({ zeta = 1, alpha = { "a", "b" }, mid = { x = true }, name = "g" }, cjson.decode(lines[1]))
    assert.equals("", t.err:text())
  end)

  it("keeps empty lists marked with aws.json.array as []", function()
    local t = fake()
    t.kit.emit{ items = require("aws.json").array{}, nested = { more = require("aws.json").array() }, map = {} }
    assert.equals('{"items":[],"map":{},"nested":{"more":[]}}\n', t.out:text())
  end)

  it("redacts secret-named fields and registered secrets", function()
    local t = fake()
    t.kit.emit{ Credentials = { AccessKeyId = "ASIAEXAMPLE", SecretAccessKey = "abc", SessionToken = "def" } }
    local v = cjson.decode(t.out:text())
    assert.equals("<redacted>", v.Credentials.SecretAccessKey)
    assert.equals("<redacted>", v.Credentials.SessionToken)
  end)

  it("rejects what is not a table", function()
    local t = fake()
    assert.has_error(function() t.kit.emit("text") end)
    assert.has_error(function() t.kit.emit{ f = print } end)
  end)
end)

describe("confirm", function()
  it("answers yes with --yes, and says so", function()
    local t = fake{ yes = true }
    assert.is_true(t.kit.confirm("Delete 3 members?"))
    assert.matches("INFO  Delete 3 members? -> yes (--yes)", t.err:text(), 1, true)
  end)

  it("answers no without a terminal and without --yes, and says so", function()
    local t = fake{ input = "y\n" }
    assert.is_false(t.kit.confirm("Delete 3 members?"))
    assert.matches("WARN  Delete 3 members? -> no (no terminal to ask; run with --yes", t.err:text(), 1, true)
  end)

  it("asks y/N on a terminal", function()
    for input, want in pairs({ ["y\n"] = true, ["yes\n"] = true, ["Y\n"] = true, ["n\n"] = false,
      ["\n"] = false, ["maybe\n"] = false, [""] = false }) do
      local t = fake{ tty = { [0] = true, [2] = true }, input = input }
      assert.equals(want, t.kit.confirm("Proceed?"), input)
      assert.equals("Proceed? [y/N] ", t.err:text():sub(1, 15))
    end
  end)
end)

describe("kit.progress", function()
  it("stays silent when stderr is not a terminal", function()
    local t = fake()
    t.kit.progress(1, 10, "members")
    t.ms = 5000
    t.kit.progress(2, 10, "members")
    t.kit.progress(10, 10, "members")
    assert.equals("", t.err:text())
  end)

  it("shows nothing for a fan-out that ends within a second", function()
    local t = fake{ tty = { [2] = true } }
    t.kit.progress(1, 3, "x")
    t.ms = 500
    t.kit.progress(2, 3, "x")
    t.kit.progress(3, 3, "x")
    assert.equals("", t.err:text())
  end)

  it("rewrites one line, throttled, and clears it at the end", function()
    local t = fake{ tty = { [2] = true } }
    t.kit.progress(0, 200, "members")
    t.ms = 1500
    t.kit.progress(50, 200, "members")
    assert.equals("\rmembers: 50/200 (25%)\27[K", t.err:text())
    t.err:reset()
    t.ms = 1550 -- within the redraw interval
    t.kit.progress(60, 200, "members")
    assert.equals("", t.err:text())
    t.ms = 2000
    t.kit.progress(100, 200, "members")
    assert.equals("\rmembers: 100/200 (50%)\27[K", t.err:text())
    t.err:reset()
    t.kit.progress(200, 200, "members")
    assert.equals("\r\27[K", t.err:text())
  end)

  it("moves out of the way of log lines and is redrawn after them", function()
    local t = fake{ tty = { [2] = true } }
    t.kit.progress(0, 10, "p")
    t.ms = 2000
    t.kit.progress(1, 10, "p")
    t.err:reset()
    t.kit.log.info("hello")
    assert.equals("\r\27[K2023-11-14T22:13:20Z INFO  hello\n", t.err:text())
    t.err:reset()
    t.ms = 2010
    t.kit.progress(2, 10, "p")
    assert.equals("\rp: 2/10 (20%)\27[K", t.err:text())
    t.err:reset()
    t.kit.finish()
    assert.equals("\r\27[K", t.err:text())
  end)
end)

describe("detlua run with the kit", function()
  local playbook = [[
    log.info("checking %s in %s", args.account, args.region or "default")
    emit{ account = args.account, verbose = args.verbose, rest = args[1] }
    emit{ confirmed = confirm("Remove member " .. args.account .. "?") }
    assert(aws.time.parse(aws.time.format(aws.time.ago("24h"))))
    for i = 1, 3 do kit.progress(i, 3, "work") end
  ]]

  it("gives args, logs on stderr and emits JSON lines on stdout", function()
    local r = K.run_playbook(playbook, nil, { "--account=444455556666", "--verbose", "extra" })
    assert.equals(0, r.code, r.stderr)
    local out = files.lines(r.stdout)
    assert.equals(2, #out)
    assert.same({ account = "444455556666", verbose = true, rest = "extra" }, cjson.decode(out[1]))
    assert.same({ confirmed = false }, cjson.decode(out[2]))
    local err = files.lines(r.stderr)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ INFO  checking 444455556666 in default$", err[1])
    assert.matches("WARN  Remove member 444455556666? -> no", err[2], 1, true)
    K.assert_no_secrets(r.stdout .. r.stderr)
  end)

  it("--yes answers confirm", function()
    local r = K.run_playbook(playbook, { "--yes" }, { "--account=1" })
    assert.equals(0, r.code, r.stderr)
    assert.same({ confirmed = true }, cjson.decode(files.lines(r.stdout)[2]))
  end)

  it("asks on a real terminal", function()
    if not proc.have("script") then pending("needs util-linux script") return end
    local file = files.write(files.tmpname(".lua"), 'emit{ answer = confirm("Delete 3 members?") }\n')
    local function ask(answer)
      return (proc.output("printf '" .. answer .. "\\n' | script -qec "
        .. proc.quote(proc.detlua() .. " run --local " .. file) .. " /dev/null"))
    end
    local yes, no = ask("y"), ask("n")
    os.remove(file)
    assert.matches("Delete 3 members? [y/N] ", yes, 1, true)
    assert.matches('{"answer":true}', yes, 1, true)
    assert.matches('{"answer":false}', no, 1, true)
  end)
end)
