"""The crash and products loader against a real PostgreSQL (see tests/conftest.py)."""
import datetime
import gzip
import io
import json
import re
import threading

import psycopg2
import pytest
from psycopg2 import sql

from crashgate.ingest.crash_document import InvalidCrash, normalize_crash
from crashgate.ingest.loader import LoadError, load_files
from crashgate.ingest.store import store_crashes

UTC = datetime.timezone.utc
START = datetime.datetime(2012, 11, 12, 8, 0, tzinfo=UTC)  # a Monday


def make_crash(number, **fields):
    """A complete crash document; ``number`` varies the uuid, date and the counted fields."""
    date = START + datetime.timedelta(hours=5 * number)
    doc = {
        "uuid": f"{number:08x}-8721-460c-dead-a43c{date:%y%m%d}",
        "date_processed": date.isoformat(),
        "client_crash_date": (date - datetime.timedelta(seconds=20)).isoformat(),
        "product": ("Firefox", "Thunderbird")[number % 2],
        "version": ("16.0.2", "17.0b3", "18.0a2")[number % 3],
        "build": f"201210240730{number % 60:02d}",
        "release_channel": ("release", "Beta", "aurora", None)[number % 4],
        "signature": f"js::GCMarker::processMarkStackTop{number % 5}",
        "reason": "EXCEPTION_ACCESS_VIOLATION_READ", "address": "0x0",
        "os_name": ("Windows NT", "Mac OS X", "Linux", "Solaris", None)[number % 5],
        "os_version": "6.1.7601 Service Pack 1", "cpu_name": "x86",
        "cpu_info": "GenuineIntel family 6 model 42 stepping 7",
        "url": None, "email": None, "user_comments": None, "app_notes": "AdapterVendorID: 0x8086",
        "uptime": (5, 1835, None, 59, 60, 3000, 0)[number % 7], "install_age": 86400,
        "last_crash": 604800, "hangid": f"hang-{number}" if number % 3 == 0 else None,
        "process_type": (None, "plugin", "content", None)[number % 4],
        "plugin": None, "extensions": [], "frames": [],
        "started_datetime": date.isoformat(), "completed_datetime": date.isoformat(),
        "success": True, "processor_notes": "",
    }
    doc.update(fields)
    return doc


def write_lines(path, lines):
    """Write ``lines`` (documents, or raw strings kept as they are) as a crash file."""
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                   for line in lines)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as file:
        file.write(text)
    return str(path)


def load(dsn, paths, **options):
    out = io.StringIO()
    summary = load_files(dsn, paths, out=out, **options)
    return summary, out.getvalue()


def query(db, sql, params=None):
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def table_counts(db):
    tables = ("crash_ids", "reports", "extensions", "plugins", "plugins_reports", "jobs",
              "signatures", "tcbs", "signature_products")
    return {t: query(db, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t)))[0][0]
            for t in tables}


TCBS_FROM_REPORTS = """
    SELECT signature_id, (date_processed AT TIME ZONE 'UTC')::date, product, version,
           coalesce(process_type, 'browser'), coalesce(lower(release_channel), ''),
           count(*), count(*) FILTER (WHERE os_name = 'Windows NT'),
           count(*) FILTER (WHERE os_name = 'Mac OS X'), count(*) FILTER (WHERE os_name = 'Linux'),
           count(*) FILTER (WHERE hangid IS NOT NULL), count(*) FILTER (WHERE uptime < 60)
      FROM reports GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"""
TCBS = """
    SELECT signature_id, report_date, product, version, process_type, release_channel,
           report_count, win_count, mac_count, lin_count, hang_count, startup_count
      FROM tcbs ORDER BY 1, 2, 3, 4, 5, 6"""


def assert_aggregates_match_reports(db):
    assert query(db, TCBS) == query(db, TCBS_FROM_REPORTS)
    assert query(db, "SELECT signature_id, product, version, first_report FROM signature_products"
                     " ORDER BY 1, 2, 3") == query(
        db, "SELECT signature_id, product, version, min(date_processed) FROM reports"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    assert query(db, "SELECT signature_id, signature, first_report, first_build FROM signatures"
                     " ORDER BY 1") == query(
        db, "SELECT signature_id, signature, min(date_processed), min(build::bigint)"
            " FROM reports GROUP BY 1, 2 ORDER BY 1")


# -- one document, every table ---------------------------------------------------------------
def test_full_document_fills_every_table(db, clean_db, tmp_path):
    frames = [{"function": "js::GCMarker::processMarkStackTop", "module": "xul.dll",
               "file": "js/src/jsgc.cpp", "line": 3401, "offset": "0x2c1f0"},
              {"function": "js::GC", "module": "xul.dll", "file": None, "line": None,
               "offset": "0x10"}]
    extensions = [{"id": "{972ce4c6-7e08-4474-a285-3208198ce6fd}", "version": "16.0.2"},
                  {"id": "zz@example.com", "version": None},
                  {"id": "aa@example.com", "version": "1.0"}]  # kept in this order, not sorted
    doc = make_crash(
        0, date_processed="2012-11-14T10:15:02.250000+02:00",
        client_crash_date="2012-11-14 08:14:40", url="http://example.com/", email="a@b.c",
        user_comments="tab\there\nnewline \\ backslash", uptime=30, process_type="plugin",
        release_channel="Beta", hangid="hang-xyz", duplicate_of="0bba929f",
        plugin={"name": "Shockwave Flash", "filename": "NPSWF32.dll", "version": "11.4.402"},
        extensions=extensions, frames=frames, success=False, processor_notes="note 1; note 2",
        started_datetime="2012-11-14T08:15:01Z", completed_datetime="2012-11-14T08:15:02Z",
        Theme="classic/1.0", Nested={"a": [1, 2.5, None, True]},
    )
    summary, out = load(clean_db, [write_lines(tmp_path / "one.jsonl", [doc])])
    assert (summary.loaded, summary.duplicates, summary.rejected, summary.files) == (1, 0, 0, 1)

    cursor = db.cursor()
    cursor.execute("SELECT * FROM reports")
    report = dict(zip([c.name for c in cursor.description], cursor.fetchone()))
    processed = datetime.datetime(2012, 11, 14, 8, 15, 2, 250000, tzinfo=UTC)
    expected = {k: doc[k] for k in doc if k not in ("plugin", "extensions", "Theme", "Nested")}
    expected.update(
        date_processed=processed,
        client_crash_date=datetime.datetime(2012, 11, 14, 8, 14, 40, tzinfo=UTC),
        started_datetime=datetime.datetime(2012, 11, 14, 8, 15, 1, tzinfo=UTC),
        completed_datetime=datetime.datetime(2012, 11, 14, 8, 15, 2, tzinfo=UTC),
        extra={"Theme": "classic/1.0", "Nested": {"a": [1, 2.5, None, True]}},
    )
    signature_id, first_report, first_build = query(
        db, "SELECT signature_id, first_report, first_build FROM signatures")[0]
    assert (first_report, first_build) == (processed, int(doc["build"]))
    assert report.pop("signature_id") == signature_id
    report_id = report.pop("id")
    assert report == expected

    assert query(db, "SELECT * FROM crash_ids") == [(doc["uuid"], processed)]
    assert query(db, "SELECT report_id, uuid, date_processed, extension_key, extension_id,"
                     " extension_version FROM extensions ORDER BY extension_key") == [
        (report_id, doc["uuid"], processed, key, ext["id"], ext["version"])
        for key, ext in enumerate(extensions)]
    assert query(db, "SELECT r.report_id, r.uuid, r.date_processed, r.version, p.filename, p.name"
                     " FROM plugins_reports r JOIN plugins p ON p.id = r.plugin_id") == [
        (report_id, doc["uuid"], processed, "11.4.402", "NPSWF32.dll", "Shockwave Flash")]
    assert query(db, "SELECT pathname, uuid, owner, priority, queueddatetime, starteddatetime,"
                     " completeddatetime, success, message FROM jobs") == [
        ("", doc["uuid"], None, 0, processed, expected["started_datetime"],
         expected["completed_datetime"], False, "note 1; note 2")]
    assert query(db, TCBS) == [(signature_id, datetime.date(2012, 11, 14), "Firefox", "16.0.2",
                                "plugin", "beta", 1, 1, 0, 0, 1, 1)]
    assert query(db, "SELECT * FROM signature_products") == [
        (signature_id, "Firefox", "16.0.2", processed)]
    assert re.fullmatch(r"loaded 1 crashes \(0 duplicates, 0 rejected\) from 1 files in "
                        r"\d+\.\d s: \d+ crashes/s\n", out)


def test_minimal_document_leaves_optional_columns_null(db, clean_db, tmp_path):
    doc = {"uuid": "abc-1", "date_processed": "2012-11-14 08:15:02", "product": "Fennec",
           "version": "17.0b3", "signature": "EMPTY: no crashing thread identified"}
    load(clean_db, [write_lines(tmp_path / "min.jsonl", [doc])])
    assert query(db, "SELECT build, os_name, uptime, frames, extra, success, hangid FROM reports"
                 ) == [(None, None, None, None, None, None, None)]
    assert query(db, "SELECT first_build FROM signatures") == [(None,)]
    assert query(db, "SELECT process_type, release_channel, report_count, startup_count"
                     " FROM tcbs") == [("browser", "", 1, 0)]
    assert table_counts(db)["extensions"] == table_counts(db)["plugins_reports"] == 0


# -- duplicates and idempotency ---------------------------------------------------------------
def test_loading_twice_changes_nothing(db, clean_db, tmp_path):
    docs = [make_crash(n, plugin={"name": "Flash", "filename": "f.dll", "version": "1"},
                       extensions=[{"id": "x@y", "version": "1"}]) for n in range(60)]
    path = write_lines(tmp_path / "crashes.jsonl", docs)
    first, _ = load(clean_db, [path], batch_size=25)
    counts = table_counts(db)
    tcbs = query(db, TCBS)
    second, out = load(clean_db, [path], batch_size=25)
    assert (first.loaded, first.duplicates) == (60, 0)
    assert (second.loaded, second.duplicates) == (0, 60)
    assert "loaded 0 crashes (60 duplicates, 0 rejected)" in out
    assert table_counts(db) == counts
    assert counts["reports"] == counts["jobs"] == counts["extensions"] == 60
    assert query(db, TCBS) == tcbs
    assert_aggregates_match_reports(db)


def test_duplicate_uuid_within_one_batch_keeps_the_first(db, clean_db, tmp_path):
    first = make_crash(1, signature="first")
    again = make_crash(1, signature="second", date_processed="2012-12-01T00:00:00+00:00")
    path = write_lines(tmp_path / "dup.jsonl", [first, again, make_crash(2)])
    summary, _ = load(clean_db, [path])
    assert (summary.loaded, summary.duplicates) == (2, 1)
    assert query(db, "SELECT signature FROM reports WHERE uuid = %s", (first["uuid"],)) == [
        ("first",)]
    assert query(db, "SELECT count(*) FROM signatures WHERE signature = 'second'") == [(0,)]
    assert query(db, "SELECT sum(report_count) FROM tcbs") == [(2,)]


def test_store_crashes_reports_new_uuids_and_duplicates(db, clean_db):
    crashes = [normalize_crash(make_crash(n)) for n in (1, 2, 1)]
    conn = psycopg2.connect(clean_db, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor() as cursor:
            first = store_crashes(cursor, crashes)
        with conn, conn.cursor() as cursor:
            again = store_crashes(cursor, crashes[:1] + [normalize_crash(make_crash(3))])
    finally:
        conn.close()
    assert (sorted(first.new_uuids), first.duplicates) == (
        sorted(c["uuid"] for c in crashes[:2]), 1)
    assert (again.new_uuids, again.duplicates) == ([make_crash(3)["uuid"]], 1)
    assert query(db, "SELECT count(*) FROM reports") == [(3,)]


# -- malformed input -------------------------------------------------------------------------
BAD_LINES = [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "must be a JSON object, got array"),
    (json.dumps(make_crash(90, uuid=None)), "'uuid' is missing"),
    (json.dumps(make_crash(91, uptime="12")), "'uptime': expected an integer"),
    (json.dumps(make_crash(92, uptime=True)), "'uptime': expected an integer"),
    (json.dumps(make_crash(93, date_processed="yesterday")), "'date_processed': expected"),
    (json.dumps(make_crash(94, signature="nul\u0000byte")), "'signature': NUL characters"),
    (json.dumps(make_crash(95, frames=[{"function": "f\u0000"}])), "'frames': NUL characters"),
    (json.dumps(make_crash(96, extensions=[{"version": "1"}])), "'extensions[0].id' is missing"),
    (json.dumps(make_crash(97, uuid="has space")), "'uuid': expected 1-64 characters"),
]


def test_malformed_lines_are_reported_with_file_and_line_and_skipped(db, clean_db, tmp_path):
    lines = [make_crash(1), ""] + [line for line, _ in BAD_LINES] + ["   ", make_crash(2)]
    path = write_lines(tmp_path / "bad.jsonl", lines)
    summary, out = load(clean_db, [path])
    assert (summary.loaded, summary.rejected) == (2, len(BAD_LINES))
    reported = out.splitlines()[:-1]
    assert len(reported) == len(BAD_LINES)
    for line_no, (report, (_, message)) in enumerate(zip(reported, BAD_LINES), start=3):
        assert report.startswith(f"{path}:{line_no}: ") and message in report
    assert f"({summary.duplicates} duplicates, {len(BAD_LINES)} rejected)" in out
    assert query(db, "SELECT count(*) FROM reports") == [(2,)]


def test_bad_bytes_and_truncated_gzip_are_reported(db, clean_db, tmp_path):
    bad_utf8 = tmp_path / "bytes.jsonl"
    bad_utf8.write_bytes(json.dumps(make_crash(1)).encode() + b'\n{"uuid": "\xff"}\n')
    packed = gzip.compress("".join(json.dumps(make_crash(n)) + "\n" for n in range(10, 60))
                           .encode())
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(packed[:len(packed) // 2])
    summary, out = load(clean_db, [str(bad_utf8), str(truncated)])
    assert re.search(rf"^{re.escape(str(bad_utf8))}:2: invalid JSON: .*UTF-8", out, re.M)
    assert re.search(rf"^{re.escape(str(truncated))}:\d+: unreadable: ", out, re.M)
    assert summary.rejected == 2 and 1 < summary.loaded < 51
    assert query(db, "SELECT count(*) FROM reports") == [(summary.loaded,)]


def test_strict_stops_at_the_first_malformed_line(db, clean_db, tmp_path):
    path = write_lines(tmp_path / "bad.jsonl",
                       [make_crash(1), make_crash(2), BAD_LINES[3][0], make_crash(3)])
    with pytest.raises(LoadError, match=re.escape(f"{path}:3: field 'uptime'")):
        load(clean_db, [path], strict=True, batch_size=1)
    assert query(db, "SELECT count(*) FROM reports") == [(2,)]


def test_unknown_or_missing_file_is_refused_before_loading(db, clean_db, tmp_path):
    good = write_lines(tmp_path / "good.jsonl", [make_crash(1)])
    with pytest.raises(LoadError, match="unknown file kind"):
        load(clean_db, [good, write_lines(tmp_path / "crashes.csv", ["x"])])
    with pytest.raises(LoadError, match="no such file"):
        load(clean_db, [good, str(tmp_path / "missing.jsonl")])
    assert query(db, "SELECT count(*) FROM reports") == [(0,)]


@pytest.mark.parametrize("field, value, message", [
    ("install_age", 2**31, "between"), ("success", "yes", "a boolean"),
    ("frames", [{"line": "12"}], "frames[0].line"), ("plugin", {"name": "x"}, "plugin.filename"),
    ("user_comments", "\ud800", "lone surrogate"), ("extensions", {"id": "x"}, "an array"),
    ("Theme", float("nan"), "NaN"),
])
def test_invalid_values_name_the_field(field, value, message):
    with pytest.raises(InvalidCrash, match=re.escape(message)) as raised:
        normalize_crash(make_crash(1, **{field: value}))
    assert field in raised.value.message or field == "Theme"


# -- files -------------------------------------------------------------------------------------
def test_gzip_and_plain_files_load_together(db, clean_db, tmp_path):
    plain = write_lines(tmp_path / "a.jsonl", [make_crash(n) for n in range(10)])
    packed = write_lines(tmp_path / "b.jsonl.gz", [make_crash(n) for n in range(10, 25)])
    summary, _ = load(clean_db, [plain, packed], batch_size=7)
    assert (summary.loaded, summary.files) == (25, 2)
    assert query(db, "SELECT count(DISTINCT uuid) FROM reports") == [(25,)]


def test_progress_line_only_on_a_terminal(clean_db, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    path = write_lines(tmp_path / "a.jsonl", [make_crash(n) for n in range(30)])
    terminal = Terminal()
    load_files(clean_db, [path], batch_size=10, out=terminal)
    assert re.search(r"\r\d+ crashes, \d+ crashes/s, \d+% read", terminal.getvalue())
    _, plain = load(clean_db, [path], batch_size=10)
    assert "\r" not in plain and plain.startswith("loaded 0 crashes (30 duplicates")


# -- products ----------------------------------------------------------------------------------
def products_doc(throttle=100.0, builds=(("20121101123456", "windows"),)):
    return {
        "products": [{"product_name": "Firefox", "sort": 1, "rapid_release_version": "5.0",
                      "release_name": "firefox"}, {"product_name": "Fennec"}],
        "versions": [
            {"product_name": "Firefox", "version_string": "17.0b3", "major_version": "17.0",
             "release_version": "17.0b3", "build_type": "beta", "beta_number": 3,
             "build_date": "2012-11-01", "sunset_date": "2013-02-01", "featured": True,
             "throttle": throttle,
             "builds": [{"build_id": b, "platform": p, "repository": "mozilla-beta"}
                        for b, p in builds]},
            {"product_name": "Fennec", "version_string": "19.0a1", "build_type": "Nightly",
             "builds": [{"build_id": "20121120030201", "platform": "android"}]},
        ],
    }


def test_products_file_loads_and_upserts(db, clean_db, tmp_path):
    path = tmp_path / "products.json"
    path.write_text(json.dumps(products_doc()))
    load(clean_db, [str(path)])
    assert query(db, "SELECT * FROM products ORDER BY 1") == [
        ("Fennec", 0, None, "fennec"), ("Firefox", 1, "5.0", "firefox")]
    assert query(db, "SELECT product_name, version_string, major_version, release_version,"
                     " beta_number, build_date, sunset_date, featured_version, build_type,"
                     " throttle FROM product_versions ORDER BY 1") == [
        ("Fennec", "19.0a1", None, None, None, None, None, False, "Nightly", 100),
        ("Firefox", "17.0b3", "17.0", "17.0b3", 3, datetime.date(2012, 11, 1),
         datetime.date(2013, 2, 1), True, "Beta", 100)]

    builds = (("20121101123456", "windows"), ("20121102000000", "mac"))
    path.write_text(json.dumps(products_doc(throttle=10.0, builds=builds)))
    crashes = write_lines(tmp_path / "c.jsonl", [make_crash(1)])
    summary, _ = load(clean_db, [crashes, str(path)])  # products first, whatever the order
    assert (summary.loaded, summary.files) == (1, 2)
    assert query(db, "SELECT count(*), sum(throttle) FROM product_versions") == [(2, 110)]
    assert query(db, "SELECT v.version_string, b.build_id, b.platform, b.repository"
                     " FROM product_version_builds b JOIN product_versions v"
                     " USING (product_version_id) ORDER BY 2") == [
        ("17.0b3", 20121101123456, "windows", "mozilla-beta"),
        ("17.0b3", 20121102000000, "mac", "mozilla-beta"),
        ("19.0a1", 20121120030201, "android", "")]
    assert query(db, "SELECT product_name, version, platform, build_id, build_type, beta_number,"
                     " repository, build_date FROM releases_raw ORDER BY build_id") == [
        ("Firefox", "17.0b3", "windows", 20121101123456, "Beta", 3, "mozilla-beta",
         datetime.date(2012, 11, 1)),
        ("Firefox", "17.0b3", "mac", 20121102000000, "Beta", 3, "mozilla-beta",
         datetime.date(2012, 11, 2)),
        ("Fennec", "19.0a1", "android", 20121120030201, "Nightly", None, "",
         datetime.date(2012, 11, 20))]


@pytest.mark.parametrize("change, message", [
    (lambda d: d["versions"][0].pop("version_string"), "versions[0].version_string: required"),
    (lambda d: d["versions"][0].update(build_type="Weekly"), "versions[0].build_type: expected"),
    (lambda d: d["versions"][1].update(product_name="Nope"), "unknown product 'Nope'"),
    (lambda d: d["versions"][0]["builds"][0].update(build_id="2012"), "builds[0].build_id"),
    (lambda d: d["versions"][0].update(throttle="all"), "versions[0].throttle: expected"),
    (lambda d: d["products"].append({"product_name": "Firefox"}), "products[2]: Firefox repeats"),
])
def test_invalid_products_file_is_refused_with_a_clear_error(db, clean_db, tmp_path, change,
                                                             message):
    doc = products_doc()
    change(doc)
    path = tmp_path / "products.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(LoadError, match=re.escape(f"{path}: ") + ".*" + re.escape(message)):
        load(clean_db, [str(path)])
    assert query(db, "SELECT count(*) FROM products") == [(0,)]


# -- aggregates, partitions, signatures ---------------------------------------------------------
def test_aggregates_equal_counts_from_reports(db, clean_db, tmp_path):
    docs = [make_crash(n, signature=f"sig{n % 3}", version="16.0.2",
                       date_processed=(START + datetime.timedelta(days=n % 2)).isoformat())
            for n in range(300)]  # 48 tcbs rows of about 6 crashes, spread over the batches
    part1 = write_lines(tmp_path / "1.jsonl", docs[0::2])
    part2 = write_lines(tmp_path / "2.jsonl.gz", docs[-1::-2])
    summary, _ = load(clean_db, [part1, part2], batch_size=37)
    assert summary.loaded == 300
    expected = (300, sum(d["os_name"] == "Windows NT" for d in docs),
                sum(d["hangid"] is not None for d in docs),
                sum(d["uptime"] is not None and d["uptime"] < 60 for d in docs))
    assert query(db, "SELECT sum(report_count), sum(win_count), sum(hang_count),"
                     " sum(startup_count) FROM tcbs") == [expected]
    assert {row[0] for row in query(db, "SELECT release_channel FROM tcbs")} == {
        "release", "beta", "aurora", ""}
    assert_aggregates_match_reports(db)


def test_partitions_are_created_for_every_week(db, clean_db, tmp_path):
    mondays = [datetime.date(2013, 12, 30) + datetime.timedelta(weeks=w) for w in range(5)]
    docs = [make_crash(w, date_processed=f"{monday + datetime.timedelta(days=6)}T23:59:59",
                       extensions=[{"id": "e", "version": "1"}],
                       plugin={"name": "p", "filename": "p.dll", "version": "1"})
            for w, monday in enumerate(mondays)]
    load(clean_db, [write_lines(tmp_path / "weeks.jsonl", docs)])
    for table in ("reports", "extensions", "plugins_reports"):
        assert query(db, f"SELECT tableoid::regclass::text FROM {table} ORDER BY date_processed"
                     ) == [(f"{table}_{monday:%Y%m%d}",) for monday in mondays]


TRICKY_SIGNATURES = [
    "a/b + c % d", "it's \"quoted\"", "back\\slash \\N \\t", "pipe | pipe", "  spaces  ",
    "tab\tand\nnewline\r", "Ünïcödé ✓ 日本語 🦊", "100%_LIKE_%", "js::Foo<Bar>::baz(int*)",
]


def test_tricky_signatures_are_stored_exactly(db, clean_db, tmp_path):
    docs = [make_crash(n, signature=s, user_comments=s, frames=[{"function": s}])
            for n, s in enumerate(TRICKY_SIGNATURES)]
    load(clean_db, [write_lines(tmp_path / "tricky.jsonl", docs)])
    assert query(db, "SELECT signature, user_comments, frames -> 0 ->> 'function' FROM reports"
                     " ORDER BY uuid") == [(s, s, s) for s in TRICKY_SIGNATURES]
    assert sorted(row[0] for row in query(db, "SELECT signature FROM signatures")) == sorted(
        TRICKY_SIGNATURES)
    assert_aggregates_match_reports(db)


# -- concurrency ---------------------------------------------------------------------------------
def test_concurrent_loaders_of_overlapping_files(db, clean_db, tmp_path):
    files = [write_lines(tmp_path / f"{i}.jsonl",
                         [make_crash(n, signature=f"sig{n % 4}", version="16.0.2",
                                     date_processed=f"2015-0{1 + n % 3}-0{1 + n % 2}T12:00")
                          for n in range(i * 100, i * 100 + 150)])
             for i in range(3)]  # 0-149, 100-249, 200-349: 350 crashes, 12 shared tcbs rows
    summaries, errors = [], []

    def run(paths):
        try:
            summaries.append(load(clean_db, paths, batch_size=20)[0])
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(files[:2],)),
               threading.Thread(target=run, args=(files[1:],))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(s.loaded for s in summaries) == 350
    assert sum(s.duplicates for s in summaries) == 250
    counts = table_counts(db)
    assert counts["reports"] == counts["crash_ids"] == counts["jobs"] == 350
    assert query(db, "SELECT count(DISTINCT uuid) FROM reports") == [(350,)]
    assert_aggregates_match_reports(db)
