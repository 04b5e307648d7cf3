"""Term searches in crash text read the trigram indexes of migration 0007 and answer exactly
as the per-crash test (report_filter.py): every search mode, LIKE wildcards, case, frames."""
import datetime
from urllib.parse import urlencode

import psycopg2
import pytest

from crashgate.external.postgresql.report_filter import build_report_filter
from tests.factories import crash_doc, store

UTC = datetime.timezone.utc
WEEK = datetime.datetime(2026, 10, 5, tzinfo=UTC)  # a Monday: the range spans two partitions
FROM, TO = WEEK, WEEK + datetime.timedelta(days=14)
TRIGRAM_INDEXES = ("reports_reason_trgm", "reports_url_trgm", "reports_user_comments_trgm",
                   "reports_frame_functions_trgm")


def frames(*functions):
    return [{"function": f, "module": "xul.dll", "file": "a.cpp", "line": 1, "offset": "0x1"}
            for f in functions]


# uuid prefix -> the crash's text fields
CRASHES = {
    "00000001": dict(reason="EXCEPTION_ACCESS_VIOLATION", url="http://Example.com/100%_off",
                     user_comments="it crashed on C:\\Temp\\x",
                     frames=frames("nsViewManager::Paint", "main")),
    "00000002": dict(reason="SIGSEGV", url="http://example.com/1000off",
                     user_comments="Crashed while typing", frames=frames("js::RunScript")),
    "00000003": dict(reason="EXCEPTION_ACCESS_VIOLATION_READ", url=None, user_comments=None,
                     frames=frames("Foo", "Bar")),  # "Foo\nBar": no single function "oBa"
    "00000004": dict(reason="ACCESS_VIOLATION", url="about:blank", user_comments="",
                     frames=frames("NSVIEWMANAGER_helper", "main")),
    "00000005": dict(reason="A_B", url="https://x.org/a%b", user_comments="50% done",
                     frames=[]),
    "00000006": dict(reason="SIGILL", url=None, user_comments=None,
                     frames=frames("line1\nfoo::Bar")),  # a newline in one function
}


def store_text_crashes(dsn, filler):
    """CRASHES in the two weeks of the range, and ``filler`` crashes without their text."""
    docs = []
    for number, (prefix, fields) in enumerate(CRASHES.items()):
        when = WEEK + datetime.timedelta(days=1 + 2 * number, hours=1)  # both weeks
        docs.append(crash_doc(when, "sig", uuid=f"{prefix}-0000-4000-8000-0000{when:%y%m%d}",
                              **fields))
    for n in range(filler):
        when = WEEK + datetime.timedelta(minutes=7 * n % (14 * 24 * 60))
        docs.append(crash_doc(when, f"filler{n}", reason="SIGABRT", url="http://filler.test/",
                              user_comments="nothing", frames=frames("a::b", "c::d")))
    store(dsn, docs)
    return dsn


@pytest.fixture
def text_crashes(clean_db):
    return store_text_crashes(clean_db, 20)


@pytest.fixture
def many_text_crashes(clean_db):
    """Enough crashes for a plan worth an index."""
    return store_text_crashes(clean_db, 4000)


def found(client, terms, fields, mode="default"):
    """Uuid prefixes of the crashes /search/crashes finds (a set), filler excluded."""
    query = urlencode([("from_date", FROM.isoformat()), ("to_date", TO.isoformat()),
                       ("search_mode", mode), ("result_number", 1000)]
                      + [("terms", t) for t in terms] + [("fields", f) for f in fields])
    response = client.get(f"/search/crashes/?{query}")
    assert response.status == 200, response
    return {hit["uuid"][:8] for hit in response.json["hits"]}


@pytest.mark.parametrize("terms, fields, mode, expected", [
    # contains (default), case-insensitive
    (["access_violation"], ["reason"], "default", {"00000001", "00000003", "00000004"}),
    (["example.COM"], ["url"], "contains", {"00000001", "00000002"}),
    (["CRASHED"], ["user_comments"], "default", {"00000001", "00000002"}),
    (["nsviewmanager"], ["frames"], "default", {"00000001", "00000004"}),
    # % and _ match only themselves; \ too
    (["100%"], ["url"], "contains", {"00000001"}),
    (["%"], ["user_comments"], "contains", {"00000005"}),
    (["a_b"], ["reason"], "contains", {"00000005"}),
    (["_"], ["reason"], "contains", {"00000001", "00000003", "00000004", "00000005"}),
    (["C:\\Temp\\"], ["user_comments"], "contains", {"00000001"}),
    (["r_h"], ["frames"], "default", {"00000004"}),
    # starts_with: the start of the field, of one frame function
    (["exception"], ["reason"], "starts_with", {"00000001", "00000003"}),
    (["main"], ["frames"], "starts_with", {"00000001", "00000004"}),
    (["ainx"], ["frames"], "starts_with", set()),
    (["viewmanager"], ["frames"], "starts_with", set()),
    (["a%"], ["reason"], "starts_with", set()),
    # is_exactly: whole value, case-sensitive
    (["SIGSEGV"], ["reason"], "is_exactly", {"00000002"}),
    (["sigsegv"], ["reason"], "is_exactly", set()),
    (["main"], ["frames"], "is_exactly", {"00000001", "00000004"}),
    (["Main"], ["frames"], "is_exactly", set()),
    (["nsViewManager"], ["frames"], "is_exactly", set()),
    (["http://example.com/1000off", "about:blank"], ["url"], "is_exactly",
     {"00000002", "00000004"}),
    # a term spanning two frame functions matches neither
    (["Foo\nBar"], ["frames"], "default", set()),
    (["oBa"], ["frames"], "default", set()),
    (["Foo"], ["frames"], "is_exactly", {"00000003"}),
    # a newline inside one function name
    (["foo::b"], ["frames"], "default", {"00000006"}),
    (["line1\nfoo"], ["frames"], "default", {"00000006"}),
    (["foo::"], ["frames"], "starts_with", set()),
    (["line1\nfoo::Bar"], ["frames"], "is_exactly", {"00000006"}),
    # several terms, several fields
    (["sigsegv", "blank"], ["reason", "url"], "default", {"00000002", "00000004"}),
    (["50%", "js::"], ["user_comments", "frames"], "default", {"00000002", "00000005"}),
])
def test_term_search_answers(client, text_crashes, terms, fields, mode, expected):
    assert found(client, terms, fields, mode) == expected


def test_all_fields_term_search(client, text_crashes):
    assert found(client, ["viewmanager", "done"], []) == {"00000001", "00000004", "00000005"}
    body = client.get("/search/signatures/?" + urlencode(
        [("from_date", FROM.isoformat()), ("to_date", TO.isoformat()), ("terms", "crashed")])).json
    assert body["hits"] == [dict(body["hits"][0], signature="sig", count=2)]


def nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def crash_scans(dsn, terms, fields, mode):
    """[(node type, index of reports or None)] of the scans of the weekly partitions in the
    plan of the /search/crashes count."""
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE reports")  # as after a load (the GIN statistics too)
        conn.autocommit = False
        with conn.cursor() as cur:
            query = build_report_filter(cur, {"from_date": FROM, "to_date": TO, "terms": terms,
                                              "fields": fields, "search_mode": mode})
            cur.execute(f"EXPLAIN (FORMAT JSON) SELECT count(*) FROM {query.from_sql}"
                        f" WHERE {query.where_sql}", query.params)
            tree = cur.fetchone()[0][0]["Plan"]
            cur.execute("SELECT c.relname, p.relname FROM pg_inherits i"
                        " JOIN pg_class c ON c.oid = i.inhrelid"
                        " JOIN pg_class p ON p.oid = i.inhparent")
            parent = dict(cur.fetchall())
    finally:
        conn.rollback()
        conn.close()
    return [(n["Node Type"], parent.get(n.get("Index Name"))) for n in nodes(tree)
            if parent.get(n.get("Relation Name")) == "reports"
            or parent.get(n.get("Index Name"), "").startswith("reports")]


FIELD_INDEXES = {"reason": "reports_reason_trgm", "url": "reports_url_trgm",
                 "user_comments": "reports_user_comments_trgm",
                 "frames": "reports_frame_functions_trgm"}


def test_field_searches_read_their_trigram_index(many_text_crashes):
    for field, index in FIELD_INDEXES.items():
        for mode in ("default", "starts_with", "is_exactly"):
            scans = crash_scans(many_text_crashes, ["ViewManager", "example"], [field], mode)
            # the index of each weekly partition, then those rows; never every crash
            assert sorted(scans) == ([("Bitmap Heap Scan", None)] * 2
                                     + [("Bitmap Index Scan", index)] * 2), (field, mode)


def test_all_fields_search_reads_only_indexes(many_text_crashes):
    scans = crash_scans(many_text_crashes, ["nsViewManager"],
                        ["signature", "reason", "url", "user_comments", "frames"], "default")
    assert {node for node, _ in scans} == {"Bitmap Heap Scan", "Bitmap Index Scan"}
    used = [index for node, index in scans if node == "Bitmap Index Scan"]
    for index in TRIGRAM_INDEXES:  # one per weekly partition
        assert used.count(index) == 2, used
    assert used.count("reports_signature_date_cover") == 2, used


def test_partitions_created_later_get_the_indexes(text_crashes):
    later = datetime.datetime(2027, 3, 3, tzinfo=UTC)
    store(text_crashes, [crash_doc(later, "sig", reason="LATER")])
    conn = psycopg2.connect(text_crashes)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'reports_20270301'"
                        " AND indexdef LIKE '%%gin_trgm_ops%%' ORDER BY indexname")
            definitions = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    assert len(definitions) == 4
    assert "crash_frame_functions(frames)" in definitions[0]
