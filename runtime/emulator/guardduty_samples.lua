-- GuardDuty emulator: the sample findings CreateSampleFindings generates. A catalogue of finding
-- types with a severity, the kind of resource and activity each describes, and builders that
-- turn one into a full Finding (MODEL member names) for the calling account, with placeholder
-- resources and documentation-range IP addresses (RFC 5737). A well-formed type that is not in
-- the catalogue gets a generic finding shaped by its resource part ("...:EC2/..." -> an
-- instance). It stores nothing and decides nothing about permissions.
local json = require "aws.json"

local M = {}

-- type, severity, resource kind, activity kind, title, description (our own wording), and
-- optional extras: threat (threat-list hit), api, service, role (ACTOR|TARGET), domain, port.
local CATALOGUE = {
    { "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", 8, "AccessKey", "AWS_API_CALL",
        "Instance credentials used from outside AWS",
        "Credentials created for an EC2 instance role were used from an IP address outside AWS.",
        { api = "DescribeInstances", service = "ec2.amazonaws.com" } },
    { "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", 8, "AccessKey", "AWS_API_CALL",
        "Instance credentials used from another AWS account",
        "Credentials created for an EC2 instance role were used from an EC2 instance in a different AWS account.",
        { api = "ListBuckets", service = "s3.amazonaws.com" } },
    { "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", 5, "AccessKey", "AWS_API_CALL",
        "Console login from an unusual location",
        "Several successful console sign-ins for the same IAM user came from locations far apart in a short time.",
        { api = "ConsoleLogin", service = "signin.amazonaws.com" } },
    { "UnauthorizedAccess:IAMUser/MaliciousIPCaller", 5, "AccessKey", "AWS_API_CALL",
        "API invoked from a known malicious IP address",
        "An API was called from an IP address on a threat intelligence list.",
        { api = "GetCallerIdentity", service = "sts.amazonaws.com", threat = true } },
    { "UnauthorizedAccess:IAMUser/TorIPCaller", 5, "AccessKey", "AWS_API_CALL",
        "API invoked from a Tor exit node",
        "An API was called from an IP address of a Tor exit node.",
        { api = "ListUsers", service = "iam.amazonaws.com", threat = true } },
    { "Recon:IAMUser/MaliciousIPCaller", 5, "AccessKey", "AWS_API_CALL",
        "Reconnaissance API invoked from a known malicious IP address",
        "An API commonly used to discover resources was called from an IP address on a threat intelligence list.",
        { api = "DescribeSecurityGroups", service = "ec2.amazonaws.com", threat = true } },
    { "CredentialAccess:IAMUser/AnomalousBehavior", 5, "AccessKey", "AWS_API_CALL",
        "Unusual API used to obtain credentials",
        "An API commonly used to gain access to credentials was invoked in an unusual way.",
        { api = "GetSecretValue", service = "secretsmanager.amazonaws.com" } },
    { "Discovery:IAMUser/AnomalousBehavior", 2, "AccessKey", "AWS_API_CALL",
        "Unusual discovery API activity",
        "An API commonly used to discover resources was invoked in an unusual way.",
        { api = "ListRoles", service = "iam.amazonaws.com" } },
    { "Exfiltration:IAMUser/AnomalousBehavior", 8, "AccessKey", "AWS_API_CALL",
        "Unusual API activity associated with data exfiltration",
        "An API commonly used to collect data was invoked in an unusual way.",
        { api = "CreateSnapshot", service = "ec2.amazonaws.com" } },
    { "Impact:IAMUser/AnomalousBehavior", 8, "AccessKey", "AWS_API_CALL",
        "Unusual API activity that can tamper with data or processes",
        "An API commonly used to tamper with data or processes was invoked in an unusual way.",
        { api = "DeleteBucket", service = "s3.amazonaws.com" } },
    { "Persistence:IAMUser/AnomalousBehavior", 5, "AccessKey", "AWS_API_CALL",
        "Unusual API activity associated with persistence",
        "An API commonly used to keep unauthorized access was invoked in an unusual way.",
        { api = "CreateAccessKey", service = "iam.amazonaws.com" } },
    { "PrivilegeEscalation:IAMUser/AnomalousBehavior", 5, "AccessKey", "AWS_API_CALL",
        "Unusual API activity associated with privilege escalation",
        "An API commonly used to gain higher permissions was invoked in an unusual way.",
        { api = "AttachUserPolicy", service = "iam.amazonaws.com" } },
    { "Policy:IAMUser/RootCredentialUsage", 2, "AccessKey", "AWS_API_CALL",
        "Root credentials used",
        "The root user's credentials were used to call an API.",
        { api = "ListBuckets", service = "s3.amazonaws.com", user_type = "Root" } },
    { "Stealth:IAMUser/CloudTrailLoggingDisabled", 2, "AccessKey", "AWS_API_CALL",
        "CloudTrail logging disabled",
        "A CloudTrail trail was stopped or deleted.",
        { api = "StopLogging", service = "cloudtrail.amazonaws.com" } },
    { "Backdoor:EC2/C&CActivity.B", 8, "Instance", "NETWORK_CONNECTION",
        "Instance communicating with a command-and-control server",
        "An EC2 instance is connecting to an IP address of a known command-and-control server.",
        { threat = true, port = 443, direction = "OUTBOUND" } },
    { "CryptoCurrency:EC2/BitcoinTool.B!DNS", 8, "Instance", "DNS_REQUEST",
        "Instance querying a cryptocurrency-related domain",
        "An EC2 instance is querying a domain associated with cryptocurrency mining.",
        { domain = "pool.mining.example.com", threat = true } },
    { "Trojan:EC2/DNSDataExfiltration", 8, "Instance", "DNS_REQUEST",
        "Data exfiltration through DNS queries",
        "An EC2 instance is sending data out through DNS queries.",
        { domain = "data.exfil.example.net" } },
    { "Recon:EC2/PortProbeUnprotectedPort", 2, "Instance", "PORT_PROBE",
        "Unprotected port on an instance is being probed",
        "A port of an EC2 instance that is open to the internet is being probed by a known scanner.",
        { port = 22, threat = true } },
    { "UnauthorizedAccess:EC2/SSHBruteForce", 2, "Instance", "NETWORK_CONNECTION",
        "SSH brute force attempts against an instance",
        "An EC2 instance received a series of SSH connection attempts typical of password guessing.",
        { port = 22, direction = "INBOUND" } },
    { "UnauthorizedAccess:EC2/TorClient", 8, "Instance", "NETWORK_CONNECTION",
        "Instance connecting to a Tor entry node",
        "An EC2 instance is making connections to a Tor guard or authority node.",
        { port = 9001, direction = "OUTBOUND", threat = true } },
    { "Discovery:S3/MaliciousIPCaller", 8, "S3Bucket", "AWS_API_CALL",
        "S3 discovery API invoked from a known malicious IP address",
        "An API commonly used to discover S3 resources was called from an IP address on a threat list.",
        { api = "GetBucketAcl", service = "s3.amazonaws.com", threat = true } },
    { "Policy:S3/BucketBlockPublicAccessDisabled", 2, "S3Bucket", "AWS_API_CALL",
        "S3 Block Public Access disabled for a bucket",
        "Block Public Access was turned off for an S3 bucket.",
        { api = "DeletePublicAccessBlock", service = "s3.amazonaws.com" } },
    { "PrivilegeEscalation:Kubernetes/PrivilegedContainer", 5, "EKSCluster", "KUBERNETES_API_CALL",
        "Privileged container launched in an EKS cluster",
        "A container with root-level access to its node was launched.",
        {} },
    { "Backdoor:Lambda/C&CActivity.B", 8, "Lambda", "NETWORK_CONNECTION",
        "Lambda function communicating with a command-and-control server",
        "A Lambda function is connecting to an IP address of a known command-and-control server.",
        { threat = true, port = 443, direction = "OUTBOUND" } },
    { "CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin", 5, "RDSDBInstance", "RDS_LOGIN_ATTEMPT",
        "Unusual successful database login",
        "A user logged in to an RDS database in a way that is unusual for it.",
        {} },
}

local BY_TYPE = {}
for _, e in ipairs(CATALOGUE) do BY_TYPE[e[1]] = e end

-- Every type CreateSampleFindings produces when findingTypes is empty, in catalogue order.
function M.types()
    local out = {}
    for i, e in ipairs(CATALOGUE) do out[i] = e[1] end
    return out
end

-- "Purpose:Resource/Family.Mechanism!Artifact" (the GuardDuty finding type format).
function M.well_formed(t)
    return type(t) == "string" and #t <= 100 and t:match("^%a[%w]*:[%w]+/[%w%.%-!&_]+$") ~= nil
end

local GENERIC_BY_RESOURCE = {
    IAMUser = { "AccessKey", "AWS_API_CALL" }, IAM = { "AccessKey", "AWS_API_CALL" },
    S3 = { "S3Bucket", "AWS_API_CALL" }, EC2 = { "Instance", "NETWORK_CONNECTION" },
    Kubernetes = { "EKSCluster", "KUBERNETES_API_CALL" }, EKS = { "EKSCluster", "KUBERNETES_API_CALL" },
    Lambda = { "Lambda", "NETWORK_CONNECTION" }, RDS = { "RDSDBInstance", "RDS_LOGIN_ATTEMPT" },
    Runtime = { "Instance", nil }, ECS = { "Instance", nil },
}

local function entry_for(t)
    local e = BY_TYPE[t]
    if e then return e end
    local res = t:match("^[^:]+:([^/]+)/")
    local g = GENERIC_BY_RESOURCE[res] or { "Instance", "NETWORK_CONNECTION" }
    return { t, 5, g[1], g[2], t, "Sample finding of type " .. t .. ".", {} }
end

local function remote_ip(n)
    return {
        IpAddressV4 = "198.51.100." .. n,
        City = { CityName = "Sampleville" },
        Country = { CountryCode = "XX", CountryName = "Sampleland" },
        GeoLocation = { Lat = 0.0, Lon = 0.0 },
        Organization = { Asn = "64500", AsnOrg = "SAMPLE-NET", Isp = "Sample ISP", Org = "Sample Org" },
    }
end

local function resource(kind, ctx, extra)
    local acct, region = ctx.account, ctx.region
    if kind == "AccessKey" then
        return {
            ResourceType = "AccessKey",
            AccessKeyDetails = {
                AccessKeyId = "ASIASAMPLEKEY0000000",
                PrincipalId = "AIDASAMPLEPRINCIPAL00",
                UserName = extra.user_type == "Root" and "Root" or "sample-user",
                UserType = extra.user_type or "IAMUser",
            },
        }
    elseif kind == "S3Bucket" then
        return {
            ResourceType = "S3Bucket",
            AccessKeyDetails = {
                AccessKeyId = "ASIASAMPLEKEY0000000", PrincipalId = "AIDASAMPLEPRINCIPAL00",
                UserName = "sample-user", UserType = "IAMUser",
            },
            S3BucketDetails = { {
                Arn = "arn:aws:s3:::sample-bucket-" .. acct,
                Name = "sample-bucket-" .. acct,
                Type = "Destination",
                Owner = { Id = "sample-canonical-owner-id" },
            } },
        }
    elseif kind == "EKSCluster" then
        return {
            ResourceType = "EKSCluster",
            EksClusterDetails = {
                Name = "sample-cluster", Arn = "arn:aws:eks:" .. region .. ":" .. acct .. ":cluster/sample-cluster",
                VpcId = "vpc-00000000000000001", Status = "ACTIVE",
            },
            KubernetesDetails = { KubernetesUserDetails = { Username = "sample-user", Uid = "sample-uid" } },
        }
    elseif kind == "Lambda" then
        return {
            ResourceType = "Lambda",
            LambdaDetails = {
                FunctionName = "sample-function",
                FunctionArn = "arn:aws:lambda:" .. region .. ":" .. acct .. ":function:sample-function",
                FunctionVersion = "$LATEST",
                Role = "arn:aws:iam::" .. acct .. ":role/sample-function-role",
            },
        }
    elseif kind == "RDSDBInstance" then
        return {
            ResourceType = "RDSDBInstance",
            RdsDbInstanceDetails = {
                DbInstanceIdentifier = "sample-database", Engine = "aurora-postgresql", EngineVersion = "15.4",
                DbInstanceArn = "arn:aws:rds:" .. region .. ":" .. acct .. ":db:sample-database",
            },
        }
    end
    return {
        ResourceType = "Instance",
        InstanceDetails = {
            InstanceId = "i-00000000000000001",
            InstanceType = "t3.micro",
            InstanceState = "running",
            ImageId = "ami-00000000000000001",
            ImageDescription = "sample image",
            AvailabilityZone = region .. "a",
            LaunchTime = "2024-01-01T00:00:00.000Z",
            Platform = "linux",
            IamInstanceProfile = {
                Arn = "arn:aws:iam::" .. acct .. ":instance-profile/sample-profile",
                Id = "AIPASAMPLEPROFILE0000",
            },
            NetworkInterfaces = { {
                NetworkInterfaceId = "eni-00000000000000001",
                PrivateDnsName = "ip-10-0-0-10.ec2.internal",
                PrivateIpAddress = "10.0.0.10",
                PrivateIpAddresses = { { PrivateDnsName = "ip-10-0-0-10.ec2.internal", PrivateIpAddress = "10.0.0.10" } },
                PublicDnsName = "ec2-203-0-113-10.compute-1.amazonaws.com",
                PublicIp = "203.0.113.10",
                SecurityGroups = { { GroupId = "sg-00000000000000001", GroupName = "sample-group" } },
                SubnetId = "subnet-00000000000000001",
                VpcId = "vpc-00000000000000001",
                Ipv6Addresses = {},
            } },
            Tags = { { Key = "Name", Value = "sample-instance" } },
        },
    }
end

local function action(kind, extra)
    if kind == "AWS_API_CALL" then
        return { ActionType = kind, AwsApiCallAction = {
            Api = extra.api or "GetCallerIdentity",
            CallerType = "Remote IP",
            ServiceName = extra.service or "sts.amazonaws.com",
            UserAgent = "sample-agent/1.0",
            RemoteIpDetails = remote_ip(10),
        } }
    elseif kind == "NETWORK_CONNECTION" then
        local port = extra.port or 443
        return { ActionType = kind, NetworkConnectionAction = {
            Blocked = false,
            ConnectionDirection = extra.direction or "OUTBOUND",
            Protocol = "TCP",
            LocalIpDetails = { IpAddressV4 = "10.0.0.10" },
            LocalPortDetails = { Port = extra.direction == "INBOUND" and port or 49152, PortName = "Unknown" },
            RemotePortDetails = { Port = extra.direction == "INBOUND" and 49152 or port, PortName = "Unknown" },
            RemoteIpDetails = remote_ip(20),
        } }
    elseif kind == "DNS_REQUEST" then
        local domain = extra.domain or "sample.example.com"
        return { ActionType = kind, DnsRequestAction = {
            Domain = domain, Protocol = "UDP", Blocked = false,
            DomainWithSuffix = domain:match("([^%.]+%.[^%.]+)$") or domain,
        } }
    elseif kind == "PORT_PROBE" then
        return { ActionType = kind, PortProbeAction = { Blocked = false, PortProbeDetails = { {
            LocalPortDetails = { Port = extra.port or 22, PortName = "SSH" },
            LocalIpDetails = { IpAddressV4 = "10.0.0.10" },
            RemoteIpDetails = remote_ip(30),
        } } } }
    elseif kind == "KUBERNETES_API_CALL" then
        return { ActionType = kind, KubernetesApiCallAction = {
            RequestUri = "/api/v1/namespaces/default/pods", Verb = "create", Resource = "pods",
            Namespace = "default", RemoteIpDetails = remote_ip(40), StatusCode = 201,
        } }
    elseif kind == "RDS_LOGIN_ATTEMPT" then
        return { ActionType = kind, RdsLoginAttemptAction = {
            RemoteIpDetails = remote_ip(50),
            LoginAttributes = { { User = "sample-db-user", Application = "psql", FailedLoginAttempts = 0,
                SuccessfulLoginAttempts = 1 } },
        } }
    end
    return nil
end

-- A sample Finding (MODEL names) of type `t` for ctx.account in ctx.region, with id `id`,
-- created at `at` (ISO string). Id, ARN and detector id are completed by the caller.
function M.build(t, ctx, id, at)
    local e = entry_for(t)
    local _, severity, rkind, akind, title, description, extra = table.unpack(e)
    local info = { sample = true }
    local evidence
    if extra.threat then
        info.threatListName = "SampleThreatList"
        evidence = { ThreatIntelligenceDetails = { { ThreatListName = "SampleThreatList",
            ThreatNames = { "sample-threat" } } } }
    end
    return {
        Id = id,
        AccountId = ctx.account,
        Region = ctx.region,
        Type = t,
        Severity = severity + 0.0,
        Confidence = severity + 0.0,
        Title = "[SAMPLE] " .. title,
        Description = description,
        CreatedAt = at,
        UpdatedAt = at,
        SchemaVersion = "2.0",
        Resource = resource(rkind, ctx, extra),
        Service = {
            Action = action(akind, extra),
            Evidence = evidence,
            Archived = false,
            Count = 1,
            EventFirstSeen = at,
            EventLastSeen = at,
            ResourceRole = extra.role or "TARGET",
            ServiceName = "guardduty",
            AdditionalInfo = { Value = json.encode(info), Type = "default" },
        },
    }
end

return M
