-- aws.json: JSON for playbooks and command output. Decoding is lua-cjson's; encoding
-- is done here because output must be stable (sorted keys, optional indentation) and
-- must know, from the service model when a shape is given, that an empty list is []
-- and an empty structure or map is {} — Lua tables cannot tell.
-- lua-cjson is loaded by the first decode or the first look at aws.json.null: printing a
-- result (`detlua call` without parameters) needs neither, and opening it costs a start.
local cjson -- require("cjson.safe"), once needed

local M = {}

local function load_cjson()
  cjson = cjson or require("cjson.safe")
  return cjson
end

-- Lua cannot tell an empty list from an empty object. Tables marked with
-- aws.json.array(t) encode as JSON arrays even when empty.
local ARRAY_MT = { __name = "aws.json.array" }
function M.array(t)
  return setmetatable(t or {}, ARRAY_MT)
end

-- Decodes JSON; JSON null becomes nil (removed from objects, holes avoided in arrays
-- by keeping cjson.null there). Returns value or nil, message.
local function strip(v, depth)
  if depth > 200 then return v end
  if type(v) == "table" then
    for k, x in pairs(v) do
      if x == cjson.null then
        if type(k) ~= "number" then v[k] = nil end
      else
        strip(x, depth + 1)
      end
    end
  end
  return v
end

function M.decode(s)
  if type(s) ~= "string" then return nil, "expected a JSON string, got " .. type(s) end
  local v, err = load_cjson().decode(s)
  if v == nil and err then return nil, err end
  return strip(v, 0)
end

local escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end
M.quote = quote

local function is_sequence(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
    count = count + 1
  end
  return count == n
end

local function number(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  if v == math.floor(v) and math.abs(v) < 2^53 then return (string.format("%.1f", v)) end
  return string.format("%.17g", v)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- opts: indent (number of spaces, default none), svc (model service table), shape (name)
local function enc(v, opts, shape_name, level, seen, out)
  local t = type(v)
  local shape = opts.svc and shape_name and opts.svc.shapes[shape_name]
  -- aws.json.null is lua-cjson's, a light userdata: only such a value can be it
  if v == nil or (t == "userdata" and v == M.null) then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    out[#out + 1] = number(v)
  elseif t == "string" then
    out[#out + 1] = quote(v)
  elseif t == "table" then
    if seen[v] then error("aws.json.encode: cyclic table", 0) end
    seen[v] = true
    local ind = opts.indent
    local nl = ind and ("\n" .. string.rep(" ", ind * (level + 1))) or ""
    local close_nl = ind and ("\n" .. string.rep(" ", ind * level)) or ""
    local colon = ind and ": " or ":"
    local as_list
    if shape then
      as_list = shape.type == "list"
    else
      as_list = getmetatable(v) == ARRAY_MT or is_sequence(v)
    end
    if as_list then
      if #v == 0 then
        out[#out + 1] = "[]"
      else
        out[#out + 1] = "["
        for i = 1, #v do
          if i > 1 then out[#out + 1] = "," end
          out[#out + 1] = nl
          enc(v[i], opts, shape and shape.member, level + 1, seen, out)
        end
        out[#out + 1] = close_nl .. "]"
      end
    else
      local keys = sorted_keys(v)
      if #keys == 0 then
        out[#out + 1] = "{}"
      else
        out[#out + 1] = "{"
        for i, k in ipairs(keys) do
          if i > 1 then out[#out + 1] = "," end
          local sub
          if shape then
            if shape.type == "structure" and shape.member_index then
              local m = shape.members[shape.member_index[k] or 0]
              sub = m and m.shape
            elseif shape.type == "map" then
              sub = shape.value
            end
          end
          out[#out + 1] = nl .. quote(tostring(k)) .. colon
          enc(v[k], opts, sub, level + 1, seen, out)
        end
        out[#out + 1] = close_nl .. "}"
      end
    end
    seen[v] = nil
  else
    error("aws.json.encode: cannot encode a " .. t, 0)
  end
end

function M.encode(v, opts)
  opts = opts or {}
  local out = {}
  enc(v, opts, opts.shape, 0, {}, out)
  return table.concat(out)
end

-- aws.json.null, the JSON null value (lua-cjson's), read on first use
return setmetatable(M, {
  __index = function(t, k)
    if k ~= "null" then return nil end
    local null = load_cjson().null
    rawset(t, "null", null)
    return null
  end,
})
