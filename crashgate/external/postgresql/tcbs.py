"""/crashes/signatures (top crashers) on PostgreSQL, from the ``tcbs`` and ``tcbs_weekly``
aggregates."""
import datetime
import math

from crashgate.external.postgresql.backend import PostgreSQLImplementation

COUNT_COLUMNS = {None: "report_count", "windows": "win_count", "mac": "mac_count",
                 "linux": "lin_count"}

COUNTED = "report_count, win_count, mac_count, lin_count, hang_count, startup_count"
PERIOD_SQL = """
    SELECT t.signature_id, sum(t.{count}) AS count,
           sum(t.win_count) AS win_count, sum(t.mac_count) AS mac_count,
           sum(t.lin_count) AS linux_count, sum(t.hang_count) AS hang_count,
           sum(t.startup_count) AS startup_count,
           coalesce(sum(t.report_count) FILTER (WHERE t.process_type = 'plugin'), 0) AS plugin_count,
           coalesce(sum(t.report_count) FILTER (WHERE t.process_type = 'content'), 0) AS content_count
      FROM ({rows}) t
     WHERE %(process_type)s::text IS NULL OR t.process_type = %(process_type)s
     GROUP BY t.signature_id
    HAVING sum(t.{count}) > 0
"""
# The rows of the product version in [start, end): tcbs by day or tcbs_weekly by week.
DAYS_SQL = f"""
    SELECT signature_id, process_type, {COUNTED} FROM tcbs
     WHERE product = %(product)s AND version = %(version)s
       AND report_date >= %({{start}})s AND report_date < %({{end}})s"""
WEEKS_SQL = f"""
    SELECT signature_id, process_type, {COUNTED} FROM tcbs_weekly
     WHERE product = %(product)s AND version = %(version)s
       AND week_start >= %({{start}})s AND week_start < %({{end}})s"""


def period_rows(name, start, end, params):
    """SQL of the aggregate rows of days [start, end): its whole Monday-to-Sunday weeks from
    tcbs_weekly, the days before and after them from tcbs (``params`` gets the bounds)."""
    first_monday = start + datetime.timedelta(days=-start.weekday() % 7)
    last_monday = end - datetime.timedelta(days=end.weekday())
    if first_monday >= last_monday:
        pieces = [(DAYS_SQL, start, end)]
    else:
        pieces = [(DAYS_SQL, start, first_monday), (WEEKS_SQL, first_monday, last_monday),
                  (DAYS_SQL, last_monday, end)]
    parts = []
    for number, (sql, low, high) in enumerate(pieces):
        if low < high or (not parts and number == len(pieces) - 1):  # never an empty union
            params[f"{name}{number}_start"], params[f"{name}{number}_end"] = low, high
            parts.append(sql.format(start=f"{name}{number}_start", end=f"{name}{number}_end"))
    return " UNION ALL ".join(parts)


TOP_CRASHERS_SQL = """
    WITH current_period AS ({current}),
         previous_period AS ({previous}),
         current_ranked AS (
            SELECT c.*, s.signature, s.first_report,
                   row_number() OVER (ORDER BY c.count DESC, s.signature COLLATE "C") - 1 AS rank,
                   c.count::float / sum(c.count) OVER () AS percent,
                   sum(c.count) OVER () AS period_total
              FROM current_period c JOIN signatures s USING (signature_id)),
         previous_ranked AS (
            SELECT p.signature_id,
                   row_number() OVER (ORDER BY p.count DESC, s.signature COLLATE "C") - 1 AS rank,
                   p.count::float / sum(p.count) OVER () AS percent
              FROM previous_period p JOIN signatures s USING (signature_id))
    SELECT c.*, p.rank AS previous_rank, p.percent AS previous_percent,
           (SELECT array_agg(sp.version ORDER BY sp.version COLLATE "C") FROM signature_products sp
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
        params = {"product": product, "version": version, "limit": limit,
                  "process_type": None if crash_type == "all" else crash_type}
        count = COUNT_COLUMNS[os]
        sql = TOP_CRASHERS_SQL.format(
            current=PERIOD_SQL.format(count=count,
                                      rows=period_rows("current", current_start, end, params)),
            previous=PERIOD_SQL.format(count=count, rows=period_rows(
                "previous", previous_start, current_start, params)))
        rows = self.pool.fetch_all(sql, params)
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
