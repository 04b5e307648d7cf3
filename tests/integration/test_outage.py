"""PostgreSQL stopped under load, restarted, slow or saturated: the gateway answers JSON 5xx
within its configured timeouts, never hangs, and recovers without a restart or a leak."""
import threading
import time

import pytest

from crashgate.errors import BackendTimeout, BackendUnavailable
from crashgate.external.postgresql.pool import ConnectionPool
from crashgate.middleware.app import make_wsgi_app
from crashgate.runtime import build_gateway
from tests.conftest import make_config
from tests.faults import OUTAGE_REQUESTS, Load, rows, seed_outage_data, server_connections
from tests.wsgiclient import WSGIClient

POOL_WAIT, CONNECT_TIMEOUT, MAX_CONNECTIONS, CLIENTS = 1.0, 2, 4, 6
FAILURE_BOUND = POOL_WAIT + CONNECT_TIMEOUT + 0.5  # seconds: slot wait + connect + slack


def _gateway(dsn):
    return build_gateway(make_config(
        dsn, f"--database.max_connections={MAX_CONNECTIONS}",
        f"--database.pool_wait_seconds={POOL_WAIT}",
        f"--database.connect_timeout_seconds={CONNECT_TIMEOUT}"))


def test_postgresql_stopped_under_load_fails_fast_then_recovers(own_server):
    seed_outage_data(own_server.dsn)
    gateway = _gateway(own_server.dsn)
    pool = gateway.backends["postgresql"].pool
    client = WSGIClient(make_wsgi_app(gateway))
    for method, uri in OUTAGE_REQUESTS[:-1]:  # warm up: no pool exhaustion from cold queries
        assert client.request(method, uri).status == 200
    load = Load(client, OUTAGE_REQUESTS, CLIENTS)
    with load:
        load.wait_for(successes=30)
        stopping = load.now()
        own_server.stop()  # under the running gateway and its clients
        stopped = load.now()
        load.wait_for(failures=40, after=stopped)
        beat = client.get("/__heartbeat__")
        starting = load.now()
        own_server.start()
        back = load.now()
        load.wait_for(successes=60, after=back)

    assert load.answers_not_json() == [] and load.tracebacks() == []
    assert load.statuses() <= {200, 201, 503}
    failed = load.failed()
    assert failed and all(answer.error_type == "backend_unavailable" and answer.retry_after
                          for answer in failed)
    assert beat.status == 503 and beat.json["backends"]["postgresql"]["status"] == "error"
    during = load.between(stopped, starting)  # the server is down
    assert len(during) >= 40 and {answer.status for answer in during} == {503}
    worst = max(answer.seconds for answer in failed)
    assert worst <= FAILURE_BOUND, f"a failed request took {worst:.2f} s"
    assert all(answer.ok for answer in load.between(back, load.now())), \
        "a request started after the restart failed"
    print(f"\nPG stopped under load: {len(load.answers)} requests by {CLIENTS} clients, "
          f"{len(during)} while it was down, {len(failed)} failed (503), max failed latency "
          f"{worst:.3f} s "
          f"(bound {FAILURE_BOUND} s), stop took {stopped - stopping:.2f} s")

    # no leak: every slot free, every open connection idle in the pool and on the server
    state = pool.state()
    assert (state["in_use"], state["waiting"]) == (0, 0) and state["idle"] <= MAX_CONNECTIONS
    assert server_connections(own_server.dsn, "crashgate") == state["idle"]
    reports = load.created_reports()
    stored = rows(own_server.dsn, "SELECT database_id FROM pc_reports")
    assert reports <= {row[0] for row in stored}  # every 201 was committed

    # restarted while idle: the pooled connections are stale, the next request still works
    assert state["idle"] > 0
    own_server.stop()
    own_server.start()
    assert client.get("/products/").status == 200
    assert client.get("/__heartbeat__").status == 200
    for backend in gateway.backends.values():
        backend.close()


def test_statement_timeout_is_backend_timeout(pg_dsn):
    pool = ConnectionPool(pg_dsn, statement_timeout_ms=100)
    with pytest.raises(BackendTimeout) as error:
        pool.fetch_all("SELECT pg_sleep(2)")
    assert error.value.status == 504
    assert pool.fetch_all("SELECT 1 AS one") == [{"one": 1}]  # the pool still works
    assert pool.state() == {"max": 8, "in_use": 0, "idle": 1, "waiting": 0}


def test_exhausted_pool_waits_then_503(pg_dsn):
    pool = ConnectionPool(pg_dsn, max_connections=1, wait_seconds=0.2)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with pool.connection():
            holding.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    holding.wait(5)
    with pytest.raises(BackendUnavailable, match="exhausted"):
        pool.fetch_all("SELECT 1")
    release.set()
    worker.join()
    assert pool.fetch_all("SELECT 2 AS two") == [{"two": 2}]
    assert pool.state()["in_use"] == 0


def test_unreachable_server_is_503_quickly():
    pool = ConnectionPool("host=/nonexistent-socket-dir dbname=x", connect_timeout_seconds=1)
    with pytest.raises(BackendUnavailable, match="unavailable"):
        pool.fetch_all("SELECT 1")
    assert pool.state() == {"max": 8, "in_use": 0, "idle": 0, "waiting": 0}


def test_waiting_callers_are_served_in_turn(pg_dsn):
    """6 threads on 2 connections of short queries: a waiter is never overtaken until it
    times out (threading.Semaphore let newcomers barge: 503s after 1 s under load)."""
    pool = ConnectionPool(pg_dsn, max_connections=2, wait_seconds=1.0)
    waits, failures, stop = [], [], threading.Event()

    def client():
        while not stop.is_set():
            started = time.monotonic()
            try:
                with pool.connection() as conn, conn.cursor() as cur:
                    waits.append(time.monotonic() - started)
                    cur.execute("SELECT 1")
            except BackendUnavailable as exc:
                failures.append(exc)

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == [] and len(waits) > 1000
    assert max(waits) < 0.5
    assert pool.state() == {"max": 2, "in_use": 0, "idle": 2, "waiting": 0}
