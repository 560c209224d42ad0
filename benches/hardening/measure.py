#!/usr/bin/env python3
"""The attacks of issue #34, items 1-6, run against one or more `securescore` binaries in turn,
each started with `serve --demo` (budgets at their defaults) on a fresh SQLite file, printing
the server's resident memory (RSS, from /proc) and CPU time (utime + stime) around each attack.

    python3 benches/hardening/measure.py BINARY [BINARY ...]

Everything goes to 127.0.0.1 only; every loop is bounded.
"""
import base64
import datetime
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["sh", "-c", 'ulimit -n 1024 && exec "$0" "$@"', binary, "serve", "--demo",
             "--bind", f"127.0.0.1:{self.port}",
             "--database-url", f"sqlite://{self.dir}/m.db?mode=rwc"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                self.tokens = {t["role"]: t["token"] for t in
                               json.load(urllib.request.urlopen(self.base + "/demo/tokens", timeout=2))}
                break
            except Exception:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not start")

    def rss_mb(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_s(self):
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def post(server, token, body, path="/graphql", timeout=60):
    request = urllib.request.Request(server.base + path, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json",
                                              "authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def get_status(server, token, path, timeout=60):
    request = urllib.request.Request(server.base + path, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except Exception:
        return "error"


def websocket_flood(server, clients=8, megabytes=60):
    """Item 1: clients with no token send a connection_init of `megabytes` in 1 MiB fragments."""
    sockets = []
    for _ in range(clients):
        s = socket.create_connection(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
        s.recv(4096)
        sockets.append(s)
    peak = server.rss_mb()
    piece = b"x" * (1 << 20)
    mask = b"\0\0\0\0"
    for n in range(megabytes):
        opcode = 0x1 if n == 0 else 0x0
        header = bytes([opcode, 0x80 | 127]) + (len(piece)).to_bytes(8, "big") + mask
        for s in sockets:
            try:
                s.sendall(header + piece)
            except OSError:
                pass
        peak = max(peak, server.rss_mb())
    time.sleep(1)
    peak = max(peak, server.rss_mb())
    closed = 0
    for s in sockets:
        s.settimeout(2)
        try:
            closed += s.recv(1) == b"" or True
        except OSError:
            closed += 1
        s.close()
    return peak


def persisted_flood(server, token, count=100):
    """Item 2: `count` registrations of 1 MB documents."""
    for n in range(count):
        query = "{ viewer { subject } }\n#" + str(n) + " " * 1_000_000
        digest = hashlib.sha256(query.encode()).hexdigest()
        post(server, token, {"query": query, "extensions": {
            "persistedQuery": {"version": 1, "sha256Hash": digest}}})
    return server.rss_mb()


def idle_connections(server, count=1000):
    """Item 3: `count` idle connections, then how long /healthz takes (or that it timed out)."""
    held = []
    for _ in range(count):
        try:
            held.append(socket.create_connection(("127.0.0.1", server.port), timeout=0.5))
        except OSError:
            break
    started = time.time()
    status = get_status(server, "", "/healthz", timeout=10)
    took = time.time() - started
    for s in held:
        s.close()
    return len(held), status, took


def exports(server, token, count=208):
    """Item 4: `count` year-long exports of every tenant's scores."""
    today = datetime.date.today()
    path = f"/export/scores.csv?from={today - datetime.timedelta(days=365)}&to={today}"
    statuses = {}
    for _ in range(count):
        status = get_status(server, token, path)
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def recomputes(server, token, requests=3, aliases=20):
    """Item 5: `requests` requests of `aliases` aliased 90-day recomputes of every tenant."""
    today = datetime.date.today()
    frm = today - datetime.timedelta(days=89)
    fields = " ".join(
        f'r{n}: recomputeScores(input: {{from: "{frm}", to: "{today}"}}) {{ daysScored }}'
        for n in range(aliases))
    charged, statuses = 0, []
    for _ in range(requests):
        status, body = post(server, token, {"query": f"mutation {{ {fields} }}"}, timeout=300)
        statuses.append(status)
        cost = ((body or {}).get("extensions") or {}).get("cost") or {}
        charged += cost.get("actualQueryCost") or 0
    return charged, statuses


def nested(server, token):
    """Item 6: 40 days x 13 tenants of action scores; its price and the rows it returned."""
    today = datetime.date.today()
    frm = today - datetime.timedelta(days=39)
    query = (f'{{ tenants(first: 13) {{ edges {{ node {{ scoreHistory(from: "{frm}", to: "{today}") '
             f'{{ actionScores {{ score status }} }} }} }} }} }}')
    status, body = post(server, token, {"query": query})
    rows = 0
    for edge in (((body or {}).get("data") or {}).get("tenants") or {}).get("edges", []):
        for day in edge["node"]["scoreHistory"]:
            rows += len(day["actionScores"])
    cost = ((body or {}).get("extensions") or {}).get("cost") or {}
    code = ((body or {}).get("errors") or [{}])[0].get("extensions", {}).get("code")
    return status, cost.get("requestedQueryCost"), rows, code


def measure(binary):
    print(f"== {binary}")
    steps = [
        ("1 websocket: 8 clients x 60 MB connection_init, no token", lambda s: websocket_flood(s)),
        ("2 persisted queries: 100 x 1 MB", lambda s: persisted_flood(s, s.tokens["Collector"])),
        ("3 idle connections: 1000, then /healthz", idle_connections),
        ("4 exports: 208 year-long scores.csv", lambda s: exports(s, s.tokens["PlatformAdmin"])),
        ("5 mutations: 3 x 20 aliased 90-day recomputes", lambda s: recomputes(s, s.tokens["PlatformAdmin"])),
        ("6 nested lists: 40 days x 13 tenants of actionScores", lambda s: nested(s, s.tokens["PlatformAdmin"])),
    ]
    for name, step in steps:
        server = Server(binary)
        time.sleep(2)
        rss, cpu = server.rss_mb(), server.cpu_s()
        outcome = step(server)
        print(f"{name}: RSS {rss:.0f} -> {server.rss_mb():.0f} MB, CPU {server.cpu_s() - cpu:.2f} s; "
              f"outcome {outcome}", flush=True)
        server.stop()


if __name__ == "__main__":
    for binary in sys.argv[1:]:
        measure(binary)
