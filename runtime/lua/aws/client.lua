-- aws.client: the aws.Client type and the one generic invoke every operation goes
-- through: validate + serialize (aws.core.protocol, from the generated model tables)
-- -> resolve region, endpoint, credentials (aws.core.config) -> sign (aws.sigv4) ->
-- send (aws.core.http) -> retry policy (aws.retry) -> parse result or raise aws.Error.
-- Method names come from the model (ListMembers -> list_members); nothing here is
-- specific to one operation.
local model = require("aws.core.model")
local protocol = require("aws.core.protocol")
local config = require("aws.core.config")
local http = require("aws.core.http")
local sigv4 = require("aws.sigv4")
local host = require("aws.core.host")
-- aws.errors is loaded by the first failure: a call that succeeds never needs it.
local function errors() return require("aws.errors") end
local redact = require("aws.redact")
local retry = require("aws.retry")
local credentials_env = require("aws.credentials.env")

local M = {}

local Client = { __name = "aws.Client" }
M.Client = Client

local methods = {} -- generic methods shared by every client (call, pages, each, ...)
M.methods = methods

-- Generic methods defined by other modules, which are loaded when one of their methods is
-- first looked up. A module adds its methods with M.add_method, which refuses a name not
-- listed here, so this list cannot drift from what the modules define.
local EXTENSIONS = {
  pages = "aws.paging", each = "aws.paging",
  call_all = "aws.batch", create_members_all = "aws.batch", delete_members_all = "aws.batch",
  get_members_all = "aws.batch", batch_get_graph_member_datasources_all = "aws.batch",
  batch_get_membership_datasources_all = "aws.batch",
  wait_investigation = "aws.waiters", wait_members = "aws.waiters",
  wait_datasource_packages = "aws.waiters",
}
M.EXTENSIONS = EXTENSIONS

function M.add_method(name, fn)
  if not EXTENSIONS[name] then error("aws.client: method " .. tostring(name) .. " is not in aws.client's EXTENSIONS", 2) end
  methods[name] = fn
end

function M.load_extensions()
  for _, mod in pairs(EXTENSIONS) do require(mod) end
end

local defaults = {} -- options from the host (--region, --profile, --endpoint-url, --debug)

function M.set_defaults(opts)
  defaults = {}
  for k, v in pairs(opts or {}) do defaults[k] = v end
end

function M.defaults()
  return defaults
end

local function log_debug(fmt, ...)
  io.stderr:write(string.format("[detlua debug %s] ", os.date("!%H:%M:%S")), redact.text(string.format(fmt, ...)), "\n")
end

-- Hooks that later layers install (dry run, audit log, concurrency scheduler).
M.hooks = { before_send = nil, after_call = nil, transport = nil }

local KNOWN_OPTS = {
  region = true, profile = true, endpoint = true, credentials = true, debug = true,
  max_attempts = true, connect_timeout_ms = true, timeout_ms = true, read_timeout_ms = true,
  ca_bundle = true, dry_run = true, env = true, session = true, label = true,
}

function M.new(service, opts)
  if type(service) ~= "string" then
    error("aws.client: service: expected a string such as \"detective\", got " .. type(service), 2)
  end
  -- The service's model tables are built on first use (Client.__index "svc"): a
  -- session creates three default clients and most playbooks use one or two.
  local known = model.services()
  local name
  for _, n in ipairs(known) do if n == service:lower() then name = n end end
  if not name then
    error("aws.client: unknown service \"" .. service .. "\" (known: " .. table.concat(known, ", ") .. ")", 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then error("aws.client: options: expected a table, got " .. type(opts), 2) end
  local o = {}
  for k, v in pairs(defaults) do o[k] = v end
  for k, v in pairs(opts) do
    if not KNOWN_OPTS[k] then error("aws.client: unknown option \"" .. tostring(k) .. "\"", 2) end
    o[k] = v
  end
  if o.credentials ~= nil and type(o.credentials) ~= "table" and type(o.credentials) ~= "function" then
    error("aws.client: credentials: expected a table or a function, got " .. type(o.credentials), 2)
  end
  local self = setmetatable({ service = name, opts = o }, Client)
  return self
end

-- Method lookup: generic methods first, then operations by their snake_case name.
function Client.__index(self, key)
  local m = methods[key]
  if m then return m end
  if type(key) ~= "string" then return nil end
  local ext = EXTENSIONS[key]
  if ext then
    require(ext)
    return methods[key]
  end
  -- Private fields (_cfg, _conn) that are not set: never worth loading the model for.
  if key:byte(1) == 95 then return nil end
  if key == "svc" then
    local loaded = model.service(rawget(self, "service"))
    rawset(self, "svc", loaded)
    return loaded
  end
  local svc = self.svc
  local cache = M._op_methods[svc.name]
  if not cache then
    cache = {}
    M._op_methods[svc.name] = cache
  end
  local f = cache[key]
  if f then return f end
  local op = svc.operations_by_lua and svc.operations_by_lua[key]
  if not op then
    local found = model.operation(svc.name, key)
    if found and found.lua_name == key then op = found end
  end
  if not op then return nil end
  local label = svc.name .. "." .. key
  f = function(client, params, ...)
    if getmetatable(client) ~= Client then
      error(label .. ": called with '.' instead of ':' (write " .. svc.name .. ":" .. key .. "{...})", 2)
    end
    if select("#", ...) > 0 then
      error(svc.name .. ":" .. key .. ": takes one table of parameters", 2)
    end
    return M.invoke(client, op, params)
  end
  cache[key] = f
  return f
end
M._op_methods = {}

function Client:__tostring()
  local region = self._cfg and self._cfg.region or self.opts.region or "default region"
  return string.format("aws.Client(%s, %s)", self.service, region)
end

local function now_s()
  return host.realtime()
end

-- A shared credentials file that group or others can read (config.load reports it) is
-- said once per process and file on stderr, when the default chain was consulted.
local mode_warned, mode_checked = {}, false
function M.warn_credentials_file_mode(env)
  if env == nil and mode_checked then return nil end
  if env == nil then mode_checked = true end
  local ok, loaded = pcall(config.load, { env = env })
  local w = ok and type(loaded) == "table" and loaded.credentials_file_mode_warning
  if not w then return nil end
  local key = tostring(loaded.credentials_file)
  if mode_warned[key] then return nil end
  mode_warned[key] = true
  io.stderr:write("detlua: warning: ", w, "\n")
  return w
end

-- Region, endpoint, credentials: resolved on first use, credentials refreshed when
-- they are within five minutes of expiring.
function M.resolve(self)
  local cfg = self._cfg
  if cfg and cfg.credentials_provider then
    -- temporary credentials (aws.credentials): the provider caches and refreshes them
    cfg.credentials = cfg.credentials_provider:get(self.svc.service_id)
    return cfg
  end
  local t = now_s()
  if cfg and (not cfg.expiration or cfg.expiration == 0 or cfg.expiration - t > 300) then return cfg end
  local o = self.opts
  local region, rerr = config.region{ region = o.region, profile = o.profile, env = o.env }
  if not region then
    error(errors().new{ kind = "config", code = "NoRegion", message = rerr,
      operation = self.svc.service_id }, 0)
  end
  local ep, eerr = config.endpoint{ service = self.svc.name, region = region, endpoint = o.endpoint,
    profile = o.profile, env = o.env }
  if not ep then
    error(errors().new{ kind = "config", code = "InvalidEndpoint", message = eerr,
      operation = self.svc.service_id }, 0)
  end
  local creds, cerr, provider
  if type(o.credentials) == "function" then
    local ok, c = pcall(o.credentials)
    if ok then creds = c else cerr = c end
    if ok and type(c) ~= "table" then creds, cerr = nil, "credentials function returned " .. type(c) end
    if not ok and errors().is_error(c) then error(c, 0) end
  elseif o.credentials == nil or getmetatable(o.credentials) ~= nil then
    -- keys in the environment (the chain's first source, without loading the chain), else
    -- the rest of the chain (roles, web identity, process, container, instance metadata)
    -- or a provider object (aws.assume_role sessions)
    local c, err
    if o.credentials == nil then c, err = credentials_env.fetch(o.env, o.profile) end
    if c == false then
      error(errors().new{ kind = "credentials", code = "InvalidConfig", message = err,
        operation = self.svc.service_id }, 0)
    end
    if c then
      creds = c
    else
      creds, provider = require("aws.credentials").resolve{ profile = o.profile, env = o.env,
        provider = o.credentials, operation = self.svc.service_id }
    end
  else
    creds, cerr = config.credentials{ profile = o.profile, credentials = o.credentials, env = o.env }
  end
  if not creds then
    error(errors().new{ kind = "credentials", code = "NoCredentials", message = tostring(cerr),
      operation = self.svc.service_id }, 0)
  end
  if o.credentials == nil and creds.source ~= "env" then M.warn_credentials_file_mode(o.env) end
  redact.register(creds.secret_access_key)
  redact.register(creds.session_token)
  cfg = {
    region = region,
    url = ep.url:gsub("/+$", ""),
    signing_region = ep.signing_region or region,
    signing_name = ep.signing_name or self.svc.signing_name,
    credentials = creds,
    credentials_provider = provider,
    expiration = creds.expiration,
    max_attempts = tonumber(o.max_attempts) or M.default_max_attempts(self) or 3,
  }
  self._cfg = cfg
  return cfg
end

function M.connection(self)
  local c = self._conn
  if not c then
    local o = self.opts
    c = http.new{ connect_timeout_ms = o.connect_timeout_ms, timeout_ms = o.timeout_ms,
      read_timeout_ms = o.read_timeout_ms, ca_bundle = o.ca_bundle }
    self._conn = c
  end
  return c
end

-- Server time minus local time, per endpoint, learned from Date headers (standard
-- mode's clock-skew correction). Only offsets beyond 4 minutes are applied.
local clock_skew_s = {}

function M.reset_clock_skew()
  clock_skew_s = {}
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }
local function parse_http_date(s)
  local d, mon, y, H, Mi, S = (s or ""):match("%a+, (%d+) (%a+) (%d+) (%d+):(%d+):(%d+) GMT")
  if not d or not MONTHS[mon] then return nil end
  return require("aws.time").timegm(tonumber(y), MONTHS[mon], tonumber(d), tonumber(H), tonumber(Mi), tonumber(S))
end

local SKEW_CODES = {
  RequestTimeTooSkewed = true, RequestExpired = true, InvalidSignatureException = true,
  SignatureDoesNotMatch = true, AuthFailure = true, RequestInTheFuture = true,
}

-- One HTTP exchange. Returns status, headers, body or nil, transport error table.
local function send(self, req)
  local t = M.hooks.transport
  if t then return t(self, req) end
  return M.connection(self):request(req)
end
M.send = send

function M.invoke(self, op, params)
  local svc = self.svc
  local opname = svc.service_id .. "." .. op.name
  -- Caller mistakes raise here, before anything is resolved or sent.
  local req = protocol.build(svc.name, op.name, params)
  -- aws.dryrun installs the before_send hook that skips mutating calls; it is loaded by
  -- the first client that asks for a dry run.
  if self.opts.dry_run and not package.loaded["aws.dryrun"] then require("aws.dryrun") end
  local hook = M.hooks.before_send
  if hook then
    local placeholder = hook(self, op, params, req)
    if placeholder ~= nil then return placeholder end
  end
  local cfg = M.resolve(self)
  local max_attempts = cfg.max_attempts
  local url = cfg.url .. req.path
  local debug = self.opts.debug
  local attempt, err = 0, nil
  local started = host.monotonic_ms()
  local retry_key = cfg.url
  while true do
    attempt = attempt + 1
    local headers = {}
    for i, h in ipairs(req.headers) do headers[i] = h end
    local creds = cfg.credentials
    local skew_used = clock_skew_s[retry_key] or 0
    local s = sigv4.sign{ method = req.method, url = url, headers = headers, body = req.body,
      region = cfg.signing_region, service = cfg.signing_name,
      credentials = creds, time = now_s() + skew_used } -- sign takes the whole seconds
    for _, h in ipairs(s.headers) do headers[#headers + 1] = h end
    if debug then
      log_debug("-> %s %s (attempt %d)", req.method, url, attempt)
      for _, h in ipairs(redact.headers(headers)) do log_debug("   %s: %s", h[1], h[2]) end
      if params ~= nil then
        log_debug("   params: %s", require("aws.json").encode(redact.value(params, svc, op.input), { svc = svc, shape = op.input }))
      end
    end
    local t0 = host.monotonic_ms()
    local status, rh, body = send(self, { method = req.method, url = url, headers = headers, body = req.body })
    local elapsed_ms = host.monotonic_ms() - t0
    -- The offset is learned from failed responses only: a skew rejection is the one
    -- case that needs it, and parsing Date on every success costs the hot path.
    if status and rh and (status < 200 or status >= 300) then
      local server_time = parse_http_date(rh.date)
      if server_time then
        local skew = server_time - os.time()
        clock_skew_s[retry_key] = math.abs(skew) > 240 and skew or nil
      end
    end
    local parsed, result = false, nil
    if status and status >= 200 and status < 300 then
      -- A 2xx body that does not parse (cut short, not JSON/XML) is an error of this call,
      -- not of the caller: an aws.Error, not retried (retrying a read would do, but a write
      -- may have happened), recorded by after_call like any failure.
      parsed, result = pcall(protocol.parse, svc.name, op.name, status, rh, body)
    end
    if parsed then
      if debug then
        log_debug("<- %d %s (%.1f ms, request %s)", status, opname, elapsed_ms, tostring(rh["x-amzn-requestid"] or rh["x-amz-request-id"]))
        log_debug("   result: %s", require("aws.json").encode(redact.value(result, svc, op.output), { svc = svc, shape = op.output }))
      end
      retry.on_success(retry_key, err and err._retry_cost)
      if M.hooks.after_call then
        M.hooks.after_call(self, op, params, { ok = true, attempts = attempt, status = status,
          request_id = rh["x-amzn-requestid"] or rh["x-amz-request-id"], duration_ms = host.monotonic_ms() - started })
      end
      return result
    end
    if status and status >= 200 and status < 300 then
      err = errors().new{ kind = "transport", code = "MalformedResponse", status = status,
        message = "cannot parse the " .. status .. " response: " .. tostring(result):gsub("^[%w_]+:[%w_]+: ", ""),
        request_id = rh["x-amzn-requestid"] or rh["x-amz-request-id"], operation = opname, retryable = false }
      if debug then log_debug("<- %d %s MalformedResponse (%.1f ms): %s", status, opname, elapsed_ms, err.message) end
    elseif status then
      local e = protocol.parse_error(svc.name, op.name, status, rh, body)
      err = errors().new{ kind = "service", code = e.code, message = e.message, status = status,
        request_id = rh["x-amzn-requestid"] or rh["x-amz-request-id"] or e.request_id,
        operation = opname, fields = e.fields or {} }
      if debug then log_debug("<- %d %s %s (%.1f ms): %s", status, opname, tostring(e.code), elapsed_ms, err.message) end
      -- A skew rejection is worth one more try when the Date header moved our offset.
      if SKEW_CODES[err.code] and math.abs((clock_skew_s[retry_key] or 0) - skew_used) > 240 then
        err.retryable = true
      end
    else
      local te = rh or {}
      err = errors().new{ kind = "transport", code = te.code or "TransportError", message = te.message or "transport failure",
        operation = opname, retryable = te.retryable and true or false }
      if debug then log_debug("<- %s transport error %s: %s", opname, err.code, err.message) end
    end
    err.attempts = attempt
    local again, delay = retry.should_retry(err, attempt, max_attempts, retry_key)
    if not again then
      if M.hooks.after_call then
        M.hooks.after_call(self, op, params, { ok = false, error = err, attempts = attempt,
          duration_ms = host.monotonic_ms() - started })
      end
      error(err, 0)
    end
    if debug then log_debug("   retrying in %.2f s", delay) end
    M.sleep(delay)
  end
end

-- Sleeping goes through here so the concurrency scheduler can yield instead.
function M.sleep(seconds)
  if M.hooks.sleep then return M.hooks.sleep(seconds) end
  host.sleep_ms(seconds * 1000)
end

function M.default_max_attempts(self)
  local env = self.opts.env
  local v = env and env.AWS_MAX_ATTEMPTS or (not env and os.getenv("AWS_MAX_ATTEMPTS"))
  if v and tonumber(v) and tonumber(v) >= 1 then return math.floor(tonumber(v)) end
  local ok, loaded = pcall(config.load, { env = env })
  if ok and loaded then
    local pname = self.opts.profile or (env and env.AWS_PROFILE) or (not env and os.getenv("AWS_PROFILE")) or "default"
    local p = loaded.profiles and loaded.profiles[pname]
    if p and tonumber(p.max_attempts) then return math.floor(tonumber(p.max_attempts)) end
  end
  return nil
end

-- Generic methods ---------------------------------------------------------------

-- client:call("ListMembers" | "list_members" | "list-members", params)
function methods.call(self, opname, params)
  if getmetatable(self) ~= Client then error("call: use client:call(operation, params)", 2) end
  local op = model.operation(self.service, opname)
  if not op then
    error(self.service .. ":call: unknown operation \"" .. tostring(opname) .. "\"", 2)
  end
  return M.invoke(self, op, params)
end

function methods.operations(self)
  local out = {}
  for _, name in ipairs(self.svc.operation_names) do out[#out + 1] = self.svc.operations[name].lua_name end
  return out
end

-- The resolved region, endpoint and credential source (never the secret).
function methods.config(self)
  local c = M.resolve(self)
  return { region = c.region, endpoint = c.url, signing_region = c.signing_region,
    credential_source = c.credentials.source, access_key_id = c.credentials.access_key_id }
end

function methods.close(self)
  if self._conn then self._conn:close(); self._conn = nil end
end

Client.__close = methods.close
Client.__gc = methods.close

return M
