"""The normalised 0..10 similarity, its explanation and the query-term selection."""
import json
import math
from collections import Counter

import pytest

from crashgate.bucketing import scoring
from crashgate.bucketing.features import SEP, report_terms
from crashgate.bucketing.tokenizers import camel, lerch, space
from tests.conftest import LAUNCHPAD_SAMPLES



def corpus(*docs):
    terms = [Counter(doc) for doc in docs]
    return terms, Counter(term for doc in terms for term in doc)


def test_query_weights_are_squared_idf_and_skip_unseen_terms():
    weights = scoring.query_weights(Counter({"a": 3, "b": 1, "new": 1, "all": 1}), {"a": 1, "b": 9, "all": 10}, 10)
    assert set(weights) == {"a", "b", "all"}
    assert weights["a"] == pytest.approx(math.log(11) ** 2)
    assert weights["a"] > weights["b"] > weights["all"] > 0 and weights["all"] < 0.01
    classic = scoring.Formula(idf="classic").query_weights(Counter({"a": 1, "all": 1}), {"a": 1, "all": 10}, 10)
    assert classic["a"] == pytest.approx((1 + math.log(10 / 2)) ** 2) and classic["all"] > 0


def test_second_report_of_a_project_matches_the_first():
    first = Counter({"f": 2, "g": 1})
    weights = scoring.query_weights(first, {"f": 1, "g": 1}, 1)
    own = scoring.self_score(weights, first)
    assert scoring.score(weights, own, first, scoring.document_norm(first)) == 10.0


def test_document_norm():
    assert scoring.document_norm(Counter({"a": 3, "b": 1})) == pytest.approx(0.5)
    assert scoring.document_norm(Counter()) == 0.0


def test_identical_scores_ten_and_unrelated_zero():
    docs, df = corpus("a b c".split(), "a b d".split(), "x y".split(), "a b c".split(), "e".split())
    query = docs[0]
    weights = scoring.query_weights(query, df, len(docs))
    own = scoring.self_score(weights, query)
    scores = [scoring.score(weights, own, doc, scoring.document_norm(doc)) for doc in docs]
    assert scores[0] == scores[3] == 10.0
    assert 0 < scores[1] < 10 and scores[2] == 0.0


def test_score_is_capped_and_survives_float32_norms():
    import struct
    docs, df = corpus("a b c d e".split(), "a b".split(), "f".split())
    weights = scoring.query_weights(docs[1], df, 3)
    own = scoring.self_score(weights, docs[1])
    assert scoring.score(weights, own, Counter("ab"), 5.0) == 10.0  # a far shorter candidate
    norm32 = struct.unpack("f", struct.pack("f", scoring.document_norm(docs[1])))[0]
    assert scoring.score(weights, own, docs[1], norm32) == 10.0


def test_no_weights_scores_zero():
    assert scoring.score({}, 0.0, Counter("a"), 1.0) == 0.0
    assert scoring.explain({}, 0.0, Counter("a"), 1.0) == []


def test_deterministic_regardless_of_term_order():
    docs, df = corpus([f"t{i}" for i in range(300)], [f"t{i}" for i in range(0, 300, 2)], ["x"])
    weights = scoring.query_weights(docs[0], df, 3)
    reordered = dict(reversed(list(weights.items())))
    own = scoring.self_score(weights, docs[0])
    assert own == scoring.self_score(reordered, docs[0])
    norm = scoring.document_norm(docs[1])
    assert scoring.score(weights, own, docs[1], norm) == scoring.score(reordered, own, docs[1], norm)


def test_top_query_terms():
    weights = {"common": 1.0, "rare": 9.0, "b": 4.0, "a": 4.0}
    assert scoring.top_query_terms(weights, 3) == ["rare", "a", "b"]
    assert scoring.top_query_terms(weights, 10) == ["rare", "a", "b", "common"]


def test_explain_sums_to_score():
    query = Counter({f"stacktrace.function{SEP}Foo": 2, f"Title{SEP}crash": 1, f"Title{SEP}other": 1})
    candidate = Counter({f"stacktrace.function{SEP}Foo": 1, f"Title{SEP}crash": 3})
    df = {term: 1 for term in query}
    weights = scoring.query_weights(query, df, 5)
    own = scoring.self_score(weights, query)
    norm = scoring.document_norm(candidate)
    rows = scoring.explain(weights, own, candidate, norm)
    assert [(row["field"], row["term"]) for row in rows] == [("Title", "crash"), ("stacktrace.function", "Foo")]
    assert rows[0]["weight"] >= rows[1]["weight"] > 0
    assert sum(row["weight"] for row in rows) == pytest.approx(scoring.score(weights, own, candidate, norm), abs=1e-3)


@pytest.mark.parametrize("tokenize", [camel, lerch, space])
def test_launchpad_samples_score_sanely(tokenize):
    reports = [json.loads(path.read_text()) for path in sorted(LAUNCHPAD_SAMPLES.glob("*.json"))]
    terms = [report_terms(report, tokenize) for report in reports]
    df = Counter(term for doc in terms for term in doc)
    by_id = {report["database_id"]: i for i, report in enumerate(reports)}
    for i, query in enumerate(terms):
        weights = scoring.query_weights(query, df, len(terms))
        own = scoring.self_score(weights, query)
        scores = [scoring.score(weights, own, doc, scoring.document_norm(doc)) for doc in terms]
        assert scores[i] == 10.0
        assert all(0.0 <= s < 10.0 for j, s in enumerate(scores) if j != i)
    # the two cairo-dock crashes are each other's nearest neighbour
    a, b = by_id["launchpad:0001033690"], by_id["launchpad:0001033190"]
    weights = scoring.query_weights(terms[a], df, len(terms))
    own = scoring.self_score(weights, terms[a])
    scores = [scoring.score(weights, own, doc, scoring.document_norm(doc)) for doc in terms]
    assert max((s, j) for j, s in enumerate(scores) if j != a)[1] == b


def test_terms_no_stored_report_has_lower_the_score():
    """A report sharing one known term with a stored one is not 'identical' to it because its
    other terms are new (they count in the self-match, though no candidate can have them)."""
    stored = Counter({"fn\x1fread": 1, "fn\x1fpng": 1})
    query = Counter({"fn\x1fread": 1, **{f"fn\x1fnew{i}": 1 for i in range(9)}})
    weights = scoring.query_weights(query, {"fn\x1fread": 1, "fn\x1fpng": 1}, 5)
    assert set(weights) == {"fn\x1fread"}  # candidate search only uses known terms
    own = scoring.self_score(weights, query)
    value = scoring.score(weights, own, stored, scoring.document_norm(stored))
    alone = scoring.query_weights(Counter({"fn\x1fread": 1}), {"fn\x1fread": 1}, 5)
    alone_value = scoring.score(alone, scoring.self_score(alone, Counter({"fn\x1fread": 1})),
                                stored, scoring.document_norm(stored))
    assert alone_value > 7.0  # only the shared term: as similar as the length norms allow
    assert 0 < value < alone_value / 3  # nine new terms of ten: far less similar


def test_score_from_matched_pairs_equals_the_full_score():
    import random

    rng = random.Random(4)
    for _ in range(300):
        vocabulary = [f"f\x1ft{i}" for i in range(40)]
        query = Counter(rng.choices(vocabulary, k=rng.randint(1, 30)))
        candidate = Counter(rng.choices(vocabulary, k=rng.randint(1, 30)))
        df = {term: rng.randint(1, 20) for term in vocabulary if rng.random() < 0.8}
        weights = scoring.query_weights(query, df, 20)
        own = scoring.self_score(weights, query)
        norm = scoring.document_norm(candidate)
        matched = [(weight, candidate[term]) for term, weight in weights.items()
                   if term in candidate]
        assert scoring.score_matched(matched, own, norm) == \
            scoring.score(weights, own, candidate, norm)


@pytest.mark.parametrize("seed", range(40))
def test_score_from_stored_arrays_equals_score(seed):
    """The ingestion path scores candidates from their stored (term id, count) arrays; it
    must give exactly the score computed from term dicts."""
    import random
    rng = random.Random(seed)
    vocabulary = [f"f{SEP}t{n}" for n in range(60)]
    df = {term: rng.randint(1, 50) for term in vocabulary}
    query = Counter(rng.choices(vocabulary, k=rng.randint(1, 40)) + ["unseen"])
    candidate = Counter(rng.choices(vocabulary, k=rng.randint(1, 40)))
    weights = scoring.query_weights(query, df, 60)
    self_score = scoring.self_score(weights, query)
    norm = scoring.document_norm(candidate)
    term_id = {term: number for number, term in enumerate(vocabulary)}
    stored = sorted((term_id[term], count) for term, count in candidate.items())
    by_dict = scoring.score(weights, self_score, candidate, norm)
    by_ids = scoring.score_stored({term_id[t]: w for t, w in weights.items()}, self_score,
                                  [i for i, _ in stored], [c for _, c in stored], norm)
    assert by_ids == by_dict
    assert (by_dict > 0) == bool(set(weights) & set(candidate))
