"""/crashes/signatures (top crashers) on PostgreSQL, from the daily ``tcbs`` aggregate."""
import datetime
import math

from crashgate.external.postgresql.backend import PostgreSQLImplementation

COUNT_COLUMNS = {None: "report_count", "windows": "win_count", "mac": "mac_count",
                 "linux": "lin_count"}

PERIOD_SQL = """
    SELECT t.signature_id, sum(t.{count}) AS count,
           sum(t.win_count) AS win_count, sum(t.mac_count) AS mac_count,
           sum(t.lin_count) AS linux_count, sum(t.hang_count) AS hang_count,
           sum(t.startup_count) AS startup_count,
           coalesce(sum(t.report_count) FILTER (WHERE t.process_type = 'plugin'), 0) AS plugin_count,
           coalesce(sum(t.report_count) FILTER (WHERE t.process_type = 'content'), 0) AS content_count
      FROM tcbs t
     WHERE t.product = %(product)s AND t.version = %(version)s
       AND t.report_date >= %({start})s AND t.report_date < %({end})s
       AND (%(process_type)s::text IS NULL OR t.process_type = %(process_type)s)
     GROUP BY t.signature_id
    HAVING sum(t.{count}) > 0
"""

TOP_CRASHERS_SQL = """
    WITH current_period AS ({current}),
         previous_period AS ({previous}),
         current_ranked AS (
            SELECT c.*, s.signature, s.first_report,
                   row_number() OVER (ORDER BY c.count DESC, s.signature) - 1 AS rank,
                   c.count::float / sum(c.count) OVER () AS percent,
                   sum(c.count) OVER () AS period_total
              FROM current_period c JOIN signatures s USING (signature_id)),
         previous_ranked AS (
            SELECT p.signature_id,
                   row_number() OVER (ORDER BY p.count DESC, s.signature) - 1 AS rank,
                   p.count::float / sum(p.count) OVER () AS percent
              FROM previous_period p JOIN signatures s USING (signature_id))
    SELECT c.*, p.rank AS previous_rank, p.percent AS previous_percent,
           (SELECT array_agg(sp.version ORDER BY sp.version) FROM signature_products sp
             WHERE sp.signature_id = c.signature_id AND sp.product = %(product)s) AS versions
      FROM current_ranked c LEFT JOIN previous_ranked p USING (signature_id)
     ORDER BY c.rank
     LIMIT %(limit)s
"""


def period_days(end_date, duration_hours):
    """(first day of previous period, first day of current period, day after the end)."""
    end = end_date.date()
    if end_date.timetz().replace(tzinfo=None) != datetime.time():
        end += datetime.timedelta(days=1)
    days = datetime.timedelta(days=math.ceil(duration_hours / 24))
    return end - 2 * days, end - days, end


class CrashesSignatures(PostgreSQLImplementation):
    def get(self, product, version, crash_type, end_date, duration, os, limit):
        previous_start, current_start, end = period_days(end_date, duration)
        count = COUNT_COLUMNS[os]
        period = lambda start, stop: PERIOD_SQL.format(count=count, start=start, end=stop)  # noqa: E731
        sql = TOP_CRASHERS_SQL.format(current=period("current_start", "end"),
                                      previous=period("previous_start", "current_start"))
        rows = self.pool.fetch_all(sql, {
            "product": product, "version": version, "limit": limit,
            "process_type": None if crash_type == "all" else crash_type,
            "previous_start": previous_start, "current_start": current_start, "end": end})
        crashes = [crasher_row(row) for row in rows]
        return {
            "crashes": crashes,
            "start_date": midnight(current_start),
            "end_date": midnight(end),
            "totalNumberOfCrashes": int(rows[0]["period_total"]) if rows else 0,
            "totalPercentage": sum(c["percentOfTotal"] for c in crashes),
        }


def crasher_row(row):
    new = row["previous_rank"] is None
    versions = row["versions"] or []
    return {
        "signature": row["signature"],
        "count": int(row["count"]),
        "win_count": int(row["win_count"]),
        "mac_count": int(row["mac_count"]),
        "linux_count": int(row["linux_count"]),
        "hang_count": int(row["hang_count"]),
        "plugin_count": int(row["plugin_count"]),
        "content_count": int(row["content_count"]),
        "startup_percent": int(row["startup_count"]) / int(row["count"]),
        "percentOfTotal": row["percent"],
        "currentRank": row["rank"],
        "previousRank": None if new else row["previous_rank"],
        "previousPercentOfTotal": None if new else row["previous_percent"],
        "changeInRank": "new" if new else row["previous_rank"] - row["rank"],
        "changeInPercentOfTotal": "new" if new else row["percent"] - row["previous_percent"],
        "first_report_exact": row["first_report"],
        "first_report": row["first_report"].date() if row["first_report"] else None,
        "versions": ", ".join(versions),
        "versions_count": len(versions),
    }


def midnight(day):
    return datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc)
