"""A gateway on a small generated data set (PostgreSQL, copied to the session's Elasticsearch
node) for the OpenAPI conformance tests, and the Schemathesis configuration that draws
parameter values from that data and from awkward strings."""
import datetime
import time

import pytest
from elasticsearch import Elasticsearch
from werkzeug.test import Client

from crashgate.fakedata import generate_crashes, generate_products
from crashgate.middleware.app import make_wsgi_app
from crashgate.middleware.openapi import openapi_document
from crashgate.middleware.plugins import (IMPLEMENTATIONS, SERVICES, load_group,
                                          split_implementation_name)
from crashgate.runtime import build_gateway
from tests.conftest import make_config, truncate_data_tables
from tests.es_helpers import reindex
from tests.factories import crash_doc, store

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
DAYS, SEED, CRASHES = 7, 17, 300
CRASH_PREFIX, REPORTS_INDEX = "contract-crashes-", "contract-reports"
# Values generators rarely produce: path and list separators, escapes, spaces, non-ASCII.
AWKWARD = ["a/b", "a+b", "100%", "%2F", "%252F", "a%2Bb", "/", "+", "%", "a b", " x ",
           "Ünïcödé 日本語", "𝔘nicode/+%"]
AWKWARD_SIGNATURES = ["a/b", "operator+", "100% CPU", "%2Fencoded", "two  spaces",
                      "Ünïcödé::función(int) 日本語", "mixed/+% é"]
AWKWARD_REPORT_IDS = ["a/b", "a+b", "100%", "%2F", "two words", "Ünïcödé-日本"]
STACK = ["QCommonStyle::drawControl", "QWidget::paintEvent", "g_main_context_dispatch",
         "g_main_loop_run", "main"]


class CountingApp:
    """The WSGI app of ``gateway``, counting the requests it answers and keeping the raw
    path of the last one."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.app = make_wsgi_app(gateway)
        self.requests = 0
        self.last_uri = None

    @property
    def last_path(self):
        return self.last_uri.partition("?")[0]

    def __call__(self, environ, start_response):
        self.requests += 1
        self.last_uri = environ["RAW_URI"]
        return self.app(environ, start_response)


def crash_set():
    """The generated crashes of the last DAYS days (so default date ranges find them), plus
    crashes whose signatures, URLs and comments hold awkward characters."""
    crashes = list(generate_crashes(CRASHES, DAYS, seed=SEED, end_date=NOW.date()))
    return crashes + [
        crash_doc(NOW - datetime.timedelta(minutes=5 + n), signature,
                  url=f"http://example.com/{n}/a+b?q=100%25&x=a/b",
                  user_comments=f"comment on {signature}", email=f"u{n}@example.org",
                  uuid=f"c0ffee{n:02d}-0000-4000-8000-0000{NOW:%y%m%d}")
        for n, signature in enumerate(AWKWARD_SIGNATURES)]


REPORT_IDS = ["r-1", "r-2", "r-3"] + AWKWARD_REPORT_IDS
PROJECTS = ["alpha", "beta.test"]


def seed_reports(client):
    """PartyCrasher reports in two projects, awkward ids among them."""
    for n, database_id in enumerate(REPORT_IDS):
        report = {"database_id": database_id, "project": PROJECTS[n % 3 == 0],
                  "date": (NOW - datetime.timedelta(hours=n + 1)).isoformat(),
                  "stacktrace": [{"function": f} for f in STACK[n % 2:]],
                  "comment": f"crash {n} with a+b/c 100%"}
        response = client.post("/reports", json=report)
        assert response.status_code == 201, response.get_data(as_text=True)


def wait_for_reports_index(es_url, count, timeout=60):
    client = Elasticsearch(es_url, timeout=60)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if client.indices.exists(index=REPORTS_INDEX):
                client.indices.refresh(index=REPORTS_INDEX)
                if client.count(index=REPORTS_INDEX)["count"] >= count:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the reports indexer did not index {count} reports in time")
    finally:
        client.close()


def delete_es_indices(es_url):
    client = Elasticsearch(es_url, timeout=60)
    try:
        client.indices.delete(index=f"{CRASH_PREFIX}*,{REPORTS_INDEX}", ignore_unavailable=True)
    finally:
        client.close()


CRASH_SET = crash_set()


@pytest.fixture(scope="package")
def seeded(pg_dsn, es_url):
    """A counting WSGI app of a gateway on the seeded data set; the Elasticsearch backend
    reads a copy of the crashes and the indexed reports."""
    from crashgate.external.elasticsearch.indexer import run_in_thread
    from crashgate.external.elasticsearch.reports_index import ReportsIndexer

    truncate_data_tables(pg_dsn)
    delete_es_indices(es_url)
    store(pg_dsn, CRASH_SET, products=generate_products(DAYS, seed=SEED, end_date=NOW.date()))
    reindex(es_url, pg_dsn, CRASH_PREFIX)
    config = make_config(pg_dsn, f"--elasticsearch.urls={es_url}",
                         f"--elasticsearch.index_prefix={CRASH_PREFIX}",
                         f"--elasticsearch.reports_index={REPORTS_INDEX}",
                         "--elasticsearch.timeout_seconds=60")
    gateway = build_gateway(config)
    stop_indexer = run_in_thread(ReportsIndexer.from_config(config))
    app = CountingApp(gateway)
    seed_reports(Client(app))
    wait_for_reports_index(es_url, len(REPORT_IDS))
    yield app
    stop_indexer()
    for backend in gateway.backends.values():
        backend.close()
    truncate_data_tables(pg_dsn)
    delete_es_indices(es_url)


def dictionaries(crashes=CRASH_SET):
    """{name: values} to draw parameters from: the seeded data's keys, and AWKWARD."""
    hangs = [c for c in crashes if c["hangid"]]
    with_extensions = [c for c in crashes if c["extensions"]]
    signatures = sorted({c["signature"] for c in crashes[:40]}) + AWKWARD_SIGNATURES
    recent = [NOW - datetime.timedelta(days=d) for d in (1, 3, 8)]
    return {
        "awkward": AWKWARD,
        "signatures": signatures + AWKWARD,
        "uuids": [c["uuid"] for c in hangs[:4] + with_extensions[:4] + crashes[-3:]],
        "hangids": sorted({c["hangid"] for c in hangs[:4]}),
        "dates": [moment.isoformat() for moment in recent] + [f"{recent[2]:%Y-%m-%d}"] +
                 [c["date_processed"] for c in with_extensions[:4]],
        "moments": ["3-days-ago", "2-weeks-ago", f"{NOW:%Y}", f"{NOW:%Y-%m}",
                    (NOW - datetime.timedelta(hours=30)).isoformat()],
        "products": ["Firefox", "Thunderbird", "SeaMonkey", "Fennec"],
        "versions": ["16.0.2", "17.0b6", "16.0.1", "10.0"],
        "projects": PROJECTS,
        "report_ids": REPORT_IDS,
        "terms": ["js::", "a/b", "100%", "+", "main", "drawControl", "Ünïcödé"],
    }


PARAMETERS = {  # parameter -> dictionary
    "signature": "signatures", "uuid": "uuids", "hangid": "hangids", "date": "dates",
    "from_date": "dates", "to_date": "dates", "start_date": "dates", "end_date": "dates",
    "since": "moments", "until": "moments", "product": "products", "version": "versions",
    "project": "projects", "report_id": "report_ids", "other_id": "report_ids", "q": "terms",
}


def implemented_by(backend):
    """The names of the services ``backend`` implements (from the entry points)."""
    return sorted(service for backend_name, service in map(
        split_implementation_name, load_group(IMPLEMENTATIONS)) if backend_name == backend)


def served_document():
    """The OpenAPI document the test gateway serves (same services, same configuration)."""
    config = make_config("")
    services = {name: cls(config) for name, cls in load_group(SERVICES).items()}
    for name, service in services.items():
        service.name = name
    return openapi_document(services)


def schemathesis_config(max_examples, mode="positive", coverage=True):
    """Schemathesis settings: a fixed seed, no example database, bounded examples, the
    coverage phase (boundary and missing values per parameter) if ``coverage``; string
    parameters drawn from the seeded data often (from AWKWARD otherwise, now and then)."""
    import schemathesis

    values = dictionaries()
    return schemathesis.Config.from_dict({
        "seed": 20240611,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "dictionaries": {name: {"values": list(items)} for name, items in values.items()},
        "generation": {"max-examples": max_examples, "mode": mode, "database": "none",
                       "deterministic": True,
                       "dictionaries": {"string": {"dictionary": "awkward",
                                                   "probability": 0.25}}},
        "parameters": {name: {"dictionary": dictionary, "probability": 0.6}
                       for name, dictionary in PARAMETERS.items()},
        "phases": {"coverage": {"enabled": coverage}, "stateful": {"enabled": False}},
    })

