-- aws.guardduty: clients for Amazon GuardDuty, for scripts that prefer one module per service.
--   local guardduty = require("aws.guardduty").new{ region = "us-east-1" }   -- or require("aws.guardduty"){...}
-- Same clients as aws.client("guardduty", opts): every operation, paging and signing come from
-- the aws module; this file only names the service.
local aws = require("aws")

local M = { service = "guardduty" }

function M.new(opts)
  return aws.client("guardduty", opts)
end

return setmetatable(M, {
  __call = function(_, opts) return aws.client("guardduty", opts) end,
})
