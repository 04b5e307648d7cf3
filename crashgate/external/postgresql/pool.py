"""A thread-safe psycopg2 connection pool that waits briefly when exhausted.

psycopg2's own ThreadedConnectionPool raises at once when exhausted and cannot recover from a
server restart by itself; this one queues callers first come, first served, for up to
``wait_seconds`` (``threading.Semaphore`` lets newcomers overtake a waiter, which then got a
503 under load while connections freed up every millisecond), connects lazily (so the gateway
starts while PostgreSQL is down and recovers when it returns), and throws away connections
that broke, or that the server closed while they were idle (a restart), before reuse. A
round trip the server leaves unanswered past its statement timeout plus
``deadline_margin_seconds`` (a frozen server) is cut by the client (``deadline.py``).
"""
import collections
import contextlib
import logging
import select
import threading

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from crashgate.errors import BackendTimeout, BackendUnavailable, BadRequest
from crashgate.external.postgresql.deadline import DeadlineWatch, WatchedConnection, WatchedCursor

log = logging.getLogger(__name__)
# SQLSTATEs of class 54 (program limit exceeded) that only the data a request sends can
# reach, our SQL being fixed: an index row or a row too big, a jsonb too big or nested too
# deep. The other class-54 states (too many columns or arguments) are bugs: a logged 500.
INPUT_LIMIT_STATES = {"54000", "54001"}


class ConnectionPool:
    """Hands out one connection per ``with pool.connection() as conn`` block."""

    def __init__(self, dsn, max_connections=8, wait_seconds=2.0, statement_timeout_ms=10000,
                 connect_timeout_seconds=3, application_name="crashgate",
                 deadline_margin_seconds=2.0):
        self.dsn = dsn
        self.max_connections = max_connections
        self.wait_seconds = wait_seconds
        self.statement_timeout_ms = statement_timeout_ms
        self.connect_timeout_seconds = connect_timeout_seconds
        self.application_name = application_name
        # no deadline when the margin is 0 (or None): a frozen server then hangs the caller
        self.deadline_seconds = (statement_timeout_ms / 1000 + deadline_margin_seconds
                                 if deadline_margin_seconds else None)
        self._watch = DeadlineWatch(self.deadline_seconds) if self.deadline_seconds else None
        self._slots = FairSlots(max_connections)
        self._idle = []
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, database, **overrides):
        """A pool with the options of the ``database`` configuration namespace."""
        options = dict(max_connections=database.max_connections,
                       wait_seconds=database.pool_wait_seconds,
                       statement_timeout_ms=database.statement_timeout_ms,
                       connect_timeout_seconds=database.connect_timeout_seconds,
                       deadline_margin_seconds=database.deadline_margin_seconds)
        return cls(database.dsn, **{**options, **overrides})

    def _connect(self):
        options = f"-c statement_timeout={int(self.statement_timeout_ms)} -c TimeZone=UTC"
        try:
            conn = psycopg2.connect(
                self.dsn,
                connect_timeout=self.connect_timeout_seconds,
                application_name=self.application_name,
                options=options,
                connection_factory=WatchedConnection,
            )
        except psycopg2.OperationalError as exc:
            raise BackendUnavailable(f"PostgreSQL is unavailable: {first_line(exc)}") from exc
        if self._watch:
            self._watch.add(conn)
        return conn

    @contextlib.contextmanager
    def connection(self):
        """Yield a connection inside a transaction: committed on success, rolled back on error.

        psycopg2 errors are translated: query cancelled by the statement timeout, or no answer
        within the client-side deadline -> BackendTimeout (504); lost connection or server
        down -> BackendUnavailable (503); a program limit reached by the request's data
        (class 54: index row too big, too deeply nested) -> BadRequest (400).
        """
        if not self._slots.acquire(self.wait_seconds):
            raise BackendUnavailable(
                f"PostgreSQL connection pool exhausted ({self.max_connections} connections "
                f"busy for {self.wait_seconds}s)"
            )
        conn = None
        try:
            conn = self._take_idle() or self._connect()
            try:
                yield conn
                conn.commit()
            except BaseException:
                self._rollback_quietly(conn)
                raise
        except psycopg2.errors.QueryCanceled as exc:
            raise BackendTimeout(
                f"PostgreSQL query exceeded the statement timeout "
                f"({self.statement_timeout_ms} ms)"
            ) from exc
        except (psycopg2.errors.ProgramLimitExceeded, psycopg2.errors.StatementTooComplex,
                psycopg2.errors.TooManyColumns, psycopg2.errors.TooManyArguments) as exc:
            if exc.pgcode not in INPUT_LIMIT_STATES:
                raise  # our SQL is at fault: the middleware logs it as a 500
            log.warning("request data exceeds a PostgreSQL limit (SQLSTATE %s): %s",
                        exc.pgcode, first_line(exc))
            raise BadRequest(f"The data sent exceeds a database limit: {first_line(exc)}; "
                             f"send shorter or less deeply nested values",
                             sqlstate=exc.pgcode) from exc
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            expired = conn is not None and conn.deadline_expired
            self._discard(conn)
            conn = None
            if expired:
                raise BackendTimeout(
                    f"PostgreSQL did not answer within {self.deadline_seconds:g} s (statement "
                    f"timeout + deadline margin): the server is frozen or overloaded") from exc
            raise BackendUnavailable(f"PostgreSQL is unavailable: {first_line(exc)}") from exc
        finally:
            if conn is not None:
                self._give_back(conn)
            self._slots.release()

    def state(self):
        """``{"max": .., "in_use": .., "idle": .., "waiting": ..}``: slots taken, open
        connections idle in the pool, callers queued (a leak shows as ``in_use`` > 0 when no
        request runs)."""
        in_use, waiting = self._slots.state()
        with self._lock:
            return {"max": self.max_connections, "in_use": in_use, "idle": len(self._idle),
                    "waiting": waiting}

    def _take_idle(self):
        """The most recently used idle connection still open; dead ones are closed."""
        while True:
            with self._lock:
                if not self._idle:
                    return None
                conn = self._idle.pop()
            if _still_open(conn):
                return conn
            self._discard(conn)

    def _give_back(self, conn):
        if conn.closed or conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            self._discard(conn)
            return
        with self._lock:
            self._idle.append(conn)

    @staticmethod
    def _rollback_quietly(conn):
        try:
            conn.rollback()
        except psycopg2.Error:
            pass

    def _discard(self, conn):
        if conn is not None:
            if self._watch:
                self._watch.remove(conn)
            try:
                conn.close()
            except psycopg2.Error:
                pass

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            self._discard(conn)
        if self._watch:
            self._watch.stop()

    # -- convenience helpers for implementations ---------------------------------------------
    @staticmethod
    def dict_cursor(conn):
        """A cursor returning rows as dicts."""
        return conn.cursor(cursor_factory=DictRowCursor)

    def fetch_all(self, sql, params=None):
        """Run one bound-parameter query and return its rows as dicts."""
        with self.connection() as conn, self.dict_cursor(conn) as cur:
            cur.execute(sql, params)
            return cur.fetchall()


class FairSlots:
    """A counting semaphore whose waiters are served in arrival order: a released slot goes
    to the longest waiter directly, so nobody waits longer than the requests ahead of it."""

    def __init__(self, count):
        self._count = self._free = count
        self._waiters = collections.deque()  # threading.Event per waiting caller
        self._lock = threading.Lock()

    def acquire(self, timeout):
        """Take a slot within ``timeout`` seconds; False if none came."""
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            waiter = threading.Event()
            self._waiters.append(waiter)
        if waiter.wait(timeout):
            return True
        with self._lock:
            if waiter.is_set():  # handed a slot while timing out
                return True
            self._waiters.remove(waiter)
            return False

    def release(self):
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # the slot stays taken, by its next holder
            else:
                self._free += 1

    def state(self):
        """``(taken, waiting)``."""
        with self._lock:
            return self._count - self._free, len(self._waiters)


class DictRowCursor(WatchedCursor):
    """Rows as plain dicts keyed by column name, built by ``dict(zip(...))`` in C.

    psycopg2's RealDictCursor sets each value through a Python ``__setitem__``: about 25x
    slower per row (a 100-row report page: ~2,400 calls)."""

    def fetchone(self):
        row = super().fetchone()
        return None if row is None else dict_rows(self, (row,))[0]

    def fetchmany(self, size=None):
        # the names after the fetch: a named cursor learns them from its FETCH
        return dict_rows(self, super().fetchmany(self.arraysize if size is None else size))

    def fetchall(self):
        return dict_rows(self, super().fetchall())

    def __iter__(self):
        return iter(self.fetchall())


def dict_rows(cursor, rows):
    """``rows`` fetched by ``cursor`` as dicts keyed by column name."""
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row)) for row in rows]


def _still_open(conn):
    """Whether an idle connection can be used: the server sends nothing to an idle session
    unless it is ending it (a termination notice on shutdown, then end of file), so a
    readable socket means the connection is dead. One non-blocking poll, no round trip."""
    if conn.closed:
        return False
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return not poller.poll(0)


def first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
