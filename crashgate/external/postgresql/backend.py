"""The PostgreSQL backend: the connection pool shared by every PostgreSQL implementation."""
from crashgate.external.postgresql.pool import ConnectionPool


class PostgreSQLBackend:
    """Built once per process from the ``database`` configuration namespace."""

    name = "postgresql"

    def __init__(self, config):
        self.config = config
        db = config.database
        if not db.dsn:
            raise ValueError("database.dsn is empty: start the embedded database first "
                             "(crashgate.runtime.resolve_database)")
        self.pool = ConnectionPool.from_config(db)

    def health(self):
        rows = self.pool.fetch_all(
            "SELECT coalesce(max(version), 0) AS schema_version FROM schema_migrations")
        return {"schema_version": rows[0]["schema_version"]}

    def close(self):
        self.pool.close()


class PostgreSQLImplementation:
    """Base of the implementations: they run bound-parameter SQL on ``self.pool``."""

    def __init__(self, backend):
        self.pool = backend.pool
