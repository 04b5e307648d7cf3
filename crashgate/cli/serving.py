"""``crashgate serve`` (the development server, embedded database, sample data) and the local
Elasticsearch node."""
import argparse
import pathlib
import signal
import sys
import tempfile

from crashgate.cli.common import command, config_and_args, ensure_schema, log


@command
def cmd_serve(rest):
    from crashgate.runtime import build_wsgi_app, resolve_database

    parser = argparse.ArgumentParser(prog="crashgate serve")
    args, config = config_and_args(parser, rest)
    del args
    embedded = not config.database.dsn
    server = resolve_database(config)
    if embedded:
        from crashgate.external.postgresql.schema import setup_database

        setup_database(config.database.dsn)
        if config.sample_data.load_on_first_start:
            _load_sample_data_once(config)
    else:
        ensure_schema(config.database.dsn)
    app = build_wsgi_app(config)
    stop_indexer = _start_indexer(config)
    try:
        _serve_forever(app, config, embedded)
    finally:
        stop_indexer()
    del server
    return 0


@command
def cmd_elasticsearch(rest):
    """Run a local Elasticsearch node for development and tests (see docs/operations.md)."""
    from crashgate.external.elasticsearch.node import main as node_main

    return node_main(rest)


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
