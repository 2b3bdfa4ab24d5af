-- enable-organization.lua: make an account the organization's Detective administrator in
-- this Region, turn on auto-enable, and enable the organization accounts that exist already.
--
-- What it does
--   1. As the organization's management account (--management-role=ARN to assume, or the
--      current credentials), checks ListOrganizationAdminAccounts and, unless the chosen
--      account already is the Region's Detective administrator, calls
--      EnableOrganizationAdminAccount for it. Detective then creates that account's graph
--      (or makes its existing graph the organization behavior graph). A Region that already
--      has another administrator is an error: AWS wants the same one in every Region.
--   2. As the administrator (--admin-role=ARN, or the current credentials), finds the
--      organization graph and sets AutoEnable (UpdateOrganizationConfiguration) so that
--      accounts joining the organization later are enabled automatically.
--   3. Enables the organization accounts that exist already: CreateMembers for every listed
--      account that is not yet a member (no invitation: organization accounts are enabled
--      directly), then reports each one's status: ENABLED, or ACCEPTED_BUT_DISABLED with its
--      reason, or an account outside the organization (invited instead; accept it with
--      onboard-members.lua).
--
-- Which accounts: Detective has no API that lists an organization's accounts. Give them with
-- --csv=FILE (AccountId,EmailAddress, e.g. from `aws organizations list-accounts`; AWS
-- documents the email as optional for organization accounts but the service model requires
-- it, so detlua sends it). Under --local, without --csv, the emulator scenario's organization
-- accounts are used. Without either, only steps 1 and 2 run (later accounts are still
-- enabled by auto-enable).
--
-- Arguments
--   --admin-account=ID      the account to designate (default: the administrator credentials'
--                           own account)
--   --management-role=ARN   role in the management account to assume for step 1
--   --admin-role=ARN        role in the administrator account to assume for steps 2 and 3
--   --csv=FILE              existing organization accounts to enable
--   --auto-enable=BOOL      true (default) or false
--   --timeout=DURATION      longest wait for the accounts' verification (default 5m)
--   --format=table|json     table (default) prints the report and one JSON line; json only the line
--   host options: --dry-run (reads and plans, changes nothing), --region
--
-- Output: a table ACCOUNT, TYPE, STATUS, REASON, then one JSON line (emit): {playbook,
-- region, admin_account, designated ("now" | "already" | "planned"), graph_arn, auto_enable,
-- total, enabled, stragglers = [ids], accounts = [{account_id, status, invitation_type,
-- disabled_reason, reason, ok}], dry_run}.
-- Exit status: 0 every listed account ENABLED (or a dry run); 1 some are not, or a call
-- failed; 2 bad arguments or CSV rows.
--
-- Example
--   detlua run --profile security --region us-east-1 scripts/playbooks/enable-organization.lua \
--       --management-role=arn:aws:iam::999988887777:role/OrganizationAccountAccessRole \
--       --csv=org-accounts.csv
local P = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/playbook.lua")
local NAME = "enable-organization"

local KNOWN = { admin_account = true, management_role = true, admin_role = true, csv = true,
  auto_enable = true, timeout = true, format = true }
for k in pairs(args) do
  if type(k) == "string" and not KNOWN[k] then P.usage(NAME, "unknown argument --" .. k:gsub("_", "-")) end
end
P.need_values(NAME, { "admin_account", "management_role", "admin_role", "csv", "auto_enable", "timeout", "format" })
if args[1] then P.usage(NAME, "unexpected argument " .. tostring(args[1])) end
local function role_arg(name)
  local v = args[name]
  if v ~= nil and (type(v) ~= "string" or not v:match("^arn:[%w%-]+:iam::%d%d%d%d%d%d%d%d%d%d%d%d:role/.")) then
    P.usage(NAME, "--" .. name:gsub("_", "-") .. ": expected a role ARN (arn:aws:iam::<account>:role/<name>)")
  end
  return v
end
local management_role = role_arg("management_role")
local admin_role = role_arg("admin_role")
if args.admin_account ~= nil and (type(args.admin_account) ~= "string" or not args.admin_account:match("^%d%d%d%d%d%d%d%d%d%d%d%d$")) then
  P.usage(NAME, "--admin-account: expected a 12-digit account id")
end
local auto_enable = P.flag(args.auto_enable == nil and "true" or args.auto_enable)
if auto_enable == nil then P.usage(NAME, "--auto-enable: expected true or false") end
local timeout_s, terr = P.duration(args.timeout or "5m")
if not timeout_s then P.usage(NAME, "--timeout: " .. terr) end
local format = args.format or "table"
if format ~= "table" and format ~= "json" then P.usage(NAME, "--format: expected table or json") end
if args.csv ~= nil and type(args.csv) ~= "string" then P.usage(NAME, "--csv: expected a file name (--csv=FILE)") end
local dry = P.dry_run()
local region = P.region()

-- The accounts, checked before anything is sent.
local accounts
if args.csv then
  accounts = P.accounts_csv_or_exit(NAME, args.csv)
end

-- --- clients ------------------------------------------------------------------------------

local mgmt = management_role and P.assume_client("detective", management_role, region, "detlua-enable-org") or detective
local admin = admin_role and P.assume_client("detective", admin_role, region, "detlua-enable-org") or detective
local admin_account = args.admin_account
  or (admin_role and admin_role:match(":iam::(%d+):"))
  or sts:get_caller_identity{}.Account

if not accounts and aws.emulator then
  local sc = aws.emulator:scenario()
  local emails = {}
  for _, a in ipairs(sc.accounts or {}) do emails[a.id] = a.email end
  accounts = {}
  for _, id in ipairs(sc.organization and sc.organization.members or {}) do
    if id ~= admin_account then accounts[#accounts + 1] = { AccountId = id, EmailAddress = emails[id] } end
  end
end
accounts = accounts or {}

local result = { playbook = NAME, region = region, admin_account = admin_account, dry_run = dry }

-- --- 1. designate the administrator -------------------------------------------------------

local current
local ok, err = pcall(function()
  for a in mgmt:each("list_organization_admin_accounts", {}) do current = current or a end
end)
if not ok then
  if aws.is_error(err) and (err.code == "AccessDeniedException" or err.code == "ValidationException") then
    P.fail(NAME, P.describe_error(err) .. (management_role and "" or
      " (run this as the organization's management account, or pass --management-role=ARN)"))
  end
  error(err, 0)
end
if current and current.AccountId == admin_account then
  result.designated = "already"
  log.info("%s already is the Detective administrator in %s", admin_account, region)
elseif current then
  P.fail(NAME, "the organization's Detective administrator in " .. region .. " is already " .. tostring(current.AccountId)
    .. "; AWS expects the same administrator in every Region (DisableOrganizationAdminAccount first to change it)")
else
  mgmt:enable_organization_admin_account{ AccountId = admin_account }
  result.designated = dry and "planned" or "now"
  log.info("%s %s as the Detective administrator in %s", dry and "[dry-run] would designate" or "designated",
    admin_account, region)
end

-- --- 2. auto-enable -----------------------------------------------------------------------

local graph = admin:list_graphs{}.GraphList[1]
graph = graph and graph.Arn
result.graph_arn = graph
if graph then
  local cfg = admin:describe_organization_configuration{ GraphArn = graph }
  if (cfg.AutoEnable and true or false) ~= auto_enable then
    admin:update_organization_configuration{ GraphArn = graph, AutoEnable = auto_enable }
    log.info("%s AutoEnable to %s on %s", dry and "[dry-run] would set" or "set", tostring(auto_enable), graph)
  end
  result.auto_enable = (not dry) and auto_enable or (cfg.AutoEnable and true or false)
elseif not dry then
  P.fail(NAME, "no behavior graph for " .. admin_account .. " in " .. region .. " after EnableOrganizationAdminAccount")
end

-- --- 3. existing accounts -----------------------------------------------------------------

local ids = {}
for i, a in ipairs(accounts) do ids[i] = a.AccountId end
local state, unprocessed = {}, {}
local function read_state()
  local by = {}
  if graph and #ids > 0 then
    local r = admin:get_members_all{ GraphArn = graph, AccountIds = ids }
    for _, m in ipairs(r.MemberDetails or {}) do by[m.AccountId] = m end
  end
  return by
end
state = read_state()
local to_enable = {}
for _, a in ipairs(accounts) do
  local m = state[a.AccountId]
  if not m or m.Status == "VERIFICATION_FAILED" then
    to_enable[#to_enable + 1] = { AccountId = a.AccountId, EmailAddress = a.EmailAddress }
  end
end
if #to_enable > 0 and (graph or dry) then
  if dry and not graph then
    log.info("[dry-run] would enable %d organization account(s) in the new organization graph", #to_enable)
  else
    local r = admin:create_members_all({ GraphArn = graph, Accounts = to_enable },
      { progress = function(d, t) P.progress(d, t, "enabling accounts") end })
    for _, u in ipairs(r.UnprocessedAccounts or {}) do unprocessed[u.AccountId] = u.Reason end
    local created = {}
    for _, m in ipairs(r.Members or {}) do created[#created + 1] = m.AccountId end
    if #created > 0 and not dry then
      pcall(admin.wait_members, admin, { GraphArn = graph, AccountIds = created, ["until"] = "verified" },
        { timeout_s = timeout_s, delay_s = 1 })
    end
    state = read_state()
  end
end

local rows, report, stragglers, enabled = {}, {}, {}, 0
for _, a in ipairs(accounts) do
  local id = a.AccountId
  local m = state[id]
  local status = m and m.Status or (dry and "PLANNED" or "NOT_A_MEMBER")
  local reason
  if status == "ENABLED" then
    enabled = enabled + 1
  elseif status == "PLANNED" then
    reason = "would be enabled (CreateMembers)"
  elseif not m then
    reason = unprocessed[id] or "not a member of the graph"
  elseif status == "ACCEPTED_BUT_DISABLED" then
    reason = P.disabled_reason(m)
  elseif m.InvitationType == "INVITATION" then
    reason = "not in the organization: invited instead (" .. status .. "); accept it with onboard-members.lua"
  elseif status == "VERIFICATION_FAILED" then
    reason = "Detective could not verify that the account belongs to the organization"
  else
    reason = "still " .. status .. " at the deadline"
  end
  if status ~= "ENABLED" and status ~= "PLANNED" then stragglers[#stragglers + 1] = id end
  rows[#rows + 1] = { account = id, type = m and m.InvitationType, status = status, reason = reason }
  report[#report + 1] = { account_id = id, status = status, invitation_type = m and m.InvitationType,
    disabled_reason = m and m.DisabledReason, reason = reason, ok = status == "ENABLED" }
end
result.total, result.enabled, result.stragglers, result.accounts = #accounts, enabled, stragglers, report

if format == "table" then
  io.stdout:write(string.format("Detective administrator in %s: %s (%s)\n", region, admin_account, result.designated))
  io.stdout:write(string.format("Organization graph: %s; AutoEnable %s\n", tostring(graph or "(to be created)"),
    tostring(result.auto_enable)))
  if #accounts == 0 then
    io.stdout:write("No existing accounts listed (give them with --csv); new organization accounts will be enabled"
      .. " automatically when AutoEnable is on.\n")
  else
    io.stdout:write("\n")
    P.print_table(rows, { { "account", "ACCOUNT" }, { "type", "TYPE" }, { "status", "STATUS" }, { "reason", "REASON" } })
    io.stdout:write(string.format("\n%d of %d account(s) ENABLED\n", enabled, #accounts))
  end
end
emit(result)
if #stragglers > 0 and not dry then P.exit(1) end
