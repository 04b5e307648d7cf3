"""The daily aggregates (migration 0004): kept exact by every load, and answering
/crashes/frequency and /search/signatures exactly as the crash scan does."""
import datetime
import threading
from urllib.parse import urlencode

import pytest

from crashgate.external.postgresql.schema import MIGRATIONS_DIR
from tests.factories import products_doc, store, version
from tests.integration.test_loader import load, make_crash, query, write_lines

UTC = datetime.timezone.utc
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)

CRASH_DAILY_FROM_REPORTS = """
    SELECT date_trunc('day', date_processed, 'UTC'), product, version, build, release_channel,
           os_name, process_type, reason, hangid IS NOT NULL, count(*)
      FROM reports GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"""
CRASH_DAILY = """
    SELECT date_processed, product, version, build, release_channel, os_name, process_type,
           reason, hangid IS NOT NULL, report_count
      FROM crash_daily ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"""
SIGNATURE_DAILY_FROM_REPORTS = """
    SELECT date_trunc('day', date_processed, 'UTC'), signature_id, product, version,
           release_channel, os_name, process_type, hangid IS NOT NULL, count(*)
      FROM reports GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"""
SIGNATURE_DAILY = """
    SELECT date_processed, signature_id, product, version, release_channel, os_name,
           process_type, hangid IS NOT NULL, report_count
      FROM signature_daily ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"""

SIGNATURE_DAILY_TOTALS_FROM_REPORTS = """
    SELECT date_trunc('day', date_processed, 'UTC'), signature_id, count(*),
           count(*) FILTER (WHERE os_name = 'Windows NT'),
           count(*) FILTER (WHERE os_name = 'Mac OS X'), count(*) FILTER (WHERE os_name = 'Linux'),
           count(*) FILTER (WHERE hangid IS NOT NULL),
           count(*) FILTER (WHERE process_type = 'plugin'),
           count(*) FILTER (WHERE process_type = 'content')
      FROM reports GROUP BY 1, 2 ORDER BY 1, 2"""
SIGNATURE_DAILY_TOTALS = "SELECT * FROM signature_daily_totals ORDER BY 1, 2"


def assert_daily_aggregates_match_reports(db):
    crash_daily = query(db, CRASH_DAILY)
    assert crash_daily and crash_daily == query(db, CRASH_DAILY_FROM_REPORTS)
    assert query(db, SIGNATURE_DAILY) == query(db, SIGNATURE_DAILY_FROM_REPORTS)
    assert query(db, SIGNATURE_DAILY_TOTALS) == query(db, SIGNATURE_DAILY_TOTALS_FROM_REPORTS)
    assert query(db, TCBS_WEEKLY) == query(db, TCBS_WEEKLY_FROM_TCBS)
    # hangid is true or NULL, never false
    assert query(db, "SELECT count(*) FROM crash_daily WHERE hangid = false") == [(0,)]


# -- maintenance -----------------------------------------------------------------------------
def test_duplicates_count_once(db, clean_db, tmp_path):
    docs = [make_crash(n) for n in range(120)]
    first = write_lines(tmp_path / "1.jsonl", docs[:80] + docs[:10])  # repeats in the file
    second = write_lines(tmp_path / "2.jsonl", docs[40:])  # overlaps the first
    load(clean_db, [first, second], batch_size=17)
    load(clean_db, [first], batch_size=33)  # everything again
    assert query(db, "SELECT sum(report_count) FROM crash_daily") == [(120,)]
    assert query(db, "SELECT sum(report_count) FROM signature_daily") == [(120,)]
    assert_daily_aggregates_match_reports(db)


def test_concurrent_loaders_keep_exact_counts(db, clean_db, tmp_path):
    files = [write_lines(tmp_path / f"{i}.jsonl",
                         [make_crash(n, date_processed=f"2015-0{1 + n % 3}-0{1 + n % 2}T12:00")
                          for n in range(i * 100, i * 100 + 150)])
             for i in range(3)]  # overlapping files; few keys, so the loaders meet on every row
    errors = []

    def run(paths):
        try:
            load(clean_db, paths, batch_size=20)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(paths,))
               for paths in (files[:2], files[1:], files[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert query(db, "SELECT sum(report_count) FROM crash_daily") == [(350,)]
    assert_daily_aggregates_match_reports(db)


def test_migration_backfill_equals_incremental_counts(db, clean_db, tmp_path):
    load(clean_db, [write_lines(tmp_path / "c.jsonl", [make_crash(n) for n in range(90)])])
    aggregates = (CRASH_DAILY, SIGNATURE_DAILY, SIGNATURE_DAILY_TOTALS, TCBS_WEEKLY)
    incremental = [query(db, sql) for sql in aggregates]
    backfill = (MIGRATIONS_DIR / "0004_daily_aggregates.sql").read_text().split(
        "-- Crashes stored before this version.")[1]
    with db.cursor() as cur:
        cur.execute("DELETE FROM crash_daily; DELETE FROM signature_daily;"
                    " DELETE FROM signature_daily_totals; DELETE FROM tcbs_weekly;" + backfill)
    assert [query(db, sql) for sql in aggregates] == incremental
    assert_daily_aggregates_match_reports(db)


def test_truncating_reports_empties_the_aggregates(db, clean_db, tmp_path):
    load(clean_db, [write_lines(tmp_path / "c.jsonl", [make_crash(n) for n in range(5)])])
    with db.cursor() as cur:
        cur.execute("TRUNCATE reports")
    assert query(db, "SELECT (SELECT count(*) FROM crash_daily),"
                     " (SELECT count(*) FROM signature_daily),"
                     " (SELECT count(*) FROM signature_daily_totals)") == [(0, 0, 0)]


# -- the same answers from the aggregates and from the crash scan -----------------------------
FIRST_DAY = datetime.datetime(2012, 11, 12, tzinfo=UTC)
# make_crash(n) is processed at 08:00 + 5 h * n: on the hour, never in the second before or
# after midnight, so a range moved out by one second holds the same crashes.
FILTERS = [
    {},
    {"products": "Firefox"},
    {"versions": "Firefox:16.0.2"},
    {"versions": "Thunderbird:17.0b3"},  # beta: version or major version + its build ids
    {"versions": ["Firefox:16.0.2", "Thunderbird:18.0a2"]},
    {"os": "windows"}, {"os": ["mac", "linux"]}, {"os": "Solaris"},
    {"report_type": "hang"}, {"report_type": "crash"},
    {"report_process": "browser"}, {"report_process": "plugin"},
    {"report_process": "content"},
    {"reasons": "EXCEPTION_ACCESS_VIOLATION_READ"},
    {"build_ids": "20121024073001"}, {"build_from": "20121024073030"},
    {"build_to": "20121024073010"}, {"branches": "16.0"},
    {"products": "Firefox", "os": "windows", "report_type": "crash"},
]
# Filters that no aggregate holds: always the scan.
SCAN_ONLY = [
    {"terms": "processMarkStackTop1", "fields": "signature"},
    {"report_process": "plugin", "plugin_terms": "flash"},
]
RANGES = [(FIRST_DAY, FIRST_DAY + 3 * DAY), (FIRST_DAY + 2 * DAY, FIRST_DAY + 9 * DAY),
          (FIRST_DAY - DAY, FIRST_DAY + 40 * DAY)]
SIGNATURE = "js::GCMarker::processMarkStackTop1"


@pytest.fixture
def day_crashes(clean_db):
    products = products_doc(version("Firefox", "16.0.2", "Release", major="16.0"),
                            version("Thunderbird", "17.0b3", "Beta", major="17.0",
                                    builds=["20121024073001", "20121024073013"]),
                            version("Thunderbird", "18.0a2", "Aurora"))
    plugin = {"name": "Shockwave Flash", "filename": "NPSWF32.dll", "version": "11"}
    docs = [make_crash(n, plugin=plugin if n % 4 == 1 else None) for n in range(200)]
    docs += [make_crash(n, version="17.0", release_channel="beta") for n in range(200, 230)]
    store(clean_db, docs, products=products)
    return clean_db


def get(client, path, start, end, params):
    response = client.get(f"{path}?" + urlencode(
        {"from_date": start.isoformat(), "to_date": end.isoformat(), **params}, doseq=True))
    assert response.status == 200, response
    return response.json


def both_paths(client, path, start, end, params):
    """(answer for whole days, answer for the range moved out by a second: the scan)."""
    return (get(client, path, start, end, params),
            get(client, path, start - SECOND, end + SECOND, params))


REQUESTS = [("/search/signatures/", {}), ("/search/signatures/", {"result_number": 3}),
            ("/search/signatures/", {"result_offset": 500}),  # past the end: true total
            ("/crashes/frequency/", {"signature": SIGNATURE})]


@pytest.mark.parametrize("path, extra", REQUESTS)
def test_aggregates_answer_as_the_scan(client, day_crashes, path, extra):
    answered = 0
    for start, end in RANGES:
        for filters in FILTERS + SCAN_ONLY:
            whole_days, scanned = both_paths(client, path, start, end, {**filters, **extra})
            assert whole_days == scanned, (start, end, filters)
            answered += bool(whole_days["total"])
    assert answered > len(RANGES) * len(FILTERS) // 2  # most cases have hits


def inflate_aggregates(db):
    with db.cursor() as cur:
        cur.execute("UPDATE crash_daily SET report_count = report_count * 10;"
                    "UPDATE signature_daily SET report_count = report_count * 10;"
                    "UPDATE signature_daily_totals SET report_count = report_count * 10")


def test_whole_days_read_the_aggregates_other_ranges_the_crashes(client, db, day_crashes):
    """Inflated aggregates change the whole-day answers only: proof of which path is used."""
    start, end = RANGES[2]
    cases = [("/search/signatures/", {}, True),
             ("/search/signatures/", {"os": "windows"}, True),
             ("/search/signatures/", {"versions": "Firefox:16.0.2"}, True),
             ("/search/signatures/", {"reasons": "EXCEPTION_ACCESS_VIOLATION_READ"}, False),
             ("/search/signatures/", {"versions": "Thunderbird:17.0b3"}, False),  # build ids
             ("/crashes/frequency/", {"signature": SIGNATURE,
                                     "reasons": "EXCEPTION_ACCESS_VIOLATION_READ"}, True),
             ("/crashes/frequency/", {"signature": SIGNATURE, "versions": "Thunderbird:17.0b3"},
              True)] + [("/search/signatures/", f, False) for f in SCAN_ONLY]
    before = [get(client, path, start, end, params) for path, params, _ in cases]
    inflate_aggregates(db)
    for (path, params, aggregated), answer in zip(cases, before):
        assert answer["total"] or not aggregated, params
        changed = get(client, path, start, end, params) != answer
        assert changed == aggregated, (path, params)
        assert get(client, path, start - SECOND, end + SECOND, params) == answer


# -- /crashes/signatures: whole weeks from tcbs_weekly, edge days from tcbs -------------------
TCBS_WEEKLY_FROM_TCBS = """
    SELECT product, version, date_trunc('week', report_date)::date, signature_id, process_type,
           sum(report_count), sum(win_count), sum(mac_count), sum(lin_count), sum(hang_count),
           sum(startup_count)
      FROM tcbs GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"""
TCBS_WEEKLY = "SELECT * FROM tcbs_weekly ORDER BY 1, 2, 3, 4, 5"


def test_tcbs_weekly_sums_tcbs_after_duplicates(db, clean_db, tmp_path):
    docs = [make_crash(n, version="16.0.2") for n in range(300)]
    load(clean_db, [write_lines(tmp_path / "a.jsonl", docs[:200] + docs[:50]),
                    write_lines(tmp_path / "b.jsonl", docs[100:])], batch_size=29)
    weekly = query(db, TCBS_WEEKLY)
    assert len(weekly) > 20 and weekly == query(db, TCBS_WEEKLY_FROM_TCBS)


def days_only_rows(name, start, end, params):
    from crashgate.external.postgresql import tcbs

    params[f"{name}_start"], params[f"{name}_end"] = start, end
    return tcbs.DAYS_SQL.format(start=f"{name}_start", end=f"{name}_end")


TOP_CRASHER_REQUESTS = [
    dict(end_date=end, duration=hours, **extra)
    for end in ("2012-12-03", "2012-12-06", "2012-12-10T13:00:00")  # Monday, Thursday, hour
    for hours in (24, 100, 168, 336, 720)
    for extra in ({}, {"os": "windows"}, {"crash_type": "plugin"})]


def test_top_crashers_from_weeks_equal_top_crashers_from_days(client, db, clean_db,
                                                              monkeypatch):
    store(clean_db, [make_crash(n, product="Firefox", version="16.0.2", signature=f"s{n % 7}")
                     for n in range(400)])
    path = "/crashes/signatures/?" + urlencode({"product": "Firefox", "version": "16.0.2"})
    weekly = [client.get(path + "&" + urlencode(r)).json for r in TOP_CRASHER_REQUESTS]
    assert sum(bool(answer["crashes"]) for answer in weekly) == len(weekly)
    monkeypatch.setattr("crashgate.external.postgresql.tcbs.period_rows", days_only_rows)
    daily = [client.get(path + "&" + urlencode(r)).json for r in TOP_CRASHER_REQUESTS]
    assert weekly == daily
    monkeypatch.undo()
    with db.cursor() as cur:  # the weekly path is the one taken for periods of whole weeks
        cur.execute("UPDATE tcbs_weekly SET report_count = report_count * 10")
    two_weeks = "&" + urlencode({"end_date": "2012-12-03", "duration": 336})
    one_day = "&" + urlencode({"end_date": "2012-12-03", "duration": 24})
    assert client.get(path + two_weeks).json != weekly[TOP_CRASHER_REQUESTS.index(
        dict(end_date="2012-12-03", duration=336))]
    assert client.get(path + one_day).json == weekly[TOP_CRASHER_REQUESTS.index(
        dict(end_date="2012-12-03", duration=24))]
