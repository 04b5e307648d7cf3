"""Load test: gunicorn with the production config (config/gunicorn.conf.py) under wrk.

    .venv/bin/python benchmarks/load_test.py [--dsn DSN] [--duration 10] [--connections 16]
                                             [--max-requests 200000] [--rounds 3]

The gateway is served by ``gunicorn -c config/gunicorn.conf.py`` exactly as documented (workers
and threads from the config, or ``--workers``/``--threads``), bound to 127.0.0.1 on a free
port, against ``--dsn`` (default: the 1M-crash database whose DSN is in /tmp/cgdev1m/dsn, used
only once /tmp/cgdev1m/log ends with "loaded"). Only GET and OPTIONS requests are sent: the
database is read, never written.

1. A bare WSGI app answering a small JSON document runs under the same gunicorn config: the
   ceiling of what gunicorn can serve on this machine.
2. Every endpoint of a front-end mix (values picked from the database: top signatures, a hang
   pair, a crash with add-ons, featured versions, the last week of data) is driven alone for
   ``--duration`` seconds by ``--connections`` keep-alive connections, at most
   ``--max-requests`` requests: req/s, p50/p99/p99.9/max latency, errors (socket errors and
   statuses >= 400), and the CPU busy share of the machine.
3. The weighted mix itself, for the same time: overall req/s, latency and errors.

Trivial routes (``/__lbheartbeat__``, ``/__version__``: no work behind them, answered before
web.py's routing) are compared with the bare app (target >= 0.85x), and so is
``OPTIONS /products/``, a CORS preflight with no backend work that goes through web.py and the
service routing like every service request. The bare app and these three routes run
``--rounds`` times, alternated, and the median runs are compared: on a shared machine two runs
of the same thing can differ by 30 %. The load generator is ``wrk`` (Debian: ``apt-get install wrk``); without it a Python
generator (threads, http.client keep-alive) is used, which needs much more CPU itself.
"""
import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote

import psycopg2

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUNICORN_CONFIG = ROOT / "config" / "gunicorn.conf.py"
DEV_DATABASE = pathlib.Path("/tmp/cgdev1m")
# Routes with no work behind them (answered before web.py's routing), compared with the bare
# app; a CORS preflight (no backend work, but web.py and the service routing) shows what the
# whole stack costs a service route.
TRIVIAL = ("/__lbheartbeat__", "/__version__")
THROUGH_WEBPY = "OPTIONS /products/"
COMPARED = (*TRIVIAL, THROUGH_WEBPY)
HELLO_BODY = b'{"status": "ok"}'

WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("LOADTEST_PATHS")) do paths[#paths + 1] = line end
local limit = tonumber(os.getenv("LOADTEST_MAX_PER_THREAD"))
local requests, sent, index = {}, 0, 0

function init(args)
  for i, line in ipairs(paths) do
    local method, path = line:match("^(%u+) (.*)$")
    requests[i] = method and wrk.format(method, path) or wrk.format("GET", line)
  end
  index = math.random(#requests)
end

function request()
  sent = sent + 1
  if sent >= limit then wrk.thread:stop() end
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, per_thread)
  local e = summary.errors
  io.write(string.format("LOADTEST %d %d %d %d %d %d %d %.0f %.0f %.0f %.0f\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
"""


def hello_app(environ, start_response):
    """The ceiling: a WSGI app doing nothing but answer a small JSON document."""
    start_response("200 OK", [("Content-Type", "application/json; charset=utf-8"),
                              ("Content-Length", str(len(HELLO_BODY)))])
    return [HELLO_BODY]


# -- the data and the requests ----------------------------------------------------------------
def default_dsn():
    log = DEV_DATABASE / "log"
    if not log.exists() or not log.read_text().rstrip().endswith("loaded"):
        raise SystemExit(f"{log} does not end with 'loaded' yet: the 1M database is not ready "
                         f"(or pass --dsn)")
    return (DEV_DATABASE / "dsn").read_text().strip()


def pick_values(dsn):
    """Real values for the requests, read in a read-only transaction."""
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    conn.set_session(readonly=True, autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute("SELECT max(date_processed) FROM crash_daily")
        to = cur.fetchone()[0] + datetime.timedelta(days=1)
        week = to - datetime.timedelta(days=7)
        cur.execute("""
            SELECT s.signature FROM tcbs t JOIN signatures s USING (signature_id)
             WHERE t.report_date >= %s GROUP BY s.signature
             ORDER BY sum(t.report_count) DESC, s.signature LIMIT 50""", (week.date(),))
        ranked = [row[0] for row in cur.fetchall()]
        cur.execute("""SELECT uuid FROM reports WHERE hangid IS NOT NULL
                          AND date_processed >= %s ORDER BY uuid LIMIT 1""", (week,))
        hang_uuid = cur.fetchone()[0]
        cur.execute("""SELECT uuid, date_processed FROM extensions WHERE date_processed >= %s
                        ORDER BY uuid LIMIT 1""", (week,))
        addon_uuid, addon_date = cur.fetchone()
        cur.execute("""SELECT product_name, version_string FROM product_versions
                        WHERE featured_version ORDER BY product_name, version_sort""")
        featured = cur.fetchall()
        cur.execute("""
            SELECT t.product, t.version FROM tcbs t JOIN product_versions pv
                ON pv.product_name = t.product AND pv.version_string = t.version
             WHERE t.report_date >= %s AND pv.build_type = 'Release'
             GROUP BY 1, 2 ORDER BY sum(t.report_count) DESC, 1, 2 LIMIT 1""", (week.date(),))
        release = cur.fetchone()
    finally:
        conn.close()
    return {"to": to, "week": week, "signatures": [ranked[0], ranked[9], ranked[-1]],
            "hang_uuid": hang_uuid, "addon_uuid": addon_uuid, "addon_date": addon_date,
            "featured": [f"{p}:{v}" for p, v in featured], "release": release}


def endpoints(v):
    """[(name, weight in the mix, [paths])]: what a crash-stats front end asks for."""
    from crashgate.services.base import path_with_pairs as p

    def versions(prefix, items):  # a literal + separates list items in a path value
        return f"{prefix}/versions/{'+'.join(quote(item, safe='') for item in items)}/"

    week, to = v["week"].isoformat(), v["to"].isoformat()
    product, version = v["release"]
    by_signature = lambda prefix, **extra: [  # noqa: E731
        p(prefix, signature=s, from_date=week, to_date=to, **extra) for s in v["signatures"]]
    return [
        ("/__lbheartbeat__", 5, ["/__lbheartbeat__"]),
        ("/__version__", 1, ["/__version__"]),
        ("OPTIONS /products/", 2, ["OPTIONS /products/"]),  # a CORS preflight
        ("/products/", 8, ["/products/"]),
        ("/products/versions", 6, [versions("/products", v["featured"])]),
        ("/util/versions_info", 4, [versions("/util/versions_info", v["featured"][:4])]),
        ("/products/builds", 2, [p("/products/builds", product=product,
                                   from_date=(v["to"] - datetime.timedelta(days=90)).date())]),
        ("/crashes/signatures", 10, [p("/crashes/signatures", product=product, version=version,
                                       end_date=to, duration=168)]),
        ("/search/signatures", 8, [p("/search/signatures", from_date=week, to_date=to)]),
        ("/report/list", 15, by_signature("/report/list")),
        ("/crashes/frequency", 8, by_signature("/crashes/frequency")),
        ("/crashes/comments", 8, by_signature("/crashes/comments")),
        ("/signatureurls", 4, [p("/signatureurls", signature=s, start_date=week, end_date=to,
                                 products="ALL", versions="ALL") for s in v["signatures"]]),
        ("/extensions", 12, [p("/extensions", uuid=v["addon_uuid"],
                               date=v["addon_date"].isoformat())]),
        ("/crashes/paireduuid", 10, [p("/crashes/paireduuid", uuid=v["hang_uuid"])]),
    ]


def mix_paths(table):
    """The weighted mix as one list of paths, interleaved (not grouped by endpoint)."""
    weighted = [(name, paths) for name, weight, paths in table for _ in range(weight)]
    return [paths[i % len(paths)] for i, (_, paths) in
            sorted(enumerate(weighted), key=lambda item: (item[0] * 7919) % len(weighted))]


# -- the server -------------------------------------------------------------------------------
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn -c config/gunicorn.conf.py [app]`` on 127.0.0.1, until ``stop()``."""

    def __init__(self, log_path, dsn=None, app=None, workers=None, threads=None):
        self.port = free_port()
        env = {key: value for key, value in os.environ.items()
               if key not in ("CRASHGATE_CONFIG", "PROMETHEUS_MULTIPROC_DIR")}
        env.update(CRASHGATE_BIND=f"127.0.0.1:{self.port}",
                   elasticsearch__urls="http://127.0.0.1:1")
        if dsn:
            env["database__dsn"] = dsn
        if workers:
            env["CRASHGATE_WORKERS"] = str(workers)
        # as config/gunicorn.conf.py reads it
        self.workers = int(env.get("CRASHGATE_WORKERS", multiprocessing.cpu_count() * 2))
        if threads:
            env["CRASHGATE_THREADS"] = str(threads)
        command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)]
        if app:
            command += ["--pythonpath", str(pathlib.Path(__file__).parent), app]
        self.log = open(log_path, "ab")
        # cwd: not the checkout, so that PYTHONPATH can point at another tree to compare.
        self.process = subprocess.Popen(command, cwd=log_path.parent, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see "
                                 f"{self.log.name}")
            # Every worker must be up: keep-alive connections opened while only the first
            # one runs all stay with it, and the run measures one process.
            if len(_children(self.process.pid)) >= self.workers:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    conn.request("GET", "/__lbheartbeat__")
                    if conn.getresponse().status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within {timeout} s; see {self.log.name}")

    def cpu_seconds(self):
        """CPU time used so far by the master and its workers."""
        pids = [self.process.pid] + [int(p) for p in _children(self.process.pid)]
        return sum(_process_cpu(pid) for pid in pids)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


def _children(pid):
    try:
        return pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def _process_cpu(pid):
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(x) for x in pathlib.Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# -- the load ---------------------------------------------------------------------------------
def drive(server, paths, args, scratch):
    """Run the load against ``server``; the figures and the CPU used meanwhile."""
    busy0, total0 = machine_cpu()
    server_cpu0 = server.cpu_seconds()
    generator = run_wrk if args.generator == "wrk" else run_python
    result = generator(f"http://127.0.0.1:{server.port}", paths, args, scratch)
    busy1, total1 = machine_cpu()
    result["machine_cpu_busy"] = (busy1 - busy0) / max(total1 - total0, 1)
    result["server_cpu_cores"] = (server.cpu_seconds() - server_cpu0) / result["seconds"]
    return result


def run_wrk(base, paths, args, scratch):
    script = scratch / "loadtest.lua"
    script.write_text(WRK_SCRIPT)
    paths_file = scratch / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    env = dict(os.environ, LOADTEST_PATHS=str(paths_file),
               LOADTEST_MAX_PER_THREAD=str(max(1, args.max_requests // args.wrk_threads)))
    output = subprocess.run(
        ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections),
         "-d", f"{args.duration}s", "--timeout", "10s", "-s", str(script), base],
        env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("LOADTEST "))
    (requests, micros, connect, read, write, status, timeout,
     p50, p99, p999, slowest) = map(float, line.split()[1:])
    seconds = micros / 1e6
    return {"requests": int(requests), "seconds": seconds, "rps": requests / seconds,
            "p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "p999_ms": p999 / 1000,
            "max_ms": slowest / 1000, "errors": int(connect + read + write + status + timeout),
            "error_detail": {"connect": int(connect), "read": int(read), "write": int(write),
                             "status>=400": int(status), "timeout": int(timeout)}}


def run_python(base, paths, args, scratch):
    """The fallback generator: one thread per connection, keep-alive, same bounds."""
    host, port = base.removeprefix("http://").split(":")
    latencies, errors = [], []
    per_thread = max(1, args.max_requests // args.connections)
    stop_at = time.monotonic() + args.duration

    def client(offset):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        for index in range(offset, offset + per_thread):
            if time.monotonic() >= stop_at:
                break
            started = time.perf_counter()
            try:
                conn.request(*request_line(paths[index % len(paths)]))
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors.append(response.status)
            except OSError as error:
                errors.append(type(error).__name__)
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            latencies.append(time.perf_counter() - started)

    started = time.monotonic()
    clients = [threading.Thread(target=client, args=(i * 97,)) for i in range(args.connections)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    seconds = time.monotonic() - started
    ms = sorted(x * 1000 for x in latencies) or [0.0]
    rank = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    return {"requests": len(latencies), "seconds": seconds, "rps": len(latencies) / seconds,
            "p50_ms": statistics.median(ms), "p99_ms": rank(0.99), "p999_ms": rank(0.999),
            "max_ms": ms[-1], "errors": len(errors),
            "error_detail": {str(e): errors.count(e) for e in set(errors)}}


def request_line(line):
    """(method, path) of a line of the paths file: ``"OPTIONS /x"``, or a bare path (GET)."""
    method, space, path = line.partition(" ")
    return (method, path) if space and method.isupper() else ("GET", line)


# -- the report -------------------------------------------------------------------------------
def table(rows, ceiling):
    lines = ["| run | req/s | × bare | p50 ms | p99 ms | p99.9 ms | max ms | requests | errors "
             "| server CPU (cores) | server CPU µs/request | machine busy |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows:
        ratio = f"{r['rps'] / ceiling:.2f}" if ceiling else "-"
        lines.append(f"| {name} | {r['rps']:.0f} | {ratio} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['p999_ms']:.2f} | {r['max_ms']:.1f} | "
                     f"{r['requests']} | {r['errors']} | {r['server_cpu_cores']:.2f} | "
                     f"{r['server_cpu_cores'] / r['rps'] * 1e6:.0f} | "
                     f"{r['machine_cpu_busy']:.0%} |")
    return "\n".join(lines)


def median_run(runs):
    """The run with the median req/s (the lower middle one of an even count)."""
    return sorted(runs, key=lambda r: r["rps"])[(len(runs) - 1) // 2]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="crashgate database (default: the 1M one in /tmp/cgdev1m)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=200000, help="per run")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the config's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: the config's)")
    parser.add_argument("--endpoints", help="comma-separated subset of the endpoints to run")
    parser.add_argument("--no-mix", action="store_true", help="skip the mixed run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of the bare app and of the trivial routes, alternated")
    parser.add_argument("--generator", choices=("wrk", "python"), default=None,
                        help="default: wrk when installed")
    parser.add_argument("--json", type=pathlib.Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    if args.generator is None:
        args.generator = "wrk" if _has_wrk() else "python"
    return args


def _has_wrk():
    return subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode == 0


def main(argv=None):
    args = parse_args(argv)
    dsn = args.dsn or default_dsn()
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="cgload-"))
    table_ = endpoints(pick_values(dsn))
    if args.endpoints:
        wanted = {name.strip() for name in args.endpoints.split(",")}
        table_ = [row for row in table_ if row[0] in wanted]
    print(f"load average before: {os.getloadavg()}; generator {args.generator}, "
          f"{args.connections} connections, {args.duration} s per run; logs in {scratch}",
          flush=True)
    rows, ceilings, trivial_runs = [], [], {}
    trivial_table = [row for row in table_ if row[0] in COMPARED]
    # The bare app and the trivial routes alternate, --rounds times: on a shared machine
    # one run of each can differ by 30 %; the medians are compared.
    for round_ in range(args.rounds):
        bare = Gunicorn(scratch / "bare.log", app="load_test:hello_app", workers=args.workers,
                        threads=args.threads)
        try:
            ceilings.append(drive(bare, ["/__lbheartbeat__"], args, scratch))
        finally:
            bare.stop()
        print(f"round {round_ + 1}: bare {ceilings[-1]['rps']:.0f} req/s", flush=True)
        last_round = round_ == args.rounds - 1
        server = Gunicorn(scratch / "crashgate.log", dsn=dsn, workers=args.workers,
                          threads=args.threads)
        try:
            for name, _, paths in (table_ if last_round else trivial_table):
                result = drive(server, paths, args, scratch)
                if name in COMPARED:
                    trivial_runs.setdefault(name, []).append(result)
                else:
                    rows.append((name, result))
                print(f"round {round_ + 1}: {name}: {result['rps']:.0f} req/s, "
                      f"{result['errors']} errors "
                      f"{result['error_detail'] if result['errors'] else ''}", flush=True)
            if last_round and not args.no_mix and len(table_) > 1:
                rows.append(("mix (weights in load_test.endpoints)",
                             drive(server, mix_paths(table_), args, scratch)))
        finally:
            server.stop()
    rows = ([("bare WSGI app (ceiling)", median_run(ceilings))]
            + [(name, median_run(runs)) for name, runs in trivial_runs.items()] + rows)
    ceiling = rows[0][1]["rps"]
    print(f"\nload average after: {os.getloadavg()}\n")
    if args.rounds > 1:
        print("req/s per round: bare " + ", ".join(f"{r['rps']:.0f}" for r in ceilings) + "; "
              + "; ".join(f"{name} " + ", ".join(f"{r['rps']:.0f}" for r in runs)
                          for name, runs in trivial_runs.items())
              + ". The table shows each one's median round.\n")
    print(table(rows, ceiling))
    trivial = [(name, r["rps"] / ceiling) for name, r in rows if name in TRIVIAL]
    errors = sum(r["errors"] for r in ceilings) + sum(
        r["errors"] for runs in trivial_runs.values() for r in runs) + sum(
        r["errors"] for name, r in rows if name not in COMPARED)
    print("\ntrivial routes / bare app: " + ", ".join(f"{n} {x:.2f}x" for n, x in trivial)
          + f" (target >= 0.85x: {'PASS' if all(x >= 0.85 for _, x in trivial) else 'MISS'}); "
          f"errors: {errors}")
    if THROUGH_WEBPY in trivial_runs:
        print(f"through web.py and the service routing: {THROUGH_WEBPY} "
              f"{median_run(trivial_runs[THROUGH_WEBPY])['rps'] / ceiling:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)},
                                         "rows": rows, "bare_runs": ceilings,
                                         "trivial_runs": trivial_runs}, indent=1, default=str))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
