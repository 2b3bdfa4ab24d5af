-- repl_tty_spec: the REPL driven through a real pseudo-terminal. tmux (a private server
-- on a socket in the test's temporary directory, killed at the end) runs `detlua repl` in a pane; keys are sent with
-- send-keys and the screen read back with capture-pane. Every wait polls the screen for
-- the expected text with a generous deadline that only guards against a hang; nothing
-- here measures time. Oracles: the model (the operations a listing must show), the
-- emulator's answers, a loopback server that accepts and never answers (for Ctrl-C),
-- and the history file on disk.
local model = require("aws.core.model")
local host = require("aws.core.host")
local files = require("files")
local proc = require("proc")

local DETLUA = os.getenv("DETLUA")
local PY = proc.PYTHON
local SOCKET = "detlua-test-" .. host.pid()
local DEADLINE_MS = 20000

local q, exists, slurp = proc.quote, files.exists, files.read

-- What a shell command line prints, stderr included.
local function run(cmd)
  return (proc.output(cmd .. " 2>&1"))
end

local have_tmux = proc.have("tmux")
local usable = have_tmux and DETLUA and exists(DETLUA)

local tmpdir
local server_pid -- the stalling server, stopped in teardown

-- A private server whose socket lives in the test's directory (removed with it).
local function tmux(args)
  return run("tmux -S " .. q(tmpdir .. "/" .. SOCKET) .. " " .. args)
end

-- A pane running `detlua repl ARGS` in an environment of its own: no shared AWS files,
-- history under tmpdir/<name>/state, no colours (the screen is compared as text).
local function start(name, args, env)
  local home = tmpdir .. "/" .. name
  files.mkdir(home)
  local vars = {
    "HOME=" .. home, "XDG_STATE_HOME=" .. home .. "/state", "NO_COLOR=1", "TERM=xterm",
    "AWS_CONFIG_FILE=" .. home .. "/no-config", "AWS_SHARED_CREDENTIALS_FILE=" .. home .. "/no-credentials",
    "LANG=C.UTF-8", "AWS_EC2_METADATA_DISABLED=true",
  }
  for k, v in pairs(env or {}) do vars[#vars + 1] = k .. "=" .. v end
  local cmd = "env -i PATH=/usr/bin:/bin " .. table.concat(vars, " ") .. " " .. q(DETLUA) .. " repl " .. (args or "")
  tmux("new-session -d -s " .. name .. " -x 160 -y 50 " .. q(cmd))
  return home
end

local function screen(name)
  return tmux("capture-pane -p -J -S -2000 -t " .. name)
end

local function alive(name)
  return os.execute("tmux -S " .. q(tmpdir .. "/" .. SOCKET) .. " has-session -t " .. name .. " >/dev/null 2>&1") == true
end

local function wait_until(what, pred)
  local stop = host.monotonic_ms() + DEADLINE_MS
  while true do
    local ok, v = pred()
    if ok then return v end
    if host.monotonic_ms() > stop then error("gave up waiting for " .. what, 2) end
    host.sleep_ms(50)
  end
end

-- Waits until the screen contains text (plain), n times when n is given.
local function wait_for(name, text, n)
  n = n or 1
  return wait_until(string.format("%q on the screen", text), function()
    local s = screen(name)
    local count, at = 0, 1
    while true do
      local i = s:find(text, at, true)
      if not i then break end
      count, at = count + 1, i + #text
    end
    if count >= n then return true, s end
    if not alive(name) then error("the REPL ended; screen:\n" .. s, 0) end
    return false
  end)
end

local function type_text(name, text)
  tmux("send-keys -t " .. name .. " -l " .. q(text))
end

local function key(name, k)
  tmux("send-keys -t " .. name .. " " .. k)
end

-- Ctrl-D until the pane's REPL has ended (a Ctrl-D typed while output is still being
-- written reaches the terminal before the editor does; the next one is read).
local function leave(name)
  local stop = host.monotonic_ms() + DEADLINE_MS
  while alive(name) do
    if host.monotonic_ms() > stop then error("the REPL in " .. name .. " did not leave on Ctrl-D", 2) end
    key(name, "C-d")
    for _ = 1, 20 do
      if not alive(name) then return end
      host.sleep_ms(50)
    end
  end
end

setup(function()
  if not usable then return end
  tmpdir = files.tmpdir()
end)

teardown(function()
  if not usable then return end
  tmux("kill-server")
  if server_pid then os.execute("kill " .. server_pid .. " 2>/dev/null") end
  files.rmdir(tmpdir)
end)

local function need()
  if not have_tmux then pending("tmux is not installed") return false end
  if not (DETLUA and exists(DETLUA)) then pending("DETLUA is not set") return false end
  return true
end

describe("detlua repl on a terminal", function()
  it("completes operation names from the model, then parameter names", function()
    if not need() then return end
    start("complete", "--local")
    wait_for("complete", "detlua(local)> ")
    type_text("complete", "detective:list_")
    key("complete", "Tab")
    local svc = model.service("detective")
    local lists = {}
    for _, n in ipairs(svc.operation_names) do
      local ln = svc.operations[n].lua_name
      if ln:sub(1, 5) == "list_" then lists[#lists + 1] = ln end
    end
    local s = wait_for("complete", lists[#lists])
    for _, ln in ipairs(lists) do assert.truthy(s:find(ln, 1, true), ln .. " missing from\n" .. s) end
    type_text("complete", "mem")
    key("complete", "Tab")
    wait_for("complete", "detective:list_members{")
    type_text("complete", "Gr")
    key("complete", "Tab")
    wait_for("complete", "detective:list_members{GraphArn = ")
    -- the completed line runs: the emulator answers a missing graph with an error
    type_text("complete", '"arn:aws:detective:us-east-1:111122223333:graph:0123456789abcdef0123456789abcdef"}')
    key("complete", "Enter")
    wait_for("complete", "ResourceNotFoundException")
    leave("complete")
  end)

  it("calls the emulator, prints the result, and survives errors", function()
    if not need() then return end
    start("call", "--local")
    wait_for("call", "detlua(local)> ")
    type_text("call", "g = detective:create_graph{}")
    key("call", "Enter")
    type_text("call", "print('ARN=' .. g.GraphArn)")
    key("call", "Enter")
    local s = wait_for("call", "ARN=arn:")
    local arn = s:match("ARN=(arn:aws:detective:[%w%-]+:%d+:graph:%x+)")
    assert.truthy(arn, s)
    type_text("call", "detective:list_graphs{}")
    key("call", "Enter")
    s = wait_for("call", "GraphList = ")
    assert.truthy(s:find('Arn = "' .. arn .. '"', 1, true), s)
    -- a service error, then a caller mistake: both printed, the REPL stays
    type_text("call", 'detective:list_members{GraphArn = "arn:aws:detective:us-east-1:111122223333:graph:0123456789abcdef0123456789abcdef"}')
    key("call", "Enter")
    wait_for("call", "Detective.ListMembers: ResourceNotFoundException (HTTP 404")
    type_text("call", "detective:list_members{GraphArn = 42}")
    key("call", "Enter")
    wait_for("call", "detective:list_members: GraphArn:")
    type_text("call", "=6 * 7")
    key("call", "Enter")
    s = wait_for("call", "\n42\n")
    assert.truthy(alive("call"))
    -- multi-line input: an incomplete chunk continues on the next line
    type_text("call", "for i = 1, 2 do")
    key("call", "Enter")
    wait_for("call", "...> ")
    type_text("call", "print('loop' .. i) end")
    key("call", "Enter")
    wait_for("call", "loop2")
    -- Ctrl-C on a half-typed line discards it; Ctrl-D leaves
    type_text("call", "half typed")
    key("call", "C-c")
    type_text("call", "=1 + 2")
    key("call", "Enter")
    s = wait_for("call", "\n3\n")
    assert.falsy(s:find("half typed=1", 1, true))
    leave("call")
  end)

  it("stops a call blocked on the network with Ctrl-C and keeps working", function()
    if not need() then return end
    if not exists(PY) then pending("no /usr/bin/python3") return end
    -- A loopback server that accepts connections and never answers; it counts them.
    local script = tmpdir .. "/stall.py"
    files.write(script, [[
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
s.settimeout(0.2)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held, stop = [], time.time() + 120
while time.time() < stop:
    try:
        c, _ = s.accept()
        held.append(c)
        open(sys.argv[2], "w").write(str(len(held)))
    except socket.timeout:
        pass
]])
    local port_file, accepted_file = tmpdir .. "/stall.port", tmpdir .. "/stall.accepted"
    local launched = run(PY .. " " .. q(script) .. " " .. q(port_file) .. " " .. q(accepted_file)
      .. " >/dev/null 2>&1 & echo $!")
    server_pid = tonumber(launched:match("%d+"))
    local port = wait_until("the stalling server", function()
      local p = slurp(port_file)
      return p ~= nil and p ~= "", p
    end)
    start("stall", "", { AWS_ACCESS_KEY_ID = "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY = "test-secret-not-real",
      AWS_REGION = "us-east-1" })
    wait_for("stall", "detlua> ")
    type_text("stall", ".endpoint http://127.0.0.1:" .. port)
    key("stall", "Enter")
    wait_for("stall", "endpoint http://127.0.0.1:" .. port)
    type_text("stall", "detective:list_graphs{}")
    key("stall", "Enter")
    wait_until("the request to reach the server", function() return slurp(accepted_file) ~= nil end)
    key("stall", "C-c")
    wait_for("stall", "interrupted\ndetlua> ")
    type_text("stall", "=6 * 7")
    key("stall", "Enter")
    wait_for("stall", "\n42\n")
    leave("stall")
  end)

  it("keeps history across sessions, privately, without secrets", function()
    if not need() then return end
    local home = start("hist1", "")
    wait_for("hist1", "detlua> ")
    type_text("hist1", "history_marker = 41 + 1")
    key("hist1", "Enter")
    type_text("hist1", 'creds = {secret_access_key = "not-a-real-secret"}')
    key("hist1", "Enter")
    wait_for("hist1", "detlua> ", 3)
    leave("hist1")
    local path = home .. "/state/detlua/history"
    local text = slurp(path)
    assert.truthy(text, "no history file at " .. path)
    assert.truthy(text:find("history_marker = 41 + 1", 1, true))
    assert.falsy(text:find("secret", 1, true))
    assert.equal("600", (run("stat -c %a " .. q(path)):gsub("%s+$", "")))
    assert.equal("700", (run("stat -c %a " .. q(home .. "/state/detlua")):gsub("%s+$", "")))

    -- a second session with the same state directory recalls the line with Up
    local cmd_home = start("hist2", "", { XDG_STATE_HOME = home .. "/state" })
    assert.truthy(cmd_home)
    wait_for("hist2", "detlua> ")
    key("hist2", "Up")
    wait_for("hist2", "detlua> history_marker = 41 + 1")
    key("hist2", "Enter")
    type_text("hist2", "=history_marker")
    key("hist2", "Enter")
    wait_for("hist2", "\n42\n")
    leave("hist2")
  end)
end)
