-- tests/lib/secrets.lua: the credentials in an emulator scenario table, as the specs use
-- them: keys per account (to build clients), every secret key (to search outputs for), the
-- assertion that an output holds none, and credential tables in the client's form.
-- It does not derive signing keys (secret_hygiene_spec does, for its own search).
local M = {}

-- {[account id] = {access_key_id, secret_access_key}} for the accounts that have keys.
function M.keys_by_account(sc)
  local keys = {}
  for _, a in ipairs(sc.accounts or {}) do
    if a.access_key_id then keys[a.id] = { access_key_id = a.access_key_id, secret_access_key = a.secret_access_key } end
  end
  return keys
end

-- Every secret access key of the scenario: the accounts' and their extra keys'.
function M.secret_keys(sc)
  local out = {}
  for _, a in ipairs(sc.accounts or {}) do
    if a.secret_access_key then out[#out + 1] = a.secret_access_key end
    for _, k in ipairs(a.keys or {}) do out[#out + 1] = k.secret_access_key end
  end
  return out
end

-- Fails when text holds a secret key of sc or a SigV4 signature; with also.authorization,
-- an Authorization header value too; with also.field_names, the names SessionToken and
-- SecretAccessKey (output that shows credential fields at all). what names the text.
function M.assert_no_secrets(text, sc, what, also)
  what = what or "output"
  also = also or {}
  for _, s in ipairs(M.secret_keys(sc)) do
    assert(not text:find(s, 1, true), what .. " contains a secret key")
  end
  assert(not text:find("Signature=%x"), what .. " contains a signature")
  if also.authorization then
    assert(not text:find("AWS4%-HMAC%-SHA256 Credential="), what .. " contains an Authorization value")
  end
  if also.field_names then
    assert(not text:find("SessionToken", 1, true), what .. " names a session token")
    assert(not text:find("SecretAccessKey", 1, true), what .. " names a secret key")
  end
end

-- A credentials table of the client's form from one that may carry more (an emulator's
-- admin_credentials() has the account too).
function M.plain(c)
  return { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key, session_token = c.session_token }
end

-- The client's form of STS's Credentials structure (AssumeRole and friends).
function M.from_sts(c)
  return { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey, session_token = c.SessionToken }
end

return M
