"""Benchmark of the Socorro services on PostgreSQL: the gateway against the same SQL run directly.

For each data set size (default 100k and 1M crashes over 30 days):

1. generate the data set with ``crashgate.fakedata.write_dataset`` (fixed seed and end date, so
   runs are comparable) or reuse the copy cached in ``benchmarks/data/<n>/`` (git-ignored);
2. start a fresh embedded PostgreSQL in a /tmp directory (Unix socket only, deleted at the
   end), apply the schema, load the files with ``crashgate.ingest.loader.load_files`` (load
   time and crashes/s are reported), then ``VACUUM ANALYZE``;
3. pick real values from the loaded data (top, median and rare signatures of the last week,
   a hang pair, crashes with extensions, jobs, products and versions);
4. for every request of every service: send it through the real WSGI application in-process
   (``build_gateway`` + ``make_wsgi_app`` + ``tests/wsgiclient.py``), recording the statements
   (SQL and parameters) the request executes by wrapping the gateway's connection pool; then
   time, interleaved, N gateway requests and N replays of exactly those statements on a plain
   psycopg2 connection (same cursor classes, every row fetched, one transaction, committed);
5. print gateway and direct p50/p99 and their ratios per request, the 1M/100k scaling of the
   p50s, and PASS/MISS for the targets.

Requests labelled "(scan)" move a whole-day range out by one second, so they cannot use the
daily aggregates of migration 0004: they show what the fallback costs and are not judged for
scaling.

p99 is nearest-rank: with 30 samples it is the slowest one. Slow requests get fewer
iterations (``--budget`` seconds per request, at least ``--min-iterations``).

    python benchmarks/bench_services.py [--sizes 100000,1000000] [--iterations 30] [--markdown]
"""
import argparse
import contextlib
import copy
import datetime
import gc
import io
import json
import math
import os
import pathlib
import platform
import shutil
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode

REPO = pathlib.Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # tests/wsgiclient.py and crashgate from the checkout
    sys.path.insert(0, str(REPO))

import psycopg2  # noqa: E402
import psycopg2.extensions  # noqa: E402
import psycopg2.extras  # noqa: E402

from crashgate.embedded import start_embedded_postgres  # noqa: E402
from crashgate.external.postgresql.deadline import WatchedConnection  # noqa: E402
from crashgate.external.postgresql.schema import setup_database  # noqa: E402
from crashgate.fakedata import write_dataset  # noqa: E402
from crashgate.ingest.loader import load_files  # noqa: E402
from crashgate.middleware.app import make_wsgi_app  # noqa: E402
from crashgate.runtime import build_gateway  # noqa: E402
from crashgate.settings import load_config  # noqa: E402
from tests.wsgiclient import WSGIClient  # noqa: E402

DAYS = 30
SEED = 1
END_DATE = datetime.date(2026, 11, 1)  # last day of data; fixed so that runs are comparable
DATA_ROOT = REPO / "benchmarks" / "data"
UTC = datetime.timezone.utc
TO = datetime.datetime.combine(END_DATE + datetime.timedelta(days=1), datetime.time(), UTC)
WINDOWS = {  # label -> from_date (to_date is always TO, the end of END_DATE)
    "1 d": TO - datetime.timedelta(days=1),
    "7 d": TO - datetime.timedelta(days=7),
    "30 d": TO - datetime.timedelta(days=DAYS),
}
SECOND = datetime.timedelta(seconds=1)
SCAN_CASE = "(scan)"  # label end of requests that cannot use the daily aggregates
MISSING_UUID = "00000000-0000-0000-0000-000000000000"
SEARCH_TERM = "nsViewManager"  # part of ~50 of the generated signatures

# Targets (issue): see evaluate().
RATIO_TARGET = 1.2
SCALING_TARGET = 2.0
FAST_TARGET_MS = 50.0
FAST_SERVICES = ("/report/list", "/crashes/comments", "/crashes/paireduuid", "/extensions",
                 "/crashes/signatures")
# Services whose queries are bounded by a date range (partition pruning): their time at 1M
# should stay within SCALING_TARGET x their time at 100k.
DATE_BOUNDED = ("/report/list", "/crashes/comments", "/crashes/frequency", "/crashes/paireduuid",
                "/crashes/signatures", "/extensions", "/signatureurls", "/search/crashes",
                "/search/signatures")
SERVICES = ("/report/list", "/crashes/comments", "/crashes/frequency", "/crashes/paireduuid",
            "/crashes/signatures", "/extensions", "/job", "/priorityjobs", "/signatureurls",
            "/search/crashes", "/search/signatures", "/products", "/products/builds",
            "/util/versions_info")


def log(message):
    print(message, file=sys.stderr, flush=True)


# -- data set and database --------------------------------------------------------------------
def ensure_dataset(crashes):
    """Paths (products file first) of the cached data set of ``crashes``, generated if needed."""
    out = DATA_ROOT / str(crashes)
    manifest_path = out / "manifest.json"
    wanted = {"crashes": crashes, "days": DAYS, "seed": SEED, "end_date": END_DATE.isoformat()}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        paths = [out / name for name in manifest.get("files", [])]
        if ({k: manifest.get(k) for k in wanted} == wanted and paths
                and all(p.exists() for p in paths)):
            log(f"[{crashes}] reusing data set in {out}")
            return paths
    if out.exists():
        shutil.rmtree(out)
    log(f"[{crashes}] generating {crashes} crashes over {DAYS} days into {out} ...")
    info = write_dataset(out, crashes, DAYS, seed=SEED, end_date=END_DATE)
    files = [info["products_file"], *info["files"]]
    manifest_path.write_text(json.dumps(
        dict(wanted, files=[os.path.basename(f) for f in files], seconds=info["seconds"]),
        indent=1) + "\n")
    log(f"[{crashes}] generated in {info['seconds']:.0f} s")
    return [pathlib.Path(f) for f in files]


def start_database(crashes):
    """A fresh embedded PostgreSQL in /tmp (deleted by ``server.cleanup()`` or at exit)."""
    scratch = pathlib.Path(tempfile.mkdtemp(prefix=f"cgbench-{crashes}-", dir="/tmp"))
    server, dsn = start_embedded_postgres(scratch / "data", database="crashgate_bench",
                                          cleanup_mode="delete")
    return server, dsn, scratch


def load_database(dsn, paths):
    """Schema, load, VACUUM ANALYZE; returns {seconds, rate, loaded, vacuum_seconds}."""
    setup_database(dsn)
    out = io.StringIO()
    summary = load_files(dsn, paths, out=out)
    log("  " + out.getvalue().strip().replace("\n", "\n  "))
    started = time.perf_counter()
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
            cur.execute("SELECT pg_database_size(current_database())")
            size = cur.fetchone()[0]
    finally:
        conn.close()
    return {"loaded": summary.loaded, "rejected": summary.rejected, "seconds": summary.seconds,
            "rate": summary.rate, "vacuum_seconds": time.perf_counter() - started,
            "database_bytes": size}


# -- values taken from the loaded data --------------------------------------------------------
def pick_values(dsn, products_file):
    """Real values for the requests: signatures, uuids, products and versions."""
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    conn.autocommit = True
    v = {}
    try:
        cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        cur.execute("""
            SELECT s.signature, sum(t.report_count) AS n
              FROM tcbs t JOIN signatures s USING (signature_id)
             WHERE t.report_date >= %s AND t.report_date < %s
             GROUP BY s.signature ORDER BY n DESC, s.signature""",
                    (WINDOWS["7 d"].date(), TO.date()))
        ranked = cur.fetchall()
        v["top"], v["median"], v["rare"] = (ranked[0], ranked[len(ranked) // 2], ranked[-1])
        v["signatures_7d"] = len(ranked)
        # A hang pair of the last day (both crashes carry the hangid).
        cur.execute("""
            SELECT uuid, hangid, date_processed FROM reports
             WHERE hangid IS NOT NULL AND date_processed >= %s AND date_processed < %s
             ORDER BY uuid LIMIT 1""", (WINDOWS["1 d"], TO))
        v["hang"] = cur.fetchone()
        # Crashes with extensions: one of the last day, one of the first day.
        for label, start in (("ext_recent", WINDOWS["1 d"]),
                             ("ext_old", WINDOWS["30 d"])):
            cur.execute("""
                SELECT uuid, date_processed, count(*) AS n FROM extensions
                 WHERE date_processed >= %s AND date_processed < %s
                 GROUP BY uuid, date_processed ORDER BY uuid LIMIT 1""",
                        (start, start + datetime.timedelta(days=1)))
            v[label] = cur.fetchone()
        cur.execute("SELECT uuid FROM jobs ORDER BY uuid LIMIT 1 OFFSET 1000")
        v["job_uuid"] = cur.fetchone()["uuid"]
        # /priorityjobs: the loader does not fill it; queue 1000 known crashes.
        cur.execute("INSERT INTO priorityjobs (uuid) SELECT uuid FROM crash_ids "
                    "ORDER BY uuid LIMIT 1000 ON CONFLICT DO NOTHING")
        cur.execute("ANALYZE priorityjobs")
        cur.execute("SELECT uuid FROM priorityjobs ORDER BY uuid LIMIT 1 OFFSET 500")
        v["priority_uuid"] = cur.fetchone()["uuid"]
        # The product versions with most crashes in the last week, per channel.
        cur.execute("""
            SELECT t.product, t.version, pv.build_type, sum(t.report_count) AS n
              FROM tcbs t JOIN product_versions pv
                ON pv.product_name = t.product AND pv.version_string = t.version
             WHERE t.report_date >= %s AND t.report_date < %s
             GROUP BY 1, 2, 3 ORDER BY n DESC, 1, 2""", (WINDOWS["7 d"].date(), TO.date()))
        by_volume = cur.fetchall()
        v["release"] = next(r for r in by_volume if r["build_type"] == "Release")
        v["beta"] = next(r for r in by_volume if r["build_type"] == "Beta")
        v["minor"] = by_volume[len(by_volume) // 2]
    finally:
        conn.close()
    products = json.loads(pathlib.Path(products_file).read_text())
    v["featured"] = [(p["product_name"], p["version_string"]) for p in products["versions"]
                     if p.get("featured")]
    v["products"] = [p["product_name"] for p in products["products"]]
    return v


def uri(path, **params):
    """``path`` with a query string; dates as ISO-8601, a list as a repeated key."""
    pairs = []
    for key, value in params.items():
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    return f"{path}/?{urlencode(pairs)}" if pairs else f"{path}/"


def build_requests(v):
    """[(service, case, uri)]: representative requests of every service."""
    to = TO
    week, day, month = WINDOWS["7 d"], WINDOWS["1 d"], WINDOWS["30 d"]
    top, median, rare = v["top"]["signature"], v["median"]["signature"], v["rare"]["signature"]
    release = f"{v['release']['product']}:{v['release']['version']}"
    beta = f"{v['beta']['product']}:{v['beta']['version']}"
    product = v["release"]["product"]
    hang = v["hang"]
    reqs = []

    def add(service, case, **params):
        reqs.append((service, case, uri(service, **params)))

    for service in ("/report/list", "/crashes/comments", "/crashes/frequency"):
        add(service, "top sig, 7 d", signature=top, from_date=week, to_date=to)
        add(service, "median sig, 7 d", signature=median, from_date=week, to_date=to)
        add(service, "rare sig, 30 d", signature=rare, from_date=month, to_date=to)
        add(service, "top sig, 1 d", signature=top, from_date=day, to_date=to)
        add(service, "top sig, 30 d", signature=top, from_date=month, to_date=to)
        add(service, "top sig, 7 d, release version", signature=top, from_date=week, to_date=to,
            versions=release)
    # A range that is not whole UTC days: /crashes/frequency counts its totals in reports
    # instead of the crash_daily aggregate (the price of leaving the aggregate).
    add("/crashes/frequency", f"top sig, 7 d + 1 s {SCAN_CASE}", signature=top,
        from_date=week - SECOND, to_date=to)
    add("/crashes/paireduuid", "uuid", uuid=hang["uuid"])
    add("/crashes/paireduuid", "uuid + hangid", uuid=hang["uuid"], hangid=hang["hangid"])
    # end_date TO (midnight after END_DATE): the period ends with the last day of data
    for label, days in (("7 d", 168), ("1 d", 24), ("30 d", 720)):
        add("/crashes/signatures", f"release, {label}", product=product,
            version=v["release"]["version"], end_date=to, duration=days)
    add("/crashes/signatures", "release, 7 d to a Thursday", product=product,
        version=v["release"]["version"], end_date=to - datetime.timedelta(days=4), duration=168)
    add("/crashes/signatures", "beta, 7 d", product=v["beta"]["product"],
        version=v["beta"]["version"], end_date=to)
    add("/crashes/signatures", "release, 7 d, windows, browser", product=product,
        version=v["release"]["version"], end_date=to, os="windows", crash_type="browser")
    add("/extensions", "crash of the last day", uuid=v["ext_recent"]["uuid"],
        date=v["ext_recent"]["date_processed"])
    add("/extensions", "crash of the first day", uuid=v["ext_old"]["uuid"],
        date=v["ext_old"]["date_processed"])
    add("/job", "known uuid", uuid=v["job_uuid"])
    add("/job", "unknown uuid", uuid=MISSING_UUID)
    add("/priorityjobs", "queued uuid", uuid=v["priority_uuid"])
    add("/priorityjobs", "unknown uuid", uuid=MISSING_UUID)
    add("/signatureurls", "top sig, 7 d, ALL", signature=top, start_date=week, end_date=to,
        products="ALL", versions="ALL")
    add("/signatureurls", "top sig, 30 d, ALL", signature=top, start_date=month, end_date=to,
        products="ALL", versions="ALL")
    add("/signatureurls", "median sig, 7 d, release", signature=median, start_date=week,
        end_date=to, products=product, versions=release)
    add("/search/crashes", "7 d", from_date=week, to_date=to)
    add("/search/crashes", "1 d", from_date=day, to_date=to)
    add("/search/crashes", "7 d, beta version", from_date=week, to_date=to, versions=beta)
    add("/search/crashes", "7 d, term in signature", from_date=week, to_date=to,
        terms=SEARCH_TERM, fields="signature")
    add("/search/crashes", "1 d, term in all fields", from_date=day, to_date=to,
        terms=SEARCH_TERM)
    for field in ("reason", "url", "user_comments", "frames"):  # trigram indexes, one each
        add("/search/crashes", f"1 d, term in {field}", from_date=day, to_date=to,
            terms=SEARCH_TERM, fields=field)
    add("/search/crashes", "7 d, term in frames", from_date=week, to_date=to,
        terms=SEARCH_TERM, fields="frames")
    add("/search/signatures", "7 d", from_date=week, to_date=to)
    add("/search/signatures", "1 d", from_date=day, to_date=to)
    add("/search/signatures", "30 d", from_date=month, to_date=to)
    add("/search/signatures", f"7 d + 1 s {SCAN_CASE}", from_date=week - SECOND, to_date=to)
    add("/search/signatures", "7 d, release version", from_date=week, to_date=to,
        versions=release)
    add("/search/signatures", "7 d, windows, plugin", from_date=week, to_date=to,
        os="windows", report_process="plugin")
    add("/products", "all")
    add("/products", "featured versions", versions=[f"{p}:{ver}" for p, ver in v["featured"]])
    add("/products/builds", "product, 90 d", product=product,
        from_date=END_DATE - datetime.timedelta(days=90))
    add("/products/builds", "product + version", product=product,
        version=v["release"]["version"], from_date=END_DATE - datetime.timedelta(days=365))
    add("/util/versions_info", "release + beta", versions=[release, beta])
    return reqs


# -- recording the gateway's statements --------------------------------------------------------
class Statement:
    __slots__ = ("cursor_class", "sql", "params")

    def __init__(self, cursor_class, sql, params):
        self.cursor_class, self.sql, self.params = cursor_class, sql, params


def _recording_cursor_class(base, proxy):
    class RecordingCursor(base):
        # implementations may open a second cursor with ``cursor.connection.cursor()``
        connection = property(lambda self: proxy)

        def execute(self, query, vars=None):
            proxy.statements.append(Statement(base, query, copy.deepcopy(vars)))
            return super().execute(query, vars)

        def executemany(self, query, vars_list):
            raise NotImplementedError("executemany is not recorded")

    return RecordingCursor


class _RecordingConnection:
    """A proxy of a pooled connection whose cursors record every ``execute``."""

    def __init__(self, conn, statements):
        self._conn, self.statements = conn, statements

    def cursor(self, *args, cursor_factory=None, **kwargs):
        base = cursor_factory or self._conn.cursor_factory or psycopg2.extensions.cursor
        return self._conn.cursor(*args, cursor_factory=_recording_cursor_class(base, self),
                                 **kwargs)

    def __getattr__(self, name):
        return getattr(self._conn, name)


class StatementRecorder:
    """Wraps ``pool.connection`` (instance attribute) so that a request's statements are kept.

    Outside ``record`` the pooled connections are handed out untouched.
    """

    def __init__(self, pool):
        self.pool, self._statements = pool, None
        self._original = pool.connection
        pool.connection = self._connection

    @contextlib.contextmanager
    def _connection(self):
        with self._original() as conn:
            if self._statements is None:
                yield conn
            else:
                yield _RecordingConnection(conn, self._statements)

    def record(self, action):
        self._statements = []
        try:
            result = action()
        finally:
            statements, self._statements = self._statements, None
        return result, statements


def replay(conn, statements):
    """Run ``statements`` as the gateway did, fetching every row; returns the row count."""
    rows = 0
    try:
        for st in statements:
            with conn.cursor(cursor_factory=st.cursor_class) as cur:
                cur.execute(st.sql, st.params)
                if cur.description is not None:
                    rows += len(cur.fetchall())
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return rows


def explain(conn, statement):
    """EXPLAIN (ANALYZE, BUFFERS) of one recorded statement, as text."""
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.params)
        text = "\n".join(row[0] for row in cur.fetchall())
    conn.rollback()
    return text


# -- timing ------------------------------------------------------------------------------------
def percentile(samples, q):
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def bench_request(client, recorder, direct, service, case, request_uri, iterations,
                  min_iterations, budget, explain_over_ms):
    # warm-up: one recorded gateway request, one more plain, one replay
    started = time.perf_counter()
    response, statements = recorder.record(lambda: client.get(request_uri))
    first_ms = (time.perf_counter() - started) * 1000
    result = {"service": service, "case": case, "uri": request_uri, "status": response.status,
              "bytes": len(response.body), "statements": len(statements)}
    if response.status != 200:
        result["error"] = response.body[:300].decode("utf-8", "replace")
        log(f"    {service} [{case}]: HTTP {response.status} {result['error']}")
        return result
    client.get(request_uri)
    started = time.perf_counter()
    result["rows"] = replay(direct, statements)
    per_iteration = first_ms / 1000 + (time.perf_counter() - started)
    n = max(min_iterations, min(iterations, int(budget / max(per_iteration, 1e-6))))
    gateway, plain = [], []
    gc.collect()
    for _ in range(n):  # interleaved, so both sides meet the same machine noise
        started = time.perf_counter()
        response = client.get(request_uri)
        gateway.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{request_uri}: HTTP {response.status} during timing")
        started = time.perf_counter()
        replay(direct, statements)
        plain.append((time.perf_counter() - started) * 1000)
    result.update(
        iterations=n,
        gateway_p50=statistics.median(gateway), gateway_p99=percentile(gateway, 99),
        direct_p50=statistics.median(plain), direct_p99=percentile(plain, 99))
    result["ratio_p50"] = result["gateway_p50"] / result["direct_p50"]
    result["ratio_p99"] = result["gateway_p99"] / result["direct_p99"]
    if explain_over_ms is not None and result["direct_p50"] >= explain_over_ms:
        timed = []
        for st in statements:
            started = time.perf_counter()
            replay(direct, [st])
            timed.append(((time.perf_counter() - started) * 1000, st))
        ms, slowest = max(timed, key=lambda t: t[0])
        result["explain"] = {"sql": direct.cursor().mogrify(slowest.sql, slowest.params)
                             .decode("utf-8", "replace"), "ms": ms,
                             "plan": explain(direct, slowest)}
    return result


def run_size(crashes, args):
    paths = ensure_dataset(crashes)
    if args.dsn:  # an already loaded database (e.g. to try an index): no load
        return bench_database(crashes, args.dsn, paths, None, args)
    server, dsn, scratch = start_database(crashes)
    try:
        log(f"[{crashes}] PostgreSQL in {scratch}; loading {len(paths) - 1} crash files ...")
        load = load_database(dsn, paths)
        log(f"[{crashes}] loaded {load['loaded']} crashes in {load['seconds']:.1f} s "
            f"({load['rate']:.0f} crashes/s); VACUUM ANALYZE {load['vacuum_seconds']:.1f} s; "
            f"database {load['database_bytes'] / 2**20:.0f} MiB")
        return bench_database(crashes, dsn, paths, load, args)
    finally:
        server.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


def bench_database(crashes, dsn, paths, load, args):
    values = pick_values(dsn, paths[0])
    requests = [r for r in build_requests(values)
                if not args.services or r[0] in args.services]
    config = load_config([], environ={})
    config.database.dsn = dsn
    gateway = build_gateway(config)
    pool = gateway.backends["postgresql"].pool
    recorder = StatementRecorder(pool)
    client = WSGIClient(make_wsgi_app(gateway))
    # the gateway's connection class: recorded statements replay with its cursor classes
    direct = psycopg2.connect(
        dsn, application_name="crashgate-bench-direct", connection_factory=WatchedConnection,
        options=f"-c statement_timeout={int(pool.statement_timeout_ms)} -c TimeZone=UTC")
    results = []
    try:
        for service, case, request_uri in requests:
            res = bench_request(client, recorder, direct, service, case, request_uri,
                                args.iterations, args.min_iterations, args.budget,
                                args.explain_over)
            results.append(res)
            if "gateway_p50" in res:
                log(f"    {service:22} {case:34} n={res['iterations']:<3} "
                    f"gw {res['gateway_p50']:8.2f}/{res['gateway_p99']:8.2f} ms  "
                    f"direct {res['direct_p50']:8.2f}/{res['direct_p99']:8.2f} ms  "
                    f"x{res['ratio_p50']:.2f}/x{res['ratio_p99']:.2f}")
    finally:
        direct.close()
        for backend in gateway.backends.values():
            backend.close()
    picked = {key: values[key] for key in ("top", "median", "rare", "signatures_7d",
                                           "release", "beta")}
    return {"crashes": crashes, "load": load, "values": picked, "results": results}


# -- reporting ---------------------------------------------------------------------------------
def fmt_ms(value):
    return "—" if value is None else (f"{value:.2f}" if value < 100 else f"{value:.0f}")


def size_label(crashes):
    return f"{crashes // 1_000_000}M" if crashes % 1_000_000 == 0 else f"{crashes // 1000}k"


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" if h.startswith(("p50", "p99", "gw", "direct", "n", "x",
                                                     "ratio", "rows", "1M", "100k"))
                            else "---" for h in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def size_table(run):
    rows = []
    for r in run["results"]:
        if "gateway_p50" not in r:
            rows.append([f"`{r['service']}`", r["case"], "—", f"HTTP {r['status']}", "", "", "",
                         "", "", "", ""])
            continue
        rows.append([f"`{r['service']}`", r["case"], r["iterations"],
                     fmt_ms(r["gateway_p50"]), fmt_ms(r["gateway_p99"]),
                     fmt_ms(r["direct_p50"]), fmt_ms(r["direct_p99"]),
                     f"{r['ratio_p50']:.2f}", f"{r['ratio_p99']:.2f}",
                     f"{r['gateway_p50'] - r['direct_p50']:+.2f}",
                     f"{r['statements']} / {r['rows']}"])
    return table(["service", "case", "n", "gw p50 ms", "gw p99 ms", "direct p50 ms",
                  "direct p99 ms", "x p50", "x p99", "gw−direct p50 ms", "stmts / rows"], rows)


def scaling_rows(runs):
    """[(service, case, p50 small, p50 large, ratio)] between the smallest and largest size."""
    if len(runs) < 2:
        return []
    small, large = runs[0], runs[-1]
    by_case = {(r["service"], r["case"]): r for r in small["results"] if "gateway_p50" in r}
    rows = []
    for r in large["results"]:
        other = by_case.get((r["service"], r["case"]))
        if other and "gateway_p50" in r:
            rows.append((r["service"], r["case"], other["gateway_p50"], r["gateway_p50"],
                         r["gateway_p50"] / other["gateway_p50"],
                         other["direct_p50"], r["direct_p50"]))
    return rows


def evaluate(runs):
    """[(target, service, verdict, detail)] for the issue's targets."""
    verdicts = []
    largest = runs[-1]
    ok = [r for r in largest["results"] if "gateway_p50" in r]
    for service in SERVICES:
        for run in runs:
            mine = [r for r in run["results"] if r["service"] == service and "gateway_p50" in r]
            if not mine:
                continue
            worst = max(mine, key=lambda r: r["ratio_p50"])
            worst99 = max(mine, key=lambda r: r["ratio_p99"])
            verdict = "PASS" if worst["ratio_p50"] <= RATIO_TARGET else "MISS"
            detail = (f"worst p50 ratio {worst['ratio_p50']:.2f} ({worst['case']}; "
                      f"{worst['gateway_p50'] - worst['direct_p50']:+.2f} ms)"
                      f"; worst p99 ratio {worst99['ratio_p99']:.2f} ({worst99['case']})")
            if verdict == "MISS":
                detail += f"; {worst['ratio_p50'] / RATIO_TARGET:.2f}x over the target"
            verdicts.append((f"gateway ≤ {RATIO_TARGET}× direct ({size_label(run['crashes'])})",
                             service, verdict, detail))
    scaling = scaling_rows(runs)
    if scaling:
        label = f"{size_label(runs[-1]['crashes'])}/{size_label(runs[0]['crashes'])} p50"
        for service in DATE_BOUNDED:
            # "(scan)" cases show the fallback off whole days; they are reported, not judged
            mine = [s for s in scaling if s[0] == service and not s[1].endswith(SCAN_CASE)]
            if not mine:
                continue
            worst = max(mine, key=lambda s: s[4])
            verdict = "PASS" if worst[4] <= SCALING_TARGET else "MISS"
            detail = (f"worst {worst[4]:.2f}× ({worst[1]}: {fmt_ms(worst[2])} → "
                      f"{fmt_ms(worst[3])} ms)")
            if verdict == "MISS":
                detail += f"; {worst[4] / SCALING_TARGET:.1f}x over the target"
            verdicts.append((f"{label} ≤ {SCALING_TARGET}×", service, verdict, detail))
    for service in FAST_SERVICES:
        mine = [r for r in ok if r["service"] == service]
        if not mine:
            continue
        worst = max(mine, key=lambda r: r["gateway_p50"])
        verdict = "PASS" if worst["gateway_p50"] < FAST_TARGET_MS else "MISS"
        detail = f"worst p50 {fmt_ms(worst['gateway_p50'])} ms ({worst['case']})"
        if verdict == "MISS":
            detail += f"; {worst['gateway_p50'] / FAST_TARGET_MS:.1f}x the target"
        verdicts.append((f"p50 < {FAST_TARGET_MS:.0f} ms at {size_label(largest['crashes'])}",
                         service, verdict, detail))
    return verdicts


def report(runs, markdown):
    out = []
    if markdown:
        out.append(f"Command: `python benchmarks/bench_services.py {' '.join(sys.argv[1:])}`  ")
        out.append(f"Date: {datetime.datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: "
                   f"{os.cpu_count()} CPUs, {platform.python_implementation()} "
                   f"{platform.python_version()}, psycopg2 {psycopg2.__version__.split()[0]}; "
                   f"data: {DAYS} days ending {END_DATE}, seed {SEED}.")
        out.append("")
    for run in runs:
        load = run["load"]
        v = run["values"]
        title = f"{size_label(run['crashes'])} crashes ({run['crashes']:,})"
        out.append(f"### {title}" if markdown else f"== {title} ==")
        out.append("")
        if load:
            out.append(f"Load: {load['loaded']:,} crashes in {load['seconds']:.1f} s = "
                       f"**{load['rate']:,.0f} crashes/s**; VACUUM ANALYZE "
                       f"{load['vacuum_seconds']:.1f} s; database "
                       f"{load['database_bytes'] / 2**20:,.0f} MiB.  ")
        else:
            out.append("Database given with --dsn (not loaded by this run).  ")
        out.append(f"Signatures in the last 7 days: {v['signatures_7d']}; top "
                   f"`{v['top']['signature'][:60]}` ({v['top']['n']} crashes), median "
                   f"({v['median']['n']}), rare ({v['rare']['n']}). Release version "
                   f"{v['release']['product']} {v['release']['version']} ({v['release']['n']} "
                   f"crashes in 7 d), beta {v['beta']['product']} {v['beta']['version']}.")
        out.append("")
        out.append(size_table(run))
        out.append("")
    scaling = scaling_rows(runs)
    if scaling:
        big, small = size_label(runs[-1]["crashes"]), size_label(runs[0]["crashes"])
        out.append(f"### Scaling {big}/{small} (gateway p50)" if markdown
                   else f"== scaling {big}/{small} ==")
        out.append("")
        out.append(table(["service", "case", f"{small} p50 ms", f"{big} p50 ms",
                          f"x {big}/{small}", f"direct {small} ms", f"direct {big} ms"],
                         [[f"`{s}`", c, fmt_ms(a), fmt_ms(b), f"{r:.2f}", fmt_ms(da),
                           fmt_ms(db)] for s, c, a, b, r, da, db in scaling]))
        out.append("")
    out.append("### Targets" if markdown else "== targets ==")
    out.append("")
    out.append(table(["target", "service", "verdict", "detail"],
                     [[t, f"`{s}`", f"**{v}**" if v == "MISS" else v, d]
                      for t, s, v, d in evaluate(runs)]))
    out.append("")
    explained = [(run, r) for run in runs for r in run["results"] if "explain" in r]
    if explained:
        out.append("### Plans of the slowest statements" if markdown else "== plans ==")
        for run, r in explained:
            out.append("")
            out.append(f"{size_label(run['crashes'])} `{r['service']}` {r['case']}: "
                       f"{r['explain']['ms']:.1f} ms")
            out.append("")
            out.append("```sql\n" + r["explain"]["sql"].strip() + "\n```")
            out.append("```\n" + r["explain"]["plan"] + "\n```")
    print("\n".join(out))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated crash counts (default 100000,1000000)")
    parser.add_argument("--iterations", type=int, default=30,
                        help="timed iterations per request and side (default 30)")
    parser.add_argument("--min-iterations", type=int, default=5,
                        help="at least this many, even for slow requests (default 5)")
    parser.add_argument("--budget", type=float, default=6.0,
                        help="seconds per request for gateway + direct iterations (default 6)")
    parser.add_argument("--services", default="",
                        help="only these services, comma-separated paths (e.g. /report/list)")
    parser.add_argument("--explain-over", type=float, default=None, metavar="MS",
                        help="EXPLAIN ANALYZE the slowest statement of requests whose direct "
                             "p50 is at least MS ms")
    parser.add_argument("--dsn", help="benchmark this already loaded database (one size, "
                                      "the data set of --sizes) instead of a fresh one")
    parser.add_argument("--markdown", action="store_true", help="markdown tables")
    parser.add_argument("--json", metavar="FILE", help="also write raw results to FILE")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.services = [s.strip().rstrip("/") for s in args.services.split(",") if s.strip()]
    if args.dsn and len(args.sizes) != 1:
        parser.error("--dsn takes one size (the data set loaded in that database)")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    runs = [run_size(crashes, args) for crashes in sorted(args.sizes)]
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(runs, indent=1, default=str) + "\n")
    report(runs, args.markdown)
    log(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
