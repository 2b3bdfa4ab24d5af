-- onboard-members.lua: bring a list of accounts into the caller's Detective behavior graph
-- and make them contribute data, then say plainly which ones did not and why.
--
-- What it does
--   1. Reads the accounts: --csv=FILE (header AccountId,EmailAddress) is checked row by row
--      first; if any row is bad, every bad row is reported with its line number and nothing
--      is sent. --organization takes the organization's accounts instead (see below).
--   2. Finds the caller's graph (ListGraphs, or --graph=ARN); creates one if there is none.
--   3. Invites the accounts that are not members yet (or whose verification failed) with
--      CreateMembers in chunks of 50, and waits for Detective to verify them.
--   4. Accepts every open invitation in the member accounts themselves: assumes
--      arn:<partition>:iam::<account>:role/<--role-name> and calls AcceptInvitation there,
--      --concurrency accounts at a time. Organization accounts of an organization graph are
--      enabled by CreateMembers alone and need no acceptance.
--   5. Waits (at most --timeout) for accounts still in transition to become ENABLED, and
--      reports every account with its final status. Stragglers and their reasons:
--      VERIFICATION_FAILED (the email is not the account's root email), ACCEPTED_BUT_DISABLED
--      with DisabledReason VOLUME_UNKNOWN (not a GuardDuty customer for 48 h; Detective
--      re-checks such accounts hourly) or VOLUME_TOO_HIGH, the reason of an unprocessed
--      account, a role that could not be assumed, an acceptance that failed, or a status
--      still pending at the deadline. Accounts already ACCEPTED_BUT_DISABLED are reported,
--      not waited for. Re-running the playbook picks up where it stopped.
--
-- Arguments
--   --csv=FILE            accounts to onboard: AccountId,EmailAddress (other columns ignored;
--                         blank lines and lines starting with # skipped)
--   --organization        onboard the organization's accounts. Detective has no API that
--                         lists them, so: under --local they come from the emulator's
--                         scenario; against AWS use --csv with the organization's list, e.g.
--                           aws organizations list-accounts --query 'Accounts[].[Id,Email]' \
--                             --output text | tr '\t' , | sed '1i AccountId,EmailAddress'
--                         In the organization graph those accounts are enabled without an
--                         invitation. (AWS documents EmailAddress as optional for them, but
--                         the service model requires it, so detlua, like botocore, sends it.)
--   --graph=ARN           behavior graph (default: the caller's, created if missing)
--   --role-name=NAME      role to assume in each member account (default DetectiveMember)
--   --concurrency=N       member accounts handled at once (default 8)
--   --timeout=DURATION    longest wait for verification and for enabling (default 10m)
--   --message=TEXT        invitation message
--   --no-email            DisableEmailNotification (no invitation email)
--   --format=table|json   table (default) prints the report and one JSON line; json only the line
--   host options: --dry-run (reads, plans, sends nothing that changes anything), --region
--
-- Output: a table ACCOUNT, EMAIL, STATUS, REASON (stdout), then one JSON line (emit):
-- {playbook, graph_arn, region, dry_run, total, enabled, stragglers = [ids], accounts =
-- [{account_id, email, status, disabled_reason, invitation_type, reason, ok}]}. With bad CSV
-- rows: the rows on stderr and {playbook, ok = false, errors = [{line, message}]}.
-- Exit status: 0 all ENABLED (or a dry run); 1 stragglers remain or a call failed (so a
-- pipeline notices an incomplete onboarding); 2 bad arguments or CSV rows.
--
-- Example
--   detlua run --region us-east-1 scripts/playbooks/onboard-members.lua --csv=members.csv \
--       --role-name=DetectiveMember --concurrency=16 --timeout=5m
--   detlua run --local scripts/playbooks/onboard-members.lua --organization
local P = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/playbook.lua")
local NAME = "onboard-members"

-- --- arguments ------------------------------------------------------------------------

local KNOWN = { csv = true, organization = true, graph = true, role_name = true, concurrency = true,
  timeout = true, message = true, no_email = true, format = true }
for k in pairs(args) do
  if type(k) == "string" and not KNOWN[k] then P.usage(NAME, "unknown argument --" .. k:gsub("_", "-")) end
end
P.need_values(NAME, { "csv", "graph", "role_name", "concurrency", "timeout", "message", "format" })
if args[1] then P.usage(NAME, "unexpected argument " .. tostring(args[1])) end
local role_name = args.role_name or "DetectiveMember"
if type(role_name) ~= "string" or not role_name:match("^[%w+=,.@_%-/]+$") then
  P.usage(NAME, "--role-name: expected an IAM role name such as DetectiveMember")
end
local concurrency, cerr = P.integer(args.concurrency or "8", 1, 256)
if not concurrency then P.usage(NAME, "--concurrency: " .. cerr) end
local timeout_s, terr = P.duration(args.timeout or "10m")
if not timeout_s then P.usage(NAME, "--timeout: " .. terr) end
local format = args.format or "table"
if format ~= "table" and format ~= "json" then P.usage(NAME, "--format: expected table or json") end
local organization = P.flag(args.organization)
local no_email = P.flag(args.no_email)
if organization == nil or no_email == nil then P.usage(NAME, "--organization and --no-email are flags") end
if args.message ~= nil and (type(args.message) ~= "string" or #args.message < 1 or #args.message > 1000) then
  P.usage(NAME, "--message: expected 1 to 1000 characters")
end
if args.csv ~= nil and type(args.csv) ~= "string" then P.usage(NAME, "--csv: expected a file name (--csv=FILE)") end
if not args.csv and not organization then P.usage(NAME, "give the accounts with --csv=FILE, or --organization") end
local dry = P.dry_run()

-- --- 1. the accounts --------------------------------------------------------------------

local accounts -- {{AccountId, EmailAddress}}
if args.csv then
  accounts = P.accounts_csv_or_exit(NAME, args.csv)
else
  if not aws.emulator then
    P.usage(NAME, "--organization: Detective cannot list the organization's accounts; "
      .. "give them with --csv=FILE (see the comment at the top of this playbook)")
  end
  local sc = aws.emulator:scenario()
  local emails = {}
  for _, a in ipairs(sc.accounts or {}) do emails[a.id] = a.email end
  local admin = sts:get_caller_identity{}.Account
  accounts = {}
  for _, id in ipairs(sc.organization and sc.organization.members or {}) do
    if id ~= admin then accounts[#accounts + 1] = { AccountId = id, EmailAddress = emails[id] } end
  end
end
if #accounts == 0 then P.usage(NAME, "no accounts to onboard") end
local ids = {}
for i, a in ipairs(accounts) do ids[i] = a.AccountId end

-- --- 2. the graph -----------------------------------------------------------------------

local region = P.region()
local partition = P.partition(region)
local graph, created_graph = args.graph, false
if not graph then
  local g = detective:list_graphs{}.GraphList[1]
  graph = g and g.Arn
end
if not graph then
  local r = detective:create_graph{}
  created_graph = true
  graph = not dry and r.GraphArn or nil
  if graph then log.info("created behavior graph %s", graph) end
end
log.info("graph %s: onboarding %d account(s)", graph or "(to be created)", #accounts)

local function member_map(list)
  local by = {}
  for _, m in ipairs(list or {}) do by[m.AccountId] = m end
  return by
end

-- --- dry run: plan only -----------------------------------------------------------------

local existing, unprocessed = {}, {}
if graph then
  local r = detective:get_members_all{ GraphArn = graph, AccountIds = ids }
  existing = member_map(r.MemberDetails)
end

if dry then
  local rows, out = {}, {}
  for _, a in ipairs(accounts) do
    local m = existing[a.AccountId]
    local action
    if not m or m.Status == "VERIFICATION_FAILED" then action = "invite"
    elseif m.Status == "INVITED" and m.InvitationType ~= "ORGANIZATION" then action = "accept"
    else action = "none" end
    rows[#rows + 1] = { account = a.AccountId, email = a.EmailAddress, status = m and m.Status or "NOT_A_MEMBER",
      action = action }
    out[#out + 1] = { account_id = a.AccountId, email = a.EmailAddress, status = m and m.Status or "NOT_A_MEMBER",
      action = action }
  end
  if format == "table" then
    P.print_table(rows, { { "account", "ACCOUNT" }, { "email", "EMAIL" }, { "status", "STATUS" }, { "action", "PLANNED" } })
  end
  emit{ playbook = NAME, dry_run = true, graph_arn = graph, create_graph = created_graph, region = region,
    total = #accounts, accounts = out }
  return
end

-- --- 3. invite --------------------------------------------------------------------------

local to_invite = {}
for _, a in ipairs(accounts) do
  local m = existing[a.AccountId]
  if not m or m.Status == "VERIFICATION_FAILED" then
    to_invite[#to_invite + 1] = { AccountId = a.AccountId, EmailAddress = a.EmailAddress }
  end
end
if #to_invite > 0 then
  local r = detective:create_members_all({ GraphArn = graph, Accounts = to_invite, Message = args.message,
    DisableEmailNotification = no_email or nil }, { progress = function(d, t) P.progress(d, t, "inviting") end })
  for _, u in ipairs(r.UnprocessedAccounts or {}) do unprocessed[u.AccountId] = u.Reason end
  local invited = {}
  for _, m in ipairs(r.Members or {}) do invited[#invited + 1] = m.AccountId end
  log.info("invited %d account(s), %d unprocessed", #invited, #(r.UnprocessedAccounts or {}))
  if #invited > 0 then
    -- Verification (email and organization checks) is asynchronous; its outcome, failed or
    -- not, is read below.
    pcall(detective.wait_members, detective, { GraphArn = graph, AccountIds = invited, ["until"] = "verified" },
      { timeout_s = timeout_s, delay_s = 1 })
  end
end

-- --- 4. accept in the member accounts ---------------------------------------------------

local state = member_map(detective:get_members_all{ GraphArn = graph, AccountIds = ids }.MemberDetails)
local to_accept = {}
for _, a in ipairs(accounts) do
  local m = state[a.AccountId]
  if m and m.Status == "INVITED" and m.InvitationType ~= "ORGANIZATION" then to_accept[#to_accept + 1] = a.AccountId end
end
local accept_error = {}
local accepted = {}
if #to_accept > 0 then
  log.info("accepting %d invitation(s) through role %s (%d at a time)", #to_accept, role_name, concurrency)
  local done = 0
  local _, errs = P.map(to_accept, function(account)
    local arn = P.role_arn(partition, account, role_name)
    local ok, c = pcall(P.assume_client, "detective", arn, region, "detlua-onboard")
    if not ok then error({ stage = "assume", role = arn, err = c }, 0) end
    local ok2, e = pcall(c.accept_invitation, c, { GraphArn = graph })
    c:close()
    done = done + 1
    P.progress(done, #to_accept, "accepting invitations")
    if not ok2 then error({ stage = "accept", role = arn, err = e }, 0) end
    return true
  end, { concurrency = concurrency })
  for i, account in ipairs(to_accept) do
    local e = errs[i]
    if e == nil then
      accepted[#accepted + 1] = account
    elseif type(e) == "table" and e.stage == "assume" then
      accept_error[account] = "cannot assume " .. e.role .. ": " .. P.describe_error(e.err)
    elseif type(e) == "table" and e.stage == "accept" then
      accept_error[account] = "AcceptInvitation as " .. e.role .. " failed: " .. P.describe_error(e.err)
    else
      accept_error[account] = P.describe_error(e)
    end
    if e ~= nil then log.warn("%s: %s", account, accept_error[account]) end
  end
  log.info("accepted in %d of %d account(s)", #accepted, #to_accept)
end

-- --- 5. wait for ENABLED ----------------------------------------------------------------

local pending = {}
if #accepted > 0 or #to_invite > 0 then
  state = member_map(detective:get_members_all{ GraphArn = graph, AccountIds = ids }.MemberDetails)
end
for _, a in ipairs(accounts) do
  local m = state[a.AccountId]
  if m and not accept_error[a.AccountId] and (m.Status == "VERIFICATION_IN_PROGRESS"
      or (m.Status == "INVITED" and m.InvitationType ~= "ORGANIZATION" and #accepted > 0)) then
    pending[#pending + 1] = a.AccountId
  end
end
if #pending > 0 then
  log.info("waiting up to %s s for %d account(s) to be ENABLED", tostring(timeout_s), #pending)
  local ok, e = pcall(detective.wait_members, detective, { GraphArn = graph, AccountIds = pending, ["until"] = "ENABLED" },
    { timeout_s = timeout_s })
  if not ok then log.warn("%s", P.describe_error(e)) end
end

-- --- 6. report --------------------------------------------------------------------------

local final = detective:get_members_all{ GraphArn = graph, AccountIds = ids }
state = member_map(final.MemberDetails)
for _, u in ipairs(final.UnprocessedAccounts or {}) do
  if not unprocessed[u.AccountId] then unprocessed[u.AccountId] = u.Reason end
end

local rows, report, stragglers, enabled = {}, {}, {}, 0
for _, a in ipairs(accounts) do
  local id = a.AccountId
  local m = state[id]
  local status = m and m.Status or "NOT_A_MEMBER"
  local reason
  if status == "ENABLED" then
    enabled = enabled + 1
  elseif accept_error[id] then
    reason = accept_error[id]
  elseif not m then
    reason = unprocessed[id] or "not a member of the graph"
  elseif status == "VERIFICATION_FAILED" then
    reason = "the email address " .. tostring(m.EmailAddress or a.EmailAddress) .. " is not the account's root email"
  elseif status == "ACCEPTED_BUT_DISABLED" then
    reason = P.disabled_reason(m)
  else
    reason = "still " .. status .. " at the deadline"
  end
  if unprocessed[id] and m and status ~= "ENABLED" and not accept_error[id] then
    reason = unprocessed[id] .. "; " .. reason
  end
  if status ~= "ENABLED" then stragglers[#stragglers + 1] = id end
  rows[#rows + 1] = { account = id, email = a.EmailAddress, status = status, reason = reason }
  report[#report + 1] = { account_id = id, email = a.EmailAddress, status = status,
    disabled_reason = m and m.DisabledReason, invitation_type = m and m.InvitationType,
    reason = reason, ok = status == "ENABLED" }
end

if format == "table" then
  P.print_table(rows, { { "account", "ACCOUNT" }, { "email", "EMAIL" }, { "status", "STATUS" }, { "reason", "REASON" } })
  io.stdout:write(string.format("\n%d of %d account(s) ENABLED in %s; %d straggler(s)\n", enabled, #accounts, graph,
    #stragglers))
end
emit{ playbook = NAME, dry_run = false, graph_arn = graph, create_graph = created_graph, region = region,
  total = #accounts, enabled = enabled, stragglers = stragglers, accounts = report }
if #stragglers > 0 then P.exit(1) end
