"""Benchmark of indexing into Elasticsearch: outbox -> index throughput, and reindex.

1. the cached data set of ``--crashes`` crashes (``bench_services.ensure_dataset``: fixed seed
   and end date), loaded with ``load_files`` into a fresh embedded PostgreSQL (which fills
   ``es_outbox`` as any store does); the outbox write is then timed on its own: every crash
   inserted into the emptied ``es_outbox`` by the statement shape ``store_crashes`` uses;
2. a fresh local Elasticsearch node (``crashgate.external.elasticsearch.node``) in /tmp;
3. a warm-up: the first run of step 4, once, unmeasured (a fresh JVM indexes far slower);
4. for each run ``WORKERSxBATCH[@REFRESH]``: delete the crash indices, refill the outbox with
   every crash (same order each time), run the indexer as ``crashgate serve`` does
   (``run_in_thread``) and time it until the outbox is empty; check the index holds every
   crash; report the node's own indexing thread time per crash (``index_time_in_millis``).
   ``@REFRESH`` overrides the template's refresh_interval (1 s) with a higher-order template;
5. ``Indexer.reindex`` of the whole range into new indices, with and without
   ``pause_refresh``, with the first run's workers and batch size.

The machine's load average is printed with the figures: Python, PostgreSQL and the JVM share
its cores, and anything else running skews the result.

    python benchmarks/bench_indexing.py [--crashes 100000] [--runs 3x2000,2x2000,3x500,...]
"""
import argparse
import contextlib
import datetime
import os
import pathlib
import platform
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


def measured(es, run):
    """Time ``run()``; with the node's indexing time and the load average around it."""
    es_before, started = es_index_ms(es), time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "es_ms": es_index_ms(es) - es_before,
            "load": os.getloadavg()[0]}


def drain_run(dsn, es, url, workers, batch_size, refresh, crashes):
    es.indices.delete(index=PREFIX + "*", ignore_unavailable=True)
    if refresh:
        es.indices.put_template(name=f"{PREFIX}refresh", body={
            "index_patterns": [f"{PREFIX}2*"], "order": 1,
            "settings": {"refresh_interval": refresh}})
    else:
        es.indices.delete_template(name=f"{PREFIX}refresh", ignore=404)
    refill_outbox(dsn)
    indexer = Indexer(dsn, [url], index_prefix=PREFIX, index_period="week",
                      workers=workers, batch_size=batch_size, idle_seconds=0.05)

    def run():
        stop = run_in_thread(indexer)  # stopping closes the indexer
        while indexer.backlog():
            time.sleep(0.05)
        stop()

    result = measured(es, run)
    docs = count_docs(es, PREFIX + "*")
    assert docs == crashes, (docs, crashes)
    what = f"outbox drain, {workers} workers, batch {batch_size}"
    return dict(result, what=what + (f", refresh {refresh}" if refresh else ""), docs=docs)


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
    """``'2x500@30s'`` -> (2, 500, '30s'); ``'1x2000'`` -> (1, 2000, None)."""
    sizes, _, refresh = text.partition("@")
    workers, batch_size = map(int, sizes.split("x"))
    return workers, batch_size, refresh or None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crashes", type=int, default=100_000)
    parser.add_argument("--runs", default="3x2000,2x2000,1x2000,3x500,2x500,3x500@30s",
                        help="WORKERSxBATCH[@REFRESH] drains; the first is the default "
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
        es = Elasticsearch(node.url, timeout=120)
        log(f"warm-up (unmeasured): {drain_run(dsn, es, node.url, *runs[0], load['loaded'])}")
        results = []
        for workers, batch_size, refresh in runs:
            results.append(drain_run(dsn, es, node.url, workers, batch_size, refresh,
                                     load["loaded"]))
            log(f"  {results[-1]}")
        for pause in (False, True):
            results.append(reindex_run(dsn, es, node.url, *runs[0][:2], load["loaded"], pause))
            log(f"  {results[-1]}")
        report(args, load, outbox_us, results)
    finally:
        if node:
            node.stop()
        server.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


def report(args, load, outbox_us, results):
    print(f"`python benchmarks/bench_indexing.py --crashes {args.crashes} --runs {args.runs}`"
          f"  \nElasticsearch {ES_VERSION} (local node, 512 MB heap, 1 shard, 0 replicas), "
          f"embedded PostgreSQL, Python {platform.python_version()}, {os.cpu_count()} cores "
          "shared by all three.\n")
    print("| run | crashes | seconds | crashes/s | ES indexing thread time per crash "
          "| load avg | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        rate = r["docs"] / r["seconds"]
        print(f"| {r['what']} | {r['docs']} | {r['seconds']:.1f} | {rate:,.0f} | "
              f"{r['es_ms'] / r['docs'] * 1000:.0f} µs | {r['load']:.1f} | "
              f"{'PASS' if rate >= TARGET else 'MISS'} (≥ {TARGET:,}/s) |")
    print(f"\nLoader: {load['loaded']} crashes in {load['seconds']:.1f} s "
          f"({load['rate']:,.0f}/s), outbox included; the outbox write alone: "
          f"{outbox_us:.1f} µs per crash.")


if __name__ == "__main__":
    main()
