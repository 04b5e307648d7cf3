"""``elasticsearch.frame_words``: the CamelCase ``frame_functions.text`` subfield is in the crash
indices only when the option is on (off by default), frames searches through the gateway never
need it, and turning it on reaches the existing indices (their documents once reindexed)."""
import datetime
from urllib.parse import quote

import pytest

from crashgate.services.search_filters import SEARCH_MODES
from tests.es_helpers import gateway
from tests.factories import crash_doc, store

UTC = datetime.timezone.utc
DAY = datetime.datetime(2024, 3, 6, 12, tzinfo=UTC)  # a Wednesday: one weekly index
WINDOW = "from/2024-03-04/to/2024-03-09/"
FUNCTION = "nsObjectFrame::markChildren(JSContext*, JSObject*)"
# a term per search mode that finds FUNCTION (none of them a whole CamelCase word)
FINDING = {"is_exactly": FUNCTION, "contains": "markchildren(jscon",
           "starts_with": "NSOBJECTframe::", "default": "Frame::mark"}


def crash(minutes, function=FUNCTION):
    return crash_doc(DAY + datetime.timedelta(minutes=minutes), "sig",
                     frames=[{"function": function, "module": "xul.dll"},
                             {"function": "HTTPServer2go", "module": "xul.dll"}])


@pytest.fixture
def drain(make_indexer):
    """``drain(*options)``: an indexer configured with ``options`` empties the outbox; returns
    how many crashes it indexed."""
    def drain(*options):
        indexer = make_indexer(*options)
        while indexer.drain_once():
            pass
        return indexer.stats.indexed
    return drain


def frame_subfields(es, prefix):
    """{index or template: sorted subfields of frame_functions}."""
    found = {name: mapping["mappings"]["properties"]["frame_functions"]
             for name, mapping in es.indices.get_mapping(index=f"{prefix}*").items()}
    template = es.indices.get_template(name=f"{prefix}template")[f"{prefix}template"]
    found["template"] = template["mappings"]["properties"]["frame_functions"]
    return {name: sorted(field.get("fields", {})) for name, field in found.items()}


def word_hits(es, prefix, word):
    """uuids of the crashes a match query on frame_functions.text finds for ``word``."""
    es.indices.refresh(index=f"{prefix}*")
    hits = es.search(index=f"{prefix}all", query={"match": {"frame_functions.text": word}})
    return sorted(hit["_id"] for hit in hits["hits"]["hits"])


def test_off_by_default_no_subfield_and_frames_searches_still_find(clean_db, es_url, es,
                                                                    prefix, drain):
    docs = [crash(0), crash(1, "other::Function")]
    store(clean_db, docs)
    assert drain() == 2
    index = f"{prefix}20240304"
    assert frame_subfields(es, prefix) == {index: ["lower"], "template": ["lower"]}
    assert word_hits(es, prefix, "children") == []
    assert set(FINDING) == set(SEARCH_MODES)
    with gateway(clean_db, es_url, prefix) as client:
        for field in ("frames", "dump"):
            for mode, term in FINDING.items():
                for value, expected in ((term, [docs[0]["uuid"]]), (term + "zz", [])):
                    path = (f"/search/crashes/{WINDOW}for/{quote(value, safe='')}/in/{field}/"
                            f"search_mode/{mode}/")
                    answers = {backend: client.get(f"{path}force_api_impl/{backend}/")
                               for backend in ("elasticsearch", "postgresql")}
                    found = answers["elasticsearch"].json
                    assert answers["elasticsearch"].headers["X-Crashgate-Backend"] == \
                        "elasticsearch"
                    assert [hit["uuid"] for hit in found["hits"]] == expected, (path, found)
                    assert answers["elasticsearch"].body == answers["postgresql"].body, path


def test_on_the_subfield_finds_camel_case_word_parts(clean_db, es, prefix, drain):
    docs = [crash(0), crash(1, "other::Function")]
    store(clean_db, docs)
    assert drain("--elasticsearch.frame_words=true") == 2
    index = f"{prefix}20240304"
    assert frame_subfields(es, prefix) == {index: ["lower", "text"],
                                           "template": ["lower", "text"]}
    assert word_hits(es, prefix, "children") == [docs[0]["uuid"]]
    assert word_hits(es, prefix, "JSContext") == [docs[0]["uuid"]]  # JS + Context
    assert word_hits(es, prefix, "server") == sorted(d["uuid"] for d in docs)
    assert word_hits(es, prefix, "markchildren") == []  # words, not whole names


def test_turning_it_on_adds_the_subfield_to_existing_indices(clean_db, es, prefix, drain,
                                                             make_indexer):
    """New documents get the words at once, older ones once reindexed; turning it off again
    changes the template only (an index keeps its subfields: delete and reindex)."""
    old, new = crash(0), crash(1)
    store(clean_db, [old])
    assert drain() == 1
    store(clean_db, [new])
    assert drain("--elasticsearch.frame_words=true") == 1
    index = f"{prefix}20240304"
    assert frame_subfields(es, prefix)[index] == ["lower", "text"]
    assert word_hits(es, prefix, "children") == [new["uuid"]]  # the old one once reindexed
    summary = make_indexer("--elasticsearch.frame_words=true").reindex(
        DAY - datetime.timedelta(days=1), DAY + datetime.timedelta(days=1))
    assert (summary.sent, summary.failed) == (2, 0)
    assert word_hits(es, prefix, "children") == sorted([old["uuid"], new["uuid"]])
    assert drain() == 0  # off again
    assert frame_subfields(es, prefix) == {index: ["lower", "text"], "template": ["lower"]}
