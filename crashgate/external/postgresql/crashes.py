"""/crashes/comments, /crashes/frequency, /crashes/paireduuid on PostgreSQL."""
import datetime

from crashgate.external.postgresql.backend import PostgreSQLImplementation
from crashgate.external.postgresql.report_filter import CRASH_DAILY, build_report_filter
from crashgate.external.postgresql.reports import paged
from crashgate.services.search_filters import PLATFORMS


class CrashesComments(PostgreSQLImplementation):
    def get(self, signature, result_number, result_offset, **filters):
        if signature is None:
            return None
        with self.pool.connection() as conn, self.pool.dict_cursor(conn) as cur:
            query = build_report_filter(cur, filters, signature=signature)
            query.add("r.user_comments IS NOT NULL AND r.user_comments <> ''")
            cur.execute(f"SELECT count(*) AS total FROM {query.from_sql} WHERE {query.where_sql}",
                        query.params)
            total = cur.fetchone()["total"]
            hits = []
            if total and result_number != 0:
                cur.execute(paged(
                    "SELECT r.date_processed, r.user_comments, r.uuid, NULLIF(r.email, '') AS email"
                    f" FROM {query.from_sql} WHERE {query.where_sql}"
                    ' ORDER BY r.date_processed DESC, r.uuid COLLATE "C"',
                    query, result_number, result_offset), query.params)
                hits = cur.fetchall()
            return {"hits": hits, "total": total}


class CrashesFrequency(PostgreSQLImplementation):
    """Per build: crashes with the signature (scanned by signature) against all crashes of the
    build matching the filters, counted in ``crash_daily`` when the filters allow it."""

    def get(self, signature, **filters):
        with self.pool.connection() as conn, self.pool.dict_cursor(conn) as cur:
            query = build_report_filter(cur, filters)
            daily = query.on_aggregate(CRASH_DAILY)
            totals_from = daily.from_sql if daily else query.from_sql
            counted = "sum(r.report_count)" if daily else "count(*)"
            sig = query.bind(signature)
            count_columns, total_columns = ["count(*) AS count"], [f"{counted} AS total"]
            for platform, name, _ in PLATFORMS:
                on_os = f"r.os_name = {query.bind(name)}"
                count_columns.append(f"count(*) FILTER (WHERE {on_os}) AS count_{platform}")
                total_columns.append(
                    f"coalesce({counted} FILTER (WHERE {on_os}), 0) AS total_{platform}")
            cur.execute(
                f"WITH counts AS (SELECT r.build, {', '.join(count_columns)}"
                f"  FROM {query.from_sql} WHERE {query.where_sql} AND r.signature = {sig}"
                "   AND r.build IS NOT NULL GROUP BY r.build),"
                f" totals AS (SELECT r.build, {', '.join(total_columns)}"
                f"  FROM {totals_from} WHERE {query.where_sql}"
                "   AND r.build IN (SELECT build FROM counts) GROUP BY r.build)"
                " SELECT build AS build_date, * FROM counts c JOIN totals t USING (build)"
                ' ORDER BY c.build COLLATE "C" DESC', query.params)
            hits = [with_frequencies(row) for row in cur.fetchall()]
            return {"hits": hits, "total": len(hits)}


def with_frequencies(row):
    """A frequency hit from per-build counts (count, total, count_<os>, total_<os>)."""
    hit = {"build_date": row["build_date"], "count": row["count"], "total": row["total"],
           "frequency": _ratio(row["count"], row["total"])}
    for platform, _, _ in PLATFORMS:
        count, total = row[f"count_{platform}"], row[f"total_{platform}"]
        hit[f"count_{platform}"] = count
        hit[f"frequency_{platform}"] = _ratio(count, total)
    return hit


def _ratio(part, whole):
    return part / whole if whole else 0.0


PAIRED_SQL = """
    SELECT r.uuid FROM reports r
     WHERE r.hangid = %(hangid)s AND r.uuid <> %(uuid)s
       AND r.date_processed >= %(start)s AND r.date_processed < %(end)s
     ORDER BY r.date_processed, r.uuid COLLATE "C"
"""


class CrashesPaireduuid(PostgreSQLImplementation):
    """The other crashes of a hang: same hangid, processed within a day of this one."""

    def get(self, uuid, hangid):
        with self.pool.connection() as conn, self.pool.dict_cursor(conn) as cur:
            cur.execute("SELECT c.date_processed, r.hangid FROM crash_ids c "
                        "JOIN reports r ON r.uuid = c.uuid AND r.date_processed = c.date_processed "
                        "WHERE c.uuid = %(uuid)s", {"uuid": uuid})
            crash = cur.fetchone()
            moment = crash["date_processed"] if crash else date_in_uuid(uuid)
            pair_hangid = hangid or (crash["hangid"] if crash else None)
            if moment is None or not pair_hangid:
                return {"hits": [], "total": 0}
            day = datetime.timedelta(days=1)
            # With an explicit hangid the spec promises at most one result.
            cur.execute(PAIRED_SQL + (" LIMIT 1" if hangid else ""),
                        {"uuid": uuid, "hangid": pair_hangid,
                         "start": moment - day, "end": moment + day})
            hits = cur.fetchall()
            return {"hits": hits, "total": len(hits)}


def date_in_uuid(uuid):
    """Socorro crash ids end with the submission date YYMMDD."""
    try:
        day = datetime.datetime.strptime(uuid[-6:], "%y%m%d")
    except ValueError:
        return None
    return day.replace(tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=12)
