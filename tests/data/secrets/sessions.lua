-- sessions.lua: a fixture for tests/spec/secret_hygiene_spec.lua. Uses temporary
-- credentials the ways a playbook does (GetSessionToken, AssumeRole into a member
-- account, calls signed with both, some concurrent through aws.map, a failing call under
-- a session) and prints only facts that are not secret: account ids, access key ids,
-- error codes and messages. Run it with --debug and --audit-log: the point is that none
-- of what the secret material passes through ends up in any output.
local s = sts:get_session_token{}.Credentials
local session = { access_key_id = s.AccessKeyId, secret_access_key = s.SecretAccessKey, session_token = s.SessionToken }
local d = aws.client("detective", { credentials = session })
print("session " .. s.AccessKeyId .. " graphs " .. #d:list_graphs{}.GraphList)

local r = sts:assume_role{ RoleArn = "arn:aws:iam::444455556666:role/DetectiveMember",
  RoleSessionName = "secret-hygiene" }.Credentials
local member = aws.client("detective", { credentials = { access_key_id = r.AccessKeyId,
  secret_access_key = r.SecretAccessKey, session_token = r.SessionToken } })
local results, errs = aws.map({ 1, 2, 3 }, function() return #member:list_invitations{}.Invitations end)
print("member invitations " .. tostring(results[1]) .. " errors " .. #errs)

local ok, err = pcall(member.get_members, member, {
  GraphArn = "arn:aws:detective:us-east-1:444455556666:graph:" .. string.rep("0", 32), AccountIds = { "111122223333" } })
print("failing call " .. tostring(ok) .. " " .. tostring(err))
local who = aws.client("sts", { credentials = { access_key_id = r.AccessKeyId, secret_access_key = r.SecretAccessKey,
  session_token = r.SessionToken } }):get_caller_identity{}
print("acting as " .. who.Arn)
