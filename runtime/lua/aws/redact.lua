-- aws.redact: the one redaction function every output path uses (--debug wire log,
-- error messages, REPL echo, audit log, `detlua call`). It knows three things:
--   * header names that carry secrets (Authorization, X-Amz-Security-Token, ...);
--   * fields the service model marks sensitive (replaced when a shape is given);
--   * secret strings registered at run time (every resolved secret key and session
--     token), which are scrubbed from any free text.
-- It never decides what to log; callers pass what they want shown.
local M = {}

M.MARK = "<redacted>"

local SECRET_HEADERS = {
  authorization = true, ["x-amz-security-token"] = true, ["proxy-authorization"] = true,
  ["x-amz-sso_bearer_token"] = true,
  ["x-aws-ec2-metadata-token"] = true, cookie = true, ["set-cookie"] = true,
}
-- Keys that hold secrets wherever they appear in a table (credentials tables, STS results).
local SECRET_KEYS = {
  secret_access_key = true, session_token = true, SecretAccessKey = true, SessionToken = true,
  aws_secret_access_key = true, aws_session_token = true, signing_key = true, Token = true,
  WebIdentityToken = true, authorization_token = true,
}

local registered = {} -- secret string -> true
local registered_list = {}

-- Remembers a secret so that redact.text scrubs it. Short strings are ignored: they
-- would redact ordinary words and are not credentials anyway.
function M.register(secret)
  if type(secret) == "string" and #secret >= 8 and not registered[secret] then
    registered[secret] = true
    registered_list[#registered_list + 1] = secret
    table.sort(registered_list, function(a, b) return #a > #b end)
  end
end

local function escape_pattern(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- Scrubs registered secrets and signature-shaped material from free text.
function M.text(s)
  if type(s) ~= "string" then return s end
  for _, secret in ipairs(registered_list) do
    if s:find(secret, 1, true) then s = s:gsub(escape_pattern(secret), M.MARK) end
  end
  -- Authorization header values and presigned signatures, wherever they were pasted.
  s = s:gsub("(Signature=)%x+", "%1" .. M.MARK)
  s = s:gsub("([Xx]%-[Aa]mz%-[Ss]ignature=)%x+", "%1" .. M.MARK)
  s = s:gsub("([Xx]%-[Aa]mz%-[Ss]ecurity%-[Tt]oken=)[^&%s\"]+", "%1" .. M.MARK)
  return s
end

function M.header(name, value)
  if SECRET_HEADERS[name:lower()] then return M.MARK end
  return M.text(value)
end

-- headers: list of {name, value} or map name -> value; returns a redacted copy.
function M.headers(h)
  local out = {}
  if h[1] ~= nil then
    for i, p in ipairs(h) do out[i] = { p[1], M.header(p[1], p[2]) } end
  else
    for k, v in pairs(h) do out[k] = M.header(k, v) end
  end
  return out
end

-- Deep copy of a value with secrets removed. With a model (service table from
-- aws.core.model) and a shape name, members whose shape is sensitive are replaced.
local function walk(v, svc, shape_name, depth)
  if depth > 64 then return "<too deep>" end
  local shape = svc and shape_name and svc.shapes[shape_name]
  if shape and shape.sensitive then return M.MARK end
  local t = type(v)
  if t == "string" then return M.text(v) end
  if t ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if type(k) == "string" and SECRET_KEYS[k] then
      out[k] = M.MARK
    else
      local sub
      if shape then
        if shape.type == "structure" and shape.member_index and type(k) == "string" then
          local m = shape.members[shape.member_index[k] or 0]
          sub = m and m.shape
        elseif shape.type == "list" then
          sub = shape.member
        elseif shape.type == "map" then
          sub = shape.value
        end
      end
      out[k] = walk(x, svc, sub, depth + 1)
    end
  end
  return out
end

function M.value(v, svc, shape_name)
  return walk(v, svc, shape_name, 0)
end

return M
