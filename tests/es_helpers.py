"""Elasticsearch helpers for tests: index what PostgreSQL holds, as the indexer would, and a
gateway whose Elasticsearch backend uses a given index prefix."""
import contextlib
import datetime

import psycopg2
import psycopg2.extras
from elasticsearch import Elasticsearch, helpers

from crashgate.external.elasticsearch import document, indices
from crashgate.middleware.app import make_wsgi_app
from crashgate.runtime import build_gateway
from tests.conftest import make_config
from tests.wsgiclient import WSGIClient

UTC = datetime.timezone.utc
BATCH = 2000


@contextlib.contextmanager
def es_client(es_url):
    client = Elasticsearch(es_url, timeout=60)
    try:
        yield client
    finally:
        client.close()


def reindex(es_url, dsn, prefix, period="week"):
    """Replace the ``prefix`` crash indices with every crash stored in PostgreSQL; return the
    number of crashes indexed (searchable on return)."""
    with es_client(es_url) as client:
        client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)
        indices.install_template(client, prefix)
        indexed, _ = helpers.bulk(client, _actions(dsn, prefix, period), chunk_size=BATCH,
                                  max_chunk_bytes=20 << 20)
        client.indices.refresh(index=f"{prefix}*", ignore_unavailable=True,
                               allow_no_indices=True)
    return indexed


def _actions(dsn, prefix, period):
    """Bulk actions for every crash, read in date order with the reindex keyset query."""
    after = (datetime.datetime(1, 1, 1, tzinfo=UTC), "")
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            while True:
                cur.execute(document.BY_RANGE_SQL, {
                    "start": datetime.datetime(1, 1, 1, tzinfo=UTC),
                    "end": datetime.datetime(9999, 1, 1, tzinfo=UTC),
                    "after_date": after[0], "after_uuid": after[1], "limit": BATCH})
                rows = cur.fetchall()
                yield from (document.bulk_action(row, prefix, period) for row in rows)
                if len(rows) < BATCH:
                    return
                after = (rows[-1]["date_processed"], rows[-1]["uuid"])
    finally:
        conn.close()


@contextlib.contextmanager
def gateway(dsn, es_url, prefix, *argv):
    """A WSGI client of a gateway on ``dsn`` whose Elasticsearch backend reads ``prefix``."""
    app_gateway = build_gateway(make_config(dsn, f"--elasticsearch.urls={es_url}",
                                            f"--elasticsearch.index_prefix={prefix}", *argv))
    try:
        yield WSGIClient(make_wsgi_app(app_gateway))
    finally:
        for backend in app_gateway.backends.values():
            backend.close()
