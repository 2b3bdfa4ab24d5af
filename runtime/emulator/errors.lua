-- detlua.emulator.errors: how emulator code says "answer with this AWS error".
-- E.raise throws an error object that the router turns into the wire response (status from
-- the service model's error shape unless given, x-amzn-ErrorType, body members, or the
-- query-protocol XML envelope for STS). It does not encode anything itself and knows no
-- service; any other thrown value is treated by the router as an internal error (500).
local M = {}

local Error = { __name = "detlua.emulator.Error" }
Error.__index = Error
function Error.__tostring(e)
    return string.format("%s: %s", e.code, e.message)
end

-- code: the error shape name ("ValidationException") or, for errors outside the model,
--       the AWS code (then opts.status is required).
-- message: the human text (Message / message member).
-- fields: modeled extra members by model name ({ErrorCode = "INVALID_GRAPH_ARN"}).
-- opts: {status = HTTP status, type = finer body __type (GuardDuty), headers = {{name, value}}}
function M.raise(code, message, fields, opts)
    if type(code) ~= "string" or code == "" then
        error("errors.raise: code: expected a non-empty string", 2)
    end
    opts = opts or {}
    if opts.status ~= nil and (math.type(opts.status) ~= "integer" or opts.status < 400 or opts.status > 599) then
        error("errors.raise: opts.status: expected an integer 400-599", 2)
    end
    error(setmetatable({
        code = code,
        message = message ~= nil and tostring(message) or code,
        fields = fields,
        status = opts.status,
        type = opts.type,
        headers = opts.headers,
    }, Error), 0)
end

function M.is_error(x)
    return getmetatable(x) == Error
end

-- For the router: builds an error object without throwing.
function M.new(code, message, fields, opts)
    local ok, e = pcall(M.raise, code, message, fields, opts)
    assert(not ok)
    if not M.is_error(e) then error(e, 2) end
    return e
end

return M
