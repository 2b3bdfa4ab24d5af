-- Detective emulator: what an investigation finds. Looks up the scenario's investigations fixture
-- for the entity (outcome, severity, indicators) and otherwise produces the default result chosen
-- by the default_investigation setting: "generated" (a small deterministic set of plausible
-- low-severity indicators derived from the entity ARN, using documentation-only IP ranges and
-- AS numbers so nothing looks like real data) or "empty" (INFORMATIONAL, no indicators). It does
-- not store anything; detective_investigations records the result when the run completes.
local paging = require "detlua.emulator.detective_paging"
local store = require "detlua.emulator.detective_store"

local M = {}

-- IndicatorType -> IndicatorDetail member (pairing by name, as the reference's table gives it).
M.DETAIL_MEMBER = {
    TTP_OBSERVED = "TTPsObservedDetail",
    IMPOSSIBLE_TRAVEL = "ImpossibleTravelDetail",
    FLAGGED_IP_ADDRESS = "FlaggedIpAddressDetail",
    NEW_GEOLOCATION = "NewGeolocationDetail",
    NEW_ASO = "NewAsoDetail",
    NEW_USER_AGENT = "NewUserAgentDetail",
    RELATED_FINDING = "RelatedFindingDetail",
    RELATED_FINDING_GROUP = "RelatedFindingGroupDetail",
}

local function field(t, ...)
    for _, k in ipairs({ ... }) do
        if t[k] ~= nil then return t[k] end
    end
    return nil
end

-- The fixture entry for `entity_arn`: scenario.investigations is a list of entries with
-- entity_arn (or EntityArn), or a map keyed by entity ARN.
function M.fixture(world, entity_arn)
    local fx = world.scenario and world.scenario.investigations
    if type(fx) ~= "table" then return nil end
    if fx[entity_arn] and type(fx[entity_arn]) == "table" then return fx[entity_arn] end
    for _, e in ipairs(fx) do
        if type(e) == "table" and field(e, "entity_arn", "EntityArn") == entity_arn then return e end
    end
    return nil
end

-- Copies fixture indicators into the stored form; an entry may give IndicatorDetail directly or
-- just the detail fields (then wrapped under the member that matches IndicatorType).
local function copy_indicators(list)
    local out = {}
    for _, ind in ipairs(list or {}) do
        local kind = field(ind, "IndicatorType", "indicator_type", "type")
        local detail = field(ind, "IndicatorDetail", "indicator_detail")
        if detail == nil and M.DETAIL_MEMBER[kind] then
            detail = { [M.DETAIL_MEMBER[kind]] = field(ind, "detail", "Detail") or {} }
        end
        out[#out + 1] = { IndicatorType = kind, IndicatorDetail = store.copy(detail or {}) }
    end
    return out
end

local LOCATIONS = { "Lisbon, PT", "Osaka, JP", "Nairobi, KE", "Montreal, CA", "Santiago, CL", "Warsaw, PL" }
local USER_AGENTS = {
    "aws-cli/2.9.19 Python/3.9.11 Linux/5.15.0 exe/x86_64.ubuntu.22",
    "Boto3/1.26.27 Python/3.10.6 Linux/5.15.0 Botocore/1.29.27",
    "aws-sdk-go-v2/1.17.3 os/linux lang/go/1.19.4 md/GOOS/linux",
}

-- Deterministic plausible indicators for an entity with no fixture: a new geolocation, a new
-- user agent, a new autonomous-system organization and an observed discovery TTP, all from the
-- same (documentation-range) address. Severity LOW.
local function generated(entity_arn)
    local h = tonumber(paging.fnv64(entity_arn):sub(1, 8), 16)
    local ip = string.format("203.0.113.%d", 1 + h % 254)
    local loc = LOCATIONS[1 + (h >> 8) % #LOCATIONS]
    local ua = USER_AGENTS[1 + (h >> 12) % #USER_AGENTS]
    local asn = 64496 + (h >> 16) % 16
    return "LOW", {
        { IndicatorType = "NEW_GEOLOCATION",
          IndicatorDetail = { NewGeolocationDetail = { Location = loc, IpAddress = ip, IsNewForEntireAccount = false } } },
        { IndicatorType = "NEW_USER_AGENT",
          IndicatorDetail = { NewUserAgentDetail = { UserAgent = ua, IsNewForEntireAccount = false } } },
        { IndicatorType = "NEW_ASO",
          IndicatorDetail = { NewAsoDetail = { Aso = "AS" .. asn .. " Example Networks", IsNewForEntireAccount = true } } },
        { IndicatorType = "TTP_OBSERVED",
          IndicatorDetail = { TTPsObservedDetail = {
              Tactic = "Discovery", Technique = "Cloud Infrastructure Discovery",
              Procedure = "Enumerated EC2 instances with DescribeInstances", IpAddress = ip,
              APIName = "DescribeInstances", APISuccessCount = 3 + (h >> 20) % 20, APIFailureCount = (h >> 24) % 3 } } },
    }
end

-- Outcome of an investigation of `entity_arn`: status ("SUCCESSFUL" | "FAILED"), severity (nil
-- when FAILED), indicators (sequence).
function M.outcome(world, entity_arn)
    local fx = M.fixture(world, entity_arn)
    if fx then
        local status = field(fx, "status", "Status") or "SUCCESSFUL"
        if status == "FAILED" then return "FAILED", nil, {} end
        local indicators = copy_indicators(field(fx, "indicators", "Indicators"))
        return "SUCCESSFUL", field(fx, "severity", "Severity") or "INFORMATIONAL", indicators
    end
    if store.setting(world, "default_investigation", "generated") == "empty" then
        return "SUCCESSFUL", "INFORMATIONAL", {}
    end
    local sev, list = generated(entity_arn)
    return "SUCCESSFUL", sev, list
end

return M
