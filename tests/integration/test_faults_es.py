"""Elasticsearch faults through the gateway, on a node of this module (stopped, frozen and
restarted; the session's node is left alone): PostgreSQL services unaffected, Elasticsearch
requests answer 503/504 JSON in time, ingestion goes on, and once the node is back the outboxes
drain and every document in Elasticsearch equals what PostgreSQL holds."""
import datetime
import io
import json
import os
import signal
import uuid as uuidlib

import pytest
from elasticsearch import Elasticsearch

from crashgate.external.elasticsearch.indexer import Indexer, run_in_thread
from crashgate.external.elasticsearch.reports_index import ReportsIndexer
from crashgate.ingest.loader import load_files
from crashgate.middleware.app import make_wsgi_app
from crashgate.runtime import build_gateway
from tests.conftest import make_config, start_es_or_skip
from tests.es_helpers import reindex
from tests.factories import crash_doc, products_doc, store, uuid_for, version
from tests.faults import (es_documents, pg_crash_documents, pg_report_documents, poll,
                          scalar, server_connections, timed)
from tests.wsgiclient import WSGIClient

ES_TIMEOUT = 1.0  # elasticsearch.timeout_seconds
SLACK = 1.5  # seconds allowed over a configured limit on a busy 2-core machine
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
SPAN = f"from/{(NOW - datetime.timedelta(days=2)):%Y-%m-%d}/to/" \
       f"{(NOW + datetime.timedelta(days=1)):%Y-%m-%d}/"
PG_READS = (  # PostgreSQL services, by default
    "/products/", f"/report/list/signature/sig1/{SPAN}", f"/search/signatures/{SPAN}",
    f"/crashes/comments/signature/sig2/{SPAN}", "/firefox/reports/pc-0")
ES_READS = (  # the same crash services forced to Elasticsearch
    f"/report/list/signature/sig1/{SPAN}force_api_impl/elasticsearch/",
    f"/search/signatures/{SPAN}force_api_impl/elasticsearch/",
    f"/crashes/comments/signature/sig2/{SPAN}force_api_impl/elasticsearch/",
    "/firefox/search?q=main&force_api_impl=elasticsearch")
ES_POST = "/firefox/reports?force_api_impl=elasticsearch"  # the Elasticsearch bucketing engine


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """An Elasticsearch node of this module's own (``.data_dir``, ``.port``)."""
    started = start_es_or_skip(tmp_path_factory.mktemp("faults-es") / "data")
    holder = {"node": started}
    yield holder
    holder["node"].stop(timeout=2)  # throwaway data: no need to wait for a clean close


@pytest.fixture
def names(node):
    """Index names of one test: crash index prefix and reports index."""
    tag = uuidlib.uuid4().hex[:8]
    return f"faults-{tag}-", f"faults-{tag}-reports"


def gateway_client(dsn, url, names, *options):
    prefix, reports_index = names
    config = make_config(dsn, f"--elasticsearch.urls={url}",
                         f"--elasticsearch.index_prefix={prefix}",
                         f"--elasticsearch.reports_index={reports_index}",
                         f"--elasticsearch.timeout_seconds={ES_TIMEOUT}", *options)
    gateway = build_gateway(config)
    return config, gateway, WSGIClient(make_wsgi_app(gateway))


def crashes(count, first=0):
    return [crash_doc(NOW - datetime.timedelta(hours=1 + n % 30), signature=f"sig{n % 4}",
                      user_comments=f"comment {n}", uuid=uuid_for(NOW, f"{n:08x}"),
                      extensions=[{"id": f"ext{n % 3}@x", "version": "1"}] if n % 2 else [])
            for n in range(first, first + count)]


def load_with_loader(dsn, tmp_path, docs):
    """Store ``docs`` with the crash loader (``crashgate load``), from a .jsonl file."""
    path = tmp_path / f"crashes-{uuidlib.uuid4().hex[:6]}.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    summary = load_files(dsn, [path], strict=True, out=io.StringIO())
    assert summary.loaded == len(docs)


def crash_report(n):
    """A PartyCrasher report that is a crash too (stored in the crash tables as well)."""
    return {"database_id": uuid_for(NOW, f"{0xc0000000 + n:08x}"), "product": "Firefox",
            "version": "16.0.2", "signature": f"sig{n % 4}", "date": (
                NOW - datetime.timedelta(minutes=5 + n)).isoformat(),
            "frames": [{"function": f"sig{n % 4}"}, {"function": "main"}]}


def plain_report(n):
    return {"database_id": f"pc-{n}", "stacktrace": [{"function": f"draw{n % 3}"},
                                                     {"function": "main"}]}


def served(client):
    """Wait until every Elasticsearch read answers 200: a node just started or thawed may
    take longer than the timeout at first, on a busy machine."""
    poll(lambda: all(client.get(uri).status == 200 for uri in ES_READS), timeout=60)


def assert_json_error(response, status, error_type):
    assert response.status == status, response
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json["error"]["type"] == error_type and b"Traceback" not in response.body


def outboxes_empty(dsn):
    return scalar(dsn, "SELECT (SELECT count(*) FROM es_outbox) + "
                            "(SELECT count(*) FROM pc_reports_index_outbox)") == 0


def test_frozen_elasticsearch_answers_504_in_time(clean_db, node, names):
    """SIGSTOP: the node accepts connections and never answers (a long GC pause, a hung
    host): Elasticsearch requests time out after elasticsearch.timeout_seconds; PostgreSQL
    requests and the heartbeat are not held up."""
    es_node = node["node"]
    store(clean_db, crashes(20), products=products_doc(version("Firefox", "16.0.2", "Release")))
    reindex(es_node.url, clean_db, names[0])
    _, gateway, client = gateway_client(clean_db, es_node.url, names)
    served(client)
    # the project's first report has nothing to compare with; the next ones ask Elasticsearch
    assert client.post_json(ES_POST, plain_report(1)).status == 201
    os.killpg(es_node.pid, signal.SIGSTOP)
    try:
        frozen = [timed(client.get, uri) for uri in ES_READS[:3]]
        posted, post_seconds = timed(client.post_json, ES_POST, plain_report(0))
        pg_read, pg_seconds = timed(client.get, PG_READS[1])
        beat, beat_seconds = timed(client.get, "/__heartbeat__")
    finally:
        os.killpg(es_node.pid, signal.SIGCONT)
    for answer, seconds in frozen + [(posted, post_seconds)]:
        assert_json_error(answer, 504, "backend_timeout")
        assert ES_TIMEOUT <= seconds < ES_TIMEOUT + SLACK
    assert scalar(clean_db, "SELECT count(*) FROM pc_reports") == 1  # nothing half-stored
    assert pg_read.status == 200 and pg_seconds < ES_TIMEOUT
    assert beat.status == 200 and beat.json["status"] == "degraded"
    assert beat.json["backends"]["elasticsearch"]["status"] == "error"
    assert beat_seconds < ES_TIMEOUT + SLACK
    served(client)  # thawed
    assert client.post_json(ES_POST, plain_report(0)).status == 201
    worst = max(seconds for _, seconds in frozen + [(posted, post_seconds)])
    print(f"\nES frozen: {len(frozen) + 1} requests 504 in at most {worst:.3f} s "
          f"(timeout {ES_TIMEOUT} s); heartbeat {beat_seconds:.3f} s")
    for backend in gateway.backends.values():
        backend.close()


def test_stopped_elasticsearch_loses_no_document(clean_db, node, names, tmp_path):
    es_node = node["node"]
    store(clean_db, [], products=products_doc(version("Firefox", "16.0.2", "Release")))
    config, gateway, client = gateway_client(clean_db, es_node.url, names)
    fast_retries = dict(idle_seconds=0.05, first_backoff_seconds=0.05, max_backoff_seconds=0.5)
    indexers = [Indexer.from_config(config, **fast_retries),
                ReportsIndexer.from_config(config, **fast_retries)]
    stoppers = [run_in_thread(indexer) for indexer in indexers]
    try:
        # Elasticsearch up: crashes from the loader and PartyCrasher reports (some crashes)
        load_with_loader(clean_db, tmp_path, crashes(120))
        for n in range(10):
            assert client.post_json("/firefox/reports", crash_report(n)).status == 201
            assert client.post_json("/firefox/reports", plain_report(n)).status == 201
        poll(lambda: outboxes_empty(clean_db), timeout=60)
        before = {uri: client.get(uri) for uri in PG_READS}
        assert all(answer.status == 200 for answer in before.values())

        es_node.stop()
        # PostgreSQL services answer as before; Elasticsearch ones 503 at once
        during = {uri: timed(client.get, uri) for uri in PG_READS}
        assert all(answer.status == 200 and answer.json == before[uri].json
                   and seconds < ES_TIMEOUT for uri, (answer, seconds) in during.items())
        refused = [timed(client.get, uri) for uri in ES_READS]
        refused.append(timed(client.post_json, ES_POST, plain_report(99)))
        for answer, seconds in refused:
            assert_json_error(answer, 503, "backend_unavailable")
            assert seconds < ES_TIMEOUT
        assert client.get("/firefox/reports/pc-99").status == 404  # nothing half-stored
        # ingestion goes on: the loader and POST /reports (PostgreSQL engine)
        load_with_loader(clean_db, tmp_path, crashes(80, first=120))
        for n in range(10, 40):
            assert client.post_json("/firefox/reports", crash_report(n)).status == 201
            assert client.post_json("/firefox/reports", plain_report(n)).status == 201
        beat = client.get("/__heartbeat__")
        assert beat.status == 200 and beat.json["status"] == "degraded"
        assert "110 crashes pending" in beat.json["backends"]["elasticsearch"]["message"]
        poll(lambda: all(indexer.failures >= 2 for indexer in indexers), timeout=20)
        assert outboxes_empty(clean_db) is False

        node["node"] = es_node = start_es_or_skip(es_node.data_dir, http_port=es_node.port)
        poll(lambda: outboxes_empty(clean_db), timeout=90)
        served(client)
    finally:
        for stop in stoppers:
            stop()
        for backend in gateway.backends.values():
            backend.close()

    es = Elasticsearch(es_node.url, timeout=30)
    try:
        crashes_in_es = es_documents(es, f"{names[0]}2*")
        reports_in_es = es_documents(es, names[1])
    finally:
        es.close()
    crashes_in_pg, reports_in_pg = pg_crash_documents(clean_db), pg_report_documents(clean_db)
    assert (len(crashes_in_pg), len(reports_in_pg)) == (120 + 80 + 40, 80)
    lost = (crashes_in_pg.keys() - crashes_in_es.keys()) | (
        reports_in_pg.keys() - reports_in_es.keys())
    assert lost == set()
    assert crashes_in_es == crashes_in_pg  # every document, field by field
    assert reports_in_es == reports_in_pg
    assert scalar(clean_db, "SELECT count(*) FROM es_outbox WHERE failed_at IS NOT NULL") == 0
    print(f"\nES stopped: {len(during) + len(refused)} requests during the outage "
          f"(PostgreSQL 200, Elasticsearch 503 in at most "
          f"{max(seconds for _, seconds in refused):.3f} s); 110 crashes and 60 reports "
          f"ingested meanwhile; compared {len(crashes_in_es)} crash and {len(reports_in_es)} "
          f"report documents: {len(lost)} lost")
    poll(lambda: server_connections(clean_db, "crashgate") + server_connections(
        clean_db, "crashgate-es") == 0)  # the closed gateway left no session behind
