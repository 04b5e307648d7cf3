"""The crash documents PostgreSQL writes for Elasticsearch (``document.CRASH_ROWS_SQL``) equal
the documents computed in Python from the stored columns, whatever the session's time zone."""
import datetime

import orjson
import psycopg2
import psycopg2.extras
import pytest

from crashgate.external.elasticsearch.document import CRASH_ROWS_SQL, bulk_lines, to_document
from crashgate.external.elasticsearch.indices import MAPPINGS
from tests.factories import crash_doc, store

UTC = datetime.timezone.utc
WHEN = datetime.datetime(2024, 3, 4, 12, tzinfo=UTC)

# The stored columns, read back as Python values (the reference the SQL is checked against).
COLUMNS_SQL = """
    SELECT r.*, r.id AS report_id, p.name AS plugin_name, p.filename AS plugin_filename,
           pr.version AS plugin_version,
           (SELECT json_agg(json_build_object('extension_key', e.extension_key,
                                              'extension_id', e.extension_id,
                                              'extension_version', e.extension_version)
                            ORDER BY e.extension_key)
              FROM extensions e
             WHERE e.uuid = r.uuid AND e.date_processed = r.date_processed) AS extensions
      FROM reports r
      LEFT JOIN plugins_reports pr ON pr.uuid = r.uuid AND pr.date_processed = r.date_processed
      LEFT JOIN plugins p ON p.id = pr.plugin_id
"""


def expected_document(row):
    """The document of one crash, written out in Python from its columns."""
    doc = {}
    for name, spec in MAPPINGS["properties"].items():
        value = row.get(name)
        if spec.get("type") == "date" and value is not None:
            value = value.astimezone(UTC).isoformat()
        doc[name] = value
    doc["frame_functions"] = [f["function"] for f in row["frames"] or () if f.get("function")]
    build = row["build"] or ""
    doc["build_numeric"] = int(build) if build.isascii() and build.isdigit() \
        and len(build) <= 18 else None
    doc["extensions"] = row["extensions"] or []
    return doc


def rows(dsn, query, time_zone):
    conn = psycopg2.connect(dsn, options=f"-c TimeZone={time_zone}")
    try:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(query)
            return {row["uuid"]: row for row in cur.fetchall()}
    finally:
        conn.close()


def at(seconds, microseconds=0):
    return WHEN + datetime.timedelta(seconds=seconds, microseconds=microseconds)


EDGE_CASES = [
    crash_doc(at(0)),
    crash_doc(at(1, 120000), client_crash_date=None, build="0123",
              frames=[{"function": ""}, {"module": "m"}, {"function": None},
                      {"function": "b::C"}, {"function": "a"}],
              extensions=[{"id": "z@x", "version": "1"}, {"id": "a@x", "version": "2"}],
              plugin={"name": "Flash", "filename": "NPSWF32.dll", "version": "11"}),
    crash_doc(at(2, 1), build="1234567890123456789", frames=None,
              signature='quote " back \\ tab \t nl \n ctl \x01 é 中 😀',
              user_comments="It broke\u2028", url="http://x/?a=1&b=<2>",
              started_datetime=None, success=False, uptime=None, extra_field={"k": [1, 2.5]}),
    crash_doc(datetime.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), build="１２３"),
    crash_doc(at(3), build="", frames=[]),
    crash_doc(at(4), build="123456789012345678", process_type="plugin", hangid="h1"),
]


@pytest.mark.parametrize("time_zone", ["UTC", "America/St_Johns", "Asia/Kathmandu"])
def test_postgresql_writes_the_documents_python_would(clean_db, time_zone):
    store(clean_db, EDGE_CASES)
    columns = rows(clean_db, COLUMNS_SQL, "UTC")
    built = rows(clean_db, CRASH_ROWS_SQL, time_zone)
    assert len(built) == len(EDGE_CASES)
    assert {uuid: to_document(row) for uuid, row in built.items()} == {
        uuid: expected_document(row) for uuid, row in columns.items()}
    odd = to_document(built[EDGE_CASES[1]["uuid"]])
    assert (odd["date_processed"], odd["client_crash_date"], odd["build_numeric"]) == (
        "2024-03-04T12:00:01.120000+00:00", None, 123)
    assert odd["frame_functions"] == ["b::C", "a"]
    assert [e["extension_id"] for e in odd["extensions"]] == ["z@x", "a@x"]
    assert to_document(built[EDGE_CASES[3]["uuid"]])["build_numeric"] is None


def test_bulk_lines_frame_the_document_as_postgresql_wrote_it(clean_db):
    store(clean_db, EDGE_CASES[:1])
    row = next(iter(rows(clean_db, CRASH_ROWS_SQL, "UTC").values()))
    action, source, end = bulk_lines(row, "p-", "week").split(b"\n")
    assert orjson.loads(action) == {"index": {"_index": "p-20240304", "_id": row["uuid"]}}
    assert (source.decode(), end) == (row["source"], b"")
