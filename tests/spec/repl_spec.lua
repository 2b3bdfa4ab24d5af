-- repl_spec: the REPL's logic in-process (detlua.repl): help() for every operation of
-- every service, chunk evaluation and printing, redaction by output shape, what is kept
-- out of the history, the history file location, and .save's playbook text. The
-- terminal side (libedit, Ctrl-C, the history file across sessions) is in
-- repl_tty_spec.lua. Oracles: the model tables (operation names, sensitive shapes),
-- detlua.apidoc's own renderers (help must route to them, not re-render), and Lua's
-- parser for the saved playbook.
local repl = require("detlua.repl")
local apidoc = require("detlua.apidoc")
local model = require("aws.core.model")
local aws = require("aws")
local emulator = require("aws.core.emulator")
local secrets = require("secrets")

local function sink()
  local s = { text = "" }
  function s:write(...)
    for _, v in ipairs({ ... }) do self.text = self.text .. tostring(v) end
    return self
  end
  function s:flush() return self end
  return s
end

local function new_state()
  return { opts = {}, saved = {}, recent = {}, stdout = sink(), stderr = sink() }
end

describe("help()", function()
  it("documents every operation of every service, reached every way", function()
    local count = 0
    for _, service in ipairs(model.services()) do
      local client = aws.client(service, { region = "us-east-1" })
      local svc = model.service(service)
      assert.equal(apidoc.service_text(service), repl.help_text(client))
      assert.equal(apidoc.service_text(service), repl.help_text(service))
      for _, name in ipairs(svc.operation_names) do
        local op = svc.operations[name]
        local expected = apidoc.operation_text(service, name)
        assert.truthy(expected:find(svc.service_id .. "." .. name, 1, true))
        -- the method value (client.op with a dot), "service.Op", "service:lua_name", "Op"
        assert.equal(expected, repl.help_text(client[op.lua_name]), service .. "." .. name)
        assert.equal(expected, repl.help_text(service .. "." .. name))
        assert.equal(expected, repl.help_text(service .. ":" .. op.lua_name))
        local by_name = repl.help_text(name)
        local first
        for _, s in ipairs(model.services()) do
          if model.service(s).operations[name] then first = s; break end
        end
        assert.equal(apidoc.operation_text(first, name), by_name:sub(1, #apidoc.operation_text(first, name)))
        if first ~= service then
          assert.truthy(by_name:find('help("' .. service .. "." .. name .. '")', 1, true))
        end
        count = count + 1
      end
    end
    assert.truthy(count > 100)
  end)

  it("documents shapes and the generic methods, and explains what it does not know", function()
    assert.equal(apidoc.shape_text("detective", "MemberDetail"), repl.help_text("detective.MemberDetail"))
    assert.equal(apidoc.shape_text("detective", "MemberDetail"), repl.help_text("MemberDetail"))
    local d = aws.client("detective", { region = "us-east-1" })
    assert.truthy(repl.help_text(d.each):find("client:each", 1, true))
    assert.truthy(repl.help_text():find(".region", 1, true))
    local unknown = repl.help_text("ListMembrs")
    assert.truthy(unknown:find("No service, operation or shape", 1, true))
    assert.truthy(repl.help_text("ListMemb"):find("detective.ListMembers", 1, true))
    assert.truthy(repl.help_text(42):find("number", 1, true))
  end)

  it("documents the aws module from the reference's own entries, by value and by name", function()
    local d = aws.client("detective", { region = "us-east-1" })
    for _, pair in ipairs({ { aws.map, "aws.map" }, { aws.wait, "aws.wait" }, { d.pages, "client:pages" },
      { d.wait_members, "client:wait_members" }, { aws.assume_role, "aws.assume_role" } }) do
      local text = apidoc.core_text(pair[2])
      assert.is_string(text, pair[2])
      assert.equal(text, repl.help_text(pair[1]), pair[2])
      assert.equal(text, repl.help_text(pair[2]), pair[2])
    end
    assert.equal(apidoc.core_summary_text(), repl.help_text(aws))
    assert.truthy(repl.help_text(function() end):find("no detlua documentation", 1, true))
  end)
end)

describe("evaluation", function()
  it("prints =expr and bare expressions, keeps _ and runs statements quietly", function()
    local st = new_state()
    assert.equal("ok", repl.run(st, "=1 + 1"))
    assert.equal("2\n", st.stdout.text)
    assert.equal(2, _G._)
    st.stdout.text = ""
    assert.equal("ok", repl.run(st, "'a', 3"))
    assert.equal('"a"\t3\n', st.stdout.text)
    st.stdout.text = ""
    assert.equal("ok", repl.run(st, "repl_spec_x = 5"))
    assert.equal("", st.stdout.text)
    assert.equal(5, rawget(_G, "repl_spec_x"))
    _G.repl_spec_x = nil
  end)

  it("reports incomplete chunks and compile errors", function()
    local st = new_state()
    assert.equal("incomplete", repl.run(st, "for i = 1, 2 do"))
    assert.equal("incomplete", repl.run(st, "x = {"))
    assert.equal("ok", repl.run(st, "for i = 1, 2 do\nend"))
    assert.equal("error", repl.run(st, "x = = 1"))
    assert.truthy(st.stderr.text:find("stdin:1:", 1, true))
  end)

  it("prints errors without stopping, aws.Error with its fields", function()
    local st = new_state()
    assert.equal("error", repl.run(st, "error('boom')"))
    assert.truthy(st.stderr.text:find("boom", 1, true))
    st.stderr.text = ""
    assert.equal("error", repl.run(st, [[error(require("aws.errors").new{kind = "service",
      code = "ValidationException", message = "bad", status = 400,
      operation = "Detective.ListMembers", fields = {ErrorCode = "INVALID_GRAPH_ARN"}})]]))
    assert.truthy(st.stderr.text:find("Detective.ListMembers: ValidationException", 1, true))
    assert.truthy(st.stderr.text:find('ErrorCode = "INVALID_GRAPH_ARN"', 1, true))
  end)

  it("redacts members the model marks sensitive, found from the last call's output shape", function()
    local srv = emulator.start{ port = 0 }
    local d = aws.client("detective", { region = "us-east-1", endpoint = srv:url(),
      credentials = secrets.plain(srv:admin_credentials()) })
    local ok, err = pcall(function()
      local st = new_state()
      local client = require("aws.client")
      local saved = client.hooks.after_call
      client.hooks.after_call = function(cl, op, params, info)
        if info.ok then table.insert(st.recent, 1, { svc = cl.svc, shape = op.output }) end
        if saved then return saved(cl, op, params, info) end
      end
      local g = d:create_graph{}.GraphArn
      d:create_members{ GraphArn = g, Accounts = { { AccountId = "444455556666", EmailAddress = "member@example.com" } } }
      local r = d:list_members{ GraphArn = g }
      client.hooks.after_call = saved
      -- the oracle: the model says EmailAddress is sensitive
      local svc = model.service("detective")
      local detail = svc.shapes.MemberDetail
      local email = detail.members[detail.member_index.EmailAddress]
      assert.is_true(svc.shapes[email.shape].sensitive)
      for _, v in ipairs({ r, r.MemberDetails, r.MemberDetails[1] }) do
        local text = repl.show(st, v)
        assert.falsy(text:find("member@example.com", 1, true), text)
        assert.truthy(text:find("<redacted>", 1, true))
        assert.truthy(text:find("444455556666", 1, true))
      end
    end)
    srv:stop()
    assert(ok, err)
  end)
end)

describe("history rules", function()
  it("keeps lines with secrets out", function()
    assert.is_true(repl.has_secret('c = {access_key_id = "AKIDEXAMPLE", secret_access_key = "x"}'))
    assert.is_true(repl.has_secret('aws.client("sts", {credentials = {SessionToken = "t"}})'))
    assert.is_true(repl.has_secret('k = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'))
    local secret = "registered-secret-" .. tostring(os.time())
    require("aws.redact").register(secret)
    assert.is_true(repl.has_secret("x = '" .. secret .. "'"))
    assert.is_false(repl.has_secret('detective:list_members{GraphArn = g, NextToken = t}'))
    assert.is_false(repl.has_secret("=#r.MemberDetails"))
  end)

  it("lives under XDG_STATE_HOME, else in the home directory", function()
    local function env(t) return function(k) return t[k] end end
    assert.equal("/st/detlua/history", repl.history_path(env{ XDG_STATE_HOME = "/st/", HOME = "/h" }))
    assert.equal("/h/.detlua_history", repl.history_path(env{ HOME = "/h" }))
    assert.equal("/h/.detlua_history", repl.history_path(env{ XDG_STATE_HOME = "relative", HOME = "/h" }))
    assert.is_nil(repl.history_path(env{}))
  end)
end)

describe(".save", function()
  it("writes successful lines as a playbook that Lua can load", function()
    local saved = {
      { src = "g = detective:create_graph{}.GraphArn", kind = "stmt" },
      { src = "=g", kind = "print" },
      { src = "detective:list_graphs{}", kind = "expr" },
      { src = "#g", kind = "expr" },
      { src = "help(detective.list_members)", kind = "expr" },
      { src = 'creds = {secret_access_key = "x"}', kind = "stmt" },
      { src = "for i = 1, 2 do\n  print(i)\nend", kind = "stmt" },
    }
    local text = repl.playbook(saved, { ["local"] = true })
    assert.truthy(text:find("^%-%- "))
    assert.truthy(text:find("detlua run --local", 1, true))
    assert.truthy(text:find("\nprint(g)\n", 1, true))
    assert.truthy(text:find("\ndetective:list_graphs{}\n", 1, true))
    assert.truthy(text:find("\nprint(#g)\n", 1, true))
    assert.falsy(text:find("help(", 1, true))
    assert.falsy(text:find("secret_access_key", 1, true))
    assert.truthy(text:find("for i = 1, 2 do\n  print(i)\nend", 1, true))
    assert.truthy(load(text, "=playbook", "t", {}))
  end)

  it("keeps _ working when later lines use it", function()
    local text = repl.playbook({
      { src = "detective:list_graphs{}", kind = "expr" },
      { src = "_.GraphList[1].Arn", kind = "expr" },
      { src = "=_", kind = "print" },
    }, {})
    assert.truthy(text:find("\n_ = detective:list_graphs{}\n_ = _.GraphList[1].Arn\nprint(_)\n", 1, true), text)
    assert.truthy(load(text, "=playbook", "t", {}))
  end)
end)
