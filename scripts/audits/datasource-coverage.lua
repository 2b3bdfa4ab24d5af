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

local format, all, regions = P.audit_args(NAME)

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
  local c = aws.client("detective", { region = region })
  local graphs, rows = P.audit_graphs(c, region, "state")
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

local rows = P.audit_regions(regions, audit_region, "state")

if format == "table" then
  P.print_table(rows, { { "region", "REGION" }, { "graph_id", "GRAPH" }, { "scope", "SCOPE" }, { "account_id", "ACCOUNT" },
    { "package", "PACKAGE" }, { "state", "STATE" }, { "since", "SINCE" }, { "reason", "WHY" } })
else
  for _, r in ipairs(rows) do r.graph_id = nil end
  P.print_rows(format, rows, { { "region" }, { "graph_arn" }, { "scope" }, { "account_id" }, { "package" }, { "state" },
    { "since" }, { "reason" } })
end
