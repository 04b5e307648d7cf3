"""Benchmark of PartyCrasher ingestion with bucketing on the PostgreSQL engine.

1. ``--corpus + 3 * --new`` labelled reports (crashgate.fakedata.labelled, seed 1, one
   project, 30 days; each also a crash document, so it is stored as a crash too) in time order;
2. a fresh embedded PostgreSQL in /tmp; the first ``--corpus`` reports are ingested through
   the pipeline in requests of ``--batch`` reports (timed: bulk rate), then VACUUM ANALYZE;
3. the next ``--new`` reports posted one per request, sequentially (reports/s, p50/p99
   latency); the next ``--new`` by ``--clients`` concurrent clients (aggregate reports/s);
   the last ``--new`` sequentially again without their crash fields (bucketing alone);
4. top-buckets queries (default threshold, 1/7/30-day windows, with and without project and
   ``q``): p50/p99 over ``--queries`` runs each;
5. table and index sizes.

The machine's load average is printed with the figures (the machine is shared).

    python benchmarks/bench_bucketing.py [--corpus 100000] [--new 1000] [--clients 4]
"""
import argparse
import datetime
import os
import pathlib
import statistics
import sys
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import psycopg2  # noqa: E402

from bench_services import log, start_database  # noqa: E402
from crashgate.external.postgresql.backend import PostgreSQLBackend  # noqa: E402
from crashgate.external.postgresql.partycrasher.implementations import (  # noqa: E402
    Reports, TopBuckets)
from crashgate.external.postgresql.schema import setup_database  # noqa: E402
from crashgate.fakedata.labelled import generate_labelled_reports  # noqa: E402
from crashgate.ingest.report_document import parse_reports  # noqa: E402
from crashgate.settings import load_config  # noqa: E402

TARGET = 200  # reports/s with bucketing (issue 5)
PROJECT = "bench"
UTC = datetime.timezone.utc


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def load_average():
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def server_cpu_seconds(data_dir):
    """CPU seconds used by a PostgreSQL server: postmaster and live children, plus the exited
    children it waited for (autovacuum workers, ...)."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((pathlib.Path(data_dir) / "postmaster.pid").read_text().split()[0])
    total = 0
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(proc.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


class CPU:
    """CPU seconds of this process and of the server between ``start()`` and ``per()``."""

    def __init__(self, data_dir):
        self.data_dir = data_dir

    def start(self):
        self.client, self.server = time.process_time(), server_cpu_seconds(self.data_dir)

    def per(self, count):
        return ((time.process_time() - self.client) / count * 1000,
                (server_cpu_seconds(self.data_dir) - self.server) / count * 1000)


def post_each(reports, items, latencies):
    for item in items:
        started = time.perf_counter()
        reports.ingest([item])
        latencies.append(time.perf_counter() - started)


def timed_posts(reports, items, clients=1):
    """(reports/s, latencies) of posting ``items`` one per request by ``clients`` threads."""
    latencies = []
    shares = [items[index::clients] for index in range(clients)]
    threads = [threading.Thread(target=post_each, args=(reports, share, latencies))
               for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(items) / elapsed, latencies


def without_crash_fields(report):
    document = {key: value for key, value in report.document.items()
                if key not in ("product", "version", "signature")}
    return parse_reports(document)[0]


def table_sizes(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("""
                SELECT c.relname, pg_relation_size(c.oid), pg_total_relation_size(c.oid),
                       c.reltuples::bigint
                  FROM pg_class c
                 WHERE c.relname LIKE 'pc\\_%%' AND c.relkind IN ('r', 'i')
                 ORDER BY c.relkind DESC, c.relname""")
            return cur.fetchall()
    finally:
        conn.close()


def query_times(top, runs, **kwargs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        top.top(**kwargs)
        times.append(time.perf_counter() - started)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()

    log(f"generating {args.corpus + 3 * args.new} labelled reports ...")
    started = time.perf_counter()
    pairs = generate_labelled_reports(args.corpus + 3 * args.new, seed=1, project=PROJECT)
    items = [parse_reports(report)[0] for report, _ in pairs]
    log(f"  {time.perf_counter() - started:.0f} s")
    corpus, rest = items[:args.corpus], items[args.corpus:]
    sequential, concurrent = rest[:args.new], rest[args.new:2 * args.new]
    bucketing_only = [without_crash_fields(item) for item in rest[2 * args.new:]]

    server, dsn, scratch = start_database(args.corpus)
    cpu = CPU(scratch / "data")
    try:
        setup_database(dsn)
        config = load_config([f"--database.max_connections={args.clients + 2}",
                              "--database.statement_timeout_ms=600000"], environ={})
        config.database.dsn = dsn
        backend = PostgreSQLBackend(config)
        reports = Reports(backend)
        print(f"# PartyCrasher bucketing on PostgreSQL: corpus {args.corpus}, "
              f"thresholds {len(config.bucketing.thresholds)}, tokenizer "
              f"{config.bucketing.tokenizer}, candidates {config.bucketing.candidates}, "
              f"query terms {config.bucketing.query_terms}")
        print(f"load average before: {load_average()}")

        started = time.perf_counter()
        cpu.start()
        for index in range(0, len(corpus), args.batch):
            reports.ingest(corpus[index:index + args.batch])
            if index and index % (args.batch * 20) == 0:
                rate = index / (time.perf_counter() - started)
                log(f"  corpus {index}: {rate:.0f} reports/s")
        bulk = len(corpus) / (time.perf_counter() - started)
        client_ms, server_ms = cpu.per(len(corpus))
        print(f"corpus ingestion, {args.batch} per request: {bulk:.0f} reports/s; CPU per "
              f"report: client {client_ms:.2f} ms, server {server_ms:.2f} ms "
              f"(load {load_average()})")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.close()

        for name, batch, clients in (("sequential", sequential, 1),
                                     (f"{args.clients} clients", concurrent, args.clients),
                                     ("sequential, no crash fields", bucketing_only, 1)):
            cpu.start()
            rate, latencies = timed_posts(reports, batch, clients)
            client_ms, server_ms = cpu.per(len(batch))
            print(f"{name}: {rate:.0f} reports/s, latency p50 "
                  f"{percentile(latencies, 0.5) * 1000:.1f} ms, p99 "
                  f"{percentile(latencies, 0.99) * 1000:.1f} ms; CPU per report: client "
                  f"{client_ms:.2f} ms, server {server_ms:.2f} ms "
                  f"({'PASS' if rate >= TARGET else 'MISS'} {TARGET}/s; load {load_average()})")

        top = TopBuckets(backend)
        end = max(item.date for item in items)
        q = corpus[-1].document["frames"][0]["function"].split("::")[-1].split("(")[0]
        print(f"top buckets (threshold {config.bucketing.default_threshold}, size 10), "
              f"p50 / p99 ms over {args.queries} runs:")
        for days in (1, 7, 30):
            since = end - datetime.timedelta(days=days)
            for project in (PROJECT, None):
                for query in (None, q):
                    times = query_times(top, args.queries,
                                        threshold=config.bucketing.default_threshold,
                                        project=project, since=since, until=None, offset=0,
                                        size=10, q=query)
                    print(f"  {days:2d} days, project {project or '-':5s}, q {query or '-'}: "
                          f"{statistics.median(times) * 1000:.1f} / "
                          f"{percentile(times, 0.99) * 1000:.1f}")
        print("sizes (relation, total with indexes and TOAST, rows):")
        for name, size, total, tuples in table_sizes(dsn):
            print(f"  {name:28s} {size / 2**20:8.1f} MiB {total / 2**20:8.1f} MiB {tuples:>10}")
        print(f"load average after: {load_average()}")
        backend.close()
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
