-- gen_corpus.lua: writes the generated part of the fuzz seed corpora (tests/fuzz/corpus/).
--
--   build/detlua tests/fuzz/gen_corpus.lua [OUTDIR]      (default tests/fuzz/corpus)
--
-- Runs a short session against the in-process emulator (built-in scenario) with every
-- Detective and GuardDuty operation called once with the example parameters of the API
-- reference (detlua.apidoc), plus a realistic sequence that succeeds, and records through
-- the client's transport hook:
--   emulator/  each request as sent, in the harness's message form, with "x-fuzz-sign:
--              <service>" in place of the (stale) signature headers;
--   restjson/  each Detective/GuardDuty response (byte 0 = the operation's index);
--   sts_xml/   each STS response;
--   build/     each parameter table, in fuzz_build.c's structured encoding.
-- The hand-written seeds (config/, sigv4/ and a few of the others) live beside them and
-- are not touched. Files are named after their content, so re-running adds nothing new
-- unless the emulator's answers changed.
local aws = require("aws")
local client_mod = require("aws.client")
local model = require("aws.core.model")
local apidoc = require("detlua.apidoc")
local crypto = require("aws.core.crypto")

local OUT = arg and arg[1] or "tests/fuzz/corpus"
local MAX_SEED_BYTES = 8192

local function write(dir, data)
  if #data > MAX_SEED_BYTES then return end
  os.execute("mkdir -p '" .. OUT .. "/" .. dir .. "'")
  local name = OUT .. "/" .. dir .. "/gen-" .. crypto.sha256_hex(data):sub(1, 16)
  local f = assert(io.open(name, "wb"))
  f:write(data)
  f:close()
end

-- operation index as the harnesses compute it: operations sorted by name, services in order
local function op_index(services, svc, op)
  local base = 0
  for _, s in ipairs(services) do
    local names = model.service(s).operation_names
    if s == svc then
      for i, n in ipairs(names) do
        if n == op then return base + i - 1 end
      end
    end
    base = base + #names
  end
  error("no operation " .. svc .. "." .. op)
end

-- --- fuzz_build.c's structured encoding ------------------------------------------------------
local function encode(v, out, depth)
  depth = depth or 0
  local t = type(v)
  if v == nil then
    out[#out + 1] = string.char(0)
  elseif t == "boolean" then
    out[#out + 1] = string.char(v and 2 or 1)
  elseif t == "number" then
    if math.type(v) == "integer" then
      out[#out + 1] = string.char(4) .. string.pack("<i8", v)
    else
      out[#out + 1] = string.char(5) .. string.pack("<d", v)
    end
  elseif t == "string" then
    local s = v:sub(1, 255)
    out[#out + 1] = string.char(7, #s) .. s
  elseif t == "table" then
    local n, is_array = 0, true
    for k in pairs(v) do
      n = n + 1
      if math.type(k) ~= "integer" then is_array = false end
    end
    n = math.min(n, 15)
    if is_array and n > 0 then
      out[#out + 1] = string.char(10, n)
      for i = 1, n do encode(v[i], out, depth + 1) end
    else
      out[#out + 1] = string.char(9, n)
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      for i = 1, n do
        encode(keys[i], out, depth + 1)
        encode(v[keys[i]], out, depth + 1)
      end
    end
  else
    out[#out + 1] = string.char(0)
  end
  return out
end

local BUILD_SERVICES = { "detective", "guardduty", "sts" }
local function record_params(svc, op, params)
  local idx = op_index(BUILD_SERVICES, svc, op)
  write("build", string.char(idx) .. table.concat(encode(params, {})))
end

-- --- recording the wire --------------------------------------------------------------------------
local SKIP_HEADERS = { authorization = true, ["x-amz-date"] = true, ["x-amz-security-token"] = true,
  ["x-amz-content-sha256"] = true, host = true, ["user-agent"] = true, ["content-length"] = true }

local current -- {svc, op}
local real_send = client_mod.send
client_mod.hooks.transport = nil
local function transport(cl, req)
  client_mod.hooks.transport = nil
  local status, rh, body = real_send(cl, req)
  client_mod.hooks.transport = transport
  local svc, op = current.svc, current.op
  -- the request, for the router
  local target = req.url:gsub("^%a+://[^/]*", "")
  local lines = { req.method, target, "x-fuzz-sign: " .. model.service(svc).signing_name }
  for _, h in ipairs(req.headers) do
    if not SKIP_HEADERS[h[1]:lower()] then lines[#lines + 1] = h[1] .. ": " .. h[2] end
  end
  write("emulator", table.concat(lines, "\n") .. "\n\n" .. (req.body or ""))
  -- the response, for the parsers
  if status then
    local hl = { tostring(status) }
    for k, v in pairs(rh or {}) do
      if k ~= "date" and k ~= "x-amzn-requestid" then hl[#hl + 1] = k .. ": " .. v end
    end
    table.sort(hl, function(a, b) return a == tostring(status) or (b ~= tostring(status) and a < b) end)
    local msg = table.concat(hl, "\n") .. "\n\n" .. (body or "")
    if svc == "sts" then
      write("sts_xml", string.char(op_index({ "sts" }, "sts", op)) .. msg)
    else
      write("restjson", string.char(op_index({ "detective", "guardduty" }, svc, op)) .. msg)
    end
  end
  return status, rh, body
end
client_mod.hooks.transport = transport

local emu = require("aws.core.emulator").start { port = 0 }
local creds = emu:admin_credentials()
local function client(svc)
  return aws.client(svc, { endpoint = emu:url(), region = emu:region(), max_attempts = 1,
    credentials = { access_key_id = creds.access_key_id, secret_access_key = creds.secret_access_key } })
end
local clients = { detective = client("detective"), guardduty = client("guardduty"), sts = client("sts") }

local function call(svc, op, params)
  current = { svc = svc, op = op }
  record_params(svc, op, params)
  local ok, res = pcall(clients[svc].call, clients[svc], op, params)
  return ok and res or nil
end

-- a sequence that succeeds, so that the corpora hold real results
local graphs = call("detective", "ListGraphs", {})
local graph = graphs and graphs.GraphList and graphs.GraphList[1] and graphs.GraphList[1].Arn
if graph then
  local members = call("detective", "ListMembers", { GraphArn = graph })
  local ids = {}
  for _, m in ipairs(members and members.MemberDetails or {}) do ids[#ids + 1] = m.AccountId end
  if #ids > 0 then call("detective", "GetMembers", { GraphArn = graph, AccountIds = ids }) end
  call("detective", "ListDatasourcePackages", { GraphArn = graph })
  call("detective", "ListInvestigations", { GraphArn = graph })
  call("detective", "ListTagsForResource", { ResourceArn = graph })
  call("detective", "CreateMembers", { GraphArn = graph, Message = "welcome",
    Accounts = { { AccountId = "123456789012", EmailAddress = "new@example.com" } } })
end
local dets = call("guardduty", "ListDetectors", {})
local det = dets and dets.DetectorIds and dets.DetectorIds[1]
if det then
  local f = call("guardduty", "ListFindings", { DetectorId = det, MaxResults = 5 })
  if f and f.FindingIds and #f.FindingIds > 0 then
    call("guardduty", "GetFindings", { DetectorId = det, FindingIds = f.FindingIds })
  end
  call("guardduty", "GetDetector", { DetectorId = det })
end
call("sts", "GetCallerIdentity", nil)
call("sts", "AssumeRole", { RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember", RoleSessionName = "fuzz" })
call("sts", "AssumeRole", { RoleArn = "arn:aws:iam::444455556666:role/Nope", RoleSessionName = "fuzz" })
call("sts", "GetSessionToken", {})

-- every operation once with the reference's example parameters (mostly errors: the examples
-- name resources that do not exist)
for _, svc in ipairs({ "detective", "guardduty" }) do
  for _, op in ipairs(model.service(svc).operation_names) do
    call(svc, op, apidoc.example_params(svc, op) or {})
  end
end
for _, op in ipairs(model.service("sts").operation_names) do
  record_params("sts", op, apidoc.example_params("sts", op))
end

client_mod.hooks.transport = nil
emu:stop()
print("corpus written to " .. OUT)
