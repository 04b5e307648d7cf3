"""Write normalised crashes and products documents inside the caller's transaction.

A crash batch is written into the session's temporary staging table (COPY; up to INSERT_MAX
crashes: an INSERT sent with the rest) and spread over the crash tables by set-based
statements, sent together in one round trip. The staging table is created once per session
and emptied at every commit; the statements are rendered once per process. ``crash_ids``
decides which crashes are new (a uuid already stored is a duplicate and writes nothing); only
new crashes feed the aggregates (``tcbs``, ``signature_products``, ``tcbs_weekly`` and the
daily ``crash_daily``, ``signature_daily``, ``signature_daily_totals``) and the
Elasticsearch outbox (``es_outbox``), so storing a batch twice changes nothing. Every
statement that may meet another loader's rows locks them in key order, so concurrent loaders
wait for each other instead of deadlocking, and aggregates are added with upserts, so no
update is lost.
"""
import dataclasses
import datetime
import io
import json
import weakref

import psycopg2.errors
from psycopg2 import sql
from psycopg2.extras import execute_values

from crashgate.external.postgresql.partitions import ensure_partitions, week_start
from crashgate.ingest.products_document import InvalidProducts, normalize_products

STAGE = sql.Identifier("crashgate_stage")
REPORT_COLUMNS = (
    ("uuid", "text"), ("date_processed", "timestamptz"), ("client_crash_date", "timestamptz"),
    ("product", "text"), ("version", "text"), ("build", "text"), ("release_channel", "text"),
    ("signature", "text"), ("reason", "text"), ("address", "text"), ("os_name", "text"),
    ("os_version", "text"), ("cpu_name", "text"), ("cpu_info", "text"), ("url", "text"),
    ("email", "text"), ("user_comments", "text"), ("app_notes", "text"), ("uptime", "integer"),
    ("install_age", "integer"), ("last_crash", "integer"), ("hangid", "text"),
    ("process_type", "text"), ("frames", "jsonb"), ("started_datetime", "timestamptz"),
    ("completed_datetime", "timestamptz"), ("success", "boolean"), ("processor_notes", "text"),
    ("duplicate_of", "text"), ("extra", "jsonb"),
)
# Columns COPied into the staging table: the reports columns, then what the other tables need.
COPY_COLUMNS = REPORT_COLUMNS + (
    ("extensions", "jsonb"), ("plugin_filename", "text"), ("plugin_name", "text"),
    ("plugin_version", "text"),
)
COPY_NAMES = tuple(name for name, _ in COPY_COLUMNS)


@dataclasses.dataclass
class StoreResult:
    new_uuids: list  # uuids of the crashes stored now
    duplicates: int  # crashes skipped: uuid already stored or repeated in the batch


def store_crashes(cursor, crashes):
    """Store ``crashes`` (dicts from ``normalize_crash``); return a StoreResult.

    Runs inside the caller's transaction, which must be open (not autocommit).
    """
    unique = {}
    for crash in crashes:
        unique.setdefault(crash["uuid"], crash)
    if not unique:
        return StoreResult([], len(crashes))
    statements, session = _statements(cursor), _session(cursor)
    _ensure_partitions(cursor, session, {crash["date_processed"] for crash in unique.values()})
    try:
        if len(unique) <= INSERT_MAX:
            rows = b",".join(cursor.mogrify(statements.row, [_stage_value(crash[name])
                                                             for name in COPY_NAMES])
                             for crash in unique.values())
            analyze = b"" if session.stage_analyzed else statements.analyze
            cursor.execute(statements.create + statements.insert + rows + b";" + analyze
                           + statements.spread)
            session.stage_analyzed = True
        else:
            cursor.execute(statements.create)
            cursor.copy_expert(statements.copy, io.StringIO(copy_text(unique.values())),
                               size=1 << 18)
            cursor.execute(statements.spread)
    except psycopg2.errors.CheckViolation:  # "no partition found": dropped meanwhile?
        _sessions.pop(cursor.connection, None)
        raise
    new_uuids = sorted(row[0] for row in cursor.fetchall())
    return StoreResult(new_uuids, len(crashes) - len(new_uuids))


INSERT_MAX = 20  # up to this many crashes are sent with an INSERT in the spreading round trip


class _Session:
    """What store_crashes learnt about a connection's session."""

    def __init__(self):
        self.weeks = set()  # weeks whose partitions the catalogue showed: not looked up again
        self.stage_analyzed = False  # the stage has statistics of a few rows (see below)


_sessions = weakref.WeakKeyDictionary()


def _session(cursor):
    session = _sessions.get(cursor.connection)
    if session is None:
        session = _sessions[cursor.connection] = _Session()
    return session


def _ensure_partitions(cursor, session, moments):
    """ensure_partitions, skipping the catalogue look-up for weeks this session has seen.

    Weeks are remembered only when the look-up was the last statement (nothing was created: a
    partition created now disappears if the transaction rolls back)."""
    weeks = {week_start(moment) for moment in moments}
    if not weeks <= session.weeks:
        ensure_partitions(cursor, moments)
        if cursor.statusmessage.startswith("SELECT"):
            session.weeks |= weeks


class _Statements:
    """The staging statements as bytes, rendered once (``psycopg2.sql`` needs a connection)."""

    def __init__(self, cursor):
        def render(composed):
            return composed.as_string(cursor).encode()

        self.create = render(_CREATE_STAGE) + b";"
        self.insert = render(sql.SQL("INSERT INTO {} ({}) VALUES ").format(
            STAGE, _names(COPY_NAMES)))
        self.row = "(" + ", ".join(["%s"] * len(COPY_NAMES)) + ")"
        self.copy = render(_COPY_STAGE)
        # Once per session, with a crash staged: without statistics the planner takes the
        # stage for 10 pages and joins it to all of ``signatures`` by a hash (a scan per
        # statement); with them, one crash is joined through the index.
        self.analyze = render(sql.SQL("ANALYZE {};").format(STAGE))
        # Keep the new crashes, spread them, then empty the stage and return their uuids.
        self.spread = b";".join([render(_KEEP_NEW)] + [render(s) for s in _SPREAD_NEW]
                                + [render(_EMPTY_STAGE)])


_rendered = []


def _statements(cursor):
    if not _rendered:
        _rendered.append(_Statements(cursor))
    return _rendered[0]


# -- COPY text format ------------------------------------------------------------------------
def copy_text(crashes):
    """The COPY text-format rows (COPY_COLUMNS) of ``crashes``."""
    return "".join(["\t".join([_copy_value(value) for value in map(crash.__getitem__, COPY_NAMES)])
                    + "\n" for crash in crashes])


def _stage_value(value):
    """A value for the staging INSERT: as COPY would store it."""
    if type(value) is list:  # extensions: [(id, version), ...]
        return json.dumps(value, ensure_ascii=False) if value else None
    return value


def _copy_value(value):
    """One COPY text field. Normalised text never holds NUL, which COPY cannot carry."""
    kind = type(value)
    if kind is str:  # str.replace returns the string itself when there is nothing to replace
        return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    if value is None:
        return "\\N"
    if kind is datetime.datetime:
        return value.isoformat()
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is list:  # extensions: [(id, version), ...]
        return _copy_value(json.dumps(value, ensure_ascii=False)) if value else "\\N"
    raise TypeError(f"cannot COPY a {kind.__name__}")


def _names(names):
    return sql.SQL(", ").join(map(sql.Identifier, names))


_REPORT_NAMES = _names(name for name, _ in REPORT_COLUMNS)
# The stage keeps JSON as text, parsed once into the target table and only for new crashes,
# and keeps rows up to a page long uncompressed.
_CREATE_STAGE = sql.SQL(
    "CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}, "
    "report_id bigint DEFAULT nextval('reports_id_seq')) "
    "WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS"
).format(STAGE, sql.SQL(", ").join(
    sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL("text" if kind == "jsonb" else kind))
    for name, kind in COPY_COLUMNS))
_COPY_STAGE = sql.SQL("COPY {} ({}) FROM STDIN").format(STAGE, _names(COPY_NAMES))
# Claim the uuids in crash_ids and queue the new crashes in es_outbox (same transaction, so
# a stored crash is always queued for indexing); crashes already stored leave the stage.
_KEEP_NEW = sql.SQL("""
    WITH inserted AS (
        INSERT INTO crash_ids (uuid, date_processed)
        SELECT uuid, date_processed FROM {stage} ORDER BY uuid
        ON CONFLICT (uuid) DO NOTHING
        RETURNING uuid, date_processed),
    queued AS (  -- the outbox: new crashes wait there to be indexed into Elasticsearch
        INSERT INTO es_outbox (uuid, date_processed) SELECT uuid, date_processed FROM inserted),
    dropped AS (
        DELETE FROM {stage} AS s
         WHERE NOT EXISTS (SELECT FROM inserted WHERE inserted.uuid = s.uuid))
    SELECT uuid FROM inserted""").format(stage=STAGE)
# Last: the stage is emptied (for another call in the same transaction), returning the uuids
# of the new crashes (the only ones _KEEP_NEW left there).
_EMPTY_STAGE = sql.SQL("DELETE FROM {} RETURNING uuid").format(STAGE)
_STAGED_REPORT_VALUES = sql.SQL(", ").join(
    sql.SQL("{}::jsonb" if kind == "jsonb" else "{}").format(sql.Identifier("s", name))
    for name, kind in REPORT_COLUMNS)
# Run in order once the staging table holds only new crashes.
_SPREAD_NEW = [sql.SQL(statement).format(stage=STAGE, report_columns=_REPORT_NAMES,
                                         staged_report_values=_STAGED_REPORT_VALUES)
               for statement in (
    """INSERT INTO signatures AS g (signature, first_report, first_build)
       SELECT signature, min(date_processed),
              min(CASE WHEN build ~ '^[0-9]{{1,18}}$' THEN build::bigint END)
         FROM {stage} GROUP BY signature ORDER BY signature
       ON CONFLICT (signature) DO UPDATE
          SET first_report = least(g.first_report, EXCLUDED.first_report),
              first_build = least(g.first_build, EXCLUDED.first_build)
        WHERE (g.first_report, g.first_build) IS DISTINCT FROM
              (least(g.first_report, EXCLUDED.first_report),
               least(g.first_build, EXCLUDED.first_build))""",
    """INSERT INTO reports (id, signature_id, {report_columns})
       SELECT s.report_id, g.signature_id, {staged_report_values}
         FROM {stage} s JOIN signatures g ON g.signature = s.signature""",
    """INSERT INTO extensions (report_id, uuid, date_processed, extension_key, extension_id,
                               extension_version)
       SELECT s.report_id, s.uuid, s.date_processed, e.position - 1, e.pair ->> 0, e.pair ->> 1
         FROM {stage} s,
              jsonb_array_elements(s.extensions::jsonb) WITH ORDINALITY AS e(pair, position)""",
    """INSERT INTO plugins (filename, name)
       SELECT DISTINCT plugin_filename, plugin_name FROM {stage}
        WHERE plugin_filename IS NOT NULL ORDER BY 1, 2
       ON CONFLICT (filename, name) DO NOTHING""",
    """INSERT INTO plugins_reports (report_id, uuid, plugin_id, date_processed, version)
       SELECT s.report_id, s.uuid, p.id, s.date_processed, s.plugin_version
         FROM {stage} s
         JOIN plugins p ON p.filename = s.plugin_filename AND p.name = s.plugin_name""",
    """INSERT INTO jobs (pathname, uuid, priority, queueddatetime, starteddatetime,
                         completeddatetime, success, message)
       SELECT '', uuid, 0, date_processed, started_datetime, completed_datetime, success,
              processor_notes
         FROM {stage} ORDER BY uuid
       ON CONFLICT (uuid) DO NOTHING""",
    """INSERT INTO signature_products AS sp (signature_id, product, version, first_report)
       SELECT g.signature_id, s.product, s.version, min(s.date_processed)
         FROM {stage} s JOIN signatures g ON g.signature = s.signature
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
       ON CONFLICT (signature_id, product, version) DO UPDATE
          SET first_report = EXCLUDED.first_report
        WHERE EXCLUDED.first_report < sp.first_report""",
)]


def _summing_upsert(table, keys, counts, signatures=True):
    """Add the staged crashes' counts to aggregate ``table``.

    ``keys`` are (column, expression over the stage ``s`` and ``signatures g``) of the table's
    primary key; ``counts`` are (column, filter condition or None for every crash). Rows are
    locked in key order (the ORDER BY), new keys inserted, existing ones summed.
    """
    groups = ", ".join(str(n) for n in range(1, len(keys) + 1))
    return sql.SQL("""
        INSERT INTO {table} AS a ({columns})
        SELECT {selected}
          FROM {stage} s {join}
         GROUP BY {groups} ORDER BY {groups}
        ON CONFLICT ({key}) DO UPDATE SET {sums}""").format(
        table=sql.Identifier(table),
        columns=_names([name for name, _ in keys + counts]),
        selected=sql.SQL(", ").join(
            [sql.SQL(expression) for _, expression in keys]
            + [sql.SQL("count(*)" if where is None else f"count(*) FILTER (WHERE {where})")
               for _, where in counts]),
        stage=STAGE,
        join=sql.SQL("JOIN signatures g ON g.signature = s.signature" if signatures else ""),
        groups=sql.SQL(groups),
        key=_names([name for name, _ in keys]),
        sums=sql.SQL(", ").join(sql.SQL("{0} = a.{0} + EXCLUDED.{0}").format(sql.Identifier(name))
                                for name, _ in counts))


_BY_OS = [("win_count", "s.os_name = 'Windows NT'"), ("mac_count", "s.os_name = 'Mac OS X'"),
          ("lin_count", "s.os_name = 'Linux'")]
_TCBS_COUNTS = [("report_count", None), *_BY_OS, ("hang_count", "s.hangid IS NOT NULL"),
                ("startup_count", "s.uptime < 60")]
_PRODUCT_VERSION = [("product", "s.product"), ("version", "s.version")]
_DAY = "date_trunc('day', s.date_processed, 'UTC')"
_HANG = ("hangid", "CASE WHEN s.hangid IS NOT NULL THEN true END")
_SPREAD_NEW += [
    _summing_upsert("tcbs", [
        *_PRODUCT_VERSION, ("report_date", "(s.date_processed AT TIME ZONE 'UTC')::date"),
        ("signature_id", "g.signature_id"), ("process_type", "coalesce(s.process_type, 'browser')"),
        ("release_channel", "coalesce(lower(s.release_channel), '')")], _TCBS_COUNTS),
    _summing_upsert("tcbs_weekly", [
        *_PRODUCT_VERSION,
        ("week_start", "date_trunc('week', s.date_processed AT TIME ZONE 'UTC')::date"),
        ("signature_id", "g.signature_id"),
        ("process_type", "coalesce(s.process_type, 'browser')")], _TCBS_COUNTS),
    _summing_upsert("crash_daily", [
        ("date_processed", _DAY), *_PRODUCT_VERSION, ("build", "s.build"),
        ("release_channel", "s.release_channel"), ("os_name", "s.os_name"),
        ("process_type", "s.process_type"), ("reason", "s.reason"), _HANG],
        [("report_count", None)], signatures=False),
    _summing_upsert("signature_daily", [
        ("date_processed", _DAY), ("signature_id", "g.signature_id"), *_PRODUCT_VERSION,
        ("release_channel", "s.release_channel"), ("os_name", "s.os_name"),
        ("process_type", "s.process_type"), _HANG], [("report_count", None)]),
    _summing_upsert("signature_daily_totals", [
        ("date_processed", _DAY), ("signature_id", "g.signature_id")],
        [("report_count", None), *_BY_OS, ("hang_count", "s.hangid IS NOT NULL"),
         ("plugin_count", "s.process_type = 'plugin'"),
         ("content_count", "s.process_type = 'content'")]),
]


# -- products --------------------------------------------------------------------------------
PRODUCT_COLUMNS = ("product_name", "sort", "rapid_release_version", "release_name")
VERSION_COLUMNS = ("product_name", "version_string", "major_version", "release_version",
                   "beta_number", "build_date", "sunset_date", "featured_version", "build_type",
                   "throttle")


def load_products(cursor, doc):
    """Upsert a products document (see docs/crash-format.md); return counts of what it held.

    Products and versions already stored are updated; builds already stored are kept.
    Raises InvalidProducts.
    """
    products, versions = normalize_products(doc)
    execute_values(cursor, _UPSERT_PRODUCTS,
                   sorted(tuple(p[c] for c in PRODUCT_COLUMNS) for p in products))
    _check_versions(cursor, versions)
    rows = execute_values(cursor, _UPSERT_VERSIONS,
                          sorted(tuple(v[c] for c in VERSION_COLUMNS) for v in versions),
                          fetch=True)
    version_ids = {(name, version): id_ for name, version, id_ in rows}
    builds, releases = [], []
    for v in versions:
        version_id = version_ids[v["product_name"], v["version_string"]]
        for build_id, platform, repository in v["builds"]:
            builds.append((version_id, build_id, platform, repository))
            releases.append((v["product_name"], v["version_string"], platform, build_id,
                             v["build_type"], v["beta_number"], repository))
    new_builds = execute_values(cursor, _INSERT_BUILDS, sorted(builds), fetch=True)
    execute_values(cursor, _INSERT_RELEASES, sorted(releases))
    return {"products": len(products), "versions": len(versions), "builds": len(builds),
            "new_builds": len(new_builds)}


def _check_versions(cursor, versions):
    """Check each version's product exists; spell its build_type as release_channels does."""
    cursor.execute("SELECT release_channel FROM release_channels")
    channels = {name.lower(): name for name, in cursor.fetchall()}
    cursor.execute("SELECT product_name FROM products WHERE product_name = ANY(%s)",
                   (sorted({v["product_name"] for v in versions}),))
    known_products = {name for name, in cursor.fetchall()}
    for index, version in enumerate(versions):
        if version["product_name"] not in known_products:
            raise InvalidProducts(f"versions[{index}].product_name: unknown product "
                                  f"{version['product_name']!r}", parameter="product_name")
        channel = channels.get(version["build_type"].lower())
        if channel is None:
            raise InvalidProducts(f"versions[{index}].build_type: expected one of "
                                  f"{', '.join(channels.values())}, got "
                                  f"{version['build_type']!r}", parameter="build_type")
        version["build_type"] = channel


def _upsert(table, columns, key_count):
    """INSERT ... VALUES %s updating every column after the first ``key_count`` on conflict."""
    return sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES %s ON CONFLICT ({key}) DO UPDATE SET {updates} "
    ).format(table=sql.Identifier(table), columns=_names(columns),
             key=_names(columns[:key_count]),
             updates=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                        for c in columns[key_count:]))


_UPSERT_PRODUCTS = _upsert("products", PRODUCT_COLUMNS, 1)
_UPSERT_VERSIONS = _upsert("product_versions", VERSION_COLUMNS, 2) + sql.SQL(
    "RETURNING product_name, version_string, product_version_id")
_INSERT_BUILDS = """
    INSERT INTO product_version_builds (product_version_id, build_id, platform, repository)
    VALUES %s ON CONFLICT DO NOTHING RETURNING 1"""
_INSERT_RELEASES = """
    INSERT INTO releases_raw (product_name, version, platform, build_id, build_type,
                              beta_number, repository)
    VALUES %s ON CONFLICT DO NOTHING"""
