-- member-health.lua: across Regions, which member accounts of the caller's Detective
-- behavior graphs are not ENABLED, and why.
--
-- What it reads (nothing is changed): per Region, ListGraphs, then ListMembers (all pages)
-- of each graph. A Region where the caller has no graph is reported as NO_GRAPH; a Region
-- whose calls fail (no access, unreachable endpoint) as ERROR with the error, and the audit
-- goes on with the other Regions. Regions are read concurrently (aws.map).
--
-- Arguments
--   --regions=R1,R2,...   Regions to audit (default: the Region of the default clients)
--   --format=table|csv|json  output (default table); json prints one JSON line per row (emit)
--   --all                 list ENABLED members too
--
-- Rows (columns / JSON keys): region, graph_arn, account_id, status, disabled_reason,
-- invitation_type, updated_time, reason. Besides member rows:
--   status NO_GRAPH     the caller administers no graph in the Region (account_id empty)
--   status ALL_ENABLED  a graph whose members are all ENABLED (reason gives the count)
--   status ERROR        the Region could not be read (reason: the error)
-- The table shows the graph's id (the last part of its ARN); CSV and JSON the whole ARN.
-- Exit status: 0 (the report is the result, whatever it finds); 2 bad arguments.
--
-- Example
--   detlua run --profile security scripts/audits/member-health.lua --regions=us-east-1,eu-west-1
--   detlua run --local scripts/audits/member-health.lua --format=csv > members.csv
local P = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/playbook.lua")
local NAME = "member-health"

local format, all, regions = P.audit_args(NAME)

local WHY = {
  INVITED = "invitation sent, not accepted yet",
  VERIFICATION_IN_PROGRESS = "Detective is still verifying the account",
  VERIFICATION_FAILED = "the email address is not the account's root email: no invitation was sent "
    .. "(invite it again with the right email)",
  VOLUME_UNKNOWN = "Detective cannot see the account's data volume: it has not been a GuardDuty customer "
    .. "for 48 hours (re-checked hourly; StartMonitoringMember retries at once)",
  VOLUME_TOO_HIGH = "enabling the account would take the graph's data volume over the quota",
}

local function audit_region(region)
  local c = aws.client("detective", { region = region })
  local graphs, rows = P.audit_graphs(c, region, "status")
  for _, graph in ipairs(graphs) do
    local n, enabled, listed = 0, 0, 0
    for m in c:each("list_members", { GraphArn = graph }) do
      n = n + 1
      if m.Status == "ENABLED" then enabled = enabled + 1 end
      if all or m.Status ~= "ENABLED" then
        listed = listed + 1
        rows[#rows + 1] = { region = region, graph_arn = graph, account_id = m.AccountId, status = m.Status,
          disabled_reason = m.DisabledReason, invitation_type = m.InvitationType, updated_time = m.UpdatedTime,
          reason = WHY[m.DisabledReason or m.Status] }
      end
    end
    if listed == 0 then
      rows[#rows + 1] = { region = region, graph_arn = graph, status = "ALL_ENABLED",
        reason = n == 0 and "no member accounts" or string.format("%d member(s), all ENABLED", n) }
    end
    log.info("%s: %s: %d member(s), %d ENABLED", region, graph, n, enabled)
  end
  c:close()
  return rows
end

local rows = P.audit_regions(regions, audit_region, "status")

if format == "table" then
  P.print_table(rows, { { "region", "REGION" }, { "graph_id", "GRAPH" }, { "account_id", "ACCOUNT" },
    { "status", "STATUS" }, { "disabled_reason", "DISABLED REASON" }, { "updated_time", "SINCE" }, { "reason", "WHY" } })
else
  for _, r in ipairs(rows) do r.graph_id = nil end
  P.print_rows(format, rows, { { "region" }, { "graph_arn" }, { "account_id" }, { "status" }, { "disabled_reason" },
    { "invitation_type" }, { "updated_time" }, { "reason" } })
end
