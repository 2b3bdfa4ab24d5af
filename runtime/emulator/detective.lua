-- Detective emulator service module: maps each of the 29 Detective operations to the module that
-- implements it, and the fixture hooks reachable at POST /_emulator/detective/<action>. Inputs
-- arrive already validated against the model by the router (required members, types, enums,
-- lengths, patterns), so the modules implement semantics only: who may call, state checks,
-- quotas, not-found and conflicts. State lives in world.data.detective; see detective_store.
local E = require "detlua.emulator.errors"
local datasources = require "detlua.emulator.detective_datasources"
local graphs = require "detlua.emulator.detective_graphs"
local investigations = require "detlua.emulator.detective_investigations"
local membership = require "detlua.emulator.detective_membership"
local org = require "detlua.emulator.detective_org"
local seed = require "detlua.emulator.detective_seed"
local store = require "detlua.emulator.detective_store"
local tags = require "detlua.emulator.detective_tags"

local S = {}

local OPERATIONS = {
    CreateGraph = graphs, DeleteGraph = graphs, ListGraphs = graphs,
    CreateMembers = membership, GetMembers = membership, ListMembers = membership,
    DeleteMembers = membership, StartMonitoringMember = membership, ListInvitations = membership,
    AcceptInvitation = membership, RejectInvitation = membership, DisassociateMembership = membership,
    EnableOrganizationAdminAccount = org, DisableOrganizationAdminAccount = org,
    ListOrganizationAdminAccounts = org, DescribeOrganizationConfiguration = org,
    UpdateOrganizationConfiguration = org,
    ListDatasourcePackages = datasources, UpdateDatasourcePackages = datasources,
    BatchGetGraphMemberDatasources = datasources, BatchGetMembershipDatasources = datasources,
    StartInvestigation = investigations, GetInvestigation = investigations,
    ListInvestigations = investigations, UpdateInvestigationState = investigations,
    ListIndicators = investigations,
    TagResource = tags, UntagResource = tags, ListTagsForResource = tags,
}
S.OPERATIONS = OPERATIONS

local ADMIN_ACTIONS = {
    add_organization_account = org.add_organization_account,
    remove_organization_account = org.remove_organization_account,
    set_package_state = datasources.set_package_state,
}

-- Checks the scenario's "detective" section (pre-existing graphs) at start-up, so a mistake
-- there is reported before any request.
function S.new(world)
    seed.validate(world.scenario and world.scenario.detective)
    return setmetatable({ world = world }, { __index = S })
end

-- Returns the output table (model member names; timestamps as epoch seconds) or nil for
-- operations without output.
function S:handle(ctx, op, input)
    local mod = OPERATIONS[op]
    if not mod then
        E.raise("InternalServerException", "The Detective emulator does not implement operation " .. tostring(op) .. ".")
    end
    seed.apply(self.world, ctx)
    return mod[op](self, ctx, input or {})
end

-- Fixture hooks (JSON body -> JSON answer):
--   add_organization_account {account_id}     the account joins the organization (auto-enable applies)
--   remove_organization_account {account_id}  the account leaves the organization
--   set_package_state {graph_arn, package, state, account_id?}  what the console's stop/start does
--   dump {}                                   world.data.detective, for debugging
function S:admin(ctx, action, body)
    seed.apply(self.world, ctx)
    if action == "dump" then return store.copy(store.root(self.world)) end
    local fn = ADMIN_ACTIONS[action]
    if not fn then
        E.raise("ResourceNotFoundException", "Unknown Detective emulator action " .. tostring(action) .. ".",
            nil, { status = 404 })
    end
    return fn(self, ctx, body or {})
end

return S
