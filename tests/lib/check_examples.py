#!/usr/bin/python3
"""check_examples.py: independent oracle for detlua.apidoc's example parameters.

Reads {service: {Operation: params}} (JSON) on stdin and checks each params object against
the botocore-format service model (DT_SHARED/models/<service>/service-2.json), not against
detlua's generated tables: required members, JSON types, string/list/map lengths, numeric
ranges, enums, and patterns searched with Python's re (Smithy patterns are not anchored).
Patterns that Python's re cannot compile (\\p{L}, 5-digit \\u escapes) are counted and
skipped. Prints one line per problem and a summary; exits 1 when any problem was found.
"""
import json
import os
import re
import sys


def load_model(shared, service):
    with open(os.path.join(shared, "models", service, "service-2.json")) as f:
        return json.load(f)


def check(model, shape_name, value, path, problems, skipped):
    shape = model["shapes"][shape_name]
    t = shape["type"]

    def bad(msg):
        problems.append("%s: %s" % (path, msg))

    if t == "structure":
        if not isinstance(value, dict):
            return bad("expected object")
        members = shape.get("members", {})
        for req in shape.get("required", []):
            if req not in value:
                bad("missing required member %s" % req)
        for k, v in value.items():
            if k not in members:
                bad("unknown member %s" % k)
                continue
            check(model, members[k]["shape"], v, path + "." + k, problems, skipped)
        return
    if t == "list":
        if not isinstance(value, list):
            return bad("expected list")
        n = len(value)
    elif t == "map":
        if not isinstance(value, dict):
            return bad("expected map")
        n = len(value)
    elif t in ("string", "blob"):
        if not isinstance(value, str):
            return bad("expected string")
        n = len(value)
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return bad("expected integer")
        n = value
    elif t in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return bad("expected number")
        n = value
    elif t == "boolean":
        if not isinstance(value, bool):
            bad("expected boolean")
        return
    elif t == "timestamp":
        if not isinstance(value, (str, int, float)):
            bad("expected timestamp")
        return
    else:
        return bad("unexpected shape type %s" % t)
    if "min" in shape and n < shape["min"]:
        bad("%r below min %s" % (value, shape["min"]))
    if "max" in shape and n > shape["max"]:
        bad("%r above max %s" % (value, shape["max"]))
    if "enum" in shape and value not in shape["enum"]:
        bad("%r not in enum" % (value,))
    if "pattern" in shape and t == "string":
        try:
            rx = re.compile(shape["pattern"])
        except re.error:
            skipped.append(shape_name)
        else:
            if not rx.search(value):
                bad("%r does not match %s" % (value, shape["pattern"]))
    if t == "list":
        for i, v in enumerate(value):
            check(model, shape["member"]["shape"], v, "%s[%d]" % (path, i), problems, skipped)
    elif t == "map":
        for k, v in value.items():
            check(model, shape["key"]["shape"], k, "%s key" % path, problems, skipped)
            check(model, shape["value"]["shape"], v, "%s[%s]" % (path, k), problems, skipped)


def main():
    shared = os.environ["DT_SHARED"]
    data = json.load(sys.stdin)
    problems, skipped, n = [], [], 0
    for service, ops in sorted(data.items()):
        model = load_model(shared, service)
        for op_name, params in sorted(ops.items()):
            op = model["operations"][op_name]
            n += 1
            if "input" not in op:
                if params not in (None, {}):
                    problems.append("%s.%s: has no input, example passes %r" % (service, op_name, params))
                continue
            check(model, op["input"]["shape"], params if params is not None else {},
                  "%s.%s" % (service, op_name), problems, skipped)
    for p in problems:
        print("problem: " + p)
    print("checked %d examples, %d problems, %d patterns not checkable by re: %s"
          % (n, len(problems), len(set(skipped)), ",".join(sorted(set(skipped)))))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
