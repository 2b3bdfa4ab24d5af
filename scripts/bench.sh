#!/usr/bin/env bash
# Benchmarks: builds the `benchmarks` target in the given build directory (default build)
# and prints each section's figures. Informative only: never fails on a figure, only on a
# build error or a benchmark that cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

cmake -S . -B "$BUILD" >/dev/null
cmake --build "$BUILD" --target benchmarks -j "$JOBS" >/dev/null

# --- signing -----------------------------------------------------------------
# CPU time per SigV4 signature of a small Detective POST (target: at most 2 us).
echo "== signing"
"$BUILD/bench_sigv4" "${BENCH_SIGV4_ITERATIONS:-200000}"

# --- REPL: time until the prompt appears ------------------------------------------
# `detlua repl` started on a pseudo-terminal (python3's pty module); the clock runs from
# fork to the first prompt on the terminal, then Ctrl-D ends the session. Target: under
# 20 ms. History and shared config come from an empty temporary home.
echo "== repl: time to prompt on a pty (${BENCH_REPL_RUNS:=30} runs)"
cmake --build "$BUILD" --target detlua -j "$JOBS" >/dev/null 2>&1
/usr/bin/python3 - "$BUILD/detlua" "$BENCH_REPL_RUNS" <<'PY'
import os, pty, select, shutil, statistics, sys, tempfile, termios, time

exe, runs = sys.argv[1], int(sys.argv[2])
home = tempfile.mkdtemp()
env = {"PATH": "/usr/bin:/bin", "HOME": home, "XDG_STATE_HOME": home + "/state", "TERM": "xterm",
       "AWS_CONFIG_FILE": home + "/none", "AWS_SHARED_CREDENTIALS_FILE": home + "/none"}

def once():
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(exe, [exe, "repl"], env)
    seen, elapsed = b"", None
    while elapsed is None:
        ready, _, _ = select.select([fd], [], [], 10)
        if not ready:
            raise SystemExit("no prompt within 10 s")
        seen += os.read(fd, 4096)
        if b"detlua> " in seen:
            elapsed = time.perf_counter() - start
    # Ctrl-D once the editor has put the terminal in raw mode (on Linux the master side
    # reports the slave's settings): typed earlier, the line discipline would take it.
    while termios.tcgetattr(fd)[3] & termios.ICANON:
        time.sleep(0.001)
    os.write(fd, b"\x04")
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
    os.close(fd)
    os.waitpid(pid, 0)
    return elapsed * 1000

try:
    times = sorted(once() for _ in range(runs))
finally:
    shutil.rmtree(home, ignore_errors=True)
print("time to prompt: median %.1f ms, best %.1f ms, worst %.1f ms" % (
    statistics.median(times), times[0], times[-1]))
PY

# --- a local nginx serving canned Detective responses ---------------------------
# Every figure below talks to this server over loopback, so they measure detlua (and
# curl for comparison), not a network or the emulator.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
  echo "== nginx not found; skipping the HTTP benchmarks (scripts/install-deps.sh installs nginx-light)"
  exit 0
fi
work=$(mktemp -d)
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/tmp"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
daemon on;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    default_type application/json;
    location = /graphs/list {
      add_header x-amzn-RequestId 00000000-0000-4000-8000-000000000000;
      return 200 '{"GraphList":[{"Arn":"arn:aws:detective:us-east-1:111122223333:graph:027c7c4610ea4aacaf0b883093cab899","CreatedTime":"2026-01-01T00:00:00.000Z"}]}';
    }
  }
}
CONF
"$NGINX" -c "$work/nginx.conf" -p "$work" 2>/dev/null
sleep 0.3
url="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=AKIDBENCHMARK0000001 AWS_SECRET_ACCESS_KEY=benchmark/secret/key/000000000000000000 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
DETLUA="$BUILD/detlua"

# --- cold start: one whole process per call --------------------------------------
# Target: detlua call no slower than curl --aws-sigv4 doing the same signed request. The two
# run alternately (in a shuffled order each round) so that a slower moment of the machine
# falls on both; medians and quartiles of the wall time (fork to exit) and of the CPU time
# (the child's user + system time) per run, then the difference of each round's pair, which
# cancels most of the machine's drift.
echo "== cold start (one ListGraphs call per process, ${BENCH_COLD_RUNS:=300} runs each, interleaved)"
/usr/bin/python3 - "$DETLUA" "$url" "$BENCH_COLD_RUNS" <<'PY'
import os, random, resource, statistics, subprocess, sys, time

exe, url, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
DETLUA, CURL = "detlua call detective list-graphs", "curl --aws-sigv4 (same request)"
cmds = {
    DETLUA: [exe, "call", "detective", "list-graphs", "--endpoint-url", url],
    CURL: ["curl", "-sf", "--aws-sigv4", "aws:amz:us-east-1:detective", "-u", key + ":" + secret,
           "-H", "Content-Type: application/json", "-d", "{}", url + "/graphs/list"],
    "detlua --version (floor)": [exe, "--version"],
}
wall = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}

def children_cpu_ms():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000

for _ in range(runs):
    order = list(cmds)
    random.shuffle(order)
    for k in order:
        c0, start = children_cpu_ms(), time.perf_counter()
        if subprocess.run(cmds[k], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            raise SystemExit("failed: " + " ".join(cmds[k]))
        wall[k].append((time.perf_counter() - start) * 1000)
        cpu[k].append(children_cpu_ms() - c0)

def quart(v):
    v = sorted(v)
    return statistics.median(v), v[len(v) // 4], v[3 * len(v) // 4]

for k in cmds:
    print("%-36s wall median %.2f ms (quartiles %.2f-%.2f), CPU median %.2f ms" % ((k + ":",) + quart(wall[k]) + (quart(cpu[k])[0],)))
d = [a - b for a, b in zip(wall[DETLUA], wall[CURL])]
print("%-36s median %+.2f ms (quartiles %+.2f to %+.2f): %s" % (("detlua - curl, paired by round:",) + quart(d)
      + ("detlua no slower" if quart(d)[0] <= 0 else "detlua slower",)))
PY

# --- warm sequential calls in one process ------------------------------------------
# Target: at most 80 us per ListGraphs call (validate, serialize, sign, send, parse).
echo "== warm sequential ListGraphs calls in one process"
"$DETLUA" -e "
  local n = tonumber(os.getenv('BENCH_WARM_CALLS') or '20000')
  local d = aws.client('detective', { endpoint = '$url' })
  d:list_graphs{}
  local host = require('aws.core.host')
  local t0, c0 = host.monotonic_ms(), os.clock()
  for _ = 1, n do d:list_graphs{} end
  local ms, cpu = host.monotonic_ms() - t0, os.clock() - c0
  print(string.format('%d calls: %.1f us per call (%.0f calls/s), detlua CPU %.1f us per call', n, ms * 1000 / n, n / (ms / 1000), cpu * 1e6 / n))
"

# --- concurrent calls: aws.map with 32 in flight -------------------------------------
# Target: at least 25,000 ListGraphs calls per second on this 2-core machine.
echo "== concurrent ListGraphs calls (aws.map, 32 in flight)"
"$DETLUA" -e "
  local n = tonumber(os.getenv('BENCH_MAP_CALLS') or '50000')
  local d = aws.client('detective', { endpoint = '$url' })
  d:list_graphs{}
  local items = {}
  for i = 1, n do items[i] = i end
  local host = require('aws.core.host')
  local t0 = host.monotonic_ms()
  local _, _, failed = aws.map(items, function() return d:list_graphs{}.GraphList[1].Arn end, { concurrency = 32 })
  local ms = host.monotonic_ms() - t0
  print(string.format('%d calls, %d failed: %.0f calls/s', n, failed, n / (ms / 1000)))
"
