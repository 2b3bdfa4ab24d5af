-- playbook.lua: a small but representative playbook for the valgrind memcheck test
-- (tests/data/valgrind/run.sh, ctest valgrind/representative). Run as
--   detlua run --local tests/data/valgrind/playbook.lua
-- It goes through every layer once: validation and serialization, SigV4, the HTTP
-- transport (blocking and the curl multi driver of aws.map), the in-process emulator
-- (libmicrohttpd thread, router, service modules), response and error parsing, paging,
-- an STS role session (XML), aws.json and aws.Error. It prints one line per step and
-- exits 0 when everything behaved as the built-in scenario says.
local MEMBER_ROLE = "arn:aws:iam::444455556666:role/DetectiveMember"

local function step(name, fn)
  local ok, err = pcall(fn)
  if not ok then
    io.stderr:write("step ", name, " failed: ", tostring(err), "\n")
    os.exit(1)
  end
  print("ok " .. name)
end

local graph
step("detective graph and members", function()
  -- the built-in scenario starts without a graph: create one and invite two members
  graph = detective:create_graph{ Tags = { team = "security" } }.GraphArn
  local graphs = detective:list_graphs{}
  assert(graphs.GraphList[1].Arn == graph)
  local created = detective:create_members{ GraphArn = graph, Message = "welcome",
    Accounts = { { AccountId = "444455556666", EmailAddress = "prod@example.com" },
                 { AccountId = "777788889999", EmailAddress = "dev@example.com" } } }
  assert(#created.Members == 2, "two members invited")
  local ids = {}
  for m in detective:each("list_members", { GraphArn = graph, MaxResults = 1 }) do ids[#ids + 1] = m.AccountId end
  assert(#ids == 2, "members listed over two pages")
  local got = detective:get_members{ GraphArn = graph, AccountIds = ids }
  assert(#got.MemberDetails == 2)
end)

step("service error as aws.Error", function()
  local ok, err = pcall(detective.list_members, detective,
    { GraphArn = "arn:aws:detective:us-east-1:111122223333:graph:ffffffffffffffffffffffffffffffff" })
  assert(not ok and aws.is_error(err), "a missing graph is an aws.Error")
  assert(tostring(err):find("Detective.ListMembers", 1, true))
end)

step("validation error before any I/O", function()
  local ok, err = pcall(detective.create_members, detective, { GraphArn = graph, Accounts = { { AccountId = "1" } } })
  assert(not ok and type(err) == "string" and err:find("Accounts[1]", 1, true), tostring(err))
end)

step("guardduty findings", function()
  local det = guardduty:list_detectors{}.DetectorIds[1]
  assert(det, "the scenario has a detector")
  local ids = guardduty:list_findings{ DetectorId = det, MaxResults = 5 }.FindingIds
  if #ids > 0 then
    local f = guardduty:get_findings{ DetectorId = det, FindingIds = ids }
    assert(#f.Findings == #ids)
    print(aws.json.encode(f.Findings[1].Severity))
  end
end)

step("sts role session", function()
  local me = sts:get_caller_identity()
  assert(me.Account == "111122223333")
  local role = sts:assume_role{ RoleArn = MEMBER_ROLE, RoleSessionName = "valgrind" }
  local c = role.Credentials
  local member = aws.client("detective", { endpoint = aws.emulator:url(), region = aws.emulator:region(),
    credentials = { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey,
      session_token = c.SessionToken } })
  local inv = member:list_invitations{}
  assert(type(inv.Invitations) == "table")
  member:close()
end)

step("concurrent calls (aws.map)", function()
  local results = aws.map({ 1, 2, 3, 4 }, function(i)
    return detective:list_datasource_packages{ GraphArn = graph }, i
  end)
  assert(#results == 4)
end)

print("playbook done")
