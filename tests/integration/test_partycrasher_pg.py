"""PartyCrasher storage and the PostgreSQL bucketing engine against a real PostgreSQL."""
import datetime
import threading
from decimal import Decimal

import psycopg2
import pytest

from crashgate.errors import Forbidden
from crashgate.external.postgresql.backend import PostgreSQLBackend
from crashgate.external.postgresql.partycrasher import candidates
from crashgate.external.postgresql.partycrasher.implementations import (
    Bucket, Report, Reports, Search, TopBuckets)
from crashgate.fakedata.labelled import generate_labelled_reports
from crashgate.ingest.report_document import parse_reports
from tests.conftest import make_config

UTC = datetime.timezone.utc
PC_TABLES = ("pc_bucket_members", "pc_reports", "pc_terms", "pc_projects")
THRESHOLDS = "1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0"  # explicit: defaults may change
T_MAX = Decimal("9.0")
T4 = Decimal("4.0")
STACK_A = ["QCommonStyle::drawControl", "QWidget::paintEvent", "g_main_context_dispatch",
           "g_main_loop_run", "main"]
STACK_B = ["nbd_server_read_request", "nbd_negotiate", "handle_connection", "accept_loop"]


@pytest.fixture
def backend(clean_db):
    conn = psycopg2.connect(clean_db)
    with conn, conn.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(PC_TABLES) + " RESTART IDENTITY")
    conn.close()
    backend = PostgreSQLBackend(make_config(clean_db, "--database.max_connections=12",
                                            "--database.pool_wait_seconds=30",
                                            f"--bucketing.thresholds={THRESHOLDS}"))
    yield backend
    backend.close()


@pytest.fixture
def reports(backend):
    return Reports(backend)


def doc(database_id, stack, date="2017-01-05T08:00:00", **fields):
    return dict({"database_id": database_id, "date": date,
                 "stacktrace": [{"function": name} for name in stack]}, **fields)


def post(reports, body, project="proj", dry_run=False):
    return reports.ingest(parse_reports(body, project), dry_run=dry_run)


def table_counts(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            counts = {}
            for table in PC_TABLES + ("reports",):
                cur.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cur.fetchone()[0]
            cur.execute("SELECT coalesce(sum(df), 0) FROM pc_terms")
            counts["df"] = cur.fetchone()[0]
            return counts
    finally:
        conn.close()


# -- ingestion and the assignment rule ------------------------------------------------------
def test_identical_report_joins_every_bucket_of_its_twin(reports):
    [first] = post(reports, doc("a1", STACK_A, os="Linux"))
    [second] = post(reports, doc("a2", STACK_A, os="Linux"))
    assert first.created and second.created
    assert first.top_match is None
    assert second.top_match.database_id == "a1" and second.top_match.score == 10.0
    assert second.buckets == first.buckets
    assert sorted(first.buckets) == [Decimal(f"{t}.0") for t in range(1, 10)]


def test_unrelated_report_founds_new_buckets(reports):
    post(reports, [doc("a1", STACK_A), doc("a2", STACK_A), doc("b0", STACK_B)])
    [other] = post(reports, doc("c1", ["png_decode_row", "png_do_expand", "gdk_pixbuf_load"]))
    stored = {result.buckets[T4] for result in post(reports, [doc("a1", []), doc("b0", [])])}
    assert other.top_match is None
    assert other.buckets[T4] not in stored and other.buckets[T_MAX] not in stored


def test_assignment_rule_and_nested_partitions(reports):
    labelled = [report for report, _ in generate_labelled_reports(120, seed=3, project="proj")]
    results = post(reports, labelled)
    by_id = {result.database_id: result for result in results}
    thresholds = sorted(results[0].buckets)
    earlier = {threshold: set() for threshold in thresholds}
    joined = 0
    for result in results:
        match = result.top_match
        for threshold, bucket in result.buckets.items():
            if match is not None and match.score >= threshold:
                assert bucket == by_id[match.database_id].buckets[threshold]
                joined += 1
            else:
                assert bucket not in earlier[threshold]  # a new bucket
            earlier[threshold].add(bucket)
    assert joined > 0
    for low, high in zip(thresholds, thresholds[1:]):  # same bucket at high -> same at low
        pairs = {}
        for result in results:
            pairs.setdefault(result.buckets[high], set()).add(result.buckets[low])
        assert all(len(lows) == 1 for lows in pairs.values())
    assert len({r.buckets[thresholds[0]] for r in results}) < len(
        {r.buckets[thresholds[-1]] for r in results})


def test_projects_never_match_each_other(reports):
    [first] = post(reports, doc("p1", STACK_A), project="one")
    [second] = post(reports, doc("p2", STACK_A), project="two")
    assert second.top_match is None
    assert set(second.buckets.values()).isdisjoint(first.buckets.values())


def test_stored_id_is_not_stored_again_in_any_project(reports, backend, clean_db):
    [first] = post(reports, doc("d1", STACK_A))
    before = table_counts(clean_db)
    [again] = post(reports, doc("d1", STACK_B))
    [elsewhere] = post(reports, doc("d1", STACK_B), project="other")
    for result in (again, elsewhere):
        assert not result.created
        assert (result.project, result.buckets, result.date) == (
            "proj", first.buckets, first.date)
    assert table_counts(clean_db) == before
    assert Report(backend).get("d1", "proj")["document"]["stacktrace"][0]["function"] == STACK_A[0]


def test_duplicate_inside_a_batch_is_stored_once(reports, clean_db):
    first, repeat = post(reports, [doc("e1", STACK_A), doc("e1", STACK_B)])
    assert first.created and not repeat.created and repeat.buckets == first.buckets
    assert table_counts(clean_db)["pc_reports"] == 1


def test_batch_is_all_or_nothing(reports, clean_db):
    batch = parse_reports([doc("f1", STACK_A), doc("f2", STACK_B), doc("f3", STACK_A)], "proj")
    batch[2].document["note"] = "x\0"  # past validation (which rejects NUL): jsonb fails here
    with pytest.raises(psycopg2.DataError):
        reports.ingest(batch)
    assert set(table_counts(clean_db).values()) == {0}


def test_later_batch_items_see_earlier_ones(reports):
    first, second = post(reports, [doc("g1", STACK_A), doc("g2", STACK_A)])
    assert second.top_match.database_id == "g1" and second.buckets == first.buckets


def test_dry_run_writes_nothing(reports, clean_db):
    stored, _ = post(reports, [doc("h1", STACK_A), doc("h0", STACK_B)])
    before = table_counts(clean_db)
    [similar] = post(reports, doc("h2", STACK_A[:3] + STACK_B[2:]), dry_run=True)
    [unrelated] = post(reports, doc("h3", ["zlib_inflate", "png_decode"]), dry_run=True)
    assert table_counts(clean_db) == before
    assert similar.top_match.database_id == "h1" and 0 < similar.top_match.score < 10
    for threshold, bucket in similar.buckets.items():
        expected = stored.buckets[threshold] if threshold <= similar.top_match.score else None
        assert bucket == expected
    assert set(unrelated.buckets.values()) == {None}
    [already] = post(reports, doc("h1", STACK_B), dry_run=True)
    assert not already.created and already.buckets == stored.buckets


def test_report_with_crash_fields_is_stored_as_a_crash_too(reports, backend, clean_db):
    uuid = "0bba61c5-dfc3-43e7-87e6-8afda2121123"
    body = doc(uuid, STACK_A, date="2017-01-05T08:00:00+00:00", product="Firefox",
               version="16.0.2", signature="QCommonStyle::drawControl")
    [result] = post(reports, body)
    assert result.created
    conn = psycopg2.connect(clean_db)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT product, version, signature, date_processed FROM reports "
                    "WHERE uuid = %s", (uuid,))
        assert cur.fetchall() == [("Firefox", "16.0.2", "QCommonStyle::drawControl",
                                   datetime.datetime(2017, 1, 5, 8, tzinfo=UTC))]
    conn.close()
    assert Report(backend).get(uuid)["crash_uuid"] == uuid


def test_concurrent_similar_reports_found_one_bucket(reports):
    """8 clients post identical reports to one project at the same moment: the per-project
    lock buckets them one after the other, so exactly one founds a bucket (without it, each
    would find no committed candidate and found its own)."""
    barrier = threading.Barrier(8)
    results, errors = [], []

    def client(number):
        try:
            barrier.wait()
            results.extend(post(reports, doc(f"k{number}", STACK_A), project="race"))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8
    assert len({result.buckets[T_MAX] for result in results}) == 1
    assert sum(result.top_match is None for result in results) == 1


def test_common_terms_still_find_members_of_a_large_bucket(reports, monkeypatch):
    monkeypatch.setattr(candidates, "POSTINGS_BUDGET", 3)  # every term counts as common
    first = post(reports, [doc(f"m{n}", STACK_A) for n in range(6)])
    [late] = post(reports, doc("m-late", STACK_A))
    assert late.top_match.database_id == "m0" and late.top_match.score == 10.0
    assert late.buckets == first[0].buckets


# -- reads ---------------------------------------------------------------------------------
@pytest.fixture
def dated(reports):
    """Project "x": 3 reports sharing token Xone (Jan 15, Feb 15, Mar 15 2016) and 1 with
    Xtwo; project "y": one report like the first."""
    bodies = [doc("x1", STACK_A, date="2016-01-15T00:00:00", tag="Xone first"),
              doc("x2", STACK_A, date="2016-02-15T00:00:00", tag="Xone second"),
              doc("x3", STACK_B, date="2016-03-15T00:00:00", tag="Xone third"),
              doc("x4", STACK_B, date="2016-03-16T00:00:00", tag="Xtwo")]
    results = post(reports, bodies, project="x")
    post(reports, doc("y1", STACK_A, date="2016-01-15T00:00:00", tag="Xone"), project="y")
    return {result.database_id: result for result in results}


def d(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_top_buckets_totals_and_first_last_seen(backend, dated):
    top = TopBuckets(backend).top(T_MAX, "x", d("2000-01-01"), None, 0, 10)
    totals = {bucket["bucket_id"]: bucket for bucket in top["buckets"]}
    a_bucket = dated["x1"].buckets[T_MAX]
    assert a_bucket == dated["x2"].buckets[T_MAX]
    order = [(-b["total"], -b["last_seen"].timestamp()) for b in top["buckets"]]
    assert order == sorted(order)  # most reports first, then most recent
    assert totals[a_bucket]["total"] == 2 and totals[a_bucket]["project"] == "x"
    assert totals[a_bucket]["first_seen"] == d("2016-01-15")
    assert totals[a_bucket]["last_seen"] == d("2016-02-15")
    assert top["total"] == len(top["buckets"]) == len(
        {result.buckets[T_MAX] for result in dated.values()})
    everywhere = TopBuckets(backend).top(T_MAX, None, d("2000-01-01"), None, 0, 10)
    assert everywhere["total"] == top["total"] + 1


def test_top_buckets_paging(backend, dated):
    whole = TopBuckets(backend).top(T_MAX, "x", None, None, 0, 10)["buckets"]
    pages = [TopBuckets(backend).top(T_MAX, "x", None, None, offset, 1)
             for offset in range(len(whole) + 1)]
    assert [page["buckets"][0]["bucket_id"] for page in pages[:-1]] == [b["bucket_id"] for b in whole]
    assert pages[-1]["buckets"] == [] and pages[-1]["total"] == len(whole)
    assert all(page["total"] == len(whole) for page in pages)


def test_top_buckets_since_and_until_are_strict(backend, dated):
    top = TopBuckets(backend)

    def ids(since, until, q=None):
        return {b["bucket_id"] for b in top.top(T_MAX, "x", since, until, 0, 10, q)["buckets"]}

    assert ids(d("2016-01-15"), None) == {dated[i].buckets[T_MAX] for i in ("x2", "x3", "x4")}
    assert ids(d("2016-01-14"), d("2016-01-15")) == set()
    assert ids(d("2016-01-01"), d("2016-02-01")) == {dated["x1"].buckets[T_MAX]}
    assert ids(d("2016-03-01"), d("2016-04-01"), "Xone") == {dated["x3"].buckets[T_MAX]}


def test_top_buckets_q(backend, dated):
    def ids(q, project="x"):
        found = TopBuckets(backend).top(T_MAX, project, d("2000-01-01"), None, 0, 10, q)
        return {b["bucket_id"] for b in found["buckets"]}

    assert ids("Xone") == {dated[i].buckets[T_MAX] for i in ("x1", "x3")}
    assert ids("Xone third") == {dated["x3"].buckets[T_MAX]}  # AND
    assert ids("tag:Xtwo") == {dated["x4"].buckets[T_MAX]}
    assert ids("os:Xtwo") == set()  # field-restricted
    assert ids("nowhere") == set()
    assert ids("Xone", project=None) == ids("Xone") | {dated["x1"].buckets[T_MAX]} | {
        b["bucket_id"] for b in TopBuckets(backend).top(T_MAX, "y", None, None, 0, 10)["buckets"]}
    assert ids("Xone", project="unknown") == set()


def test_bucket_page(backend, dated):
    bucket_id = dated["x1"].buckets[T_MAX]
    page = Bucket(backend).get(T_MAX, bucket_id, "x", 0, 1)
    assert (page["id"], page["threshold"], page["project"], page["total"]) == (
        bucket_id, T_MAX, "x", 2)
    assert [r["database_id"] for r in page["reports"]] == ["x2"]  # newest first
    assert page["reports"][0]["buckets"] == dated["x2"].buckets
    second = Bucket(backend).get(T_MAX, bucket_id, "x", 1, 1)
    assert [r["database_id"] for r in second["reports"]] == ["x1"]
    assert Bucket(backend).get(T_MAX, bucket_id, "y", 0, 10) is None
    assert Bucket(backend).get(T_MAX, "no-such-bucket", "x", 0, 10) is None
    assert Bucket(backend).get(T_MAX, bucket_id, None, 0, 10)["total"] == 2


def test_get_report(backend, dated):
    report = Report(backend).get("x2", "x")
    assert report["document"]["tag"] == "Xone second" and report["date"] == d("2016-02-15")
    assert report["buckets"] == dated["x2"].buckets
    assert report["top_match"].database_id == "x1" and report["top_match"].project == "x"
    assert Report(backend).get("x2", "y") is None
    assert Report(backend).get("nope", "x") is None


def test_search(backend, dated):
    search = Search(backend)
    found = search.search("x", "Xone", None, None, 0, 10)
    assert found["total"] == 3
    assert [r["database_id"] for r in found["reports"]] == ["x3", "x2", "x1"]
    assert [r["database_id"] for r in search.search("x", "Xone", d("2016-02-01"),
                                                     d("2016-03-01"), 0, 10)["reports"]] == ["x2"]
    page = search.search("x", "Xone", None, None, 1, 1)
    assert page["total"] == 3 and [r["database_id"] for r in page["reports"]] == ["x2"]
    assert search.search("x", "Xone Xtwo", None, None, 0, 10)["total"] == 0
    assert search.search("x", None, None, None, 0, 10)["total"] == 4
    assert search.search("x", "Xone", None, None, 5, 10) == {"total": 3, "reports": []}


def test_compare(backend, dated):
    same = Report(backend).compare("x1", "x2", "x")
    assert 9 < same["score"] < 10 and 9 < same["reverse_score"] < 10  # tags differ
    assert sum(row["weight"] for row in same["terms"]) == pytest.approx(same["score"], abs=1e-2)
    assert same["shared_buckets"] == dated["x1"].buckets
    assert {row["field"] for row in same["terms"]} >= {"stacktrace.function", "tag"}
    assert all(set(row) == {"field", "term", "weight"} for row in same["terms"])
    different = Report(backend).compare("x1", "x4", "x")
    assert different["score"] < 4 and T_MAX not in different["shared_buckets"]
    assert Report(backend).compare("x1", "nope", "x") == {"missing": "nope"}
    assert Report(backend).compare("x1", "x2", "y") == {"missing": "x1"}


def test_summary(backend, dated):
    summary = Report(backend).summary("x2", "x")
    assert summary["top_match"].database_id == "x1" and 9 < summary["score"] < 10
    assert summary["terms"] and all(row["weight"] > 0 for row in summary["terms"])
    weights = [row["weight"] for row in summary["terms"]]
    assert weights == sorted(weights, reverse=True)
    assert Report(backend).summary("x1", "x")["terms"] == []
    assert Report(backend).summary("nope", "x") is None


def test_delete_all(clean_db, dated):
    forbidden = PostgreSQLBackend(make_config(clean_db))
    with pytest.raises(Forbidden):
        Reports(forbidden).delete_all()
    forbidden.close()
    allowed = PostgreSQLBackend(make_config(clean_db, "--bucketing.allow_delete_all=true"))
    try:
        assert Reports(allowed).delete_all() == 5
        counts = table_counts(clean_db)
        assert [counts[table] for table in PC_TABLES] == [0, 0, 0, 0]
        [fresh] = Reports(allowed).ingest(parse_reports(doc("x1", STACK_A), "x"))
        assert fresh.created and fresh.top_match is None
    finally:
        allowed.close()


def test_threshold_count_matches_configuration(clean_db):
    backend = PostgreSQLBackend(make_config(clean_db, "--bucketing.thresholds=3.75, 4"))
    try:
        conn = psycopg2.connect(clean_db)
        with conn, conn.cursor() as cur:
            cur.execute("TRUNCATE " + ", ".join(PC_TABLES) + " RESTART IDENTITY")
        conn.close()
        [result] = Reports(backend).ingest(parse_reports(doc("t1", STACK_A), "t"))
        assert sorted(result.buckets) == [Decimal("3.8"), Decimal("4.0")]
    finally:
        backend.close()
