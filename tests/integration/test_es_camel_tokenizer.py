"""The crash indices' CamelCase tokenizer (``indices.SETTINGS``) cuts text exactly like the
Python ``camel`` tokenizer of bucketing, on real identifiers and on random mixes of cased,
uncased and supplementary letters, digits of other scripts, marks and punctuation."""
import random
import uuid

import pytest

from crashgate.bucketing.tokenizers import camel
from crashgate.external.elasticsearch.indices import SETTINGS

ALPHABET = ("aZbYzA09_:-.() *<>&,/\t\n" "éÉßΣσǅ中ひŁł" "\u0301\u0308" "²٣Ⅻ" "😀𝐀𝐚")
IDENTIFIERS = [
    "call MooseX::FTPClass2_beta", "QCommonStyle::drawControl", "g_main_context_dispatch",
    "/usr/lib/libQtGui.so.4", "nbd-server.c:1546", "Überfall::ÄrgerNis42x", "HTTPServer",
    "nsObjectFrame::markChildren(JSContext*, JSObject*)", "ABc", "aBC", "ABC123def",
    "x86_64", "ǅemal", "中文Name", "σΣσ", "e\u0301E", "𝐀𝐀𝐚b", "", "  ", "a",
]


@pytest.fixture
def index(es):
    name = f"cgtest-camel-{uuid.uuid4().hex[:8]}"
    es.indices.create(index=name, body={"settings": SETTINGS})
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


def tokens(es, index, text):
    analyzed = es.indices.analyze(index=index, body={"tokenizer": "camel", "text": text})
    return [token["token"] for token in analyzed["tokens"]]


def test_camel_tokenizer_matches_the_python_tokenizer(es, index):
    rng = random.Random(20261123)
    texts = IDENTIFIERS + ["".join(rng.choices(ALPHABET, k=rng.randint(1, 24)))
                           for _ in range(400)]
    differing = [(text, tokens(es, index, text), camel(text)) for text in texts
                 if tokens(es, index, text) != camel(text)]
    assert differing == []
    assert tokens(es, index, "HTTPServer2go") == ["HTTP", "Server", "2", "go"]
