"""Configuration: configman namespaces, one per component, each option documented.

Values come from (lowest to highest precedence) the defaults below, an INI file given with
``--admin.conf=FILE``, environment variables named ``namespace__option`` (e.g.
``database__dsn``), and ``--namespace.option=value`` on the command line.
``--admin.dump_conf=FILE`` writes every option with its documentation; that dump is
``config/crashgate.ini-dist``.
"""
import os

import crashgate.configman_compat  # noqa: F401  (must come before configman)
from configman import ConfigFileFutureProxy, ConfigurationManager, Namespace, command_line
from configman.dotdict import configman_keys


def backend_map(text):
    """Parse ``'service: backend, service2: backend2'`` into a dict."""
    pairs = {}
    for item in filter(None, (part.strip() for part in str(text).split(","))):
        service, sep, backend = item.partition(":")
        if not sep or not service.strip() or not backend.strip():
            raise ValueError(f"expected 'service: backend', got {item!r}")
        pairs[service.strip()] = backend.strip()
    return pairs


def backend_map_to_str(pairs):
    return ", ".join(f"{service}: {backend}" for service, backend in pairs.items())


def definitions():
    """The complete option tree."""
    root = Namespace()

    web = root.namespace("web_server")
    web.add_option("ip_address", default="127.0.0.1",
                   doc="address `crashgate serve` listens on")
    web.add_option("port", default=8883, from_string_converter=int,
                   doc="TCP port `crashgate serve` listens on")
    web.add_option("threads", default=8, from_string_converter=int,
                   doc="worker threads of the built-in server (`crashgate serve`)")
    web.add_option("max_body_bytes", default=10 * 1024 * 1024, from_string_converter=int,
                   doc="largest request body accepted, in bytes (larger -> 413)")
    web.add_option("cors_origins", default="*", from_string_converter=origin_list,
                   to_string_converter=", ".join,
                   doc="origins allowed to call the API from a browser (CORS), "
                       "comma-separated; * = any; empty = no CORS headers")
    web.add_option("log_requests", default="true", from_string_converter=_boolean,
                   doc="write one INFO line per request to request_log (method, path, "
                       "status, service, backend, backend and total time in ms)")
    web.add_option("slow_request_ms", default=1000, from_string_converter=int,
                   doc="requests taking at least this long get a WARNING line in "
                       "request_log, even when log_requests is off; 0 = never")
    web.add_option("request_log", default="stderr",
                   doc="where request lines go: stderr, stdout or the path of a file to "
                       "append to (reopened a few times a second: rotate it by renaming)")

    auth = root.namespace("auth")
    auth.add_option("tokens", default="",
                    doc="bearer tokens accepted, as comma-separated 'name:scopes:sha256-hex' "
                        "entries (scopes: write and/or pii, joined with +; the SHA-256 digest "
                        "of the token, never the token: `crashgate token` mints one and "
                        "prints its entry). No entry here or in tokens_file = OPEN gateway: "
                        "anyone may write and read personal data")
    auth.add_option("tokens_file", default="",
                    doc="file of more 'name:scopes:sha256-hex' entries, one per line "
                        "(# comments), read at start")

    db = root.namespace("database")
    db.add_option("dsn", default="",
                  doc="libpq connection string of the PostgreSQL database, e.g. "
                      "'host=db.example dbname=crashgate user=crashgate'; empty = start the "
                      "embedded PostgreSQL (development and demos)")
    db.add_option("embedded_data_dir", default="var/pgdata",
                  doc="data directory of the embedded PostgreSQL (relative paths are relative "
                      "to the working directory); used only when dsn is empty")
    db.add_option("embedded_database", default="crashgate",
                  doc="database name inside the embedded PostgreSQL")
    db.add_option("max_connections", default=8, from_string_converter=int,
                  doc="connections in each process's pool; at least the number of threads")
    db.add_option("pool_wait_seconds", default=2.0, from_string_converter=float,
                  doc="how long a request waits for a free pooled connection before a 503")
    db.add_option("statement_timeout_ms", default=10000, from_string_converter=int,
                  doc="server-side statement timeout; a query running longer fails with 504")
    db.add_option("connect_timeout_seconds", default=3, from_string_converter=int,
                  doc="time allowed to open a connection before the request fails with 503")
    db.add_option("deadline_margin_seconds", default=2.0, from_string_converter=float,
                  doc="client-side deadline of a query = statement_timeout_ms + this: a "
                      "server that stops answering (frozen) fails the request with 504 after "
                      "it; 0 = no client-side deadline")

    es = root.namespace("elasticsearch")
    es.add_option("urls", default="http://127.0.0.1:9200", from_string_converter=url_list,
                  to_string_converter=", ".join,
                  doc="Elasticsearch nodes, comma-separated (7.x clusters)")
    es.add_option("timeout_seconds", default=10.0, from_string_converter=float,
                  doc="request timeout towards Elasticsearch; a search running longer -> 504")
    es.add_option("index_prefix", default="crashgate-crashes-",
                  doc="crash indices are named <prefix><YYYYMMDD of the period's first day>")
    es.add_option("index_period", default="week", from_string_converter=_period,
                  doc="time span of one crash index: day, week (starting Monday) or month")
    es.add_option("shards", default=1, from_string_converter=int,
                  doc="primary shards of each new crash index")
    es.add_option("replicas", default=0, from_string_converter=int,
                  doc="replicas of each new crash index")
    es.add_option("frame_words", default="false", from_string_converter=_boolean,
                  doc="also index frame function names as CamelCase words "
                      "(frame_functions.text, for direct queries e.g. from Kibana; no service "
                      "reads it; costs indexing CPU: docs/operations.md)")
    es.add_option("indexer_enabled", default="true", from_string_converter=_boolean,
                  doc="run the outbox indexer inside `crashgate serve` (else run "
                      "`crashgate indexer` separately)")
    es.add_option("indexer_batch_size", default=500, from_string_converter=int,
                  doc="crashes sent to Elasticsearch per bulk request")
    es.add_option("indexer_workers", default=3, from_string_converter=int,
                  doc="bulk requests the indexer keeps in flight (threads)")
    es.add_option("indexer_bulk_mode_backlog", default=20000, from_string_converter=int,
                  doc="outbox backlog above which the indexer turns refresh off and replicas "
                      "to 0 in the crash indices until it has drained (0: never)")
    es.add_option("reports_index", default="crashgate-reports",
                  doc="index of the PartyCrasher reports (the Elasticsearch bucketing engine's "
                      "candidate search), fed from PostgreSQL by the indexer")
    es.add_option("indexer_idle_seconds", default=1.0, from_string_converter=float,
                  doc="pause of the indexer when the outbox is empty")

    bucketing = root.namespace("bucketing")
    bucketing.add_option("thresholds", default="3.0, 4.0, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 9.0",
                         from_string_converter=threshold_list,
                         to_string_converter=threshold_list_to_str,
                         doc="similarity thresholds (0.0-10.0, one decimal) at which every "
                             "report is assigned a bucket; 10 = identical reports")
    bucketing.add_option("default_threshold", default="5.0",
                         doc="threshold served by /config and used by /buckets without one; "
                             "must be one of bucketing.thresholds (5.0 had the best BCubed F1 "
                             "on labelled data: benchmarks/RESULTS.md)")
    bucketing.add_option("tokenizer", default="camel",
                         doc="tokenizer plugin (entry-point group crashgate.tokenizers): "
                             "camel, lerch or space")
    bucketing.add_option("candidates", default=20, from_string_converter=int,
                         doc="reports scored exactly per new report (taken from the engine's "
                             "candidate search)")
    bucketing.add_option("query_terms", default=25, from_string_converter=int,
                         doc="most discriminative terms of a new report used for the candidate "
                             "search")
    bucketing.add_option("allow_delete_all", default="false", from_string_converter=_boolean,
                         doc="allow DELETE /reports (deletes every PartyCrasher report; 403 "
                             "otherwise)")

    impl = root.namespace("implementations")
    impl.add_option("default", default="postgresql",
                    doc="backend answering every service that has no override")
    impl.add_option("service_overrides", default="", from_string_converter=backend_map,
                    to_string_converter=backend_map_to_str,
                    doc="per-service backend, as 'service: backend, ...' "
                        "(e.g. 'search_crashes: elasticsearch')")

    sample = root.namespace("sample_data")
    sample.add_option("load_on_first_start", default="true",
                      from_string_converter=_boolean,
                      doc="embedded mode: generate and load sample data when the database is "
                          "empty")
    sample.add_option("crashes", default=20000, from_string_converter=int,
                      doc="number of sample crashes generated on first start")
    sample.add_option("days", default=30, from_string_converter=int,
                      doc="sample crashes are spread over this many days ending today")
    sample.add_option("seed", default=1, from_string_converter=int,
                      doc="random seed of the sample data set")

    logging_ns = root.namespace("logging")
    logging_ns.add_option("level", default="INFO",
                          doc="log level: DEBUG, INFO, WARNING, ERROR")
    logging_ns.add_option("format", default="%(asctime)s %(levelname)s %(name)s: %(message)s",
                          doc="Python logging format string")
    return root


def threshold_list(text):
    """``'3.5, 4.0'`` -> sorted list of Decimal thresholds quantised to 0.1."""
    from crashgate.bucketing.thresholds import parse_threshold
    values = sorted({parse_threshold(part) for part in str(text).split(",") if part.strip()})
    if not values:
        raise ValueError("expected at least one threshold")
    return values


def threshold_list_to_str(values):
    return ", ".join(f"{value:.1f}" for value in values)


def origin_list(text):
    """``'https://a.example, https://b.example'`` -> list (may be empty)."""
    return [part.strip().rstrip("/") for part in str(text).split(",") if part.strip()]


def url_list(text):
    """``'http://a:9200, http://b:9200'`` -> list of URLs."""
    urls = [part.strip() for part in str(text).split(",") if part.strip()]
    if not urls:
        raise ValueError("expected at least one URL")
    return urls


def _period(text):
    value = str(text).strip().lower()
    if value not in ("day", "week", "month"):
        raise ValueError(f"expected day, week or month, got {text!r}")
    return value


def _boolean(text):
    value = str(text).strip().lower()
    if value in ("1", "true", "t", "yes", "y", "on"):
        return True
    if value in ("0", "false", "f", "no", "n", "off"):
        return False
    raise ValueError(f"expected a boolean, got {text!r}")


def load_config(argv=(), environ=None):
    """Return the configuration (a configman DotDict) for command-line arguments ``argv``.

    ``environ`` defaults to the current ``os.environ``; only ``namespace__option`` names count.
    ``--admin.dump_conf=FILE`` writes FILE and exits (SystemExit), as configman does; a FILE
    not ending in ``.ini`` (such as ``crashgate.ini-dist``) is written in INI format too.
    """
    argv, dump_target, dump_as = _dump_through_ini(list(argv))
    try:
        return _load(argv, environ)
    except SystemExit:
        if dump_target:
            os.replace(dump_as, dump_target)
        raise


def _dump_through_ini(argv):
    """configman picks the dump format from the file name: dump other names via ``.ini``."""
    for index, arg in enumerate(argv):
        name, _, target = arg.partition("=")
        if name == "--admin.dump_conf" and target and not target.endswith(".ini"):
            temporary = target + ".tmp.ini"
            return argv[:index] + [f"{name}={temporary}"] + argv[index + 1:], target, temporary
    return argv, None, None


def _load(argv, environ):
    env = configman_keys(dict(os.environ if environ is None else environ))
    env.always_ignore_mismatches = True
    manager = ConfigurationManager(
        [definitions()],
        values_source_list=[ConfigFileFutureProxy, env, command_line],
        argv_source=list(argv),
        app_name="crashgate",
        app_description="crashgate: a pluggable REST gateway for crash data",
        config_pathname=".",
        use_auto_help=True,
    )
    return manager.get_config()
