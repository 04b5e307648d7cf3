"""Benchmark of indexing into Elasticsearch: outbox -> index throughput, and reindex.

1. the cached data set of ``--crashes`` crashes (``bench_services.ensure_dataset``: fixed seed
   and end date), loaded with ``load_files`` into a fresh embedded PostgreSQL (which fills
   ``es_outbox`` as any store does); the outbox write is then timed on its own: every crash
   inserted into the emptied ``es_outbox`` by the statement shape ``store_crashes`` uses;
2. a fresh local Elasticsearch node (``crashgate.external.elasticsearch.node``) in /tmp;
3. a warm-up: the first run of step 4, once, unmeasured (a fresh JVM indexes far slower);
4. for each run ``WORKERSxBATCH[@REFRESH|@nobulk]``: delete the crash indices, refill the
   outbox with every crash (same order each time), run the indexer as ``crashgate serve`` does
   (``run_in_thread``, default ``bulk_mode_backlog``: the backlog is over it, so bulk mode
   turns refresh off and replicas to 0) and time it until the outbox is empty and bulk mode is
   undone; check the index holds every crash; report the node's own indexing thread time per
   crash (``index_time_in_millis``). ``@nobulk`` disables bulk mode; ``@REFRESH`` (e.g. 30s)
   also disables it and overrides the template's refresh_interval (1 s);
5. with ``--reindex``: ``Indexer.reindex`` of the whole range into new indices, with and
   without ``pause_refresh``, with the first run's workers and batch size.

Besides wall time, each run reports the CPU time the node's JVM, PostgreSQL (postmaster and
backends) and this process used per crash (from /proc and getrusage), and the throughput that
CPU cost allows on this machine's cores when nothing else runs: CPU time is busy time, so it
stays comparable when other work shares the machine, while wall time does not.

The machine's load average is printed with the figures: Python, PostgreSQL and the JVM share
its cores, and anything else running skews the result.

    python benchmarks/bench_indexing.py [--crashes 100000] [--runs 3x500,3x500@nobulk,...]
                                        [--reindex]
"""
import argparse
import contextlib
import datetime
import os
import pathlib
import platform
import resource
import shutil
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import psycopg2  # noqa: E402
from elasticsearch import Elasticsearch  # noqa: E402

from bench_services import DAYS, END_DATE, ensure_dataset, load_database, log  # noqa: E402
from bench_services import start_database  # noqa: E402
from crashgate.external.elasticsearch.indexer import Indexer, run_in_thread  # noqa: E402
from crashgate.external.elasticsearch.node import ES_VERSION, start_node  # noqa: E402

TARGET = 5000  # crashes/s (issue 4)
PREFIX = "bench-crashes-"
UTC = datetime.timezone.utc
START = datetime.datetime.combine(END_DATE - datetime.timedelta(days=DAYS + 1), datetime.time(),
                                  UTC)
END = datetime.datetime.combine(END_DATE + datetime.timedelta(days=2), datetime.time(), UTC)


def sql(dsn, *statements):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def outbox_write_cost(dsn, crashes):
    """Microseconds per crash of inserting every crash into the emptied outbox."""
    sql(dsn, "TRUNCATE es_outbox", "CHECKPOINT")
    started = time.perf_counter()
    sql(dsn, "INSERT INTO es_outbox (uuid, date_processed) "
             "SELECT uuid, date_processed FROM crash_ids ORDER BY uuid")
    return (time.perf_counter() - started) / crashes * 1e6


def refill_outbox(dsn):
    sql(dsn, "TRUNCATE es_outbox",
        "INSERT INTO es_outbox (uuid, date_processed) "
        "SELECT uuid, date_processed FROM crash_ids ORDER BY date_processed, uuid",
        "VACUUM ANALYZE es_outbox")


def es_index_ms(client):
    """Milliseconds the node spent indexing since it started (all threads)."""
    nodes = client.nodes.stats(metric="indices", index_metric="indexing")["nodes"]
    return sum(n["indices"]["indexing"]["index_time_in_millis"] for n in nodes.values())


def count_docs(es, pattern):
    es.indices.refresh(index=pattern)
    return es.count(index=pattern)["count"]


PIDS = {}  # "es": the node's JVM, "pg": the postmaster (set by main)
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    """(ppid, utime + stime, cutime + cstime) of ``pid`` in seconds, from /proc."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, \
        (int(fields[13]) + int(fields[14])) / TICK


def cpu_seconds():
    """CPU seconds used so far by the node, PostgreSQL (postmaster, its live and reaped
    children) and this process (every thread): busy time, whatever else runs on the machine."""
    _, es_cpu, _ = _stat(PIDS["es"])
    _, pg_cpu, pg_reaped = _stat(PIDS["pg"])
    pg_cpu += pg_reaped
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid, own, _ = _stat(entry.name)
                if ppid == PIDS["pg"]:
                    pg_cpu += own
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"es": es_cpu, "pg": pg_cpu, "py": usage.ru_utime + usage.ru_stime}


def measured(es, run):
    """Time ``run()``; with the node's indexing time, the CPU time of each party and the load
    average around it."""
    es_before, cpu_before, started = es_index_ms(es), cpu_seconds(), time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    cpu = {name: used - cpu_before[name] for name, used in cpu_seconds().items()}
    return {"seconds": seconds, "es_ms": es_index_ms(es) - es_before, "cpu": cpu,
            "load": os.getloadavg()[0]}


def drain_run(dsn, es, url, workers, batch_size, refresh, crashes):
    bulk = refresh is None
    refresh = None if refresh == "nobulk" else refresh
    es.indices.delete(index=PREFIX + "*", ignore_unavailable=True)
    if refresh:
        es.indices.put_template(name=f"{PREFIX}refresh", body={
            "index_patterns": [f"{PREFIX}2*"], "order": 2,
            "settings": {"refresh_interval": refresh}})
    else:
        es.indices.delete_template(name=f"{PREFIX}refresh", ignore=404)
    refill_outbox(dsn)
    indexer = Indexer(dsn, [url], index_prefix=PREFIX, index_period="week",
                      workers=workers, batch_size=batch_size, idle_seconds=0.05,
                      **({} if bulk else {"bulk_mode_backlog": 0}))

    def run():
        stop = run_in_thread(indexer)  # stopping closes the indexer
        while indexer.backlog():
            time.sleep(0.05)
        stop()

    result = measured(es, run)
    docs = count_docs(es, PREFIX + "*")
    assert docs == crashes, (docs, crashes)
    what = f"outbox drain, {workers} workers, batch {batch_size}"
    what += f", refresh {refresh}" if refresh else ", bulk mode" if bulk else ", no bulk mode"
    return dict(result, what=what, docs=docs)


def reindex_run(dsn, es, url, workers, batch_size, crashes, pause_refresh):
    prefix = f"{PREFIX}re{'p' if pause_refresh else ''}-"
    indexer = Indexer(dsn, [url], index_prefix=prefix, index_period="week",
                      workers=workers, batch_size=batch_size)
    with contextlib.closing(indexer):
        summaries = []
        result = measured(es, lambda: summaries.append(
            indexer.reindex(START, END, pause_refresh=pause_refresh)))
    docs = count_docs(es, prefix + "*")
    assert docs == crashes == summaries[0].sent, (docs, summaries)
    label = "reindex --pause-refresh" if pause_refresh else "reindex"
    return dict(result, what=f"{label}, {workers} workers, batch {batch_size}", docs=docs)


def parse_run(text):
    """``'2x500@30s'`` -> (2, 500, '30s'); ``'1x2000'`` -> (1, 2000, None) (bulk mode)."""
    sizes, _, refresh = text.partition("@")
    workers, batch_size = map(int, sizes.split("x"))
    return workers, batch_size, refresh or None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crashes", type=int, default=100_000)
    parser.add_argument("--reindex", action="store_true",
                        help="also time Indexer.reindex, with and without pause_refresh")
    parser.add_argument("--runs", default="3x500,3x500@nobulk,2x500,3x1000",
                        help="WORKERSxBATCH[@REFRESH|@nobulk] drains; the first is the default "
                             "configuration and is also used for reindex")
    args = parser.parse_args(argv)
    runs = [parse_run(run) for run in args.runs.split(",")]
    paths = ensure_dataset(args.crashes)
    server, dsn, scratch = start_database(args.crashes)
    node = None
    try:
        load = load_database(dsn, paths)
        outbox_us = outbox_write_cost(dsn, load["loaded"])
        log(f"outbox write {outbox_us:.1f} us/crash")
        node = start_node(scratch / "es")
        PIDS.update(es=node.pid,
                    pg=int((scratch / "data" / "postmaster.pid").read_text().split()[0]))
        es = Elasticsearch(node.url, timeout=120)
        log(f"warm-up (unmeasured): {drain_run(dsn, es, node.url, *runs[0], load['loaded'])}")
        results = []
        for workers, batch_size, refresh in runs:
            results.append(drain_run(dsn, es, node.url, workers, batch_size, refresh,
                                     load["loaded"]))
            log(f"  {results[-1]}")
        for pause in (False, True) if args.reindex else ():
            results.append(reindex_run(dsn, es, node.url, *runs[0][:2], load["loaded"], pause))
            log(f"  {results[-1]}")
        report(args, load, outbox_us, results)
    finally:
        if node:
            node.stop()
        server.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


def report(args, load, outbox_us, results):
    print(f"`python benchmarks/bench_indexing.py --crashes {args.crashes} --runs {args.runs}"
          f"{' --reindex' if args.reindex else ''}`"
          f"  \nElasticsearch {ES_VERSION} (local node, 1 GB heap, 1 shard, 0 replicas), "
          f"embedded PostgreSQL, Python {platform.python_version()}, {os.cpu_count()} cores "
          "shared by all three.\n")
    print("| run | crashes | seconds | crashes/s | ES indexing thread time per crash "
          "| CPU µs/crash ES + PG + Python = total | crashes/s if the 2 cores were ours "
          "| load avg | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        rate = r["docs"] / r["seconds"]
        us = {name: used / r["docs"] * 1e6 for name, used in r["cpu"].items()}
        total = sum(us.values())
        ceiling = os.cpu_count() * 1e6 / total
        print(f"| {r['what']} | {r['docs']} | {r['seconds']:.1f} | {rate:,.0f} | "
              f"{r['es_ms'] / r['docs'] * 1000:.0f} µs | {us['es']:.0f} + {us['pg']:.0f} + "
              f"{us['py']:.0f} = {total:.0f} | {ceiling:,.0f} | {r['load']:.1f} | "
              f"{'PASS' if rate >= TARGET else 'MISS'} (≥ {TARGET:,}/s); "
              f"{'PASS' if ceiling >= TARGET else 'MISS'} on idle cores |")
    print(f"\nLoader: {load['loaded']} crashes in {load['seconds']:.1f} s "
          f"({load['rate']:,.0f}/s), outbox included; the outbox write alone: "
          f"{outbox_us:.1f} µs per crash.")


if __name__ == "__main__":
    main()
