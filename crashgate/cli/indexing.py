"""Commands that feed Elasticsearch from PostgreSQL: the outbox indexer and reindexing."""
import argparse
import datetime
import signal
import sys
import threading

from crashgate.cli.common import command, config_and_args, ensure_schema, workers_option


@command
def cmd_indexer(rest):
    from crashgate.external.elasticsearch.indexer import Indexer, run_in_thread
    from crashgate.external.elasticsearch.reports_index import ReportsIndexer
    from crashgate.runtime import resolve_database

    parser = argparse.ArgumentParser(
        prog="crashgate indexer",
        description="Send the crashes and PartyCrasher reports queued in PostgreSQL to "
                    "Elasticsearch, until Ctrl-C or SIGTERM.")
    parser.add_argument("--workers", type=int, default=None,
                        help="bulk requests in flight (default: elasticsearch.indexer_workers)")
    parser.add_argument("--requeue-failed", action="store_true",
                        help="first put the crashes Elasticsearch rejected back in the queue")
    args, config = config_and_args(parser, rest)
    server = resolve_database(config)
    ensure_schema(config.database.dsn)
    indexer = Indexer.from_config(config, **workers_option(args))
    reports_indexer = ReportsIndexer.from_config(config)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        if args.requeue_failed:
            print(f"requeued {indexer.requeue_failed()} rejected crashes", flush=True)
            print(f"requeued {reports_indexer.requeue_failed()} rejected reports", flush=True)
        stop_reports = run_in_thread(reports_indexer)
        print(f"indexing into Elasticsearch at {', '.join(config.elasticsearch.urls)}; "
              f"{indexer.backlog()} crashes and {reports_indexer.backlog()} reports queued; "
              f"Ctrl-C stops", flush=True)
        try:
            indexer.run_forever(stop)
        finally:
            stop_reports()
    finally:
        indexer.close()
    stats = indexer.stats
    print(f"indexer stopped: {stats.indexed} crashes indexed, {stats.failed} rejected",
          flush=True)
    del server
    return 0


@command
def cmd_reindex(rest):
    from crashgate.errors import BackendTimeout, BackendUnavailable
    from crashgate.external.elasticsearch.indexer import Indexer
    from crashgate.runtime import resolve_database

    parser = argparse.ArgumentParser(
        prog="crashgate reindex",
        description="Send every crash processed in a range of days (UTC) to Elasticsearch "
                    "again, e.g. to rebuild deleted or damaged indices.")
    day = datetime.date.fromisoformat
    parser.add_argument("--from", dest="first", type=day, required=True,
                        help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", type=day, required=True,
                        help="last day, YYYY-MM-DD (included)")
    parser.add_argument("--workers", type=int, default=None,
                        help="bulk requests in flight (default: elasticsearch.indexer_workers)")
    parser.add_argument("--pause-refresh", action="store_true",
                        help="turn refresh off in the range's indices while reindexing "
                             "(faster; the documents become searchable at the end)")
    args, config = config_and_args(parser, rest)
    if args.last < args.first:
        parser.error("--to is before --from")
    start = datetime.datetime.combine(args.first, datetime.time(), datetime.timezone.utc)
    end = datetime.datetime.combine(args.last + datetime.timedelta(days=1), datetime.time(),
                                    datetime.timezone.utc)
    server = resolve_database(config)
    ensure_schema(config.database.dsn)
    indexer = Indexer.from_config(config, **workers_option(args))
    try:
        summary = indexer.reindex(start, end, pause_refresh=args.pause_refresh)
    except (BackendUnavailable, BackendTimeout) as error:
        print("\n".join([f"crashgate reindex: {error}", *getattr(error, "__notes__", [])]),
              file=sys.stderr)
        return 1
    finally:
        indexer.close()
    print(f"reindexed {summary.sent} crashes processed from {start:%Y-%m-%d} to {end:%Y-%m-%d} "
          f"(excluded) in {summary.seconds:.1f} s: {summary.rate:.0f} docs/s; "
          f"{summary.failed} rejected (kept in es_outbox as failed)")
    del server
    return 0
