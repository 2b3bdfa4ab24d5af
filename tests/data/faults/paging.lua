-- paging.lua: the fault matrix's own workload (tests/spec/fault_matrix_spec.lua), run as
-- `detlua run --endpoint-url URL tests/data/faults/paging.lua`: ListGraphs, every member of
-- the first graph through ListMembers one page at a time (MaxResults=1), then one
-- GetMembers call per member fanned out with aws.map. It prints exactly one JSON line,
-- {"members": N, "details": N, "complete": true}, and only when every page and every
-- GetMembers answer arrived; any failure raises, so the run exits 1 with the error on
-- stderr and no result line. It is a test fixture, not an example of style.
local g = detective:list_graphs{}.GraphList[1]
if not g then error("no behavior graph", 0) end

local ids = {}
for page in detective:pages("ListMembers", { GraphArn = g.Arn, MaxResults = 1 }) do
  for _, m in ipairs(page.MemberDetails or {}) do ids[#ids + 1] = m.AccountId end
end

local results, errs, failed = aws.map(ids, function(id)
  local r = detective:get_members{ GraphArn = g.Arn, AccountIds = { id } }
  local m = (r.MemberDetails or {})[1]
  if not m or m.AccountId ~= id then error("GetMembers did not return " .. id, 0) end
  return m.AccountId
end, { concurrency = 8 })
if failed > 0 then
  for i = 1, #ids do
    if errs[i] ~= nil then error(errs[i], 0) end
  end
end

io.stdout:write(aws.json.encode({ members = #ids, details = #results, complete = true }), "\n")
