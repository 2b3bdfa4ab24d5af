-- datasource-coverage.lua: across Regions, which Detective data source packages are not
-- ingesting, for each behavior graph of the caller and for each of its ENABLED members.
--
-- What it reads (nothing is changed), per Region: ListGraphs; per graph,
-- ListDatasourcePackages (the graph's own package states and when each was entered),
-- ListMembers (the ENABLED members' DatasourcePackageIngestStates) and
-- BatchGetGraphMemberDatasources (in chunks of 200: when each member entered each state).
-- Members that are not ENABLED ingest nothing at all; member-health.lua reports those. A
-- Region where the caller has no graph is reported as NO_GRAPH, one whose calls fail as
-- ERROR (and the audit goes on). Regions are read concurrently (aws.map).
--
-- Arguments
--   --regions=R1,R2,...   Regions to audit (default: the Region of the default clients)
--   --format=table|csv|json  output (default table); json prints one JSON line per row (emit)
--   --all                 list STARTED packages too
--
-- Rows (columns / JSON keys): region, graph_arn, scope ("graph" or "member"), account_id
-- (the graph's administrator for scope graph), package, state (STARTED, STOPPED, DISABLED;
-- MISSING when the graph has a package the member has no state for), since (when the
-- package entered that state, if known), reason. Besides package rows:
--   status rows with state NO_GRAPH, ALL_STARTED (every package of the graph and of its
--   ENABLED members is STARTED; reason gives the counts) or ERROR (reason: the error).
-- The table shows the graph's id (the last part of its ARN); CSV and JSON the whole ARN.
-- Exit status: 0 (the report is the result); 2 bad arguments.
--
-- Example
--   detlua run --profile security scripts/audits/datasource-coverage.lua --regions=us-east-1,eu-west-1
--   detlua run --local scripts/audits/datasource-coverage.lua --format=json --all
local P = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/playbook.lua")
local NAME = "datasource-coverage"

local KNOWN = { regions = true, format = true, all = true }
for k in pairs(args) do
  if type(k) == "string" and not KNOWN[k] then P.usage(NAME, "unknown argument --" .. k:gsub("_", "-")) end
end
P.need_values(NAME, { "regions", "format" })
if args[1] then P.usage(NAME, "unexpected argument " .. tostring(args[1])) end
local format = args.format or "table"
if format ~= "table" and format ~= "csv" and format ~= "json" then P.usage(NAME, "--format: expected table, csv or json") end
local all = P.flag(args.all)
if all == nil then P.usage(NAME, "--all is a flag") end
if args.regions ~= nil and type(args.regions) ~= "string" then P.usage(NAME, "--regions: expected R1,R2,...") end
local regions = args.regions and P.list(args.regions) or { P.region() }
if #regions == 0 then P.usage(NAME, "--regions: expected R1,R2,...") end
for _, r in ipairs(regions) do
  if not r:match("^[a-z][a-z]+%-[a-z0-9%-]*%d$") then P.usage(NAME, "--regions: \"" .. r .. "\" is not a Region name") end
end

local WHY = {
  STOPPED = "ingest stopped (UpdateDatasourcePackages starts it again)",
  DISABLED = "package disabled: no data is ingested",
  MISSING = "the graph has this package but the member reports no state for it",
}

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function audit_region(region)
  local rows = {}
  local c = aws.client("detective", { region = region })
  local graphs = {}
  for g in c:each("list_graphs", {}) do graphs[#graphs + 1] = g.Arn end
  if #graphs == 0 then
    rows[1] = { region = region, state = "NO_GRAPH",
      reason = "no behavior graph: Detective is not enabled for this account in this Region" }
  end
  for _, graph in ipairs(graphs) do
    local admin = graph:match(":(%d+):graph:")
    local listed, checked, not_started = 0, 0, 0
    local function add(row)
      checked = checked + 1
      if row.state ~= "STARTED" then not_started = not_started + 1 end
      if all or row.state ~= "STARTED" then
        listed = listed + 1
        row.reason = WHY[row.state]
        rows[#rows + 1] = row
      end
    end
    -- the graph's own packages
    local packages = {}
    for page in c:pages("list_datasource_packages", { GraphArn = graph }) do
      for pkg, d in pairs(page.DatasourcePackages or {}) do packages[pkg] = d end
    end
    for _, pkg in ipairs(sorted_keys(packages)) do
      local d = packages[pkg]
      local state = d.DatasourcePackageIngestState
      local since = d.LastIngestStateChange and d.LastIngestStateChange[state]
      add{ region = region, graph_arn = graph, scope = "graph", account_id = admin, package = pkg, state = state,
        since = since and since.Timestamp }
    end
    -- the ENABLED members' packages
    local members, ids = {}, {}
    for m in c:each("list_members", { GraphArn = graph }) do
      if m.Status == "ENABLED" then
        members[#members + 1] = m
        ids[#ids + 1] = m.AccountId
      end
    end
    local history = {}
    if #ids > 0 then
      local r = c:batch_get_graph_member_datasources_all{ GraphArn = graph, AccountIds = ids }
      for _, md in ipairs(r.MemberDatasources or {}) do history[md.AccountId] = md.DatasourcePackageIngestHistory or {} end
    end
    for _, m in ipairs(members) do
      local states = m.DatasourcePackageIngestStates or {}
      local seen = {}
      for _, pkg in ipairs(sorted_keys(states)) do
        seen[pkg] = true
        local state = states[pkg]
        local h = history[m.AccountId] and history[m.AccountId][pkg]
        local since = h and h[state]
        add{ region = region, graph_arn = graph, scope = "member", account_id = m.AccountId, package = pkg,
          state = state, since = since and since.Timestamp }
      end
      for _, pkg in ipairs(sorted_keys(packages)) do
        if not seen[pkg] then
          add{ region = region, graph_arn = graph, scope = "member", account_id = m.AccountId, package = pkg, state = "MISSING" }
        end
      end
    end
    if not_started == 0 and listed == 0 then
      rows[#rows + 1] = { region = region, graph_arn = graph, state = "ALL_STARTED",
        reason = string.format("%d package(s) of the graph and of %d ENABLED member(s), all STARTED", checked, #members) }
    end
    log.info("%s: %s: %d package state(s) checked, %d not STARTED", region, graph, checked, not_started)
  end
  c:close()
  return rows
end

local results, errs = P.map(regions, audit_region, { concurrency = math.min(#regions, 16) })
local rows = {}
for i, region in ipairs(regions) do
  if errs[i] ~= nil then
    log.warn("%s: %s", region, P.describe_error(errs[i]))
    rows[#rows + 1] = { region = region, state = "ERROR", reason = P.describe_error(errs[i]) }
  else
    for _, r in ipairs(results[i] or {}) do rows[#rows + 1] = r end
  end
end
for _, r in ipairs(rows) do r.graph_id = r.graph_arn and r.graph_arn:match("graph:(%x+)$") or r.graph_arn end

if format == "table" then
  P.print_table(rows, { { "region", "REGION" }, { "graph_id", "GRAPH" }, { "scope", "SCOPE" }, { "account_id", "ACCOUNT" },
    { "package", "PACKAGE" }, { "state", "STATE" }, { "since", "SINCE" }, { "reason", "WHY" } })
else
  for _, r in ipairs(rows) do r.graph_id = nil end
  P.print_rows(format, rows, { { "region" }, { "graph_arn" }, { "scope" }, { "account_id" }, { "package" }, { "state" },
    { "since" }, { "reason" } })
end
