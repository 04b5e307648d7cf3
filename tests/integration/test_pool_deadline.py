"""The client-side deadline counts per round trip, not per pooled-connection block, and every
kind of round trip (statements, batches, COPY, named cursors, any cursor factory) works on
the watched connections and is stamped while it waits for the server."""
import io
import threading
import time

import psycopg2.extras
import pytest

from crashgate.external.postgresql.deadline import WatchedCursor
from crashgate.external.postgresql.pool import ConnectionPool, DictRowCursor
from tests.faults import poll


def test_a_block_longer_than_the_deadline_is_not_cut(pg_dsn):
    pool = ConnectionPool(pg_dsn, statement_timeout_ms=600, deadline_margin_seconds=0.3)
    assert pool.deadline_seconds == pytest.approx(0.9)
    started = time.monotonic()
    with pool.connection() as conn, conn.cursor() as cur:
        for _ in range(3):
            cur.execute("SELECT pg_sleep(0.4)")  # each round trip within the deadline
        time.sleep(1.0)  # the caller computing, idle in transaction: no round trip
        cur.execute("SELECT 1")
        assert cur.fetchall() == [(1,)]
    assert time.monotonic() - started > 2 * pool.deadline_seconds
    assert pool._watch.expired == 0
    assert pool.state() == {"max": 8, "in_use": 0, "idle": 1, "waiting": 0}
    pool.close()


def test_copy_batches_and_named_cursors_work_on_watched_connections(pg_dsn):
    pool = ConnectionPool(pg_dsn, deadline_margin_seconds=0.5)
    with pool.connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE numbers (n integer, label text) ON COMMIT DROP")
        cur.copy_expert("COPY numbers FROM STDIN",
                        io.StringIO("".join(f"{n}\tn{n}\n" for n in range(1000))))
        cur.copy_from(io.StringIO("1000\tn1000\n"), "numbers")
        cur.executemany("INSERT INTO numbers VALUES (%s, %s)", [(n, f"n{n}")
                                                                for n in range(1001, 1010)])
        psycopg2.extras.execute_values(cur, "INSERT INTO numbers VALUES %s",
                                       [(n, f"n{n}") for n in range(1010, 1020)])
        copied = io.StringIO()
        cur.copy_to(copied, "numbers")
        assert len(copied.getvalue().splitlines()) == 1020
        with conn.cursor(name="all_numbers") as named:  # server-side: FETCH per itersize
            named.itersize = 100
            named.execute("SELECT n FROM numbers ORDER BY n")
            assert [row[0] for row in named] == list(range(1020))
        with conn.cursor(name="some", cursor_factory=DictRowCursor) as named:
            named.execute("SELECT n, label FROM numbers ORDER BY n")
            assert named.fetchone() == {"n": 0, "label": "n0"}
            assert named.fetchmany(2) == [{"n": 1, "label": "n1"}, {"n": 2, "label": "n2"}]
            named.scroll(1000)
            assert len(named.fetchall()) == 17
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as other:
            assert isinstance(other, WatchedCursor)
            other.execute("SELECT count(*) AS count FROM numbers")
            assert other.fetchone() == {"count": 1020}
        for plain_factory in (psycopg2.extensions.cursor, WatchedCursor):  # named explicitly
            with conn.cursor(cursor_factory=plain_factory) as plain:
                assert isinstance(plain, WatchedCursor)
                plain.execute("SELECT count(*) FROM numbers")
                assert plain.fetchone() == (1020,)
        assert conn.waiting_since is None
    assert pool.state() == {"max": 8, "in_use": 0, "idle": 1, "waiting": 0}
    assert pool._watch.expired == 0
    pool.close()


def test_round_trips_are_stamped_while_they_wait(pg_dsn):
    """A statement and a named cursor's FETCH (where a server-side cursor runs its query)
    carry a stamp while the server works, and none once answered."""
    pool = ConnectionPool(pg_dsn, deadline_margin_seconds=0.5)
    with pool.connection() as conn, conn.cursor() as cur, conn.cursor(name="slow") as named:
        named.execute("SELECT pg_sleep(0.5)")  # DECLARE: the sleep runs at the first FETCH
        for round_trip in (lambda: cur.execute("SELECT pg_sleep(0.5)"), named.fetchone):
            stamps = []
            worker = threading.Thread(target=round_trip)
            before = time.monotonic()
            worker.start()
            poll(lambda: conn.waiting_since is not None, timeout=5, interval=0.005)
            stamps.append(conn.waiting_since)
            worker.join()
            assert before <= stamps[0] <= time.monotonic() and conn.waiting_since is None
    pool.close()


@pytest.mark.parametrize("margin, deadline", [("0.5", 1.5), ("0", None)])
def test_both_backends_take_the_deadline_from_the_configuration(pg_dsn, margin, deadline):
    from crashgate.runtime import build_gateway
    from tests.conftest import make_config

    gateway = build_gateway(make_config(pg_dsn, "--database.statement_timeout_ms=1000",
                                        f"--database.deadline_margin_seconds={margin}"))
    pools = [gateway.backends["postgresql"].pool, gateway.backends["elasticsearch"].pg_pool]
    assert [pool.deadline_seconds for pool in pools] == [deadline, deadline]
    assert [pool.application_name for pool in pools] == ["crashgate", "crashgate-es"]
