-- validation_spec.lua: client-side validation in aws.core.protocol (P.validate / P.build).
--
-- Every constraint kind is exercised with an exact message. The constraints themselves
-- (bounds, patterns, enums, member names, sensitivity) are read through aws.core.model, so
-- the expected messages follow the model rather than copies of it; only the wording of the
-- messages is written here, as the issue specifies it.
local P = require("aws.core.protocol")
local model = require("aws.core.model")

local GRAPH = "arn:aws:detective:us-east-1:111122223333:graph:027c7c4610ea4aacaf0b883093cab899"

local function shape(svc, name) return assert(model.shape(svc, name), name) end

-- the shape of member `path` ("Accounts", "member", "AccountId") starting at an operation's input
local function member_shape(svc, op, ...)
  local sh = shape(svc, model.operation(svc, op).input)
  for _, step in ipairs({ ... }) do
    if step == "[]" then
      sh = shape(svc, sh.member)
    elseif step == "{}" then
      sh = shape(svc, sh.value)
    elseif step == "key" then
      sh = shape(svc, sh.key)
    else
      sh = shape(svc, sh.members[sh.member_index[step]].shape)
    end
  end
  return sh
end

local function is_required(svc, op, name)
  local sh = shape(svc, model.operation(svc, op).input)
  return sh.members[sh.member_index[name]].required
end

-- the length phrase the issue specifies
local function bounds(sh, one, many)
  local function unit(n) return n == 1 and one or many end
  if sh.min and sh.max and sh.min == sh.max then return ("%d %s"):format(sh.min, unit(sh.min)) end
  if sh.min and sh.max then return ("%d to %d %s"):format(sh.min, sh.max, unit(sh.max)) end
  if sh.min then return ("at least %d %s"):format(sh.min, unit(sh.min)) end
  if sh.max then return ("at most %d %s"):format(sh.max, unit(sh.max)) end
end

local function rejects(svc, op, params, want)
  local ok, msg = P.validate(svc, op, params)
  assert.is_false(ok)
  assert.equals(want, msg)
  -- and build raises the same message, with no "file:line:" prefix
  local bok, err = pcall(P.build, svc, op, params)
  assert.is_false(bok)
  assert.equals(want, err)
end

local function accepts(svc, op, params)
  local ok, msg = P.validate(svc, op, params)
  assert(ok, msg)
end

local function account(id, email)
  return { AccountId = id or "444455556666", EmailAddress = email or "member@example.com" }
end

describe("parameter validation", function()
  it("accepts a valid input and nil for an input without required members", function()
    accepts("detective", "list_members", { GraphArn = GRAPH, MaxResults = 10, NextToken = "t" })
    accepts("detective", "list_graphs", nil)
    accepts("detective", "ListGraphs", {})
    accepts("detective", "list-graphs", { MaxResults = 200.0 }) -- an integral float is an integer
  end)

  it("reports required members", function()
    assert.is_true(is_required("detective", "ListMembers", "GraphArn"))
    rejects("detective", "list_members", {}, "detective:list_members: GraphArn: required parameter missing")
    rejects("detective", "list_members", nil, "detective:list_members: GraphArn: required parameter missing")
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { account(), { AccountId = "444455556667" } } },
      "detective:create_members: Accounts[2].EmailAddress: required parameter missing")
  end)

  it("checks Lua types", function()
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResults = "5" },
      "detective:list_members: MaxResults: expected integer, got string")
    rejects("detective", "list_members", { GraphArn = 42 },
      "detective:list_members: GraphArn: expected string, got number")
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { account() }, DisableEmailNotification = "yes" },
      "detective:create_members: DisableEmailNotification: expected boolean, got string")
    rejects("detective", "list_members", "GraphArn",
      "detective:list_members: expected a table of parameters, got string")
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = "444455556666" },
      "detective:create_members: Accounts: expected a list (table), got string")
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { "444455556666" } },
      "detective:create_members: Accounts[1]: expected a table (structure Account), got string")
  end)

  it("refuses a list where a structure is expected, and a non-sequence where a list is", function()
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { { "444455556666", "a@example.com" } } },
      "detective:create_members: Accounts[1]: expected a structure (table with named fields), got a list")
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { first = account() } },
      "detective:create_members: Accounts: expected a list (sequence table), got a table with key \"first\"")
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { [1] = account(), [3] = account() } },
      "detective:create_members: Accounts: expected a list (sequence table), got a table with holes (2 values, highest index 3)")
    rejects("detective", "tag_resource", { ResourceArn = GRAPH, Tags = { "x" } },
      "detective:tag_resource: Tags: expected a map (table with string keys), got a list")
  end)

  it("checks integers: integral, finite, 32-bit, and the model's range", function()
    local limit = member_shape("detective", "ListMembers", "MaxResults")
    assert.is_number(limit.max)
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResults = limit.max + 300 },
      ("detective:list_members: MaxResults: %d is above the maximum %d"):format(limit.max + 300, limit.max))
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResults = limit.min - 1 },
      ("detective:list_members: MaxResults: %d is below the minimum %d"):format(limit.min - 1, limit.min))
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResults = 1.5 },
      "detective:list_members: MaxResults: expected integer, got 1.5")
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResults = 0 / 0 },
      "detective:list_members: MaxResults: expected integer, got nan")
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResults = math.huge },
      "detective:list_members: MaxResults: expected integer, got inf")
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResults = -math.huge },
      "detective:list_members: MaxResults: expected integer, got -inf")
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResults = 1 << 40 },
      ("detective:list_members: MaxResults: %d is out of range for a 32-bit integer"):format(1 << 40))
    local dur = member_shape("sts", "AssumeRole", "DurationSeconds")
    rejects("sts", "assume_role", { RoleArn = "arn:aws:iam::123456789012:role/demo", RoleSessionName = "Bob",
      DurationSeconds = dur.min - 1 },
      ("sts:assume_role: DurationSeconds: %d is below the minimum %d"):format(dur.min - 1, dur.min))
  end)

  it("checks enums", function()
    local st = member_shape("detective", "UpdateInvestigationState", "State")
    assert.truthy(st.enum)
    rejects("detective", "update_investigation_state",
      { GraphArn = GRAPH, InvestigationId = ("1"):rep(21), State = "FOO" },
      'detective:update_investigation_state: State: "FOO" is not one of ' .. table.concat(st.enum, ", "))
    accepts("detective", "update_investigation_state",
      { GraphArn = GRAPH, InvestigationId = ("1"):rep(21), State = st.enum[#st.enum] })
  end)

  it("checks patterns and lengths together, in the issue's wording", function()
    local id = member_shape("detective", "CreateMembers", "Accounts", "[]", "AccountId")
    assert.truthy(id.pattern)
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { account(), account("12345") } },
      ('detective:create_members: Accounts[2].AccountId: "12345" does not match %s (%s)')
        :format(id.pattern, bounds(id, "character", "characters")))
    local good = ("4"):rep(id.min)
    accepts("detective", "create_members", { GraphArn = GRAPH, Accounts = { account(good) } })
    local bad = ("x"):rep(id.min)
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { account(bad) } },
      ('detective:create_members: Accounts[1].AccountId: "%s" does not match %s (%s)')
        :format(bad, id.pattern, bounds(id, "character", "characters")))
    local arn = member_shape("detective", "ListMembers", "GraphArn")
    local wrong = "arn:aws:detective:us-east-1:111122223333:graph:123412341234"
    rejects("detective", "list_members", { GraphArn = wrong },
      ('detective:list_members: GraphArn: "%s" does not match %s'):format(wrong, arn.pattern)
        .. (bounds(arn, "character", "characters") and (" (" .. bounds(arn, "character", "characters") .. ")") or ""))
    -- Smithy patterns are searches, not full matches: STS's session-name class matches anywhere
    local rsn = member_shape("sts", "AssumeRole", "RoleSessionName")
    rejects("sts", "assume_role", { RoleArn = "arn:aws:iam::123456789012:role/demo", RoleSessionName = "B" },
      ('sts:assume_role: RoleSessionName: "B" does not match %s (%s)')
        :format(rsn.pattern, bounds(rsn, "character", "characters")))
  end)

  it("checks lengths of strings without a pattern, counting characters, not bytes", function()
    local tok = member_shape("detective", "ListMembers", "NextToken")
    assert.is_nil(tok.pattern)
    rejects("detective", "list_members", { GraphArn = GRAPH, NextToken = "" },
      ('detective:list_members: NextToken: "" has 0 characters, expected %s'):format(bounds(tok, "character", "characters")))
    local long = ("é"):rep(tok.max) -- 2 bytes each: fits by characters
    accepts("detective", "list_members", { GraphArn = GRAPH, NextToken = long })
    rejects("detective", "list_members", { GraphArn = GRAPH, NextToken = long .. "é" },
      ('detective:list_members: NextToken: "%s..." has %d characters, expected %s')
        :format(("é"):rep(32), tok.max + 1, bounds(tok, "character", "characters")))
  end)

  it("checks list and map sizes", function()
    local list = member_shape("detective", "CreateMembers", "Accounts")
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = {} },
      ("detective:create_members: Accounts: has 0 items, expected %s"):format(bounds(list, "item", "items")))
    local many = {}
    for i = 1, list.max + 1 do many[i] = account() end
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = many },
      ("detective:create_members: Accounts: has %d items, expected %s"):format(list.max + 1, bounds(list, "item", "items")))
    local map = member_shape("detective", "TagResource", "Tags")
    rejects("detective", "tag_resource", { ResourceArn = GRAPH, Tags = {} },
      ("detective:tag_resource: Tags: has 0 entries, expected %s"):format(bounds(map, "entry", "entries")))
    local tags = {}
    for i = 1, map.max + 1 do tags["k" .. i] = "v" end
    rejects("detective", "tag_resource", { ResourceArn = GRAPH, Tags = tags },
      ("detective:tag_resource: Tags: has %d entries, expected %s"):format(map.max + 1, bounds(map, "entry", "entries")))
  end)

  it("names map entries as Tags[\"key\"], for keys and for values", function()
    local key = member_shape("detective", "TagResource", "Tags", "key")
    rejects("detective", "tag_resource", { ResourceArn = GRAPH, Tags = { ["aws:owner"] = "me" } },
      ('detective:tag_resource: Tags["aws:owner"]: key "aws:owner" does not match %s (%s)')
        :format(key.pattern, bounds(key, "character", "characters")))
    local value = member_shape("detective", "TagResource", "Tags", "{}")
    local v = ("v"):rep(value.max + 1)
    rejects("detective", "tag_resource", { ResourceArn = GRAPH, Tags = { Project = v } },
      ('detective:tag_resource: Tags["Project"]: "%s..." has %d characters, expected %s')
        :format(("v"):rep(64), value.max + 1, bounds(value, "character", "characters")))
  end)

  it("reports unknown names, suggesting the nearest one", function()
    rejects("detective", "list_members", { GraphArn = GRAPH, Grapharn = GRAPH },
      "detective:list_members: Grapharn: unknown parameter (did you mean GraphArn?)")
    rejects("detective", "list_members", { GraphArn = GRAPH, MaxResult = 5 },
      "detective:list_members: MaxResult: unknown parameter (did you mean MaxResults?)")
    local input = shape("detective", model.operation("detective", "ListMembers").input)
    local names = {}
    for i, m in ipairs(input.members) do names[i] = m.name end
    rejects("detective", "list_members", { GraphArn = GRAPH, Zebra = 1 },
      "detective:list_members: Zebra: unknown parameter (expected one of " .. table.concat(names, ", ") .. ")")
    rejects("detective", "create_members", { GraphArn = GRAPH, Accounts = { { AccountID = "444455556666", EmailAddress = "a@example.com" } } },
      "detective:create_members: Accounts[1].AccountID: unknown parameter (did you mean AccountId?)")
    rejects("detective", "disable_organization_admin_account", { Force = true },
      "detective:disable_organization_admin_account: Force: unknown parameter (DisableOrganizationAdminAccount takes no parameters)")
  end)

  it("accepts timestamps as ISO 8601 strings and epoch numbers, and names bad ones", function()
    local base = { GraphArn = GRAPH, EntityArn = "arn:aws:iam::111122223333:role/x",
      ScopeStartTime = "2024-05-01T10:00:00Z", ScopeEndTime = 1714557600 }
    accepts("detective", "start_investigation", base)
    base.ScopeEndTime = "2024-05-01T10:00:00.123456+02:00"
    accepts("detective", "start_investigation", base)
    base.ScopeEndTime = 1714557600.25
    accepts("detective", "start_investigation", base)
    base.ScopeEndTime = "yesterday"
    rejects("detective", "start_investigation", base,
      'detective:start_investigation: ScopeEndTime: "yesterday" is not an ISO 8601 timestamp (such as 2024-05-01T10:00:00Z)')
    base.ScopeEndTime = "2024-02-30T00:00:00Z"
    rejects("detective", "start_investigation", base,
      'detective:start_investigation: ScopeEndTime: "2024-02-30T00:00:00Z" is not an ISO 8601 timestamp (such as 2024-05-01T10:00:00Z)')
    base.ScopeEndTime = 0 / 0
    rejects("detective", "start_investigation", base,
      "detective:start_investigation: ScopeEndTime: nan is not a valid time in epoch seconds (years 1 to 9999)")
    base.ScopeEndTime = {}
    rejects("detective", "start_investigation", base,
      "detective:start_investigation: ScopeEndTime: expected timestamp (ISO 8601 string or epoch seconds), got table")
  end)

  it("refuses cyclic tables", function()
    local params = { GraphArn = GRAPH }
    params.Accounts = { params }
    rejects("detective", "create_members", params, "detective:create_members: Accounts[1]: cyclic table (it contains itself)")
    local acct = account()
    -- the same table twice (not a cycle) is fine
    accepts("detective", "create_members", { GraphArn = GRAPH, Accounts = { acct, acct } })
  end)

  it("refuses invalid UTF-8 and huge strings", function()
    rejects("detective", "list_members", { GraphArn = GRAPH, NextToken = "ab\xC3\x28" },
      "detective:list_members: NextToken: string is not valid UTF-8 (bad byte at offset 2)")
    rejects("detective", "list_members", { GraphArn = GRAPH, NextToken = "\xED\xA0\x80" },
      "detective:list_members: NextToken: string is not valid UTF-8 (bad byte at offset 0)")
    local huge = ("a"):rep(2 * 1024 * 1024)
    rejects("detective", "list_members", { GraphArn = GRAPH, NextToken = huge },
      "detective:list_members: NextToken: string of 2097152 bytes is over the limit of 1048576 bytes")
  end)

  it("shows <redacted> for values of sensitive shapes", function()
    local email = member_shape("detective", "CreateMembers", "Accounts", "[]", "EmailAddress")
    assert.is_true(email.sensitive)
    local ok, msg = P.validate("detective", "create_members",
      { GraphArn = GRAPH, Accounts = { account(nil, "secret-address-without-at") } })
    assert.is_false(ok)
    assert.equals(("detective:create_members: Accounts[1].EmailAddress: <redacted> does not match %s (%s)")
      :format(email.pattern, bounds(email, "character", "characters")), msg)
    assert.is_nil(msg:find("secret-address", 1, true))
    local message = member_shape("detective", "CreateMembers", "Message")
    assert.is_true(message.sensitive)
    ok, msg = P.validate("detective", "create_members",
      { GraphArn = GRAPH, Accounts = { account() }, Message = ("s"):rep(message.max + 1) })
    assert.is_false(ok)
    assert.equals(("detective:create_members: Message: <redacted> has %d characters, expected %s")
      :format(message.max + 1, bounds(message, "character", "characters")), msg)
  end)

  it("never raises from validate, even for unknown operations", function()
    local ok, msg = P.validate("detective", "list_memberz", {})
    assert.is_false(ok)
    assert.equals("detective: unknown operation 'list_memberz' (did you mean list_members?)", msg)
    ok, msg = P.validate("nosuch", "x", {})
    assert.is_false(ok)
    assert.matches("unknown service", msg)
  end)
end)
