-- gen-bindings.lua: turns a botocore-format service model (service-2.json plus optional
-- paginator files) into bindings/<name>_ops.c, constant tables of the structs declared in
-- bindings/operation.h. The tables hold no pointers (strings are offsets into one string pool
-- per service, members, enum values and error lists are index ranges into flat arrays), so
-- they are plain .rodata that the dynamic loader never has to relocate at start-up.
--
-- Output is deterministic (operations and shapes sorted bytewise by name, structure members
-- alphabetically, since cjson loses JSON member order) so that scripts/check-generated.sh can
-- diff a regeneration against the committed file. It does not emit documentation or any Lua
-- glue: the runtime reads these tables through bindings/model_lua.c.
--
-- Usage: lua5.4 scripts/gen-bindings.lua --name detective --model PATH/service-2.json
--            [--paginators FILE]... --out bindings/detective_ops.c
local cjson = require("cjson")

local function die(fmt, ...)
    io.stderr:write("gen-bindings: ", string.format(fmt, ...), "\n")
    os.exit(1)
end

local function warn(fmt, ...)
    io.stderr:write("gen-bindings: warning: ", string.format(fmt, ...), "\n")
end

-- ---------------------------------------------------------------------------------------
-- command line

local opts = { paginators = {} }
do
    local i = 1
    while i <= #arg do
        local a = arg[i]
        local v = arg[i + 1]
        if a == "--name" then
            opts.name = v
        elseif a == "--model" then
            opts.model = v
        elseif a == "--paginators" then
            opts.paginators[#opts.paginators + 1] = v
        elseif a == "--out" then
            opts.out = v
        else
            die("unknown argument %q (usage: --name N --model FILE [--paginators FILE]... --out FILE)",
                a)
        end
        if v == nil then die("%s needs a value", a) end
        i = i + 2
    end
end
if not opts.name or not opts.model or not opts.out then
    die("usage: gen-bindings.lua --name N --model FILE [--paginators FILE]... --out FILE")
end
if not opts.name:match("^[a-z][a-z0-9_]*$") then
    die("--name must be a C identifier in lower case, got %q", opts.name)
end

-- ---------------------------------------------------------------------------------------
-- helpers

local function read_file(path)
    local f, err = io.open(path, "rb")
    if not f then die("cannot read %s: %s", path, err) end
    local s = f:read("a")
    f:close()
    return s
end

local function read_json(path)
    local ok, v = pcall(cjson.decode, read_file(path))
    if not ok then die("%s: invalid JSON: %s", path, tostring(v)) end
    return v
end

local function shell_quote(s)
    return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function sha256_of(path)
    local p = io.popen("sha256sum -- " .. shell_quote(path), "r")
    if not p then die("cannot run sha256sum") end
    local out = p:read("a") or ""
    p:close()
    local hex = out:match("^(%x+)")
    if not hex or #hex ~= 64 then die("sha256sum %s failed", path) end
    return hex:lower()
end

local function basename(path)
    return (path:match("([^/]+)$")) or path
end

-- bytewise string order, independent of the C library's collation locale
local function byte_less(a, b)
    local n = math.min(#a, #b)
    for i = 1, n do
        local x, y = a:byte(i), b:byte(i)
        if x ~= y then return x < y end
    end
    return #a < #b
end

local function sorted_keys(t)
    local ks = {}
    if t then
        for k in pairs(t) do ks[#ks + 1] = k end
    end
    table.sort(ks, byte_less)
    return ks
end

-- C string literal. Backslash and quote are escaped; bytes outside printable ASCII become
-- three-digit octal escapes (never ambiguous with a following digit); a '?' following a '?'
-- is escaped so that no trigraph can form under -std=c11.
local function cstr(s)
    if s == nil or s == cjson.null then return "NULL" end
    s = tostring(s)
    local out = { '"' }
    local prev = ""
    for i = 1, #s do
        local c = s:sub(i, i)
        local b = c:byte()
        if c == "\\" then
            out[#out + 1] = "\\\\"
        elseif c == '"' then
            out[#out + 1] = '\\"'
        elseif c == "?" and prev == "?" then
            out[#out + 1] = "\\?"
        elseif b < 32 or b > 126 then
            out[#out + 1] = string.format("\\%03o", b)
        else
            out[#out + 1] = c
        end
        prev = c
    end
    out[#out + 1] = '"'
    return table.concat(out)
end

-- A C double literal that reads back exactly.
local function cnum(v)
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%.1f", v) end
    return string.format("%.17g", v)
end

-- Mechanical snake_case of an operation name: a word starts at an upper-case letter that
-- follows a lower-case letter or digit, or at an upper-case letter that begins a capitalised
-- word after an acronym (IPSets -> IP Sets). A trailing plural acronym (ARNs) stays one word.
-- Checked against botocore.xform_name by tests/spec/model_spec.lua.
local function snake_case(name)
    local tail = ""
    local head, acr = name:match("^(.-)(%u%u+s)$")
    if head and #head > 0 then
        name, tail = head, acr:lower()
    end
    local words, cur = {}, {}
    local n = #name
    for i = 1, n do
        local c = name:sub(i, i)
        local prev = i > 1 and name:sub(i - 1, i - 1) or ""
        local nxt = i < n and name:sub(i + 1, i + 1) or ""
        local boundary = false
        if i > 1 and c:match("%u") then
            if prev:match("[%l%d]") then
                boundary = true
            elseif nxt:match("%l") then
                boundary = true
            end
        end
        if boundary and #cur > 0 then
            words[#words + 1] = table.concat(cur)
            cur = {}
        end
        cur[#cur + 1] = c:lower()
    end
    if #cur > 0 then words[#words + 1] = table.concat(cur) end
    if tail ~= "" then words[#words + 1] = tail end
    return table.concat(words, "_")
end

local function is_null(v)
    return v == nil or v == cjson.null
end

local function truthy(v)
    return v == true
end

-- ---------------------------------------------------------------------------------------
-- load

local model = read_json(opts.model)
local meta = model.metadata or die("%s: no metadata", opts.model)
local shapes = model.shapes or die("%s: no shapes", opts.model)
local operations = model.operations or die("%s: no operations", opts.model)
local model_sha = sha256_of(opts.model)

local TYPES = {
    string = "DT_T_STRING",
    integer = "DT_T_INTEGER",
    long = "DT_T_LONG",
    double = "DT_T_DOUBLE",
    float = "DT_T_FLOAT",
    boolean = "DT_T_BOOLEAN",
    timestamp = "DT_T_TIMESTAMP",
    blob = "DT_T_BLOB",
    structure = "DT_T_STRUCTURE",
    list = "DT_T_LIST",
    map = "DT_T_MAP",
}
local LOCATIONS = {
    uri = "DT_LOC_URI",
    querystring = "DT_LOC_QUERY",
    header = "DT_LOC_HEADER",
    headers = "DT_LOC_HEADERS",
    statusCode = "DT_LOC_STATUS",
}
local TS_FORMATS = {
    iso8601 = "DT_TS_ISO8601",
    unixTimestamp = "DT_TS_EPOCH",
    rfc822 = "DT_TS_RFC822",
}

-- Every shape is kept (not only the reachable ones): the error shapes must all be there, and
-- the REPL and docs may want the rest; the cost is a few kilobytes of constant data.
local shape_names = sorted_keys(shapes)
if #shape_names >= 0xFFFF then die("too many shapes (%d)", #shape_names) end
local shape_index = {}
for i, n in ipairs(shape_names) do shape_index[n] = i - 1 end

local function ref(r, where)
    if is_null(r) then return nil end
    local n = r.shape
    if shape_index[n] == nil then die("%s refers to unknown shape %q", where, tostring(n)) end
    return shape_index[n], n
end

-- ---------------------------------------------------------------------------------------
-- paging

local declared = {}
for _, pf in ipairs(opts.paginators) do
    local p = read_json(pf)
    for op, spec in pairs(p.pagination or {}) do
        local d = declared[op] or {}
        for _, k in ipairs({ "input_token", "output_token", "limit_key", "result_key" }) do
            local v = spec[k]
            if type(v) == "table" then
                -- botocore allows lists (several tokens or result keys); our descriptor holds
                -- one of each, so the first is kept.
                warn("%s: %s %s has %d entries; using the first", basename(pf), op, k, #v)
                v = v[1]
            end
            if not is_null(v) then d[k] = v end
        end
        declared[op] = d
    end
end
for op in pairs(declared) do
    if not operations[op] then warn("paginator for unknown operation %s ignored", op) end
end

local function members_of(r)
    if is_null(r) then return {} end
    local s = shapes[r.shape]
    return (s and s.members) or {}
end

local function paging_for(opname, op)
    local inm, outm = members_of(op.input), members_of(op.output)
    local d = declared[opname]
    local implicit = inm.NextToken ~= nil and outm.NextToken ~= nil
    if not d and not implicit then return nil end
    local p = {}
    if d then
        for k, v in pairs(d) do p[k] = v end
    end
    p.input_token = p.input_token or "NextToken"
    p.output_token = p.output_token or "NextToken"
    if not p.limit_key and inm.MaxResults ~= nil then p.limit_key = "MaxResults" end
    if not p.result_key then
        -- The items live in the output's single list or map member besides the token.
        local found
        for _, mn in ipairs(sorted_keys(outm)) do
            if mn ~= p.output_token then
                local t = shapes[outm[mn].shape].type
                if t == "list" or t == "map" then
                    if found then
                        found = false
                        break
                    end
                    found = mn
                end
            end
        end
        if found then p.result_key = found end
    end
    return p
end

-- ---------------------------------------------------------------------------------------
-- string pool

-- The tables hold no pointers (see operation.h): every string they need is stored once in
-- s_strings and referred to by its byte offset. Offset 0 is the empty string that opens the
-- pool and means "none"; a real empty string gets an offset of its own. Strings enter the
-- pool in the order the tables below first use them, which is deterministic.
local pool, pool_offset, pool_size = {}, {}, 1
local function intern(s)
    if is_null(s) then return 0 end
    s = tostring(s)
    local off = pool_offset[s]
    if off then return off end
    if s:find("\0", 1, true) then die("string %q contains a NUL byte", s) end
    off = pool_size
    pool_offset[s] = off
    pool[#pool + 1] = s
    pool_size = pool_size + #s + 1
    if pool_size > 0xFFFFFFFF then die("string pool over 4 GiB") end
    return off
end

-- Text that is safe inside a C comment: printable ASCII only, and no "/*", "*/" or "??"
-- (trigraphs) left in it.
local function ctext(s)
    s = tostring(s):gsub("[^\32-\126]", "?")
    s = s:gsub("/%*", "/ *"):gsub("%*/", "* /"):gsub("%?%?", "? ?"):gsub("%?%?", "? ?")
    return s
end

-- "<offset> /* text */" for a string field
local function sref(s)
    local off = intern(s)
    if off == 0 then return "0" end
    return string.format("%d /* %s */", off, ctext(s))
end

-- ---------------------------------------------------------------------------------------
-- emit

local out = {}
local function emit(s)
    out[#out + 1] = s
end
local function emitf(fmt, ...)
    out[#out + 1] = string.format(fmt, ...)
end
-- A flat array of n entries from its rows, or nothing when it would be empty (C has no empty
-- arrays; dt_service then holds NULL).
local function emit_array(ctype, name, n, rows)
    if n == 0 then return end
    emitf("static const %s %s[%d] = {\n", ctype, name, n)
    emit(table.concat(rows))
    emit("};\n\n")
end

emitf("/* GENERATED by scripts/gen-bindings.lua from %s sha256:%s — do not edit. */\n",
      basename(opts.model), model_sha)
emitf("/* %s_ops.c: the %s %s model as constant tables (see operation.h).\n", opts.name,
      tostring(meta.serviceFullName or meta.serviceId), tostring(meta.apiVersion))
emit(" * Shapes are sorted by name and refer to each other by index; operations are sorted by\n")
emit(" * name, and s_by_lua_name orders them by lua_name for dt_operation_find. The tables hold\n")
emit(" * no pointers: strings are offsets into s_strings, and members, enum values and error\n")
emit(" * lists are index ranges into s_members, s_enum_strings and s_error_shapes. */\n")
emit("/* clang-format off */\n#include \"operation.h\"\n\n")
local pool_slot = #out + 1
emit("") -- the string pool goes here once every table has been written

-- members of every structure, shape after shape
local shape_members = {} -- shape index -> first member index
local n_members = 0
local member_rows = {}
for i, sn in ipairs(shape_names) do
    local s = shapes[sn]
    local idx = i - 1
    if s.type == "structure" then
        local mnames = sorted_keys(s.members)
        if #mnames > 0 then
            local required = {}
            for _, r in ipairs(s.required or {}) do required[r] = true end
            shape_members[idx] = n_members
            member_rows[#member_rows + 1] = string.format("    /* %d: %s */\n", n_members, sn)
            for _, mn in ipairs(mnames) do
                local m = s.members[mn]
                local midx = ref(m, sn .. "." .. mn)
                local loc = "DT_LOC_BODY"
                if not is_null(m.location) then
                    loc = LOCATIONS[m.location] or die("%s.%s: unknown location %q", sn, mn,
                                                       tostring(m.location))
                end
                local wire = is_null(m.locationName) and mn or m.locationName
                local flags = {}
                if required[mn] then flags[#flags + 1] = "DT_MF_REQUIRED" end
                if truthy(m.idempotencyToken) then flags[#flags + 1] = "DT_MF_IDEMPOTENCY_TOKEN" end
                if truthy(m.deprecated) then flags[#flags + 1] = "DT_MF_DEPRECATED" end
                if m.location == "uri" then
                    -- {Name+} takes the rest of the path, slashes included
                    for _, o in pairs(operations) do
                        if o.input and o.input.shape == sn and o.http and
                            tostring(o.http.requestUri):find("{" .. wire .. "+}", 1, true) then
                            flags[#flags + 1] = "DT_MF_GREEDY_LABEL"
                            break
                        end
                    end
                end
                local shown = wire == mn and mn or (mn .. " (wire name " .. wire .. ")")
                member_rows[#member_rows + 1] =
                    string.format("    {%d, %d, %d, %s, %s}, /* %s */\n", intern(mn), intern(wire),
                                  midx, loc, #flags > 0 and table.concat(flags, " | ") or "0",
                                  ctext(shown))
                n_members = n_members + 1
            end
        end
        for _, r in ipairs(s.required or {}) do
            if not (s.members or {})[r] then warn("%s: required member %s is not a member", sn, r) end
        end
    end
end
emit_array("dt_member", "s_members", n_members, member_rows)

-- enum values of every string shape, shape after shape
local shape_enums = {} -- shape index -> first enum_strings index
local n_enums = 0
local enum_rows = {}
for i, sn in ipairs(shape_names) do
    local s = shapes[sn]
    if type(s.enum) == "table" and #s.enum > 0 then
        shape_enums[i - 1] = n_enums
        enum_rows[#enum_rows + 1] = string.format("    /* %d: %s */\n", n_enums, sn)
        for _, e in ipairs(s.enum) do
            enum_rows[#enum_rows + 1] = string.format("    %s,\n", sref(e))
            n_enums = n_enums + 1
        end
    end
end
emit_array("uint32_t", "s_enum_strings", n_enums, enum_rows)

emitf("static const dt_shape s_shapes[%d] = {\n", #shape_names)
for i, sn in ipairs(shape_names) do
    local s = shapes[sn]
    local idx = i - 1
    local ty = TYPES[s.type] or die("shape %s: unsupported type %q", sn, tostring(s.type))
    local f = {}
    f[#f + 1] = ".name = " .. intern(sn)
    f[#f + 1] = ".type = " .. ty
    if not is_null(s.timestampFormat) then
        f[#f + 1] = ".ts_format = " ..
                        (TS_FORMATS[s.timestampFormat] or
                            die("shape %s: unknown timestampFormat %q", sn, s.timestampFormat))
    end
    local flags = {}
    if truthy(s.sensitive) then flags[#flags + 1] = "DT_SF_SENSITIVE" end
    if not is_null(s.min) then flags[#flags + 1] = "DT_SF_HAS_MIN" end
    if not is_null(s.max) then flags[#flags + 1] = "DT_SF_HAS_MAX" end
    if truthy(s.exception) then flags[#flags + 1] = "DT_SF_EXCEPTION" end
    if truthy(s.fault) then flags[#flags + 1] = "DT_SF_FAULT" end
    if truthy(s.deprecated) then flags[#flags + 1] = "DT_SF_DEPRECATED" end
    if #flags > 0 then f[#f + 1] = ".flags = " .. table.concat(flags, " | ") end
    if not is_null(s.min) then f[#f + 1] = ".min = " .. cnum(s.min) end
    if not is_null(s.max) then f[#f + 1] = ".max = " .. cnum(s.max) end
    if not is_null(s.pattern) then f[#f + 1] = ".pattern = " .. intern(s.pattern) end
    if shape_enums[idx] then
        f[#f + 1] = string.format(".enums = %d, .n_enums = %d", shape_enums[idx], #s.enum)
    end
    if shape_members[idx] then
        f[#f + 1] = string.format(".members = %d, .n_members = %d", shape_members[idx],
                                  #sorted_keys(s.members))
    end
    local member, key, value = "DT_NO_SHAPE", "DT_NO_SHAPE", "DT_NO_SHAPE"
    if s.type == "list" then member = tostring(ref(s.member, sn .. ".member")) end
    if s.type == "map" then
        key = tostring(ref(s.key, sn .. ".key"))
        value = tostring(ref(s.value, sn .. ".value"))
    end
    f[#f + 1] = string.format(".member = %s, .key = %s, .value = %s", member, key, value)
    if truthy(s.exception) or truthy(s.fault) or not is_null(s.error) then
        local e = is_null(s.error) and {} or s.error
        local code = is_null(e.code) and sn or e.code
        local status = e.httpStatusCode
        if is_null(status) then status = truthy(s.fault) and 500 or 400 end
        f[#f + 1] = string.format(".error_code = %s, .error_status = %d", sref(code),
                                  math.tointeger(status) or die("%s: bad httpStatusCode", sn))
    end
    emitf("    /* %d %s */ {%s},\n", idx, sn, table.concat(f, ", "))
end
emit("};\n\n")

-- error shapes of every operation, operation after operation
local op_names = sorted_keys(operations)
local op_errors = {} -- operation index -> first error_shapes index
local n_errors = 0
local error_rows = {}
for i, on in ipairs(op_names) do
    local o = operations[on]
    if type(o.errors) == "table" and #o.errors > 0 then
        local idxs = {}
        for _, e in ipairs(o.errors) do
            local ei, en = ref(e, on .. ".errors")
            local es = shapes[en]
            if not (truthy(es.exception) or truthy(es.fault)) then
                warn("%s: error %s is not an exception shape", on, en)
            end
            idxs[#idxs + 1] = string.format("%d /* %s */,", ei, en)
        end
        op_errors[i - 1] = n_errors
        error_rows[#error_rows + 1] = string.format("    /* %d: %s */ %s\n", n_errors, on,
                                                    table.concat(idxs, " "))
        n_errors = n_errors + #o.errors
    end
end
emit_array("uint16_t", "s_error_shapes", n_errors, error_rows)

local lua_names = {}
emitf("static const dt_operation s_operations[%d] = {\n", #op_names)
for i, on in ipairs(op_names) do
    local o = operations[on]
    local http = o.http or die("operation %s has no http", on)
    local ln = snake_case(on)
    lua_names[#lua_names + 1] = { ln, i - 1 }
    local f = {}
    f[#f + 1] = ".name = " .. sref(on)
    f[#f + 1] = ".lua_name = " .. sref(ln)
    f[#f + 1] = ".http_method = " .. sref(http.method or "POST")
    f[#f + 1] = ".request_uri = " .. sref(http.requestUri or "/")
    local status = is_null(http.responseCode) and 200 or http.responseCode
    f[#f + 1] = string.format(".success_status = %d", math.tointeger(status))
    local ii = ref(o.input, on .. ".input")
    local oi = ref(o.output, on .. ".output")
    f[#f + 1] = ".input = " .. (ii and tostring(ii) or "DT_NO_SHAPE")
    f[#f + 1] = ".output = " .. (oi and tostring(oi) or "DT_NO_SHAPE")
    if op_errors[i - 1] then
        f[#f + 1] = string.format(".errors = %d, .n_errors = %d", op_errors[i - 1], #o.errors)
    end
    if truthy(o.deprecated) then f[#f + 1] = ".deprecated = 1" end
    local p = paging_for(on, o)
    if p then
        f[#f + 1] = ".input_token = " .. sref(p.input_token)
        f[#f + 1] = ".output_token = " .. sref(p.output_token)
        f[#f + 1] = ".limit_key = " .. sref(p.limit_key)
        f[#f + 1] = ".result_key = " .. sref(p.result_key)
    end
    emitf("    {%s},\n", table.concat(f, ",\n     "))
end
emit("};\n\n")

table.sort(lua_names, function(a, b) return byte_less(a[1], b[1]) end)
for i = 2, #lua_names do
    if lua_names[i][1] == lua_names[i - 1][1] then die("two operations map to %s", lua_names[i][1]) end
end
local li = {}
for _, p in ipairs(lua_names) do li[#li + 1] = tostring(p[2]) end
emitf("static const uint16_t s_by_lua_name[%d] = {%s};\n\n", #li, table.concat(li, ", "))

emitf("const dt_service dt_service_%s = {\n", opts.name)
emitf("    .name = %s,\n", cstr(opts.name))
emitf("    .service_id = %s,\n", cstr(meta.serviceId))
emitf("    .full_name = %s,\n", cstr(meta.serviceFullName))
emitf("    .api_version = %s,\n", cstr(meta.apiVersion))
emitf("    .protocol = %s,\n", cstr(meta.protocol))
emitf("    .signing_name = %s,\n", cstr(is_null(meta.signingName) and meta.endpointPrefix or
                                         meta.signingName))
emitf("    .endpoint_prefix = %s,\n", cstr(meta.endpointPrefix))
emitf("    .xml_namespace = %s,\n", cstr(meta.xmlNamespace))
emitf("    .global_endpoint = %s,\n", cstr(meta.globalEndpoint))
emitf("    .model_sha256 = %s,\n", cstr(model_sha))
emitf("    .operations = s_operations,\n")
emitf("    .n_operations = %d,\n", #op_names)
emitf("    .shapes = s_shapes,\n")
emitf("    .n_shapes = %d,\n", #shape_names)
emitf("    .by_lua_name = s_by_lua_name,\n")
emitf("    .strings = s_strings,\n")
emitf("    .strings_size = sizeof s_strings,\n")
emitf("    .members = %s,\n", n_members > 0 and "s_members" or "NULL")
emitf("    .n_members = %d,\n", n_members)
emitf("    .enum_strings = %s,\n", n_enums > 0 and "s_enum_strings" or "NULL")
emitf("    .n_enum_strings = %d,\n", n_enums)
emitf("    .error_shapes = %s,\n", n_errors > 0 and "s_error_shapes" or "NULL")
emitf("    .n_error_shapes = %d,\n", n_errors)
emit("};\n")

-- The pool, one string per line with its offset. The array's own terminating NUL follows
-- the last string (strings_size = sizeof s_strings counts it too).
do
    local lines = {
        "/* Every string the tables use, each once; they hold offsets into it. Offset 0 is\n",
        " * the empty string that means \"none\". */\n",
        "static const char s_strings[] =\n",
        "    /* 0 */ \"\\0\"",
    }
    local off = 1
    for _, s in ipairs(pool) do
        local lit = cstr(s)
        lines[#lines + 1] = string.format("\n    /* %d */ %s\\0\"", off, lit:sub(1, -2))
        off = off + #s + 1
    end
    lines[#lines + 1] = ";\n\n"
    out[pool_slot] = table.concat(lines)
end

local tmp = opts.out .. ".tmp"
local f, err = io.open(tmp, "wb")
if not f then die("cannot write %s: %s", tmp, err) end
f:write(table.concat(out))
f:close()
local ok, rerr = os.rename(tmp, opts.out)
if not ok then die("cannot rename %s: %s", tmp, rerr) end
