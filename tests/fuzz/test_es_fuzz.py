"""The read services Elasticsearch implements, forced there (``force_api_impl``) on a real
node holding the seeded data: CRASHGATE_FUZZ_ES_URLS (default 1,000; Elasticsearch answers
take a few milliseconds each) hostile requests each, with the rules of test_http_fuzz.py and
every 2xx answered by Elasticsearch; neither PostgreSQL nor Elasticsearch data altered."""
import hashlib
import json

import pytest

from crashgate.middleware import plugins
from tests.conftest import make_config
from tests.es_helpers import es_client
from tests.fuzz import dataset
from tests.fuzz.conftest import ES_URLS_PER_OPERATION, SEED, WORKERS
from tests.fuzz.harness import WorkerPool

PREFIX = "fuzz-es-crashes-"
REPORTS_INDEX = "fuzz-es-reports"
SERVICES = plugins.load_group(plugins.SERVICES)
READ_OPERATIONS = sorted(
    f"{service}:GET" for backend, _, service in
    (name.partition(".") for name in plugins.load_group(plugins.IMPLEMENTATIONS))
    if backend == "elasticsearch" and "GET" in SERVICES[service].methods)


@pytest.fixture(scope="module")
def es_fuzz(fuzz_db, es_url):
    """(DSN, Elasticsearch URL, worker pool forcing Elasticsearch) on the seeded data, indexed
    through the outboxes as in production."""
    from crashgate.external.elasticsearch.indexer import Indexer
    from crashgate.external.elasticsearch.reports_index import ReportsIndexer

    dsn, seeded = fuzz_db
    argv = [f"--elasticsearch.urls={es_url}", f"--elasticsearch.index_prefix={PREFIX}",
            f"--elasticsearch.reports_index={REPORTS_INDEX}"]
    with es_client(es_url) as client:
        client.indices.delete(index=f"{PREFIX}*,{REPORTS_INDEX}", ignore_unavailable=True)
    config = make_config(dsn, *argv)
    for indexer in (Indexer.from_config(config), ReportsIndexer.from_config(config)):
        while indexer.drain_once():
            pass
        indexer.close()
    with es_client(es_url) as client:
        client.indices.refresh(index=f"{PREFIX}*,{REPORTS_INDEX}")
    pool = WorkerPool(dsn, dataset.base_requests(seeded), WORKERS, argv, forced="elasticsearch")
    yield dsn, es_url, pool
    pool.close()
    with es_client(es_url) as client:
        client.indices.delete(index=f"{PREFIX}*,{REPORTS_INDEX}", ignore_unavailable=True)


def es_checksums(es_url):
    """{index: sorted digests of (id, source)} of the fuzz indices."""
    from elasticsearch import helpers

    sums = {}
    with es_client(es_url) as client:
        for hit in helpers.scan(client, index=f"{PREFIX}*,{REPORTS_INDEX}",
                                query={"query": {"match_all": {}}}):
            digest = hashlib.md5(json.dumps([hit["_id"], hit["_source"]],
                                            sort_keys=True).encode()).hexdigest()
            sums.setdefault(hit["_index"], []).append(digest)
    return {index: sorted(digests) for index, digests in sums.items()}


def test_the_indices_hold_the_seeded_data(es_fuzz):
    _, es_url, _ = es_fuzz
    sums = es_checksums(es_url)
    assert sum(len(d) for i, d in sums.items() if i.startswith(PREFIX)) == 11
    assert len(sums[REPORTS_INDEX]) == 4
    assert "pc_search:GET" in READ_OPERATIONS and "report_list:GET" in READ_OPERATIONS


@pytest.mark.parametrize("name", READ_OPERATIONS)
def test_fuzzed_requests_forced_to_elasticsearch(es_fuzz, name):
    dsn, es_url, pool = es_fuzz
    before = dataset.row_checksums(dsn), es_checksums(es_url)
    statuses, failures, seconds = pool.run(name, ES_URLS_PER_OPERATION, SEED)
    after = dataset.row_checksums(dsn), es_checksums(es_url)
    print(f"\n{name} (elasticsearch): {ES_URLS_PER_OPERATION} requests in {seconds:.1f} s, "
          f"{dict(sorted(statuses.items(), key=str))}")
    assert not failures, "\n".join(failures)
    assert dataset.changed_tables(before[0], after[0]) == {}
    assert before[1] == after[1]
