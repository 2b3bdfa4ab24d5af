-- aws.sts: clients for AWS Security Token Service, for scripts that prefer one module per service.
--   local sts = require("aws.sts").new{ region = "us-east-1" }   -- or require("aws.sts"){...}
-- Same clients as aws.client("sts", opts): every operation, paging and signing come from
-- the aws module; this file only names the service.
local aws = require("aws")

local M = { service = "sts" }

function M.new(opts)
  return aws.client("sts", opts)
end

return setmetatable(M, {
  __call = function(_, opts) return aws.client("sts", opts) end,
})
