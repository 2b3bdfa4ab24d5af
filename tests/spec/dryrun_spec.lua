-- dryrun_spec: clients with dry_run = true and `detlua run --dry-run`. What was sent is
-- observed on the wire (a transport hook) and in the emulator's state read back by a
-- client that is not in dry run; which operations count as reads and which output
-- members a placeholder must carry come from the model.
local K = require("kit_support")
local aws = require("aws")
local model = require("aws.core.model")
local dryrun = require("aws.dryrun")

local function capture()
  local lines = {}
  local write = dryrun.write
  dryrun.write = function(l) lines[#lines + 1] = l end
  function lines.restore() dryrun.write = write end
  return lines
end

describe("dry run", function()
  local env, live, dry, g
  setup(function()
    env = K.start()
    live = env.detective
    dry = env:client("detective", nil, { dry_run = true })
    g = live:create_graph{}.GraphArn
  end)
  teardown(function() env:stop() end)

  it("sends reads and skips everything else, returning a marked placeholder", function()
    local lines = capture()
    local rec = K.record_requests()
    local graphs = dry:list_graphs{}
    local before = rec.count
    local r = dry:create_members{ GraphArn = g, Message = "hello from the security team",
      Accounts = { { AccountId = K.PROD, EmailAddress = "prod@example.com" },
                   { AccountId = K.DEV, EmailAddress = "dev@example.com" } } }
    local after = rec.count
    rec.restore()
    lines.restore()
    assert.equals(1, #graphs.GraphList)
    assert.equals(1, before)
    assert.equals(before, after) -- CreateMembers never reached the wire
    assert.is_true(r.__dry_run)
    assert.is_true(dryrun.is_placeholder(r))
    -- the emulator agrees: nobody was invited
    local members = live:list_members{ GraphArn = g }
    assert.equals(0, #(members.MemberDetails or {}))
    assert.equals(1, #lines)
    local l = lines[1]
    assert.equals("[dry-run] would call Detective.CreateMembers {", l:sub(1, 46))
    assert.matches("Accounts=[2 items]", l, 1, true)
    assert.matches('GraphArn="' .. g .. '"', l, 1, true)
    assert.matches("Message=<redacted>", l, 1, true) -- EmailMessage is sensitive in the model
    assert.is_nil(l:find("hello from", 1, true))
    assert.is_nil(l:find("@example.com", 1, true))
  end)

  it("still validates first: a caller mistake raises and nothing is planned", function()
    local lines = capture()
    local ok, err = pcall(dry.create_members, dry, { GraphArn = g, Accounts = { { AccountId = "1" } } })
    lines.restore()
    assert.is_false(ok)
    assert.matches("detective:create_members: Accounts[1]", err, 1, true)
    assert.equals(0, #lines)
  end)

  it("classifies List*, Get*, Describe*, BatchGet* (and all of STS) as reads", function()
    local function read(svc, op) return dryrun.is_read_only(svc, op) end
    for _, name in ipairs(model.service("detective").operation_names) do
      local expect = name:match("^List%u") or name:match("^Get%u") or name:match("^Describe%u") or name:match("^BatchGet%u")
      assert.equals(expect ~= nil, read("detective", name), name)
    end
    assert.is_true(read("sts", "AssumeRole"))
    assert.is_false(read("guardduty", "ArchiveFindings"))
    assert.is_true(read("guardduty", "GetFindings"))
  end)

  it("lets STS calls through so role-based playbooks can plan member-side calls", function()
    local sts = env:client("sts", nil, { dry_run = true })
    local r = sts:assume_role{ RoleArn = "arn:aws:iam::" .. K.PROD .. ":role/DetectiveMember", RoleSessionName = "plan" }
    assert.is_string(r.Credentials.AccessKeyId)
    assert.is_nil(r.__dry_run)
  end)

  it("fills the members an output shape requires, per the model", function()
    for _, sname in ipairs(model.services()) do
      local svc = model.service(sname)
      for _, name in ipairs(svc.operation_names) do
        local op = svc.operations[name]
        local p = dryrun.placeholder(svc, op)
        assert.is_true(p.__dry_run)
        local out = op.output and svc.shapes[op.output]
        for _, m in ipairs(out and out.members or {}) do
          if m.required then
            local t = svc.shapes[m.shape].type
            local v = p[m.name]
            assert.is_not_nil(v, sname .. "." .. name .. "." .. m.name)
            local lua_type = ({ string = "string", boolean = "boolean", list = "table", map = "table",
              structure = "table", integer = "number", long = "number", double = "number", float = "number",
              timestamp = "number", blob = "string" })[t]
            assert.equals(lua_type, type(v), sname .. "." .. name .. "." .. m.name)
          end
        end
      end
    end
    local gd = model.service("guardduty")
    assert.equals("dry-run", dryrun.placeholder(gd, gd.operations.CreateFilter).Name)
  end)

  it("summarises nested parameters on one line", function()
    local svc = model.service("detective")
    local s = dryrun.summary(svc, svc.operations.UpdateDatasourcePackages,
      { GraphArn = g, DatasourcePackages = { "EKS_AUDIT" } })
    assert.equals('{DatasourcePackages=["EKS_AUDIT"], GraphArn="' .. g .. '"}', s)
    local t = dryrun.summary(svc, svc.operations.TagResource, { ResourceArn = g, Tags = { Team = "secops" } })
    assert.equals('{ResourceArn="' .. g .. '", Tags={Team="secops"}}', t)
  end)
end)

describe("detlua run --dry-run", function()
  local playbook = [[
    local before = #detective:list_graphs{}.GraphList
    local r = detective:create_graph{ Tags = { Team = "secops" } }
    assert(r.__dry_run == true, "placeholder expected")
    local after = #detective:list_graphs{}.GraphList
    emit{ before = before, after = after, dry_run = r.__dry_run }
  ]]

  it("prints the plan on stderr and leaves the emulator untouched", function()
    local r = K.run_playbook(playbook, { "--dry-run", "--debug" })
    assert.equals(0, r.code, r.stderr)
    assert.equals('{"after":0,"before":0,"dry_run":true}\n', r.stdout)
    assert.matches('[dry-run] would call Detective.CreateGraph {Tags={Team="secops"}}', r.stderr, 1, true)
    K.assert_no_secrets(r.stdout .. r.stderr, nil, "dry-run output")
  end)

  it("without --dry-run the same calls are sent", function()
    local r = K.run_playbook([[
      local g = detective:create_graph{}
      emit{ dry = g.__dry_run or false, graphs = #detective:list_graphs{}.GraphList }
    ]])
    assert.equals(0, r.code, r.stderr)
    assert.equals('{"dry":false,"graphs":1}\n', r.stdout)
    assert.is_nil(r.stderr:find("[dry-run]", 1, true))
  end)
end)
