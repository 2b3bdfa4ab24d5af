-- aws.detective: clients for Amazon Detective, for scripts that prefer one module per service.
--   local detective = require("aws.detective").new{ region = "us-east-1" }   -- or require("aws.detective"){...}
-- Same clients as aws.client("detective", opts): every operation, paging and signing come from
-- the aws module; this file only names the service.
local aws = require("aws")

local M = { service = "detective" }

function M.new(opts)
  return aws.client("detective", opts)
end

return setmetatable(M, {
  __call = function(_, opts) return aws.client("detective", opts) end,
})
