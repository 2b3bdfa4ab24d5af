-- detlua.session: the globals a playbook or the REPL sees, and their set-up from the
-- host options (--region, --profile, --endpoint-url, --debug, --local ...).
local M = {}

function M.start(opts)
  local ok, aws = pcall(require, "aws")
  if ok then
    _G.aws = aws
    if aws.configure_defaults then aws.configure_defaults(opts) end
  end
  return { opts = opts }
end

function M.stop(env)
  local aws = rawget(_G, "aws")
  if aws and aws.shutdown then aws.shutdown() end
end

return M
