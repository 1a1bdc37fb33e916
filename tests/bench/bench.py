#!/usr/bin/env python3
"""The benchmark behind `make bench` (run through tests/bench/run.sh, which builds the
release binary and finds the engine). Every figure is a median of RUNS runs, measured
alternately with its floor in the same run, and every measured command must exit 0: any
failure stops the benchmark with the command, its exit code and its stderr.

Writes BENCHMARKS.md (path in argv[2]) and prints the same table.
"""

import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BIN = sys.argv[1]
OUT = sys.argv[2]
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
IMAGE = os.environ["STACKWIZ_TEST_IMAGE"]
DOCKER = shutil.which("docker")
TOKEN = "bench-token-not-secret"
IP = "93.184.216.34"


def die(msg):
    print(f"bench: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


WORK = tempfile.mkdtemp(prefix="swbench.")
BASE = os.path.join(WORK, "stacks")
NET = f"swbench{os.getpid()}-net"
for d in ("home", "cfg", "cache", "stacks/_templates"):
    os.makedirs(os.path.join(WORK, d), exist_ok=True)

# HOME and XDG are private, but DOCKER_CONFIG keeps pointing at the real docker config, so
# `docker compose` is the plugin it is on the machine (run.sh exported it).
ENV = {
    "PATH": os.environ["PATH"],
    "HOME": os.path.join(WORK, "home"),
    "XDG_CONFIG_HOME": os.path.join(WORK, "cfg"),
    "XDG_CACHE_HOME": os.path.join(WORK, "cache"),
    "DOCKER_CONFIG": os.environ["DOCKER_CONFIG"],
    "STACKWIZ_BASE_DIR": BASE,
    "STACKWIZ_DOCKER_NETWORK": NET,
    "STACKWIZ_CF_API_URL": "http://127.0.0.1:9",
    "STACKWIZ_IP_SERVICES": "http://127.0.0.1:9",
}
if os.environ.get("DOCKER_HOST"):
    ENV["DOCKER_HOST"] = os.environ["DOCKER_HOST"]

# One busybox service on the proxy network; `init: true` so a stop takes no 10 s grace.
with open(os.path.join(BASE, "_templates", "bench-template.yml"), "w") as f:
    f.write(
        "# Bench type: busybox httpd.\n"
        "services:\n  {{ name }}:\n    image: {{ image }}\n    container_name: {{ name }}\n"
        "    init: true\n    command: [\"httpd\", \"-f\", \"-p\", \"{{ port }}\"]\n"
        "networks:\n  default:\n    name: {{ network }}\n    external: true\n"
    )


def run(argv, env=None, stdin=None, check=True):
    """Run argv, return (ns, stdout). Fails the bench on a non-zero exit."""
    t0 = time.perf_counter_ns()
    p = subprocess.run(argv, env=env or ENV, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=WORK)
    ns = time.perf_counter_ns() - t0
    if check and p.returncode != 0:
        die(f"{' '.join(argv)} exited {p.returncode}\n{p.stderr.decode(errors='replace')}")
    return ns, p.stdout


def sw(*args, env=None):
    return run([BIN, *args], env=env)


def stack_dir(name):
    return os.path.join(BASE, name)


def compose(name, *args):
    d = stack_dir(name)
    return [DOCKER, "compose", "-p", name, "--project-directory", d,
            "-f", os.path.join(d, "docker-compose.yml"), *args]


def med(samples):
    return statistics.median(samples) / 1e6


ROWS = []  # (what, figure, floor, ratio, goal, met)


def row(what, fig, floor, unit, goal, met):
    if unit == "ms":
        f, fl = f"{fig:.1f} ms", f"{floor:.1f} ms"
    else:
        f, fl = f"{round(fig, 1):g}{unit}", f"{round(floor, 1):g}{unit}"
    ratio = f"{fig / floor:.2f}×" if floor else "–"
    ROWS.append((what, f, fl, ratio, goal, "yes" if met else "**no**"))
    print(f"{what:52} {f:>12} {fl:>12} {ratio:>8}  {goal}  {'met' if met else 'NOT MET'}", flush=True)


def ratio_row(what, floor_what, a, b, goal_ratio, label=None):
    fa, fb = med(a), med(b)
    row(f"{what} (floor: {floor_what})", fa, fb, "ms",
        label or f"≤ {goal_ratio}× floor", fa <= fb * goal_ratio)


# ---------------------------------------------------------------------------------------
# docker processes per command, counted with strace -f (execve that succeeded)

def docker_procs(argv, env=None):
    log = os.path.join(WORK, "strace.log")
    run(["strace", "-f", "-qq", "-e", "trace=execve", "-o", log, *argv], env=env)
    cli = plugin = 0
    with open(log) as f:
        for line in f:
            m = re.search(r'execve\("([^"]+)".*\) = 0', line)
            if not m:
                continue
            path = m.group(1)
            if path.endswith("/docker"):
                cli += 1
            elif "docker-compose" in os.path.basename(path) or "/cli-plugins/" in path:
                plugin += 1
    return cli, plugin


def create_stack(name):
    sw("create", name, "--type", "bench", "--image", IMAGE, "--port", "8080")


# ---------------------------------------------------------------------------------------
# lifecycle: start / stop / remove vs raw compose on the same files

def lifecycle():
    print(f"== lifecycle ({RUNS} runs each, alternating)", flush=True)
    run([DOCKER, "network", "create", NET])
    name = f"swbench{os.getpid()}-life"
    create_stack(name)
    sw("start", name)  # images and network in place, container created
    sw("stop", name)
    s_start, s_stop, r_up, r_stop = [], [], [], []
    for _ in range(RUNS):
        s_start.append(sw("start", name)[0])
        s_stop.append(sw("stop", name)[0])
        r_up.append(run(compose(name, "up", "-d"))[0])
        r_stop.append(run(compose(name, "stop"))[0])
    ratio_row("start", "docker compose up -d", s_start, r_up, 1.05)
    ratio_row("stop", "docker compose stop", s_stop, r_stop, 1.05)

    # status of a running stack vs one raw `compose ps`
    sw("start", name)
    s_status, r_ps = [], []
    for _ in range(RUNS):
        s_status.append(sw("status", name, "--json")[0])
        r_ps.append(run(compose(name, "ps", "-a", "--format", "json"))[0])
    ratio_row("status", "docker compose ps", s_status, r_ps, 1.1, "one compose call (≤ 1.1×)")

    counts = {"status": docker_procs([BIN, "status", name])}
    raw_ps = docker_procs(compose(name, "ps", "-a", "--format", "json"))
    sw("stop", name)
    counts["start"] = docker_procs([BIN, "start", name])
    counts["stop"] = docker_procs([BIN, "stop", name])
    raw_up = docker_procs(compose(name, "up", "-d"))
    raw_stop = docker_procs(compose(name, "stop"))
    sw("remove", name, "--yes")

    # remove vs down: each run builds the stack anew (unmeasured), then tears it down
    s_rm, r_down = [], []
    for i in range(RUNS):
        n = f"{name}{i}"
        create_stack(n)
        sw("start", n)
        s_rm.append(sw("remove", n, "--yes")[0])
        create_stack(n)
        sw("start", n)
        r_down.append(run(compose(n, "down", "--remove-orphans"))[0])
        shutil.rmtree(stack_dir(n))
    ratio_row("remove", "docker compose down", s_rm, r_down, 1.05)
    n = f"{name}c"
    create_stack(n)
    sw("start", n)
    counts["remove"] = docker_procs([BIN, "remove", n, "--yes"])
    create_stack(n)
    sw("start", n)
    raw_down = docker_procs(compose(n, "down", "--remove-orphans"))
    shutil.rmtree(stack_dir(n))
    run([DOCKER, "network", "rm", NET])
    return counts, {"up -d": raw_up, "stop": raw_stop, "down": raw_down, "ps": raw_ps}


# ---------------------------------------------------------------------------------------
# list of 1000 stacks vs one `docker compose ls -a --format json`

def listing():
    print(f"== list of 1000 stacks ({RUNS} runs, alternating)", flush=True)
    base = os.path.join(WORK, "many")
    env = dict(ENV, STACKWIZ_BASE_DIR=base)
    os.makedirs(base)
    compose_text = None
    for i in range(1000):
        d = os.path.join(base, f"bench-{i}")
        if compose_text is None:
            run([BIN, "create", f"bench-{i}", "--image", IMAGE, "--port", "80"], env=env)
            with open(os.path.join(d, "docker-compose.yml")) as f:
                compose_text = f.read()
            continue
        os.makedirs(d)
        with open(os.path.join(d, "docker-compose.yml"), "w") as f:
            f.write(compose_text.replace("bench-0", f"bench-{i}"))
    ls = [DOCKER, "compose", "ls", "-a", "--format", "json"]
    s, r = [], []
    for _ in range(RUNS):
        ns, out = run([BIN, "list", "--json"], env=env)
        s.append(ns)
        r.append(run(ls)[0])
    listed = json.loads(out)
    n = len(listed) if isinstance(listed, list) else len(listed.get("stacks", []))
    if n != 1000:
        die(f"list --json showed {n} stacks, not 1000")
    ratio_row("list, 1000 stacks", "one docker compose ls", s, r, 1.1, "one compose call (≤ 1.1×)")
    return docker_procs([BIN, "list", "--json"], env=env), docker_procs(ls)


# ---------------------------------------------------------------------------------------
# MCP: spawn -> initialize -> tools/list -> exit, vs spawning /bin/true; peak RSS

MCP_IN = (
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    '"capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}\n'
    '{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n'
).encode()


def spawn_wait(argv, data):
    """Spawn argv with piped stdin/stdout, feed data, read all, wait: (ns, stdout, maxrss KiB)."""
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(argv, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, cwd=WORK)
    try:
        p.stdin.write(data)
    except BrokenPipeError:
        pass
    p.stdin.close()
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    ns = time.perf_counter_ns() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        die(f"{' '.join(argv)} exited {p.returncode}")
    return ns, out, ru.ru_maxrss


def mcp():
    print(f"== MCP cold start ({RUNS * 2} runs, alternating)", flush=True)
    s, r, rss = [], [], []
    for _ in range(RUNS * 2):
        ns, out, _ = spawn_wait([BIN, "mcp"], MCP_IN)
        lines = [json.loads(x) for x in out.splitlines() if x.strip()]
        if [m.get("id") for m in lines] != [1, 2] or "tools" not in lines[1].get("result", {}):
            die(f"mcp session answered {out[:300]!r}")
        s.append(ns)
        r.append(spawn_wait(["/bin/true"], b"")[0])
    ratio_row("mcp: spawn, initialize, tools/list, exit", "spawn /bin/true", s, r, 2.5)
    # Peak RSS through GNU time, which fork()s its child: a child spawned straight from Python
    # (vfork) would report Python's own RSS as its peak.
    tf = os.path.join(WORK, "rss")
    for _ in range(RUNS):
        spawn_wait(["/usr/bin/time", "-f", "%M", "-o", tf, BIN, "mcp"], MCP_IN)
        with open(tf) as f:
            rss.append(int(f.read().split()[-1]))
    peak = max(rss) / 1024
    row(f"mcp session peak RSS (max of {RUNS} runs; goal, not a floor)", peak, 5.0, " MiB",
        "< 5 MiB", peak < 5.0)
    return len(out)


# ---------------------------------------------------------------------------------------
# create vs a shell's mkdir + two file writes

def create():
    print(f"== create ({RUNS} runs, alternating)", flush=True)
    s, r = [], []
    for i in range(RUNS):
        s.append(sw("create", f"new-{i}", "--image", IMAGE, "--port", "80")[0])
        d = os.path.join(WORK, f"shell-{i}")
        r.append(run(["sh", "-c", 'mkdir "$1" && echo x > "$1/docker-compose.yml" && echo y > "$1/.env"',
                      "sh", d])[0])
    ratio_row("create", "sh: mkdir + two file writes", s, r, 1.5, "at the floor (≤ 1.5×)")


# ---------------------------------------------------------------------------------------
# Cloudflare requests: a loopback fake answering Cloudflare's envelope

class FakeCf(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    zones = [("a" * 32, "example.com")]
    records = []
    log = []
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def ok(self, result, info=None):
        body = {"success": True, "errors": [], "messages": [], "result": result}
        if info is not None:
            body["result_info"] = info
        self.reply(200, body)

    def page(self, items, q):
        per = int(q.get("per_page", ["100"])[0])
        pg = int(q.get("page", ["1"])[0])
        chunk = items[(pg - 1) * per: pg * per]
        self.ok(chunk, {"page": pg, "per_page": per, "count": len(chunk), "total_count": len(items),
                        "total_pages": max(1, -(-len(items) // per))})

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        parts = url.path.removeprefix("/client/v4").strip("/").split("/")
        with FakeCf.lock:
            FakeCf.log.append((self.command, url.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.reply(403, {"success": False, "errors": [{"code": 9109, "message": "Invalid access token"}],
                                        "messages": [], "result": None})
            if parts == ["user", "tokens", "verify"]:
                return self.ok({"id": "x", "status": "active"})
            if parts == ["zones"]:
                want = q.get("name", [None])[0]
                zs = [{"id": i, "name": n, "status": "active"} for i, n in FakeCf.zones if want in (None, n)]
                return self.page(zs, q)
            if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
                zone = dict(FakeCf.zones).get(parts[1])
                if zone is None:
                    return self.reply(400, {"success": False, "errors": [{"code": 7003, "message": "bad zone"}],
                                            "messages": [], "result": None})
                if len(parts) == 3 and self.command == "GET":
                    def match(r):
                        for k, v in q.items():
                            v = v[0]
                            if k == "type" and r["type"] != v: return False
                            if k in ("name", "name.exact") and r["name"] != v.lower(): return False
                            if k in ("content", "content.exact") and r["content"] != v: return False
                            if k.startswith("comment") and k.endswith("startswith") and \
                                    not r.get("comment", "").lower().startswith(v.lower()): return False
                        return True
                    return self.page([r for r in FakeCf.records if r["zone_id"] == parts[1] and match(r)], q)
                if len(parts) == 3 and self.command == "POST":
                    rec = dict(body, id=f"{len(FakeCf.records) + 1:032x}", zone_id=parts[1], zone_name=zone)
                    rec.setdefault("ttl", 1)
                    rec.setdefault("proxied", False)
                    FakeCf.records.append(rec)
                    return self.ok(rec)
                if len(parts) == 4:
                    for r in FakeCf.records:
                        if r["id"] == parts[3]:
                            if self.command == "DELETE":
                                FakeCf.records.remove(r)
                                return self.ok({"id": r["id"]})
                            if self.command in ("PATCH", "PUT"):
                                r.update(body)
                            return self.ok(r)
                    return self.reply(404, {"success": False, "errors": [{"code": 81044, "message": "Record does not exist."}],
                                            "messages": [], "result": None})
            return self.reply(404, {"success": False, "errors": [{"code": 7000, "message": "No route for that URI"}],
                                    "messages": [], "result": None})

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any


def dns():
    print("== Cloudflare requests (loopback fake)", flush=True)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeCf)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = os.path.join(WORK, "dns-stacks")
    env = dict(ENV, STACKWIZ_BASE_DIR=base, XDG_CACHE_HOME=os.path.join(WORK, "dns-cache"),
               STACKWIZ_CF_API_URL=f"http://127.0.0.1:{srv.server_address[1]}/client/v4",
               STACKWIZ_CF_API_TOKEN=TOKEN, STACKWIZ_DEFAULT_DOMAIN="example.com",
               STACKWIZ_PUBLIC_IP=IP)
    for i in range(20):
        name = f"app{i}"
        host = f"{name}.example.com"
        os.makedirs(os.path.join(base, name))
        with open(os.path.join(base, name, "docker-compose.yml"), "w") as f:
            f.write(f'services:\n  app:\n    labels:\n      - "traefik.http.routers.{name}.rule=Host(`{host}`)"\n')
        FakeCf.records.append({"id": f"{1000 + i:032x}", "zone_id": "a" * 32, "zone_name": "example.com",
                               "name": host, "type": "A", "content": IP, "proxied": True, "ttl": 1,
                               "comment": f"stackwiz:{name} ip=auto"})
    FakeCf.log.clear()
    run([BIN, "dns", "sync"], env=env)
    cold = len(FakeCf.log)
    row("cold dns sync, 20 stacks in one zone: requests", cold, 2, "", "≤ 3", cold <= 3)
    run([BIN, "dns", "create", "warm"], env=env)  # the zone is known from now on
    FakeCf.log.clear()
    run([BIN, "dns", "create", "fresh"], env=env)
    warm = len(FakeCf.log)
    row("warm dns create of a new name: requests", warm, 2, "", "≤ 2", warm <= 2)
    srv.shutdown()


def main():
    t0 = time.time()
    engine = run([DOCKER, "version", "--format", "{{.Server.Version}}"])[1].decode().strip()
    compose_v = run([DOCKER, "compose", "version", "--short"])[1].decode().strip()
    counts, raw = lifecycle()
    list_counts = listing()
    tools_bytes = mcp()
    create()
    dns()

    def fmt(c):
        return f"{c[0]} CLI + {c[1]} plugin = {c[0] + c[1]}"
    proc_rows = []
    for cmd, floor in (("start", "up -d"), ("stop", "stop"), ("remove", "down")):
        c = counts[cmd]
        proc_rows.append((cmd, fmt(c), f"`docker compose {floor}`: {fmt(raw[floor])}",
                          "docker CLI once", "yes" if c[0] == 1 else "**no**"))
    c = counts["status"]
    proc_rows.append(("status", fmt(c), f"`docker compose ps`: {fmt(raw['ps'])}", "docker CLI once",
                      "yes" if c[0] == 1 else "**no**"))
    proc_rows.append(("list (1000 stacks)", fmt(list_counts[0]), f"`docker compose ls`: {fmt(list_counts[1])}",
                      "docker CLI once", "yes" if list_counts[0][0] == 1 else "**no**"))
    for r in proc_rows:
        print(f"docker processes: {r[0]:20} {r[1]:28} {r[2]}  {r[3]}: {r[4]}")

    elapsed = time.time() - t0
    with open(OUT, "w") as f:
        f.write("# Benchmarks\n\n")
        f.write("Written by `make bench` (tests/bench/run.sh → tests/bench/bench.py); do not edit by hand.\n\n")
        f.write(f"Release build, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                f"{os.cpu_count()} cores, Docker engine {engine}, Compose {compose_v}, "
                f"busybox test image `{IMAGE}`; {elapsed:.0f} s in all.\n\n")
        f.write(f"Times are medians of {RUNS} runs (the MCP start of {RUNS * 2}), each command run "
                "alternately with its floor in the same run, both spawned the same way from Python "
                "(the spawn cost is in both). Lifecycle floors run raw Compose on the same files with "
                "the arguments stackwiz passes (`docker compose -p NAME --project-directory DIR -f "
                "DIR/docker-compose.yml …`). The machine is shared, so absolute times move between "
                "runs; the ratios are what the goals are about.\n\n")
        f.write("| what | figure | floor | ratio | goal (issue 9) | met |\n|---|---|---|---|---|---|\n")
        for r in ROWS:
            f.write("| " + " | ".join(r) + " |\n")
        f.write("\n## Docker processes per command\n\nCounted with `strace -f -e trace=execve` "
                "(successful execve only): the docker CLI and the Compose plugin it runs.\n\n")
        f.write("| command | stackwiz spawns | raw Compose | goal | met |\n|---|---|---|---|---|\n")
        for r in proc_rows:
            f.write("| " + " | ".join(r) + " |\n")
        f.write(f"\nThe `tools/list` answer is {tools_bytes} bytes (about {tools_bytes // 4} tokens of "
                "agent context).\n\nCloudflare counts come from a loopback fake in the benchmark that "
                "answers Cloudflare's `{success, errors, messages, result, result_info}` envelope; the "
                "20 stacks' records already exist and point at the address, so the floor of a cold "
                "sync is one zone look-up and one record list, and of a warm create one look-up of "
                "the name and one POST.\n")
    print(f"wrote {OUT} ({elapsed:.0f} s)")


try:
    main()
finally:
    # Whatever a failed run left on the engine: our containers and the network.
    subprocess.run(f"{DOCKER} ps -aq --filter name=^/?swbench{os.getpid()} | xargs -r {DOCKER} rm -f -v",
                   shell=True, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([DOCKER, "network", "rm", NET], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(WORK, ignore_errors=True)
