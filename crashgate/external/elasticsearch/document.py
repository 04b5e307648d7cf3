"""Crash documents for Elasticsearch, built from the PostgreSQL rows (the source of truth).

PostgreSQL writes each document's ``_source`` as JSON text itself (``json_build_object``), so
the indexer only frames it into the bulk request body: Python neither parses the rows' JSON
columns nor serialises documents. Dates are written as Python's ``isoformat()`` of the UTC
time (``2026-10-03T00:00:03+00:00``, microseconds only when not zero).
"""
import orjson

from crashgate.external.elasticsearch.indices import MAPPINGS, index_for


def _iso(column):
    """SQL: ``column`` (timestamptz) as ISO 8601 text in UTC, like ``datetime.isoformat()``."""
    return (f"replace(to_char({column} AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')")


# SQL expression of each document field (every field of the mapping, in its order).
_SPECIAL = {
    "report_id": "r.id",
    "build_numeric": "CASE WHEN r.build ~ '^[0-9]{1,18}$' THEN r.build::bigint END",
    "plugin_name": "p.name", "plugin_filename": "p.filename", "plugin_version": "pr.version",
    "extensions": """coalesce((
        SELECT json_agg(json_build_object('extension_key', e.extension_key,
                                          'extension_id', e.extension_id,
                                          'extension_version', e.extension_version)
                        ORDER BY e.extension_key)
          FROM extensions e
         WHERE e.uuid = r.uuid AND e.date_processed = r.date_processed), '[]')""",
    # the names of the frames that have one, in frame order
    "frame_functions": """coalesce(jsonb_path_query_array(
        r.frames, '$[*].function ? (@.type() == "string" && @ != "")'), '[]')""",
}
_FIELDS = {name: _iso(f"r.{name}") if spec.get("type") == "date" else
           _SPECIAL.get(name, f"r.{name}") for name, spec in MAPPINGS["properties"].items()}
_SOURCE = "json_build_object(" + ",\n".join(
    f"'{name}', {expression}" for name, expression in _FIELDS.items()) + ")::text"

# Rows of (uuid, date_processed, source): source is the document's JSON text.
CRASH_ROWS_SQL = f"""
    SELECT r.uuid, r.date_processed, {_SOURCE} AS source
      FROM reports r
      LEFT JOIN plugins_reports pr ON pr.uuid = r.uuid AND pr.date_processed = r.date_processed
      LEFT JOIN plugins p ON p.id = pr.plugin_id
"""

BY_KEYS_SQL = CRASH_ROWS_SQL + """
     WHERE (r.uuid, r.date_processed) IN (SELECT * FROM unnest(%(uuids)s::text[],
                                                               %(dates)s::timestamptz[]))
"""

# Keyset pagination over a date range, for reindexing.
BY_RANGE_SQL = CRASH_ROWS_SQL + """
     WHERE r.date_processed >= %(start)s AND r.date_processed < %(end)s
       AND (r.date_processed, r.uuid) > (%(after_date)s, %(after_uuid)s)
     ORDER BY r.date_processed, r.uuid
     LIMIT %(limit)s
"""


def to_document(row):
    """The Elasticsearch ``_source`` of one crash row (from CRASH_ROWS_SQL) as a dict."""
    return orjson.loads(row["source"])


def bulk_action(row, prefix, period):
    """An ``index`` action for the client's bulk helpers (idempotent: the document id is the
    crash uuid)."""
    return {"_op_type": "index", "_index": index_for(prefix, period, row["date_processed"]),
            "_id": row["uuid"], "_source": to_document(row)}


def bulk_lines(row, prefix, period):
    """The two NDJSON lines of the bulk request body indexing ``row`` (as ``bulk_action``)."""
    action = {"index": {"_index": index_for(prefix, period, row["date_processed"]),
                        "_id": row["uuid"]}}
    return b"%s\n%s\n" % (orjson.dumps(action), row["source"].encode())
