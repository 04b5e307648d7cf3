"""Benchmark of indexing into Elasticsearch: outbox -> index throughput, and reindex.

1. the cached data set of ``--crashes`` crashes (``bench_services.ensure_dataset``: fixed seed
   and end date), loaded with ``load_files`` into a fresh embedded PostgreSQL (which fills
   ``es_outbox`` as any store does); the outbox write is then timed on its own: every crash
   inserted into the emptied ``es_outbox`` by the statement shape ``store_crashes`` uses;
2. a fresh local Elasticsearch node (``crashgate.external.elasticsearch.node``) in /tmp;
3. a warm-up: the first run of step 4, once, unmeasured (a fresh JVM indexes far slower);
4. for each run ``WORKERSxBATCH[@TAG+TAG...]``: delete the crash indices, refill the
   outbox with every crash (same order each time), run the indexer as ``crashgate serve`` does
   (``run_in_thread``, default ``bulk_mode_backlog``: the backlog is over it, so bulk mode
   turns refresh off and replicas to 0) and time it until the outbox is empty and bulk mode is
   undone; check the index holds every crash; report the node's own indexing thread time per
   crash (``index_time_in_millis``). ``@nobulk`` disables bulk mode; ``@REFRESH`` (e.g. 30s)
   also disables it and overrides the template's refresh_interval (1 s); a tag naming one of
   ``VARIANTS`` (e.g. ``regex``: the CamelCase tokenizer before 2026-11-23; ``words``: the
   ``frame_functions.text`` subfield of ``elasticsearch.frame_words``) installs its
   settings or mapping over the crash template for that run, and ``pydoc`` runs the indexer's
   Python side as it was before 2026-11-23 (documents built and serialised in Python), so
   old and new configurations alternate within one benchmark run;
5. with ``--reindex``: ``Indexer.reindex`` of the whole range into new indices, with and
   without ``pause_refresh``, with the first run's workers and batch size.

Besides wall time, each run reports the CPU time the node's JVM, PostgreSQL (postmaster and
backends) and this process used per crash (from /proc and getrusage), and the throughput that
CPU cost allows on this machine's cores when nothing else runs: CPU time is busy time, so it
stays comparable when other work shares the machine, while wall time does not.

The machine's load average is printed with the figures: Python, PostgreSQL and the JVM share
its cores, and anything else running skews the result.

    python benchmarks/bench_indexing.py [--crashes 100000] [--runs 3x500,3x500@pydoc+regex,...]
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
from unittest import mock

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import orjson  # noqa: E402
import psycopg2  # noqa: E402
import psycopg2.extras  # noqa: E402
from elasticsearch import Elasticsearch, helpers  # noqa: E402

from bench_services import DAYS, END_DATE, ensure_dataset, load_database, log  # noqa: E402
from bench_services import start_database  # noqa: E402
from crashgate.external.elasticsearch import indexer as indexer_module  # noqa: E402
from crashgate.external.elasticsearch.indexer import Indexer, run_in_thread  # noqa: E402
from crashgate.external.elasticsearch.indices import (FRAME_WORDS, MAPPINGS,  # noqa: E402
                                                      SETTINGS, index_for, keyword_with)
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


def pending(cur):
    """Whether the outbox still has a row to send."""
    cur.execute("SELECT EXISTS (SELECT 1 FROM es_outbox WHERE failed_at IS NULL ORDER BY id "
                "LIMIT 1)")
    return cur.fetchone()[0]


def es_index_ms(client):
    """Milliseconds the node spent indexing since it started (all threads)."""
    nodes = client.nodes.stats(metric="indices", index_metric="indexing")["nodes"]
    return sum(n["indices"]["indexing"]["index_time_in_millis"] for n in nodes.values())


def count_docs(es, pattern):
    es.indices.refresh(index=pattern)
    return es.count(index=pattern)["count"]


PIDS = {}  # "es": the node's JVM, "pg": the postmaster (set by main)
TICK = os.sysconf("SC_CLK_TCK")
REAP_SECONDS = 1.0


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
    average around it. PostgreSQL's closed sessions count once the postmaster has reaped
    them: each snapshot waits REAP_SECONDS first, so a run is charged its own sessions and not
    the refill before it."""
    time.sleep(REAP_SECONDS)
    es_before, cpu_before, started = es_index_ms(es), cpu_seconds(), time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    time.sleep(REAP_SECONDS)
    cpu = {name: used - cpu_before[name] for name, used in cpu_seconds().items()}
    return {"seconds": seconds, "es_ms": es_index_ms(es) - es_before, "cpu": cpu,
            "load": os.getloadavg()[0]}


_LOWER = keyword_with()["fields"]["lower"]
_DOCS_ONLY = {"type": "text", "analyzer": "camel", "index_options": "docs", "norms": False}
# Alternative index settings a run can name (``3x500@regex+async``), installed as a template
# of higher order than the crash template for that run only, so old and new configurations
# alternate within one benchmark run.
VARIANTS = {
    # the translog synced in the background instead of on every bulk request
    "async": {"settings": {"index.translog.durability": "async"}},
    # the CamelCase tokenizer before 2026-11-23: splitting at look-behind/look-ahead matches
    "regex": {"settings": {"analysis.tokenizer.camel": {
        "type": "pattern", "group": -1, "pattern":
        "([^\\p{L}\\d]+)|(?<=\\D)(?=\\d)|(?<=\\d)(?=\\D)"
        "|(?<=[\\p{L}&&[^\\p{Lu}]])(?=\\p{Lu})|(?<=\\p{Lu})(?=\\p{Lu}[\\p{L}&&[^\\p{Lu}]])"}}},
    # an upper bound for any analyser: the whole value as one lower-cased token
    "keywordtext": {"settings": {"analysis.analyzer.camel": {
        "type": "custom", "tokenizer": "keyword", "filter": ["lowercase"]}}},
    # extensions as plain objects instead of nested documents
    "objext": {"mappings": {"properties": {"extensions": {"type": "object"}}}},
    # no doc values for the frame functions (16 per crash; only .lower is read by scripts)
    "nodv": {"settings": SETTINGS, "mappings": {"properties": {
        "frame_functions": {**MAPPINGS["properties"]["frame_functions"],
                            "doc_values": False}}}},
    # CamelCase text without positions, frequencies or norms
    "docsonly": {"settings": SETTINGS, "mappings": {"properties": {
        **{name: keyword_with("text") | {"fields": {"lower": _LOWER, "text": _DOCS_ONLY}}
           for name in ("signature", "reason", "user_comments")},
        "app_notes": _DOCS_ONLY}}},
    # elasticsearch.frame_words on: the CamelCase frame_functions.text subfield (in the
    # mapping by default until 2026-11-23)
    "words": {"settings": SETTINGS, "mappings": {"properties": FRAME_WORDS}},
}


# The indexer's Python side before 2026-11-23 (``@pydoc``): typed rows, documents built in
# Python and serialised by the client's bulk helper.
PYDOC_SQL = """
    SELECT r.id AS report_id, r.uuid, r.date_processed, r.client_crash_date, r.product, r.version,
           r.build, r.release_channel, r.signature, r.reason, r.address, r.os_name, r.os_version,
           r.cpu_name, r.cpu_info, r.url, r.email, r.user_comments, r.app_notes, r.uptime,
           r.install_age, r.last_crash, r.hangid, r.process_type, r.frames, r.started_datetime,
           r.completed_datetime, r.success, r.processor_notes, r.duplicate_of, r.extra,
           p.name AS plugin_name, p.filename AS plugin_filename, pr.version AS plugin_version,
           (SELECT json_agg(json_build_object('extension_key', e.extension_key,
                                              'extension_id', e.extension_id,
                                              'extension_version', e.extension_version)
                            ORDER BY e.extension_key)
              FROM extensions e
             WHERE e.uuid = r.uuid AND e.date_processed = r.date_processed) AS extensions
      FROM reports r
      LEFT JOIN plugins_reports pr ON pr.uuid = r.uuid AND pr.date_processed = r.date_processed
      LEFT JOIN plugins p ON p.id = pr.plugin_id
     WHERE (r.uuid, r.date_processed) IN (SELECT * FROM unnest(%(uuids)s::text[],
                                                               %(dates)s::timestamptz[]))
"""
_DATES = tuple(n for n, spec in MAPPINGS["properties"].items() if spec.get("type") == "date")
_COPIED = tuple(n for n in MAPPINGS["properties"]
                if n not in _DATES + ("frame_functions", "build_numeric"))


def _pydoc_document(row):
    get = row.get
    doc = {name: get(name) for name in _COPIED}
    for name in _DATES:
        value = get(name)
        doc[name] = value if value is None else value.astimezone(UTC).isoformat()
    doc["frame_functions"] = [f["function"] for f in get("frames") or () if f.get("function")]
    build = get("build") or ""
    doc["build_numeric"] = int(build) if build.isascii() and build.isdigit() \
        and len(build) <= 18 else None
    doc["extensions"] = get("extensions") or []
    return doc


def _pydoc_fetch(cur, query, **params):
    psycopg2.extras.register_default_json(cur, loads=orjson.loads)
    psycopg2.extras.register_default_jsonb(cur, loads=orjson.loads)
    cur.execute(query, params)
    names = [column.name for column in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _pydoc_send(self, rows):
    actions = [{"_op_type": "index", "_index": index_for(self.prefix, self.period,
                                                         row["date_processed"]),
                "_id": row["uuid"], "_source": _pydoc_document(row)} for row in rows]
    outcome = {}
    for ok, item in helpers.streaming_bulk(self.client, actions, chunk_size=max(len(actions), 1),
                                           raise_on_error=False, raise_on_exception=True):
        outcome[item["index"]["_id"]] = indexer_module._OK if ok else \
            indexer_module._Rejected.of(item["index"])
    return outcome


def pydoc_patches():
    return [mock.patch.object(indexer_module, "BY_KEYS_SQL", PYDOC_SQL),
            mock.patch.object(indexer_module, "_fetch", _pydoc_fetch),
            mock.patch.object(Indexer, "_send", _pydoc_send)]


def install_variants(es, names):
    for name in VARIANTS:
        es.indices.delete_template(name=f"{PREFIX}v-{name}", ignore=404)
    for order, name in enumerate(names, start=3):
        es.indices.put_template(name=f"{PREFIX}v-{name}", body={
            "index_patterns": [f"{PREFIX}2*"], "order": order, **VARIANTS[name]})


def drain_run(dsn, es, url, workers, batch_size, refresh, crashes):
    tags = refresh.split("+") if refresh else []
    variants = [tag for tag in tags if tag in VARIANTS or tag == "pydoc"]
    refresh = next((tag for tag in tags if tag not in variants), None)
    bulk = refresh is None
    refresh = None if refresh == "nobulk" else refresh
    es.indices.delete(index=PREFIX + "*", ignore_unavailable=True)
    install_variants(es, [variant for variant in variants if variant in VARIANTS])
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
        with contextlib.closing(psycopg2.connect(dsn)) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                while pending(cur):  # cheap: counting the queue would cost PostgreSQL
                    time.sleep(0.1)  # about as much CPU as the indexer's own queries
        stop()

    with contextlib.ExitStack() as patches:
        for patch in pydoc_patches() if "pydoc" in variants else ():
            patches.enter_context(patch)
        result = measured(es, run)
    docs = count_docs(es, PREFIX + "*")
    assert docs == crashes, (docs, crashes)
    what = f"outbox drain, {workers} workers, batch {batch_size}"
    what += f", refresh {refresh}" if refresh else ", bulk mode" if bulk else ", no bulk mode"
    what += "".join(f", {variant}" for variant in variants)
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
    parser.add_argument("--runs", default="3x500,3x500@pydoc+regex,3x500@pydoc+regex,3x500",
                        help="WORKERSxBATCH[@TAG+...] drains (tags: nobulk, a refresh interval, "
                             "pydoc, or a VARIANTS name); the first is the default "
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
