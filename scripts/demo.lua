-- demo.lua: the short playbook `make demo` runs with `detlua run --local`. Against the
-- embedded emulator, the administrator creates a behavior graph and invites the member
-- accounts whose roles trust it, assumes that role in each member account (as a
-- security team does) to accept the invitation there, then lists the members.
local function say(fmt, ...) io.stdout:write(string.format(fmt, ...), "\n") end

local me = sts:get_caller_identity()
say("administrator account: %s (%s)", me.Account, me.Arn)

local graph = detective:create_graph{ Tags = { Team = "incident-response" } }.GraphArn
say("behavior graph: %s", graph)

-- The emulator's scenario says which member roles trust the administrator.
local scenario = aws.emulator:scenario()
local emails = {}
for _, a in ipairs(scenario.accounts or {}) do emails[a.id] = a.email end
local members = {}
for _, role in ipairs(scenario.roles or {}) do
  local acct = role.arn:match("^arn:aws:iam::(%d+):role/")
  for _, t in ipairs(role.trusts or {}) do
    if t == me.Account and acct ~= me.Account and emails[acct] then
      members[#members + 1] = { id = acct, email = emails[acct], role_arn = role.arn }
    end
  end
end
if #members == 0 then error("the scenario has no member account role that trusts " .. me.Account) end

local accounts = {}
for _, m in ipairs(members) do accounts[#accounts + 1] = { AccountId = m.id, EmailAddress = m.email } end
local created = detective:create_members{ GraphArn = graph, Accounts = accounts,
  Message = "Join the incident-response behavior graph" }
for _, m in ipairs(created.Members) do say("invited %s: %s", m.AccountId, m.Status) end
for _, u in ipairs(created.UnprocessedAccounts or {}) do say("not invited %s: %s", u.AccountId, u.Reason) end

for _, m in ipairs(members) do
  local role = sts:assume_role{ RoleArn = m.role_arn, RoleSessionName = "detlua-demo" }
  local c = role.Credentials
  local member = aws.client("detective", { credentials = {
    access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey, session_token = c.SessionToken } })
  member:accept_invitation{ GraphArn = graph }
  say("accepted in %s as %s", m.id, role.AssumedRoleUser.Arn)
end

say("")
say("%-14s %-24s %s", "ACCOUNT", "STATUS", "SINCE")
for _, m in ipairs(detective:list_members{ GraphArn = graph }.MemberDetails) do
  say("%-14s %-24s %s", m.AccountId, m.Status .. (m.DisabledReason and (" (" .. m.DisabledReason .. ")") or ""), m.UpdatedTime)
end
