"""Fixtures shared by the Elasticsearch indexing tests."""
import uuid as uuidlib

import pytest

from crashgate.external.elasticsearch.indexer import Indexer
from tests.conftest import make_config


@pytest.fixture
def prefix(es):
    """Index prefix of one test; its indices and templates are deleted afterwards."""
    name = f"cgtest-{uuidlib.uuid4().hex[:8]}-"
    yield name
    es.indices.delete(index=f"{name}*", ignore_unavailable=True)
    es.indices.delete_template(name=f"{name}*", ignore=404)


@pytest.fixture
def make_indexer(clean_db, es_url, prefix):
    """``make_indexer(*options, url=, index_prefix=, **overrides)``: an indexer on the test
    database and node, configured with the config ``options`` (``--section.name=value``) and
    the constructor ``overrides``; closed after the test."""
    made = []

    def make(*options, url=es_url, index_prefix=prefix, **overrides):
        config = make_config(clean_db, f"--elasticsearch.urls={url}",
                             f"--elasticsearch.index_prefix={index_prefix}", *options)
        made.append(Indexer.from_config(config, **overrides))
        return made[-1]

    yield make
    for indexer in made:
        indexer.close()
