"""The local Elasticsearch node (crashgate.external.elasticsearch.node) is real and does what the
gateway needs: custom pattern analyzers, bulk, terms/date_histogram/filter aggregations,
more_like_this, aliases and index templates; and it stops without leaving a JVM behind.

Uses ELASTICSEARCH_URL when set, else starts a node (needs java, javac and mvn). Without those the
tests are skipped, or fail when CRASHGATE_REQUIRE_ES=1.
"""
import collections
import datetime
import os
import random

import pytest
from elasticsearch import Elasticsearch, helpers

from crashgate.external.elasticsearch.node import port_answers
from tests.conftest import start_es_or_skip

FAMILIES = {  # signature families with disjoint frame vocabularies, for more_like_this
    "gc": ["js::GCMarker::processMarkStackTop", "js::GCMarker::drainMarkStack",
           "js::gc::GCRuntime::incrementalSlice", "js::gc::GCRuntime::collect"],
    "gfx": ["mozilla::gfx::DrawTargetD2D1::Flush", "mozilla::layers::CompositorD3D11::EndFrame",
            "nvwgf2umx.dll@0x1a2b3c", "mozilla::gfx::SourceSurfaceD2D1::EnsureRealizedBitmap"],
    "net": ["mozilla::net::nsHttpChannel::OnStartRequest", "nsSocketTransport::OnSocketReady",
            "mozilla::net::HttpBaseChannel::DoNotifyListener", "PR_Read"],
}
PRODUCTS = ["Firefox", "Thunderbird", "SeaMonkey"]
START = datetime.datetime(2024, 3, 1)
INDEX = "crashes_test"



def make_docs(count=1000, seed=4):
    rng = random.Random(seed)
    for number in range(count):
        family = rng.choice(sorted(FAMILIES))
        frames = rng.sample(FAMILIES[family], 2)
        yield {
            "_id": str(number), "family": family,
            "signature": f"{frames[0]} | {frames[1]}",
            "product": PRODUCTS[number % 3],
            "date_processed": (START + datetime.timedelta(hours=number % 240)).isoformat(),
        }


@pytest.fixture(scope="module")
def crashes(es):
    """INDEX with a pattern-tokenizer analyzer and keyword subfield, holding ``make_docs()``."""
    es.indices.delete(index=INDEX, ignore_unavailable=True)
    es.indices.create(index=INDEX, settings={
        "number_of_shards": 1, "number_of_replicas": 0,
        "analysis": {
            "tokenizer": {"frames": {"type": "pattern", "pattern": r"[\s|:@.]+"}},
            "analyzer": {"signature": {"type": "custom", "tokenizer": "frames",
                                       "filter": ["lowercase"]}},
        },
    }, mappings={"properties": {
        "signature": {"type": "text", "analyzer": "signature",
                      "fields": {"full": {"type": "keyword"}}},
        "family": {"type": "keyword"},
        "product": {"type": "keyword"},
        "date_processed": {"type": "date"},
    }})
    docs = list(make_docs())
    indexed, errors = helpers.bulk(es, docs, index=INDEX, chunk_size=500)
    assert (indexed, errors) == (len(docs), [])
    es.indices.refresh(index=INDEX)
    yield docs
    es.indices.delete(index=INDEX, ignore_unavailable=True)


def test_cluster_is_a_healthy_elasticsearch(es):
    assert es.cluster.health(wait_for_status="yellow", timeout="30s")["status"] in (
        "yellow", "green")
    assert es.info()["version"]["number"].startswith("7.")


def test_pattern_analyzer_tokenizes_signatures(es, crashes):
    tokens = es.indices.analyze(index=INDEX, body={
        "analyzer": "signature", "text": "js::GCMarker::drainMarkStack | nvwgf2umx.dll@0x1a2b3c"})
    assert [t["token"] for t in tokens["tokens"]] == [
        "js", "gcmarker", "drainmarkstack", "nvwgf2umx", "dll", "0x1a2b3c"]
    hits = es.count(index=INDEX, body={"query": {"match": {"signature": "GCMARKER"}}})["count"]
    assert hits == sum("GCMarker" in d["signature"] for d in crashes)


def test_terms_and_filter_aggregations(es, crashes):
    result = es.search(index=INDEX, size=0, aggs={
        "products": {"terms": {"field": "product"}},
        "signatures": {"terms": {"field": "signature.full", "size": 100}},
        "firefox": {"filter": {"term": {"product": "Firefox"}},
                    "aggs": {"families": {"terms": {"field": "family"}}}},
    })
    aggs = result["aggregations"]
    assert result["hits"]["total"]["value"] == len(crashes)
    assert {b["key"]: b["doc_count"] for b in aggs["products"]["buckets"]} == dict(
        collections.Counter(d["product"] for d in crashes))
    assert {b["key"]: b["doc_count"] for b in aggs["signatures"]["buckets"]} == dict(
        collections.Counter(d["signature"] for d in crashes))
    firefox = [d for d in crashes if d["product"] == "Firefox"]
    assert aggs["firefox"]["doc_count"] == len(firefox)
    assert {b["key"]: b["doc_count"] for b in aggs["firefox"]["families"]["buckets"]} == dict(
        collections.Counter(d["family"] for d in firefox))


def test_date_histogram(es, crashes):
    result = es.search(index=INDEX, size=0, aggs={"per_day": {"date_histogram": {
        "field": "date_processed", "calendar_interval": "day", "format": "yyyy-MM-dd"}}})
    days = {b["key_as_string"]: b["doc_count"]
            for b in result["aggregations"]["per_day"]["buckets"]}
    assert days == dict(collections.Counter(d["date_processed"][:10] for d in crashes))
    assert len(days) == 10


def test_more_like_this_finds_the_same_family(es, crashes):
    result = es.search(index=INDEX, size=20, query={"more_like_this": {
        "fields": ["signature"], "like": [{"_index": INDEX, "_id": "0"}],
        "min_term_freq": 1, "min_doc_freq": 1}})
    hits = result["hits"]["hits"]
    assert len(hits) == 20 and "0" not in {h["_id"] for h in hits}
    assert {h["_source"]["family"] for h in hits} == {crashes[0]["family"]}


def test_index_template_and_alias(es):
    es.indices.put_template(name="crashgate_test_tpl", body={
        "index_patterns": ["tpl_test_*"],
        "settings": {"number_of_shards": 1, "number_of_replicas": 0, "analysis": {
            "analyzer": {"words": {"type": "pattern", "pattern": r"\W+"}}}},
        "mappings": {"properties": {"signature": {"type": "text", "analyzer": "words"}}},
        "aliases": {"tpl_test": {}},
    })
    try:
        es.index(index="tpl_test_1", id="1", document={"signature": "Foo::Bar"}, refresh=True)
        mapping = es.indices.get_mapping(index="tpl_test_1")["tpl_test_1"]["mappings"]
        assert mapping["properties"]["signature"]["analyzer"] == "words"
        query = {"query": {"match": {"signature": "bar"}}}
        assert es.count(index="tpl_test", body=query)["count"] == 1
    finally:
        es.indices.delete(index="tpl_test_*", ignore_unavailable=True)
        es.indices.delete_template(name="crashgate_test_tpl", ignore=404)


def test_stop_frees_the_port_and_ends_the_jvm(tmp_path):
    node = start_es_or_skip(tmp_path / "data")
    with node:
        assert Elasticsearch(node.url).ping()
        pid, port = node.pid, node.port
    assert not port_answers(port)
    assert node.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
