-- detlua.apidoc_core: the hand-written descriptions of everything in the `aws` module that
-- the service models do not describe: aws.client and the generic client methods (paging,
-- the *_all batch helpers, the waiters), errors, concurrency, aws.wait, aws.assume_role
-- sessions and the aws.credentials module, the audit log, the utility modules (json, time,
-- redact, sigv4, model), the host hooks and aws.emulator. detlua.apidoc renders these
-- entries as REPL help, the docs/api/aws.md page and the LuaLS stubs.
--
-- Pure data, worded from reading each function's implementation; it loads nothing and
-- checks nothing. tests/spec/apidoc_coverage_spec.lua compares the names here with the
-- real objects, so a public function added without an entry fails the tests.
--
-- Entry fields:
--   name     "aws.map", "aws.json.encode", "client:pages", "session:client", "provider:get",
--            "log:close", "aws.emulator:url" (a ':' means a method of that object)
--   kind     "function" (methods too), "value" (a constant or a table) or "module"
--   type     for values and modules: the LuaLS type
--   call     the call form shown first (results on the left when there are any)
--   summary  what it does (Markdown: `code` spans; plain text drops the backticks)
--   params   { name, LuaLS type, notes, optional = true, open = true }; "opts.x" rows
--            describe the fields of a table parameter (open: it takes more fields than
--            the rows list); "..." is a vararg
--   returns  { LuaLS type, notes, name = optional label }
--   errors   list of sentences
--   example  Lua that runs under `detlua run --local` (checked by the coverage spec)
--   batch_op / service_overloads / only: rendering hints (see detlua.apidoc)
local M = {}

-- Where methods live: the prefix before ':' -> the LuaLS class of that object.
M.OBJECTS = {
  client = "aws.Client",
  session = "aws.Session",
  provider = "aws.CredentialsProvider",
  log = "aws.AuditLog",
  ["aws.emulator"] = "aws.Emulator",
}

-- Public names that are deliberately not documented for playbooks, with the reason.
-- Names starting with "_" are private and need no entry.
M.INTERNAL = {
  ["aws.audit.record"] = "the clients' after_call hook that writes one record per call",
  ["aws.audit.forget_accounts"] = "test hook: forgets the accounts looked up so far",
  ["aws.audit.IDENTITY_LABEL"] = "label of the audit log's own GetCallerIdentity client",
  ["log:write"] = "called by the after_call hook with a prepared record",
  ["provider:fetch"] = "the fetch function the provider was made with; provider:get calls it when needed",
  ["aws.credentials.now"] = "test hook: the clock the credential cache uses",
  ["aws.credentials.set_clock"] = "test hook: replaces that clock",
  ["aws.credentials.set_sleep"] = "test hook: replaces the sleep between retries",
  ["aws.credentials.set_prompt"] = "test hook: replaces the terminal prompt for MFA codes",
  ["aws.credentials.warn"] = "writes the chain's warnings on stderr",
}

local CREDS_TYPE = "{access_key_id: string, secret_access_key: string, session_token?: string, expiration?: number, source?: string}"

-- Sections of docs/api/aws.md, in order: { key, title, introduction }.
M.SECTIONS = {
  { "clients", "Clients",
    "`aws.client` makes a client; besides the operation methods of its service (see the service pages) every client has these methods." },
  { "paging", "Paging",
    "For operations that take a `NextToken` (the service pages mark them *pages*)." },
  { "batch", "Batch helpers",
    "Operations whose input holds a bounded list of accounts or graphs, for lists of any length." },
  { "waiters", "Waiting",
    "Polling until a state is reached. Pauses go through the client's sleep, so inside `aws.map` and `aws.parallel` a waiting task lets the others run." },
  { "errors", "Errors", nil },
  { "concurrency", "Concurrency",
    "Calls made inside `aws.map` and `aws.parallel` run concurrently on coroutines over one connection pool; calls made outside them block." },
  { "credentials", "Credentials",
    "Role sessions and the credential chain; docs/credentials.md describes the chain and its settings." },
  { "audit", "Audit log",
    "A tamper-evident JSON-lines record of API calls; docs/playbooks.md shows the record format." },
  { "json", "aws.json", nil },
  { "time", "aws.time", "UTC only; times are seconds since the epoch." },
  { "redact", "aws.redact", "The redaction every output path of detlua uses." },
  { "sigv4", "aws.sigv4", "AWS Signature Version 4 for any HTTP request." },
  { "model", "aws.model", "The service model tables the clients are generated from (read-only)." },
  { "host", "Host", "Set by `detlua run`, `detlua -e` and the REPL." },
}

-- Classes (LuaLS) with their fields; methods come from the entries.
M.CLASSES = {
  { class = "aws.Credentials", summary = "Credentials as clients and providers use them.", fields = {
    { "access_key_id", "string" },
    { "secret_access_key", "string" },
    { "session_token?", "string" },
    { "expiration?", "number", "seconds since the epoch" },
    { "source?", "string", "where they came from: \"env\", \"assume-role\", \"emulator\", ..." },
    { "account?", "string", "the account the keys belong to (srv:admin_credentials() gives it); informational, not used for signing" },
  } },
  { class = "aws.ClientOptions", summary = "Options of `aws.client`; the host's defaults (`aws.configure_defaults`) fill the ones not given.", fields = {
    { "region?", "string", "AWS Region, e.g. \"us-east-1\"" },
    { "profile?", "string", "profile of the shared config and credentials files" },
    { "endpoint?", "string", "URL to send requests to instead of the standard endpoint" },
    { "credentials?", "aws.Credentials|(fun(): aws.Credentials)|aws.CredentialsProvider", "keys, a function returning keys, or a provider (session:provider(), aws.credentials.provider)" },
    { "debug?", "boolean", "log requests and responses on stderr (secrets redacted)" },
    { "max_attempts?", "integer", "attempts per call, retries included (default AWS_MAX_ATTEMPTS, the profile's max_attempts, else 3)" },
    { "connect_timeout_ms?", "integer", "TCP and TLS handshake" },
    { "timeout_ms?", "integer", "whole transfer" },
    { "read_timeout_ms?", "integer", "abort when nothing arrives for this long" },
    { "ca_bundle?", "string", "PEM file of CA certificates (default AWS_CA_BUNDLE, else the system store)" },
    { "dry_run?", "boolean", "send read-only operations, skip the others (see --dry-run)" },
    { "env?", "table<string, string>", "environment variables read instead of the process's when resolving region, endpoint, profile and credentials" },
  } },
  { class = "aws.Error", summary = "A service, transport, credential, configuration, waiter or batch failure. Caller mistakes (a bad parameter) raise plain strings instead.", fields = {
    { "kind", "\"service\"|\"transport\"|\"credentials\"|\"config\"|\"waiter\"|\"batch\"" },
    { "code", "string", "error code, e.g. \"ResourceNotFoundException\"" },
    { "message", "string", "redacted" },
    { "status?", "integer", "HTTP status" },
    { "request_id?", "string" },
    { "operation?", "string", "e.g. \"Detective.ListMembers\"" },
    { "retryable", "boolean" },
    { "fields", "table", "the error shape's other fields (credentials errors: sts_code, ...)" },
    { "attempts?", "integer", "attempts made, retries included" },
    { "last?", "any", "waiter errors: the state last observed" },
    { "polls?", "integer", "waiter errors: checks made" },
    { "elapsed_s?", "number", "waiter errors: time waited" },
    { "partial?", "table", "batch helpers: the merged result of the chunks that succeeded" },
    { "failed_chunk?", "integer", "batch helpers: the chunk that failed (1-based)" },
    { "chunks?", "integer", "batch helpers: how many chunks there were" },
    { "failed_items?", "any[]", "batch helpers: the items of the failed chunk" },
    { "unsent_items?", "any[]", "batch helpers: the items after it, never sent" },
  } },
  { class = "aws.PagingOptions", fields = {
    { "page_size?", "integer", "sets the operation's limit parameter (MaxResults)" },
    { "max_pages?", "integer", "stop after this many pages" },
    { "max_items?", "integer", "stop after this many items (each only)" },
  } },
  { class = "aws.WaitOptions", summary = "Timing of aws.wait and the client waiters.", fields = {
    { "timeout_s?", "number", "deadline (aws.wait: 300; wait_investigation: 900; wait_members, wait_datasource_packages: 600)" },
    { "delay_s?", "number", "first pause (2)" },
    { "max_delay_s?", "number", "longest pause (30)" },
    { "backoff?", "number", "each pause is the previous one times this (1.5)" },
  } },
  { class = "aws.Client", summary = "A client of one service; its operations are methods named in snake_case.", fields = {
    { "service", "string", "\"detective\", \"guardduty\" or \"sts\"" },
    { "opts", "aws.ClientOptions", "the options in force (defaults merged)" },
  } },
  { class = "aws.Session", summary = "An assumed role (aws.assume_role).", fields = {
    { "role_arn", "string" },
    { "session_name", "string" },
    { "account?", "string", "the role's account, from its ARN" },
    { "assumed_role_arn?", "string", "STS's AssumedRoleUser.Arn, once assumed" },
  } },
  { class = "aws.CredentialsProvider", summary = "A shared source of temporary credentials that caches and refreshes them.", fields = {
    { "name", "string", "e.g. \"assume-role\", \"custom\"" },
    { "description?", "string" },
  } },
  { class = "aws.AuditLog", summary = "An open audit log (aws.audit.open).", fields = {
    { "path", "string" },
    { "records", "integer", "records written through this handle" },
    { "playbook?", "string" },
  } },
  { class = "aws.Emulator", summary = "The embedded emulator of `detlua run --local` (aws.emulator)." },
}

local E = {}
M.ENTRIES = E
local function add(section, t)
  t.section = section
  t.kind = t.kind or "function"
  E[#E + 1] = t
end

-- ---------------------------------------------------------------------------------
-- Clients

add("clients", {
  name = "aws.client",
  call = "client = aws.client(service [, opts])",
  service_overloads = true,
  summary = "Creates a client for a service. Nothing is resolved or sent yet: region, endpoint and credentials are resolved by the first call (and by `client:config()`), then kept; temporary credentials are refreshed before they expire.",
  params = {
    { "service", "string", "\"detective\", \"guardduty\" or \"sts\" (any case)" },
    { "opts", "aws.ClientOptions", "region, profile, endpoint, credentials, debug, max_attempts, connect_timeout_ms, timeout_ms, read_timeout_ms, ca_bundle, dry_run, env (see aws.ClientOptions below); given options replace the host's defaults", optional = true },
  },
  returns = { { "aws.Client", "also closed by `<close>` and by the garbage collector" } },
  errors = {
    "Raises a message at once for a service that is not a string or not bound, options that are not a table, an unknown option, or `credentials` that is neither a table nor a function.",
    "The first call raises `aws.Error` kind `config` (`NoRegion`, `InvalidEndpoint`) or kind `credentials` (`NoCredentials`, ...) when these cannot be resolved.",
  },
  example = [[
local d = aws.client("detective", { max_attempts = 5 })
print(d, #d:list_graphs{}.GraphList)]],
})

add("clients", {
  name = "client:call",
  call = "result = client:call(operation [, params])",
  summary = "Calls an operation by name; the same as the method `client:<lua_name>(params)`.",
  params = {
    { "operation", "string", "model name (\"ListMembers\"), Lua name (\"list_members\") or \"list-members\"" },
    { "params", "table", "the operation's parameters", optional = true },
  },
  returns = { { "table", "the operation's result" } },
  errors = {
    "Raises a message for an unknown operation or invalid parameters, before sending.",
    "Service, transport and credential failures raise `aws.Error`.",
  },
  example = [[
local r = detective:call("ListGraphs", {})
print(#r.GraphList)]],
})

add("clients", {
  name = "client:operations",
  call = "names = client:operations()",
  summary = "The Lua names of the service's operations, in model order.",
  returns = { { "string[]" } },
  example = [[
for _, name in ipairs(sts:operations()) do print(name) end]],
})

add("clients", {
  name = "client:config",
  call = "info = client:config()",
  summary = "Resolves (when not done yet) and shows where the client sends requests and whose credentials it uses. Never shows the secret key.",
  returns = { { "{region: string, endpoint: string, signing_region: string, credential_source: string, access_key_id: string}" } },
  errors = { "Raises `aws.Error` kind `config` or `credentials` when the region, endpoint or credentials cannot be resolved." },
  example = [[
local c = detective:config()
print(c.region, c.endpoint, c.credential_source)]],
})

add("clients", {
  name = "client:close",
  call = "client:close()",
  summary = "Closes the client's connection; a later call opens a new one. Also run by `<close>` variables and the garbage collector.",
  example = [[
do
  local d <close> = aws.client("detective")
  d:list_graphs{}
end]],
})

-- ---------------------------------------------------------------------------------
-- Paging

add("paging", {
  name = "client:pages",
  call = "for page in client:pages(operation [, params [, opts]]) do ... end",
  summary = "Iterates over the result pages of a paged operation, fetching each when the loop asks for it and sending each page's token back until the service returns none.",
  params = {
    { "operation", "string", "a paged operation, by any name form" },
    { "params", "table", "the operation's parameters (not changed)", optional = true },
    { "opts", "aws.PagingOptions", "bounds of the loop", optional = true },
    { "opts.page_size", "integer", "positive; sets the operation's limit parameter", optional = true },
    { "opts.max_pages", "integer", "positive; stop after this many pages", optional = true },
  },
  returns = { { "fun(): table?", "an iterator returning each page (the operation's result)" } },
  errors = {
    "Raises a message at once for an unknown operation, one that does not page, params that are not a table, or an unknown or non-positive option.",
    "Raises a message when the service returns an empty token or repeats a recent one (instead of looping forever); call failures raise `aws.Error`.",
  },
  example = [[
local graph = detective:create_graph{}.GraphArn
for page in detective:pages("list_members", { GraphArn = graph }, { page_size = 50 }) do
  print(#(page.MemberDetails or {}))
end]],
})

add("paging", {
  name = "client:each",
  call = "for item in client:each(operation [, params [, opts]]) do ... end",
  summary = "Iterates over the items of every page: one value per list item, or key and value per entry when the items are a map (ListDatasourcePackages).",
  params = {
    { "operation", "string", "a paged operation whose results are one list or map of items" },
    { "params", "table", "the operation's parameters", optional = true },
    { "opts", "aws.PagingOptions", "bounds of the loop", optional = true },
    { "opts.page_size", "integer", "positive; sets the operation's limit parameter", optional = true },
    { "opts.max_pages", "integer", "positive; stop after this many pages", optional = true },
    { "opts.max_items", "integer", "positive; stop after this many items", optional = true },
  },
  returns = { { "fun(): any, any", "an iterator returning each item (or key, value)" } },
  errors = {
    "As `client:pages`; also raises a message for an operation with no single list of items (use `client:pages`).",
  },
  example = [[
for graph in detective:each("ListGraphs", {}, { max_items = 10 }) do
  print(graph.Arn)
end]],
})

-- ---------------------------------------------------------------------------------
-- Batch helpers

local BATCH_ERRORS = {
  "Raises a message before sending anything when the parameters are not a table, the list is missing or not a list, an option is unknown, or any chunk fails validation (the message gives the item's index in the whole list).",
  "When a chunk fails, raises its `aws.Error` (a non-`aws.Error` failure becomes kind `batch`, code `BatchInterrupted`) with `partial` (merged results so far), `failed_chunk`, `chunks`, `failed_items` and `unsent_items`; chunks are not retried.",
}

add("batch", {
  name = "client:call_all",
  call = "result = client:call_all(operation, params [, opts])",
  summary = "Calls an operation whose input has one required list with a maximum length, for a list of any length: the list is cut into chunks of the size the model allows, every chunk is validated before the first is sent, chunks are sent in order, and the results are merged (lists appended, maps joined, other fields from the last chunk).",
  params = {
    { "operation", "string", "e.g. \"CreateMembers\"" },
    { "params", "table", "the operation's parameters, with the whole list" },
    { "opts", "{progress?: fun(done: integer, total: integer)}", "", optional = true },
    { "opts.progress", "fun(done: integer, total: integer)", "called after each chunk with the items done so far (e.g. `kit.progress`)", optional = true },
  },
  returns = { { "table", "the merged result" } },
  errors = {
    "Raises a message for an operation with no single bounded list to split.",
    BATCH_ERRORS[1], BATCH_ERRORS[2],
  },
  example = [[
local graph = detective:create_graph{}.GraphArn
local ids = { "444455556666", "777788889999" }
local r = detective:call_all("GetMembers", { GraphArn = graph, AccountIds = ids })
print(#r.MemberDetails, #r.UnprocessedAccounts)]],
})

local function batch_helper(method, op, example)
  add("batch", {
    name = "client:" .. method,
    batch_op = op,
    call = "result = client:" .. method .. "(params [, opts])",
    summary = "`client:call_all(\"" .. op .. "\", params, opts)`. Detective clients only.",
    params = {
      { "params", "table", "the " .. op .. " parameters, with the whole list" },
      { "opts", "{progress?: fun(done: integer, total: integer)}", "`progress(done, total)` after each chunk", optional = true },
    },
    returns = { { "table", "the merged result" } },
    errors = {
      "Raises a message on a client whose service has no " .. op .. ".",
      BATCH_ERRORS[1], BATCH_ERRORS[2],
    },
    example = example,
  })
end

batch_helper("create_members_all", "CreateMembers", [[
local graph = detective:create_graph{}.GraphArn
local r = detective:create_members_all{ GraphArn = graph, Accounts = {
  { AccountId = "444455556666", EmailAddress = "prod@example.com" },
  { AccountId = "777788889999", EmailAddress = "dev@example.com" },
} }
print(#r.Members, #r.UnprocessedAccounts)]])
batch_helper("get_members_all", "GetMembers", [[
local graph = detective:create_graph{}.GraphArn
local r = detective:get_members_all{ GraphArn = graph, AccountIds = { "444455556666" } }
print(#r.MemberDetails, #r.UnprocessedAccounts)]])
batch_helper("delete_members_all", "DeleteMembers", [[
local graph = detective:create_graph{}.GraphArn
detective:create_members{ GraphArn = graph, Accounts = { { AccountId = "444455556666", EmailAddress = "prod@example.com" } } }
local r = detective:delete_members_all{ GraphArn = graph, AccountIds = { "444455556666" } }
print(#r.AccountIds)]])
batch_helper("batch_get_graph_member_datasources_all", "BatchGetGraphMemberDatasources", [[
local graph = detective:create_graph{}.GraphArn
local r = detective:batch_get_graph_member_datasources_all{ GraphArn = graph, AccountIds = { "111122223333" } }
print(#r.MemberDatasources)]])
batch_helper("batch_get_membership_datasources_all", "BatchGetMembershipDatasources", [[
local graph = detective:create_graph{}.GraphArn
local r = detective:batch_get_membership_datasources_all{ GraphArns = { graph } }
print(#r.MembershipDatasources, #r.UnprocessedGraphs)]])

-- ---------------------------------------------------------------------------------
-- Waiting

local TIMING = {
  { "opts.timeout_s", "number", "deadline in seconds, >= 0", optional = true },
  { "opts.delay_s", "number", "first pause, > 0 (default 2)", optional = true },
  { "opts.max_delay_s", "number", "longest pause, > 0 (default 30)", optional = true },
  { "opts.backoff", "number", "each pause is the previous one times this, >= 1 (default 1.5)", optional = true },
}
local function with_timing(params, timeout_text)
  local out = {}
  for _, p in ipairs(params) do out[#out + 1] = p end
  for _, p in ipairs(TIMING) do
    local row = { p[1], p[2], p[3], optional = true }
    if p[1] == "opts.timeout_s" then row[3] = row[3] .. " (default " .. timeout_text .. ")" end
    out[#out + 1] = row
  end
  return out
end

local WAITER_ERRORS = {
  "Raises a message at once for a missing parameter, a wrong type, an unknown option or a timing value out of range.",
  "Raises `aws.Error` kind `waiter`: code `WaiterTimeout` when the deadline passes, `WaiterFailure` when the state can no longer be reached; `err.last` holds the last result. Errors of the calls themselves come through unchanged.",
}

add("waiters", {
  name = "aws.wait",
  call = "... = aws.wait(fn [, opts])",
  summary = "Calls `fn(n)` (n = 1, 2, ...) until it returns a true value, which `aws.wait` then returns with fn's other results. `fn` returns `false, state` to keep waiting (state is what it observed) or `false, state, reason` to give up. Pauses grow from `delay_s` by `backoff` up to `max_delay_s`; the last check happens at the deadline.",
  params = with_timing({
    { "fn", "fun(n: integer): any, any, any", "the check" },
    { "opts", "aws.WaitOptions", "", optional = true },
    { "opts.what", "string", "what is awaited, for error messages (\"the investigation to finish\")", optional = true },
    { "opts.operation", "string", "the error's `operation` (default \"aws.wait\")", optional = true },
    { "opts.describe", "fun(state: any): string", "turns the last state into words for error messages", optional = true },
  }, "300"),
  returns = { { "any", "fn's results once it returned a true value" } },
  errors = {
    "Raises a message at once when fn is not a function or an option is unknown or out of range.",
    "Raises `aws.Error` kind `waiter`, code `WaiterFailure` (fn gave a reason) or `WaiterTimeout`, with `last`, `polls` and `elapsed_s`.",
  },
  example = [[
local value = aws.wait(function(n)
  if n >= 3 then return "ready" end
  return false, "check " .. n
end, { delay_s = 0.01, timeout_s = 5, what = "the third check" })
print(value)]],
})

add("waiters", {
  name = "client:wait_investigation",
  call = "result = client:wait_investigation(params [, opts])",
  summary = "Polls GetInvestigation until `Status` is `SUCCESSFUL` and returns that result; `FAILED` raises `WaiterFailure`. Timing options may also be given in `params`. Detective clients only.",
  params = with_timing({
    { "params", "table", "`GraphArn`, `InvestigationId` (strings, required) and optionally the timing options" },
    { "opts", "aws.WaitOptions", "", optional = true },
  }, "900"),
  returns = { { "table", "the GetInvestigation result" } },
  errors = WAITER_ERRORS,
  example = [[
local graph = detective:create_graph{}.GraphArn
local now = aws.time.now()
local id = detective:start_investigation{ GraphArn = graph,
  EntityArn = "arn:aws:iam::444455556666:user/alice",
  ScopeStartTime = aws.time.ago("24h", now), ScopeEndTime = now }.InvestigationId
local inv = detective:wait_investigation{ GraphArn = graph, InvestigationId = id, delay_s = 0.5 }
print(inv.Status, inv.Severity)]],
})

add("waiters", {
  name = "client:wait_members",
  call = "result = client:wait_members(params [, opts])",
  summary = "Polls GetMembers (in chunks, as `get_members_all`) until every account is `ENABLED` (`until = \"ENABLED\"`, the default) or none is `VERIFICATION_IN_PROGRESS` any more (`until = \"verified\"`). An account that is not a member fails at once; with `until = \"ENABLED\"` so does `VERIFICATION_FAILED`, while `INVITED` and `ACCEPTED_BUT_DISABLED` keep waiting. Timing options and `until` may also be given in `params` (write `[\"until\"]`: it is a Lua keyword). Detective clients only.",
  params = with_timing({
    { "params", "table", "`GraphArn` (string), `AccountIds` (list), both required" },
    { "opts", "aws.WaitOptions", "", optional = true },
    { "opts.until", "\"ENABLED\"|\"verified\"", "what to wait for (default \"ENABLED\")", optional = true },
  }, "600"),
  returns = { { "table", "the merged GetMembers result {MemberDetails, UnprocessedAccounts}" } },
  errors = WAITER_ERRORS,
  example = [[
local graph = detective:create_graph{}.GraphArn
detective:create_members{ GraphArn = graph, Accounts = { { AccountId = "444455556666", EmailAddress = "prod@example.com" } } }
local r = detective:wait_members({ GraphArn = graph, AccountIds = { "444455556666" } },
  { ["until"] = "verified", delay_s = 0.1, timeout_s = 60 })
print(r.MemberDetails[1].Status)]],
})

add("waiters", {
  name = "client:wait_datasource_packages",
  call = "packages = client:wait_datasource_packages(params [, opts])",
  summary = "Lists the graph's data source packages (all pages) until every package in `Packages` is `STARTED`; returns the package map. No state is final, so only the deadline ends it early. Timing options may also be given in `params`. Detective clients only.",
  params = with_timing({
    { "params", "table", "`GraphArn` (string) and `Packages` (a non-empty list of DatasourcePackage values), both required" },
    { "opts", "aws.WaitOptions", "", optional = true },
  }, "600"),
  returns = { { "table", "DatasourcePackages: package name -> its details" } },
  errors = WAITER_ERRORS,
  example = [[
local graph = detective:create_graph{}.GraphArn
local packages = detective:wait_datasource_packages{ GraphArn = graph, Packages = { "DETECTIVE_CORE" }, delay_s = 0.1 }
print(packages.DETECTIVE_CORE.DatasourcePackageIngestState)]],
})

-- ---------------------------------------------------------------------------------
-- Errors

add("errors", {
  name = "aws.Error",
  kind = "value",
  type = "table",
  summary = "The metatable of `aws.Error` values (see the aws.Error fields below); `getmetatable(e) == aws.Error` is what `aws.is_error` checks. `tostring(e)` gives `\"Detective.ListMembers: ResourceNotFoundException (HTTP 404, request ...): message\"`.",
})

add("errors", {
  name = "aws.is_error",
  call = "ok = aws.is_error(x)",
  summary = "Whether x is an `aws.Error`.",
  params = { { "x", "any", "" } },
  returns = { { "boolean" } },
  example = [[
local ok, err = pcall(detective.get_investigation, detective, {
  GraphArn = detective:create_graph{}.GraphArn, InvestigationId = "000000000000000000001" })
print(ok, aws.is_error(err), aws.is_error("a message"))]],
})

add("errors", {
  name = "aws.try",
  call = "ok, ... = aws.try(fn, ...)",
  summary = "Runs `fn(...)` protected (`pcall`): returns true and fn's results, or false and the error (an `aws.Error` or a message).",
  params = {
    { "fn", "function", "" },
    { "...", "any", "arguments for fn" },
  },
  returns = {
    { "boolean", "", name = "ok" },
    { "any", "fn's results, or the error", name = "..." },
  },
  example = [[
local ok, err = aws.try(detective.get_investigation, detective, {
  GraphArn = detective:create_graph{}.GraphArn, InvestigationId = "000000000000000000001" })
if not ok then print(err.code, err.status) end]],
})

-- ---------------------------------------------------------------------------------
-- Concurrency

add("concurrency", {
  name = "aws.map",
  call = "results, errors, failed = aws.map(list, fn [, opts])",
  summary = "Runs `fn(item, index)` for every item of a list, at most `concurrency` at a time. Every item runs even when others fail. Nested calls join the running scheduler.",
  params = {
    { "list", "any[]", "the items (1..#list)" },
    { "fn", "fun(item: any, index: integer): any", "" },
    { "opts", "{concurrency?: integer}", "", optional = true },
    { "opts.concurrency", "integer", "1..1024 (default 16)", optional = true },
  },
  returns = {
    { "table", "results[i]: the first value fn returned for item i", name = "results" },
    { "table", "errors[i]: what fn raised for item i (an aws.Error or a message)", name = "errors" },
    { "integer", "how many items failed", name = "failed" },
  },
  errors = { "Raises a message when list is not a table, fn is not a function, or an option is unknown or out of range; errors raised by fn are returned, not raised." },
  example = [[
local graphs = { detective:create_graph{}.GraphArn, detective:create_graph{}.GraphArn }
local results, errors, failed = aws.map(graphs, function(graph)
  return #(detective:list_members{ GraphArn = graph }.MemberDetails or {})
end, { concurrency = 4 })
print(results[1], results[2], failed)]],
})

add("concurrency", {
  name = "aws.parallel",
  call = "results, errors, failed = aws.parallel(f1, f2, ...)",
  summary = "Runs the functions concurrently, all at once.",
  params = { { "...", "function", "the functions, called without arguments" } },
  returns = {
    { "table", "results[i]: the first value fi returned", name = "results" },
    { "table", "errors[i]: what fi raised", name = "errors" },
    { "integer", "how many failed", name = "failed" },
  },
  errors = { "Raises a message when an argument is not a function." },
  example = [[
local results, errors = aws.parallel(
  function() return #detective:list_graphs{}.GraphList end,
  function() return sts:get_caller_identity{}.Account end)
print(results[1], results[2], errors[1], errors[2])]],
})

-- ---------------------------------------------------------------------------------
-- Credentials

add("credentials", {
  name = "aws.assume_role",
  call = "session = aws.assume_role(params [, opts])",
  summary = "Assumes a role at once through sts:AssumeRole and returns a session whose clients act as the role. The role is assumed again whenever the session's credentials near their expiration (advisory 15 minutes, mandatory 10 minutes before; shorter for short sessions). With SerialNumber (MFA) each AssumeRole needs a new code: TokenCode serves the first call only; later calls, and the first without TokenCode, take the code opts.token_code returns, else one typed on the terminal (\"Enter MFA code for <serial>: \").",
  params = {
    { "params", "table", "any sts:AssumeRole parameters (checked against the model before anything is sent)", open = true },
    { "params.RoleArn", "string", "required" },
    { "params.RoleSessionName", "string", "default \"detlua-session-<epoch seconds>\"", optional = true },
    { "params.SerialNumber", "string", "the ARN or serial number of the MFA device the role requires", optional = true },
    { "params.TokenCode", "string", "a 6-digit MFA code for the first AssumeRole (needs SerialNumber)", optional = true },
    { "opts", "{client?: aws.Client, token_code?: fun(serial: string): string}", "", optional = true },
    { "opts.client", "aws.Client", "the STS client to call (default `aws.client(\"sts\")`, with the host's defaults)", optional = true },
    { "opts.token_code", "fun(serial: string): string", "returns a fresh 6-digit MFA code for the device `serial`; called for each AssumeRole that TokenCode does not serve (refreshes). Needs SerialNumber", optional = true },
  },
  returns = { { "aws.Session" } },
  errors = {
    "Raises a message before any call when params or opts is not a table, an option is unknown, RoleArn is not a string, a parameter breaks the model's constraints, opts.client is not an STS client, opts.token_code is not a function, TokenCode is not 6 digits, or TokenCode or token_code comes without SerialNumber.",
    "Raises a message before the call when a code from token_code or the terminal is not 6 digits.",
    "Raises `aws.Error` kind `credentials`, code `MfaRequired` when a code is needed, token_code is not given and there is no terminal to ask on.",
    "Raises `aws.Error` kind `credentials`, code `AssumeRoleFailed` when STS refuses (`fields.sts_code` is STS's code, e.g. `AccessDenied`).",
  },
  example = [[
local sess = aws.assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember",
  RoleSessionName = "ir-playbook" }
print(sess, sess.account)
local member = sess:client("detective")
print(#member:list_graphs{}.GraphList)]],
})

add("credentials", {
  name = "session:client",
  call = "client = session:client(service [, opts])",
  summary = "A client whose credentials are the session's (refreshed by assuming the role again). Region and `env` default to those of the session's STS client.",
  params = {
    { "service", "string", "\"detective\", \"guardduty\" or \"sts\"" },
    { "opts", "aws.ClientOptions", "as for `aws.client`, without `credentials`", optional = true },
  },
  returns = { { "aws.Client" } },
  errors = { "Raises a message when opts is not a table or sets `credentials`, and whatever `aws.client` raises." },
  example = [[
local sess = aws.assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember" }
local member_sts = sess:client("sts")
print(member_sts:get_caller_identity{}.Arn)]],
})

add("credentials", {
  name = "session:credentials",
  call = "creds = session:credentials()",
  summary = "A copy of the session's current credentials, refreshed first when they are about to expire.",
  returns = { { CREDS_TYPE } },
  errors = { "Raises `aws.Error` kind `credentials` when a needed refresh fails." },
  example = [[
local sess = aws.assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember" }
local c = sess:credentials()
print(c.access_key_id, aws.time.format(c.expiration))]],
})

add("credentials", {
  name = "session:provider",
  call = "provider = session:provider()",
  summary = "The session's credentials provider, usable as `aws.client(service, {credentials = provider})`.",
  returns = { { "aws.CredentialsProvider" } },
  example = [[
local sess = aws.assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember" }
local d = aws.client("detective", { credentials = sess:provider() })
print(d:config().credential_source)]],
})

add("credentials", {
  name = "provider:get",
  call = "creds = provider:get([operation])",
  summary = "The provider's current credentials, fetched or refreshed when needed (one refresh at a time: other `aws.map` tasks wait for it). `provider:credentials` is the same method.",
  params = { { "operation", "string", "named in the error when fetching fails", optional = true } },
  returns = { { CREDS_TYPE, "the cached table: do not modify it" } },
  errors = { "Raises what the fetch function raises, or `aws.Error` kind `credentials` (`NoCredentials` without an access key pair, `ExpiredCredentials` when expired credentials cannot be refreshed, `InvalidConfig` for a bad expiration)." },
  example = [[
local sess = aws.assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember" }
print(sess:provider():get().source)]],
})

add("credentials", {
  name = "provider:credentials",
  call = "creds = provider:credentials([operation])",
  summary = "The same as `provider:get`.",
  params = { { "operation", "string", "named in the error when fetching fails", optional = true } },
  returns = { { CREDS_TYPE } },
  errors = { "As `provider:get`." },
})

add("credentials", {
  name = "aws.credentials",
  kind = "module",
  type = "aws.credentials",
  only = "require",
  summary = "The credential chain module: `local credentials = require(\"aws.credentials\")`. Clients use it to resolve credentials from profiles, web identity, credential_process, the container endpoint and the instance metadata service.",
})

add("credentials", {
  name = "aws.credentials.assume_role",
  call = "session = credentials.assume_role(params [, opts])",
  summary = "The same function as `aws.assume_role`.",
  params = {
    { "params", "table", "any sts:AssumeRole parameters" },
    { "opts", "{client?: aws.Client, token_code?: fun(serial: string): string}", "", optional = true },
  },
  returns = { { "aws.Session" } },
  errors = { "As `aws.assume_role`." },
})

add("credentials", {
  name = "aws.credentials.provider",
  call = "provider = credentials.provider(t)",
  summary = "Turns a function into a shared, refreshing credentials source, usable as `aws.client(service, {credentials = provider})`. `fetch` runs when there are no credentials yet and when they near their expiration; credentials without `expiration` are kept for good.",
  params = {
    { "t", "table", "" },
    { "t.fetch", "fun(provider: aws.CredentialsProvider): aws.Credentials", "returns {access_key_id, secret_access_key, session_token?, expiration? (epoch seconds), source?}; required unless t.credentials is given", optional = true },
    { "t.name", "string", "names the source in messages and `credential_source` (default \"custom\")", optional = true },
    { "t.description", "string", "more words for messages", optional = true },
    { "t.credentials", "aws.Credentials", "initial credentials (without fetch they cannot be refreshed)", optional = true },
  },
  returns = { { "aws.CredentialsProvider" } },
  errors = {
    "Raises a message when t is not a table, fetch is not a function, or neither fetch nor credentials is given.",
    "Initial credentials without an access key pair raise `aws.Error` kind `credentials`, code `NoCredentials`.",
  },
  example = [[
local credentials = require("aws.credentials")
local sess = aws.assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember" }
local p = credentials.provider{ name = "member-role", fetch = function() return sess:credentials() end }
local d = aws.client("detective", { credentials = p })
print(d:config().credential_source, #d:list_graphs{}.GraphList)]],
})

add("credentials", {
  name = "aws.credentials.is_provider",
  call = "ok = credentials.is_provider(x)",
  summary = "Whether x is a credentials provider.",
  params = { { "x", "any", "" } },
  returns = { { "boolean" } },
  example = [[
local credentials = require("aws.credentials")
local sess = aws.assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember" }
print(credentials.is_provider(sess:provider()), credentials.is_provider({}))]],
})

add("credentials", {
  name = "aws.credentials.resolve",
  call = "creds, provider = credentials.resolve([opts])",
  summary = "Resolves credentials as a client without explicit credentials does: environment keys (unless a profile is named), then the profile's chain (docs/credentials.md), ending with the instance metadata service unless `AWS_EC2_METADATA_DISABLED=true`. Temporary credentials come with the provider that caches them per profile (ask it again before each use); static ones come alone and are read again on each call.",
  params = {
    { "opts", "table", "", optional = true },
    { "opts.profile", "string", "profile named explicitly (default AWS_PROFILE, else \"default\")", optional = true },
    { "opts.env", "table<string, string>", "environment variables to read instead of the process's", optional = true },
    { "opts.provider", "aws.CredentialsProvider", "ask this provider instead", optional = true },
    { "opts.operation", "string", "named in errors", optional = true },
  },
  returns = {
    { CREDS_TYPE, "", name = "creds" },
    { "aws.CredentialsProvider?", "nil for static credentials", name = "provider" },
  },
  errors = {
    "Raises a message when opts.provider is not a provider.",
    "Raises `aws.Error` kind `credentials`: `NoCredentials` (the message names every place searched), `ProfileNotFound`, `InvalidConfig`, `AssumeRoleFailed`, `MfaRequired` (a profile with mfa_serial and no terminal to type the code on), `CredentialProcessError`, `ContainerCredentialsError`, `ExpiredCredentials`.",
    "Raises a message when the MFA code typed for a profile's mfa_serial is not 6 digits (before the AssumeRole call).",
  },
  example = [[
local credentials = require("aws.credentials")
local sess = aws.assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember" }
local c, p = credentials.resolve{ provider = sess:provider() }
print(c.source, p == sess:provider())]],
})

add("credentials", {
  name = "aws.credentials.clear_cache",
  call = "credentials.clear_cache()",
  summary = "Forgets the providers cached per profile, so the next resolution reads the configuration again and fetches new credentials. Clients that already resolved keep theirs.",
  example = [[
require("aws.credentials").clear_cache()]],
})

add("credentials", {
  name = "aws.credentials.Provider",
  kind = "value",
  type = "table",
  summary = "The metatable of credentials providers (`aws.CredentialsProvider`).",
})

add("credentials", {
  name = "aws.credentials.Session",
  kind = "value",
  type = "table",
  summary = "The metatable of `aws.assume_role` sessions (`aws.Session`).",
})

add("credentials", {
  name = "aws.credentials.ADVISORY_S",
  kind = "value",
  type = "number",
  summary = "Seconds before expiry from which one caller tries to refresh while the others keep the current credentials (900; at most half the credentials' lifetime).",
})

add("credentials", {
  name = "aws.credentials.MANDATORY_S",
  kind = "value",
  type = "number",
  summary = "Seconds before expiry from which every caller waits for fresh credentials and a failed refresh raises (600; at most a third of the lifetime).",
})

add("credentials", {
  name = "aws.credentials.WAIT_STEP_S",
  kind = "value",
  type = "number",
  summary = "How often a task waiting for another task's refresh looks again, in seconds (it yields meanwhile).",
})

add("credentials", {
  name = "aws.credentials.MAX_WAIT_S",
  kind = "value",
  type = "number",
  summary = "A refresh running longer than this many seconds is considered abandoned and another caller starts one.",
})

-- ---------------------------------------------------------------------------------
-- Audit log

add("audit", {
  name = "aws.audit",
  kind = "module",
  type = "aws.audit",
  summary = "The audit log module. `detlua run --audit-log FILE` opens one for the whole run.",
})

add("audit", {
  name = "aws.audit.open",
  call = "log = aws.audit.open(path [, opts])",
  summary = "Opens an audit log for appending (creating the file when missing) and continues the hash chain of what is already there. Every open log receives a record of every call made afterwards, until it is closed.",
  params = {
    { "path", "string", "the log file" },
    { "opts", "table", "", optional = true },
    { "opts.playbook", "string", "the records' `playbook` (default the script name, `arg[0]`)", optional = true },
    { "opts.lookup_account", "boolean", "look up the calling account with one sts:GetCallerIdentity per access key when the credentials do not carry it (default true)", optional = true },
  },
  returns = { { "aws.AuditLog", "also closed by `<close>` and by the garbage collector" } },
  errors = { "Raises a message for a bad path or options, a file that cannot be opened, or an existing file whose last line is incomplete or not an audit record." },
  example = [[
local path = os.tmpname()
local log = aws.audit.open(path, { playbook = "docs-example" })
detective:list_graphs{}
log:close()
print(log.records, aws.audit.verify(path))
os.remove(path)]],
})

add("audit", {
  name = "aws.audit.verify",
  call = "ok, info = aws.audit.verify(path)",
  summary = "Checks a log's hashes and chain (what `detlua audit verify` does).",
  params = { { "path", "string", "" } },
  returns = {
    { "boolean?", "true: intact; false: broken; nil: the file cannot be read", name = "ok" },
    { "{records?: integer, head?: string, line?: integer, reason?: string}", "intact: records and head (hash of the last line); broken: line, reason and records (lines that checked out); unreadable: reason", name = "info" },
  },
  example = [[
local path = os.tmpname()
local log = aws.audit.open(path)
detective:list_graphs{}
log:close()
local ok, info = aws.audit.verify(path)
print(ok, info.records, info.head)
os.remove(path)]],
})

add("audit", {
  name = "aws.audit.close_all",
  call = "aws.audit.close_all()",
  summary = "Closes every open audit log.",
  example = [[
aws.audit.close_all()
print(#aws.audit.open_logs())]],
})

add("audit", {
  name = "aws.audit.open_logs",
  call = "logs = aws.audit.open_logs()",
  summary = "The logs open now (a new list).",
  returns = { { "aws.AuditLog[]" } },
  example = [[
for _, log in ipairs(aws.audit.open_logs()) do print(log.path) end]],
})

add("audit", {
  name = "aws.audit.ZERO",
  kind = "value",
  type = "string",
  summary = "64 zeros: the `prev` of a log's first record.",
})

add("audit", {
  name = "aws.audit.LOOKUP_RETRY_S",
  kind = "value",
  type = "number",
  summary = "Seconds before a failed GetCallerIdentity lookup of a record's account is tried again (default 60); records meanwhile carry a null account.",
})

add("audit", {
  name = "log:close",
  call = "log:close()",
  summary = "Stops recording into this log and closes its file; closing again does nothing.",
  example = [[
local path = os.tmpname()
local log = aws.audit.open(path)
log:close()
print(log)
os.remove(path)]],
})

-- ---------------------------------------------------------------------------------
-- aws.json

add("json", {
  name = "aws.json",
  kind = "module",
  type = "aws.json",
  summary = "JSON with stable output: keys sorted, empty lists told apart from empty objects.",
})

add("json", {
  name = "aws.json.encode",
  call = "text = aws.json.encode(v [, opts])",
  summary = "Encodes a value. Object keys are sorted. A table is a list when it is marked by `aws.json.array` or is a sequence 1..n; an empty table is `{}` unless marked or the shape says list. Integer-valued floats keep a `.0`; NaN and infinities become null.",
  params = {
    { "v", "any", "nil, booleans, numbers, strings, tables, aws.json.null" },
    { "opts", "table", "", optional = true },
    { "opts.indent", "integer", "spaces per level (default: one line)", optional = true },
    { "opts.svc", "table", "a model service (aws.model.service) for opts.shape", optional = true },
    { "opts.shape", "string", "the shape of v, so that lists and objects follow the model even when empty", optional = true },
  },
  returns = { { "string" } },
  errors = { "Raises a message for a cyclic table or a value of another type (function, userdata other than null)." },
  example = [[
print(aws.json.encode({ b = 1, a = { 1, 2 }, c = aws.json.array() }))
print(aws.json.encode({ x = true }, { indent = 2 }))]],
})

add("json", {
  name = "aws.json.decode",
  call = "v, err = aws.json.decode(s)",
  summary = "Decodes JSON. `null` members of objects are dropped; `null` in arrays stays as `aws.json.null`.",
  params = { { "s", "string", "" } },
  returns = {
    { "any", "the value, or nil", name = "v" },
    { "string?", "why it could not be decoded", name = "err" },
  },
  example = [[
local v = aws.json.decode('{"a": [1, null], "b": null}')
print(v.a[1], v.a[2] == aws.json.null, v.b)
print(aws.json.decode("{oops"))]],
})

add("json", {
  name = "aws.json.array",
  call = "t = aws.json.array([t])",
  summary = "Marks a table (a new one when none is given) to be encoded as a JSON array even when empty; returns it.",
  params = { { "t", "table", "", optional = true } },
  returns = { { "table" } },
  example = [[
print(aws.json.encode({ items = aws.json.array() }))]],
})

add("json", {
  name = "aws.json.quote",
  call = "text = aws.json.quote(s)",
  summary = "The JSON string literal of s, quotes included.",
  params = { { "s", "string", "" } },
  returns = { { "string" } },
  example = [[
print(aws.json.quote('say "hi"\n'))]],
})

add("json", {
  name = "aws.json.null",
  kind = "value",
  type = "lightuserdata",
  summary = "The JSON null value (lua-cjson's).",
})

-- ---------------------------------------------------------------------------------
-- aws.time

add("time", {
  name = "aws.time",
  kind = "module",
  type = "aws.time",
  summary = "Time helpers: now, durations, ISO 8601.",
})

add("time", {
  name = "aws.time.now",
  call = "t = aws.time.now()",
  summary = "The current time in seconds since the epoch, with a fraction.",
  returns = { { "number" } },
  example = [[
print(aws.time.format(aws.time.now()))]],
})

add("time", {
  name = "aws.time.duration",
  call = "seconds = aws.time.duration(spec)",
  summary = "Seconds in a duration such as \"24h\", \"90m\", \"1d12h\" or \"2w\" (units s, m, h, d, w; numbers may have a fraction). A number is returned as is.",
  params = { { "spec", "string|number", "" } },
  returns = { { "number" } },
  errors = { "Raises a message for a spec it cannot read." },
  example = [[
print(aws.time.duration("1d12h"), aws.time.duration("90m"))]],
})

add("time", {
  name = "aws.time.ago",
  call = "t = aws.time.ago(spec [, from])",
  summary = "The time `spec` before `from` (default now).",
  params = {
    { "spec", "string|number", "a duration, as for aws.time.duration" },
    { "from", "number", "epoch seconds (default now)", optional = true },
  },
  returns = { { "number", "epoch seconds" } },
  errors = { "As aws.time.duration." },
  example = [[
print(aws.time.format(aws.time.ago("7d", 1700000000)))]],
})

add("time", {
  name = "aws.time.format",
  call = "s = aws.time.format(t [, opts])",
  summary = "ISO 8601 in UTC: \"2024-01-15T00:00:00Z\".",
  params = {
    { "t", "number", "epoch seconds" },
    { "opts", "{ms?: boolean}", "", optional = true },
    { "opts.ms", "boolean", "add milliseconds", optional = true },
  },
  returns = { { "string" } },
  errors = { "Raises a message when t is not a number." },
  example = [[
print(aws.time.format(1700000000.25, { ms = true }))]],
})

add("time", {
  name = "aws.time.iso8601",
  call = "s = aws.time.iso8601(t [, opts])",
  summary = "The same function as `aws.time.format`.",
  params = {
    { "t", "number", "epoch seconds" },
    { "opts", "{ms?: boolean}", "", optional = true },
  },
  returns = { { "string" } },
  errors = { "As aws.time.format." },
})

add("time", {
  name = "aws.time.parse",
  call = "t, err = aws.time.parse(s)",
  summary = "Epoch seconds of an ISO 8601 date-time: \"2026-01-01T00:00:00Z\", with a fraction, with a +hh:mm offset, the compact \"20260101T000000Z\" or a date alone (midnight UTC). A number is returned as is.",
  params = { { "s", "string|number", "" } },
  returns = {
    { "number?", "epoch seconds, or nil", name = "t" },
    { "string?", "why s could not be read", name = "err" },
  },
  example = [[
print(aws.time.parse("2024-01-15T01:00:00+01:00"), aws.time.parse("yesterday"))]],
})

add("time", {
  name = "aws.time.timegm",
  call = "t = aws.time.timegm(year, month, day [, hour, min, sec])",
  summary = "Epoch seconds of a UTC calendar date and time (no range checks).",
  params = {
    { "year", "integer", "" },
    { "month", "integer", "1..12" },
    { "day", "integer", "" },
    { "hour", "integer", "default 0", optional = true },
    { "min", "integer", "default 0", optional = true },
    { "sec", "number", "default 0", optional = true },
  },
  returns = { { "integer" } },
  example = [[
print(aws.time.timegm(2024, 1, 15))]],
})

-- ---------------------------------------------------------------------------------
-- aws.redact

add("redact", {
  name = "aws.redact",
  kind = "module",
  type = "aws.redact",
  summary = "Redaction of secrets in text, headers and values.",
})

add("redact", {
  name = "aws.redact.MARK",
  kind = "value",
  type = "string",
  summary = "What replaces a secret: \"<redacted>\".",
})

add("redact", {
  name = "aws.redact.register",
  call = "aws.redact.register(secret)",
  summary = "Remembers a secret so that `aws.redact.text` (and so every log, message and echo) scrubs it. Strings shorter than 8 characters and non-strings are ignored. Resolved secret keys and session tokens are registered already.",
  params = { { "secret", "string", "" } },
  example = [[
aws.redact.register("hunter2-but-longer")
print(aws.redact.text("the password is hunter2-but-longer"))]],
})

add("redact", {
  name = "aws.redact.text",
  call = "s = aws.redact.text(s)",
  summary = "Replaces registered secrets and signature-shaped material (Signature=, X-Amz-Signature=, X-Amz-Security-Token= values) in free text. Non-strings are returned unchanged.",
  params = { { "s", "string", "" } },
  returns = { { "string" } },
  example = [[
print(aws.redact.text("https://example.com/?X-Amz-Signature=0123abcd&x=1"))]],
})

add("redact", {
  name = "aws.redact.header",
  call = "value = aws.redact.header(name, value)",
  summary = "A header value as it may be shown: the mark for Authorization, X-Amz-Security-Token, Proxy-Authorization, X-Aws-Ec2-Metadata-Token, Cookie and Set-Cookie; otherwise the value through `aws.redact.text`.",
  params = {
    { "name", "string", "any case" },
    { "value", "string", "" },
  },
  returns = { { "string" } },
  example = [[
print(aws.redact.header("Authorization", "AWS4-HMAC-SHA256 Credential=..."))]],
})

add("redact", {
  name = "aws.redact.headers",
  call = "copy = aws.redact.headers(h)",
  summary = "A redacted copy of headers given as a list of {name, value} pairs or a map name -> value.",
  params = { { "h", "table", "" } },
  returns = { { "table" } },
  example = [[
local h = aws.redact.headers{ { "Host", "example.com" }, { "X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE" } }
print(h[1][2], h[2][2])]],
})

add("redact", {
  name = "aws.redact.value",
  call = "copy = aws.redact.value(v [, svc, shape])",
  summary = "A deep copy of v with secrets removed: credential keys (secret_access_key, session_token, SecretAccessKey, SessionToken, Token, ...) anywhere, registered secrets in strings, and, given a model and a shape, the members the model marks sensitive.",
  params = {
    { "v", "any", "" },
    { "svc", "table", "a model service (aws.model.service)", optional = true },
    { "shape", "string", "the shape of v", optional = true },
  },
  returns = { { "any" } },
  example = [[
local svc = aws.model.service("detective")
local shown = aws.redact.value({ Accounts = { { AccountId = "444455556666", EmailAddress = "a@example.com" } } },
  svc, "CreateMembersRequest")
print(aws.json.encode(shown))]],
})

-- ---------------------------------------------------------------------------------
-- aws.sigv4

local SIGN_PARAMS = {
  { "req", "table", "" },
  { "req.method", "string", "required" },
  { "req.url", "string", "required: \"https://host/path?query\", or \"/path?query\" with a Host header; path and query as they go on the wire" },
  { "req.region", "string", "required" },
  { "req.service", "string", "required: the signing name, e.g. \"detective\"" },
  { "req.credentials", "aws.Credentials", "required: access_key_id, secret_access_key, session_token?" },
  { "req.headers", "table", "a list of {name, value} pairs, or a map name -> value (or list of values)", optional = true },
  { "req.body", "string", "hashed unless payload_hash is given", optional = true },
  { "req.time", "number|string", "epoch seconds, ISO 8601 or \"20150830T123600Z\" (default now)", optional = true },
  { "req.normalize_path", "boolean", "remove \".\", \"..\" and empty path segments (default true)", optional = true },
  { "req.sign_session_token", "boolean", "false: add the token unsigned (default true)", optional = true },
  { "req.payload_hash", "string", "64 hex digits or a constant such as aws.sigv4.UNSIGNED_PAYLOAD, used instead of hashing body", optional = true },
  { "req.signed_headers", "string[]", "sign exactly these lowercase header names (to verify a received request)", optional = true },
}

local function sign_params(extra)
  local out = {}
  for _, p in ipairs(SIGN_PARAMS) do out[#out + 1] = p end
  for _, p in ipairs(extra) do out[#out + 1] = p end
  return out
end

add("sigv4", {
  name = "aws.sigv4",
  kind = "module",
  type = "aws.sigv4",
  summary = "Signature Version 4 signing (header and query forms) with every stage exposed.",
})

add("sigv4", {
  name = "aws.sigv4.sign",
  call = "signed = aws.sigv4.sign(req)",
  summary = "Signs a request for the Authorization header. Returns the stages and the headers to add to the request (Host when absent, X-Amz-Date, X-Amz-Security-Token with a session token, X-Amz-Content-Sha256 when asked, Authorization).",
  params = sign_params({
    { "req.content_sha256_header", "boolean", "also add and sign X-Amz-Content-Sha256 (default false)", optional = true },
  }),
  returns = { { "{headers: string[][], authorization: string, signature: string, canonical_request: string, string_to_sign: string, amz_date: string, signed_headers: string, credential_scope: string, payload_hash: string}", "headers: list of {name, value} to add" } },
  errors = { "Raises a message naming the field for a missing or mistyped field, an unknown field (with a suggestion), an empty key, or a time out of range." },
  example = [[
local s = aws.sigv4.sign{ method = "GET", url = "https://example.amazonaws.com/", region = "us-east-1",
  service = "service", time = "20150830T123600Z",
  credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }
print(s.signature)
for _, h in ipairs(s.headers) do print(h[1]) end]],
})

add("sigv4", {
  name = "aws.sigv4.presign",
  call = "signed = aws.sigv4.presign(req)",
  summary = "Query signing: a URL carrying X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Security-Token (with a session token) and X-Amz-Signature. `headers` lists Host when the request had none.",
  params = sign_params({
    { "req.expires", "integer", "X-Amz-Expires, 1..604800 seconds (default 3600)", optional = true },
  }),
  returns = { { "{url: string, headers: string[][], signature: string, canonical_request: string, string_to_sign: string, amz_date: string, signed_headers: string, credential_scope: string, payload_hash: string}" } },
  errors = { "As aws.sigv4.sign; also for expires out of range." },
  example = [[
local s = aws.sigv4.presign{ method = "GET", url = "https://example.amazonaws.com/?Action=ListUsers", region = "us-east-1",
  service = "iam", expires = 300, time = "2024-01-15T00:00:00Z",
  credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }
print(s.url)]],
})

add("sigv4", {
  name = "aws.sigv4.ALGORITHM",
  kind = "value",
  type = "string",
  summary = "\"AWS4-HMAC-SHA256\".",
})

add("sigv4", {
  name = "aws.sigv4.UNSIGNED_PAYLOAD",
  kind = "value",
  type = "string",
  summary = "\"UNSIGNED-PAYLOAD\", for req.payload_hash.",
})

-- ---------------------------------------------------------------------------------
-- aws.model

add("model", {
  name = "aws.model",
  kind = "module",
  type = "aws.model",
  summary = "The bound services' model tables. They are shared: treat them as read-only.",
})

add("model", {
  name = "aws.model.services",
  call = "names = aws.model.services()",
  summary = "The names of the bound services.",
  returns = { { "string[]" } },
  example = [[
print(table.concat(aws.model.services(), ", "))]],
})

add("model", {
  name = "aws.model.service",
  call = "svc, err = aws.model.service(name)",
  summary = "A service's model: name, service_id, full_name, api_version, protocol, signing_name, endpoint_prefix, model_sha256, operations (by model name), operation_names (sorted) and shapes (by name).",
  params = { { "name", "string", "\"detective\", \"guardduty\" or \"sts\"" } },
  returns = {
    { "table?", "", name = "svc" },
    { "string?", "when no such service is bound", name = "err" },
  },
  errors = { "Raises a message when name is not a string." },
  example = [[
local svc = aws.model.service("detective")
print(svc.full_name, svc.api_version, #svc.operation_names)]],
})

add("model", {
  name = "aws.model.operation",
  call = "op = aws.model.operation(service, name)",
  summary = "One operation: name, lua_name, service, http_method, request_uri, success_status, input, output (shape names), errors, deprecated and, for paged operations, paging {input_token, output_token, limit_key, result_key}.",
  params = {
    { "service", "string", "" },
    { "name", "string", "\"ListMembers\", \"list_members\" or \"list-members\"" },
  },
  returns = { { "table?", "nil when unknown" } },
  errors = { "Raises a message when an argument is not a string." },
  example = [[
local op = aws.model.operation("detective", "list_members")
print(op.name, op.http_method, op.request_uri, op.paging.result_key)]],
})

add("model", {
  name = "aws.model.shape",
  call = "shape = aws.model.shape(service, name)",
  summary = "One shape: name, type and, as they apply, min, max, pattern, enum, sensitive, members (each with name, shape, required, location, ...), member_index, member, key, value, and the error fields.",
  params = {
    { "service", "string", "" },
    { "name", "string", "the model's shape name, e.g. \"MemberDetail\"" },
  },
  returns = { { "table?", "nil when unknown" } },
  errors = { "Raises a message when an argument is not a string." },
  example = [[
local sh = aws.model.shape("detective", "MemberStatus")
print(sh.type, table.concat(sh.enum, ", "))]],
})

-- ---------------------------------------------------------------------------------
-- Host

add("host", {
  name = "aws.VERSION",
  kind = "value",
  type = "string",
  summary = "The detlua version.",
})

add("host", {
  name = "aws.configure_defaults",
  call = "aws.configure_defaults(opts)",
  summary = "Replaces the defaults that clients created afterwards start from; the host calls it with --region, --profile, --endpoint-url, --debug, --dry-run and, under --local, the emulator's endpoint and keys. Existing clients keep their options. Other keys are ignored.",
  params = {
    { "opts", "table", "" },
    { "opts.region", "string", "", optional = true },
    { "opts.profile", "string", "", optional = true },
    { "opts.endpoint", "string", "", optional = true },
    { "opts.endpoint_url", "string", "the same; wins over opts.endpoint", optional = true },
    { "opts.debug", "boolean", "", optional = true },
    { "opts.credentials", "aws.Credentials|function|aws.CredentialsProvider", "", optional = true },
    { "opts.dry_run", "boolean", "", optional = true },
    { "opts.env", "table<string, string>", "", optional = true },
  },
  errors = { "Raises a Lua error when opts is not a table." },
})

add("host", {
  name = "aws.load_all",
  call = "aws = aws.load_all()",
  summary = "Loads now what `aws` otherwise loads on first use: its lazy fields (json, time, redact, model, wait, audit, assume_role, map, parallel) and the client methods defined by other modules (paging, batch helpers, waiters). For code that lists what aws offers; `pairs(aws)` calls it. Returns aws.",
  returns = { { "aws" } },
  example = [[
local aws_ = aws.load_all()
print(aws_ == aws, type(rawget(aws, "map")))]],
})

add("host", {
  name = "aws.shutdown",
  call = "aws.shutdown()",
  summary = "Called by the host when a run or REPL session ends, after closing the default clients; it has nothing to do at present.",
})

add("host", {
  name = "aws.emulator",
  kind = "value",
  type = "aws.Emulator?",
  only = "--local",
  summary = "Under `detlua run --local` (and `.local` in the REPL): the embedded emulator; nil otherwise, so `if aws.emulator then` tells a local run from a real one.",
})

add("host", {
  name = "aws.emulator:url",
  call = "url = aws.emulator:url()",
  summary = "The emulator's base URL (a loopback address and a free port), the endpoint of the default clients.",
  returns = { { "string" } },
  example = [[
if aws.emulator then print(aws.emulator:url()) end]],
})

add("host", {
  name = "aws.emulator:region",
  call = "region = aws.emulator:region()",
  summary = "The emulator's Region (--region, else the scenario's).",
  returns = { { "string" } },
  example = [[
if aws.emulator then print(aws.emulator:region()) end]],
})

add("host", {
  name = "aws.emulator:scenario",
  call = "scenario = aws.emulator:scenario()",
  summary = "The scenario the emulator serves (docs/emulator.md) without its secret keys: accounts (id, name, email, access_key_id, ...), administrator, organization, roles, region and the rest. Built once, then the same table.",
  returns = { { "table" } },
  example = [[
if aws.emulator then
  local sc = aws.emulator:scenario()
  for _, a in ipairs(sc.accounts) do print(a.id, a.name) end
end]],
})

return M
