"""/util/versions_info on PostgreSQL."""
from crashgate.external.postgresql.backend import PostgreSQLImplementation
from crashgate.external.postgresql.versions import versions_info


class VersionsInfo(PostgreSQLImplementation):
    def get(self, versions):
        if not versions:
            return None
        with self.pool.connection() as conn, conn.cursor() as cur:
            return versions_info(cur, versions)
