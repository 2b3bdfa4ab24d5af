-- aws.errors: the aws.Error type raised for service, transport and credential failures.
-- Caller mistakes (bad parameters) are NOT aws.Error: they raise plain strings naming
-- the parameter path, before any I/O. Messages pass through aws.redact before they are
-- stored, so an error can be printed anywhere.
local redact = require("aws.redact")

local M = {}

local Error = { __name = "aws.Error" }
Error.__index = Error
M.Error = Error

-- Error codes that mean "slow down" in AWS's standard retry mode.
local THROTTLING = {
  Throttling = true, ThrottlingException = true, ThrottledException = true,
  RequestThrottledException = true, TooManyRequestsException = true,
  ProvisionedThroughputExceededException = true, TransactionInProgressException = true,
  RequestLimitExceeded = true, BandwidthLimitExceeded = true, LimitExceededException = true,
  RequestThrottled = true, SlowDown = true, PriorRequestNotComplete = true,
  EC2ThrottledException = true,
}
-- Transient server-side codes (standard mode).
local TRANSIENT = {
  RequestTimeout = true, RequestTimeoutException = true, InternalServerException = true,
  InternalServerErrorException = true, InternalError = true, ServiceUnavailable = true,
  ServiceUnavailableException = true,
}
local TRANSIENT_STATUS = { [500] = true, [502] = true, [503] = true, [504] = true }

M.THROTTLING = THROTTLING

-- Classifies a service error for the retry policy: "throttling", "transient" or nil.
function M.classify(code, status)
  if THROTTLING[code] or status == 429 then return "throttling" end
  if TRANSIENT[code] or TRANSIENT_STATUS[status] then return "transient" end
  return nil
end

-- t: {kind, code, message, status, request_id, operation, service_id, retryable, fields, attempts}
function M.new(t)
  t.kind = t.kind or "service"
  t.message = redact.text(t.message or "")
  t.fields = t.fields or {}
  if t.retryable == nil then
    if t.kind == "service" then
      t.retryable = M.classify(t.code, t.status) ~= nil
    else
      t.retryable = false
    end
  end
  return setmetatable(t, Error)
end

function M.is_error(x)
  return getmetatable(x) == Error
end

-- Raises an aws.Error of kind "credentials", what the credential sources fail with; extra:
-- more of its fields (status, request_id, fields).
function M.raise_credentials(code, message, extra)
  local t = { kind = "credentials", code = code, message = message }
  for k, v in pairs(extra or {}) do t[k] = v end
  error(M.new(t), 0)
end

function Error:__tostring()
  local where = self.operation or "aws"
  local detail
  if self.kind == "service" then
    detail = "HTTP " .. tostring(self.status or "?")
    if self.request_id then detail = detail .. ", request " .. self.request_id end
  else
    detail = self.kind
  end
  if self.attempts and self.attempts > 1 then
    detail = detail .. ", " .. self.attempts .. " attempts"
  end
  local s = string.format("%s: %s (%s)", where, tostring(self.code), detail)
  if self.message ~= "" then s = s .. ": " .. self.message end
  return s
end

return M
