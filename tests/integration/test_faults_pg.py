"""PostgreSQL faults through the gateway: a query waiting on a lock hits the statement
timeout (504), an exhausted pool answers 503 after ``pool_wait_seconds``, and 8 clients
posting the same report id store it once (one 201, seven 303)."""
import concurrent.futures
import copy
import threading
import uuid as uuidlib

import psycopg2
import pytest

from crashgate.middleware.app import make_wsgi_app
from crashgate.runtime import build_gateway
from tests.conftest import make_config
from tests.factories import products_doc, store, version
from tests.faults import poll, scalar, server_connections, timed
from tests.wsgiclient import WSGIClient

STATEMENT_TIMEOUT = 0.3  # seconds
POOL_WAIT = 0.5
SLACK = 1.5  # seconds allowed over a configured limit on a busy 2-core machine
FIREFOX = products_doc(version("Firefox", "16.0.2", "Release", ["20121024073032"]))
CRASH_REPORT = {  # a PartyCrasher report that is a crash too
    "database_id": "0bba929f-8721-460c-dead-a43c20121114", "product": "Firefox",
    "version": "16.0", "signature": "js::GCMarker::processMarkStackTop",
    "date": "2012-11-14T10:00:00",
    "frames": [{"function": "js::GCMarker::processMarkStackTop"}, {"function": "main"}]}


@pytest.fixture
def gateway_for(clean_db):
    """``gateway_for(*options)``: a gateway on the clean database (closed after the test)."""
    made = []

    def make(*options):
        made.append(build_gateway(make_config(clean_db, *options)))
        return made[-1]

    yield make
    for gateway in made:
        for backend in gateway.backends.values():
            backend.close()


class TableLock:
    """An ACCESS EXCLUSIVE lock on ``table`` held by another session until ``release``."""

    def __init__(self, dsn, table):
        self.conn = psycopg2.connect(dsn)
        with self.conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def release(self):
        self.conn.rollback()
        self.conn.close()


def waiting_on_locks(dsn):
    return scalar(dsn, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND application_name = 'crashgate'")


def assert_json_error(response, status, error_type):
    assert response.status == status, response
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json["error"]["type"] == error_type and b"Traceback" not in response.body


def test_query_waiting_on_a_lock_hits_the_statement_timeout(clean_db, gateway_for):
    store(clean_db, [], products=FIREFOX)
    gateway = gateway_for(f"--database.statement_timeout_ms={int(STATEMENT_TIMEOUT * 1000)}")
    client = WSGIClient(make_wsgi_app(gateway))
    assert client.get("/products/").status == 200

    lock = TableLock(clean_db, "products")
    try:
        read, read_seconds = timed(client.get, "/products/")
        assert client.get("/products/builds/product/Firefox/version/16.0.2/").status == 200
    finally:
        lock.release()
    assert_json_error(read, 504, "backend_timeout")
    assert "statement timeout" in read.json["error"]["message"]
    assert STATEMENT_TIMEOUT <= read_seconds < STATEMENT_TIMEOUT + SLACK

    lock = TableLock(clean_db, "pc_reports")  # the write path: nothing half-stored
    try:
        write, write_seconds = timed(client.post_json, "/firefox/reports", CRASH_REPORT)
    finally:
        lock.release()
    assert_json_error(write, 504, "backend_timeout")
    assert STATEMENT_TIMEOUT <= write_seconds < STATEMENT_TIMEOUT + SLACK
    assert scalar(clean_db, "SELECT count(*) FROM crash_ids") == 0

    assert client.get("/products/").status == 200  # same gateway, same pool
    assert client.post_json("/firefox/reports", CRASH_REPORT).status == 201
    assert scalar(clean_db, "SELECT count(*) FROM crash_ids") == 1
    pool = gateway.backends["postgresql"].pool
    assert pool.state()["in_use"] == 0
    assert server_connections(clean_db, "crashgate") == pool.state()["idle"]
    print(f"\nstatement timeout {STATEMENT_TIMEOUT} s: read 504 in {read_seconds:.3f} s, "
          f"write 504 in {write_seconds:.3f} s")


def test_exhausted_pool_answers_503_after_the_wait_then_recovers(clean_db, gateway_for):
    store(clean_db, [], products=FIREFOX)
    gateway = gateway_for("--database.max_connections=2",
                          f"--database.pool_wait_seconds={POOL_WAIT}")
    client = WSGIClient(make_wsgi_app(gateway))
    pool = gateway.backends["postgresql"].pool
    lock = TableLock(clean_db, "products")
    with concurrent.futures.ThreadPoolExecutor(2) as blocked:
        try:
            holders = [blocked.submit(client.get, "/products/") for _ in range(2)]
            poll(lambda: waiting_on_locks(clean_db) == 2)  # both connections busy
            assert pool.state()["in_use"] == 2
            other, other_seconds = timed(client.get, "/report/list/signature/sig/")
            beat, beat_seconds = timed(client.get, "/__heartbeat__")
        finally:
            lock.release()
        assert [holder.result(30).status for holder in holders] == [200, 200]
    assert_json_error(other, 503, "backend_unavailable")
    assert "exhausted" in other.json["error"]["message"] and other.headers["Retry-After"]
    assert POOL_WAIT <= other_seconds < POOL_WAIT + SLACK
    assert beat.status == 503 and POOL_WAIT <= beat_seconds < POOL_WAIT + SLACK
    assert client.get("/report/list/signature/sig/").status == 200
    assert client.get("/__heartbeat__").status == 200
    assert pool.state() == {"max": 2, "in_use": 0, "idle": 2, "waiting": 0}
    print(f"\npool exhausted: 503 after {other_seconds:.3f} s (pool_wait_seconds {POOL_WAIT})")


def _post_together(client, uris, document, clients=8):
    """POST ``document`` to each of ``uris`` from ``clients`` threads released at once."""
    barrier = threading.Barrier(clients)

    def send(uri):
        barrier.wait()
        return client.post_json(uri, copy.deepcopy(document))

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return list(pool.map(send, uris))


ES_ENGINE = ("--implementations.service_overrides="
             "pc_reports: elasticsearch, pc_dry_run: elasticsearch")


@pytest.mark.parametrize("engine", ["postgresql", "elasticsearch"])
@pytest.mark.parametrize("projects", ["one project", "eight projects"])
def test_eight_clients_posting_one_report_id_store_it_once(request, clean_db, gateway_for,
                                                           engine, projects):
    options = []
    if engine == "elasticsearch":
        es, index = request.getfixturevalue("es"), f"cgtest-faults-{uuidlib.uuid4().hex[:8]}"
        request.addfinalizer(lambda: es.indices.delete(index=index, ignore_unavailable=True))
        options = [f"--elasticsearch.urls={request.getfixturevalue('es_url')}", ES_ENGINE,
                   f"--elasticsearch.reports_index={index}"]
    client = WSGIClient(make_wsgi_app(gateway_for("--database.max_connections=8", *options)))
    uris = [f"/{'firefox' if projects == 'one project' else f'firefox{n}'}/reports"
            for n in range(8)]
    answers = _post_together(client, uris, CRASH_REPORT)

    assert sorted(answer.status for answer in answers) == [201] + [303] * 7, answers
    [created] = [answer for answer in answers if answer.status == 201]
    location = created.headers["Location"]
    assert created.json["href"] == location
    assert all(answer.headers["Location"] == location and answer.json["href"] == location
               for answer in answers if answer.status == 303)
    database_id = CRASH_REPORT["database_id"]
    assert scalar(clean_db, "SELECT count(*) FROM pc_reports WHERE database_id = %s",
                 (database_id,)) == 1
    assert scalar(clean_db, "SELECT count(*) FROM pc_bucket_members") == len(
        created.json["buckets"])
    assert scalar(clean_db, "SELECT count(*) FROM crash_ids WHERE uuid = %s",
                 (database_id,)) == 1
    assert scalar(clean_db, "SELECT count(*) FROM es_outbox") == 1
    assert scalar(clean_db, "SELECT sum(df) FROM pc_terms") == scalar(
        clean_db, "SELECT count(*) FROM pc_terms")  # the terms of one stored report
    assert client.get(location.removeprefix("http://localhost")).status == 200
