"""The fuzz run's data: a small seeded data set, a valid base request per operation, and
per-row checksums of every table to prove no request altered what was stored."""
import collections
import dataclasses
import datetime

import psycopg2

from tests.factories import crash_doc, store, uuid_for
from tests.search_cases import search_crash_set

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
SEEDED_AT = NOW - datetime.timedelta(hours=1)
PROJECT = "fuzzproj"
OTHER_PROJECT = "otherproj"
THRESHOLD = "5.0"
# Rules across parameters: a valid value of the key may make the request fail on the others.
RELATED = {"start_date": {"end_date"}, "end_date": {"start_date"},
           "build_type": {"beta_number"}}
# Parameters no value of which is accepted by an operation.
NEVER_VALID = {"pc_reports:DELETE": {"project"}}
# Parameters a backend checks further than their contract (Lucene syntax, result window).
BACKEND_CHECKED = {"elasticsearch": {"q", "from"}}


@dataclasses.dataclass
class Seeded:
    """Identifiers of the seeded rows the base requests point at."""
    uuid: str
    hangid: str
    date_processed: str
    report_ids: list
    bucket_id: str


def seed(dsn, client):
    """Store the small data set: crashes and products directly, builds, priority jobs and
    PartyCrasher reports through the API (the same code paths the fuzz then attacks)."""
    docs, products = search_crash_set(SEEDED_AT)
    uuid = uuid_for(SEEDED_AT, prefix="fuzz0001")
    docs += [crash_doc(SEEDED_AT, "sig1", uuid=uuid, product="WaterWolf", version="1.0",
                       hangid="fuzzhang", url="http://a.example/'; --", email="a@b.example",
                       user_comments="it's \\ broken", extensions=[
                           {"id": "{972ce4c6-7e08-4474-a285-3208198ce6fd}", "version": "1"}]),
             crash_doc(SEEDED_AT, "sig1", product="WaterWolf", version="1.0",
                       hangid="fuzzhang", process_type="plugin")]
    store(dsn, docs, products)  # with their jobs rows
    build = client.post("/products/builds/", {
        "product": "WaterWolf", "version": "1.0", "platform": "win32",
        "build_id": "20001212010203", "build_type": "Release"})
    assert build.status == 303, build
    assert client.post("/priorityjobs/", {"uuid": uuid}).status == 200
    report_ids, buckets = [], []
    for index, (project, frames) in enumerate([
            (PROJECT, ["g_main_loop_run", "gtk_main", "main"]),
            (PROJECT, ["g_main_loop_run", "gtk_main", "start"]),
            (PROJECT, ["js::GCMarker::processMarkStackTop", "js::GC"]),
            (OTHER_PROJECT, ["memcpy", "xul.dll@0x1234"])]):
        database_id = f"lp:{index}"
        answer = client.post_json(f"/{project}/reports", {
            "database_id": database_id, "date": SEEDED_AT.isoformat(),
            "stacktrace": [{"function": name} for name in frames]})
        assert answer.status == 201, answer
        report_ids.append(database_id)
        buckets.append(answer.json["buckets"][THRESHOLD]["id"])
    return Seeded(uuid=uuid, hangid="fuzzhang", date_processed=SEEDED_AT.isoformat(),
                  report_ids=report_ids, bucket_id=buckets[0])


def base_requests(seeded):
    """{(service, method): {parameter: valid raw value}}: each request is answered 2xx; the
    fuzz changes one to three of these values at a time."""
    window = {"from_date": (NOW - datetime.timedelta(days=2)).date().isoformat(),
              "to_date": (NOW + datetime.timedelta(days=1)).date().isoformat()}
    crash_filters = dict(window, products="WaterWolf", versions="WaterWolf:1.0")
    pc_read = {"project": PROJECT, "report_id": seeded.report_ids[0]}
    return {
        ("products", "GET"): {"versions": "WaterWolf:1.0"},
        ("products_builds", "GET"): {"product": "WaterWolf", "version": "1.0",
                                     "from_date": "2000-01-01"},
        ("products_builds", "POST"): {"product": "WaterWolf", "version": "1.0",
                                      "platform": "win32", "build_id": "20001212010203",
                                      "build_type": "Beta", "beta_number": "2",
                                      "repository": "mozilla-release"},
        ("versions_info", "GET"): {"versions": "WaterWolf:3.0b2"},
        ("crashes_comments", "GET"): dict(crash_filters, signature="sig1"),
        ("crashes_frequency", "GET"): dict(crash_filters, signature="sig1"),
        ("crashes_paireduuid", "GET"): {"uuid": seeded.uuid, "hangid": seeded.hangid},
        ("crashes_signatures", "GET"): {"product": "WaterWolf", "version": "1.0",
                                        "end_date": window["to_date"], "duration": "72",
                                        "crash_type": "all", "limit": "10"},
        ("extensions", "GET"): {"uuid": seeded.uuid, "date": seeded.date_processed},
        ("job", "GET"): {"uuid": seeded.uuid},
        ("priorityjobs", "GET"): {"uuid": seeded.uuid},
        ("priorityjobs", "POST"): {"uuid": seeded.uuid},
        ("report_list", "GET"): dict(crash_filters, signature="sig1", result_number="5"),
        ("search_crashes", "GET"): dict(crash_filters, terms="sig", fields="signature",
                                        search_mode="contains"),
        ("search_signatures", "GET"): dict(crash_filters, terms="sig1",
                                           search_mode="is_exactly"),
        ("signatureurls", "GET"): {"signature": "sig1", "start_date": "2000-01-01",
                                   "end_date": "2031-01-01", "products": "WaterWolf",
                                   "versions": "ALL"},
        ("pc_reports", "POST"): {"project": PROJECT},
        ("pc_reports", "DELETE"): {},
        ("pc_dry_run", "POST"): {"project": PROJECT},
        ("pc_report", "GET"): pc_read,
        ("pc_report_summary", "GET"): pc_read,
        ("pc_report_compare", "GET"): dict(pc_read, other_id=seeded.report_ids[1]),
        ("pc_buckets", "GET"): {"project": PROJECT, "threshold": THRESHOLD,
                                "since": "2000-01-01", "until": "2031", "q": "main",
                                "from": "0", "size": "5"},
        ("pc_bucket", "GET"): {"project": PROJECT, "threshold": THRESHOLD,
                               "bucket_id": seeded.bucket_id, "from": "0", "size": "5"},
        ("pc_config", "GET"): {"project": PROJECT},
        ("pc_search", "GET"): {"project": PROJECT, "q": "gtk_main", "since": "30-days-ago",
                               "until": "2031-01-01", "from": "0", "size": "5"},
    }


def base_report(database_id="lp:0"):
    """A valid PartyCrasher report body (database_id lp:0 is stored: answered 303)."""
    return {"database_id": database_id, "project": PROJECT, "date": SEEDED_AT.isoformat(),
            "stacktrace": [{"function": "g_main_loop_run"}, {"function": "main"}]}


def row_checksums(dsn):
    """{table: Counter of md5(row::text)} for every table and partition holding rows."""
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "
                        "n.nspname = 'public' ORDER BY 1")
            tables = [name for (name,) in cur.fetchall()]
            sums = {}
            for table in tables:
                cur.execute(f"SELECT md5(t::text) FROM {table} t")  # names from the catalog
                sums[table] = collections.Counter(digest for (digest,) in cur.fetchall())
            return sums
    finally:
        conn.close()


def changed_tables(before, after, may_grow=(), may_change=()):
    """Tables whose rows changed in a way not allowed: ``may_grow`` tables may only gain
    rows (every earlier row intact), ``may_change`` tables are counters updated in place."""
    problems = {}
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table), after.get(table)
        if old is None or new is None:
            problems[table] = "table created or dropped"
        elif _parent(table) in may_change:
            continue
        elif _parent(table) in may_grow:
            if old - new:
                problems[table] = f"{sum((old - new).values())} earlier rows altered or deleted"
        elif old != new:
            problems[table] = (f"{sum((old - new).values())} rows gone/altered, "
                               f"{sum((new - old).values())} new")
    return problems


def _parent(table):
    """``reports_20240101`` (a weekly partition) -> ``reports``."""
    head, _, tail = table.rpartition("_")
    return head if tail.isdigit() and len(tail) == 8 else table
