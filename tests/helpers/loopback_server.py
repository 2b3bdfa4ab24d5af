"""Runs a test helper's HTTP handler on 127.0.0.1 the way the specs expect (tests/lib/loopback.lua).

The port goes to --port-file as "PORT PID" (written to a temporary name, then renamed, so the
spec never reads half a line); the server stops after --lifetime seconds or as soon as
--parent-pid is gone, so a spec that dies leaves nothing running.
"""
import argparse
import http.server
import os
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    """Base of the helpers' handlers: HTTP/1.1 keep-alive, no request log, the request body."""
    protocol_version = "HTTP/1.1"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""


def serve(handler):
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--parent-pid", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=300.0)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (srv.server_address[1], os.getpid()))
    os.rename(tmp, a.port_file)
    start = time.monotonic()
    while time.monotonic() - start < a.lifetime:
        if a.parent_pid:
            try:
                os.kill(a.parent_pid, 0)
            except OSError:
                break
        time.sleep(0.2)
    srv.shutdown()
    sys.exit(0)
