-- detlua.apidoc: documentation of services and operations, rendered from the model
-- tables (aws.core.model): plain text for the REPL's help(), Markdown for docs/api/,
-- LuaLS type stubs for editors, and a short runnable example per operation whose
-- parameter values satisfy the model's constraints. The rest of the aws module (clients'
-- generic methods, credentials, audit log, utilities) is described by hand in
-- detlua.apidoc_core and rendered here the same three ways (core_text, core_markdown,
-- luals_core).
--
-- The service models carry no prose, so everything here is derived from their structure
-- (types, bounds, patterns, enums, errors, paging) and worded by us. It performs no I/O
-- and validates nothing at call time (aws.core.protocol does that); it only describes.
local model = require("aws.core.model")

local M = {}

local WIDTH = 100 -- wrap plain text here
local TEXT_MAX_LINES = 120 -- nested fields are expanded as deep as fits in this many lines
local TEXT_MAX_DEPTH = 4
local MD_DEPTH = 2 -- Markdown tables: top-level fields and one level below; deeper ones link

-- ---------------------------------------------------------------------------------
-- Lookups

local function get_service(service, who)
  if type(service) == "table" and type(service.svc) == "table" then service = service.svc end -- a client
  if type(service) == "table" and service.operations then return service end
  if type(service) ~= "string" then
    error("apidoc." .. who .. ": service: expected a name such as \"detective\", got " .. type(service), 3)
  end
  local svc = model.service(service)
  if not svc then
    error("apidoc." .. who .. ": unknown service \"" .. service .. "\" (known: "
      .. table.concat(model.services(), ", ") .. ")", 3)
  end
  return svc
end

local function get_op(service, op, who)
  local svc = get_service(service, who)
  if type(op) == "table" and op.name and svc.operations[op.name] then return svc, svc.operations[op.name] end
  if type(op) ~= "string" then
    error("apidoc." .. who .. ": operation: expected a name such as \"ListMembers\", got " .. type(op), 3)
  end
  local found = model.operation(svc.name, op)
  if not found then
    error("apidoc." .. who .. ": " .. svc.name .. " has no operation \"" .. op .. "\"", 3)
  end
  return svc, found
end

-- Members of a structure shape, in model order; [] for anything else or a missing shape.
local function members_of(svc, shape_name)
  local sh = shape_name and svc.shapes[shape_name]
  return sh and sh.members or {}
end

-- Required members first (in model order), then the optional ones.
local function ordered_members(svc, shape_name)
  local req, opt = {}, {}
  for _, m in ipairs(members_of(svc, shape_name)) do
    if m.required then req[#req + 1] = m else opt[#opt + 1] = m end
  end
  for _, m in ipairs(opt) do req[#req + 1] = m end
  return req
end

-- The structure a member leads to through any lists and maps (MemberDetails -> MemberDetail).
local function inner_structure(svc, shape_name)
  local seen = 0
  while shape_name and seen < 8 do
    local sh = svc.shapes[shape_name]
    if not sh then return nil end
    if sh.type == "structure" then return shape_name end
    if sh.type == "list" then shape_name = sh.member
    elseif sh.type == "map" then shape_name = sh.value
    else return nil end
    seen = seen + 1
  end
  return nil
end

-- How a member's path continues into its inner structure: "[]" per list, "[key]" per map.
local function path_suffix(svc, shape_name)
  local s = ""
  for _ = 1, 8 do
    local sh = svc.shapes[shape_name]
    if not sh then break end
    if sh.type == "list" then s, shape_name = s .. "[]", sh.member
    elseif sh.type == "map" then s, shape_name = s .. "[key]", sh.value
    else break end
  end
  return s
end

local function has_fields(svc, shape_name)
  return #members_of(svc, shape_name) > 0
end

-- ---------------------------------------------------------------------------------
-- Types and constraints, shared by every renderer

local SCALAR = {
  string = "string", integer = "integer", long = "integer", double = "number", float = "number",
  boolean = "boolean", timestamp = "timestamp", blob = "blob",
}

-- link(shape_name, kind) turns a structure or enum name into text (Markdown links); the
-- plain-text renderer passes nil and gets the bare name.
local function type_label(svc, shape_name, link)
  local sh = svc.shapes[shape_name]
  if not sh then return "?" end
  local function name(kind) return link and link(shape_name, kind) or shape_name end
  if sh.type == "structure" then return name("structure") end
  if sh.type == "list" then return "list of " .. type_label(svc, sh.member, link) end
  if sh.type == "map" then
    return "map of " .. type_label(svc, sh.key, link) .. " to " .. type_label(svc, sh.value, link)
  end
  if sh.enum then return "enum " .. name("enum") end
  return SCALAR[sh.type] or sh.type
end

local function fmt_num(n)
  if math.type(n) == "float" and n == math.floor(n) and math.abs(n) < 2 ^ 53 then
    return string.format("%d", n)
  end
  return tostring(n)
end

local SINGULAR = { characters = "character", bytes = "byte", items = "item", entries = "entry" }

local function bounds_text(sh, unit)
  local lo, hi = sh.min, sh.max
  if lo == nil and hi == nil then return nil end
  local function u(n)
    if not unit then return "" end
    return " " .. (n == 1 and SINGULAR[unit] or unit)
  end
  if lo and hi then
    if lo == hi then return "exactly " .. fmt_num(lo) .. u(lo) end
    return fmt_num(lo) .. ".." .. fmt_num(hi) .. u(2)
  end
  if lo then return "at least " .. fmt_num(lo) .. u(lo) end
  return "at most " .. fmt_num(hi) .. u(hi)
end

-- Constraint phrases for a value of shape `shape_name`. opts.enum_max: list at most this
-- many enum values (the rest are counted); opts.code(s): how to quote a literal.
local constraints
function constraints(svc, shape_name, opts)
  opts = opts or {}
  local code = opts.code or function(s) return s end
  local sh = svc.shapes[shape_name]
  local out = {}
  if not sh then return out end
  local t = sh.type
  local b
  if t == "string" then b = bounds_text(sh, "characters")
  elseif t == "blob" then b = bounds_text(sh, "bytes")
  elseif t == "list" then b = bounds_text(sh, "items")
  elseif t == "map" then b = bounds_text(sh, "entries")
  elseif t == "integer" or t == "long" or t == "double" or t == "float" then
    b = bounds_text(sh)
    if b then b = "range " .. b end
  end
  if b then out[#out + 1] = b end
  if sh.enum then
    local shown, n = {}, #sh.enum
    local limit = opts.enum_max or n
    for i = 1, math.min(n, limit) do shown[i] = code(sh.enum[i]) end
    local s = "one of " .. table.concat(shown, ", ")
    if n > limit then s = s .. string.format(", ... (%d values)", n) end
    out[#out + 1] = s
  end
  if sh.pattern then out[#out + 1] = "pattern " .. code(sh.pattern) end
  if t == "timestamp" and opts.is_input then out[#out + 1] = "ISO 8601 string or epoch seconds" end
  -- Constraints of scalar elements would otherwise hide behind "list of string".
  if not opts.nested then
    local sub = { enum_max = opts.enum_max, code = opts.code, is_input = opts.is_input, nested = true }
    local function inner(label, name)
      local ish = svc.shapes[name]
      if ish and ish.type ~= "structure" and ish.type ~= "list" and ish.type ~= "map" then
        local c = constraints(svc, name, sub)
        if #c > 0 then out[#out + 1] = label .. " " .. table.concat(c, ", ") end
      end
    end
    if t == "list" then inner("each item:", sh.member)
    elseif t == "map" then inner("keys:", sh.key); inner("values:", sh.value) end
  end
  if sh.sensitive then out[#out + 1] = "sensitive (redacted in logs)" end
  if sh.deprecated then out[#out + 1] = "deprecated" end
  return out
end

-- Where a parameter travels on the wire, when that is not the body.
local function location_text(m, code)
  code = code or function(s) return s end
  if m.location == "uri" then return "URI label " .. code("{" .. m.wire_name .. (m.greedy and "+" or "") .. "}") end
  if m.location == "querystring" then return "query " .. code(m.wire_name) end
  if m.location == "header" then return "header " .. code(m.wire_name) end
  if m.location == "headers" then return "headers with prefix " .. code(m.wire_name) end
  if m.location == "statusCode" then return "the HTTP status code" end
  return nil
end

local function member_notes(svc, m, opts, is_input, omit_required)
  local notes = {}
  opts.is_input = is_input
  if is_input and m.required and not omit_required then notes[#notes + 1] = "required" end
  if m.idempotency_token then notes[#notes + 1] = "idempotency token" end
  if m.deprecated then notes[#notes + 1] = "deprecated" end
  for _, c in ipairs(constraints(svc, m.shape, opts)) do notes[#notes + 1] = c end
  if opts.show_location then
    local loc = location_text(m, opts.code)
    if loc then notes[#notes + 1] = loc end
  end
  return notes
end

-- ---------------------------------------------------------------------------------
-- Call forms

local function client_var(svc) return svc.name end

local function call_prefix(svc, op)
  local assign = has_fields(svc, op.output) and "result = " or ""
  return assign .. client_var(svc) .. ":" .. op.lua_name
end

-- One line when it fits in `width`, else one parameter per line.
local function call_form(svc, op, width)
  local parts = {}
  for _, m in ipairs(ordered_members(svc, op.input)) do
    local p = m.name .. " = " .. type_label(svc, m.shape)
    parts[#parts + 1] = m.required and p or ("[" .. p .. "]")
  end
  local head = call_prefix(svc, op)
  if #parts == 0 then return head .. "()" end
  local line = head .. "{ " .. table.concat(parts, ", ") .. " }"
  if #line <= (width or WIDTH) then return line end
  return head .. "{\n  " .. table.concat(parts, ",\n  ") .. ",\n}"
end

-- Short: required names only, e.g. list_members{GraphArn, ...}
local function call_summary(svc, op)
  local req, n_opt = {}, 0
  for _, m in ipairs(members_of(svc, op.input)) do
    if m.required then req[#req + 1] = m.name else n_opt = n_opt + 1 end
  end
  if n_opt > 0 then req[#req + 1] = "..." end
  if #req == 0 and not op.input then return op.lua_name .. "()" end
  return op.lua_name .. "{" .. table.concat(req, ", ") .. "}"
end

-- ---------------------------------------------------------------------------------
-- Plain text

-- Splits text into lines of at most `width` columns (a single long word stays whole);
-- the first line has `first` columns less, the others start with `indent`.
local function wrap(text, width, first, indent)
  local lines, cur, avail = {}, "", width - first
  for word in text:gmatch("%S+") do
    if cur ~= "" and #cur + 1 + #word > avail then
      lines[#lines + 1] = cur
      cur, avail = word, width - #indent
    else
      cur = cur == "" and word or (cur .. " " .. word)
    end
  end
  lines[#lines + 1] = cur
  for i = 2, #lines do lines[i] = indent .. lines[i] end
  return lines
end

-- Rows {label, type, notes} for the members of a structure, nested ones indented below
-- their parent down to max_depth; a structure already on the path is marked recursive.
local function field_rows(svc, shape_name, max_depth, is_input, opts)
  local rows = {}
  local on_path = {}
  local function walk(sname, depth, indent)
    on_path[sname] = true
    for _, m in ipairs(is_input and ordered_members(svc, sname) or members_of(svc, sname)) do
      local notes = member_notes(svc, m, opts, is_input)
      local inner = inner_structure(svc, m.shape)
      local expand = inner and has_fields(svc, inner)
      if expand and on_path[inner] then
        notes[#notes + 1] = "recursive"
        expand = false
      elseif expand and depth >= max_depth then
        notes[#notes + 1] = "fields: see shape " .. inner
        expand = false
      end
      rows[#rows + 1] = { indent .. m.name .. (expand and path_suffix(svc, m.shape) or ""),
        type_label(svc, m.shape), table.concat(notes, "; ") }
      if expand then walk(inner, depth + 1, indent .. "  ") end
    end
    on_path[sname] = nil
  end
  walk(shape_name, 1, "")
  return rows
end

local function format_rows(rows, indent)
  local w1, w2 = 0, 0
  for _, r in ipairs(rows) do
    w1 = math.max(w1, math.min(#r[1], 40))
    w2 = math.max(w2, math.min(#r[2], 28))
  end
  local out = {}
  for _, r in ipairs(rows) do
    local head = indent .. r[1] .. string.rep(" ", math.max(1, w1 - #r[1] + 2))
      .. r[2] .. string.rep(" ", math.max(1, w2 - #r[2] + 2))
    local cont = string.rep(" ", #indent + w1 + 2 + w2 + 2)
    if r[3] == "" then
      out[#out + 1] = (head:gsub("%s+$", ""))
    else
      local lines = wrap(r[3], WIDTH, #head, cont)
      lines[1] = head .. lines[1]
      for _, l in ipairs(lines) do out[#out + 1] = l end
    end
  end
  return out
end

-- Expands as deep as fits in TEXT_MAX_LINES (at least the top level).
local function text_fields(svc, shape_name, is_input)
  local opts = { enum_max = 12 }
  local best
  for depth = TEXT_MAX_DEPTH, 1, -1 do
    best = format_rows(field_rows(svc, shape_name, depth, is_input, opts), "  ")
    if #best <= TEXT_MAX_LINES then break end
  end
  return best
end

-- client:each yields one value per list item, or key and value per map entry.
local function each_vars(svc, op)
  local out = svc.shapes[op.output]
  local idx = out and out.member_index and out.member_index[op.paging.result_key]
  local m = idx and out.members[idx]
  local sh = m and svc.shapes[m.shape]
  return (sh and sh.type == "map") and "key, value" or "item"
end

local function paging_lines(svc, op, params_text)
  local p = op.paging
  local out = {}
  local s = string.format("Pages: the result's %s goes back as the request's %s", p.output_token, p.input_token)
  if p.limit_key then s = s .. "; " .. p.limit_key .. " sets the page size" end
  if p.result_key then s = s .. "; items are in " .. p.result_key end
  out[#out + 1] = s .. "."
  local c = client_var(svc)
  out[#out + 1] = string.format("  for page in %s:pages(%q, %s) do ... end", c, op.lua_name, params_text)
  if p.result_key then
    out[#out + 1] = string.format("  for %s in %s:each(%q, %s) do ... end", each_vars(svc, op), c, op.lua_name, params_text)
  end
  out[#out + 1] = "  options (third argument): { page_size = n, max_pages = n, max_items = n }"
  return out
end

local function wire_text(svc, op)
  if svc.protocol == "query" then
    return string.format("%s %s with Action=%s, Version=%s (query protocol) -> %d", op.http_method,
      op.request_uri, op.name, svc.api_version, op.success_status)
  end
  return string.format("%s %s -> %d", op.http_method, op.request_uri, op.success_status)
end

-- The model flags some server errors as faults; others only by their 5xx status.
local function error_kind(sh)
  return (sh.fault or (sh.error_status or 0) >= 500) and "server" or "client"
end

function M.operation_text(service, op)
  local svc
  svc, op = get_op(service, op, "operation_text")
  local out = {}
  local function add(s) out[#out + 1] = s end
  add(call_form(svc, op, WIDTH))
  add("")
  add(string.format("%s.%s: %s", svc.service_id, op.name, wire_text(svc, op)))
  if op.deprecated then add("Deprecated: the model marks this operation deprecated; prefer its replacement.") end
  add("")
  if has_fields(svc, op.input) then
    add("Parameters (" .. op.input .. "):")
    for _, l in ipairs(text_fields(svc, op.input, true)) do add(l) end
  else
    add("Parameters: none.")
  end
  add("")
  if has_fields(svc, op.output) then
    add("Result (" .. op.output .. "):")
    for _, l in ipairs(text_fields(svc, op.output, false)) do add(l) end
  else
    add("Result: no fields.")
  end
  add("")
  if #op.errors > 0 then
    add("Errors (aws.Error .code, HTTP status):")
    local rows = {}
    for _, e in ipairs(op.errors) do
      local sh = svc.shapes[e]
      local code = sh and sh.error_code or e
      local note = error_kind(sh or {}) .. " error"
      if code ~= e then note = note .. ", shape " .. e end
      rows[#rows + 1] = { code, sh and sh.error_status and ("HTTP " .. sh.error_status) or "", note }
    end
    for _, l in ipairs(format_rows(rows, "  ")) do add(l) end
  else
    add("Errors: none modeled.")
  end
  add("  Any call may also raise transport, credential and throttling errors (aws.Error).")
  if op.paging then
    add("")
    local req = {}
    for _, m in ipairs(ordered_members(svc, op.input)) do
      if m.required then req[#req + 1] = m.name .. " = ..." end
    end
    local params_text = "{" .. table.concat(req, ", ") .. "}"
    for _, l in ipairs(paging_lines(svc, op, params_text)) do add(l) end
  end
  add("")
  add("Example:")
  for l in (M.example(svc, op) .. "\n"):gmatch("(.-)\n") do add(l == "" and "" or ("  " .. l)) end
  while out[#out] == "" do out[#out] = nil end
  return table.concat(out, "\n") .. "\n"
end

function M.service_text(service)
  local svc = get_service(service, "service_text")
  local out = {}
  out[#out + 1] = string.format("%s (%s), API version %s, %s protocol: %d operations",
    svc.full_name, svc.name, svc.api_version, svc.protocol, #svc.operation_names)
  out[#out + 1] = string.format("Call as %s:operation{...}; help(%s.operation) for one operation.",
    client_var(svc), client_var(svc))
  out[#out + 1] = ""
  local rows = {}
  for _, name in ipairs(svc.operation_names) do
    local op = svc.operations[name]
    local notes = {}
    if op.paging then notes[#notes + 1] = "pages" .. (op.paging.result_key and (" " .. op.paging.result_key) or "") end
    if op.deprecated then notes[#notes + 1] = "deprecated" end
    rows[#rows + 1] = { call_summary(svc, op), "", table.concat(notes, ", ") }
  end
  local w = 0
  for _, r in ipairs(rows) do w = math.max(w, math.min(#r[1], 60)) end
  for _, r in ipairs(rows) do
    local line = "  " .. r[1]
    if r[3] ~= "" then line = line .. string.rep(" ", math.max(2, w - #r[1] + 2)) .. r[3] end
    out[#out + 1] = line
  end
  return table.concat(out, "\n") .. "\n"
end

-- One shape: a structure's fields (required ones marked), an enum's values, or a scalar's
-- type and constraints. The operation help refers here for fields nested too deep to show.
function M.shape_text(service, shape_name)
  local svc = get_service(service, "shape_text")
  if type(shape_name) ~= "string" then
    error("apidoc.shape_text: shape: expected a shape name, got " .. type(shape_name), 2)
  end
  local sh = svc.shapes[shape_name]
  if not sh then
    error("apidoc.shape_text: " .. svc.name .. " has no shape \"" .. shape_name .. "\"", 2)
  end
  local out = {}
  if sh.type == "structure" then
    local kind = sh.exception and string.format("error shape, code %s, HTTP %s",
      tostring(sh.error_code or shape_name), tostring(sh.error_status or "?")) or "structure"
    out[#out + 1] = string.format("%s.%s (%s)", svc.name, shape_name, kind)
    if has_fields(svc, shape_name) then
      for _, l in ipairs(text_fields(svc, shape_name, true)) do out[#out + 1] = l end
    else
      out[#out + 1] = "  no fields"
    end
  else
    out[#out + 1] = string.format("%s.%s: %s", svc.name, shape_name, type_label(svc, shape_name))
    if sh.enum then
      for _, v in ipairs(sh.enum) do out[#out + 1] = "  " .. v end
    else
      for _, c in ipairs(constraints(svc, shape_name, { is_input = true })) do out[#out + 1] = "  " .. c end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- ---------------------------------------------------------------------------------
-- Examples: values that satisfy the model's constraints (length, range, enum, and the
-- pattern, which is searched for as Smithy specifies). Known names get realistic values;
-- anything else is built from the shape.

local GRAPH_ARN = "arn:aws:detective:us-east-1:111122223333:graph:027c7c4610ea4aacaf0b883093cab899"
local DETECTOR_ID = "12abc34d567e8fa901bc2d34e56789f0"

-- By "service.Member", then by member name, then by "service.Shape", then by shape name.
local EXAMPLES = {
  -- Detective
  GraphArn = GRAPH_ARN,
  ["detective.ResourceArn"] = GRAPH_ARN,
  AccountId = "444455556666",
  AdministratorAccountId = "111122223333",
  AdminAccountId = "111122223333",
  MasterAccountId = "111122223333",
  EmailAddress = "security-team@example.com",
  Email = "security-team@example.com",
  ["detective.InvestigationId"] = "000000000000000000001",
  ["detective.EntityArn"] = "arn:aws:iam::444455556666:role/ExampleRole",
  ["detective.Message"] = "Please join our behavior graph.",
  ["detective.EmailMessage"] = "Please join our behavior graph.",
  TagKey = "team",
  TagValue = "security",
  -- GuardDuty
  DetectorId = DETECTOR_ID,
  ["guardduty.ResourceArn"] = "arn:aws:guardduty:us-east-1:111122223333:detector/" .. DETECTOR_ID,
  ["guardduty.InvestigationId"] = "a1b2c3d4-5678-90ab-cdef-111122223333",
  FindingId = "6ab6e9f9ea0f2c4bd3b4f5e1a9c3e2d1",
  FilterName = "example-filter",
  IpSetId = "0cb0141ab9fbde177613ab9436212e90",
  ThreatIntelSetId = "0cb0141ab9fbde177613ab9436212e90",
  PublishingDestinationId = "0cb0141ab9fbde177613ab9436212e90",
  MalwareProtectionPlanId = "b4c7f464ab3a4EXAMPLE",
  ["guardduty.Location"] = "https://s3.amazonaws.com/amzn-s3-demo-bucket/ip-list.txt",
  ["guardduty.Name"] = "example-name",
  ["guardduty.Role"] = "arn:aws:iam::111122223333:role/ExampleRole",
  ["guardduty.ClientToken"] = "3f0c9e0e-5b1d-4f8e-9c3a-111122223333",
  ["guardduty.EntitySetId"] = "0cb0141ab9fbde177613ab9436212e90",
  ["guardduty.AdministratorId"] = "111122223333",
  ["guardduty.MasterId"] = "111122223333",
  ["guardduty.InvitationId"] = "84b097800250d17d1872b34c4daadcf5",
  ["guardduty.DestinationId"] = "0cb0141ab9fbde177613ab9436212e90",
  ["guardduty.ThreatEntitySetId"] = "0cb0141ab9fbde177613ab9436212e90",
  ["guardduty.TrustedEntitySetId"] = "0cb0141ab9fbde177613ab9436212e90",
  ["guardduty.ScanId"] = "123456789012345678901234567890ab",
  ["guardduty.TriggerPrompt"] = "Summarize the activity of the affected instance.",
  ["guardduty.FindingCriteria"] = { Criterion = { severity = { GreaterThanOrEqual = 7 } } },
  ["guardduty.ProtectedResource"] = { S3Bucket = { BucketName = "amzn-s3-demo-bucket" } },
  ["guardduty.DestinationProperties"] = {
    DestinationArn = "arn:aws:s3:::amzn-s3-demo-bucket",
    KmsKeyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  },
  ["guardduty.UsageCriteria"] = { Features = { "CLOUD_TRAIL" } },
  -- STS
  RoleArn = "arn:aws:iam::111122223333:role/ExampleRole",
  RoleSessionName = "detlua-session",
  PrincipalArn = "arn:aws:iam::111122223333:saml-provider/ExampleProvider",
  SAMLAssertion = "PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiPg==",
  WebIdentityToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJleGFtcGxlIn0.c2lnbmF0dXJl",
  EncodedMessage = "AQoDYXdzEJr1example",
  AccessKeyId = "AKIAIOSFODNN7EXAMPLE",
  ["sts.Name"] = "example-user",
  SerialNumber = "arn:aws:iam::111122223333:mfa/example-user",
  TokenCode = "123456",
  TargetPrincipal = "444455556666",
  SigningAlgorithm = "RS256",
  TradeInToken = "example-trade-in-token",
  TaskPolicyArn = { arn = "arn:aws:iam::aws:policy/ExampleTaskPolicy" },
  RootTaskPolicyArn = { arn = "arn:aws:iam::aws:policy/ExampleTaskPolicy" },
  Audience = "sts.amazonaws.com",
}

local function example_string(svc, name, sh)
  local s = name:gsub("(%l)(%u)", "%1-%2"):lower()
  s = "example-" .. s
  local lo, hi = sh.min or 0, sh.max
  while #s < lo do s = s .. "x" end
  if hi and #s > hi then s = s:sub(1, math.max(hi, lo)) end
  return s
end

local function type_matches(sh, v)
  local t = sh.type
  if t == "string" or t == "blob" then return type(v) == "string" end
  if t == "timestamp" then return type(v) == "string" or type(v) == "number" end
  if t == "integer" or t == "long" then return math.type(v) == "integer" end
  if t == "double" or t == "float" then return type(v) == "number" end
  if t == "boolean" then return type(v) == "boolean" end
  return type(v) == "table"
end

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = deep_copy(x) end
  return t
end

local function example_value(svc, member_name, shape_name, depth)
  local sh = svc.shapes[shape_name]
  if not sh then return nil end
  for _, key in ipairs({ svc.name .. "." .. member_name, member_name, svc.name .. "." .. shape_name, shape_name }) do
    local v = EXAMPLES[key]
    if v ~= nil and type_matches(sh, v) then return deep_copy(v) end
  end
  local t = sh.type
  if sh.enum then return sh.enum[1] end
  if t == "string" then return example_string(svc, member_name, sh) end
  if t == "blob" then return example_string(svc, member_name, sh) end
  if t == "timestamp" then return "2024-01-15T00:00:00Z" end
  if t == "boolean" then return true end
  if t == "integer" or t == "long" then
    local v = math.max(sh.min or 1, 1)
    if sh.max and v > sh.max then v = sh.max end
    return math.tointeger(v) or v
  end
  if t == "double" or t == "float" then
    local v = math.max(sh.min or 1, 1)
    if sh.max and v > sh.max then v = sh.max end
    return v + 0.0
  end
  if depth > 6 then return nil end
  if t == "list" then
    local n = math.max(sh.min or 1, 1)
    if sh.max and n > sh.max then n = sh.max end
    local list = {}
    local singular = member_name:gsub("ies$", "y"):gsub("s$", "")
    for i = 1, n do list[i] = example_value(svc, singular, sh.member, depth + 1) end
    return list
  end
  if t == "map" then
    local k = example_value(svc, "Key", sh.key, depth + 1)
    local v = example_value(svc, member_name, sh.value, depth + 1)
    return { [k] = v }
  end
  if t == "structure" then
    local out = {}
    for _, m in ipairs(sh.members) do
      if m.required then out[m.name] = example_value(svc, m.name, m.shape, depth + 1) end
    end
    return out
  end
  return nil
end

-- The parameters the example passes: every required member (recursively), nothing else.
function M.example_params(service, op)
  local svc
  svc, op = get_op(service, op, "example_params")
  if not op.input then return nil end
  return example_value(svc, op.name, op.input, 0)
end

local function is_ident(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

-- Lua source for v, which has shape `shape_name`: structure fields in model order, map
-- keys sorted, nested tables indented.
local function lua_literal(svc, shape_name, v, indent)
  local sh = shape_name and svc.shapes[shape_name]
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "number" then
    if math.type(v) == "float" then
      local f = string.format("%.14g", v)
      return f:find("[%.eEn]") and f or (f .. ".0")
    end
    return tostring(v)
  end
  if type(v) ~= "table" then return tostring(v) end
  local inner = indent .. "  "
  local parts = {}
  if sh and sh.type == "list" then
    for _, x in ipairs(v) do parts[#parts + 1] = lua_literal(svc, sh.member, x, inner) end
  elseif sh and sh.type == "structure" then
    for _, m in ipairs(ordered_members(svc, shape_name)) do
      if v[m.name] ~= nil then
        parts[#parts + 1] = m.name .. " = " .. lua_literal(svc, m.shape, v[m.name], inner)
      end
    end
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      local key = is_ident(k) and k or ("[" .. string.format("%q", k) .. "]")
      parts[#parts + 1] = key .. " = " .. lua_literal(svc, sh and sh.value, v[k], inner)
    end
  end
  if #parts == 0 then return "{}" end
  local one = "{ " .. table.concat(parts, ", ") .. " }"
  if #one + #indent <= 72 and not one:find("\n") then return one end
  return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. ",\n" .. indent .. "}"
end

function M.example(service, op)
  local svc
  svc, op = get_op(service, op, "example")
  local c = client_var(svc)
  local out = {}
  out[#out + 1] = string.format("-- %s.%s; run with: detlua run --local example.lua (or --region R for AWS)", svc.service_id, op.name)
  out[#out + 1] = string.format("-- In a stock lua5.4: local %s = require(\"aws.%s\").new{ region = \"us-east-1\" }", c, svc.name)
  local params = M.example_params(svc, op)
  local call
  if params == nil then
    call = c .. ":" .. op.lua_name .. "()"
  else
    local lit = lua_literal(svc, op.input, params, "")
    if lit == "{}" then call = c .. ":" .. op.lua_name .. "{}" else call = c .. ":" .. op.lua_name .. lit end
  end
  if has_fields(svc, op.output) then
    out[#out + 1] = "local result = " .. call
    local rk = op.paging and op.paging.result_key
    local rsh = rk and svc.shapes[members_of(svc, op.output)[svc.shapes[op.output].member_index[rk]].shape]
    if rsh and rsh.type == "list" then
      out[#out + 1] = "for _, item in ipairs(result." .. rk .. " or {}) do"
      out[#out + 1] = "  print(aws.json.encode(item))"
      out[#out + 1] = "end"
    else
      out[#out + 1] = "print(aws.json.encode(result))"
    end
  else
    out[#out + 1] = call
  end
  return table.concat(out, "\n") .. "\n"
end

-- ---------------------------------------------------------------------------------
-- Markdown

local function anchor(kind, name)
  return kind .. "-" .. name:lower():gsub("[^%w]+", "-")
end

-- Inline code that survives a GFM table: pipes escaped, backticks fenced by a longer run.
local function md_code(s)
  s = tostring(s):gsub("|", "\\|")
  local fence = "`"
  while s:find(fence, 1, true) do fence = fence .. "`" end
  local pad = (s:sub(1, 1) == "`" or s:sub(-1) == "`") and " " or ""
  return fence .. pad .. s .. pad .. fence
end

local function md_link(shape_name)
  return "[" .. shape_name .. "](#" .. anchor("shape", shape_name) .. ")"
end

local function md_type(svc, shape_name)
  return type_label(svc, shape_name, md_link)
end

local function md_fields_table(svc, shape_name, is_input, out)
  local opts = { enum_max = 8, code = md_code, show_location = is_input }
  if is_input then
    out[#out + 1] = "| Parameter | Type | Required | Notes |"
    out[#out + 1] = "| --- | --- | --- | --- |"
  else
    out[#out + 1] = "| Field | Type | Notes |"
    out[#out + 1] = "| --- | --- | --- |"
  end
  local on_path = {}
  local function walk(sname, depth, prefix)
    on_path[sname] = true
    for _, m in ipairs(is_input and ordered_members(svc, sname) or members_of(svc, sname)) do
      local notes = {}
      for _, n in ipairs(member_notes(svc, m, opts, is_input, true)) do notes[#notes + 1] = n end
      local path = prefix .. m.name
      local row
      if is_input then
        row = string.format("| %s | %s | %s | %s |", md_code(path), md_type(svc, m.shape),
          m.required and "yes" or "", table.concat(notes, "; "))
      else
        row = string.format("| %s | %s | %s |", md_code(path), md_type(svc, m.shape), table.concat(notes, "; "))
      end
      out[#out + 1] = row
      local inner = inner_structure(svc, m.shape)
      if inner and has_fields(svc, inner) and not on_path[inner] and depth < MD_DEPTH then
        walk(inner, depth + 1, path .. path_suffix(svc, m.shape) .. ".")
      end
    end
    on_path[sname] = nil
  end
  walk(shape_name, 1, "")
end

local function md_fence(lang, text)
  return "```" .. lang .. "\n" .. text:gsub("\n$", "") .. "\n```"
end

function M.operation_markdown(service, op)
  local svc
  svc, op = get_op(service, op, "operation_markdown")
  local out = {}
  local function add(s) out[#out + 1] = s end
  add(string.format('<a id="%s"></a>', anchor("op", op.name)))
  add("")
  add("## " .. op.name)
  add("")
  local facts = { md_code(op.http_method .. " " .. op.request_uri) .. " → " .. op.success_status }
  if svc.protocol == "query" then facts[1] = md_code("Action=" .. op.name) .. " (query protocol) → " .. op.success_status end
  if op.paging then facts[#facts + 1] = "[pages](#" .. anchor("paging", op.name) .. ")" end
  if op.deprecated then facts[#facts + 1] = "**deprecated**" end
  add(table.concat(facts, " · "))
  add("")
  add(md_fence("lua", call_form(svc, op, 90)))
  add("")
  if has_fields(svc, op.input) then
    add("**Parameters** (" .. md_code(op.input) .. ")")
    add("")
    md_fields_table(svc, op.input, true, out)
  else
    add("**Parameters**: none.")
  end
  add("")
  if has_fields(svc, op.output) then
    add("**Result** (" .. md_code(op.output) .. ")")
    add("")
    md_fields_table(svc, op.output, false, out)
  else
    add("**Result**: no fields.")
  end
  add("")
  if #op.errors > 0 then
    add("**Errors**")
    add("")
    add("| Code | HTTP status | Kind |")
    add("| --- | --- | --- |")
    for _, e in ipairs(op.errors) do
      local sh = svc.shapes[e] or {}
      local code = sh.error_code or e
      add(string.format("| [%s](#%s) | %s | %s |", md_code(code), anchor("shape", e),
        sh.error_status and tostring(sh.error_status) or "", error_kind(sh)))
    end
  else
    add("**Errors**: none modeled.")
  end
  add("")
  if op.paging then
    local p = op.paging
    add(string.format('<a id="%s"></a>', anchor("paging", op.name)))
    local s = string.format("**Paging**: the result's %s is sent back as the request's %s until it is absent",
      md_code(p.output_token), md_code(p.input_token))
    if p.limit_key then s = s .. "; " .. md_code(p.limit_key) .. " sets the page size" end
    if p.result_key then s = s .. "; the items are in " .. md_code(p.result_key) end
    add(s .. ". A third argument `{ page_size = n, max_pages = n, max_items = n }` bounds the loop.")
    add("")
    local req = {}
    for _, m in ipairs(ordered_members(svc, op.input)) do
      if m.required then req[#req + 1] = m.name .. " = ..." end
    end
    local params_text = "{ " .. table.concat(req, ", ") .. " }"
    if #req == 0 then params_text = "{}" end
    local lines = { string.format("for page in %s:pages(%q, %s) do ... end", svc.name, op.lua_name, params_text) }
    if p.result_key then
      lines[#lines + 1] = string.format("for %s in %s:each(%q, %s) do ... end", each_vars(svc, op), svc.name, op.lua_name, params_text)
    end
    add(md_fence("lua", table.concat(lines, "\n")))
    add("")
  end
  add("**Example**")
  add("")
  add(md_fence("lua", M.example(svc, op)))
  return table.concat(out, "\n") .. "\n"
end

-- Structures and enums reachable from the operations' inputs, outputs and errors; the
-- inputs and outputs themselves are described with their operation.
local function reachable_shapes(svc)
  local seen, top = {}, {}
  local function visit(name)
    if not name or seen[name] then return end
    local sh = svc.shapes[name]
    if not sh then return end
    seen[name] = true
    if sh.type == "structure" then
      for _, m in ipairs(sh.members) do visit(m.shape) end
    elseif sh.type == "list" then visit(sh.member)
    elseif sh.type == "map" then visit(sh.key); visit(sh.value) end
  end
  for _, n in ipairs(svc.operation_names) do
    local op = svc.operations[n]
    if op.input then top[op.input] = true end
    if op.output then top[op.output] = true end
    visit(op.input); visit(op.output)
    for _, e in ipairs(op.errors) do visit(e) end
  end
  local list = {}
  for name in pairs(seen) do
    local sh = svc.shapes[name]
    if (sh.type == "structure" and not top[name]) or sh.enum then list[#list + 1] = name end
  end
  table.sort(list)
  return list
end

local function generated_line(svc)
  return string.format("GENERATED by scripts/gen-docs.lua from the %s model (sha256 %s); do not edit.",
    svc.name, svc.model_sha256 or "unknown")
end

function M.service_markdown(service)
  local svc = get_service(service, "service_markdown")
  local out = {}
  local function add(s) out[#out + 1] = s end
  add("<!-- " .. generated_line(svc) .. " -->")
  add("")
  add(string.format("# %s (`%s`)", svc.full_name, svc.name))
  add("")
  add(string.format("API version %s · %s protocol · signing name %s · endpoint prefix %s · %d operations.",
    md_code(svc.api_version), svc.protocol, md_code(svc.signing_name), md_code(svc.endpoint_prefix),
    #svc.operation_names))
  add("")
  add("Parameters and result fields use the model's member names unchanged. In `detlua run` and the")
  add(string.format("REPL the global `%s` is a ready client; elsewhere create one:", svc.name))
  add("")
  add(md_fence("lua", string.format([[
local aws = require("aws")
local %s = aws.client("%s", { region = "us-east-1" })
-- or, from a stock lua5.4 with the installed modules:
local %s = require("aws.%s").new{ region = "us-east-1" }]], svc.name, svc.name, svc.name, svc.name)))
  add("")
  add("Caller mistakes (a missing or unknown parameter, a value outside the constraints below) raise")
  add("a Lua error before any request is sent. Service failures raise an `aws.Error` whose `code` is one")
  add("of the operation's errors listed below.")
  add("")
  add("## Operations")
  add("")
  add("| Operation | Call | Notes |")
  add("| --- | --- | --- |")
  for _, name in ipairs(svc.operation_names) do
    local op = svc.operations[name]
    local notes = {}
    if op.paging then notes[#notes + 1] = "pages" end
    if op.deprecated then notes[#notes + 1] = "deprecated" end
    add(string.format("| [%s](#%s) | %s | %s |", name, anchor("op", name),
      md_code(svc.name .. ":" .. call_summary(svc, op)), table.concat(notes, ", ")))
  end
  add("")
  for _, name in ipairs(svc.operation_names) do
    add(M.operation_markdown(svc, name))
  end
  local shapes = reachable_shapes(svc)
  if #shapes > 0 then
    add("## Structures and enums")
    add("")
    for _, name in ipairs(shapes) do
      local sh = svc.shapes[name]
      add(string.format('<a id="%s"></a>', anchor("shape", name)))
      add("")
      add("### " .. name)
      add("")
      if sh.enum then
        local vals = {}
        for i, v in ipairs(sh.enum) do vals[i] = md_code(v) end
        add("String enum: " .. table.concat(vals, ", ") .. ".")
      elseif sh.exception then
        add(string.format("Error shape: code %s, HTTP %s (%s error). Its fields arrive in the aws.Error's `fields`.",
          md_code(sh.error_code or name), tostring(sh.error_status or "?"), error_kind(sh)))
        if has_fields(svc, name) then
          add("")
          md_fields_table(svc, name, false, out)
        end
      elseif has_fields(svc, name) then
        add("Structure.")
        add("")
        md_fields_table(svc, name, false, out)
      else
        add("Structure with no fields.")
      end
      add("")
    end
  end
  while out[#out] == "" do out[#out] = nil end
  return table.concat(out, "\n") .. "\n"
end

-- ---------------------------------------------------------------------------------
-- LuaLS stubs (---@meta files). Operation inputs and outputs become
-- <service>.<Operation>Input / Output; other structures keep their model names; enums
-- become string-literal aliases.

local function luals_class_names(svc)
  local names = {}
  for _, n in ipairs(svc.operation_names) do
    local op = svc.operations[n]
    if op.input and not names[op.input] then names[op.input] = svc.name .. "." .. op.name .. "Input" end
    if op.output and not names[op.output] then names[op.output] = svc.name .. "." .. op.name .. "Output" end
  end
  return names
end

local function luals_type(svc, shape_name, classes)
  local sh = svc.shapes[shape_name]
  if not sh then return "any" end
  local t = sh.type
  if t == "structure" then return classes[shape_name] or (svc.name .. "." .. shape_name) end
  if t == "list" then
    local inner = luals_type(svc, sh.member, classes)
    if inner:find("|", 1, true) then inner = "(" .. inner .. ")" end
    return inner .. "[]"
  end
  if t == "map" then
    return "table<" .. luals_type(svc, sh.key, classes) .. ", " .. luals_type(svc, sh.value, classes) .. ">"
  end
  if sh.enum then return svc.name .. "." .. shape_name end
  if t == "string" or t == "blob" then return "string" end
  if t == "integer" or t == "long" then return "integer" end
  if t == "double" or t == "float" then return "number" end
  if t == "boolean" then return "boolean" end
  if t == "timestamp" then return "aws.Timestamp" end
  return "any"
end

local function luals_comment(parts)
  local s = table.concat(parts, "; ")
  return (s:gsub("[\r\n]", " "))
end

function M.luals(service)
  local svc = get_service(service, "luals")
  local classes = luals_class_names(svc)
  local out = {}
  local function add(s) out[#out + 1] = s end
  -- LuaLS wants ---@meta as the file's first line, so the GENERATED line comes second.
  add("---@meta")
  add("-- " .. generated_line(svc))
  add(string.format("-- LuaLS types for %s (%s): point workspace.library at docs/types.", svc.full_name, svc.name))
  add("")
  local enums, structs = {}, {}
  for name, sh in pairs(svc.shapes) do
    if sh.enum then enums[#enums + 1] = name
    elseif sh.type == "structure" then structs[#structs + 1] = name end
  end
  table.sort(enums)
  table.sort(structs, function(a, b) return (classes[a] or a) < (classes[b] or b) end)
  for _, name in ipairs(enums) do
    add("---@alias " .. svc.name .. "." .. name)
    for _, v in ipairs(svc.shapes[name].enum) do add("---| " .. string.format("%q", v)) end
    add("")
  end
  for _, name in ipairs(structs) do
    local sh = svc.shapes[name]
    add("---@class " .. (classes[name] or (svc.name .. "." .. name)))
    for _, m in ipairs(sh.members) do
      local notes = constraints(svc, m.shape, { enum_max = 0 })
      for i = #notes, 1, -1 do if notes[i]:match("^one of") then table.remove(notes, i) end end
      if m.deprecated then table.insert(notes, 1, "deprecated") end
      local c = #notes > 0 and (" " .. luals_comment(notes)) or ""
      add(string.format("---@field %s%s %s%s", m.name, m.required and "" or "?", luals_type(svc, m.shape, classes), c))
    end
    add("")
  end
  local cls = svc.name .. ".Client"
  add(string.format("---A client for %s; operations take one table of parameters.", svc.full_name))
  add("---@class " .. cls .. ": aws.Client")
  add("local Client = {}")
  add("")
  for _, n in ipairs(svc.operation_names) do
    local op = svc.operations[n]
    local facts = { svc.service_id .. "." .. op.name }
    if op.paging then facts[#facts + 1] = "pages" .. (op.paging.result_key and (" " .. op.paging.result_key) or "") end
    if #op.errors > 0 then
      local codes = {}
      for i, e in ipairs(op.errors) do codes[i] = (svc.shapes[e] and svc.shapes[e].error_code) or e end
      facts[#facts + 1] = "errors: " .. table.concat(codes, ", ")
    end
    add("---" .. table.concat(facts, "; "))
    if op.deprecated then add("---@deprecated") end
    if op.input then
      local any_required = false
      for _, m in ipairs(members_of(svc, op.input)) do if m.required then any_required = true end end
      add(string.format("---@param params%s %s", any_required and "" or "?", classes[op.input]))
    end
    if op.output then add("---@return " .. classes[op.output]) end
    add(string.format("function Client:%s(%s) end", op.lua_name, op.input and "params" or ""))
    add("")
  end
  add(string.format("---The module aws.%s: clients for %s.", svc.name, svc.full_name))
  add(string.format("---@class aws.%s", svc.name))
  add(string.format("---@overload fun(opts?: aws.ClientOptions): %s", cls))
  add("local module = {}")
  add("")
  add("---@param opts? aws.ClientOptions")
  add("---@return " .. cls)
  add("function module.new(opts) end")
  add("")
  add("return module")
  return table.concat(out, "\n") .. "\n"
end

-- ---------------------------------------------------------------------------------
-- The hand-described API (detlua.apidoc_core): everything of the aws module that the
-- models do not describe. Rendered as REPL help text, docs/api/aws.md and the core stub.

local core_data
local function core()
  core_data = core_data or require("detlua.apidoc_core")
  return core_data
end

-- The entries, in document order (shared tables: do not modify).
function M.core_entries()
  return core().ENTRIES
end

-- Set of every documented name, and the internal ones with their reasons.
function M.core_names()
  local names = {}
  for _, e in ipairs(core().ENTRIES) do names[e.name] = e end
  return names, core().INTERNAL
end

local function strip_code(s)
  return (s:gsub("`", ""))
end

-- For the *_all helpers: which list is split and how long a chunk may be (the model's
-- limit on that list, as aws.batch reads it).
local function batch_fact(e)
  local svc = e.batch_op and model.service("detective")
  local op = svc and svc.operations[e.batch_op]
  if not op then return nil end
  local found
  for _, m in ipairs(members_of(svc, op.input)) do
    local sh = svc.shapes[m.shape]
    if m.required and sh.type == "list" and sh.max then found = m end
  end
  if not found then return nil end
  return string.format("Splits `%s` into chunks of at most %s items (the model's limit for one %s call).",
    found.name, fmt_num(svc.shapes[found.shape].max), e.batch_op)
end

-- The entry named `name`: exact, then "detective:pages" as "client:pages", then a unique
-- last component ("pages", "map", "encode").
local function find_core(name)
  local by = M.core_names()
  if by[name] then return by[name] end
  local s, rest = name:match("^(%w+):([%w_]+)$")
  if s and model.service(s) and by["client:" .. rest] then return by["client:" .. rest] end
  local hit
  for _, e in ipairs(core().ENTRIES) do
    if e.name:match("[%.:]([%w_]+)$") == name then
      if hit then return nil end
      hit = e
    end
  end
  return hit
end

-- The value an entry names in the running process, or nil (used to find an entry from a
-- function value, as help(aws.map) passes it).
local function live_value(e)
  local ok, v = pcall(function()
    local obj, member = e.name:match("^(.-):([%w_]+)$")
    if obj == "client" then return require("aws.client").methods[member] end
    if obj == "session" then return require("aws.credentials").Session[member] end
    if obj == "provider" then return require("aws.credentials").Provider[member] end
    if obj == "aws.emulator" then
      local aws = package.loaded.aws
      return aws and aws.emulator and aws.emulator[member]
    end
    if obj then return nil end
    local t
    local path = e.name
    if path:sub(1, 16) == "aws.credentials." then
      t, path = require("aws.credentials"), path:sub(17)
    else
      t, path = require("aws"), path:sub(5)
    end
    for part in path:gmatch("[^%.]+") do
      if type(t) ~= "table" then return nil end
      t = t[part]
    end
    return t
  end)
  return ok and v or nil
end

-- The entry describing x (a name or a function of the aws module), or nil.
function M.core_entry(x)
  if type(x) == "string" then return find_core((x:gsub("^%s+", ""):gsub("%s+$", ""))) end
  if type(x) == "function" then
    for _, e in ipairs(core().ENTRIES) do
      if e.kind == "function" and live_value(e) == x then return e end
    end
  end
  return nil
end

local function top_params(e)
  local out = {}
  for _, p in ipairs(e.params or {}) do
    if not p[1]:find(".", 1, true) or p[1] == "..." then out[#out + 1] = p end
  end
  return out
end

-- Plain text for help(): call form, summary, parameters, results, errors, example.
function M.core_text(x)
  local e = M.core_entry(x)
  if not e then return nil end
  local out = {}
  local function add(s) out[#out + 1] = s end
  local function para(text, indent)
    for _, l in ipairs(wrap(strip_code(text), WIDTH, #indent, indent)) do add((l:sub(1, #indent) == indent and l or indent .. l)) end
  end
  if e.kind == "function" then
    add(e.call)
  else
    add(string.format("%s (%s)", e.name, e.kind == "module" and ("module " .. e.type) or e.type))
  end
  add("")
  para(e.summary, "")
  local fact = batch_fact(e)
  if fact then para(fact, "") end
  if e.params and #e.params > 0 then
    add("")
    add("Parameters:")
    local rows = {}
    for _, p in ipairs(e.params) do
      local notes = p[3] or ""
      if p.optional then notes = notes == "" and "optional" or ("optional; " .. notes) end
      rows[#rows + 1] = { p[1], p[2], strip_code(notes) }
    end
    for _, l in ipairs(format_rows(rows, "  ")) do add(l) end
  end
  if e.returns and #e.returns > 0 then
    add("")
    add("Returns:")
    local rows = {}
    for _, r in ipairs(e.returns) do
      rows[#rows + 1] = { r.name or r[1], r.name and r[1] or "", strip_code(r[2] or "") }
    end
    for _, l in ipairs(format_rows(rows, "  ")) do add(l) end
  end
  if e.errors and #e.errors > 0 then
    add("")
    add("Errors:")
    for _, s in ipairs(e.errors) do
      local lines = wrap(strip_code(s), WIDTH, 4, "    ")
      lines[1] = "  - " .. lines[1]
      for _, l in ipairs(lines) do add(l) end
    end
  end
  if e.example then
    add("")
    add("Example:")
    for l in (e.example .. "\n"):gmatch("(.-)\n") do add(l == "" and "" or ("  " .. l)) end
  end
  return table.concat(out, "\n") .. "\n"
end

-- One line per documented name, for help(aws).
function M.core_summary_text()
  local out = { "The aws module (help(\"aws.map\"), help(\"client:pages\"), ... for one entry):" }
  for _, sec in ipairs(core().SECTIONS) do
    local names = {}
    for _, e in ipairs(core().ENTRIES) do
      if e.section == sec[1] then names[#names + 1] = e.name end
    end
    if #names > 0 then
      local lines = wrap(table.concat(names, ", "), WIDTH, 2 + 14, string.rep(" ", 16))
      lines[1] = string.format("  %-14s", sec[2]) .. lines[1]
      for _, l in ipairs(lines) do out[#out + 1] = l end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- Anchors of docs/api/aws.md: entries "api-<name>", classes "type-<name>", lower case; a
-- name differing from an earlier one only in case (provider, Provider) gets a "-2".
local core_anchors
local function core_anchor(name, is_class)
  if not core_anchors then
    core_anchors = {}
    local used = {}
    local function assign(key, base)
      local a = base:lower():gsub("[^%w]+", "-"):gsub("%-+$", "")
      local n, try = 1, a
      while used[try] do n = n + 1; try = a .. "-" .. n end
      used[try] = true
      core_anchors[key] = try
    end
    for _, e in ipairs(core().ENTRIES) do assign(e.name, "api-" .. e.name) end
    for _, c in ipairs(core().CLASSES) do assign("class " .. c.class, "type-" .. c.class) end
  end
  return core_anchors[is_class and ("class " .. name) or name]
end

local function md_one_line(s)
  return (s:gsub("\n", " "))
end

local function core_entry_markdown(e, out)
  local function add(s) out[#out + 1] = s end
  add(string.format('<a id="%s"></a>', core_anchor(e.name)))
  add("")
  add("### " .. e.name)
  add("")
  if e.kind ~= "function" then
    local what = e.kind == "module" and "module" or "value"
    add(string.format("%s %s · %s", what, md_code(e.type), e.summary))
    add("")
    return
  end
  add(md_fence("lua", e.call))
  add("")
  add(e.summary)
  local fact = batch_fact(e)
  if fact then add("") add(fact) end
  add("")
  if e.params and #e.params > 0 then
    add("**Parameters**")
    add("")
    add("| Parameter | Type | Required | Notes |")
    add("| --- | --- | --- | --- |")
    for _, p in ipairs(e.params) do
      add(string.format("| %s | %s | %s | %s |", md_code(p[1]), md_code(p[2]), p.optional and "" or "yes",
        md_one_line((p[3] or ""):gsub("|", "\\|"))))
    end
  else
    add("**Parameters**: none.")
  end
  add("")
  if e.returns and #e.returns > 0 then
    local named = false
    for _, r in ipairs(e.returns) do if r.name then named = true end end
    add("**Returns**")
    add("")
    if named then
      add("| Name | Type | Notes |")
      add("| --- | --- | --- |")
    else
      add("| Type | Notes |")
      add("| --- | --- |")
    end
    for _, r in ipairs(e.returns) do
      local notes = md_one_line((r[2] or ""):gsub("|", "\\|"))
      if named then
        add(string.format("| %s | %s | %s |", md_code(r.name or ""), md_code(r[1]), notes))
      else
        add(string.format("| %s | %s |", md_code(r[1]), notes))
      end
    end
  else
    add("**Returns**: nothing.")
  end
  add("")
  if e.errors and #e.errors > 0 then
    add("**Errors**")
    add("")
    for _, s in ipairs(e.errors) do add("- " .. s) end
    add("")
  end
  if e.example then
    add("**Example**")
    add("")
    add(md_fence("lua", e.example))
    add("")
  end
end

-- docs/api/aws.md: the aws module page.
function M.core_markdown()
  local C = core()
  local out = {}
  local function add(s) out[#out + 1] = s end
  add("<!-- GENERATED by scripts/gen-docs.lua from detlua.apidoc (runtime/lua/detlua/apidoc_core.lua); do not edit. -->")
  add("")
  add("# The `aws` module")
  add("")
  add("Everything of `aws` that is not an operation of a service: clients and their generic methods,")
  add("paging, batch helpers, waiters, errors, concurrency, credentials, the audit log and the utility")
  add("modules. The operations themselves are on the service pages ([index](README.md)). In")
  add("`detlua run`, `detlua -e` and the REPL `aws` is a global and `detective`, `guardduty` and `sts`")
  add("are ready clients; elsewhere `local aws = require(\"aws\")`. Caller mistakes raise a message")
  add("(a string) before anything is sent; failures of services, transport and credentials raise an")
  add("`aws.Error`. Each example runs as it is under `detlua run --local`.")
  add("")
  add("| Section | Entries |")
  add("| --- | --- |")
  for _, sec in ipairs(C.SECTIONS) do
    local links = {}
    for _, e in ipairs(C.ENTRIES) do
      if e.section == sec[1] then links[#links + 1] = "[" .. md_code(e.name) .. "](#" .. core_anchor(e.name) .. ")" end
    end
    if #links > 0 then
      add(string.format("| [%s](#%s) | %s |", sec[2], "section-" .. sec[1], table.concat(links, " · ")))
    end
  end
  add(string.format("| [Types](#section-types) | %s |", (function()
    local links = {}
    for _, c in ipairs(C.CLASSES) do links[#links + 1] = "[" .. md_code(c.class) .. "](#" .. core_anchor(c.class, true) .. ")" end
    return table.concat(links, " · ")
  end)()))
  add("")
  for _, sec in ipairs(C.SECTIONS) do
    add(string.format('<a id="section-%s"></a>', sec[1]))
    add("")
    add("## " .. sec[2])
    add("")
    if sec[3] then
      add(sec[3])
      add("")
    end
    for _, e in ipairs(C.ENTRIES) do
      if e.section == sec[1] then core_entry_markdown(e, out) end
    end
  end
  add('<a id="section-types"></a>')
  add("")
  add("## Types")
  add("")
  add("Names used in the types above (also the classes of the LuaLS stubs in docs/types).")
  add("")
  for _, c in ipairs(C.CLASSES) do
    add(string.format('<a id="%s"></a>', core_anchor(c.class, true)))
    add("")
    add("### " .. c.class)
    add("")
    if c.summary then
      add(c.summary)
      add("")
    end
    if c.fields and #c.fields > 0 then
      add("| Field | Type | Notes |")
      add("| --- | --- | --- |")
      for _, f in ipairs(c.fields) do
        add(string.format("| %s | %s | %s |", md_code(f[1]), md_code(f[2]), md_one_line((f[3] or ""):gsub("|", "\\|"))))
      end
      add("")
    end
  end
  while out[#out] == "" do out[#out] = nil end
  return table.concat(out, "\n") .. "\n"
end

-- LuaLS: the type of a top-level parameter; a plain "table" with documented fields
-- becomes an inline table type unless the entry accepts more than it lists (open).
local function luals_param_type(e, p)
  if p[2] ~= "table" or p.open then return p[2] end
  local fields = {}
  local prefix = p[1] .. "."
  for _, q in ipairs(e.params or {}) do
    if q[1]:sub(1, #prefix) == prefix then
      local f = q[1]:sub(#prefix + 1)
      if not f:find(".", 1, true) then
        if not f:match("^[%a_][%w_]*$") then return p[2] end
        fields[#fields + 1] = f .. (q.optional and "?" or "") .. ": " .. q[2]
      end
    end
  end
  if #fields == 0 then return p[2] end
  return "{" .. table.concat(fields, ", ") .. "}"
end

local function luals_text(s)
  return (strip_code(s or ""):gsub("[\r\n]+", " "))
end

local function luals_function(e, target, out, services)
  local function add(s) out[#out + 1] = s end
  add("---" .. luals_text(e.summary))
  if e.service_overloads then
    for _, s in ipairs(services) do
      add(string.format("---@overload fun(service: %q, opts?: aws.ClientOptions): %s.Client", s, s))
    end
  end
  local names = {}
  for _, p in ipairs(top_params(e)) do
    names[#names + 1] = p[1]
    local notes = luals_text(p[3])
    add(string.format("---@param %s%s %s%s", p[1], (p.optional and p[1] ~= "...") and "?" or "",
      luals_param_type(e, p), notes ~= "" and (" # " .. notes) or ""))
  end
  for _, r in ipairs(e.returns or {}) do
    local notes = luals_text(r[2])
    add(string.format("---@return %s%s%s", r[1], r.name and (" " .. r.name) or "", notes ~= "" and (" # " .. notes) or ""))
  end
  add(string.format("function %s(%s) end", target, table.concat(names, ", ")))
  add("")
end

local function lua_local(class)
  return (class:gsub("^aws%.", ""):gsub("[^%w_]", "_"))
end

-- The core stub (docs/types/aws.lua): the aws module and its submodules, the objects
-- they return (clients, sessions, providers, audit logs), aws.Error, the option classes,
-- and the globals detlua run and the REPL define.
function M.luals_core()
  local C = core()
  local services = model.services()
  local out = {}
  local function add(s) out[#out + 1] = s end
  add("---@meta")
  add("-- GENERATED by scripts/gen-docs.lua from detlua.apidoc (services: " .. table.concat(services, ", ") .. "); do not edit.")
  add("-- LuaLS types for the aws module: point workspace.library at docs/types.")
  add("")
  add("---ISO 8601 string (\"2024-01-15T00:00:00Z\") or seconds since the epoch.")
  add("---@alias aws.Timestamp string|number")
  add("")
  -- owner -> entries: methods by object class, functions and values by module path
  local by_owner, method_owner = {}, {}
  for prefix, class in pairs(C.OBJECTS) do method_owner[prefix] = class end
  local function owner_list(o)
    by_owner[o] = by_owner[o] or {}
    return by_owner[o]
  end
  for _, e in ipairs(C.ENTRIES) do
    local obj, member = e.name:match("^(.-):([%w_]+)$")
    if obj then
      table.insert(owner_list(method_owner[obj]), { e = e, member = member, method = true })
    else
      local parent, m = e.name:match("^(.*)%.([%w_]+)$")
      table.insert(owner_list(parent), { e = e, member = m })
    end
  end
  for _, c in ipairs(C.CLASSES) do
    if c.summary then add("---" .. luals_text(c.summary)) end
    add("---@class " .. c.class)
    for _, f in ipairs(c.fields or {}) do
      local notes = luals_text(f[3])
      add(string.format("---@field %s %s%s", f[1], f[2], notes ~= "" and (" " .. notes) or ""))
    end
    local methods = by_owner[c.class]
    if methods then
      local var = lua_local(c.class)
      add("local " .. var .. " = {}")
      add("")
      for _, it in ipairs(methods) do luals_function(it.e, var .. ":" .. it.member, out, services) end
    else
      add("")
    end
  end
  -- modules: aws.json, aws.time, ..., then aws itself
  local function module_block(path, var)
    local items = by_owner[path] or {}
    for _, it in ipairs(items) do
      if it.e.kind ~= "function" then
        local t = it.e.kind == "module" and it.e.type or it.e.type
        if it.e.only == "--local" then t = t:gsub("%?$", "") .. "?" end
        if it.e.only ~= "require" then
          add(string.format("---@field %s %s %s", it.member, t, luals_text(it.e.summary)))
        end
      end
    end
    add("local " .. var .. " = {}")
    add("")
    for _, it in ipairs(items) do
      if it.e.kind == "function" then luals_function(it.e, var .. "." .. it.member, out, services) end
    end
  end
  for _, e in ipairs(C.ENTRIES) do
    if e.kind == "module" then
      add("---" .. luals_text(e.summary))
      add("---@class " .. e.type)
      module_block(e.name, lua_local(e.type))
    end
  end
  add("---The aws module.")
  add("---@class aws")
  module_block("aws", "aws")
  add("-- Globals defined by `detlua run`, `detlua -e` and the REPL.")
  add("")
  add("---@type aws")
  add("_G.aws = aws")
  for _, s in ipairs(services) do
    add("")
    add(string.format("---@type %s.Client", s))
    add(string.format("_G.%s = nil", s))
  end
  add("")
  add("return aws")
  return table.concat(out, "\n") .. "\n"
end

-- Stubs for modules reached with require() rather than through aws (docs/types/aws/<name>.lua),
-- so that `require("aws.credentials")` has a type in editors. Returns {name = text}.
function M.luals_required_modules()
  local files = {}
  for _, e in ipairs(core().ENTRIES) do
    if e.kind == "module" and e.only == "require" then
      local var = lua_local(e.type)
      files[e.name:gsub("^aws%.", "")] = table.concat({
        "---@meta",
        "-- GENERATED by scripts/gen-docs.lua from detlua.apidoc; do not edit.",
        "-- " .. luals_text(e.summary),
        "-- The functions are declared in docs/types/aws.lua (class " .. e.type .. ").",
        "",
        "---@type " .. e.type,
        "local " .. var .. " = {}",
        "",
        "return " .. var,
      }, "\n") .. "\n"
    end
  end
  return files
end

-- Index page of docs/api.
function M.index_markdown()
  local out = {}
  out[#out + 1] = "<!-- GENERATED by scripts/gen-docs.lua from detlua.apidoc; do not edit. -->"
  out[#out + 1] = ""
  out[#out + 1] = "# API reference"
  out[#out + 1] = ""
  out[#out + 1] = "One page per bound service, generated from the same model tables the clients use, and one"
  out[#out + 1] = "for the rest of the `aws` module."
  out[#out + 1] = ""
  out[#out + 1] = "- [The `aws` module](aws.md): `aws.client` and the generic client methods (paging, batch"
  out[#out + 1] = "  helpers, waiters), errors, `aws.map`/`aws.parallel`, `aws.wait`, `aws.assume_role` and"
  out[#out + 1] = "  `aws.credentials`, `aws.audit`, `aws.json`, `aws.time`, `aws.redact`, `aws.sigv4`,"
  out[#out + 1] = "  `aws.model`, host hooks and `aws.emulator`."
  out[#out + 1] = ""
  out[#out + 1] = "| Service | Module | Operations | API version |"
  out[#out + 1] = "| --- | --- | --- | --- |"
  for _, s in ipairs(model.services()) do
    local svc = model.service(s)
    out[#out + 1] = string.format("| [%s](%s.md) | `aws.%s` | %d | %s |", svc.full_name, s, s,
      #svc.operation_names, svc.api_version)
  end
  return table.concat(out, "\n") .. "\n"
end

return M
