"""A frozen PostgreSQL (every server process stopped with SIGSTOP: sockets open, the kernel
still acknowledging, nothing answering, no statement timeout firing) under load: requests
fail with JSON 503/504 within the client-side deadline, none hangs, and they succeed again
once the server runs again, without a gateway restart or a leaked connection."""
import contextlib
import io
import os
import pathlib
import signal

import psycopg2
import pytest

from crashgate.errors import BackendTimeout, BackendUnavailable
from crashgate.external.postgresql.pool import ConnectionPool
from crashgate.middleware.app import make_wsgi_app
from crashgate.runtime import build_gateway
from tests.conftest import make_config
from tests.faults import (OUTAGE_REQUESTS, Load, poll, seed_outage_data,
                          server_connections, timed)
from tests.wsgiclient import WSGIClient

STATEMENT_TIMEOUT_MS, MARGIN = 300, 2.0  # MARGIN: database.deadline_margin_seconds default
DEADLINE = STATEMENT_TIMEOUT_MS / 1000 + MARGIN
POOL_WAIT, CONNECT_TIMEOUT, MAX_CONNECTIONS, CLIENTS = 1.0, 2, 4, 6
SLACK = 1.5  # seconds over a configured limit on a busy 2-core machine
# a request waits for a slot, then for a connection or a query, whichever is slower
FAILURE_BOUND = POOL_WAIT + max(DEADLINE, CONNECT_TIMEOUT) + SLACK


def server_processes(data_dir):
    """The postmaster's pid and its children's (backends, checkpointer, walwriter...)."""
    postmaster = int((pathlib.Path(data_dir) / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(entry.name))
    return postmaster, children


@contextlib.contextmanager
def frozen(data_dir):
    """Every process of the server stopped (the postmaster first: it forks no more) until
    the block ends."""
    postmaster, _ = server_processes(data_dir)
    os.kill(postmaster, signal.SIGSTOP)
    stopped = [postmaster]
    try:
        for child in server_processes(data_dir)[1]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGSTOP)
                stopped.append(child)
        yield stopped
    finally:
        for pid in reversed(stopped):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def test_frozen_postgresql_under_load_fails_within_the_deadline_then_recovers(own_server):
    seed_outage_data(own_server.dsn)
    gateway = build_gateway(make_config(
        own_server.dsn, f"--database.statement_timeout_ms={STATEMENT_TIMEOUT_MS}",
        f"--database.max_connections={MAX_CONNECTIONS}",
        f"--database.pool_wait_seconds={POOL_WAIT}",
        f"--database.connect_timeout_seconds={CONNECT_TIMEOUT}"))
    pool = gateway.backends["postgresql"].pool
    assert pool.deadline_seconds == DEADLINE
    client = WSGIClient(make_wsgi_app(gateway))
    for method, uri in OUTAGE_REQUESTS[:-1]:  # warm up: the pool holds idle connections
        assert client.request(method, uri).status == 200
    load = Load(client, OUTAGE_REQUESTS, CLIENTS)
    with load:
        load.wait_for(successes=30)
        with frozen(own_server.data_dir) as processes:
            since = load.now()
            load.wait_for(failures=12, after=since, timeout=60)
            beat, beat_seconds = timed(client.get, "/__heartbeat__")
            thawing = load.now()
        back = load.now()
        load.wait_for(successes=60, after=back)

    assert len(processes) >= 5  # postmaster, backends and auxiliary processes
    assert load.answers_not_json() == [] and load.tracebacks() == []
    assert load.statuses() <= {200, 201, 503, 504}
    failed = load.failed()
    assert failed and all(answer.error_type in {"backend_unavailable", "backend_timeout"}
                          for answer in failed)
    timeouts = [answer for answer in failed if answer.status == 504]
    assert timeouts and all(answer.error_type == "backend_timeout" for answer in timeouts)
    during = load.between(since, thawing)
    assert len(during) >= 12 and {answer.status for answer in during} <= {503, 504}
    worst = max(answer.seconds for answer in failed)
    assert worst <= FAILURE_BOUND, f"a failed request took {worst:.2f} s"
    assert beat.status == 503 and beat_seconds <= FAILURE_BOUND
    assert beat.json["backends"]["postgresql"]["status"] == "error"
    assert all(answer.ok for answer in load.between(back, load.now())), \
        "a request started after the server resumed failed"
    assert pool._watch.expired >= len(timeouts)  # every 504 was a cut round trip
    print(f"\nPG frozen under load: {len(load.answers)} requests by {CLIENTS} clients, "
          f"{len(during)} while frozen: {len(timeouts)} x 504 (deadline {DEADLINE} s), "
          f"{len(failed) - len(timeouts)} x 503; max failed latency {worst:.3f} s "
          f"(bound {FAILURE_BOUND} s); {len(processes)} processes stopped")

    # no leak: every slot free; the server ends the sessions whose sockets were cut
    state = pool.state()
    assert (state["in_use"], state["waiting"]) == (0, 0) and state["idle"] <= MAX_CONNECTIONS
    poll(lambda: server_connections(own_server.dsn, "crashgate") == pool.state()["idle"])
    assert client.get("/products/").status == 200
    for backend in gateway.backends.values():
        backend.close()


def test_frozen_server_cuts_queries_and_connections(own_server):
    pool = ConnectionPool(own_server.dsn, statement_timeout_ms=200, deadline_margin_seconds=0.5,
                          connect_timeout_seconds=CONNECT_TIMEOUT)
    assert pool.fetch_all("SELECT 1 AS one") == [{"one": 1}]
    with frozen(own_server.data_dir):
        cut, cut_seconds = timed(pytest.raises, BackendTimeout, pool.fetch_all, "SELECT 1")
        assert 0.7 <= cut_seconds <= 0.7 + SLACK
        assert cut.value.status == 504 and "did not answer within 0.7 s" in cut.value.message
        assert isinstance(cut.value.__cause__, psycopg2.OperationalError)
        assert pool.state() == {"max": 8, "in_use": 0, "idle": 0, "waiting": 0}
        # no pooled connection left: opening one is bounded by libpq's connect_timeout
        down, down_seconds = timed(pytest.raises, BackendUnavailable, pool.fetch_all,
                                   "SELECT 1")
        assert down.value.status == 503 and "timeout expired" in down.value.message
        assert CONNECT_TIMEOUT - 0.1 <= down_seconds <= CONNECT_TIMEOUT + SLACK
    assert pool.fetch_all("SELECT 2 AS two") == [{"two": 2}]
    assert pool.state() == {"max": 8, "in_use": 0, "idle": 1, "waiting": 0}
    assert pool._watch.expired == 1

    # the other round trips: a named cursor's FETCH, a COPY, the pool's commit
    def fetch_named(conn, freeze):
        with conn.cursor(name="rows") as rows:
            rows.execute("SELECT generate_series(1, 10)")  # DECLARE: answered
            freeze()
            rows.fetchmany(5)

    def copy_in(conn, freeze):
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE copied (line text)")
            freeze()
            cur.copy_expert("COPY copied FROM STDIN", io.StringIO("a\nb\n"))

    def commit(conn, freeze):
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE written (line text)")
        freeze()

    for expired, round_trip in enumerate((fetch_named, copy_in, commit), start=2):
        with contextlib.ExitStack() as until_thawed:
            with pytest.raises(BackendTimeout, match="did not answer"):
                with pool.connection() as conn:
                    round_trip(conn, lambda: until_thawed.enter_context(
                        frozen(own_server.data_dir)))
        assert pool._watch.expired == expired, round_trip.__name__
        assert pool.fetch_all("SELECT 3 AS three") == [{"three": 3}]
        assert pool.state() == {"max": 8, "in_use": 0, "idle": 1, "waiting": 0}
    pool.close()
