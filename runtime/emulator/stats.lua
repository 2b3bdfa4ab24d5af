-- detlua.emulator.stats: request counters for GET /_emulator/stats, so a test can compare
-- what a client reports (attempts in its audit log) with what reached the emulator.
-- Counts API requests by "service.Operation" (every request whose operation could be
-- told, signed or not, faulted or not), the status each got ("reset" when the connection
-- was closed without an answer) and the faults injected. Fixture hooks are not counted.
-- It keeps counters only; the router decides what to count.
local M = {}

local Stats = {}
Stats.__index = Stats

function M.new()
    local self = setmetatable({}, Stats)
    self:reset()
    return self
end

function Stats:reset()
    self.ops = {}
    self.requests = 0
    self.unrouted = 0
    self.faults = 0
end

local function entry(self, key)
    local e = self.ops[key]
    if not e then
        e = { requests = 0, statuses = {}, faults = {} }
        self.ops[key] = e
    end
    return e
end

-- key: "detective.ListMembers" or nil (a request whose operation is unknown).
-- outcome: the HTTP status sent, or "reset". fault: the fault name injected, or nil.
function Stats:record(key, outcome, fault)
    self.requests = self.requests + 1
    if not key then
        self.unrouted = self.unrouted + 1
        return
    end
    local e = entry(self, key)
    e.requests = e.requests + 1
    local o = tostring(outcome)
    e.statuses[o] = (e.statuses[o] or 0) + 1
    if fault then
        e.faults[fault] = (e.faults[fault] or 0) + 1
        self.faults = self.faults + 1
    end
end

-- {requests, unrouted, faults, operations = {key = {requests, statuses, faults}}}
function Stats:snapshot()
    local ops = {}
    for k, e in pairs(self.ops) do
        local st, fa = {}, {}
        for s, n in pairs(e.statuses) do st[s] = n end
        for f, n in pairs(e.faults) do fa[f] = n end
        ops[k] = { requests = e.requests, statuses = st, faults = fa }
    end
    return { requests = self.requests, unrouted = self.unrouted, faults = self.faults, operations = ops }
end

return M
