"""The ``crashgate`` command.

    crashgate serve     [config options]              run the gateway (embedded DB if no dsn)
    crashgate setupdb   [config options]              create or migrate the schema
    crashgate load      FILE... [--strict] [opts]     bulk-load crash and products files
    crashgate fakedata  --crashes N --days D --seed S -o DIR    write a sample data set
    crashgate elasticsearch [--data-dir DIR] [--port N]   run a local Elasticsearch node
    crashgate indexer   [--workers N] [--requeue-failed] [opts]   index queued crashes until Ctrl-C
    crashgate reindex   --from YYYY-MM-DD --to YYYY-MM-DD [--pause-refresh] [opts]
                                                      send a range of days to Elasticsearch again
    crashgate evaluate-bucketing [--engines postgresql,elasticsearch] [--reports N | --data F]
                                                      bucketing quality (BCubed) per threshold
    crashgate token     --name NAME [--scopes write,pii]  mint a bearer token, print its entry

Configuration options (``--database.dsn=...``, ``--admin.conf=FILE``,
``--admin.dump_conf=FILE``, ...) are read by configman; see ``config/crashgate.ini-dist``.
"""
import argparse
import datetime
import logging
import pathlib
import signal
import sys
import tempfile
import threading

from crashgate.settings import load_config

log = logging.getLogger("crashgate")

COMMANDS = {}


def command(function):
    COMMANDS[function.__name__.replace("_", "-").removeprefix("cmd-")] = function
    return function


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"crashgate: unknown command {name!r}; commands: {', '.join(COMMANDS)}",
              file=sys.stderr)
        return 2
    return COMMANDS[name](rest) or 0


def _config_and_args(parser, rest):
    """Split ``rest`` into this command's own arguments and configman's options."""
    args, config_argv = parser.parse_known_args(rest)
    config = load_config(config_argv)
    from crashgate.runtime import configure_logging

    configure_logging(config)
    return args, config


@command
def cmd_setupdb(rest):
    from crashgate.external.postgresql.schema import setup_database
    from crashgate.runtime import resolve_database

    _, config = _config_and_args(argparse.ArgumentParser(prog="crashgate setupdb"), rest)
    server = resolve_database(config)
    applied = setup_database(config.database.dsn)
    print(f"schema up to date; applied migrations: {applied or 'none'}")
    del server
    return 0


@command
def cmd_load(rest):
    from crashgate.ingest.loader import LoadError, load_files
    from crashgate.runtime import resolve_database

    parser = argparse.ArgumentParser(prog="crashgate load",
                                     description="Load crash (.jsonl[.gz]) and products "
                                                 "(.json) files into PostgreSQL.")
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first malformed line instead of skipping it")
    parser.add_argument("--batch-size", type=int, default=5000)
    args, config = _config_and_args(parser, rest)
    server = resolve_database(config)
    _ensure_schema(config.database.dsn)
    try:
        summary = load_files(config.database.dsn, args.files, strict=args.strict,
                             batch_size=args.batch_size, out=sys.stderr)
    except LoadError as error:
        print(f"crashgate load: {error}", file=sys.stderr)
        return 1
    del server
    return 1 if summary.rejected and args.strict else 0


@command
def cmd_fakedata(rest):
    from crashgate.fakedata import write_dataset

    parser = argparse.ArgumentParser(prog="crashgate fakedata",
                                     description="Write a deterministic sample data set.")
    parser.add_argument("--crashes", type=int, default=10000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--end-date", type=datetime.date.fromisoformat, default=None,
                        help="last day of the data (YYYY-MM-DD, default today UTC)")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True)
    parser.add_argument("--labelled", type=int, metavar="N", default=0,
                        help="instead: write N PartyCrasher reports with gold bucket labels "
                             "to OUTPUT as JSON lines {\"label\", \"report\"}")
    args = parser.parse_args(rest)
    if args.labelled:
        return _write_labelled(args)
    summary = write_dataset(args.output, crashes=args.crashes, days=args.days, seed=args.seed,
                            end_date=args.end_date, progress=_progress_printer("generated"))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    print(f"wrote {summary['crashes']} crashes in {len(summary['files'])} files and "
          f"{summary['products_file']} in {summary['seconds']:.1f} s")
    return 0


def _write_labelled(args):
    import orjson

    from crashgate.fakedata.labelled import generate_labelled_reports

    pairs = generate_labelled_reports(args.labelled, seed=args.seed, days=args.days,
                                      start=_labelled_start(args))
    with open(args.output, "wb") as out:
        for report, label in pairs:
            out.write(orjson.dumps({"label": label, "report": report}) + b"\n")
    print(f"wrote {len(pairs)} labelled reports ({len({label for _, label in pairs})} gold "
          f"buckets) to {args.output}")
    return 0


def _labelled_start(args):
    if args.end_date is None:
        return None
    return args.end_date - datetime.timedelta(days=args.days - 1)


def _progress_printer(verb):
    if not sys.stderr.isatty():
        return None
    return lambda done: sys.stderr.write(f"\r{verb} {done} crashes")


@command
def cmd_elasticsearch(rest):
    """Run a local Elasticsearch node for development and tests (see docs/operations.md)."""
    from crashgate.external.elasticsearch.node import main as node_main

    return node_main(rest)


@command
def cmd_token(rest):
    from crashgate.middleware.access import mint_token

    parser = argparse.ArgumentParser(
        prog="crashgate token",
        description="Mint a random bearer token; print it once, and the auth.tokens entry "
                    "(its SHA-256 digest, not the token) that makes the gateway accept it.")
    parser.add_argument("--name", required=True, help="who uses it (shown in logs)")
    parser.add_argument("--scopes", default="", help="write and/or pii, comma-separated")
    args = parser.parse_args(rest)
    try:
        token, entry = mint_token(args.name, args.scopes)
    except ValueError as error:
        parser.error(str(error))
    print(f"token (give it to {entry.name}; it is not stored anywhere):\n{token}\n"
          f"entry for auth.tokens (comma-separated) or a line of auth.tokens_file:\n"
          f"{entry.line()}")
    return 0


@command
def cmd_serve(rest):
    from crashgate.runtime import build_wsgi_app, resolve_database

    parser = argparse.ArgumentParser(prog="crashgate serve")
    args, config = _config_and_args(parser, rest)
    del args
    embedded = not config.database.dsn
    server = resolve_database(config)
    if embedded:
        from crashgate.external.postgresql.schema import setup_database

        setup_database(config.database.dsn)
        if config.sample_data.load_on_first_start:
            _load_sample_data_once(config)
    else:
        _ensure_schema(config.database.dsn)
    app = build_wsgi_app(config)
    stop_indexer = _start_indexer(config)
    try:
        _serve_forever(app, config, embedded)
    finally:
        stop_indexer()
    del server
    return 0


def _start_indexer(config):
    """Run the outbox indexers (crashes, PartyCrasher reports) in background threads if
    enabled; return what stops them."""
    if not config.elasticsearch.indexer_enabled:
        return lambda: None
    from crashgate.external.elasticsearch.indexer import Indexer, run_in_thread
    from crashgate.external.elasticsearch.reports_index import ReportsIndexer

    log.info("indexing new crashes and reports into Elasticsearch at %s",
             ", ".join(config.elasticsearch.urls))
    stoppers = [run_in_thread(Indexer.from_config(config)),
                run_in_thread(ReportsIndexer.from_config(config))]
    return lambda: [stop() for stop in stoppers]


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
    args, config = _config_and_args(parser, rest)
    server = resolve_database(config)
    _ensure_schema(config.database.dsn)
    indexer = Indexer.from_config(config, **_workers(args))
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
    args, config = _config_and_args(parser, rest)
    if args.last < args.first:
        parser.error("--to is before --from")
    start = datetime.datetime.combine(args.first, datetime.time(), datetime.timezone.utc)
    end = datetime.datetime.combine(args.last + datetime.timedelta(days=1), datetime.time(),
                                    datetime.timezone.utc)
    server = resolve_database(config)
    _ensure_schema(config.database.dsn)
    indexer = Indexer.from_config(config, **_workers(args))
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


@command
def cmd_evaluate_bucketing(rest):
    import orjson

    from crashgate.bucketing.evaluation import format_table
    from crashgate.bucketing_evaluation import best_row, evaluate_engines
    from crashgate.runtime import resolve_database

    parser = argparse.ArgumentParser(
        prog="crashgate evaluate-bucketing",
        description="Post labelled reports in time order through each bucketing engine (in a "
                    "scratch database) and print BCubed precision/recall/F1 and purity per "
                    "threshold.")
    parser.add_argument("--engines", default="postgresql",
                        help="comma-separated engines (postgresql, elasticsearch)")
    parser.add_argument("--reports", type=int, default=2000,
                        help="generate this many labelled reports (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=pathlib.Path,
                        help="read labelled reports (JSON lines {label, report}) instead")
    parser.add_argument("--every", type=int, default=None,
                        help="also print cumulative rows every N reports")
    parser.add_argument("--min-f1", type=float, default=None,
                        help="exit 1 when an engine's best BCubed F1 is below this")
    args, config = _config_and_args(parser, rest)
    if args.data:
        lines = args.data.read_bytes().splitlines()
        labelled = [(item["report"], item["label"])
                    for item in map(orjson.loads, filter(None, lines))]
    else:
        from crashgate.fakedata.labelled import generate_labelled_reports

        labelled = generate_labelled_reports(args.reports, seed=args.seed)
    server = resolve_database(config)
    failed = False

    def report(engine, rows, seconds):
        nonlocal failed
        best = best_row(rows)
        print(f"engine {engine}: {len(labelled)} reports in {seconds:.1f} s "
              f"({len(labelled) / seconds:.0f} reports/s); best F1 {best['bcubed_f1']:.3f} "
              f"at T = {best['threshold']}")
        print(format_table(rows), flush=True)
        failed |= args.min_f1 is not None and best["bcubed_f1"] < args.min_f1

    evaluate_engines(config, [e.strip() for e in args.engines.split(",") if e.strip()],
                     labelled, every=args.every, out=report)
    del server
    return 1 if failed else 0


def _workers(args):
    return {"workers": args.workers} if args.workers else {}


def _ensure_schema(dsn):
    """Stop with a clear message when the database schema is missing or out of date."""
    import psycopg2

    from crashgate.external.postgresql.schema import migrations, setup_database

    try:
        conn = psycopg2.connect(dsn, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise SystemExit(f"crashgate: cannot connect to PostgreSQL: {error}".strip())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            has_table = cur.fetchone()[0]
            current = 0
            if has_table:
                cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
                current = cur.fetchone()[0]
    finally:
        conn.close()
    latest = migrations()[-1][0]
    if current < latest:
        if current == 0:
            setup_database(dsn)
            return
        raise SystemExit(f"crashgate: database schema is version {current}, this crashgate "
                         f"needs {latest}: run `crashgate setupdb` first")


def _load_sample_data_once(config):
    """Generate and load the sample data set when the database holds no crash yet."""
    import psycopg2

    from crashgate.fakedata import write_dataset
    from crashgate.ingest.loader import load_files

    with psycopg2.connect(config.database.dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM crash_ids) OR EXISTS (SELECT 1 FROM products)")
        if cur.fetchone()[0]:
            return
    sample = config.sample_data
    print(f"first start: generating {sample.crashes} sample crashes over {sample.days} days "
          f"(seed {sample.seed}) ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="crashgate-sample-") as out_dir:
        summary = write_dataset(out_dir, crashes=sample.crashes, days=sample.days,
                                seed=sample.seed)
        paths = [pathlib.Path(summary["products_file"])] + [pathlib.Path(f)
                                                            for f in summary["files"]]
        load_files(config.database.dsn, paths, out=sys.stderr)


def _serve_forever(app, config, embedded):
    from cheroot import wsgi

    web = config.web_server
    server = wsgi.Server((web.ip_address, web.port), app, numthreads=web.threads,
                         server_name="crashgate")
    server.prepare()  # binds now: a busy port fails here, before the banner
    host, port = server.bind_addr[:2]
    base = f"http://{host}:{port}"
    print(_banner(base, embedded, config), flush=True)

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print("crashgate stopped", flush=True)


def _banner(base, embedded, config):
    database = (f"embedded PostgreSQL in {config.database.embedded_data_dir}" if embedded
                else "PostgreSQL at the configured dsn")
    return "\n".join([
        f"crashgate serving on {base}/  ({database})",
        "try:",
        f"  curl {base}/products/",
        f"  curl {base}/products/versions/Firefox:16.0.2/",
        f"  curl {base}/products/builds/product/Firefox/from_date/2000-01-01/",
        f"  curl {base}/util/versions_info/versions/Firefox:17.0b3/",
        f"  curl {base}/products/force_api_impl/postgresql/",
        f"  curl {base}/__heartbeat__",
        "Ctrl-C stops it.",
    ])


if __name__ == "__main__":
    sys.exit(main())
