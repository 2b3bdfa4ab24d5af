-- batch_spec: the *_all helpers (create_members_all, delete_members_all, get_members_all,
-- batch_get_graph_member_datasources_all, batch_get_membership_datasources_all) against
-- the in-process emulator with a generated scenario of 250 member accounts. Oracles: the
-- model's list limits (aws.core.model), the emulator's own request validation (which
-- rejects an over-long list) and its state afterwards, and the requests a transport hook
-- saw on the wire.
local K = require("kit_support")
local aws = require("aws")
local json = require("aws.json")
local model = require("aws.core.model")

local ADMIN = K.ADMIN
local N = 250

local function member_id(i) return string.format("2%011d", i) end

local function generated_scenario(n)
  local accounts = { { id = ADMIN, email = "security@example.com", access_key_id = "AKIAKITBATCHADMIN001",
    secret_access_key = "kit-batch-admin-secret-key-not-real-0001", guardduty_since = true } }
  for i = 1, n do
    accounts[#accounts + 1] = { id = member_id(i), email = "m" .. i .. "@example.com", guardduty_since = true }
  end
  return { region = "us-east-1", administrator = ADMIN, accounts = accounts }
end

local function accounts(from, to)
  local out = {}
  for i = from, to do out[#out + 1] = { AccountId = member_id(i), EmailAddress = "m" .. i .. "@example.com" } end
  return out
end

local function ids(from, to)
  local out = {}
  for i = from, to do out[#out + 1] = member_id(i) end
  return out
end

local function list_max(op, member)
  local svc = model.service("detective")
  local shape = svc.shapes[svc.operations[op].input]
  return svc.shapes[shape.members[shape.member_index[member]].shape].max
end

local function sent_sizes(rec, key)
  local out = {}
  for _, r in ipairs(rec.requests) do
    local body = json.decode(r.body)
    out[#out + 1] = #body[key]
  end
  return out
end

local function chunks_of(n, max)
  local out = {}
  while n > 0 do out[#out + 1] = math.min(n, max); n = n - max end
  return out
end

describe("batch helpers", function()
  local env, d, g
  setup(function()
    env = K.start{ scenario_table = generated_scenario(N) }
    d = env.detective
    g = env:graph()
  end)
  teardown(function() env:stop() end)

  it("create_members_all sends model-sized chunks and merges Members and UnprocessedAccounts", function()
    local input = accounts(1, 120)
    table.insert(input, 75, { AccountId = ADMIN, EmailAddress = "security@example.com" }) -- own account
    input[#input + 1] = { AccountId = member_id(1), EmailAddress = "m1@example.com" }     -- again, in a later chunk
    local rec = K.record_requests()
    local r = d:create_members_all{ GraphArn = g, Accounts = input, Message = "welcome to the graph" }
    rec.restore()
    local max = list_max("CreateMembers", "Accounts")
    assert.same(chunks_of(#input, max), sent_sizes(rec, "Accounts"))
    assert.equals(120, #r.Members)
    local seen = {}
    for _, m in ipairs(r.Members) do seen[m.AccountId] = true end
    for i = 1, 120 do assert.is_true(seen[member_id(i)]) end
    assert.equals(2, #r.UnprocessedAccounts)
    local un = {}
    for _, u in ipairs(r.UnprocessedAccounts) do un[u.AccountId] = u.Reason end
    assert.matches("administrator", un[ADMIN])
    assert.matches("already a member", un[member_id(1)])
    -- the emulator agrees: 120 members exist
    local n = 0
    for _ in d:each("ListMembers", { GraphArn = g }) do n = n + 1 end
    assert.equals(120, n)
  end)

  it("get_members_all merges MemberDetails and collects non-members", function()
    local list = ids(1, 120)
    list[#list + 1] = member_id(200) -- never invited
    local rec = K.record_requests()
    local r = d:get_members_all{ GraphArn = g, AccountIds = list }
    rec.restore()
    assert.same(chunks_of(121, list_max("GetMembers", "AccountIds")), sent_sizes(rec, "AccountIds"))
    assert.equals(120, #r.MemberDetails)
    assert.equals(1, #r.UnprocessedAccounts)
    assert.equals(member_id(200), r.UnprocessedAccounts[1].AccountId)
  end)

  it("batch_get_graph_member_datasources_all uses its own, larger limit", function()
    d:create_members_all{ GraphArn = g, Accounts = accounts(121, N) }
    local list = ids(1, N)
    local rec = K.record_requests()
    local r = d:batch_get_graph_member_datasources_all{ GraphArn = g, AccountIds = list }
    rec.restore()
    local max = list_max("BatchGetGraphMemberDatasources", "AccountIds")
    assert.is_true(max > list_max("GetMembers", "AccountIds"))
    assert.same(chunks_of(N, max), sent_sizes(rec, "AccountIds"))
    assert.equals(N, #r.MemberDatasources)
    assert.equals(0, #r.UnprocessedAccounts)
  end)

  it("batch_get_membership_datasources_all merges UnprocessedGraphs", function()
    local arns = { g }
    for i = 1, 60 do arns[#arns + 1] = string.format("arn:aws:detective:us-east-1:%012d:graph:%032x", 300000000000 + i, i) end
    local rec = K.record_requests()
    local r = d:batch_get_membership_datasources_all{ GraphArns = arns }
    rec.restore()
    assert.same(chunks_of(61, list_max("BatchGetMembershipDatasources", "GraphArns")), sent_sizes(rec, "GraphArns"))
    assert.equals(1, #r.MembershipDatasources)
    assert.equals(60, #r.UnprocessedGraphs)
  end)

  it("delete_members_all merges AccountIds", function()
    local list = ids(191, N)
    list[#list + 1] = "123456789012"
    local r = d:delete_members_all{ GraphArn = g, AccountIds = list }
    assert.equals(N - 190, #r.AccountIds)
    assert.equals(1, #r.UnprocessedAccounts)
    local left = d:get_members_all{ GraphArn = g, AccountIds = ids(1, N) }
    assert.equals(190, #left.MemberDetails)
    assert.equals(N - 190, #left.UnprocessedAccounts)
  end)

  it("validates the whole input before sending anything, naming the item's index", function()
    local input = accounts(1, 120)
    input[73].AccountId = "12345"
    local rec = K.record_requests()
    local ok, err = pcall(d.create_members_all, d, { GraphArn = g, Accounts = input })
    local ok2, err2 = pcall(d.get_members_all, d, { GraphArn = g, AccountIds = { member_id(1), 7 } })
    local ok3, err3 = pcall(d.get_members_all, d, { GraphArn = g })
    local ok4 = pcall(d.get_members_all, d, { GraphArn = g, AccountIds = { [1] = member_id(1), [3] = member_id(3) } })
    rec.restore()
    assert.is_false(ok)
    assert.equals("string", type(err))
    assert.matches("detective:create_members_all: Accounts[73].AccountId", err, 1, true)
    assert.is_false(ok2)
    assert.matches("AccountIds[2]", err2, 1, true)
    assert.is_false(ok3)
    assert.matches("AccountIds: required", err3, 1, true)
    assert.is_false(ok4)
    assert.equals(0, rec.count)
  end)

  it("returns an empty merged result for an empty list without calling", function()
    local rec = K.record_requests()
    local r = d:get_members_all{ GraphArn = g, AccountIds = {} }
    rec.restore()
    assert.equals(0, rec.count)
    assert.same({ MemberDetails = {}, UnprocessedAccounts = {} }, r)
  end)

  it("reports progress after each chunk", function()
    local seen = {}
    d:get_members_all({ GraphArn = g, AccountIds = ids(1, 120) }, { progress = function(done, total) seen[#seen + 1] = done .. "/" .. total end })
    assert.same({ "50/120", "100/120", "120/120" }, seen)
  end)

  it("in dry run, validates every chunk and sends none", function()
    local dd = env:client("detective", nil, { dry_run = true })
    local lines = {}
    local dryrun = require("aws.dryrun")
    local write = dryrun.write
    dryrun.write = function(l) lines[#lines + 1] = l end
    local rec = K.record_requests()
    local r = dd:create_members_all{ GraphArn = g, Accounts = accounts(1, 120) }
    rec.restore()
    dryrun.write = write
    assert.equals(0, rec.count)
    assert.is_true(r.__dry_run)
    assert.equals(3, #lines)
    assert.matches("Accounts=[50 items]", lines[1], 1, true)
  end)

  it("is not available on services without the operation", function()
    local sts = env:client("sts")
    assert.has_error(function() sts:create_members_all{ GraphArn = g, Accounts = {} } end)
  end)
end)

describe("a chunk that fails", function()
  local env, d, g
  setup(function()
    -- the graph takes 50 members: the second chunk of CreateMembers fails with
    -- ServiceQuotaExceededException (none of its accounts fits)
    env = K.start{ scenario_table = generated_scenario(120), settings = { detective = { max_members_per_graph = 50 } } }
    d = env.detective
    g = env:graph()
  end)
  teardown(function() env:stop() end)

  it("raises the service error carrying the merged result, the failed chunk and the unsent items", function()
    local input = accounts(1, 120)
    local rec = K.record_requests()
    local ok, err = pcall(d.create_members_all, d, { GraphArn = g, Accounts = input })
    rec.restore()
    assert.is_false(ok)
    assert.is_true(aws.is_error(err))
    assert.equals("ServiceQuotaExceededException", err.code)
    assert.equals(2, rec.count) -- the third chunk was never sent
    assert.equals(2, err.failed_chunk)
    assert.equals(3, err.chunks)
    assert.equals(50, #err.partial.Members)
    assert.equals(50, #err.failed_items)
    assert.equals(member_id(51), err.failed_items[1].AccountId)
    assert.equals(20, #err.unsent_items)
    assert.equals(member_id(101), err.unsent_items[1].AccountId)
    assert.matches("chunk 2 of 3", err.message, 1, true)
    -- and the emulator holds exactly what the error says was done
    local r = d:get_members_all{ GraphArn = g, AccountIds = ids(1, 120) }
    assert.equals(50, #r.MemberDetails)
  end)
end)
