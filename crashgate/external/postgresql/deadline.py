"""A client-side deadline on PostgreSQL round trips, for a server that stopped answering.

A frozen server (its processes stopped, a hung host behind a live kernel) keeps the socket
open and its kernel acknowledges what we send, but nothing answers: the server's
``statement_timeout`` cannot fire and libpq would wait forever. Every round trip of a watched
connection (execute, COPY, commit, a named cursor's FETCH...) stamps its start on the
connection; one watchdog thread per pool shuts down the socket of a round trip older than the
deadline, which makes the blocked libpq call fail at once, and marks the connection
``deadline_expired`` so the pool reports a timeout and throws it away. Connecting is bounded
by libpq's ``connect_timeout``; LISTEN waits in the caller's own ``select`` are not watched.
Every statement is bounded by the pool's ``statement_timeout``, so a round trip past it plus a
margin is not a slow query (a session must not raise its own ``statement_timeout``).

Why not ``psycopg2.extensions.set_wait_callback`` with a timed ``select``: the callback is
process-wide and disables COPY (``copy_expert`` raises in that "green" mode) for every
connection, and it cost about 20 µs of CPU per query against about 1 µs for the stamps.
"""
import os
import socket
import threading
import time
import weakref

import psycopg2.extensions

monotonic = time.monotonic
_connection, _cursor = psycopg2.extensions.connection, psycopg2.extensions.cursor


class WatchedConnection(_connection):
    """A connection whose round trips carry a start stamp, ``waiting_since`` (None between
    them); every cursor it makes stamps too, whatever its factory. Created by
    ``psycopg2.connect(..., connection_factory=WatchedConnection)``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.waiting_since = None
        self.deadline_expired = False
        # our own descriptor of the socket: shutting it down never hits a reused number
        self.deadline_socket = socket.socket(fileno=os.dup(self.fileno()))

    def cursor(self, name=None, cursor_factory=None, withhold=False, scrollable=None):
        if name is None and cursor_factory is None:
            return _connection.cursor(self, None, WatchedCursor)
        return _connection.cursor(self, name, watched_factory(cursor_factory, name is not None),
                                  withhold, scrollable)

    def round_trip(self, method, *args):
        """``method(*args)`` stamped as one round trip."""
        self.waiting_since = monotonic()
        try:
            return method(*args)
        finally:
            self.waiting_since = None

    def commit(self):
        self.waiting_since = monotonic()
        try:
            return _connection.commit(self)
        finally:
            self.waiting_since = None

    def rollback(self):
        return self.round_trip(super().rollback)

    def close(self):
        super().close()
        self.deadline_socket.close()


class WatchedCursor(_cursor):
    """A cursor stamping the calls that send a statement on its connection."""

    def execute(self, query, vars=None):
        conn = self.connection
        conn.waiting_since = monotonic()
        try:
            return _cursor.execute(self, query, vars)
        finally:
            conn.waiting_since = None

    def executemany(self, query, vars_list):
        return self.connection.round_trip(super().executemany, query, vars_list)

    def callproc(self, procname, parameters=None):
        return self.connection.round_trip(super().callproc, procname, parameters)

    def copy_expert(self, sql, file, size=8192):
        return self.connection.round_trip(super().copy_expert, sql, file, size)

    def copy_from(self, *args, **kwargs):
        return self.connection.round_trip(lambda: super(WatchedCursor, self).copy_from(
            *args, **kwargs))

    def copy_to(self, *args, **kwargs):
        return self.connection.round_trip(lambda: super(WatchedCursor, self).copy_to(
            *args, **kwargs))


class NamedRoundTrips:
    """Mixed into the cursor class of a named (server-side) cursor, whose fetches, scrolls
    and close are round trips too (a client-side cursor holds its rows: not stamped)."""

    def fetchone(self):
        return self.connection.round_trip(super().fetchone)

    def fetchmany(self, size=None):
        return self.connection.round_trip(super().fetchmany,
                                          self.arraysize if size is None else size)

    def fetchall(self):
        return self.connection.round_trip(super().fetchall)

    def scroll(self, value, mode="relative"):
        return self.connection.round_trip(super().scroll, value, mode)

    def __iter__(self):
        """Rows, ``itersize`` per stamped FETCH."""
        while True:
            rows = self.fetchmany(self.itersize)
            yield from rows
            if len(rows) < self.itersize:
                return

    def close(self):
        if self.closed or self.connection.closed:
            return super().close()
        return self.connection.round_trip(super().close)  # CLOSE on the server


_factories = {}


def watched_factory(factory, named):
    """The cursor class of ``factory`` (None: the default) with the stamps a cursor needs."""
    key = (factory, named)
    watched = _factories.get(key)
    if watched is None:
        watched = factory or WatchedCursor
        if issubclass(WatchedCursor, watched):  # psycopg2's own cursor, which ours extends
            watched = WatchedCursor
        elif not issubclass(watched, WatchedCursor):  # its methods first, ours next to C's
            watched = type(f"Watched{watched.__name__}", (watched, WatchedCursor), {})
        if named:
            watched = type(f"Named{watched.__name__}", (NamedRoundTrips, watched), {})
        watched = _factories.setdefault(key, watched)
    return watched


class DeadlineWatch:
    """Watches the open connections of one pool; a round trip older than ``seconds`` gets
    its socket shut down (checked every ``tick`` seconds by a daemon thread started with
    the first connection, and again in a forked child; it ends when the watch is dropped)."""

    def __init__(self, seconds, tick=None):
        self.seconds = seconds
        self.tick = tick if tick is not None else min(0.25, seconds / 8)
        self.expired = 0  # round trips cut so far
        self._connections = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread_pid = None  # the process whose watchdog thread runs
        _watches.add(self)

    def add(self, conn):
        with self._lock:
            self._connections.add(conn)
            if self._thread_pid != os.getpid():
                self._thread_pid, self._stopped = os.getpid(), threading.Event()
                threading.Thread(target=_watch_loop, args=(weakref.ref(self), self._stopped,
                                                           self.tick),
                                 name="crashgate-pg-deadline", daemon=True).start()

    def remove(self, conn):
        """Forget ``conn`` before closing it (the watchdog never touches a closed socket)."""
        with self._lock:
            self._connections.discard(conn)

    def stop(self):
        """End the watchdog thread (the next ``add`` starts another)."""
        with self._lock:
            self._stopped.set()
            self._thread_pid = None

    def cut_expired(self):
        """Shut down the socket of every round trip past the deadline; how many."""
        limit = monotonic() - self.seconds
        cut = 0
        with self._lock:
            for conn in self._connections:
                since = conn.waiting_since
                if since is not None and since < limit and not conn.deadline_expired:
                    conn.deadline_expired = True
                    try:
                        conn.deadline_socket.shutdown(socket.SHUT_RDWR)
                    except OSError:  # already closed by the server
                        pass
                    cut += 1
        self.expired += cut
        return cut


_watches = weakref.WeakSet()


def _reset_after_fork():
    """A forked child has no watchdog thread, and a lock it held at the fork stays held."""
    for watch in list(_watches):
        watch._lock, watch._thread_pid = threading.Lock(), None


os.register_at_fork(after_in_child=_reset_after_fork)


def _watch_loop(watch_ref, stopped, tick):
    while not stopped.wait(tick):
        watch = watch_ref()
        if watch is None:
            return
        watch.cut_expired()
        del watch
