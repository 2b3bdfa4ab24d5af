-- offboard-member.lua: take one account out of the caller's Detective behavior graph.
--
-- What it does
--   1. Looks the account up in the caller's graph (GetMembers) and shows its status.
--   2. Asks for confirmation (confirm(); --yes answers yes; with no terminal and no --yes
--      the answer is no and nothing changes).
--   3. With --disassociate, and when the account is an ENABLED invited member, leaves the
--      graph from the member side first: assumes arn:<partition>:iam::<account>:role/
--      <--role-name> and calls DisassociateMembership there (what the member would do
--      itself). Organization accounts cannot disassociate; for them, and when the role
--      cannot be assumed, the playbook says so and goes on with step 4.
--   4. Removes whatever membership is left with DeleteMembers (administrator side). An
--      organization account becomes "not a member" and can be enabled again later; an
--      invited account must be invited again to come back. The graph's existing data
--      about the account is kept either way.
--   An account that is not a member is reported as such and is not an error (re-running is
--   safe).
--
-- Arguments
--   --account=ID          the member account (12 digits; required)
--   --graph=ARN           behavior graph (default: the caller's graph from ListGraphs)
--   --disassociate        also disassociate from the member side, through the assumed role
--   --role-name=NAME      role in the member account for --disassociate (default DetectiveMember)
--   --format=table|json   table (default) prints a few lines and one JSON line; json only the line
--   host options: --yes (answer the confirmation), --dry-run (reads only)
--
-- Output: one JSON line (emit): {playbook, account_id, graph_arn, before = {status,
-- invitation_type, disabled_reason} | false, disassociated, deleted, result, dry_run} where
-- result is "removed", "not_a_member", "not_confirmed", "planned" (dry run) or "failed".
-- Under --dry-run nothing is asked and nothing is changed (the member-side role is still
-- assumed, which changes nothing, to show that it works).
-- Exit status: 0 removed, not a member, or dry run; 1 not confirmed or a call failed; 2 bad
-- arguments.
--
-- Example
--   detlua run --region eu-west-1 --yes scripts/playbooks/offboard-member.lua \
--       --account=444455556666 --disassociate
local P = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/playbook.lua")
local NAME = "offboard-member"

local KNOWN = { account = true, graph = true, disassociate = true, role_name = true, format = true }
for k in pairs(args) do
  if type(k) == "string" and not KNOWN[k] then P.usage(NAME, "unknown argument --" .. k:gsub("_", "-")) end
end
P.need_values(NAME, { "account", "graph", "role_name", "format" })
if args[1] then P.usage(NAME, "unexpected argument " .. tostring(args[1])) end
local account = args.account
if type(account) ~= "string" or not account:match("^%d%d%d%d%d%d%d%d%d%d%d%d$") then
  P.usage(NAME, "--account: expected a 12-digit account id")
end
local disassociate = P.flag(args.disassociate)
if disassociate == nil then P.usage(NAME, "--disassociate is a flag") end
local role_name = args.role_name or "DetectiveMember"
if type(role_name) ~= "string" or not role_name:match("^[%w+=,.@_%-/]+$") then
  P.usage(NAME, "--role-name: expected an IAM role name such as DetectiveMember")
end
local format = args.format or "table"
if format ~= "table" and format ~= "json" then P.usage(NAME, "--format: expected table or json") end
local dry = P.dry_run()
local region = P.region()

local function say(fmt, ...)
  if format == "table" then io.stdout:write(string.format(fmt, ...), "\n") end
end

local graph = args.graph
if not graph then
  local g = detective:list_graphs{}.GraphList[1]
  graph = g and g.Arn
end
if not graph then
  P.fail(NAME, "the caller administers no behavior graph in " .. region .. " (ListGraphs is empty)")
end

local result = { playbook = NAME, account_id = account, graph_arn = graph, dry_run = dry,
  disassociated = false, deleted = false }

local function current()
  local r = detective:get_members{ GraphArn = graph, AccountIds = { account } }
  return (r.MemberDetails or {})[1], (r.UnprocessedAccounts or {})[1]
end

local m, unprocessed = current()
if not m then
  result.before = false
  result.result = "not_a_member"
  result.reason = unprocessed and unprocessed.Reason
  say("%s is not a member of %s%s", account, graph, unprocessed and (": " .. unprocessed.Reason) or "")
  emit(result)
  return
end
result.before = { status = m.Status, invitation_type = m.InvitationType, disabled_reason = m.DisabledReason }
say("%s in %s: %s (%s)%s", account, graph, m.Status, m.InvitationType or "?",
  m.DisabledReason and (", " .. m.DisabledReason) or "")

local plan = "Remove account " .. account .. " (" .. m.Status .. ") from behavior graph " .. graph
  .. (disassociate and ", disassociating from the member side first" or "") .. "?"
if not dry and not confirm(plan) then
  result.result = "not_confirmed"
  say("not confirmed: nothing changed")
  emit(result)
  P.exit(1)
  return
end

if disassociate then
  if m.InvitationType == "ORGANIZATION" then
    log.warn("%s is an organization account: it cannot disassociate itself; removing it with DeleteMembers", account)
    result.disassociate_skipped = "organization account"
  elseif m.Status ~= "ENABLED" then
    log.warn("%s is %s, not ENABLED: only an ENABLED member can disassociate; removing it with DeleteMembers",
      account, m.Status)
    result.disassociate_skipped = "status " .. m.Status
  else
    local arn = P.role_arn(P.partition(region), account, role_name)
    local ok, err = pcall(function()
      local c = P.assume_client("detective", arn, region, "detlua-offboard")
      c:disassociate_membership{ GraphArn = graph }
      c:close()
    end)
    if ok then
      result.disassociated = not dry
      log.info("%s left %s from the member side (as %s)", account, graph, arn)
    else
      log.warn("disassociating as %s failed: %s; removing with DeleteMembers instead", arn, P.describe_error(err))
      result.disassociate_error = P.describe_error(err)
    end
  end
end

if dry then
  result.result = "planned"
  emit(result)
  return
end

local still = current()
if still then
  local r = detective:delete_members{ GraphArn = graph, AccountIds = { account } }
  local u = (r.UnprocessedAccounts or {})[1]
  if u then
    result.result = "failed"
    result.reason = u.Reason
    say("DeleteMembers did not remove %s: %s", account, tostring(u.Reason))
    emit(result)
    P.exit(1)
    return
  end
  result.deleted = true
end
result.result = "removed"
say("%s removed from %s", account, graph)
emit(result)
