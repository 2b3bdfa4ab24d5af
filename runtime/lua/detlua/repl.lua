-- detlua.repl: the interactive session (`detlua`, `detlua repl`). Reads Lua chunks
-- (multi-line when incomplete), runs them with the session globals (aws, detective,
-- guardduty, sts), prints values the way detlua.pretty shows them after redaction, and
-- offers help(), Tab completion (detlua.complete), history and dot commands (.region,
-- .profile, .endpoint, .local, .save, .help, .exit).
--
-- On a terminal, line editing comes from aws.core.repl (libedit); with piped input the
-- same evaluation runs without prompts, editing or colours. Ctrl-C cancels the line being
-- edited or the running chunk; a call blocked on the network is cut through a transport
-- that waits in short slices and checks the interrupt flag. Heavy modules (apidoc,
-- complete, pretty) load on first use so the prompt appears at once.
-- It does not configure clients itself: detlua.session does, and .local calls into it.
local M = {}

local SERVICES = { "detective", "guardduty", "sts" }
local HISTORY_MAX = 1000

M.DOT_COMMANDS = {
  { ".help", "", "list these commands" },
  { ".region", "[REGION]", "show or set the Region of the default clients" },
  { ".profile", "[PROFILE]", "use a profile from the shared config files (leaves .local)" },
  { ".endpoint", "[URL|default]", "send the default clients' requests to URL (leaves .local)" },
  { ".local", "", "start the embedded emulator and point the default clients at it" },
  { ".save", "FILE", "write this session's successful lines as a playbook skeleton (.save! replaces FILE)" },
  { ".exit", "", "leave (Ctrl-D does too)" },
}

local function dot_names()
  local out = {}
  for _, c in ipairs(M.DOT_COMMANDS) do out[#out + 1] = c[1] end
  out[#out + 1] = ".save!"
  out[#out + 1] = ".quit"
  return out
end

local function pretty() return require("detlua.pretty") end
local function redact() return require("aws.redact") end

-- ---------------------------------------------------------------------------------
-- History: where it lives and what never goes into it.

-- $XDG_STATE_HOME/detlua/history (an absolute XDG_STATE_HOME only, as the XDG spec
-- says), else ~/.detlua_history; nil when neither can be found.
function M.history_path(getenv)
  getenv = getenv or os.getenv
  local xdg = getenv("XDG_STATE_HOME")
  if xdg and xdg:sub(1, 1) == "/" then return (xdg:gsub("/+$", "")) .. "/detlua/history" end
  local home = getenv("HOME")
  if home and home ~= "" then return (home:gsub("/+$", "")) .. "/.detlua_history" end
  return nil
end

local SECRET_WORDS = {
  "secret_access_key", "secretaccesskey", "secret_key", "aws_secret", "session_token",
  "sessiontoken", "security_token", "x-amz-security-token", "password", "passwd",
  "private_key", "authorization", "bearer ",
}

-- Whether a line looks like it carries a secret: a credential field name, a literal
-- shaped like a secret access key (40 characters of base64 alphabet), or any secret
-- this process has resolved (aws.redact knows them). Such lines are neither kept in the
-- history nor written by .save.
function M.has_secret(text)
  local low = text:lower()
  for _, w in ipairs(SECRET_WORDS) do
    if low:find(w, 1, true) then return true end
  end
  for lit in text:gmatch("[\"']([A-Za-z0-9/+=]+)[\"']") do
    if #lit == 40 and lit:find("%u") and lit:find("%l") and lit:find("%d") then return true end
  end
  if redact().text(text) ~= text then return true end
  return false
end

-- ---------------------------------------------------------------------------------
-- Compiling and running chunks, as lua.c does: "=expr" and bare expressions print.

-- Returns fn, kind ("print" for =expr, "expr", "stmt") or nil, message, incomplete.
function M.compile(src, env)
  env = env or _G
  local expr = src:match("^%s*=(.*)$")
  if expr then
    local fn, err = load("return " .. expr, "=stdin", "t", env)
    if fn then return fn, "print" end
    return nil, err, err:match("<eof>$") ~= nil
  end
  local fn = load("return " .. src, "=stdin", "t", env)
  if fn then return fn, "expr" end
  local err
  fn, err = load(src, "=stdin", "t", env)
  if fn then return fn, "stmt" end
  return nil, err, err:match("<eof>$") ~= nil
end

-- The shape a printed value belongs to, searched from the output shapes of the latest
-- calls down through their members (so `_.MemberDetails` is redacted as MemberDetails).
local function fits(svc, shape_name, v)
  local sh = svc.shapes[shape_name]
  if not sh or type(v) ~= "table" then return false end
  if sh.type == "structure" then
    local any = false
    for k in next, v do
      if type(k) ~= "string" or not (sh.member_index and sh.member_index[k]) then return false end
      any = true
    end
    return any
  elseif sh.type == "list" then
    local first = rawget(v, 1)
    if first == nil then return false end
    for k in next, v do
      if math.type(k) ~= "integer" then return false end
    end
    local m = svc.shapes[sh.member]
    if m and m.type == "structure" then return fits(svc, sh.member, first) end
    return m ~= nil and type(first) ~= "table"
  end
  return false
end

function M.find_shape(recent, v)
  for _, r in ipairs(recent or {}) do
    local queue, seen, qi = { { r.shape, 0 } }, {}, 1
    while queue[qi] do
      local name, depth = queue[qi][1], queue[qi][2]
      qi = qi + 1
      local sh = r.svc.shapes[name]
      if sh and not seen[name] then
        seen[name] = true
        if fits(r.svc, name, v) then return r.svc, name end
        if depth < 6 then
          if sh.type == "structure" then
            for _, m in ipairs(sh.members) do queue[#queue + 1] = { m.shape, depth + 1 } end
          elseif sh.type == "list" then
            queue[#queue + 1] = { sh.member, depth + 1 }
          elseif sh.type == "map" then
            queue[#queue + 1] = { sh.value, depth + 1 }
          end
        end
      end
    end
  end
  return nil
end

-- The name of a client method closure, for printing and help().
function M.function_name(f)
  local client = package.loaded["aws.client"]
  if not client then return nil end
  for service, cache in pairs(client._op_methods or {}) do
    for lua_name, g in pairs(cache) do
      if g == f then return service .. "." .. lua_name, service, lua_name end
    end
  end
  for name, g in pairs(client.methods or {}) do
    if g == f then return "client." .. name, nil, name end
  end
  return nil
end

local function pretty_opts(state)
  return { color = state.color, width = state.columns or 100,
    function_name = function(f) return (M.function_name(f)) end }
end

-- One value as printed: aws.Error -> message and fields; plain tables redacted with the
-- shape they came from; strings scrubbed of known secrets.
function M.show(state, v)
  local P = pretty()
  local po = pretty_opts(state)
  if P.is_aws_error(v) then return P.error(v, po) end
  if type(v) == "table" and getmetatable(v) == nil then
    local svc, shape = M.find_shape(state.recent, v)
    v = redact().value(v, svc, shape)
  elseif type(v) == "string" then
    v = redact().text(v)
  end
  return P.format(v, po)
end

local function write_out(state, s) state.stdout:write(s) end
local function write_err(state, s) state.stdout:flush(); state.stderr:write(s); state.stderr:flush() end

-- Runs one complete chunk. Returns "incomplete", "ok" or "error".
function M.run(state, src)
  local fn, kind, incomplete = M.compile(src, state.env_table)
  if not fn then
    if incomplete then return "incomplete" end
    write_err(state, kind .. "\n")
    return "error"
  end
  local core = state.core
  if core then core.interrupt_clear() end
  local res = table.pack(pcall(fn))
  if core then core.interrupt_clear() end
  if state.interactive then debug.sethook() end -- a Ctrl-C that came as the chunk ended
  if not res[1] then
    write_err(state, pretty().error(res[2], pretty_opts(state)) .. "\n")
    return "error"
  end
  if kind ~= "stmt" and res.n >= 2 then
    (state.env_table or _G)._ = res[2]
    local parts, multi = {}, false
    for i = 2, res.n do
      parts[#parts + 1] = M.show(state, res[i])
      if parts[#parts]:find("\n", 1, true) then multi = true end
    end
    write_out(state, table.concat(parts, multi and "\n" or "\t") .. "\n")
  end
  state.saved[#state.saved + 1] = { src = src, kind = kind }
  return "ok"
end

-- ---------------------------------------------------------------------------------
-- help()

local function general_help()
  local lines = {
    "detlua REPL: Lua 5.4 with the default clients detective, guardduty and sts.",
    "",
    "  detective:list_graphs{}              call an operation; parameters go in a table",
    "  =expr, or a bare expression          print its value; _ holds the last result",
    "  help(detective)                      the operations of a service",
    "  help(detective.list_members)         one operation: call form, parameters, result,",
    "  help(\"ListMembers\")                    errors and paging",
    "  help(\"detective.MemberDetail\")       a shape (structure, enum, constraints)",
    "  Tab                                  complete names, operations, parameters, enum values",
    "  Ctrl-C                               cancel the line, or the running call",
    "  Ctrl-D                               leave",
    "",
    "Commands:",
  }
  for _, c in ipairs(M.DOT_COMMANDS) do
    lines[#lines + 1] = string.format("  %-24s %s", c[1] .. (c[2] ~= "" and (" " .. c[2]) or ""), c[3])
  end
  return table.concat(lines, "\n") .. "\n"
end

local function model() return require("aws.core.model") end

local function find_operation(name)
  local found = {}
  for _, s in ipairs(model().services()) do
    local ok, op = pcall(model().operation, s, name)
    if ok and op then found[#found + 1] = { s, op } end
  end
  return found
end

local function find_shape_named(name)
  local found = {}
  for _, s in ipairs(model().services()) do
    local svc = model().service(s)
    if svc.shapes[name] then found[#found + 1] = s end
  end
  return found
end

local function also_in(found, what)
  if #found < 2 then return "" end
  local others = {}
  for i = 2, #found do others[#others + 1] = "help(\"" .. found[i] .. "." .. what .. "\")" end
  return "\n(" .. what .. " also exists in another service: " .. table.concat(others, ", ") .. ")\n"
end

local function suggestions(name)
  local low = name:lower():gsub("[_%-]", "")
  local out = {}
  for _, s in ipairs(model().services()) do
    local svc = model().service(s)
    for _, op in ipairs(svc.operation_names) do
      if op:lower():find(low, 1, true) then out[#out + 1] = s .. "." .. op end
      if #out >= 12 then break end
    end
  end
  return out
end

-- The help text for x (see general_help for the forms). Never raises for a bad x.
function M.help_text(x)
  local apidoc = require("detlua.apidoc")
  if x == nil then return general_help() end
  if type(x) == "function" then
    local _, service, name = M.function_name(x)
    if service then return apidoc.operation_text(service, name) end
    local core = apidoc.core_text(x)
    if core then return core end
    return "A Lua function with no detlua documentation. help() lists what help knows.\n"
  end
  if type(x) == "table" then
    if getmetatable(x) == require("aws.client").Client then return apidoc.service_text(x.svc) end
    if x.operations and x.operation_names and x.shapes then return apidoc.service_text(x) end
    if pretty().is_aws_error(x) then
      return pretty().error(x, {}) .. "\n(an aws.Error: fields kind, code, message, status, request_id, "
        .. "operation, retryable, fields, attempts)\n"
    end
    if x == package.loaded.aws then return apidoc.core_summary_text() end
    local core = apidoc.core_text(x)
    if core then return core end
    return "A table with no detlua documentation. help() lists what help knows.\n"
  end
  if type(x) ~= "string" then
    return "help: expected a client, a client method, or a name such as \"ListMembers\"; got a "
      .. type(x) .. " value\n"
  end
  local name = x:gsub("^%s+", ""):gsub("%s+$", "")
  if model().service(name) then return apidoc.service_text(name) end
  local core = apidoc.core_text(name)
  if core then return core end
  local s, rest = name:match("^([%w]+)[%.:](.+)$")
  if s and model().service(s) then
    local ok, op = pcall(model().operation, s, rest)
    if ok and op then return apidoc.operation_text(s, op.name) end
    if model().service(s).shapes[rest] then return apidoc.shape_text(s, rest) end
    return string.format("%s has no operation or shape named %q. help(%s) lists its operations.\n", s, rest, s)
  end
  local ops = find_operation(name)
  if #ops > 0 then
    local names = {}
    for i, f in ipairs(ops) do names[i] = f[1] end
    return apidoc.operation_text(ops[1][1], ops[1][2].name) .. also_in(names, ops[1][2].name)
  end
  local shapes = find_shape_named(name)
  if #shapes > 0 then return apidoc.shape_text(shapes[1], name) .. also_in(shapes, name) end
  local sug = suggestions(name)
  local msg = string.format("No service, operation or shape is named %q.", name)
  if #sug > 0 then msg = msg .. " Did you mean: " .. table.concat(sug, ", ") .. "?" end
  return msg .. "\n"
end

-- ---------------------------------------------------------------------------------
-- Dot commands.

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

local function rebuild_clients(state)
  local aws = require("aws")
  for _, name in ipairs(SERVICES) do
    local old = rawget(_G, name)
    if type(old) == "table" and old.close then pcall(old.close, old) end
    _G[name] = aws.client(name)
  end
end

local function restart_session(state, opts)
  local session = require("detlua.session")
  local server = state.session and state.session.server
  if server and not opts["local"] and not opts.region then
    opts.region = server:region() -- leaving the emulator keeps its Region
  end
  session.stop(state.session)
  state.session = nil
  state.opts = opts
  state.session = session.start(opts)
end

-- Where the default clients send requests, resolved without touching credentials (a
-- credential lookup could reach the instance metadata service).
local function describe(state)
  local config = require("aws.core.config")
  local d = require("aws.client").defaults()
  local parts = {}
  if state.session and state.session.server then parts[#parts + 1] = "local emulator" end
  if d.profile then parts[#parts + 1] = "profile " .. d.profile end
  local ok, region, rerr = pcall(config.region, { region = d.region, profile = d.profile })
  if ok and region then
    parts[#parts + 1] = "region " .. region
    local eok, ep = pcall(config.endpoint, { service = "detective", region = region,
      endpoint = d.endpoint, profile = d.profile })
    if eok and type(ep) == "table" then parts[#parts + 1] = "endpoint " .. tostring(ep.url) end
  else
    parts[#parts + 1] = "no region: " .. tostring(ok and rerr or region)
  end
  if d.credentials then
    local src = type(d.credentials) == "table" and d.credentials.source
    parts[#parts + 1] = "credentials " .. (src and ("from " .. src) or "given")
  end
  return table.concat(parts, ", ")
end

local dot = {}

function dot.help(state)
  local lines = {}
  for _, c in ipairs(M.DOT_COMMANDS) do
    lines[#lines + 1] = string.format("  %-24s %s", c[1] .. (c[2] ~= "" and (" " .. c[2]) or ""), c[3])
  end
  write_out(state, table.concat(lines, "\n") .. "\n")
end

function dot.region(state, arg)
  if arg == "" then
    write_out(state, describe(state) .. "\n")
    return true
  end
  if not arg:match("^[%w%-]+$") then
    write_err(state, ".region: not a Region name: " .. arg .. "\n")
    return false
  end
  -- Kept as a default-client tweak so that a running emulator (and its state) stays.
  local client = require("aws.client")
  local d = copy(client.defaults())
  d.region = arg
  require("aws").configure_defaults(d)
  state.opts.region = arg
  rebuild_clients(state)
  write_out(state, "region " .. arg .. " (detective, guardduty, sts rebuilt)\n")
  return true
end

function dot.profile(state, arg)
  if arg == "" then
    write_out(state, "profile " .. tostring(state.opts.profile or "(default chain)") .. "\n")
    return true
  end
  local o = copy(state.opts)
  o.profile = arg
  o["local"] = nil
  restart_session(state, o)
  write_out(state, "profile " .. arg .. ": " .. describe(state) .. "\n")
  return true
end

function dot.endpoint(state, arg)
  if arg == "" then
    write_out(state, describe(state) .. "\n")
    return true
  end
  local o = copy(state.opts)
  if arg == "default" then
    o.endpoint_url = nil
  elseif arg:match("^https?://[^%s]+$") then
    o.endpoint_url = arg
  else
    write_err(state, ".endpoint: expected an http:// or https:// URL, or \"default\"\n")
    return false
  end
  o["local"] = nil
  restart_session(state, o)
  write_out(state, "endpoint " .. (o.endpoint_url or "default") .. " (detective, guardduty, sts rebuilt)\n")
  return true
end

dot["local"] = function(state, arg)
  if state.session and state.session.server then
    write_out(state, "already using the local emulator at " .. state.session.server:url() .. "\n")
    return true
  end
  local o = copy(state.opts)
  o["local"] = true
  o.endpoint_url = nil
  o.profile = nil
  if arg ~= "" then o.scenario = arg end
  restart_session(state, o)
  write_out(state, "local emulator at " .. state.session.server:url() .. " (region "
    .. tostring(state.session.server:region()) .. "); detective, guardduty, sts point at it\n")
  return true
end

local function uses_underscore(src)
  local stripped = src:gsub("%b\"\"", '""'):gsub("%b''", "''")
  return stripped:find("%f[%w_]_%f[^%w_]") ~= nil
end

local function is_help_line(src)
  return src:match("^%s*=?%s*help%s*%b()%s*;?%s*$") ~= nil or src:match("^%s*help%s*[\"'{]") ~= nil
end

-- The playbook text for the session's successful lines (see docs/repl.md).
function M.playbook(saved, info)
  local out = {
    "-- Playbook skeleton saved from a detlua REPL session on " .. os.date("!%Y-%m-%d %H:%M UTC") .. ".",
    "-- Run it with: detlua run " .. ((info and info["local"]) and "--local " or "")
      .. "FILE   (add --region/--profile as needed)",
  }
  if info and info.settings then out[#out + 1] = "-- The session used: " .. info.settings .. "." end
  out[#out + 1] = ""
  local keep = {}
  for _, e in ipairs(saved) do
    if not is_help_line(e.src) then keep[#keep + 1] = e end
  end
  for i, e in ipairs(keep) do
    local later = false
    for j = i + 1, #keep do
      if uses_underscore(keep[j].src) then later = true; break end
    end
    local src = e.src
    if M.has_secret(src) then
      out[#out + 1] = "-- (a line containing a secret was left out)"
    elseif e.kind == "print" then
      local expr = src:match("^%s*=(.*)$")
      if later then
        out[#out + 1] = "_ = " .. expr
        out[#out + 1] = "print(_)"
      else
        out[#out + 1] = "print(" .. expr .. ")"
      end
    elseif e.kind == "expr" then
      if later then
        out[#out + 1] = "_ = " .. src
      elseif load(src, "=check", "t", {}) then
        out[#out + 1] = src
      else
        out[#out + 1] = "print(" .. src .. ")"
      end
    else
      out[#out + 1] = src
    end
  end
  return table.concat(out, "\n") .. "\n"
end

function dot.save(state, arg, bang)
  if arg == "" then
    write_err(state, ".save: usage: .save FILE\n")
    return false
  end
  if not bang then
    local f = io.open(arg, "r")
    if f then
      f:close()
      write_err(state, ".save: " .. arg .. " exists; .save! " .. arg .. " replaces it\n")
      return false
    end
  end
  local text = M.playbook(state.saved, { ["local"] = state.session and state.session.server ~= nil,
    settings = state.opts.region and ("region " .. state.opts.region) or nil })
  local f, err = io.open(arg, "w")
  if not f then
    write_err(state, ".save: " .. tostring(err) .. "\n")
    return false
  end
  f:write(text)
  f:close()
  local n = 0
  for _ in text:gmatch("\n") do n = n + 1 end
  write_out(state, string.format("saved %d lines to %s\n", n, arg))
  return true
end

function dot.exit(state)
  state.done = true
  return true
end
dot.quit = dot.exit

-- Runs a dot command line (".region us-west-2"). Returns true when the line was one.
function M.dot_command(state, line)
  local name, bang, arg = line:match("^%s*%.(%a+)(!?)%s*(.-)%s*$")
  if not name then return false end
  local f = dot[name]
  if not f then
    write_err(state, "unknown command ." .. name .. " (.help lists them)\n")
    return true
  end
  local ok, err = pcall(f, state, arg, bang == "!")
  if not ok then write_err(state, "." .. name .. ": " .. pretty().error(err, pretty_opts(state)) .. "\n") end
  return true
end

-- ---------------------------------------------------------------------------------
-- Session plumbing: hooks, completion, the loops.

local function install_hooks(state)
  local client = require("aws.client")
  local hooks = client.hooks
  local prev_after = hooks.after_call
  hooks.after_call = function(c, op, params, info)
    if info and info.ok and op.output and type(c) == "table" and c.svc then
      local recent = state.recent
      for i = #recent, 1, -1 do
        if recent[i].svc == c.svc and recent[i].shape == op.output then table.remove(recent, i) end
      end
      table.insert(recent, 1, { svc = c.svc, shape = op.output })
      recent[9] = nil
    end
    if prev_after then return prev_after(c, op, params, info) end
  end
  if not state.interactive then return end
  local core = state.core
  local host = require("aws.core.host")
  -- A call blocked on the network: wait on a curl multi in short slices, so that Ctrl-C
  -- (the interrupt flag, or the Lua hook) can stop it and the transfer is cancelled.
  -- Calls made inside aws.concurrency tasks keep going to the hook installed before (the
  -- scheduler drives its own multi); any other call, which would block in libcurl, comes
  -- here.
  local prev_transport = hooks.transport
  local multis = setmetatable({}, { __mode = "k" })
  local function in_coroutine()
    local conc = package.loaded["aws.concurrency"]
    if type(conc) == "table" and type(conc.current_task) == "function" then
      return conc.current_task() ~= nil
    end
    local _, main = coroutine.running()
    return not main
  end
  hooks.transport = function(c, req)
    if prev_transport and in_coroutine() then return prev_transport(c, req) end
    local m = multis[c]
    if not m then
      local o = c.opts or {}
      m = require("aws.core.http").multi{ connect_timeout_ms = o.connect_timeout_ms,
        timeout_ms = o.timeout_ms, read_timeout_ms = o.read_timeout_ms, ca_bundle = o.ca_bundle }
      multis[c] = m
    end
    local id, err = m:add(req)
    if not id then return nil, err end
    local ok, done = pcall(function()
      while true do
        if core.interrupt_pending() then error("interrupted!", 0) end
        for _, d in ipairs(m:perform(100)) do
          if d.id == id then return d end
        end
      end
    end)
    if not ok then
      m:cancel(id)
      error(done, 0)
    end
    if done.error then return nil, done.error end
    return done.status, done.headers, done.body
  end
  local prev_sleep = hooks.sleep
  hooks.sleep = function(seconds)
    if prev_sleep and in_coroutine() then return prev_sleep(seconds) end
    local stop = host.monotonic_ms() + seconds * 1000
    while true do
      if core.interrupt_pending() then error("interrupted!", 0) end
      local left = stop - host.monotonic_ms()
      if left <= 0 then return end
      host.sleep_ms(math.min(left, 50))
    end
  end
end

local function completer(state)
  return function(before)
    local complete = require("detlua.complete")
    local delete, insert, listing = complete.tab(before, {
      env = _G, dot_commands = dot_names(), columns = state.core.columns(),
    })
    return insert, listing, delete
  end
end

local function prompt(state, continuation)
  if continuation then return "   ...> " end
  if state.session and state.session.server then return "detlua(local)> " end
  if state.opts.profile then return "detlua(" .. state.opts.profile .. ")> " end
  return "detlua> "
end

local function remember(state, chunk)
  if not state.editor or chunk:match("^%s*$") then return end
  if M.has_secret(chunk) then return end
  state.editor:add_history(chunk)
  if state.history_path and not state.history_failed then
    local ok, err = state.core.append_history(state.history_path, chunk)
    if not ok then
      state.history_failed = true
      write_err(state, "detlua: history not saved: " .. tostring(err) .. "\n")
    end
  end
end

-- Feeds one physical line. Returns nothing; state.buffer holds an incomplete chunk.
function M.feed(state, line)
  if not state.buffer and M.dot_command(state, line) then
    remember(state, line)
    return
  end
  local chunk = state.buffer and (state.buffer .. "\n" .. line) or line
  if chunk:match("^%s*$") then
    state.buffer = nil
    return
  end
  local status = M.run(state, chunk)
  if status == "incomplete" then
    state.buffer = chunk
    return
  end
  state.buffer = nil
  remember(state, chunk)
end

local function editor_loop(state)
  local ed = state.editor
  while not state.done do
    state.stdout:flush()
    local line, why = ed:read(prompt(state, state.buffer ~= nil))
    if line then
      M.feed(state, line)
    elseif why == "interrupted" then
      state.stdout:write("^C\n")
      state.buffer = nil
    else
      state.stdout:write("\n")
      state.done = true
    end
  end
end

local function plain_loop(state, show_prompt)
  while not state.done do
    if show_prompt then
      state.stdout:write(prompt(state, state.buffer ~= nil))
      state.stdout:flush()
    end
    local line = io.read("L")
    if not line then break end
    M.feed(state, (line:gsub("\r?\n$", "")))
  end
  if state.buffer then
    local _, err = M.compile(state.buffer, state.env_table)
    write_err(state, tostring(err) .. "\n")
  end
end

function M.main(argv, first)
  local cli = require("detlua.cli")
  local opts, rest = cli.parse_common(argv, first, {
    ["--region"] = "value", ["--profile"] = "value", ["--endpoint-url"] = "value",
    ["--debug"] = "flag", ["--local"] = "flag", ["--scenario"] = "value", ["--dry-run"] = "flag",
  })
  if #rest > 0 then error({ usage = "repl: unexpected argument " .. rest[1] }) end
  local host = require("aws.core.host")
  local core = require("aws.core.repl")
  local tty_in, tty_out = host.isatty(0), host.isatty(1)
  local state = {
    opts = opts, saved = {}, recent = {}, stdout = io.stdout, stderr = io.stderr,
    interactive = tty_in, core = core,
    color = require("detlua.pretty").want_color(tty_out),
  }
  state.columns = tty_out and core.columns() or 100
  state.session = require("detlua.session").start(opts)
  install_hooks(state)
  _G.help = function(x) io.stdout:write(M.help_text(x)) end

  if tty_in and tty_out then
    local ed, err = core.editor{ complete = completer(state) }
    if ed then
      state.editor = ed
      state.history_path = M.history_path()
      if state.history_path then
        local n, herr = ed:load_history(state.history_path, HISTORY_MAX)
        if not n then write_err(state, "detlua: history not loaded: " .. tostring(herr) .. "\n") end
      end
    else
      write_err(state, "detlua: no line editing: " .. tostring(err) .. "\n")
    end
  end
  if tty_in then
    state.stdout:write("detlua ", cli.VERSION, " (", _VERSION, "): help() for help, .help for commands, Ctrl-D to leave\n")
    if state.session.server then
      state.stdout:write("local emulator at ", state.session.server:url(), "\n")
    end
  end

  if tty_in then host.interruptible(true) end
  -- A Ctrl-C landing between two protected steps raises out of the loop; go round again.
  local rc = 0
  repeat
    local ok, err = pcall(state.editor and editor_loop or plain_loop, state, tty_in)
    local interrupted = not ok and type(err) == "string" and err:match("interrupted!$") ~= nil
    if not ok then
      write_err(state, pretty().error(err, pretty_opts(state)) .. "\n")
      state.buffer = nil
      if not interrupted then rc = 1 end
    end
  until ok or state.done or not interrupted
  if tty_in then host.interruptible(false) end
  if state.editor then state.editor:close() end
  require("detlua.session").stop(state.session)
  return rc
end

return M
