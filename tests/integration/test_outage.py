"""PostgreSQL stopped, slow or saturated: the gateway answers JSON 5xx and recovers."""
import pathlib
import tempfile
import threading

import pytest

from crashgate.embedded import start_embedded_postgres
from crashgate.errors import BackendTimeout, BackendUnavailable
from crashgate.external.postgresql.pool import ConnectionPool
from crashgate.external.postgresql.schema import setup_database
from crashgate.middleware.app import make_wsgi_app
from crashgate.runtime import build_gateway
from tests.conftest import make_config
from tests.wsgiclient import WSGIClient


def test_postgresql_stopped_gives_503_json_then_recovers():
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="cgdown", dir="/tmp")) / "data"
    server, dsn = start_embedded_postgres(data_dir, cleanup_mode="stop")
    setup_database(dsn)
    client = WSGIClient(make_wsgi_app(build_gateway(make_config(dsn))))
    try:
        assert client.get("/__heartbeat__").status == 200
        assert client.get("/products/").status == 200
        server.cleanup()  # stop PostgreSQL under the running gateway

        beat = client.get("/__heartbeat__")
        assert beat.status == 503
        assert beat.json["backends"]["postgresql"]["status"] == "error"
        down = client.get("/products/")
        assert down.status == 503 and down.headers["Content-Type"].startswith("application/json")
        assert down.json["error"]["type"] == "backend_unavailable"
        assert b"Traceback" not in down.body

        server, dsn = start_embedded_postgres(data_dir, cleanup_mode="delete")
        assert client.get("/products/").status == 200  # same gateway, no restart
        assert client.get("/__heartbeat__").status == 200
    finally:
        server.cleanup()


def test_statement_timeout_is_backend_timeout(pg_dsn):
    pool = ConnectionPool(pg_dsn, statement_timeout_ms=100)
    with pytest.raises(BackendTimeout) as error:
        pool.fetch_all("SELECT pg_sleep(2)")
    assert error.value.status == 504
    assert pool.fetch_all("SELECT 1 AS one") == [{"one": 1}]  # the pool still works


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


def test_unreachable_server_is_503_quickly():
    pool = ConnectionPool("host=/nonexistent-socket-dir dbname=x", connect_timeout_seconds=1)
    with pytest.raises(BackendUnavailable, match="unavailable"):
        pool.fetch_all("SELECT 1")
