"""Helpers of the fault tests: client threads recording every answer, polling, server state."""
import dataclasses
import datetime
import itertools
import json
import pathlib
import tempfile
import threading
import time

import psycopg2

from crashgate.embedded import start_embedded_postgres
from crashgate.external.postgresql.schema import setup_database
from tests.factories import crash_doc, products_doc, store, version

JSON_TYPE = "application/json"


@dataclasses.dataclass
class Answer:
    started: float  # time.monotonic()
    seconds: float
    method: str
    uri: str
    status: int
    headers: dict
    body: bytes

    @property
    def finished(self):
        return self.started + self.seconds

    @property
    def ok(self):
        return self.status < 500

    @property
    def is_json(self):
        return self.headers.get("Content-Type", "").startswith(JSON_TYPE)

    @property
    def error_type(self):
        return json.loads(self.body)["error"]["type"]

    @property
    def retry_after(self):
        return self.headers.get("Retry-After")


class Load:
    """``clients`` threads sending ``requests`` ((method, uri) pairs) in turn through a WSGI
    client until the ``with`` block ends; every answer is recorded with its latency. POSTs
    send a PartyCrasher report with a database_id of their own."""

    def __init__(self, client, requests, clients):
        self.client, self.requests, self.clients = client, requests, clients
        self.answers = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._serial = itertools.count()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
                         for n in range(clients)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in self._threads), "a client hangs"

    @staticmethod
    def now():
        return time.monotonic()

    def _run(self, offset):
        for n in itertools.count(offset):
            if self._stop.is_set():
                return
            method, uri = self.requests[n % len(self.requests)]
            started = time.monotonic()
            if method == "POST":
                number = next(self._serial)
                response = self.client.post_json(uri, {
                    "database_id": f"load-{number}",
                    "stacktrace": [{"function": f"load_f{number % 5}"}, {"function": "main"}]})
            else:
                response = self.client.request(method, uri)
            answer = Answer(started, time.monotonic() - started, method, uri, response.status,
                            response.headers, response.body)
            with self._lock:
                self.answers.append(answer)

    def _snapshot(self):
        with self._lock:
            return list(self.answers)

    def wait_for(self, successes=0, failures=0, after=0.0, timeout=30.0):
        """Until ``successes`` answers < 500 and ``failures`` answers >= 500 started at or
        after ``after`` were recorded."""
        def enough():
            answers = [a for a in self._snapshot() if a.started >= after]
            return (sum(a.ok for a in answers) >= successes
                    and sum(not a.ok for a in answers) >= failures)
        poll(enough, timeout)

    def between(self, start, end):
        """Answers to requests started at or after ``start`` and finished by ``end``."""
        return [a for a in self._snapshot() if a.started >= start and a.finished <= end]

    def failed(self):
        return [a for a in self._snapshot() if not a.ok]

    def statuses(self):
        return {a.status for a in self._snapshot()}

    def answers_not_json(self):
        return [a for a in self._snapshot() if not a.is_json]

    def tracebacks(self):
        return [a for a in self._snapshot() if b"Traceback" in a.body]

    def created_reports(self):
        return {json.loads(a.body)["database_id"] for a in self._snapshot()
                if a.method == "POST" and a.status == 201}


def poll(condition, timeout=30.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not true after {timeout} s: {condition}"
        time.sleep(interval)


def server_connections(dsn, application_name):
    """How many sessions named ``application_name`` the server holds."""
    return scalar(dsn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                  (application_name,))


def rows(dsn, query, params=None, cursor_factory=None):
    """The rows of one query on a connection of its own (UTC session)."""
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor(cursor_factory=cursor_factory) as cur:
            cur.execute(query, params)
            return cur.fetchall()
    finally:
        conn.close()


def scalar(dsn, query, params=None):
    """The first value of the first row of one query."""
    return rows(dsn, query, params)[0][0]


def timed(function, *args, **kwargs):
    """``(result, seconds)`` of one call."""
    started = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - started


# -- what PostgreSQL holds and what Elasticsearch holds -----------------------------------------
def pg_crash_documents(dsn):
    """{uuid: index document} of every crash in PostgreSQL, as the indexer builds them."""
    from crashgate.external.elasticsearch.document import CRASH_ROWS_SQL, to_document

    return {row["uuid"]: to_document(row) for row in _dict_rows(dsn, CRASH_ROWS_SQL)}


def pg_report_documents(dsn):
    """{database_id: index document} of every PartyCrasher report in PostgreSQL."""
    from crashgate.external.elasticsearch.reports_index import ROWS_SQL, index_document

    ids = [row["id"] for row in _dict_rows(dsn, "SELECT id FROM pc_reports")]
    return {row["database_id"]: index_document(row)
            for row in _dict_rows(dsn, ROWS_SQL, {"ids": ids})}


def es_documents(es, index):
    """{_id: _source} of every document of ``index`` (a name or pattern), after a refresh."""
    from elasticsearch import helpers

    es.indices.refresh(index=index)
    return {hit["_id"]: hit["_source"]
            for hit in helpers.scan(es, index=index, query={"query": {"match_all": {}}})}


def _dict_rows(dsn, query, params=None):
    import psycopg2.extras

    return rows(dsn, query, params, cursor_factory=psycopg2.extras.RealDictCursor)


# -- a PostgreSQL server of its own, and the data and requests of the outage tests ----------
DAY = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
    - datetime.timedelta(hours=3)
SPAN = f"from/{(DAY - datetime.timedelta(days=1)):%Y-%m-%d}/to/" \
       f"{(DAY + datetime.timedelta(days=1)):%Y-%m-%d}/"
OUTAGE_REQUESTS = (  # a mix of reads over several tables and PartyCrasher writes
    ("GET", "/products/"),
    ("GET", f"/report/list/signature/sig1/{SPAN}"),
    ("GET", f"/crashes/comments/signature/sig2/{SPAN}"),
    ("GET", "/products/builds/product/Firefox/version/16.0.2/"),
    ("POST", "/load/reports"),
)


class Server:
    """An embedded PostgreSQL of its own that a test can stop and start again."""

    def __init__(self):
        self.data_dir = pathlib.Path(tempfile.mkdtemp(prefix="cgdown", dir="/tmp")) / "data"
        self.server, self.dsn = start_embedded_postgres(self.data_dir, cleanup_mode="stop")

    def stop(self):
        self.server.cleanup()  # pg_ctl stop -m fast: sessions are terminated

    def start(self):
        self.server, self.dsn = start_embedded_postgres(self.data_dir, cleanup_mode="stop")

    def delete(self):
        self.server.cleanup()
        self.server, _ = start_embedded_postgres(self.data_dir, cleanup_mode="delete")
        self.server.cleanup()


def seed_outage_data(dsn):
    """The schema, 30 crashes of DAY over three signatures, and a product for OUTAGE_REQUESTS."""
    setup_database(dsn)
    store(dsn, [crash_doc(DAY, signature=f"sig{n % 3}", user_comments=f"comment {n}")
                for n in range(30)],
          products=products_doc(version("Firefox", "16.0.2", "Release", ["20121024073032"])))
