"""/report/list, /search/crashes, /search/signatures, /signatureurls, /extensions."""
from crashgate.external.postgresql.backend import PostgreSQLImplementation
from crashgate.external.postgresql.report_filter import (SIGNATURE_DAILY, SIGNATURE_DAILY_TOTALS,
                                                         build_report_filter)
from crashgate.services.search_filters import PLATFORMS

SIGNATURE_COUNTS = tuple(f"is_{platform}" for platform, _, _ in PLATFORMS) + (
    "numhang", "numplugin", "numcontent")

REPORT_COLUMNS = """
    r.uuid, r.date_processed, r.client_crash_date, r.product, r.version, r.build,
    r.release_channel, r.signature, r.reason, r.address, r.os_name, r.os_version, r.cpu_name,
    r.cpu_info, r.url, r.user_comments, r.uptime, r.install_age, r.last_crash, r.hangid,
    r.process_type, r.duplicate_of,
    r.client_crash_date - make_interval(secs => r.install_age) AS install_time
"""


def paged(sql, query, number, offset):
    """``sql`` with LIMIT/OFFSET bound (``number`` None = no limit)."""
    if number is not None:
        sql += f" LIMIT {query.bind(number)}"
    return sql + f" OFFSET {query.bind(offset)}"


def list_reports(cursor, query, number, offset):
    """{'hits': crash rows newest first, 'total': true count} for a built filter."""
    cursor.execute(f"SELECT count(*) AS total FROM {query.from_sql} WHERE {query.where_sql}",
                   query.params)
    total = cursor.fetchone()["total"]
    hits = []
    if total and number != 0:
        cursor.execute(paged(f"SELECT {REPORT_COLUMNS} FROM {query.from_sql} "
                             f"WHERE {query.where_sql}"
                             ' ORDER BY r.date_processed DESC, r.uuid COLLATE "C"',
                             query, number, offset), query.params)
        hits = cursor.fetchall()
    return {"hits": hits, "total": total}


def search_filters(params):
    """The coerced parameters without the ones that are not filters."""
    return {k: v for k, v in params.items() if k not in ("result_number", "result_offset")}


class ReportList(PostgreSQLImplementation):
    def get(self, signature, result_number, result_offset, **filters):
        with self.pool.connection() as conn, self.pool.dict_cursor(conn) as cur:
            query = build_report_filter(cur, filters, signature=signature)
            return list_reports(cur, query, result_number, result_offset)


class SearchCrashes(PostgreSQLImplementation):
    def get(self, result_number, result_offset, **filters):
        with self.pool.connection() as conn, self.pool.dict_cursor(conn) as cur:
            query = build_report_filter(cur, filters)
            return list_reports(cur, query, result_number, result_offset)


# signature_daily_totals columns of the counts of /search/signatures
TOTALS_COLUMNS = {"count": "report_count", "is_windows": "win_count", "is_mac": "mac_count",
                  "is_linux": "lin_count", "numhang": "hang_count", "numplugin": "plugin_count",
                  "numcontent": "content_count"}


def signature_counts(query):
    """(filter, group key, count columns) from the smallest source that answers ``query``:
    ``signature_daily_totals`` (dates only), ``signature_daily``, else the crashes."""
    totals = query.on_aggregate(SIGNATURE_DAILY_TOTALS)
    if totals:
        return totals, "r.signature_id", [f"sum(r.{column}) AS {name}"
                                          for name, column in TOTALS_COLUMNS.items()]
    daily = query.on_aggregate(SIGNATURE_DAILY)
    if daily:
        query, key, counted = daily, "r.signature_id", "sum(r.report_count)"
    else:
        key, counted = "r.signature", "count(*)"
    conditions = [*((f"is_{platform}", f"r.os_name = {query.bind(os)}")
                    for platform, os, _ in PLATFORMS),
                  ("numhang", "r.hangid IS NOT NULL"),
                  ("numplugin", "r.process_type = 'plugin'"),
                  ("numcontent", "r.process_type = 'content'")]
    return query, key, [f"{counted} AS count"] + [
        f"coalesce({counted} FILTER (WHERE {condition}), 0) AS {name}"
        for name, condition in conditions]


class SearchSignatures(PostgreSQLImplementation):
    """Per-signature counts, from the aggregates when the filters allow it."""

    def get(self, result_number, result_offset, **filters):
        with self.pool.connection() as conn, self.pool.dict_cursor(conn) as cur:
            query, key, counts = signature_counts(build_report_filter(cur, filters))
            daily = key == "r.signature_id"
            grouped = (f"SELECT {key} AS key, {', '.join(counts)}"
                       f" FROM {query.from_sql} WHERE {query.where_sql} GROUP BY {key}")
            signature = "s.signature" if daily else "g.key"
            join = " JOIN signatures s ON s.signature_id = g.key" if daily else ""
            sql = (f"SELECT {signature} AS signature, g.count, "
                   + ", ".join(f"g.{name}" for name in SIGNATURE_COUNTS)
                   + f", count(*) OVER () AS total_signatures FROM ({grouped}) g{join}"
                   f' ORDER BY g.count DESC, {signature} COLLATE "C"')
            cur.execute(paged(sql, query, result_number, result_offset), query.params)
            rows = cur.fetchall()
            total = rows[0]["total_signatures"] if rows else self._count(cur, query, key)
            for row in rows:
                del row["total_signatures"]
            return {"hits": rows, "total": total}

    @staticmethod
    def _count(cur, query, key):
        """Distinct signatures when the page is past the end (window count unavailable)."""
        cur.execute(f"SELECT count(DISTINCT {key}) AS n FROM {query.from_sql} "
                    f"WHERE {query.where_sql}", query.params)
        return cur.fetchone()["n"]


SIGNATURE_URLS_SQL = """
    SELECT r.url, count(*) AS crash_count
      FROM reports r
     WHERE r.signature = %(signature)s
       AND r.date_processed >= %(start_date)s AND r.date_processed < %(end_date)s
       AND r.url IS NOT NULL AND r.url <> ''
       AND (%(products)s::text[] IS NULL OR r.product = ANY(%(products)s::text[]))
       AND (%(version_products)s::text[] IS NULL
            OR (r.product, r.version) IN (SELECT * FROM unnest(%(version_products)s::text[],
                                                               %(version_strings)s::text[])))
     GROUP BY r.url
     ORDER BY crash_count DESC, r.url COLLATE "C"
     LIMIT 100
"""


class SignatureURLs(PostgreSQLImplementation):
    def get(self, signature, start_date, end_date, products, versions):
        hits = self.pool.fetch_all(SIGNATURE_URLS_SQL, {
            "signature": signature, "start_date": start_date, "end_date": end_date,
            "products": products,
            "version_products": [p for p, _ in versions] if versions else None,
            "version_strings": [v for _, v in versions] if versions else None})
        return {"hits": hits, "total": len(hits)}


EXTENSIONS_SQL = """
    SELECT report_id, date_processed, extension_key, extension_id, extension_version
      FROM extensions
     WHERE uuid = %(uuid)s AND date_processed = %(date)s
     ORDER BY extension_key
"""


class Extensions(PostgreSQLImplementation):
    def get(self, uuid, date):
        hits = self.pool.fetch_all(EXTENSIONS_SQL, {"uuid": uuid, "date": date})
        return {"hits": hits, "total": len(hits)}
