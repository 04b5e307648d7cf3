"""Weekly partitions of the crash tables, created on demand as data arrives.

A partition covers [Monday 00:00 UTC, next Monday 00:00 UTC) and is named
``<table>_YYYYMMDD`` after its Monday.
"""
import datetime

from psycopg2 import sql

PARTITIONED_TABLES = ("reports", "extensions", "plugins_reports")
_LOCK_KEY = 7_402_113  # advisory lock serialising partition creation across loaders


def week_start(moment):
    """The Monday 00:00 UTC that starts the week of ``moment`` (a date or aware datetime)."""
    if isinstance(moment, datetime.datetime):
        moment = moment.astimezone(datetime.timezone.utc).date()
    return moment - datetime.timedelta(days=moment.weekday())


def ensure_partitions(cursor, moments):
    """Create every missing weekly partition needed to store rows dated ``moments``."""
    weeks = sorted({week_start(m) for m in moments})
    if not weeks:
        return
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(%s)",
        (list(PARTITIONED_TABLES),),
    )
    existing = {row[0] for row in cursor.fetchall()}
    missing = [(t, w) for w in weeks for t in PARTITIONED_TABLES
               if f"{t}_{w:%Y%m%d}" not in existing]
    if not missing:
        return
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    for table, monday in missing:
        start = datetime.datetime.combine(monday, datetime.time(), datetime.timezone.utc)
        cursor.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {part} PARTITION OF {parent} "
                "FOR VALUES FROM (%s) TO (%s)"
            ).format(part=sql.Identifier(f"{table}_{monday:%Y%m%d}"), parent=sql.Identifier(table)),
            (start, start + datetime.timedelta(days=7)),
        )
