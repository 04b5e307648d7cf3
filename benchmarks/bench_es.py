"""Benchmark of the services on Elasticsearch: the gateway against the same requests sent directly.

1. the cached data set of ``--crashes`` crashes (``bench_services.ensure_dataset``, fixed seed
   and end date), loaded into a fresh embedded PostgreSQL (which fills ``es_outbox``);
2. a fresh local Elasticsearch node (``crashgate.external.elasticsearch.node``, 1 GB heap) in
   /tmp; the outbox is drained into it by the indexer as ``crashgate serve`` runs it (default
   options), timed (crashes/s), then the indices are refreshed and force-merged;
3. the requests of ``bench_services.build_requests`` for every service Elasticsearch answers,
   sent through the real WSGI application with ``force_api_impl=elasticsearch``; the
   Elasticsearch requests one gateway request makes (method, path, parameters, body) are
   recorded at the client's transport and written to ``--bodies``;
4. timed, interleaved (gateway and direct take turns going first): N gateway requests, N
   replays of exactly the recorded Elasticsearch requests with a plain client (same
   serializer, responses parsed), and N gateway requests forced to PostgreSQL for comparison;
   p50/p99, ratio gateway/direct.

The gateway side also includes its PostgreSQL catalogue look-ups (release channels) and the
shaping of the answer; the direct side is Elasticsearch's work plus the client's.

    python benchmarks/bench_es.py [--crashes 1000000] [--iterations 30] [--services ...]

``--keep DIR`` builds the loaded PostgreSQL and Elasticsearch data in DIR and leaves it there;
a later run with the same DIR reuses it (no loading, no indexing). ``--profile N`` prints the
top N functions of a cProfile of one gateway request per row.
"""
import argparse
import cProfile
import copy
import gc
import json
import os
import pathlib
import platform
import pstats
import shutil
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from elasticsearch import Elasticsearch  # noqa: E402

from bench_services import (DATA_ROOT, build_requests, ensure_dataset, fmt_ms,  # noqa: E402
                            load_database, log, percentile, pick_values, start_database)
from crashgate.embedded import start_embedded_postgres  # noqa: E402
from crashgate.external.elasticsearch.backend import FastSerializer  # noqa: E402
from crashgate.external.elasticsearch.indexer import Indexer, run_in_thread  # noqa: E402
from crashgate.external.elasticsearch.node import ES_VERSION, start_node  # noqa: E402
from crashgate.middleware.app import make_wsgi_app  # noqa: E402
from crashgate.runtime import build_gateway  # noqa: E402
from crashgate.settings import load_config  # noqa: E402
from tests.wsgiclient import WSGIClient  # noqa: E402

ES_SERVICES = ("/report/list", "/crashes/comments", "/crashes/frequency", "/crashes/paireduuid",
               "/crashes/signatures", "/extensions", "/signatureurls", "/search/crashes",
               "/search/signatures")
RATIO_TARGET = 1.2  # issue 4: ES services within 1.2x of the direct ES query


class TransportRecorder:
    """Records the requests an Elasticsearch client's transport performs while recording."""

    def __init__(self, client):
        self.transport = client.transport
        self.original = client.transport.perform_request
        self.requests = None
        client.transport.perform_request = self._perform

    def _perform(self, method, url, headers=None, params=None, body=None):
        if self.requests is not None:
            self.requests.append({"method": method, "url": url, "params": dict(params or {}),
                                  "headers": dict(headers or {}), "body": copy.deepcopy(body)})
        return self.original(method, url, headers=headers, params=params, body=body)

    def record(self, action):
        self.requests = []
        try:
            return action(), self.requests
        finally:
            self.requests = None


def replay(client, requests):
    for r in requests:
        client.transport.perform_request(r["method"], r["url"], headers=r["headers"],
                                         params=r["params"], body=r["body"])


def index_everything(dsn, url, crashes):
    """Drain the outbox into the node as ``crashgate serve`` does; crashes/s."""
    config = load_config([], environ={})
    config.database.dsn = dsn
    config.elasticsearch.urls = [url]
    indexer = Indexer.from_config(config, idle_seconds=0.05)
    started = time.perf_counter()
    stop = run_in_thread(indexer)
    while indexer.backlog():
        time.sleep(0.2)
    stop()
    seconds = time.perf_counter() - started
    es = Elasticsearch(url, timeout=600)
    prefix = config.elasticsearch.index_prefix
    es.indices.refresh(index=f"{prefix}all")
    docs = es.count(index=f"{prefix}all")["count"]
    assert docs == crashes, (docs, crashes)
    merge = time.perf_counter()
    es.indices.forcemerge(index=f"{prefix}all", max_num_segments=1)
    es.close()
    return {"seconds": seconds, "rate": docs / seconds, "docs": docs,
            "forcemerge_seconds": time.perf_counter() - merge, "load": os.getloadavg()[0]}


def bench_request(gw, recorder, direct, service, case, request_uri, args):
    forced = request_uri + ("&" if "?" in request_uri else "?")
    es_uri, pg_uri = forced + "force_api_impl=elasticsearch", forced + "force_api_impl=postgresql"
    response, requests = recorder.record(lambda: gw.get(es_uri))
    result = {"service": service, "case": case, "uri": request_uri, "status": response.status,
              "es_requests": requests}
    if response.status != 200:
        result["error"] = response.body[:300].decode("utf-8", "replace")
        log(f"    {service} [{case}]: HTTP {response.status} {result['error']}")
        return result
    if args.profile:
        profile_request(gw, es_uri, args.profile)
    started = time.perf_counter()
    gw.get(es_uri)
    replay(direct, requests)
    pg_status = gw.get(pg_uri).status
    per_iteration = time.perf_counter() - started
    n = max(args.min_iterations, min(args.iterations, int(args.budget / max(per_iteration,
                                                                            1e-6))))
    times = {"gw": [], "direct": [], "pg": []}
    gc.collect()
    runs = [("gw", lambda: gw.get(es_uri)), ("direct", lambda: replay(direct, requests)),
            ("pg", lambda: gw.get(pg_uri))]
    for iteration in range(n):  # interleaved: all three meet the same machine noise
        # gateway and direct take turns going first: neither always finds Elasticsearch warm
        order = runs if iteration % 2 == 0 else [runs[1], runs[0], runs[2]]
        for key, run in order:
            started = time.perf_counter()
            run()
            times[key].append((time.perf_counter() - started) * 1000)
    for key, samples in times.items():
        result[f"{key}_p50"], result[f"{key}_p99"] = (statistics.median(samples),
                                                      percentile(samples, 99))
    result.update(iterations=n, pg_status=pg_status,
                  ratio_p50=result["gw_p50"] / result["direct_p50"],
                  ratio_p99=result["gw_p99"] / result["direct_p99"])
    return result


def profile_request(gw, uri, top):
    """Print the ``top`` functions (own time) of a cProfile of one gateway request."""
    gw.get(uri)  # warm
    profile = cProfile.Profile()
    profile.enable()
    gw.get(uri)
    profile.disable()
    stats = pstats.Stats(profile, stream=sys.stderr)
    log(f"  profile of {uri}: {stats.total_tt * 1000:.1f} ms")
    stats.sort_stats("tottime").print_stats(top)


def report(args, load, indexing, results):
    print(f"`python benchmarks/bench_es.py --crashes {args.crashes} --iterations "
          f"{args.iterations} --budget {args.budget:g}`  \nElasticsearch {ES_VERSION} (local "
          f"node, 1 GB heap, weekly indices, 1 shard, force-merged), embedded PostgreSQL, Python "
          f"{platform.python_version()}, {os.cpu_count()} cores shared by all (load average "
          f"during the timings {min(r['load'] for r in results):.1f}–"
          f"{max(r['load'] for r in results):.1f}).\n")
    print(f"Load into PostgreSQL: {load['loaded']} crashes, {load['rate']:,.0f}/s. Outbox -> "
          f"index (default indexer options): {indexing['docs']} crashes in "
          f"{indexing['seconds']:.0f} s = **{indexing['rate']:,.0f} crashes/s** (load "
          f"{indexing['load']:.1f}); force-merge {indexing['forcemerge_seconds']:.0f} s.\n")
    print("| service | request | ES req. | n | gw p50 | gw p99 | direct p50 | direct p99 "
          "| x p50 | x p99 | PG gw p50 | target |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        if "gw_p50" not in r:
            print(f"| {r['service']} | {r['case']} | | | HTTP {r['status']} | | | | | | | |")
            continue
        print(f"| {r['service']} | {r['case']} | {len(r['es_requests'])} | {r['iterations']} | "
              f"{fmt_ms(r['gw_p50'])} | {fmt_ms(r['gw_p99'])} | {fmt_ms(r['direct_p50'])} | "
              f"{fmt_ms(r['direct_p99'])} | {r['ratio_p50']:.2f} | {r['ratio_p99']:.2f} | "
              f"{fmt_ms(r['pg_p50'])} | "
              f"{'PASS' if r['ratio_p50'] <= RATIO_TARGET else 'MISS'} |")
    timed = [r for r in results if "gw_p50" in r]
    passed = sum(r["ratio_p50"] <= RATIO_TARGET for r in timed)
    print(f"\n{passed} of {len(timed)} requests within {RATIO_TARGET}x of the direct "
          f"Elasticsearch requests at p50; median ratio "
          f"{statistics.median(r['ratio_p50'] for r in timed):.2f}.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crashes", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--min-iterations", type=int, default=5)
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds of timing per request at most (default %(default)s)")
    parser.add_argument("--services", nargs="*", default=ES_SERVICES)
    parser.add_argument("--bodies", type=pathlib.Path,
                        help="where to write the recorded Elasticsearch requests (default "
                             "benchmarks/data/es_requests_<crashes>.json)")
    parser.add_argument("--keep", type=pathlib.Path,
                        help="build the loaded databases in this directory and keep them; "
                             "reuse them when it already holds them")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the top N functions of a cProfile of one gateway request "
                             "per row")
    args = parser.parse_args(argv)
    paths = ensure_dataset(args.crashes)
    server, dsn, scratch = start_kept_database(args.keep) if args.keep else \
        start_database(args.crashes)
    node = gateway = None
    try:
        state = scratch / "loaded.json"
        if args.keep and state.exists():
            load, indexing = json.loads(state.read_text())
            log(f"reusing the databases in {scratch}")
            node = start_node(scratch / "es")
        else:
            load = load_database(dsn, paths)
            log(f"loaded {load['loaded']} crashes at {load['rate']:.0f}/s")
            node = start_node(scratch / "es")
            indexing = index_everything(dsn, node.url, load["loaded"])
            log(f"indexed: {indexing}")
            if args.keep:
                state.write_text(json.dumps([load, indexing]))
        config = load_config([], environ={})
        config.database.dsn = dsn
        config.elasticsearch.urls = [node.url]
        gateway = build_gateway(config)
        recorder = TransportRecorder(gateway.backends["elasticsearch"].client)
        gw = WSGIClient(make_wsgi_app(gateway))
        direct = Elasticsearch(node.url, timeout=60, serializer=FastSerializer())
        requests = [r for r in build_requests(pick_values(dsn, paths[0]))
                    if r[0] in args.services]
        results = []
        for service, case, request_uri in requests:
            results.append(bench_request(gw, recorder, direct, service, case, request_uri,
                                         args))
            results[-1]["load"] = os.getloadavg()[0]
            r = results[-1]
            if "gw_p50" in r:
                log(f"    {service:22} {case:34} n={r['iterations']:<3} "
                    f"gw {r['gw_p50']:8.2f}/{r['gw_p99']:8.2f}  direct {r['direct_p50']:8.2f}/"
                    f"{r['direct_p99']:8.2f}  x{r['ratio_p50']:.2f}/x{r['ratio_p99']:.2f}  "
                    f"pg {r['pg_p50']:8.2f}  load {r['load']:.1f}")
        bodies = args.bodies or DATA_ROOT / f"es_requests_{args.crashes}.json"
        bodies.write_text(json.dumps(
            [{k: r[k] for k in ("service", "case", "uri", "es_requests")} for r in results],
            indent=1, default=str) + "\n")
        log(f"Elasticsearch requests written to {bodies}")
        report(args, load, indexing, results)
    finally:
        if gateway:
            for backend in gateway.backends.values():
                backend.close()
        if node:
            node.stop()
        server.cleanup()  # with --keep: stopped, its data kept
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def start_kept_database(directory):
    """The PostgreSQL server of ``--keep``: its cluster in ``directory``/data, kept on stop."""
    directory = directory.resolve()
    server, dsn = start_embedded_postgres(directory / "data", database="crashgate_bench",
                                          cleanup_mode="stop")
    return server, dsn, directory


if __name__ == "__main__":
    main()
