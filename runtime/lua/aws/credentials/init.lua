-- aws.credentials: the default credential chain past the environment and static keys,
-- the cache of temporary credentials with refresh, and aws.assume_role sessions.
--
-- Chain (botocore's create_credential_resolver order; docs/credentials.md):
--   environment keys -> role_arn of the profile (source_profile / credential_source, role
--   chains) -> web identity (environment, then profile) -> IAM Identity Center (SSO: the
--   profile's sso_account_id/sso_role_name with a token cached by `aws sso login`) -> keys
--   in the credentials file -> credential_process -> keys in the config file -> container
--   credentials -> EC2 instance metadata.
-- Environment and static keys are read by aws.core.config (C) on every resolution; this
-- file only decides when to ask it. Each other source is a file of its own
-- (aws.credentials.process, assume_role, web_identity, sso, container, imds) that fetches once;
-- here each is wrapped in a Provider that caches what it fetched and refreshes it before
-- it expires, one refresh at a time even when many aws.map tasks need it at once.
-- Errors are aws.Error kind="credentials" and never carry a secret.
local config = require("aws.core.config")
local host = require("aws.core.host")
local protocol = require("aws.core.protocol")
local errors = require("aws.errors")
local redact = require("aws.redact")
local time = require("aws.time")
-- Each source's module is loaded when the chain first reaches it: keys in the environment
-- (the common case in scripts and CI) need none of them.
local function lazy(name)
  return setmetatable({}, { __index = function(t, k)
    local mod = require(name)
    setmetatable(t, { __index = mod })
    return mod[k]
  end })
end
local env_source = require("aws.credentials.env")
local process = lazy("aws.credentials.process")
local assume = lazy("aws.credentials.assume_role")
local web_identity = lazy("aws.credentials.web_identity")
local sso = lazy("aws.credentials.sso")
local container = lazy("aws.credentials.container")
local imds = lazy("aws.credentials.imds")

local M = {}

-- Refresh windows (botocore's): inside the advisory window one caller tries to refresh and
-- everyone else keeps using the current credentials; inside the mandatory window every
-- caller waits for fresh ones. Both shrink for short-lived credentials (to a half and a
-- third of their lifetime), so 15-minute credentials are not refreshed on every call.
M.ADVISORY_S = 15 * 60
M.MANDATORY_S = 10 * 60
M.WAIT_STEP_S = 0.02      -- how often a waiting task looks again (it yields meanwhile)
M.MAX_WAIT_S = 300        -- a refresh that takes longer than this is considered abandoned

-- Clock and retry sleeps: hooks for tests (a controllable clock instead of sleeping).
local function real_clock() return host.realtime() end
local clock = real_clock
function M.now() return clock() end
function M.set_clock(fn)
  local prev = clock
  clock = fn or real_clock
  return prev
end

local function default_sleep(seconds) return require("aws.client").sleep(seconds) end
local retry_sleep = default_sleep
function M.set_sleep(fn)
  local prev = retry_sleep
  retry_sleep = fn or default_sleep
  return prev
end
local function sleep(seconds) return retry_sleep(seconds) end

function M.warn(msg)
  io.stderr:write("detlua: warning: ", redact.text(msg), "\n")
end

local function fail(code, message, operation)
  error(errors.new{ kind = "credentials", code = code, message = message, operation = operation }, 0)
end

-- Raises err; an aws.Error without an operation gets a copy naming the caller's.
local function raise(err, operation)
  if errors.is_error(err) and operation and not err.operation then
    local copy = {}
    for k, v in pairs(err) do copy[k] = v end
    copy.operation = operation
    err = setmetatable(copy, getmetatable(err))
  end
  error(err, 0)
end

-- --- MFA codes --------------------------------------------------------------------------
-- A role profile with mfa_serial (and aws.assume_role with SerialNumber) needs a one-time
-- code for every AssumeRole, refreshes included: a code cannot be used twice, so it is asked
-- for each time and never kept. The Provider runs one refresh at a time, so however many
-- aws.map tasks need the role there is one prompt per refresh.

-- Reads one line from the controlling terminal (not stdin, which may be a pipe or the
-- playbook's input), with echo off as for a password. -> line | nil, why
local function tty_prompt(text)
  return require("aws.core.host").tty_read(text, false)
end
local prompt = tty_prompt

-- Test hook: fn(text, serial) -> code | nil, why (nil = nobody to ask). Returns the previous one.
function M.set_prompt(fn)
  local prev = prompt
  prompt = fn or tty_prompt
  return prev
end

-- nil when code is a 6-digit MFA code, else what is wrong with it (without quoting it).
local function mfa_code_problem(code)
  if type(code) ~= "string" then return "must be a string of 6 digits, got " .. type(code) end
  if not code:match("^%d%d%d%d%d%d$") then
    return "must be 6 digits, got " .. #code .. " character" .. (#code == 1 and "" or "s")
      .. (code:match("^%d*$") and "" or " that are not all digits")
  end
  return nil
end

-- Asks for a code for the MFA device `serial`. where: the configuration that needs it
-- ("profile \"ops\"", "aws.assume_role"); key: the setting naming the device
-- ("mfa_serial", "SerialNumber"); hint: what to do when there is no terminal. A malformed
-- code is the caller's mistake: a plain message naming the setting, before any request.
local function ask_mfa_code(serial, where, key, hint)
  local code, why = prompt("Enter MFA code for " .. serial .. ": ", serial)
  if code == nil then
    fail("MfaRequired", string.format("%s needs an MFA code for %s %s and none could be read from a terminal (%s); %s",
      where, key, serial, tostring(why or "no terminal"), hint))
  end
  if type(code) == "string" then code = code:match("^%s*(.-)%s*$") end
  local problem = mfa_code_problem(code)
  if problem then
    error(string.format("%s: %s %s: the MFA code %s", where, key, serial, problem), 0)
  end
  return code
end

-- --- Provider: cached credentials with refresh -----------------------------------------

local Provider = { __name = "aws.CredentialsProvider" }
Provider.__index = Provider
M.Provider = Provider

function M.is_provider(x)
  return getmetatable(x) == Provider
end

local function check_credentials(c, label)
  if type(c) ~= "table" or type(c.access_key_id) ~= "string" or c.access_key_id == ""
      or type(c.secret_access_key) ~= "string" or c.secret_access_key == "" then
    fail("NoCredentials", label .. " returned no access key pair")
  end
  if c.expiration ~= nil and type(c.expiration) ~= "number" then
    fail("InvalidConfig", label .. " returned an expiration that is not epoch seconds")
  end
end

-- aws.credentials.provider{fetch = function() -> {access_key_id, secret_access_key,
--   session_token?, expiration? (epoch s), source?}, name = "custom", description = "...",
--   credentials = initial credentials?}
-- Any function becomes a shared, refreshing source usable as aws.client{credentials = p}.
function M.provider(t)
  if type(t) ~= "table" then
    error("aws.credentials.provider: expected a table {fetch = function, ...}, got " .. type(t), 2)
  end
  if t.fetch ~= nil and type(t.fetch) ~= "function" then
    error("aws.credentials.provider: fetch: expected a function, got " .. type(t.fetch), 2)
  end
  if t.fetch == nil and type(t.credentials) ~= "table" then
    error("aws.credentials.provider: fetch: expected a function (or initial credentials)", 2)
  end
  local p = setmetatable({ name = t.name or "custom", description = t.description, fetch = t.fetch,
    gen = 0, fetches = 0, refreshing = false }, Provider)
  if t.credentials then p:_set(t.credentials) end
  return p
end

function Provider:_label()
  return self.description and (self.name .. " " .. self.description) or self.name
end

function Provider:_set(c)
  check_credentials(c, self:_label())
  redact.register(c.secret_access_key)
  redact.register(c.session_token)
  local copy = {}
  for k, v in pairs(c) do copy[k] = v end
  copy.source = copy.source or self.name
  self.creds = copy
  self.obtained = clock()
  self.lifetime = copy.expiration and (copy.expiration - self.obtained) or nil
end

function Provider:_windows()
  local life = self.lifetime or M.ADVISORY_S * 2
  return math.min(M.ADVISORY_S, life / 2), math.min(M.MANDATORY_S, life / 3)
end

-- True when the refresh in progress can no longer finish: its coroutine is dead, it has
-- run too long, or the caller is not an aws.map task (then nothing drives the refresher:
-- the task that started it was abandoned).
function Provider:_stale_lock()
  local co = self.refresher
  if co == coroutine.running() then
    fail("InvalidConfig", "credentials of " .. self:_label() .. " are needed to refresh themselves")
  end
  if not co or coroutine.status(co) == "dead" then return true end
  if host.monotonic_ms() - (self.refresh_started_ms or 0) > M.MAX_WAIT_S * 1000 then return true end
  local conc = package.loaded["aws.concurrency"]
  return not (conc and conc.current_task())
end

function Provider:_refresh(mandatory, operation)
  if not self.fetch then
    fail("ExpiredCredentials", self:_label() .. ": the credentials expired and cannot be refreshed", operation)
  end
  self.refreshing = true
  self.refresher = coroutine.running()
  self.refresh_started_ms = host.monotonic_ms()
  self.fetches = self.fetches + 1
  local ok, res = pcall(self.fetch, self)
  self.refreshing = false
  self.refresher = nil
  self.gen = self.gen + 1
  if ok then
    ok, res = pcall(function()
      check_credentials(res, self:_label())
      if res.expiration and res.expiration <= clock() then
        fail("ExpiredCredentials", self:_label() .. " returned credentials that expired at " .. time.format(res.expiration))
      end
      self:_set(res)
    end)
  end
  if ok then
    self.last_error = nil
    return true
  end
  self.last_error = res
  if mandatory or not self.creds then raise(res, operation) end
  return false -- advisory refresh failed: the current credentials are still good for a while
end

-- The current credentials, fetched or refreshed when needed.
function Provider:get(operation)
  while true do
    local c = self.creds
    if c and not c.expiration then return c end
    local mandatory = true
    if c then
      local left = c.expiration - clock()
      local advisory_s, mandatory_s = self:_windows()
      if left >= advisory_s then return c end
      mandatory = left < mandatory_s
    end
    if self.refreshing and not self:_stale_lock() then
      if not mandatory then return c end
      -- wait for the refresh in progress; inside aws.map tasks the sleep yields
      local gen = self.gen
      local client = require("aws.client")
      while self.refreshing and not self:_stale_lock() do client.sleep(M.WAIT_STEP_S) end
      if self.gen ~= gen then
        if self.last_error then raise(self.last_error, operation) end
        if self.creds then return self.creds end
      end
    else
      self:_refresh(mandatory, operation)
      return self.creds
    end
  end
end
Provider.credentials = Provider.get

function Provider:__tostring()
  local c = self.creds
  local exp = c and c.expiration and (", expires " .. time.format(c.expiration)) or ""
  return string.format("aws.CredentialsProvider(%s%s)", self:_label(), exp)
end

-- --- the chain ------------------------------------------------------------------------

local function make_getenv(env)
  return function(k)
    local v
    if env then v = env[k] else v = os.getenv(k) end
    if v == "" then return nil end
    return v
  end
end
local process_getenv = make_getenv(nil)

local function str(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

local function has_static(p)
  return p.aws_access_key_id ~= nil or p.aws_secret_access_key ~= nil
end

-- botocore's rule: role_arn makes a profile an assume-role profile unless it configures
-- web identity, which then owns the role_arn.
local function has_role(p)
  return p.role_arn ~= nil and p.web_identity_token_file == nil
end

local function searched(ctx, what)
  ctx.searched[#ctx.searched + 1] = what
end

local function no_credentials(ctx, last)
  local list = {}
  for i, s in ipairs(ctx.searched) do list[i] = s end
  if last then list[#list + 1] = last end
  fail("NoCredentials", string.format("no credentials found for profile \"%s\": looked in %s", ctx.top,
    table.concat(list, ", ")), ctx.operation)
end

-- The region STS is called in for this profile: its region settings, else us-east-1 (the
-- global endpoint's region, which is what botocore uses when none is configured).
local function sts_region(ctx)
  if not ctx.region then
    ctx.region = config.region{ profile = ctx.top, env = ctx.env } or "us-east-1"
  end
  return ctx.region
end

local function header(kind, name)
  if kind == "config" and name ~= "default" then return "[profile " .. name .. "]" end
  return "[" .. name .. "]"
end

local function static_provider(ctx, c, refetch)
  local p = M.provider{ name = c.source or "static", credentials = c, fetch = refetch }
  p.static = true
  return p
end

local function process_provider(ctx, name, command)
  if type(command) ~= "string" then
    fail("InvalidConfig", "credential_process of profile \"" .. name .. "\" must be a plain value", ctx.operation)
  end
  return M.provider{ name = "custom-process", description = "(profile \"" .. name .. "\")", fetch = function()
    return process.fetch{ command = command, profile = name, env = ctx.env, now = clock() }
  end }
end

local function web_identity_provider(ctx, t)
  local p = M.provider{ name = "assume-role-with-web-identity", description = t.role_arn .. " (" .. t.where .. ")",
    fetch = function()
      return web_identity.fetch{ role_arn = t.role_arn, session_name = t.session_name, token_file = t.token_file,
        region = sts_region(ctx), profile = ctx.top, env = ctx.env, where = t.where, sleep = sleep }
    end }
  p.role_arn = t.role_arn
  return p
end

-- The SSO settings are checked when the chain is built (a broken profile fails at once);
-- the token is read and the portal asked at each fetch, so a refresh after `aws sso login`
-- picks up the new token.
local function sso_provider(ctx, name, p)
  local s = sso.settings(p, name, ctx.loaded.sso_sessions)
  local top = ctx.profiles[ctx.top] or {}
  return M.provider{ name = "sso", description = string.format("%s/%s (profile \"%s\")", s.account_id, s.role_name,
    name), fetch = function()
      local home = ctx.getenv("HOME")
      if not home then fail("InvalidConfig", "SSO (profile \"" .. name .. "\"): HOME is not set, so the SSO token cache "
        .. "(~/.aws/sso/cache) cannot be found") end
      return sso.fetch{ settings = s, profile = name, home = home, getenv = ctx.getenv, profile_settings = top,
        services = ctx.loaded.services, now = clock() }
    end }
end

local function container_provider(ctx)
  return M.provider{ name = "container-role", fetch = function()
    return container.fetch{ getenv = ctx.getenv, sleep = sleep }
  end }
end

-- in_chain: the last link of the default chain (nothing found = NoCredentials naming
-- everything searched); otherwise a credential_source (nothing found = an error).
local function imds_provider(ctx, profile, in_chain)
  return M.provider{ name = "iam-role", description = "(EC2 instance metadata)", fetch = function(self)
    local off, why = imds.disabled(ctx.getenv, ctx.env and process_getenv)
    local c
    if not off then
      c, why = imds.fetch{ getenv = ctx.getenv, profile = profile, now = clock(), warn = M.warn }
    end
    if c then return c end
    if in_chain and not self.creds then no_credentials(ctx, "EC2 instance metadata (" .. why .. ")") end
    fail("NoCredentials", "EC2 instance metadata: " .. why)
  end }
end

-- Web identity, SSO, the credentials file, credential_process, the config
-- file: botocore's profile providers. use_env: whether AWS_WEB_IDENTITY_TOKEN_FILE and
-- friends count (not for a source_profile, nor when a profile was named explicitly).
local function profile_chain(ctx, name, use_env)
  local p = ctx.profiles[name] or {}
  local function get(key, env_name)
    local v = use_env and ctx.getenv(env_name) or nil
    return v or str(p[key])
  end
  local token_file = get("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE")
  if token_file then
    local from_env = use_env and ctx.getenv("AWS_WEB_IDENTITY_TOKEN_FILE") ~= nil
    local where = from_env and "AWS_WEB_IDENTITY_TOKEN_FILE" or ("profile \"" .. name .. "\"")
    local role_arn = get("role_arn", "AWS_ROLE_ARN")
    if not role_arn then
      fail("InvalidConfig", "web identity (" .. where .. ") has a token file but no role ARN: set role_arn in the profile or AWS_ROLE_ARN",
        ctx.operation)
    end
    return web_identity_provider(ctx, { token_file = token_file, role_arn = role_arn,
      session_name = get("role_session_name", "AWS_ROLE_SESSION_NAME"), where = where })
  end
  searched(ctx, use_env and "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, web_identity_token_file)"
    or ("web identity (web_identity_token_file of profile \"" .. name .. "\")"))
  -- botocore's trigger (checked here so the module loads only for SSO profiles): an account
  -- or a role; sso_start_url or sso_session alone only serve `aws sso login`
  if p.sso_account_id ~= nil or p.sso_role_name ~= nil then
    local ok, prov = pcall(sso_provider, ctx, name, p)
    if not ok then raise(prov, ctx.operation) end
    return prov
  end
  searched(ctx, "SSO (sso_account_id/sso_role_name of profile \"" .. name .. "\")")
  if has_static(p) then
    local c, err = config.credentials{ profile = name, env = ctx.env }
    if not c then fail("InvalidConfig", err, ctx.operation) end
    -- the credentials file comes before credential_process, the config file after it
    if c.source ~= "config-file" or p.credential_process == nil then
      return static_provider(ctx, c, function()
        local again, e = config.credentials{ profile = name, env = ctx.env }
        if not again then fail("InvalidConfig", e) end
        return again
      end)
    end
  end
  if p.credential_process ~= nil then return process_provider(ctx, name, p.credential_process) end
  searched(ctx, string.format("%s %s, credential_process, %s %s", ctx.loaded.credentials_file or "(no credentials file)",
    header("credentials", name), ctx.loaded.config_file or "(no config file)", header("config", name)))
  return nil
end

local assume_role_provider

local function credential_source_provider(ctx, name, source)
  local where = "credential_source " .. source .. " of profile \"" .. name .. "\""
  local l = source:lower()
  if l == "environment" then
    local function from_env()
      if not (ctx.getenv("AWS_ACCESS_KEY_ID") or ctx.getenv("AWS_SECRET_ACCESS_KEY")) then
        fail("NoCredentials", where .. ": AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set", ctx.operation)
      end
      local c, err = config.credentials{ env = ctx.env }
      if not c then fail("InvalidConfig", where .. ": " .. err, ctx.operation) end
      return c
    end
    return static_provider(ctx, from_env(), from_env)
  elseif l == "ec2instancemetadata" then
    return imds_provider(ctx, ctx.profiles[name], false)
  elseif l == "ecscontainer" then
    if not container.configured(ctx.getenv) then
      fail("NoCredentials", where .. ": neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
        .. "AWS_CONTAINER_CREDENTIALS_FULL_URI is set", ctx.operation)
    end
    return container_provider(ctx)
  end
  fail("InvalidConfig", where .. " is not valid (use Environment, Ec2InstanceMetadata or EcsContainer)", ctx.operation)
end

-- A profile with role_arn. visited: the profiles of the chain so far (cycle detection).
assume_role_provider = function(ctx, name, visited)
  local p = ctx.profiles[name]
  local where = "profile \"" .. name .. "\""
  local sp, cs = str(p.source_profile), str(p.credential_source)
  local role_arn = str(p.role_arn)
  if not role_arn then fail("InvalidConfig", where .. ": role_arn is empty", ctx.operation) end
  if sp and cs then
    fail("InvalidConfig", where .. " has both source_profile and credential_source (use one)", ctx.operation)
  end
  if not sp and not cs then
    fail("InvalidConfig", where .. " has role_arn but neither source_profile nor credential_source", ctx.operation)
  end
  local mfa_serial = str(p.mfa_serial)
  if p.mfa_serial ~= nil and not mfa_serial then
    fail("InvalidConfig", where .. ": mfa_serial is empty (the ARN or serial number of the MFA device)", ctx.operation)
  end
  local duration
  if p.duration_seconds ~= nil then
    duration = math.tointeger(tonumber(p.duration_seconds))
    if not duration then
      fail("InvalidConfig", where .. ": duration_seconds must be a whole number of seconds", ctx.operation)
    end
  end
  local source
  if cs then
    source = credential_source_provider(ctx, name, cs)
  else
    local spp = ctx.profiles[sp]
    if not spp then
      fail("InvalidConfig", "the source_profile \"" .. sp .. "\" of " .. where .. " does not exist", ctx.operation)
    end
    for _, v in ipairs(visited) do
      -- a profile may name itself to take static keys from its own section
      if v == sp and (sp ~= name or not has_static(spp)) then
        fail("InvalidConfig", "source_profile cycle: \"" .. table.concat(visited, "\" -> \"") .. "\" -> \"" .. sp .. "\"",
          ctx.operation)
      end
    end
    local next_visited = { table.unpack(visited) }
    next_visited[#next_visited + 1] = sp
    if has_static(spp) or not has_role(spp) then
      local quiet = setmetatable({ searched = {} }, { __index = ctx })
      source = profile_chain(quiet, sp, false)
      if not source then
        fail("InvalidConfig", "the source_profile \"" .. sp .. "\" of " .. where .. " has no credentials "
          .. "(aws_access_key_id/aws_secret_access_key, credential_process, web_identity_token_file, "
          .. "sso_account_id/sso_role_name or role_arn)",
          ctx.operation)
      end
    else
      source = assume_role_provider(ctx, sp, next_visited)
    end
  end
  local prov = M.provider{ name = "assume-role", description = role_arn .. " (" .. where .. ")", fetch = function()
    local src = source:get()
    local params = { RoleArn = role_arn, RoleSessionName = str(p.role_session_name) or assume.default_session_name(clock()),
      ExternalId = str(p.external_id), DurationSeconds = duration }
    if mfa_serial then
      -- asked now, with the source credentials ready, so the code is as fresh as can be
      params.SerialNumber = mfa_serial
      params.TokenCode = ask_mfa_code(mfa_serial, where, "mfa_serial", "run detlua from a terminal, "
        .. "or assume the role in the playbook with aws.assume_role{RoleArn = ..., SerialNumber = ..., TokenCode = ...} "
        .. "(or its token_code option, a function returning a fresh code at each refresh)")
    end
    local sts = assume.sts_client{ region = sts_region(ctx), profile = ctx.top, env = ctx.env,
      credentials = { access_key_id = src.access_key_id, secret_access_key = src.secret_access_key,
        session_token = src.session_token } }
    local ok, c = pcall(assume.call, sts, params, where)
    sts:close()
    if not ok then error(c, 0) end
    return c
  end }
  prov.role_arn = role_arn
  prov.source_provider = source
  return prov
end

local PROCESS_ENV = {}                                  -- cache key for "no env table"
local cache = setmetatable({}, { __mode = "k" })         -- env table -> profile -> Provider

function M.clear_cache()
  cache = setmetatable({}, { __mode = "k" })
end

local function build(ctx)
  local ok, loaded = pcall(config.load, { env = ctx.env })
  if not ok then fail("InvalidConfig", tostring(loaded), ctx.operation) end
  ctx.loaded, ctx.profiles = loaded, loaded.profiles or {}
  local name = ctx.top
  local p = ctx.profiles[name]
  if not p and name ~= "default" then
    local _, err = config.credentials{ profile = name, env = ctx.env } -- names both files
    fail("ProfileNotFound", err or ("profile \"" .. name .. "\" not found"), ctx.operation)
  end
  p = p or {}
  if ctx.explicit then
    searched(ctx, "environment (not used: a profile was named explicitly)")
  else
    searched(ctx, "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
  end
  if has_role(p) then return assume_role_provider(ctx, name, { name }) end
  searched(ctx, "role_arn of profile \"" .. name .. "\"")
  local prov = profile_chain(ctx, name, not ctx.explicit)
  if prov then return prov end
  if container.configured(ctx.getenv) then return container_provider(ctx) end
  searched(ctx, "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI)")
  local off, why = imds.disabled(ctx.getenv, ctx.env and process_getenv)
  if off then no_credentials(ctx, "EC2 instance metadata (" .. why .. ")") end
  return imds_provider(ctx, p, true)
end

-- resolve{profile = explicit name?, env = table?, provider = Provider?, operation = label?}
-- -> credentials, provider | nil. With a provider the caller should ask it (provider:get())
-- before each use, since its credentials are refreshed; without one the credentials are
-- static (environment or keys in a file) and may be kept.
function M.resolve(opts)
  opts = opts or {}
  local operation = opts.operation
  if opts.provider ~= nil then
    if not M.is_provider(opts.provider) then
      error("credentials: expected a table of keys, a function or an aws.credentials provider", 3)
    end
    return opts.provider:get(operation), opts.provider
  end
  local env = opts.env
  local getenv = make_getenv(env)
  local explicit = type(opts.profile) == "string" and opts.profile ~= ""
  -- 1. keys in the environment (with AWS_SESSION_TOKEN, expiration)
  local c, err = env_source.fetch(env, opts.profile)
  if c == false then fail("InvalidConfig", err, operation) end
  if c then return c end
  local name = explicit and opts.profile or getenv("AWS_PROFILE") or "default"
  local key = env or PROCESS_ENV
  local per = cache[key]
  if not per then
    per = {}
    cache[key] = per
  end
  local prov = per[name]
  if not prov then
    prov = build{ env = env, getenv = getenv, top = name, explicit = explicit, operation = operation, searched = {} }
    -- static keys are read again each time (cheap, and edits to the files are seen)
    if prov.static then return prov.creds end
    per[name] = prov
  end
  local ok, c = pcall(prov.get, prov, operation)
  if not ok then
    -- never worked: let the next call start over (and reread the configuration)
    if per[name] == prov and not prov.creds and not prov.refreshing then per[name] = nil end
    raise(c, operation)
  end
  return c, prov
end

-- --- aws.assume_role sessions ------------------------------------------------------------

local Session = { __name = "aws.Session" }
Session.__index = Session
M.Session = Session

-- aws.assume_role{RoleArn = ..., RoleSessionName = ?, DurationSeconds = ?, ExternalId = ?,
--   Policy = ?, SerialNumber = ?, TokenCode = ?, ...} (any sts:AssumeRole parameter),
--   opts = {client = sts client, token_code = function(serial) -> code}
-- -> session. The role is assumed at once (a refusal raises AssumeRoleFailed here) and again
-- whenever the session's credentials near their expiration. With SerialNumber every
-- AssumeRole needs a new code: TokenCode serves the first call only; later ones (and the
-- first without TokenCode) ask token_code, else the terminal.
local OPTIONS = { client = true, token_code = true }

function M.assume_role(params, opts)
  if type(params) ~= "table" then
    error("aws.assume_role: expected a table {RoleArn = ..., RoleSessionName = ...}, got " .. type(params), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("aws.assume_role: options: expected a table {client = ..., token_code = ...}, got " .. type(opts), 2)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not OPTIONS[k] then error("aws.assume_role: unknown option \"" .. tostring(k) .. "\" (client, token_code)", 2) end
  end
  local p = {}
  for k, v in pairs(params) do p[k] = v end
  if type(p.RoleArn) ~= "string" then
    error("aws.assume_role: RoleArn: expected a role ARN string, got " .. type(p.RoleArn), 2)
  end
  local serial, token_code = p.SerialNumber, opts.token_code
  if token_code ~= nil and type(token_code) ~= "function" then
    error("aws.assume_role: token_code: expected a function(serial) returning a 6-digit MFA code, got " .. type(token_code), 2)
  end
  if serial == nil and (token_code ~= nil or p.TokenCode ~= nil) then
    error("aws.assume_role: " .. (token_code ~= nil and "token_code" or "TokenCode")
      .. ": needs SerialNumber (the ARN or serial number of the MFA device)", 2)
  end
  if p.TokenCode ~= nil then
    local problem = mfa_code_problem(p.TokenCode)
    if problem then error("aws.assume_role: TokenCode: " .. problem, 2) end
  end
  if p.RoleSessionName == nil then p.RoleSessionName = assume.default_session_name(clock()) end
  local okb, berr = pcall(protocol.build, "sts", "AssumeRole", p)
  if not okb then error("aws.assume_role: " .. tostring(berr):gsub("^sts:assume_role: ", ""), 2) end
  local client = require("aws.client")
  local sts = opts.client
  if sts == nil then
    sts = client.new("sts", {})
  elseif getmetatable(sts) ~= client.Client or sts.service ~= "sts" then
    error("aws.assume_role: client: expected an STS client (aws.client(\"sts\", ...))", 2)
  end
  local sess = setmetatable({ role_arn = p.RoleArn, session_name = p.RoleSessionName,
    account = p.RoleArn:match("^arn:[^:]+:iam::(%d+):"), _sts = sts }, Session)
  local first_code = p.TokenCode
  p.TokenCode = nil
  sess._provider = M.provider{ name = "assume-role", description = p.RoleArn .. " (aws.assume_role)", fetch = function()
    local q = p
    if serial ~= nil then
      q = {}
      for k, v in pairs(p) do q[k] = v end
      if first_code then
        q.TokenCode, first_code = first_code, nil -- a code is good for one call
      elseif token_code then
        local code = token_code(serial)
        if type(code) == "string" then code = code:match("^%s*(.-)%s*$") end
        local problem = mfa_code_problem(code)
        if problem then error("aws.assume_role: token_code: the code it returns " .. problem, 0) end
        q.TokenCode = code
      else
        q.TokenCode = ask_mfa_code(serial, "aws.assume_role", "SerialNumber",
          "pass TokenCode for the first call and the token_code option, a function returning a fresh code, for refreshes")
      end
    end
    local c, r = assume.call(sts, q, "aws.assume_role")
    sess.assumed_role_arn = r.AssumedRoleUser and r.AssumedRoleUser.Arn
    return c
  end }
  sess._provider:get()
  return sess
end

-- sess:client(service, opts): a client whose credentials are the session's (refreshed by
-- assuming the role again). Region and env default to the STS client's.
function Session:client(service, copts)
  if getmetatable(self) ~= Session then error("session:client: use sess:client(service, opts)", 2) end
  if copts ~= nil and type(copts) ~= "table" then
    error("session:client: options: expected a table, got " .. type(copts), 2)
  end
  local o = {}
  for k, v in pairs(copts or {}) do o[k] = v end
  if o.credentials ~= nil then error("session:client: credentials: the session provides them", 2) end
  o.credentials = self._provider
  local so = self._sts.opts
  if o.region == nil then o.region = so.region end
  if o.env == nil then o.env = so.env end
  return require("aws.client").new(service, o)
end

-- The current credentials (a copy; refreshed first when they are about to expire).
function Session:credentials()
  local c = self._provider:get()
  return { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key,
    session_token = c.session_token, expiration = c.expiration, source = c.source }
end

function Session:provider()
  return self._provider
end

function Session:__tostring()
  local c = self._provider.creds
  local exp = c and c.expiration and (", expires " .. time.format(c.expiration)) or ""
  return string.format("aws.Session(%s, session %s%s)", self.role_arn, self.session_name, exp)
end

return M
