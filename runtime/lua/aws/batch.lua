-- aws.batch: the "_all" forms of the operations that take a bounded list of accounts or
-- graphs (CreateMembers, DeleteMembers, GetMembers: 50 accounts;
-- BatchGetGraphMemberDatasources: 200; BatchGetMembershipDatasources: 50 graphs). The
-- list is cut into chunks of the size the model allows (the list shape's max, never a
-- constant here), every chunk is validated before the first one is sent, chunks are
-- sent in order, and their results are merged: lists appended (Members, MemberDetails,
-- AccountIds, UnprocessedAccounts, UnprocessedGraphs, ...), maps joined. When a chunk
-- fails, the error carries what the earlier chunks returned and what was not sent, so
-- nothing is dropped silently. It does not deduplicate the input or retry a failed chunk.
local model = require("aws.core.model")
local protocol = require("aws.core.protocol")
local client = require("aws.client")
local errors = require("aws.errors")
local json = require("aws.json")

local M = {}

-- The required list member of op's input that has a maximum length: the one to split.
local function split_member(svc, op)
  local shape = svc.shapes[op.input]
  if not shape then return nil end
  local found
  for _, m in ipairs(shape.members) do
    local s = svc.shapes[m.shape]
    if m.required and s.type == "list" and s.max then
      if found then return nil end -- ambiguous: more than one list to split
      found = m
    end
  end
  return found
end

local function escape(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- Rewrites a validation message for chunk parameters so that it names the helper and the
-- index in the caller's whole list: "detective:create_members: Accounts[3]..." for the
-- third item of chunk 2 becomes "detective:create_members_all: Accounts[53]...".
local function rewrite(msg, svc, op, label, list_name, offset)
  if type(msg) ~= "string" then return msg end
  local prefix = svc.name .. ":" .. op.lua_name .. ":"
  if msg:sub(1, #prefix) == prefix then
    msg = svc.name .. ":" .. label .. ":" .. msg:sub(#prefix + 1)
  end
  return (msg:gsub("(" .. escape(list_name) .. "%[)(%d+)(%])", function(a, n, b)
    return a .. (tonumber(n) + offset) .. b
  end, 1))
end

local function empty_result(svc, op)
  local out = {}
  local shape = op.output and svc.shapes[op.output]
  for _, m in ipairs(shape and shape.members or {}) do
    local t = svc.shapes[m.shape].type
    if t == "list" then out[m.name] = json.array() elseif t == "map" then out[m.name] = {} end
  end
  return out
end

local function merge(into, res, svc, op)
  if type(res) ~= "table" then return end
  local shape = op.output and svc.shapes[op.output]
  for k, v in pairs(res) do
    local m = shape and shape.member_index and shape.members[shape.member_index[k] or 0]
    local t = m and svc.shapes[m.shape].type
    if t == "list" and type(v) == "table" then
      local dst = into[k] or {}
      for _, x in ipairs(v) do dst[#dst + 1] = x end
      into[k] = dst
    elseif t == "map" and type(v) == "table" then
      local dst = into[k] or {}
      for mk, mv in pairs(v) do dst[mk] = mv end
      into[k] = dst
    else
      into[k] = v -- scalars and the dry-run mark: the last chunk's value
    end
  end
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- client:call_all(operation, params, opts) -> merged result
-- opts.progress(done_items, total_items) is called after each chunk (e.g. kit.progress).
-- Every public entry is a thin wrapper, so level 3 points at the playbook's line.
local function run(self, opname, params, opts, label)
  if getmetatable(self) ~= client.Client then error(label .. ": use client:" .. label .. "(...)", 3) end
  local svc = self.svc
  local op = model.operation(self.service, opname)
  label = label or "call_all"
  if not op then
    error(self.service .. ":" .. label .. ": " .. self.service .. " has no operation " .. tostring(opname), 3)
  end
  local lm = split_member(svc, op)
  if not lm then
    error(self.service .. ":" .. label .. ": " .. op.name .. " has no single bounded list to split", 3)
  end
  if type(params) ~= "table" then
    error(self.service .. ":" .. label .. ": expected a table of parameters, got " .. type(params), 3)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(self.service .. ":" .. label .. ": options: expected a table, got " .. type(opts), 3)
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    if k ~= "progress" then
      error(self.service .. ":" .. label .. ": unknown option \"" .. tostring(k) .. "\" (progress)", 3)
    end
    if type(v) ~= "function" then error(self.service .. ":" .. label .. ": progress: expected a function", 3) end
  end
  local items = params[lm.name]
  if items == nil then
    error(self.service .. ":" .. label .. ": " .. lm.name .. ": required parameter missing", 3)
  end
  if type(items) ~= "table" then
    error(self.service .. ":" .. label .. ": " .. lm.name .. ": expected a list, got " .. type(items), 3)
  end
  local total = #items
  for k in pairs(items) do
    if math.type(k) ~= "integer" or k < 1 or k > total then
      error(self.service .. ":" .. label .. ": " .. lm.name .. ": expected a list (keys 1..n), found key " .. tostring(k), 3)
    end
  end
  local size = svc.shapes[lm.shape].max

  -- Cut and validate everything before sending anything.
  local chunks = {}
  for first = 1, total, size do
    local part = {}
    for i = first, math.min(total, first + size - 1) do part[#part + 1] = items[i] end
    local p = copy(params)
    p[lm.name] = part
    local ok, err = pcall(protocol.build, svc.name, op.name, p)
    if not ok then error(rewrite(err, svc, op, label, lm.name, first - 1), 0) end
    chunks[#chunks + 1] = { params = p, items = part, first = first }
  end

  local merged = empty_result(svc, op)
  local done = 0
  for n, chunk in ipairs(chunks) do
    local ok, res = pcall(client.invoke, self, op, chunk.params)
    if not ok then
      local err = res
      if not errors.is_error(err) then
        err = errors.new{ kind = "batch", code = "BatchInterrupted", message = tostring(res),
          operation = svc.service_id .. "." .. op.name, cause = res }
      end
      local unsent = {}
      for i = chunk.first + #chunk.items, total do unsent[#unsent + 1] = items[i] end
      err.partial = merged
      err.failed_chunk = n
      err.chunks = #chunks
      err.failed_items = chunk.items
      err.unsent_items = unsent
      err.message = (err.message ~= "" and (err.message .. " ") or "")
        .. string.format("[%s:%s: chunk %d of %d failed; %d item(s) done before it are in err.partial, "
          .. "%d in this chunk (err.failed_items), %d not sent (err.unsent_items)]",
          svc.name, label, n, #chunks, done, #chunk.items, #unsent)
      error(err, 0)
    end
    merge(merged, res, svc, op)
    done = done + #chunk.items
    if opts.progress then opts.progress(done, total) end
  end
  return merged
end
M.run = run

-- The named helpers: client:<lua_op>_all{...}
local NAMED = {
  create_members_all = "CreateMembers",
  delete_members_all = "DeleteMembers",
  get_members_all = "GetMembers",
  batch_get_graph_member_datasources_all = "BatchGetGraphMemberDatasources",
  batch_get_membership_datasources_all = "BatchGetMembershipDatasources",
}
M.NAMED = NAMED

for method, opname in pairs(NAMED) do
  local f = function(self, params, opts)
    if not self.svc.operations[opname] then
      error(self.service .. ":" .. method .. ": not available for " .. self.service .. " (it has no " .. opname .. ")", 2)
    end
    return run(self, opname, params, opts, method)
  end
  M[method] = f
  client.add_method(method, f)
end

function M.call_all(self, opname, params, opts)
  return run(self, opname, params, opts, "call_all")
end
client.add_method("call_all", M.call_all)

return M
