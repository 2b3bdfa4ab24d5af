-- aws.credentials.env: the first source of the chain, keys in the environment
-- (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION),
-- read by aws.core.config (C). A file of its own so that a client can take this common
-- case without loading the rest of the chain (aws.credentials); the chain's first step
-- is this same function. An explicit profile skips it, as in botocore.
local config = require("aws.core.config")

local M = {}

-- env: a table standing for the process environment (tests), or nil for the real one.
-- Returns nil when the environment holds no keys (the chain goes on), else the
-- credentials, or false and a message when the keys there are incomplete or invalid.
function M.fetch(env, profile)
  if type(profile) == "string" and profile ~= "" then return nil end
  local function get(k)
    local v
    if env then v = env[k] else v = os.getenv(k) end
    return v ~= "" and v or nil
  end
  if not (get("AWS_ACCESS_KEY_ID") or get("AWS_SECRET_ACCESS_KEY")) then return nil end
  local c, err = config.credentials{ env = env }
  if not c then return false, err end
  return c
end

return M
