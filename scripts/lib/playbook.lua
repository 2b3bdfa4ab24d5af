-- scripts/lib/playbook.lua: the small pieces the shipped playbooks and audits share:
-- reading their --name=value arguments, the member-account client through an assumed
-- role, a CSV reader that reports every bad row with its line number, terminal tables and
-- CSV output, and leaving with an exit status. Loaded with dofile() from a playbook:
--
--   local P = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/../lib/playbook.lua")
--
-- It makes no AWS call of its own (the assume-role helper is the one exception) and keeps
-- no state: logging, emit(), confirm() and waiting come from the detlua run kit.
local P = {}

-- --- arguments ----------------------------------------------------------------------------

-- Usage mistakes: message on stderr, exit status 2 (as the detlua CLI does), nothing sent.
function P.usage(name, msg)
  io.stderr:write(name, ": ", msg, "\n")
  P.exit(2)
end

-- Arguments that take a value: "--name" alone (true) is a usage error.
function P.need_values(name, keys)
  for _, k in ipairs(keys) do
    if args[k] == true then
      local opt = "--" .. k:gsub("_", "-")
      P.usage(name, opt .. " needs a value (" .. opt .. "=...)")
    end
  end
end

-- An expected failure (no graph, nothing to investigate, ...): logged on stderr without a
-- stack trace, exit status 1.
function P.fail(name, msg)
  log.error("%s: %s", name, msg)
  P.exit(1)
end

-- A flag given as --flag, --flag=true/yes/1 or --flag=false/no/0.
function P.flag(v)
  if v == nil or v == false then return false end
  if v == true then return true end
  local s = tostring(v):lower()
  if s == "" or s == "1" or s == "true" or s == "yes" or s == "on" then return true end
  if s == "0" or s == "false" or s == "no" or s == "off" then return false end
  return nil
end

-- "a,b, c" -> {"a","b","c"} (empty items dropped)
function P.list(v)
  local out = {}
  if type(v) ~= "string" then return out end
  for item in v:gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

-- A duration argument ("24h", "90m", "300" seconds) -> seconds, or nil, message.
function P.duration(v)
  if type(v) ~= "string" then return nil, "expected a duration such as 24h, 90m or 30s" end
  if v:match("^%d+%.?%d*$") then return tonumber(v) end
  local ok, s = pcall(aws.time.duration, v)
  if not ok or s <= 0 then return nil, "expected a duration such as 24h, 90m or 30s, got \"" .. v .. "\"" end
  return s
end

-- A positive integer argument -> number, or nil, message.
function P.integer(v, min, max)
  local n = math.tointeger(tonumber(v))
  if not n or n < min or n > max then
    return nil, string.format("expected an integer from %d to %d, got %q", min, max, tostring(v))
  end
  return n
end

-- True when --dry-run was given to `detlua run`: mutating calls are not sent.
function P.dry_run()
  local kit = rawget(_G, "kit")
  if kit and kit.dry_run ~= nil then
    if type(kit.dry_run) == "function" then return kit.dry_run() and true or false end
    return kit.dry_run and true or false
  end
  local d = rawget(_G, "detective")
  return (d and d.opts and d.opts.dry_run) and true or false
end

-- kit.progress when the kit provides it (a progress line on stderr), else nothing.
function P.progress(done, total, label)
  local kit = rawget(_G, "kit")
  if kit and kit.progress then kit.progress(done, total, label) end
end

-- Flushes stdout and leaves with `code` (0 returns normally so `detlua run` cleans up).
function P.exit(code)
  io.stdout:flush()
  io.stderr:flush()
  if code ~= 0 then os.exit(code, true) end
end

-- The arguments every audit takes: --regions=R1,R2,..., --format=table|csv|json and the
-- --all flag. Usage mistakes leave at once (P.usage). Returns format, all, regions.
function P.audit_args(name)
  local KNOWN = { regions = true, format = true, all = true }
  for k in pairs(args) do
    if type(k) == "string" and not KNOWN[k] then P.usage(name, "unknown argument --" .. k:gsub("_", "-")) end
  end
  P.need_values(name, { "regions", "format" })
  if args[1] then P.usage(name, "unexpected argument " .. tostring(args[1])) end
  local format = args.format or "table"
  if format ~= "table" and format ~= "csv" and format ~= "json" then P.usage(name, "--format: expected table, csv or json") end
  local all = P.flag(args.all)
  if all == nil then P.usage(name, "--all is a flag") end
  if args.regions ~= nil and type(args.regions) ~= "string" then P.usage(name, "--regions: expected R1,R2,...") end
  local regions = args.regions and P.list(args.regions) or { P.region() }
  if #regions == 0 then P.usage(name, "--regions: expected R1,R2,...") end
  for _, r in ipairs(regions) do
    if not r:match("^[a-z][a-z]+%-[a-z0-9%-]*%d$") then P.usage(name, "--regions: \"" .. r .. "\" is not a Region name") end
  end
  return format, all, regions
end

-- --- AWS helpers --------------------------------------------------------------------------

-- aws.map from the runtime (concurrent), or a sequential stand-in with the same results
-- shape: results[i] = fn(list[i], i), errs[i] = what it raised.
P.map = aws.map or function(list, fn)
  local results, errs = {}, {}
  for i, item in ipairs(list) do
    local ok, v = pcall(fn, item, i)
    if ok then results[i] = v else errs[i] = v end
  end
  return results, errs
end

-- One line for an error: "Code: message" for aws.Error, the text (first line) otherwise.
function P.describe_error(e)
  if aws.is_error(e) then
    local msg = tostring(e.message or "")
    return tostring(e.code or e.kind) .. (msg ~= "" and (": " .. msg) or "")
  end
  return (tostring(e):match("^[^\n]*"))
end

-- The ARNs of the behavior graphs client c administers, and the rows an audit of its Region
-- starts with: none, or one { region, [status_key] = "NO_GRAPH", reason } when there is no graph.
function P.audit_graphs(c, region, status_key)
  local graphs, rows = {}, {}
  for g in c:each("list_graphs", {}) do graphs[#graphs + 1] = g.Arn end
  if #graphs == 0 then
    rows[1] = { region = region, [status_key] = "NO_GRAPH",
      reason = "no behavior graph: Detective is not enabled for this account in this Region" }
  end
  return graphs, rows
end

-- Runs audit_region(region) for every Region concurrently and returns all their rows in
-- Region order. A Region that raised gives one row { region, [status_key] = "ERROR",
-- reason } (and a warning) instead. Each row gets graph_id, the last part of its graph_arn.
function P.audit_regions(regions, audit_region, status_key)
  local results, errs = P.map(regions, audit_region, { concurrency = math.min(#regions, 16) })
  local rows = {}
  for i, region in ipairs(regions) do
    if errs[i] ~= nil then
      log.warn("%s: %s", region, P.describe_error(errs[i]))
      rows[#rows + 1] = { region = region, [status_key] = "ERROR", reason = P.describe_error(errs[i]) }
    else
      for _, r in ipairs(results[i] or {}) do rows[#rows + 1] = r end
    end
  end
  for _, r in ipairs(rows) do r.graph_id = r.graph_arn and r.graph_arn:match("graph:(%x+)$") or r.graph_arn end
  return rows
end

-- Why a member is ACCEPTED_BUT_DISABLED, from its DisabledReason: "CODE: explanation".
local DISABLED = {
  VOLUME_UNKNOWN = "Detective cannot see the account's data volume: it has not been a GuardDuty "
    .. "customer for 48 hours (Detective re-checks hourly)",
  VOLUME_TOO_HIGH = "enabling the account would take the graph's data volume over the quota",
}
function P.disabled_reason(m)
  return (m.DisabledReason and (m.DisabledReason .. ": ") or "") .. (DISABLED[m.DisabledReason] or "not enabled")
end

-- The partition of a Region (for ARNs built by hand).
function P.partition(region)
  region = region or ""
  if region:match("^cn%-") then return "aws-cn" end
  if region:match("^us%-gov%-") then return "aws-us-gov" end
  return "aws"
end

-- A client for `service` acting as `role_arn` (an assumed role) in `region`. The
-- temporary credentials go straight into the client; they are never returned or printed.
function P.assume_client(service, role_arn, region, session_name)
  session_name = session_name or "detlua-playbook"
  if aws.assume_role then
    local sess = aws.assume_role{ RoleArn = role_arn, RoleSessionName = session_name }
    return sess:client(service, { region = region })
  end
  local c = sts:assume_role{ RoleArn = role_arn, RoleSessionName = session_name }.Credentials
  return aws.client(service, { region = region, credentials = {
    access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey, session_token = c.SessionToken } })
end

function P.role_arn(partition, account, role_name)
  return string.format("arn:%s:iam::%s:role/%s", partition, account, role_name)
end

-- The Region the default clients use.
function P.region()
  return detective:config().region
end

-- --- CSV ----------------------------------------------------------------------------------

-- Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
-- Returns fields or nil, message.
local function csv_fields(line)
  local fields, i, n = {}, 1, #line
  while true do
    local c = line:sub(i, i)
    if c == '"' then
      local buf, j = {}, i + 1
      while true do
        local q = line:find('"', j, true)
        if not q then return nil, "unterminated quoted field" end
        buf[#buf + 1] = line:sub(j, q - 1)
        if line:sub(q + 1, q + 1) == '"' then
          buf[#buf + 1] = '"'
          j = q + 2
        else
          j = q + 1
          break
        end
      end
      fields[#fields + 1] = table.concat(buf)
      local after = line:match("^%s*()", j)
      if after > n then return fields end
      if line:sub(after, after) ~= "," then return nil, "unexpected text after a quoted field" end
      i = after + 1
    else
      local comma = line:find(",", i, true)
      if comma then
        fields[#fields + 1] = line:sub(i, comma - 1)
        i = comma + 1
      else
        fields[#fields + 1] = line:sub(i)
        return fields
      end
    end
  end
end

local function trim(s) return (s:match("^%s*(.-)%s*$")) end

-- read_accounts_csv(path, {email_required = bool}) -> rows, errors
-- rows: {{AccountId, EmailAddress (or nil), line}}; errors: {{line, message}} (line 0 =
-- the file itself). The header names the columns AccountId and EmailAddress (any case,
-- any order; other columns are ignored). Blank lines and lines starting with # are
-- skipped. Every row is checked before the caller does anything.
function P.read_accounts_csv(path, opts)
  opts = opts or {}
  local f, oerr = io.open(path, "rb")
  if not f then return {}, { { line = 0, message = "cannot open: " .. tostring(oerr) } } end
  local text = f:read("a") or ""
  f:close()
  text = text:gsub("^\239\187\191", "") -- UTF-8 byte order mark
  local rows, errs = {}, {}
  local function bad(line, msg) errs[#errs + 1] = { line = line, message = msg } end
  local header, col_id, col_email, ncols
  local seen = {}
  local lineno = 0
  for raw in (text .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local line = raw:gsub("\r$", "")
    if trim(line) == "" or line:match("^%s*#") then goto continue end
    do
      local fields, ferr = csv_fields(line)
      if not fields then
        bad(lineno, ferr)
        if not header then return rows, errs end
        goto continue
      end
      for k, v in ipairs(fields) do fields[k] = trim(v) end
      if not header then
        header = fields
        ncols = #fields
        for k, v in ipairs(fields) do
          local l = v:lower()
          if l == "accountid" then col_id = k elseif l == "emailaddress" then col_email = k end
        end
        if not col_id or (opts.email_required ~= false and not col_email) then
          bad(lineno, "the header must name the columns AccountId and EmailAddress"
            .. (opts.email_required == false and " (EmailAddress may be left empty here)" or "")
            .. ", got: " .. line)
          return rows, errs
        end
        goto continue
      end
      if #fields ~= ncols then
        bad(lineno, string.format("expected %d fields like the header, got %d", ncols, #fields))
        goto continue
      end
      local id = fields[col_id]
      local email = col_email and fields[col_email] or ""
      local ok = true
      if not id:match("^%d%d%d%d%d%d%d%d%d%d%d%d$") then
        bad(lineno, string.format("AccountId %q is not a 12-digit account id", id))
        ok = false
      elseif seen[id] then
        bad(lineno, string.format("AccountId %s is listed twice (first on line %d)", id, seen[id]))
        ok = false
      end
      if email == "" then
        if opts.email_required ~= false then
          bad(lineno, "EmailAddress is empty (the account's root email is required to invite it)")
          ok = false
        end
      elseif not email:match("^[^@%s]+@[^@%s]+%.[^@%s]+$") or #email > 64 then
        bad(lineno, string.format("EmailAddress %q is not an email address", email))
        ok = false
      end
      if ok then
        seen[id] = lineno
        rows[#rows + 1] = { AccountId = id, EmailAddress = email ~= "" and email or nil, line = lineno }
      end
    end
    ::continue::
  end
  if not header then bad(0, "the file is empty (expected a header line: AccountId,EmailAddress)") end
  return rows, errs
end

-- The accounts of a playbook's --csv=FILE, every row checked before anything is sent: on any
-- bad row, each is reported on stderr as FILE:LINE: message, the summary is emitted as
-- {playbook, ok = false, errors} and the playbook exits 2.
function P.accounts_csv_or_exit(name, path, opts)
  local rows, errs = P.read_accounts_csv(path, opts)
  if #errs > 0 then
    for _, e in ipairs(errs) do io.stderr:write(string.format("%s:%d: %s\n", path, e.line, e.message)) end
    io.stderr:write(string.format("%s: %d bad row(s) in %s; nothing was sent\n", name, #errs, path))
    emit{ playbook = name, ok = false, errors = errs }
    P.exit(2)
  end
  return rows
end

-- --- output -------------------------------------------------------------------------------

-- Prints rows as an aligned table. columns: {{key, title}, ...}; a cell is tostring(row[key])
-- or "-" when absent.
function P.print_table(rows, columns, out)
  out = out or io.stdout
  local widths = {}
  local function cell(row, c)
    local v = row[c[1]]
    if v == nil or v == "" then return "-" end
    return tostring(v)
  end
  for i, c in ipairs(columns) do
    widths[i] = #c[2]
    for _, r in ipairs(rows) do widths[i] = math.max(widths[i], #cell(r, c)) end
  end
  local function line(values)
    local parts = {}
    for i, v in ipairs(values) do
      parts[i] = i == #values and v or (v .. string.rep(" ", widths[i] - #v))
    end
    out:write(table.concat(parts, "  "), "\n")
  end
  local titles = {}
  for i, c in ipairs(columns) do titles[i] = c[2] end
  line(titles)
  for _, r in ipairs(rows) do
    local vals = {}
    for i, c in ipairs(columns) do vals[i] = cell(r, c) end
    line(vals)
  end
end

local function csv_quote(v)
  if v == nil then return "" end
  v = tostring(v)
  if v:find('[,"\r\n]') or v:match("^%s") or v:match("%s$") then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

-- Prints rows as CSV with a header line of the column keys.
function P.print_csv(rows, columns, out)
  out = out or io.stdout
  local head = {}
  for i, c in ipairs(columns) do head[i] = csv_quote(c[1]) end
  out:write(table.concat(head, ","), "\n")
  for _, r in ipairs(rows) do
    local vals = {}
    for i, c in ipairs(columns) do vals[i] = csv_quote(r[c[1]]) end
    out:write(table.concat(vals, ","), "\n")
  end
end

-- Prints rows in the chosen format: "table", "csv" or "json" (one emit() per row).
function P.print_rows(format, rows, columns)
  if format == "csv" then
    P.print_csv(rows, columns)
  elseif format == "json" then
    for _, r in ipairs(rows) do emit(r) end
  else
    P.print_table(rows, columns)
  end
end

return P
