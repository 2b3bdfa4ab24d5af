-- detlua.pretty: how the REPL shows values. Tables are written as Lua constructors
-- (so a result can be pasted back), nested tables indented, keys sorted (the list part
-- first, in order), long lists folded after a number of items with a count of the rest,
-- small flat tables kept on one line. Strings, including timestamps, are shown exactly
-- as they are, quoted. aws.Error values become their one-line message plus their fields.
-- Colours only when asked for (the REPL asks on a terminal without NO_COLOR).
--
-- It does not redact: callers pass values through aws.redact first (the REPL does,
-- with the operation's output shape). It never calls __pairs or __index metamethods;
-- a table whose metatable has __tostring is shown with tostring.
local M = {}

local DEFAULTS = {
  indent = "  ",
  max_items = 20, -- list items shown before folding
  max_keys = 200, -- other keys shown before folding
  max_depth = 16,
  width = 100,    -- a flat table is kept on one line when it fits in this
}

local SGR = {
  string = "32", number = "36", boolean = "35", ["nil"] = "35",
  other = "33", note = "2", error = "31;1", field = "1",
}

local function paint(opts, kind, s)
  if not opts.color or not SGR[kind] then return s end
  return "\27[" .. SGR[kind] .. "m" .. s .. "\27[0m"
end

local ESCAPES = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

-- A Lua string literal that reads back to s: control bytes escaped, UTF-8 left alone.
function M.quote(s)
  return '"' .. s:gsub('[%c\\"]', function(c)
    return ESCAPES[c] or string.format("\\%03d", c:byte())
  end) .. '"'
end

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function is_ident(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[k]
end

local function scalar(v, opts)
  local t = type(v)
  if t == "string" then return paint(opts, "string", M.quote(v)) end
  if t == "number" then
    if math.type(v) == "integer" then return paint(opts, "number", tostring(v)) end
    if v ~= v then return paint(opts, "number", "0/0") end
    if v == math.huge then return paint(opts, "number", "math.huge") end
    if v == -math.huge then return paint(opts, "number", "-math.huge") end
    local s = string.format("%.14g", v)
    if not s:find("[%.eEn]") then s = s .. ".0" end
    return paint(opts, "number", s)
  end
  if t == "boolean" or t == "nil" then return paint(opts, t, tostring(v)) end
  if t == "function" and opts.function_name then
    local name = opts.function_name(v)
    if name then return paint(opts, "other", "function: " .. name) end
  end
  return paint(opts, "other", tostring(v))
end

local function key_text(k, opts)
  if is_ident(k) then return paint(opts, "key", k) end
  return "[" .. scalar(k, opts) .. "]"
end

local TYPE_ORDER = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (TYPE_ORDER[ta] or 9) < (TYPE_ORDER[tb] or 9) or
    ((TYPE_ORDER[ta] or 9) == (TYPE_ORDER[tb] or 9) and ta < tb) end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

-- n: length of the list part (1..n all present); rest: the other keys, sorted.
local function split_keys(t)
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local rest = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then rest[#rest + 1] = k end
  end
  table.sort(rest, key_less)
  return n, rest
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

local function is_plain_table(v)
  return type(v) == "table" and not has_tostring(v)
end

-- One line for a table whose values are all scalars or empty tables, or nil.
local function inline(t, n, rest, opts, room)
  if n > opts.max_items or #rest > opts.max_keys then return nil end
  local parts = {}
  local len = 4
  local function add(s, plain_len)
    parts[#parts + 1] = s
    len = len + plain_len + 2
    return len <= room
  end
  for i = 1, n do
    local v = rawget(t, i)
    if is_plain_table(v) and next(v) ~= nil then return nil end
    local s = is_plain_table(v) and "{}" or scalar(v, {})
    if not add(is_plain_table(v) and "{}" or scalar(v, opts), #s) then return nil end
  end
  for _, k in ipairs(rest) do
    local v = rawget(t, k)
    if is_plain_table(v) and next(v) ~= nil then return nil end
    local ks = key_text(k, {})
    local vs = is_plain_table(v) and "{}" or scalar(v, {})
    local colored = key_text(k, opts) .. " = " .. (is_plain_table(v) and "{}" or scalar(v, opts))
    if not add(colored, #ks + 3 + #vs) then return nil end
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local function render(v, opts, depth, seen, out, prefix)
  if not is_plain_table(v) then
    out[#out + 1] = prefix .. scalar(v, opts)
    return
  end
  if next(v) == nil then
    out[#out + 1] = prefix .. "{}"
    return
  end
  if seen[v] then
    out[#out + 1] = prefix .. paint(opts, "note", "{--[[cycle]]}")
    return
  end
  if depth >= opts.max_depth then
    out[#out + 1] = prefix .. paint(opts, "note", "{--[[nested too deep]]}")
    return
  end
  local n, rest = split_keys(v)
  local pad = string.rep(opts.indent, depth)
  local one = inline(v, n, rest, opts, opts.width - #pad - #prefix)
  if one then
    out[#out + 1] = prefix .. one
    return
  end
  seen[v] = true
  out[#out + 1] = prefix .. "{"
  local inner = pad .. opts.indent
  local shown = n
  if n > opts.max_items then shown = opts.max_items end
  local function item(p, x)
    local first = #out + 1
    render(x, opts, depth + 1, seen, out, p)
    out[first] = inner .. out[first]
    out[#out] = out[#out] .. ","
  end
  for i = 1, shown do item("", rawget(v, i)) end
  if shown < n then
    out[#out + 1] = inner .. paint(opts, "note",
      string.format("-- ... %d more (%d items in all)", n - shown, n))
  end
  for i, k in ipairs(rest) do
    if i > opts.max_keys then
      out[#out + 1] = inner .. paint(opts, "note",
        string.format("-- ... %d more keys (%d in all)", #rest - opts.max_keys, #rest))
      break
    end
    item(key_text(k, opts) .. " = ", rawget(v, k))
  end
  out[#out + 1] = pad .. "}"
  seen[v] = nil
end

local function with_defaults(opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  return o
end

-- The text for one value (several lines for a nested table), without a final newline.
function M.format(v, opts)
  opts = with_defaults(opts)
  local out = {}
  render(v, opts, 0, {}, out, "")
  return table.concat(out, "\n")
end

local function is_aws_error(v)
  local mt = getmetatable(v)
  return type(v) == "table" and type(mt) == "table" and rawget(mt, "__name") == "aws.Error"
end
M.is_aws_error = is_aws_error

-- An error value as the REPL prints it: aws.Error -> its one-line message, then its
-- fields (when it has any); "interrupted!" from Ctrl-C -> "interrupted"; anything else
-- -> tostring. No final newline.
function M.error(e, opts)
  opts = with_defaults(opts)
  if is_aws_error(e) then
    local line = paint(opts, "error", tostring(e))
    local fields = rawget(e, "fields")
    if type(fields) == "table" and next(fields) ~= nil then
      line = line .. "\n" .. opts.indent .. paint(opts, "field", "fields") .. " = "
        .. M.format(fields, { color = opts.color, indent = opts.indent, width = opts.width,
          max_items = opts.max_items }):gsub("\n", "\n" .. opts.indent)
    end
    return line
  end
  local s
  if type(e) == "string" then
    s = e
  else
    local ok, r = pcall(tostring, e)
    s = ok and r or "(error object is a " .. type(e) .. " value)"
  end
  if s:match("interrupted!$") then s = "interrupted" end
  return paint(opts, "error", s)
end

-- Whether output to fd 1 should be coloured: a terminal, NO_COLOR unset or empty
-- (https://no-color.org), and not TERM=dumb. getenv is injectable for tests.
function M.want_color(isatty, getenv)
  getenv = getenv or os.getenv
  local no = getenv("NO_COLOR")
  if no ~= nil and no ~= "" then return false end
  if getenv("TERM") == "dumb" then return false end
  return isatty and true or false
end

return M
