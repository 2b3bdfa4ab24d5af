-- investigate-finding.lua: from a GuardDuty finding to a Detective investigation of the IAM
-- principal behind it, and a readable incident summary.
--
-- What it does
--   1. Picks the finding: --finding=ID, or else the newest current (unarchived) finding with
--      severity >= --min-severity (ListFindings sorted by updatedAt, then severity).
--   2. Finds the principal in resource.accessKeyDetails: an IAMUser becomes
--      arn:<partition>:iam::<account>:user/<userName>, an AssumedRole/Role becomes
--      ...:role/<userName>. Root and federated users cannot be investigated by Detective;
--      pass --entity=ARN to investigate someone else.
--   3. Finds the behavior graph (ListGraphs, or --graph=ARN) and starts an investigation over
--      [first seen - window, last seen + window], the end clamped to now.
--   4. Waits for it, lists every indicator (all pages), lists the principal's other
--      GuardDuty findings, prints the summary and emits it as one JSON line.
--   5. Optionally archives the finding (--archive, after a confirmation unless --yes) and
--      sets the investigation's state (--state=ARCHIVED once reviewed).
--
-- Arguments (all optional)
--   --finding=ID         GuardDuty finding id (default: the newest high-severity finding)
--   --min-severity=N     threshold for picking the finding (default 7 = High)
--   --entity=ARN         investigate this IAM user/role ARN instead of the finding's principal
--   --graph=ARN          behavior graph (default: the caller's graph from ListGraphs)
--   --create-graph       create a graph when the caller has none (the default under --local,
--                        whose built-in scenario starts without one; off against AWS)
--   --window=24h         how far before the first and after the last sighting to look
--   --timeout=15m        how long to wait for the investigation
--   --json               print only the JSON line (no human summary)
--   --archive            archive the finding in GuardDuty (asks first; --yes answers)
--   --state=ARCHIVED     set the investigation's state afterwards (ACTIVE or ARCHIVED)
--   host options: --yes (answers the --archive question), --dry-run (reads GuardDuty and
--   Detective, prints the investigation it would start, and stops: {playbook, dry_run,
--   finding, entity, graph_arn, create_graph, scope_start, scope_end, archive, state})
--
-- Output: the summary on stdout (unless --json), then one JSON line (emit) with the keys
-- playbook, finding, entity, graph_arn, investigation, indicators (ttps, impossible_travel,
-- flagged_ips, new_geolocations, new_asos, new_user_agents, related_findings,
-- related_finding_groups), indicator_count, principal_findings, actions. Progress goes to
-- stderr. Exit status 0; 1 when the investigation FAILED or a call failed; 2 for bad
-- arguments.
--
-- Example
--   detlua run --local scripts/playbooks/investigate-finding.lua
--   detlua run --region us-east-1 --yes scripts/playbooks/investigate-finding.lua \
--       --finding=4ec6ea5b2f3d1a9c8e7b6d5f4a3c2b1e --window=12h --archive --state=ARCHIVED
local P = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/playbook.lua")
local NAME = "investigate-finding"

-- --- arguments ------------------------------------------------------------------------

local KNOWN = { finding = true, min_severity = true, entity = true, graph = true, create_graph = true,
  window = true, timeout = true, json = true, archive = true, state = true }
for k in pairs(args) do
  if type(k) == "string" and not KNOWN[k] then P.usage(NAME, "unknown argument --" .. k:gsub("_", "-")) end
end
if args[1] then P.usage(NAME, "unexpected argument " .. tostring(args[1]) .. " (use --finding=ID)") end

P.need_values(NAME, { "finding", "entity", "graph", "window", "timeout", "state", "min_severity" })
local min_severity = tonumber(args.min_severity or "7")
if not min_severity or min_severity < 0 or min_severity > 10 then
  P.usage(NAME, "--min-severity: expected a number from 0 to 10")
end
local window, werr = P.duration(args.window or "24h")
if not window then P.usage(NAME, "--window: " .. werr) end
local timeout_s, terr = P.duration(args.timeout or "15m")
if not timeout_s then P.usage(NAME, "--timeout: " .. terr) end
local json_only = P.flag(args.json)
local archive = P.flag(args.archive)
if json_only == nil or archive == nil then P.usage(NAME, "--json and --archive are flags") end
local new_state = args.state
if new_state ~= nil and new_state ~= "ACTIVE" and new_state ~= "ARCHIVED" then
  P.usage(NAME, "--state: expected ACTIVE or ARCHIVED")
end
local create_graph = P.flag(args.create_graph)
if create_graph == nil then P.usage(NAME, "--create-graph is a flag") end
if args.create_graph == nil then create_graph = aws.emulator ~= nil end
local function iam_entity(a)
  return type(a) == "string" and a:match("^arn:[%w%-]+:iam::%d+:") and (a:match(":user/.") or a:match(":role/.")) and true
end
if args.entity ~= nil and not iam_entity(args.entity) then
  P.usage(NAME, "--entity: expected an IAM user or role ARN (arn:aws:iam::<account>:user/<name> or :role/<name>)")
end

-- --- helpers --------------------------------------------------------------------------

local time = aws.time

local function sev_label(s)
  s = tonumber(s) or 0
  if s >= 9 then return "Critical" elseif s >= 7 then return "High" elseif s >= 4 then return "Medium" end
  return "Low"
end

local function iso(t) return t and time.format(t) or nil end

-- The IAM principal of a finding, as an ARN Detective can investigate.
local function principal_of(f)
  local ak = f.Resource and f.Resource.AccessKeyDetails
  local rtype = f.Resource and f.Resource.ResourceType or "?"
  if not ak or not ak.UserName or ak.UserName == "" then
    return nil, "the finding (resource type " .. rtype .. ") names no IAM principal in "
      .. "resource.accessKeyDetails; pass --entity=ARN"
  end
  local kind
  if ak.UserType == "IAMUser" then kind = "user"
  elseif ak.UserType == "AssumedRole" or ak.UserType == "Role" then kind = "role"
  elseif ak.UserType == "Root" then
    return nil, "the principal is the account's root user, which Detective cannot investigate "
      .. "(IAM users and roles only); pass --entity=ARN"
  else
    return nil, "principal type " .. tostring(ak.UserType) .. " (" .. ak.UserName .. ") cannot be "
      .. "investigated by Detective (IAM users and roles only); pass --entity=ARN"
  end
  local partition = f.Partition or P.partition(f.Region)
  return string.format("arn:%s:iam::%s:%s/%s", partition, f.AccountId, kind, ak.UserName)
end

-- --- 1. the finding -------------------------------------------------------------------

local detector = guardduty:list_detectors{}.DetectorIds[1]
if not detector then
  P.fail(NAME, "GuardDuty has no detector in " .. P.region() .. " for this account: nothing to investigate")
end

local finding
if args.finding then
  finding = guardduty:get_findings{ DetectorId = detector, FindingIds = { args.finding } }.Findings[1]
  if not finding then
    P.fail(NAME, "GuardDuty finding " .. args.finding .. " was not found by detector " .. detector .. " in " .. P.region())
  end
else
  -- The newest current finding at or above the threshold: ListFindings can sort by one
  -- attribute only, so the first page sorted by updatedAt is re-sorted here with severity
  -- breaking ties.
  local page = guardduty:list_findings{ DetectorId = detector, MaxResults = 50,
    FindingCriteria = { Criterion = {
      severity = { GreaterThanOrEqual = math.floor(min_severity) },
      ["service.archived"] = { Equals = { "false" } } } },
    SortCriteria = { AttributeName = "updatedAt", OrderBy = "DESC" } }
  local found = {}
  if #page.FindingIds > 0 then
    found = guardduty:get_findings{ DetectorId = detector, FindingIds = page.FindingIds }.Findings
  end
  local candidates = {}
  for _, f in ipairs(found) do
    if (tonumber(f.Severity) or 0) >= min_severity then candidates[#candidates + 1] = f end
  end
  table.sort(candidates, function(a, b)
    local ta, tb = time.parse(a.UpdatedAt) or 0, time.parse(b.UpdatedAt) or 0
    if ta ~= tb then return ta > tb end
    return (tonumber(a.Severity) or 0) > (tonumber(b.Severity) or 0)
  end)
  finding = candidates[1]
  if not finding then
    log.info("no current GuardDuty finding with severity >= %s in %s: nothing to investigate", tostring(min_severity), P.region())
    local out = { playbook = NAME, finding = false, message = "no current finding with severity >= " .. tostring(min_severity) }
    if not json_only then io.stdout:write(out.message, "\n") end
    emit(out)
    return
  end
end
log.info("finding %s: %s (severity %s)", finding.Id, finding.Type, tostring(finding.Severity))

local svc = finding.Service or {}
local first_seen = time.parse(svc.EventFirstSeen or finding.CreatedAt)
local last_seen = time.parse(svc.EventLastSeen or finding.UpdatedAt) or first_seen

-- --- 2. the principal -----------------------------------------------------------------

local entity = args.entity
if not entity then
  local why
  entity, why = principal_of(finding)
  if not entity then P.fail(NAME, "finding " .. finding.Id .. ": " .. why) end
end
local entity_type = entity:match(":user/") and "IAM_USER" or "IAM_ROLE"
log.info("principal: %s", entity)

-- --- 3. graph and investigation --------------------------------------------------------

local graph = args.graph
if not graph then
  local g = detective:list_graphs{}.GraphList[1]
  graph = g and g.Arn
end
if not graph then
  if not create_graph then
    P.fail(NAME, "Detective is not enabled in " .. P.region() .. " for this account (ListGraphs is empty); "
      .. "enable it or pass --create-graph")
  end
  local created = detective:create_graph{}
  if not P.dry_run() then
    graph = created.GraphArn
    log.warn("no behavior graph in %s: created %s", P.region(), tostring(graph))
  end
end

local now = time.now()
local scope_start = math.floor((first_seen or now) - window)
local scope_end = math.min(math.ceil((last_seen or now) + window), math.floor(now))
if scope_start >= scope_end then
  P.fail(NAME, string.format("the investigation window is empty (%s .. %s)", iso(scope_start), iso(scope_end)))
end

if P.dry_run() then
  -- Nothing below can run without starting the investigation: report the plan.
  local plan = { playbook = NAME, dry_run = true, graph_arn = graph, create_graph = graph == nil,
    finding = { id = finding.Id, type = finding.Type, severity = finding.Severity },
    entity = { arn = entity, type = entity_type }, scope_start = iso(scope_start), scope_end = iso(scope_end),
    archive = archive, state = new_state }
  if not json_only then
    io.stdout:write(string.format("[dry-run] would investigate %s (finding %s) in %s over %s .. %s\n", entity,
      finding.Id, graph or "a new behavior graph", plan.scope_start, plan.scope_end))
  end
  emit(plan)
  return
end

local started = detective:start_investigation{ GraphArn = graph, EntityArn = entity,
  ScopeStartTime = scope_start, ScopeEndTime = scope_end }
local inv_id = started.InvestigationId
log.info("investigation %s started over %s .. %s; waiting", tostring(inv_id), iso(scope_start), iso(scope_end))

local ok, inv = pcall(detective.wait_investigation, detective,
  { GraphArn = graph, InvestigationId = inv_id }, { timeout_s = timeout_s })
local failed
if not ok then
  local e = inv
  if aws.is_error(e) and e.kind == "waiter" and type(e.last) == "table" then
    failed = P.describe_error(e)
    inv = e.last
  else
    error(e, 0)
  end
end

-- --- 4. indicators --------------------------------------------------------------------

local ind = { ttps = {}, impossible_travel = {}, flagged_ips = {}, new_geolocations = {}, new_asos = {},
  new_user_agents = {}, related_findings = {}, related_finding_groups = {} }
local count = 0
if inv.Status == "SUCCESSFUL" then
  for item in detective:each("list_indicators", { GraphArn = graph, InvestigationId = inv_id }) do
    count = count + 1
    local d = item.IndicatorDetail or {}
    local t = item.IndicatorType
    if t == "TTP_OBSERVED" and d.TTPsObservedDetail then
      local x = d.TTPsObservedDetail
      table.insert(ind.ttps, { tactic = x.Tactic, technique = x.Technique, procedure = x.Procedure,
        api_name = x.APIName, ip_address = x.IpAddress, api_success_count = x.APISuccessCount,
        api_failure_count = x.APIFailureCount })
    elseif t == "IMPOSSIBLE_TRAVEL" and d.ImpossibleTravelDetail then
      local x = d.ImpossibleTravelDetail
      table.insert(ind.impossible_travel, { starting_ip_address = x.StartingIpAddress,
        ending_ip_address = x.EndingIpAddress, starting_location = x.StartingLocation,
        ending_location = x.EndingLocation, hourly_time_delta = x.HourlyTimeDelta })
    elseif t == "FLAGGED_IP_ADDRESS" and d.FlaggedIpAddressDetail then
      local x = d.FlaggedIpAddressDetail
      table.insert(ind.flagged_ips, { ip_address = x.IpAddress, reason = x.Reason })
    elseif t == "NEW_GEOLOCATION" and d.NewGeolocationDetail then
      local x = d.NewGeolocationDetail
      table.insert(ind.new_geolocations, { location = x.Location, ip_address = x.IpAddress,
        new_for_entire_account = x.IsNewForEntireAccount })
    elseif t == "NEW_ASO" and d.NewAsoDetail then
      local x = d.NewAsoDetail
      table.insert(ind.new_asos, { aso = x.Aso, new_for_entire_account = x.IsNewForEntireAccount })
    elseif t == "NEW_USER_AGENT" and d.NewUserAgentDetail then
      local x = d.NewUserAgentDetail
      table.insert(ind.new_user_agents, { user_agent = x.UserAgent, new_for_entire_account = x.IsNewForEntireAccount })
    elseif t == "RELATED_FINDING" and d.RelatedFindingDetail then
      local x = d.RelatedFindingDetail
      table.insert(ind.related_findings, { arn = x.Arn, type = x.Type, ip_address = x.IpAddress })
    elseif t == "RELATED_FINDING_GROUP" and d.RelatedFindingGroupDetail then
      table.insert(ind.related_finding_groups, { id = d.RelatedFindingGroupDetail.Id })
    end
  end
end

-- The principal's other current GuardDuty findings (by account and user name).
local principal_findings = {}
do
  local user = entity:match("[:/]([^/:]+)$")
  local acct = entity:match("^arn:[^:]+:iam::(%d+):")
  local ids = {}
  for id in guardduty:each("list_findings", { DetectorId = detector, FindingCriteria = { Criterion = {
      accountId = { Equals = { acct } },
      ["resource.accessKeyDetails.userName"] = { Equals = { user } },
      ["service.archived"] = { Equals = { "false" } } } } }, { max_items = 200 }) do
    if id ~= finding.Id then ids[#ids + 1] = id end
  end
  for first = 1, #ids, 50 do
    local chunk = table.move(ids, first, math.min(#ids, first + 49), 1, {})
    for _, f in ipairs(guardduty:get_findings{ DetectorId = detector, FindingIds = chunk }.Findings) do
      principal_findings[#principal_findings + 1] = { id = f.Id, type = f.Type, severity = f.Severity,
        updated_at = f.UpdatedAt }
    end
  end
end

-- --- 5. actions -----------------------------------------------------------------------

local actions = { archived_finding = false, investigation_state = inv.State }
if archive then
  if confirm("Archive GuardDuty finding " .. finding.Id .. " (" .. finding.Type .. ")?") then
    guardduty:archive_findings{ DetectorId = detector, FindingIds = { finding.Id } }
    actions.archived_finding = not P.dry_run()
    log.info("archived finding %s", finding.Id)
  else
    log.warn("finding %s left unarchived (not confirmed)", finding.Id)
  end
end
if new_state and not failed then
  detective:update_investigation_state{ GraphArn = graph, InvestigationId = inv_id, State = new_state }
  if not P.dry_run() then actions.investigation_state = new_state end
  log.info("investigation %s is now %s", tostring(inv_id), new_state)
end

-- --- 6. report ------------------------------------------------------------------------

local summary = {
  playbook = NAME,
  finding = {
    id = finding.Id, arn = finding.Arn, type = finding.Type, title = finding.Title,
    severity = finding.Severity, severity_label = sev_label(finding.Severity),
    account_id = finding.AccountId, region = finding.Region,
    first_seen = iso(first_seen), last_seen = iso(last_seen), count = svc.Count,
  },
  entity = { arn = entity, type = entity_type },
  graph_arn = graph,
  investigation = {
    id = inv_id, status = inv.Status, severity = inv.Severity, state = actions.investigation_state,
    scope_start = iso(scope_start), scope_end = iso(scope_end), created = inv.CreatedTime,
    error = failed,
  },
  indicators = ind,
  indicator_count = count,
  principal_findings = principal_findings,
  actions = actions,
}

local function yesno(b) return b and "new for the whole account" or "new for this principal" end

if not json_only then
  local out = {}
  local function say(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  local function section(title, list, fmt)
    say("")
    say("%s (%d)", title, #list)
    if #list == 0 then say("  none") end
    for _, x in ipairs(list) do say("  %s", fmt(x)) end
  end
  local s = summary
  say("Incident summary: GuardDuty finding %s", s.finding.id)
  say("  Finding        %s", s.finding.type)
  say("  Title          %s", tostring(s.finding.title))
  say("  Severity       %s (%s)", tostring(s.finding.severity), s.finding.severity_label)
  say("  Account        %s in %s", tostring(s.finding.account_id), tostring(s.finding.region))
  say("  Seen           %s .. %s (%s times)", tostring(s.finding.first_seen), tostring(s.finding.last_seen), tostring(s.finding.count or 1))
  say("  Principal      %s (%s)", entity, entity_type)
  say("  Graph          %s", graph)
  say("  Investigation  %s: %s, severity %s, state %s", tostring(inv_id), tostring(inv.Status),
    tostring(inv.Severity or "-"), tostring(actions.investigation_state))
  say("  Scope          %s .. %s", s.investigation.scope_start, s.investigation.scope_end)
  if failed then say("  Problem        %s", failed) end
  section("Tactics, techniques and procedures", ind.ttps, function(x)
    return string.format("%s / %s / %s: %s from %s (%s succeeded, %s failed)", tostring(x.tactic),
      tostring(x.technique), tostring(x.procedure), tostring(x.api_name), tostring(x.ip_address),
      tostring(x.api_success_count or 0), tostring(x.api_failure_count or 0))
  end)
  section("Impossible travel", ind.impossible_travel, function(x)
    return string.format("%s (%s) -> %s (%s) within %s h", tostring(x.starting_location),
      tostring(x.starting_ip_address), tostring(x.ending_location), tostring(x.ending_ip_address),
      tostring(x.hourly_time_delta))
  end)
  section("Flagged IP addresses", ind.flagged_ips, function(x)
    return string.format("%s (%s)", tostring(x.ip_address), tostring(x.reason))
  end)
  section("New geolocations", ind.new_geolocations, function(x)
    return string.format("%s from %s (%s)", tostring(x.location), tostring(x.ip_address), yesno(x.new_for_entire_account))
  end)
  section("New AS organizations", ind.new_asos, function(x)
    return string.format("%s (%s)", tostring(x.aso), yesno(x.new_for_entire_account))
  end)
  section("New user agents", ind.new_user_agents, function(x)
    return string.format("%s (%s)", tostring(x.user_agent), yesno(x.new_for_entire_account))
  end)
  section("Related findings", ind.related_findings, function(x)
    return string.format("%s from %s: %s", tostring(x.type), tostring(x.ip_address or "-"), tostring(x.arn))
  end)
  section("Related finding groups", ind.related_finding_groups, function(x) return tostring(x.id) end)
  section("Other current GuardDuty findings for this principal", principal_findings, function(x)
    return string.format("%s (severity %s, updated %s) %s", tostring(x.type), tostring(x.severity),
      tostring(x.updated_at), tostring(x.id))
  end)
  say("")
  say("Actions: finding %s; investigation state %s", actions.archived_finding and "archived" or "left as it was",
    tostring(actions.investigation_state))
  io.stdout:write(table.concat(out, "\n"), "\n")
end
emit(summary)
if failed then
  log.error("%s", failed)
  P.exit(1)
end
