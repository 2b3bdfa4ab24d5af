-- install_probe.lua: prints what the bindings compute for fixed inputs, one fact per line,
-- so that scripts/check-install.sh can run it under a stock lua5.4 (installed modules and
-- aws/core.so) and under the detlua binary (embedded modules) and compare the outputs.
-- A module that is not built prints "<name> absent" on both sides; once every C module the
-- client layer needs is built, `require "aws"` failing is an error. Under stock Lua it also
-- checks the SigV4 signature of the worked example in AWS's documentation (IAM ListUsers,
-- 2015-08-30), an oracle independent of both builds; a mismatch exits 1.
local function ser(v)
  if type(v) == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. ser(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function say(...) print(table.concat({ ... }, " ")) end

-- Under stock Lua, `require "aws"` must work on its own: aws/init.lua loads aws.core (the
-- C module) when the C submodules are not preloaded yet. Tried first, before anything
-- else loads aws.core; the outcome is reported at the end.
local have_aws, aws = pcall(require, "aws")
if not package.preload["aws.core.model"] then require("aws.core") end
local NEEDED = { "aws.sigv4", "aws.core.model", "aws.core.protocol", "aws.core.config", "aws.core.http", "aws.core.host" }
local all_built = true
for _, name in ipairs(NEEDED) do
  if not package.preload[name] and not package.loaded[name] then all_built = false end
end

local model = require("aws.core.model")
for _, s in ipairs(model.services()) do
  local svc = model.service(s)
  say("model", s, svc.model_sha256, tostring(#svc.operation_names), table.concat(svc.operation_names, ","))
end

local status = 0
local have_sigv4, sigv4 = pcall(require, "aws.sigv4")
if have_sigv4 then
  local r = sigv4.sign{
    method = "GET",
    url = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
    headers = { { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" } },
    region = "us-east-1", service = "iam", time = "2015-08-30T12:36:00Z",
    credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
  }
  say("sigv4", ser(r))
  if os.getenv("PROBE_ORACLE") and r.signature ~= "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7" then
    io.stderr:write("install_probe: SigV4 signature differs from the documented example: ", tostring(r.signature), "\n")
    status = 1
  end
else
  say("aws.sigv4 absent")
end

local have_protocol, protocol = pcall(require, "aws.core.protocol")
if have_protocol then
  local req = protocol.build("detective", "ListMembers", {
    GraphArn = "arn:aws:detective:us-east-1:111122223333:graph:027c7c4610ea4aacaf0b883093cab899",
    MaxResults = 5,
  })
  say("protocol", ser(req))
  local ok, err = pcall(protocol.build, "detective", "ListMembers", { GraphArn = "nope" })
  say("protocol-error", tostring(ok), (tostring(err):gsub("^.-detective:", "detective:")))
else
  say("aws.core.protocol absent")
end

if have_aws then
  local det = require("aws.detective").new{ region = "us-east-1" }
  say("aws", aws.VERSION, tostring(det), tostring(#det:operations()))
  local gd = require("aws.guardduty"){ region = "eu-west-1" }
  say("aws.guardduty", tostring(gd))
  -- One real exchange over loopback: client, signing, HTTP and paging against the emulator.
  local have_emu, emulator = pcall(require, "aws.core.emulator")
  local started, srv
  if have_emu then started, srv = pcall(emulator.start, { host = "127.0.0.1", port = 0 }) end
  if have_emu and not started then
    -- Reported without the message, which names search paths that differ between the two.
    io.stderr:write("install_probe: emulator.start failed: ", tostring(srv), "\n")
    say("aws.core.emulator cannot start")
  elseif have_emu then
    local c = srv:admin_credentials()
    local client = aws.client("detective", { region = "us-east-1", endpoint = srv:url(),
      credentials = { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key } })
    local ok, res = pcall(client.list_graphs, client, {})
    local n = 0
    if ok and client.each then
      for _ in client:each("list_graphs", {}) do n = n + 1 end
    end
    say("emulator", tostring(ok), ok and tostring(#(res.GraphList or {})) or tostring(res), tostring(n))
    client:close()
    srv:stop()
  else
    say("aws.core.emulator absent")
  end
else
  say("aws unavailable")
  if all_built then
    io.stderr:write("install_probe: require \"aws\" failed: ", tostring(aws), "\n")
    status = 1
  end
end
os.exit(status)
