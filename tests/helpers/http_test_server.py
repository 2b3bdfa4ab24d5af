#!/usr/bin/python3
"""Loopback HTTP(S) test server and forward proxy for tests/spec/http_spec.lua.

Server mode answers by path:
  /echo...            200, JSON of what was received: conn (per-connection number,
                      counted by the server, so keep-alive is proven independently of
                      the client), method, path, headers [[name, value]...], body
  /status/<code>      that status with a small JSON body
  /stall?ms=N         waits N ms before answering
  /big?n=N            N bytes with Content-Length
  /chunked?n=N        N bytes with chunked transfer coding
  /bigheaders?n=N     one response header of N bytes
  /repeat             repeated header fields (for joining)
  /reset              closes the connection with a TCP reset before answering
  /trickle            sends the headers and half the body, then stalls
--stuck listens with a full accept queue and never accepts (connect timeouts).
--free-port prints a port that nothing listens on and exits.
Proxy mode forwards absolute-form requests ("GET http://127.0.0.1:P/x") for loopback
targets only, adding X-Test-Proxy to the forwarded request and X-Via-Test-Proxy to the
answer. Listens on 127.0.0.1 only; writes "port pid" to --port-file once listening;
exits when --parent-pid is gone or after --lifetime seconds.
Not a general-purpose server: no CONNECT, no pipelining, no persistence.
"""
import argparse
import http.client
import http.server
import itertools
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

_conn_ids = itertools.count(1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "detlua-test"
    sys_version = ""

    def setup(self):
        super().setup()
        self.conn_id = next(_conn_ids)

    def log_message(self, fmt, *args):  # quiet: tests read results, not logs
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        if self.server.proxy:
            return self._proxy()
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        body = self._body()
        p = url.path
        if p.startswith("/status/"):
            code = int(p.split("/")[2])
            return self._send(code, json.dumps({"status": code}).encode())
        if p == "/stall":
            time.sleep(int(q.get("ms", "5000")) / 1000.0)
            return self._send(200, b'{"stalled":true}')
        if p == "/big":
            return self._send(200, b"x" * int(q["n"]), "application/octet-stream")
        if p == "/chunked":
            n = int(q["n"])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while n > 0:
                    k = min(n, 65536)
                    self.wfile.write(b"%x\r\n" % k + b"y" * k + b"\r\n")
                    n -= k
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client gave up at its cap, as intended
            self.close_connection = True
            return None
        if p == "/bigheaders":
            return self._send(200, b"{}", extra=[("X-Big", "h" * int(q["n"]))])
        if p == "/repeat":
            return self._send(200, b"{}", extra=[("X-Multi", "a"), ("X-Multi", "b"),
                                                 ("X-Single", "  padded  ")])
        if p == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return None
        if p == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"z" * 50)
            self.wfile.flush()
            time.sleep(int(q.get("ms", "5000")) / 1000.0)
            self.close_connection = True
            return None
        out = {
            "conn": self.conn_id,
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("latin-1"),
            "body_hex": body.hex(),
        }
        return self._send(200, json.dumps(out).encode())

    def _proxy(self):
        url = urllib.parse.urlsplit(self.path)
        body = self._body()
        if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost"):
            return self._send(403, b'{"proxy":"loopback targets only"}')
        self.server.proxied += 1
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-connection", "connection", "keep-alive")}
        headers["X-Test-Proxy"] = str(self.server.server_address[1])
        c = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
        path = url.path + ("?" + url.query if url.query else "")
        c.request(self.command, path or "/", body=body or None, headers=headers)
        r = c.getresponse()
        data = r.read()
        extra = [(k, v) for k, v in r.getheaders()
                 if k.lower() not in ("content-length", "content-type", "connection",
                                      "transfer-encoding", "date", "server")]
        extra.append(("X-Via-Test-Proxy", "1"))
        c.close()
        return self._send(r.status, data, r.getheader("Content-Type") or "text/plain", extra)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # 50 clients connect at once in the multi test
    proxy = False
    proxied = 0

    def handle_error(self, request, client_address):
        pass  # TLS rejections and resets are expected in these tests


def start_watchdog(a):
    def watchdog():
        start = time.monotonic()
        while time.monotonic() - start < a.lifetime:
            if a.parent_pid:
                try:
                    os.kill(a.parent_pid, 0)
                except ProcessLookupError:
                    break
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (port, os.getpid()))
    os.rename(tmp, path)


def stuck(a):
    """A listener whose accept queue is full: the kernel drops further SYNs, so a
    client's connect neither succeeds nor is refused until its own timeout."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    port = s.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    start_watchdog(a)
    write_port_file(a.port_file, port)
    while True:
        time.sleep(3600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file")
    ap.add_argument("--free-port", action="store_true")
    ap.add_argument("--stuck", action="store_true")
    ap.add_argument("--parent-pid", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=300.0)
    ap.add_argument("--proxy", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()

    if a.free_port:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
        return 0
    if not a.port_file:
        ap.error("--port-file is required")
    if a.stuck:
        return stuck(a)

    srv = Server(("127.0.0.1", 0), Handler)
    srv.proxy = a.proxy
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        # handshake in the per-connection thread, so a rejected client cannot stall accept
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)

    start_watchdog(a)
    write_port_file(a.port_file, srv.server_address[1])
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
