-- Every Detective and GuardDuty operation, serialized and signed by detlua at a pinned
-- time, against Debian's botocore doing the same (serializer + SigV4Auth): method, path
-- with query, body bytes, canonical request and signature must agree. Operations this
-- botocore does not know are checked against the model instead (method, URI template).
local protocol = require("aws.core.protocol")
local sigv4 = require("aws.sigv4")
local model = require("aws.core.model")
local apidoc = require("detlua.apidoc")
local json = require("aws.json")
local files = require("files")
local proc = require("proc")

local have_botocore = proc.python_has("botocore")

local CREDS = { access_key_id = "AKIDEXAMPLEWIRE00001", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }
local TIME = 1700000000
local ENDPOINTS = { detective = "https://api.detective.us-east-1.amazonaws.com",
  guardduty = "https://guardduty.us-east-1.amazonaws.com" }

local function cases()
  local out = {}
  for _, svc in ipairs({ "detective", "guardduty" }) do
    local s = model.service(svc)
    for _, name in ipairs(s.operation_names) do
      local params = apidoc.example_params(svc, name) or {}
      -- botocore fills idempotency tokens in its client, not its serializer: pin them
      local op = model.operation(svc, name)
      local input = op.input and s.shapes[op.input]
      for _, m in ipairs(input and input.members or {}) do
        if m.idempotency_token then params[m.name] = "00000000-0000-4000-8000-000000000000" end
      end
      out[#out + 1] = { service = svc, operation = name, params = params }
    end
  end
  return out
end

local function run_oracle(list)
  local lines = {}
  for _, c in ipairs(list) do
    local req = protocol.build(c.service, c.operation, c.params)
    lines[#lines + 1] = json.encode({ service = c.service, operation = c.operation, params = c.params,
      endpoint = ENDPOINTS[c.service], region = "us-east-1", time = TIME, creds = CREDS,
      detlua_body = req.body })
  end
  local r = proc.run{ argv = { proc.PYTHON, files.src("tests/oracle/botocore_wire.py") },
    stdin = table.concat(lines, "\n") .. "\n" }
  assert(r.code == 0, "oracle failed: " .. r.stderr)
  local answers = {}
  for line in r.stdout:gmatch("[^\n]+") do answers[#answers + 1] = json.decode(line) end
  return answers
end

describe("wire format against botocore", function()
  local list = cases()

  it("has a case for all 29 Detective operations", function()
    local n = 0
    for _, c in ipairs(list) do if c.service == "detective" then n = n + 1 end end
    assert.are.equal(29, n)
  end)

  if not have_botocore then
    pending("botocore is not installed (/usr/bin/python3 -c 'import botocore')")
    return
  end

  local answers = run_oracle(list)
  local compared, by_model = 0, 0
  for i, c in ipairs(list) do
    it(c.service .. " " .. c.operation, function()
      local a = answers[i]
      assert.is_truthy(a, "no oracle answer")
      assert.is_nil(a.error)
      local req = protocol.build(c.service, c.operation, c.params)
      local op = model.operation(c.service, c.operation)
      assert.are.equal(op.http_method, req.method)
      if not a.known then
        -- botocore 1.29 predates this operation: the model is the oracle
        local template = op.request_uri:gsub("%?.*$", "")
        local escaped = template:gsub("[%-%.%+%[%]%(%)%$%^%%%?%*]", "%%%0")
        local pattern = "^" .. escaped:gsub("{[^}]+}", "[^/?]+") .. "%f[?\0]"
        assert.is_truthy(req.path:match(pattern), req.path .. " does not fill " .. template)
        by_model = by_model + 1
        return
      end
      assert.are.equal(a.method, req.method)
      assert.are.equal(a.path, req.path)
      assert.is_true(a.body_equal, "JSON bodies differ:\n botocore " .. a.body .. "\n detlua   " .. req.body)
      local s = sigv4.sign{ method = req.method, url = ENDPOINTS[c.service] .. req.path, headers = req.headers,
        body = req.body, region = "us-east-1", service = model.service(c.service).signing_name,
        credentials = CREDS, time = TIME }
      assert.are.equal(a.canonical_request, s.canonical_request)
      assert.are.equal(a.signature, s.signature)
      compared = compared + 1
    end)
  end

  it("compared most operations with botocore itself", function()
    print(string.format("# %d operations signed identically to botocore, %d checked against the model", compared, by_model))
    assert.is_true(compared >= 60)
  end)
end)
