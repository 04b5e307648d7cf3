"""Versioned schema: ``crashgate setupdb`` applies the numbered SQL files in ``migrations/``.

Each file runs once, in order, in its own transaction, recorded in ``schema_migrations``.
Running it again is a no-op, so it is safe at every start.
"""
import pathlib
import re

import psycopg2

MIGRATIONS_DIR = pathlib.Path(__file__).with_name("migrations")
_LOCK_KEY = 7_402_112  # advisory lock: one setupdb at a time


def migrations():
    """[(version, path)] of every migration file, in order."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = re.match(r"(\d+)_", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def setup_database(dsn):
    """Apply every pending migration; return the versions applied now."""
    applied_now = []
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in cur.fetchall()}
        for version, path in migrations():
            if version in done:
                continue
            with conn, conn.cursor() as cur:
                cur.execute(path.read_text())
                cur.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (version, path.name),
                )
            applied_now.append(version)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    finally:
        conn.close()
    return applied_now


def schema_version(cursor):
    cursor.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
    return cursor.fetchone()[0]
