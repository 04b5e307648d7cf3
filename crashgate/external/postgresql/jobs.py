"""/job and /priorityjobs on PostgreSQL."""
from crashgate.external.postgresql.backend import PostgreSQLImplementation

JOB_SQL = """
    SELECT id, pathname, uuid, owner, priority, queueddatetime, starteddatetime,
           completeddatetime, success, message
      FROM jobs WHERE uuid = %(uuid)s
"""


class Job(PostgreSQLImplementation):
    def get(self, uuid):
        hits = self.pool.fetch_all(JOB_SQL, {"uuid": uuid})
        return {"hits": hits, "total": len(hits)}


class Priorityjobs(PostgreSQLImplementation):
    def get(self, uuid):
        hits = self.pool.fetch_all("SELECT uuid FROM priorityjobs WHERE uuid = %(uuid)s",
                                   {"uuid": uuid})
        return {"hits": hits, "total": len(hits)}

    def post(self, uuid):
        """Queue ``uuid``: True when queued now, False when it already was (race-free)."""
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO priorityjobs (uuid) VALUES (%(uuid)s) "
                        "ON CONFLICT (uuid) DO NOTHING", {"uuid": uuid})
            return cur.rowcount == 1
