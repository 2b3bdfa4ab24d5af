-- exit_spec.lua: how a detlua process ends. The binary leaves with _exit after closing its
-- Lua state (runtime/main.c), skipping library clean-up at exit, and `detlua call` may leave
-- its state unclosed (runtime/host.c); these check that nothing a run wrote is lost on the
-- way out (Lua files left open, finalizers, buffered standard output, os.exit), that exit
-- statuses come through unchanged, and that a failed write of standard output fails the run
-- instead of vanishing.
local proc = require("proc")
local files = require("files")

local function detlua(args)
  local full = { proc.detlua() }
  for _, a in ipairs(args) do full[#full + 1] = a end
  return full
end

-- A shell command line running detlua with its standard output sent to `target` and its
-- standard error to the shell's (read by proc.output).
local function to(target, args)
  local q = {}
  for _, a in ipairs(detlua(args)) do q[#q + 1] = proc.quote(a) end
  return table.concat(q, " ") .. " 2>&1 >" .. target .. " </dev/null; echo \"status=$?\""
end

describe("leaving the process", function()
  it("keeps what a chunk wrote to a file it never closed", function()
    local dir = files.tmpdir()
    local path = dir .. "/left-open.txt"
    local body = string.rep("0123456789abcdef", 1000) -- larger than one stdio buffer, and a tail
    local r = proc.run{ argv = detlua({ "-e", "F = io.open(" .. string.format("%q", path) .. ", 'w') F:write(" ..
      string.format("%q", body) .. ") F:write('tail')" }) }
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal(body .. "tail", files.read(path))
    files.rmdir(dir)
  end)

  it("runs a chunk's finalizers before the process ends", function()
    -- `detlua call` may leave its state to the kernel (cli.state_disposable); a chunk or a
    -- playbook never does: a __gc that writes a file must have run
    local dir = files.tmpdir()
    local path = dir .. "/finalized.txt"
    local r = proc.run{ argv = detlua({ "-e", "KEEP = setmetatable({}, { __gc = function() " ..
      "local f = io.open(" .. string.format("%q", path) .. ", 'w') f:write('finalized') f:close() end })" }) }
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal("finalized", files.read(path))
    files.rmdir(dir)
  end)

  it("keeps buffered standard output, whole, with and without os.exit", function()
    local n = 70000
    local r = proc.run{ argv = detlua({ "-e", "io.write(string.rep('x', " .. n .. ")) io.write('end')" }) }
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal(n + 3, #r.stdout)
    assert.are.equal("end", r.stdout:sub(-3))
    local r2 = proc.run{ argv = detlua({ "-e", "io.write('before exit') os.exit(3)" }) }
    assert.are.equal(3, r2.code)
    assert.are.equal("before exit", r2.stdout)
  end)

  it("passes exit statuses through: 0, a script's error, usage errors", function()
    assert.are.equal(0, proc.run{ argv = detlua({ "-e", "return" }) }.code)
    assert.are.equal(1, proc.run{ argv = detlua({ "-e", "error('boom')" }) }.code)
    assert.are.equal(2, proc.run{ argv = detlua({ "call", "detective" }) }.code)
  end)

  it("fails a run whose standard output cannot be written, saying so", function()
    if not files.exists("/dev/full") then
      pending("no /dev/full on this machine")
      return
    end
    for _, args in ipairs({
      { "-e", "io.write('result')" },
      { "-e", "print('result')" }, -- print flushes by itself and ignores the failure
      { "call", "detective", "list-graphs", "--local" },
    }) do
      local out = proc.output(to("/dev/full", args))
      assert.matches("cannot write to standard output", out, 1, true)
      assert.matches("status=1\n$", out)
    end
    -- the same runs succeed when the output can be written
    local ok = proc.output(to("/dev/null", { "call", "detective", "list-graphs", "--local" }))
    assert.are.equal("status=0\n", ok)
  end)
end)
