# lualit.py: writes Python values as a Lua table constructor, so the busted specs can read an
# oracle's answer with load() and need no JSON library. Shared by the oracle scripts here.


def lua(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        out = ['"']
        for b in v.encode("utf-8", "surrogateescape"):
            c = chr(b)
            if 32 <= b < 127 and c not in '"\\':
                out.append(c)
            else:
                out.append("\\%03d" % b)
        out.append('"')
        return "".join(out)
    if isinstance(v, dict):
        return "{" + ",".join("[%s]=%s" % (lua(k), lua(x)) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "{" + ",".join(lua(x) for x in v) + "}"
    raise TypeError(type(v))
