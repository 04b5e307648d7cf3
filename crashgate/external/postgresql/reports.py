"""/report/list, /search/crashes, /search/signatures, /signatureurls, /extensions."""
from crashgate.external.postgresql.backend import PostgreSQLImplementation
from crashgate.external.postgresql.report_filter import build_report_filter
from crashgate.services.search_filters import PLATFORMS

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
                             f"WHERE {query.where_sql} ORDER BY r.date_processed DESC, r.uuid",
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


class SearchSignatures(PostgreSQLImplementation):
    def get(self, result_number, result_offset, **filters):
        with self.pool.connection() as conn, self.pool.dict_cursor(conn) as cur:
            query = build_report_filter(cur, filters)
            per_os = ", ".join(
                f"count(*) FILTER (WHERE r.os_name = {query.bind(name)}) AS is_{platform}"
                for platform, name, _ in PLATFORMS)
            sql = (f"SELECT r.signature, count(*) AS count, {per_os},"
                   " count(*) FILTER (WHERE r.hangid IS NOT NULL) AS numhang,"
                   " count(*) FILTER (WHERE r.process_type = 'plugin') AS numplugin,"
                   " count(*) FILTER (WHERE r.process_type = 'content') AS numcontent,"
                   " count(*) OVER () AS total_signatures"
                   f" FROM {query.from_sql} WHERE {query.where_sql}"
                   " GROUP BY r.signature ORDER BY count DESC, r.signature")
            cur.execute(paged(sql, query, result_number, result_offset), query.params)
            rows = cur.fetchall()
            total = rows[0]["total_signatures"] if rows else self._count(cur, query)
            for row in rows:
                del row["total_signatures"]
            return {"hits": rows, "total": total}

    @staticmethod
    def _count(cur, query):
        """Distinct signatures when the page is past the end (window count unavailable)."""
        cur.execute(f"SELECT count(DISTINCT r.signature) AS n FROM {query.from_sql} "
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
     ORDER BY crash_count DESC, r.url
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
