-- tests/lib/tables.lua: small table helpers the specs compare with: counting keys, sorted
-- copies, and lists indexed by a field. Nothing here knows about AWS or the emulator.
local M = {}

-- The number of keys of t (nil counts as empty).
function M.count(t)
  local n = 0
  for _ in pairs(t or {}) do n = n + 1 end
  return n
end

-- A sorted copy of a list.
function M.sorted(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v end
  table.sort(out)
  return out
end

-- The keys of t, sorted (nil gives {}).
function M.sorted_keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- index(list, field) -> {[item[field]] = item}; nil gives {}.
function M.index(list, field)
  local out = {}
  for _, v in ipairs(list or {}) do out[v[field]] = v end
  return out
end

return M
