-- detlua.complete: what Tab offers in the REPL, computed from the text left of the
-- cursor, the session's globals and the service model (aws.core.model):
--   globals, keywords and module fields      aws.ti -> aws.time   hel -> help(
--   client methods and operations            detective:list_ -> every List operation
--   parameter names in a call's table        detective:list_members{Gr -> GraphArn =
--     (nested structures and lists too)      ...{Accounts = {{Acc -> AccountId =
--   enum values after Member = "             ...{Status = " -> ENABLED", ...
--   service and operation names as strings   aws.client("g -> "guardduty"   help("List
--   profile names                            aws.client(..., {profile = "   .profile
--   the REPL's dot commands                  .re -> .region
-- It reads the line with a small Lua lexer and never evaluates anything: values are
-- looked up in the environment by name only (a.b.c), without calling functions.
-- The result is a list of candidates, each the full text that would replace the word
-- being completed (with a suffix such as "{", "(", " = " or a closing quote).
local M = {}

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
  "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

local GENERIC_METHODS = { "call", "pages", "each", "operations", "config", "close" }
local OP_NAME_METHODS = { call = true, pages = true, each = true }
local CLIENT_OPTIONS = {
  "region", "profile", "endpoint", "credentials", "debug", "max_attempts", "connect_timeout_ms",
  "timeout_ms", "read_timeout_ms", "ca_bundle", "dry_run", "env", "session", "label",
}

local function model()
  return require("aws.core.model")
end

-- ---------------------------------------------------------------------------------
-- Lexing: tokens of the text before the cursor, and whether it ends inside a string or
-- a comment.

local function lex(s)
  local toks = {}
  local i, n = 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif s:sub(i, i + 1) == "--" then
      local lvl = s:match("^%-%-%[(=*)%[", i)
      local stop
      if lvl then
        local _, e = s:find("]" .. lvl .. "]", i, true)
        stop = e
      else
        stop = s:find("\n", i, true)
      end
      if not stop then return toks, { comment = true } end
      i = stop + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = s:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c then break
        else j = j + 1 end
      end
      if j > n then return toks, { string = s:sub(i + 1), quote = c } end
      toks[#toks + 1] = { t = "string", v = s:sub(i + 1, j - 1) }
      i = j + 1
    elseif c == "[" and s:match("^%[=*%[", i) then
      local lvl = s:match("^%[(=*)%[", i)
      local _, e = s:find("]" .. lvl .. "]", i, true)
      if not e then return toks, { long_string = true } end
      toks[#toks + 1] = { t = "string", v = s:sub(i + #lvl + 2, e - #lvl - 2) }
      i = e + 1
    elseif c:match("[%a_]") then
      local w = s:match("^[%w_]+", i)
      toks[#toks + 1] = { t = "name", v = w, e = i + #w - 1 }
      i = i + #w
    elseif c:match("%d") or (c == "." and s:sub(i + 1, i + 1):match("%d")) then
      local w = s:match("^[%w%.]+", i)
      toks[#toks + 1] = { t = "number", v = w }
      i = i + #w
    else
      local op = s:match("^%.%.%.", i) or s:match("^[%.=~<>/:][%.=/:<>]", i)
      if not (op == "..." or op == ".." or op == "==" or op == "~=" or op == "<=" or op == ">="
          or op == "//" or op == "::" or op == "<<" or op == ">>") then
        op = c
      end
      toks[#toks + 1] = { t = "op", v = op }
      i = i + #op
    end
  end
  return toks, nil
end
M._lex = lex

-- ---------------------------------------------------------------------------------
-- Looking values up without running code.

local function is_client(v)
  return type(v) == "table" and getmetatable(v) == require("aws.client").Client
end

local function safe_index(t, k)
  if type(t) ~= "table" then return nil end
  local v = rawget(t, k)
  if v ~= nil then return v end
  if is_client(t) then return nil end -- operations are completed from the model instead
  local mt = getmetatable(t)
  local idx = type(mt) == "table" and rawget(mt, "__index")
  if type(idx) == "table" then return safe_index(idx, k) end
  return nil
end

-- Names a.b.c ending at token j (the last name); returns the list of names and the
-- index of the token before the path.
local function path_before(toks, j)
  local names = {}
  while j >= 1 and toks[j].t == "name" do
    table.insert(names, 1, toks[j].v)
    if j >= 2 and toks[j - 1].t == "op" and toks[j - 1].v == "." then
      j = j - 2
    else
      j = j - 1
      break
    end
  end
  return names, j
end

local function resolve(env, names)
  if #names == 0 then return nil end
  local v = safe_index(env, names[1])
  for i = 2, #names do
    v = safe_index(v, names[i])
    if v == nil then return nil end
  end
  return v
end

local function shape_of(svc, name)
  return svc and name and svc.shapes[name]
end

local function op_of(svc, name)
  if type(name) ~= "string" then return nil end
  local ok, op = pcall(model().operation, svc.name, name)
  return ok and op or nil
end

-- The context a `{` opens when it is the value of `member` inside ctx, or an element of
-- the list ctx, or a value of the map ctx.
local function child_ctx(ctx, member)
  if not ctx or not ctx.svc then return nil end
  local sh = shape_of(ctx.svc, ctx.shape)
  if not sh then return nil end
  local target
  if member and sh.type == "structure" then
    local idx = sh.member_index and sh.member_index[member]
    target = idx and sh.members[idx].shape
  elseif member and sh.type == "map" then
    target = sh.value
  elseif not member and sh.type == "list" then
    target = sh.member
  end
  if not target or not shape_of(ctx.svc, target) then return nil end
  return { svc = ctx.svc, shape = target }
end

-- ---------------------------------------------------------------------------------
-- The bracket stack: what each open `{` and `(` belongs to.

local function call_info(env, toks, k)
  -- toks[k] is "(" (or "{" used as the sole argument); look at what is called.
  local prev = toks[k - 1]
  if not prev or prev.t ~= "name" then return nil end
  if toks[k - 2] and toks[k - 2].t == "op" and toks[k - 2].v == ":" then
    local names = path_before(toks, k - 3)
    local target = resolve(env, names)
    return { target = target, method = prev.v }
  end
  local names = path_before(toks, k - 1)
  return { fn = resolve(env, names), fn_name = table.concat(names, ".") }
end

-- The context of a table passed as argument `argn` of a call.
local function call_arg_ctx(env, call, argn, arg1)
  if not call then return nil end
  if call.target and is_client(call.target) then
    local svc = call.target.svc
    if argn == 1 then
      local op = op_of(svc, call.method)
      if op and op.lua_name == call.method then return { svc = svc, shape = op.input } end
    elseif argn == 2 and OP_NAME_METHODS[call.method] then
      local op = op_of(svc, arg1)
      if op then return { svc = svc, shape = op.input } end
    end
    return nil
  end
  local aws = safe_index(env, "aws")
  if call.fn ~= nil and call.fn == safe_index(aws, "client") and argn == 2 then
    return { client_options = true, service = arg1 }
  end
  return nil
end

local function analyse(env, toks)
  local stack = {}
  for k, tok in ipairs(toks) do
    local top = stack[#stack]
    local prev = toks[k - 1]
    local pv = prev and prev.t == "op" and prev.v or nil
    if tok.t == "op" and tok.v == "{" then
      local ctx
      if prev and prev.t == "name" and toks[k - 2] and toks[k - 2].v == ":" then
        ctx = call_arg_ctx(env, call_info(env, toks, k), 1)
      elseif pv == "(" and top and top.kind == "(" then
        ctx = call_arg_ctx(env, top.call, top.argn, top.arg1)
      elseif pv == "," and top and top.kind == "(" then
        ctx = call_arg_ctx(env, top.call, top.argn, top.arg1)
      elseif pv == "=" and top and top.kind == "{" and toks[k - 2] and toks[k - 2].t == "name" then
        ctx = child_ctx(top.ctx, toks[k - 2].v)
      elseif (pv == "{" or pv == ",") and top and top.kind == "{" then
        ctx = child_ctx(top.ctx, nil)
      end
      stack[#stack + 1] = { kind = "{", ctx = ctx, keys = {} }
    elseif tok.t == "op" and tok.v == "(" then
      stack[#stack + 1] = { kind = "(", call = call_info(env, toks, k), argn = 1 }
    elseif tok.t == "op" and tok.v == "[" then
      stack[#stack + 1] = { kind = "[" }
    elseif tok.t == "op" and (tok.v == "}" or tok.v == ")" or tok.v == "]") then
      stack[#stack] = nil
    elseif tok.t == "op" and tok.v == "," and top and top.kind == "(" then
      top.argn = top.argn + 1
    elseif tok.t == "string" and pv == "(" and top and top.kind == "(" and top.argn == 1 then
      top.arg1 = tok.v
    elseif tok.t == "name" and top and top.kind == "{" and (pv == "{" or pv == ",")
        and toks[k + 1] and toks[k + 1].t == "op" and toks[k + 1].v == "=" then
      top.keys[tok.v] = true
    end
  end
  return stack
end

-- ---------------------------------------------------------------------------------
-- Candidate lists.

local function sorted_unique(list)
  local seen, out = {}, {}
  for _, s in ipairs(list) do
    if not seen[s] then seen[s] = true; out[#out + 1] = s end
  end
  table.sort(out)
  return out
end

-- Keeps the candidates that start with word; when none does, those that start with it
-- ignoring case.
local function filter(cands, word)
  local out = {}
  for _, c in ipairs(cands) do
    if c:sub(1, #word) == word then out[#out + 1] = c end
  end
  if #out == 0 and word ~= "" then
    local lw = word:lower()
    for _, c in ipairs(cands) do
      if c:sub(1, #word):lower() == lw then out[#out + 1] = c end
    end
  end
  return sorted_unique(out)
end

local function operation_names(svc, field)
  local out = {}
  for _, name in ipairs(svc.operation_names) do
    out[#out + 1] = field == "name" and name or svc.operations[name].lua_name
  end
  return out
end

local function client_members(client, colon)
  local out = {}
  local methods = package.loaded["aws.client"] and package.loaded["aws.client"].methods
  local generic = {}
  if type(methods) == "table" then
    local seen = {}
    for k in pairs(methods) do generic[#generic + 1] = k; seen[k] = true end
    -- methods whose module is not loaded yet (aws.client loads it on first use)
    for k in pairs(package.loaded["aws.client"].EXTENSIONS or {}) do
      if not seen[k] then generic[#generic + 1] = k end
    end
  else
    generic = GENERIC_METHODS
  end
  for _, k in ipairs(generic) do out[#out + 1] = colon and (k .. "(") or k end
  for _, lua_name in ipairs(operation_names(client.svc, "lua")) do
    out[#out + 1] = colon and (lua_name .. "{") or lua_name
  end
  return out
end

local function table_members(t, colon)
  local out = {}
  local seen = {}
  local depth = 0
  while type(t) == "table" and depth < 8 do
    -- A table that fills itself on demand (the aws module) lists everything through
    -- __pairs; completion must not trigger anything else, so other tables are walked raw.
    local mt0 = getmetatable(t)
    local walk = type(mt0) == "table" and rawget(mt0, "__pairs") and pairs or function(x) return next, x, nil end
    for k, v in walk(t) do
      if type(k) == "string" and k:match("^[%a_][%w_]*$") and not seen[k] then
        seen[k] = true
        if colon then
          if type(v) == "function" then out[#out + 1] = k .. "(" end
        else
          out[#out + 1] = type(v) == "function" and (k .. "(") or k
        end
      end
    end
    local mt = getmetatable(t)
    t = type(mt) == "table" and rawget(mt, "__index") or nil
    depth = depth + 1
  end
  return out
end

local function member_candidates(value, colon)
  if is_client(value) then return client_members(value, colon) end
  if type(value) == "string" then return table_members(string, colon) end
  if type(value) == "table" then return table_members(value, colon) end
  return {}
end

local function global_candidates(env)
  local out = {}
  for _, k in ipairs(table_members(env, false)) do out[#out + 1] = k end
  for _, k in ipairs(KEYWORDS) do out[#out + 1] = k .. " " end
  return out
end

local function key_candidates(ctx, present, word)
  local out = {}
  if ctx.client_options then
    for _, k in ipairs(CLIENT_OPTIONS) do
      if not present[k] or k == word then out[#out + 1] = k .. " = " end
    end
    return out
  end
  local sh = shape_of(ctx.svc, ctx.shape)
  if not sh or sh.type ~= "structure" then return out end
  for _, m in ipairs(sh.members or {}) do
    if not present[m.name] or m.name == word then out[#out + 1] = m.name .. " = " end
  end
  return out
end

local function enum_of(svc, shape_name)
  local sh = shape_of(svc, shape_name)
  return sh and sh.enum
end

local function with_quote(list, quote)
  local out = {}
  for i, v in ipairs(list) do out[i] = v .. quote end
  return out
end

local function profile_names(opts)
  if opts.profile_names then
    local ok, names = pcall(opts.profile_names)
    return ok and type(names) == "table" and names or {}
  end
  local ok, config = pcall(require, "aws.core.config")
  if not ok or type(config) ~= "table" or type(config.profile_names) ~= "function" then return {} end
  local ok2, names = pcall(config.profile_names)
  return ok2 and type(names) == "table" and names or {}
end

-- Candidates for the inside of an unfinished string literal.
local function string_candidates(env, toks, stack, opts)
  local top = stack[#stack]
  local prev = toks[#toks]
  local pv = prev and prev.t == "op" and prev.v or nil
  local mdl = model()
  if pv == "=" and toks[#toks - 1] and toks[#toks - 1].t == "name" and top and top.kind == "{" then
    local member = toks[#toks - 1].v
    if top.ctx and top.ctx.client_options then
      if member == "profile" then return profile_names(opts) end
      return {}
    end
    local ctx = top.ctx
    local sh = ctx and shape_of(ctx.svc, ctx.shape)
    if sh and sh.type == "structure" and sh.member_index and sh.member_index[member] then
      local mshape = sh.members[sh.member_index[member]].shape
      return enum_of(ctx.svc, mshape) or {}
    end
    return {}
  end
  if (pv == "{" or pv == ",") and top and top.kind == "{" and top.ctx and top.ctx.svc then
    local sh = shape_of(top.ctx.svc, top.ctx.shape)
    if sh and sh.type == "list" then return enum_of(top.ctx.svc, sh.member) or {} end
    return {}
  end
  if pv == "(" and top and top.kind == "(" and top.call then
    local call = top.call
    local aws = safe_index(env, "aws")
    if call.fn ~= nil and call.fn == safe_index(aws, "client") then return mdl.services() end
    if call.fn_name == "help" then
      local out = {}
      for _, s in ipairs(mdl.services()) do
        out[#out + 1] = s
        for _, name in ipairs(operation_names(mdl.service(s), "name")) do
          out[#out + 1] = name
          out[#out + 1] = s .. "." .. name
        end
      end
      return out
    end
    if is_client(call.target) and OP_NAME_METHODS[call.method] then
      return operation_names(call.target.svc, "lua")
    end
  end
  return {}
end

-- Candidates for the word at the end of `before` and that word. opts:
--   env            where names are looked up (default _G)
--   dot_commands   list of REPL commands (".region", ...) offered at the start of a line
--   profile_names  function returning the profile names (default aws.core.config's)
function M.candidates(before, opts)
  opts = opts or {}
  local env = opts.env or _G

  -- REPL dot commands and their arguments.
  if before:match("^%.[%w_]*$") and opts.dot_commands then
    local out = {}
    for _, c in ipairs(opts.dot_commands) do out[#out + 1] = c .. " " end
    return filter(out, before), before
  end
  local pword = before:match("^%.profile%s+(%S*)$")
  if pword then return filter(profile_names(opts), pword), pword end
  if before:match("^%.%a") then return {}, "" end

  local toks, open = lex(before)
  if open and open.string then
    local stack = analyse(env, toks)
    local values = string_candidates(env, toks, stack, opts)
    return filter(with_quote(values, open.quote), open.string), open.string
  end
  if open then return {}, "" end

  local word = before:match("[%a_][%w_]*$") or ""
  if word ~= "" and before:sub(-#word - 1, -#word - 1):match("%d") then return {}, "" end
  if word ~= "" then toks[#toks] = nil end
  local last = toks[#toks]
  local lv = last and last.t == "op" and last.v or nil

  if lv == "." or lv == ":" then
    local names, j = path_before(toks, #toks - 1)
    if #names == 0 then return {}, word end
    -- only plain name paths: `f().x` or `t[1].x` would need evaluation
    local before_path = toks[j]
    if before_path and before_path.t == "op" and (before_path.v == "." or before_path.v == ":") then
      return {}, word
    end
    local value = resolve(env, names)
    return filter(member_candidates(value, lv == ":"), word), word
  end

  local stack = analyse(env, toks)
  local top = stack[#stack]
  if top and top.kind == "{" and top.ctx and (lv == "{" or lv == ",") then
    return filter(key_candidates(top.ctx, top.keys, word), word), word
  end
  if word == "" then return {}, word end
  return filter(global_candidates(env), word), word
end

-- ---------------------------------------------------------------------------------
-- Turning candidates into an edit.

local SUFFIXES = { " = ", "{", "(", '"', "'", " " }

-- The candidate as it is listed: without the suffix the completion would add.
function M.display(c)
  for _, s in ipairs(SUFFIXES) do
    if #c > #s and c:sub(-#s) == s then return c:sub(1, -#s - 1) end
  end
  return c
end

local function common_prefix(list)
  local p = list[1] or ""
  for i = 2, #list do
    local c = list[i]
    local n = 0
    while n < #p and n < #c and p:byte(n + 1) == c:byte(n + 1) do n = n + 1 end
    p = p:sub(1, n)
  end
  return p
end

-- Candidates laid out in columns for a terminal `columns` wide (at most max_shown).
function M.listing(cands, columns, max_shown)
  columns = columns or 80
  max_shown = max_shown or 300
  local names = {}
  local w = 0
  for i, c in ipairs(cands) do
    if i > max_shown then break end
    names[i] = M.display(c)
    w = math.max(w, #names[i])
  end
  w = w + 2
  local per_row = math.max(1, (columns - 1) // w)
  local rows = math.ceil(#names / per_row)
  local lines = {}
  for r = 1, rows do
    local parts = {}
    for col = 0, per_row - 1 do
      local s = names[col * rows + r]
      if s then parts[#parts + 1] = s .. string.rep(" ", w - #s) end
    end
    lines[#lines + 1] = (table.concat(parts):gsub("%s+$", ""))
  end
  if #cands > #names then
    lines[#lines + 1] = string.format("... and %d more", #cands - #names)
  end
  return table.concat(lines, "\n") .. "\n"
end

-- What Tab does with the candidates for `word`: returns delete (characters before the
-- cursor to remove), insert (text to add) and listing (text to show, or nil).
-- One candidate: it replaces the word. Several: their common prefix is inserted when it
-- is longer than the word, otherwise they are listed.
function M.edit(word, cands, columns)
  if #cands == 0 then return 0, "", nil end
  local exact = true
  for _, c in ipairs(cands) do
    if c:sub(1, #word) ~= word then exact = false; break end
  end
  local target = #cands == 1 and cands[1] or common_prefix(cands)
  if #cands > 1 and #target <= #word then
    return 0, "", M.listing(cands, columns)
  end
  if exact then return 0, target:sub(#word + 1), nil end
  return utf8.len(word) or #word, target, nil
end

-- Everything Tab needs in one call: before -> delete, insert, listing.
function M.tab(before, opts)
  local cands, word = M.candidates(before, opts)
  return M.edit(word, cands, opts and opts.columns)
end

return M
