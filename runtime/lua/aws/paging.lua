-- aws.paging: client:pages(op, params, opts) and client:each(op, params, opts) for
-- every operation that takes a NextToken (the model tables mark them, including the
-- Detective investigation lists no SDK declares). Pages are fetched one at a time as
-- the loop asks for them, so memory stays flat however many pages there are. A
-- service that repeats a token or returns an empty one ends the loop with an error
-- instead of looping forever.
local model = require("aws.core.model")
local client = require("aws.client")

local M = {}

local RECENT_TOKENS = 32 -- repeated-token detection window (bounded memory)

local function find_op(self, opname, what)
  local op = model.operation(self.service, opname)
  if not op then
    error(self.service .. ":" .. what .. ": unknown operation \"" .. tostring(opname) .. "\"", 3)
  end
  if not op.paging then
    error(self.service .. ":" .. what .. ": " .. op.lua_name .. " does not page (it takes no NextToken)", 3)
  end
  return op
end

local function check_opts(self, what, opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(self.service .. ":" .. what .. ": options: expected a table", 3) end
  for k, v in pairs(opts) do
    if k ~= "max_pages" and k ~= "max_items" and k ~= "page_size" then
      error(self.service .. ":" .. what .. ": unknown option \"" .. tostring(k) .. "\" (max_pages, max_items, page_size)", 3)
    end
    if math.type(v) ~= "integer" or v < 1 then
      error(self.service .. ":" .. what .. ": " .. k .. ": expected a positive integer", 3)
    end
  end
  return opts
end

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

-- Returns an iterator over result pages.
function M.pages(self, opname, params, opts)
  if getmetatable(self) ~= client.Client then error("pages: use client:pages(operation, params)", 2) end
  local op = find_op(self, opname, "pages")
  opts = check_opts(self, "pages", opts)
  if params ~= nil and type(params) ~= "table" then
    error(self.service .. ":pages: params: expected a table, got " .. type(params), 2)
  end
  local p = op.paging
  local req = copy(params)
  if opts.page_size and p.limit_key then req[p.limit_key] = opts.page_size end
  local recent, recent_n = {}, 0
  local count, done = 0, false
  local opdesc = self.svc.service_id .. "." .. op.name
  return function()
    if done then return nil end
    if opts.max_pages and count >= opts.max_pages then done = true; return nil end
    local page = client.invoke(self, op, req)
    count = count + 1
    local token = page[p.output_token]
    if token == nil then
      done = true
    elseif token == "" then
      done = true
      error(opdesc .. ": the service returned an empty " .. p.output_token .. " on page " .. count .. "; stopping instead of looping", 0)
    elseif recent[token] then
      done = true
      error(opdesc .. ": the service repeated a " .. p.output_token .. " on page " .. count .. "; stopping instead of looping", 0)
    else
      recent_n = recent_n + 1
      recent[token] = recent_n
      if recent_n > RECENT_TOKENS then
        for k, n in pairs(recent) do if n <= recent_n - RECENT_TOKENS then recent[k] = nil end end
      end
      req = copy(req)
      req[p.input_token] = token
    end
    return page
  end
end

-- Iterates the items of every page: list items (one value each), or map entries (key,
-- value) for a map result such as ListDatasourcePackages.
function M.each(self, opname, params, opts)
  if getmetatable(self) ~= client.Client then error("each: use client:each(operation, params)", 2) end
  local op = find_op(self, opname, "each")
  opts = check_opts(self, "each", opts)
  local key = op.paging.result_key
  if not key then
    error(self.service .. ":each: " .. op.lua_name .. " has no single list of items; use client:pages", 2)
  end
  local out_shape = self.svc.shapes[op.output]
  local m = out_shape.members[out_shape.member_index[key]]
  local is_map = self.svc.shapes[m.shape].type == "map"
  local page_opts = { max_pages = opts.max_pages, page_size = opts.page_size }
  local next_page = M.pages(self, opname, params, page_opts)
  local items, i, map_key = nil, 0, nil
  local yielded = 0
  return function()
    while true do
      if opts.max_items and yielded >= opts.max_items then return nil end
      if items then
        if is_map then
          local k, v = next(items, map_key)
          if k ~= nil then
            map_key = k
            yielded = yielded + 1
            return k, v
          end
        else
          i = i + 1
          local v = items[i]
          if v ~= nil then
            yielded = yielded + 1
            return v
          end
        end
      end
      local page = next_page()
      if not page then return nil end
      items, i, map_key = page[key] or {}, 0, nil
    end
  end
end

client.add_method("pages", M.pages)
client.add_method("each", M.each)

return M
