"""Crash documents for Elasticsearch, built from the PostgreSQL rows (the source of truth)."""
import datetime

from crashgate.external.elasticsearch.indices import MAPPINGS, index_for

UTC = datetime.timezone.utc

CRASH_ROWS_SQL = """
    SELECT r.id AS report_id, r.uuid, r.date_processed, r.client_crash_date, r.product, r.version,
           r.build, r.release_channel, r.signature, r.reason, r.address, r.os_name, r.os_version,
           r.cpu_name, r.cpu_info, r.url, r.email, r.user_comments, r.app_notes, r.uptime,
           r.install_age, r.last_crash, r.hangid, r.process_type, r.frames, r.started_datetime,
           r.completed_datetime, r.success, r.processor_notes, r.duplicate_of, r.extra,
           p.name AS plugin_name, p.filename AS plugin_filename, pr.version AS plugin_version,
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

DATE_FIELDS = tuple(name for name, spec in MAPPINGS["properties"].items()
                    if spec.get("type") == "date")
COPIED_FIELDS = tuple(name for name in MAPPINGS["properties"]
                      if name not in DATE_FIELDS + ("frame_functions", "build_numeric"))


def to_document(row):
    """The Elasticsearch ``_source`` of one crash row (a dict from CRASH_ROWS_SQL)."""
    get = row.get
    doc = {name: get(name) for name in COPIED_FIELDS}
    for name in DATE_FIELDS:  # the only values JSON cannot carry as they are
        value = get(name)
        doc[name] = value if value is None else value.astimezone(UTC).isoformat()
    doc["frame_functions"] = [f["function"] for f in get("frames") or () if f.get("function")]
    build = get("build") or ""
    doc["build_numeric"] = int(build) if build.isascii() and build.isdigit() and len(build) <= 18 else None
    doc["extensions"] = get("extensions") or []
    return doc


def bulk_action(row, prefix, period):
    """An ``index`` action (idempotent: the document id is the crash uuid)."""
    return {"_op_type": "index", "_index": index_for(prefix, period, row["date_processed"]),
            "_id": row["uuid"], "_source": to_document(row)}
