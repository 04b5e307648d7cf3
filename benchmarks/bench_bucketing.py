"""Benchmark of PartyCrasher ingestion with bucketing (PostgreSQL or Elasticsearch engine).

1. ``--corpus + 6 * --new`` labelled reports (crashgate.fakedata.labelled, seed 1, one
   project, 30 days; each also a crash document, so it is stored as a crash too) in time order;
2. a fresh embedded PostgreSQL in /tmp (``--reuse DIR``: a copy of the cluster kept in DIR by
   an earlier run with the same ``--corpus``, or kept there now); for the Elasticsearch engine
   also a local node and the reports indexer running as in ``crashgate serve``;
3. the first ``--corpus`` reports are ingested through the pipeline in arrays of ``--batch``
   (timed: bulk rate), then VACUUM ANALYZE (and, for Elasticsearch, the outbox drained);
4. each next ``--new`` reports: one per request sequentially (reports/s, p50/p99 latency),
   one per request by ``--clients`` concurrent clients, arrays of ``--array`` sequentially and
   by ``--clients`` clients, and one per request without crash fields (bucketing alone);
   CPU per report of this process (the gateway's work) and of the PostgreSQL server;
5. top-buckets queries (default threshold, 1/7/30-day windows, with and without project and
   ``q``): p50/p99 over ``--queries`` runs each;
6. table and index sizes.

The machine's load average is printed with the figures (the machine is shared).

    python benchmarks/bench_bucketing.py [--corpus 100000] [--new 1000] [--clients 4]
        [--engine elasticsearch] [--reuse /tmp/cg-bucketing-100k]
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
from crashgate.embedded import start_embedded_postgres  # noqa: E402
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


def post_each(reports, requests, latencies):
    for request in requests:
        started = time.perf_counter()
        reports.ingest(request)
        latencies.append(time.perf_counter() - started)


def timed_posts(reports, items, clients=1, size=1):
    """(reports/s, request latencies) of posting ``items`` in requests of ``size`` reports by
    ``clients`` threads."""
    requests = [items[index:index + size] for index in range(0, len(items), size)]
    latencies = []
    shares = [requests[index::clients] for index in range(clients)]
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


def execute(dsn, statement, autocommit=True):
    conn = psycopg2.connect(dsn)
    conn.autocommit = autocommit
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def table_sizes(dsn):
    return execute(dsn, """
        SELECT c.relname, pg_relation_size(c.oid), pg_total_relation_size(c.oid),
               c.reltuples::bigint
          FROM pg_class c
         WHERE c.relname LIKE 'pc\\_%%' AND c.relkind IN ('r', 'i')
         ORDER BY c.relkind DESC, c.relname""")


def query_times(top, runs, **kwargs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        top.top(**kwargs)
        times.append(time.perf_counter() - started)
    return times


def make_config(dsn, args, *argv):
    config = load_config([f"--database.max_connections={args.clients + 2}",
                          "--database.statement_timeout_ms=600000", *argv], environ={})
    config.database.dsn = dsn
    return config


def load_corpus(dsn, args, corpus, cpu):
    """Ingest ``corpus`` through the PostgreSQL engine in arrays of ``--batch``; VACUUM."""
    setup_database(dsn)
    backend = PostgreSQLBackend(make_config(dsn, args))
    reports = Reports(backend)
    started = time.perf_counter()
    cpu.start()
    for index in range(0, len(corpus), args.batch):
        reports.ingest(corpus[index:index + args.batch])
        if index and index % (args.batch * 20) == 0:
            log(f"  corpus {index}: {index / (time.perf_counter() - started):.0f} reports/s")
    rate = len(corpus) / (time.perf_counter() - started)
    client_ms, server_ms = cpu.per(len(corpus))
    print(f"corpus ingestion (PostgreSQL engine), {args.batch} per request: {rate:.0f} "
          f"reports/s; CPU per report: client {client_ms:.2f} ms, server {server_ms:.2f} ms "
          f"(load {load_average()})", flush=True)
    backend.close()
    execute(dsn, "VACUUM ANALYZE")


def prepare_database(args, corpus):
    """(server, dsn of a database holding the corpus, data directory, cleanup)."""
    if args.reuse is None:
        server, dsn, scratch = start_database(args.corpus)
        load_corpus(dsn, args, corpus, CPU(scratch / "data"))
        return server, dsn, scratch / "data", server.cleanup
    data_dir = pathlib.Path(args.reuse).resolve() / "data"
    server, admin = start_embedded_postgres(data_dir, database="postgres")
    template = f"corpus_{args.corpus}"
    if not execute(admin, f"SELECT 1 FROM pg_database WHERE datname = '{template}'"):
        log(f"loading the corpus into {data_dir} (kept for --reuse) ...")
        execute(admin, f"CREATE DATABASE {template}")
        load_corpus(server.get_uri(template), args, corpus, CPU(data_dir))
    execute(admin, "DROP DATABASE IF EXISTS bench_run WITH (FORCE)")
    execute(admin, f"CREATE DATABASE bench_run TEMPLATE {template}")
    return server, server.get_uri("bench_run"), data_dir, lambda: None  # stops at exit


def engine_reports(args, dsn, scratch):
    """(Reports of the engine, its backend, stop function)."""
    if args.engine == "postgresql":
        backend = PostgreSQLBackend(make_config(dsn, args))
        return Reports(backend), backend, lambda: None
    from crashgate.external.elasticsearch.backend import ElasticsearchBackend
    from crashgate.external.elasticsearch.bucketing import Reports as EsReports
    from crashgate.external.elasticsearch.indexer import run_in_thread
    from crashgate.external.elasticsearch.node import start_node
    from crashgate.external.elasticsearch.reports_index import ReportsIndexer

    node = start_node(scratch / "es")
    config = make_config(dsn, args, f"--elasticsearch.urls={node.url}",
                         "--elasticsearch.reports_index=bench-reports")
    backend = ElasticsearchBackend(config)
    reports = EsReports(backend)
    indexer = ReportsIndexer.from_config(config)
    started, moved = time.perf_counter(), 0
    while batch := indexer.drain_once():
        moved += batch
    print(f"reports index: {moved} reports indexed in {time.perf_counter() - started:.0f} s",
          flush=True)
    stop_indexer = run_in_thread(indexer)

    def stop():
        stop_indexer()
        backend.close()
        node.stop()
    return reports, backend, stop


PHASES = (("one per request, sequential", 1, False),
          ("one per request, {clients} clients", 1, True),
          ("arrays of {array}, sequential", None, False),
          ("arrays of {array}, {clients} clients", None, True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500, help="array size loading the corpus")
    parser.add_argument("--array", type=int, default=20, help="array size of the timed arrays")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--engine", choices=("postgresql", "elasticsearch"),
                        default="postgresql")
    parser.add_argument("--reuse", help="keep (or reuse) the loaded corpus in this directory")
    args = parser.parse_args()

    log(f"generating {args.corpus + 5 * args.new} labelled reports ...")
    started = time.perf_counter()
    pairs = generate_labelled_reports(args.corpus + 5 * args.new, seed=1, project=PROJECT)
    items = [parse_reports(report)[0] for report, _ in pairs]
    log(f"  {time.perf_counter() - started:.0f} s")
    corpus, rest = items[:args.corpus], items[args.corpus:]
    server, dsn, data_dir, cleanup = prepare_database(args, corpus)
    cpu = CPU(data_dir)
    try:
        reports, backend, stop = engine_reports(args, dsn, data_dir.parent)
        config = backend.config
        print(f"# PartyCrasher bucketing, {args.engine} engine: corpus {args.corpus}, thresholds "
              f"{len(config.bucketing.thresholds)}, tokenizer {config.bucketing.tokenizer}, "
              f"candidates {config.bucketing.candidates}, query terms "
              f"{config.bucketing.query_terms}")
        print(f"load average before: {load_average()}", flush=True)
        timed = []
        for index, (title, size, concurrent) in enumerate(PHASES):
            timed.append((title.format(clients=args.clients, array=args.array),
                          rest[index * args.new:(index + 1) * args.new], size or args.array,
                          args.clients if concurrent else 1))
        timed.append(("one per request, no crash fields",
                      [without_crash_fields(item) for item in rest[4 * args.new:]], 1, 1))
        for name, batch, size, clients in timed:
            cpu.start()
            rate, latencies = timed_posts(reports, batch, clients, size)
            client_ms, server_ms = cpu.per(len(batch))
            print(f"{name}: {rate:.0f} reports/s, request latency p50 "
                  f"{percentile(latencies, 0.5) * 1000:.1f} ms, p99 "
                  f"{percentile(latencies, 0.99) * 1000:.1f} ms; CPU per report: client "
                  f"{client_ms:.2f} ms, server {server_ms:.2f} ms "
                  f"({'PASS' if rate >= TARGET else 'MISS'} {TARGET}/s; load {load_average()})",
                  flush=True)
        stop()

        reader = PostgreSQLBackend(make_config(dsn, args))
        top = TopBuckets(reader)
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
        reader.close()
    finally:
        cleanup()


if __name__ == "__main__":
    main()
