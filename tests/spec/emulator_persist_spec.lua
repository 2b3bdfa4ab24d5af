-- The emulator's --state file: every acknowledged change is on disk before the answer is
-- sent (atomic replace: temp file, fsync, rename, fsync dir), reloaded on start, so a
-- kill -9 at any moment loses nothing that was acknowledged; a failed write is answered
-- with 500 and the change is not kept. Oracles: the acknowledged answers themselves (their
-- credentials must keep working after a restart) and the file's documented format.
local C = require "emulator_client"
local router = require "detlua.emulator.router"
local wire = require "detlua.emulator.wire_json"
local host = require "aws.core.host"
local files = require "files"
local proc = require "proc"

local MEMBER_ROLE = "arn:aws:iam::444455556666:role/DetectiveMember"

local sts, creds_of, tmpdir = C.sts, C.creds_of, files.tmpdir

local function ls(dir)
    local names = {}
    for l in proc.output("ls -A " .. proc.quote(dir)):gmatch("[^\n]+") do names[#names + 1] = l end
    table.sort(names)
    return names
end

describe("emulator state file (in process)", function()
    it("writes acknowledged changes in the documented format and reloads them", function()
        local dir = tmpdir()
        local path = dir .. "/state.json"
        local a = router.new { state = path }
        assert.is_nil(files.read(path)) -- nothing changed yet
        local r = sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "persisted" })
        assert.equal(200, r.status)
        local c = creds_of(r.body)
        local doc = wire.plain(assert(wire.decode(assert(files.read(path)))))
        assert.equal("detlua-emulator-state", doc.format)
        assert.equal(1, doc.version)
        assert.equal("444455556666", doc.data.sts.sessions[c.access_key_id].account)
        assert.same({ "state.json" }, ls(dir)) -- no temporary files left behind

        local b = router.new { state = path }
        local who = sts(b, "GetCallerIdentity", nil, c)
        assert.equal(200, who.status)
        assert.equal("arn:aws:sts::444455556666:assumed-role/DetectiveMember/persisted", C.xml(who.body, "Arn"))
        files.rmdir(dir)
    end)

    it("keeps the emulated clock across restarts", function()
        local dir = tmpdir()
        local path = dir .. "/state.json"
        local a = router.new { state = path }
        local c = creds_of(sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "clock", DurationSeconds = "900" }).body)
        local r = C.call(a, { method = "POST", path = "/_emulator/clock", query = "", headers = {}, body = '{"advance_seconds":1000}' })
        assert.equal(200, r.status)
        local b = router.new { state = path }
        r = sts(b, "GetCallerIdentity", nil, c)
        assert.equal(400, r.status)
        assert.equal("ExpiredToken", C.xml(r.body, "Code"))
        files.rmdir(dir)
    end)

    it("continues a seeded random stream after a reload instead of repeating it", function()
        local dir = tmpdir()
        local path = dir .. "/state.json"
        local sc = { seed = "fixed", accounts = { { id = "111122223333", access_key_id = "AKIATESTSEEDED000001", secret_access_key = "s" } },
            roles = { { arn = "arn:aws:iam::111122223333:role/R", trusts = { "111122223333" } } } }
        local me = { access_key_id = "AKIATESTSEEDED000001", secret_access_key = "s" }
        local params = { RoleArn = "arn:aws:iam::111122223333:role/R", RoleSessionName = "s1" }
        local first = creds_of(sts(router.new { scenario_table = sc, state = path }, "AssumeRole", params, me).body)
        local again = creds_of(sts(router.new { scenario_table = sc }, "AssumeRole", params, me).body)
        assert.equal(first.access_key_id, again.access_key_id) -- same seed, same stream
        local next_one = creds_of(sts(router.new { scenario_table = sc, state = path }, "AssumeRole", params, me).body)
        assert.not_equal(first.access_key_id, next_one.access_key_id)
        files.rmdir(dir)
    end)

    it("answers 500 and keeps nothing when the state file cannot be written", function()
        local dir = tmpdir()
        local path = dir .. "/state.json"
        local a = router.new { state = path }
        assert.equal(200, sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "ok1" }).status)
        local before = wire.decode(files.read(path))
        files.rmdir(dir)
        local r = sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "lost" })
        assert.equal(500, r.status)
        assert.equal("InternalFailure", C.xml(r.body, "Code"))
        local n = 0
        for _ in pairs(a.world.data.sts.sessions) do n = n + 1 end
        local m = 0
        for _ in pairs(before.data.sts.sessions) do m = m + 1 end
        assert.equal(m, n)
        files.mkdir(dir)
        assert.equal(200, sts(a, "AssumeRole", { RoleArn = MEMBER_ROLE, RoleSessionName = "ok2" }).status)
        files.rmdir(dir)
    end)

    it("refuses a state file that is not one", function()
        local dir = tmpdir()
        local path = dir .. "/state.json"
        for _, text in ipairs({ "{not json", '{"format":"other","version":1,"data":{}}', '{"format":"detlua-emulator-state","version":99,"data":{}}' }) do
            files.write(path, text)
            local ok, err = pcall(router.new, { state = path })
            assert.is_false(ok)
            assert.matches("state file " .. path:gsub("%p", "%%%0"), err)
        end
        files.rmdir(dir)
    end)
end)

describe("aws.core.host.write_file_atomic", function()
    it("replaces the contents and leaves no temporary file", function()
        local dir = tmpdir()
        local path = dir .. "/f.txt"
        assert.is_true(host.write_file_atomic(path, "one"))
        assert.is_true(host.write_file_atomic(path, "two, longer"))
        assert.equal("two, longer", files.read(path))
        assert.same({ "f.txt" }, ls(dir))
        -- private whatever the old file's mode was (the SSO token cache relies on it)
        assert.is_true(os.execute("chmod 644 " .. path .. " && test \"$(stat -c %a " .. path .. ")\" = 644"))
        assert.is_true(host.write_file_atomic(path, "three"))
        assert.is_true(os.execute("test \"$(stat -c %a " .. path .. ")\" = 600"))
        local ok, err = host.write_file_atomic(dir .. "/missing/f.txt", "x")
        assert.is_nil(ok)
        assert.matches("missing", err)
        files.rmdir(dir)
    end)
end)

describe("detlua emulator --state under kill -9", function()
    if not os.getenv("DETLUA") or not proc.have("curl") then
        pending("needs $DETLUA and curl")
        return
    end

    local function http(child, o)
        o.host = "127.0.0.1:" .. child.port
        return C.http(child.url, C.signed(o))
    end

    it("loses nothing it acknowledged", function()
        local dir = tmpdir()
        local state = dir .. "/world.json"
        local child = C.spawn({ "--quiet", "--state", proc.quote(state) })
        assert.truthy(child.url, child.errors())

        -- an acknowledged Detective change, when the Detective module is built in
        local graph
        local g = http(child, { service = "detective", path = "/graph", body = "{}" })
        if g.status == 200 then graph = g.body:match('"GraphArn":"([^"]+)"') end

        -- a stream of AssumeRole calls from an independent client (curl's signer) ...
        local out = dir .. "/calls"
        files.mkdir(out)
        local script = string.format([[
i=0
while [ $i -lt 60 ]; do
  i=$((i+1))
  curl -s -o %s/$i.out -w '%%{http_code}' --aws-sigv4 aws:amz:us-east-1:sts --user %s --data-binary "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=s$i" %s > %s/$i.code
done
touch %s/done]], proc.quote(out), proc.quote(C.ADMIN.access_key_id .. ":" .. C.ADMIN.secret_access_key), C.urlencode(MEMBER_ROLE),
            proc.quote(child.url .. "/"), proc.quote(out), proc.quote(out))
        files.write(dir .. "/loop.sh", script)
        os.execute("sh " .. proc.quote(dir .. "/loop.sh") .. " >/dev/null 2>&1 &")
        -- ... killed with SIGKILL while it runs, once 15 answers have arrived (the loop
        -- creates 16.code when call 15 is complete)
        for _ = 1, 2000 do
            if files.read(out .. "/16.code") then break end
            host.sleep_ms(5)
        end
        assert.equal(137, child.kill9())
        for _ = 1, 4000 do
            if files.read(out .. "/done") then break end
            host.sleep_ms(5)
        end
        assert.truthy(files.read(out .. "/done"), "the client loop finished")

        local again = C.spawn({ "--quiet", "--state", proc.quote(state) })
        assert.truthy(again.url, again.errors())
        local acknowledged = 0
        for i = 1, 60 do
            if files.read(out .. "/" .. i .. ".code") == "200" then
                local body = files.read(out .. "/" .. i .. ".out")
                if body and body:find("</AssumeRoleResponse>", 1, true) then
                    acknowledged = acknowledged + 1
                    local r = http(again, { service = "sts", body = C.form("GetCallerIdentity"), creds = creds_of(body) })
                    assert.equal(200, r.status, "credentials from call " .. i .. " survive: " .. r.body)
                    assert.equal("arn:aws:sts::444455556666:assumed-role/DetectiveMember/s" .. i, C.xml(r.body, "Arn"))
                end
            end
        end
        assert.truthy(acknowledged >= 15)
        if graph then
            local l = http(again, { service = "detective", path = "/graphs/list", body = "{}" })
            assert.equal(200, l.status)
            assert.truthy(l.body:find(graph, 1, true), "the graph survives")
        end
        assert.equal(0, again.stop())
        files.rmdir(dir)
    end)

    it("exits 2 with a clear message for a corrupt state file", function()
        local dir = tmpdir()
        local state = dir .. "/world.json"
        files.write(state, "{\"format\": ")
        local rc, out, err = C.run_emulator("--port 0 --state " .. proc.quote(state))
        assert.equal(2, rc)
        assert.equal("", out)
        assert.matches("state file .*not valid JSON", err)
        files.rmdir(dir)
    end)
end)
