"""The normalised similarity of a new report (the query) to a stored one, on a 0..10 scale.

A TF-IDF in the shape of Lucene's classic similarity (what PartyCrasher's thresholds were tuned
on), normalised by the query's self-match so that 10 means "identical" and thresholds do not
drift with corpus size, engine or Elasticsearch version:

    idf(t)        = ln((N + 1) / df(t))          N, df: stored reports of the project
    w(t)          = idf(t) ** 2                  a term no stored report has (df = 0)
                                                 weighs as the rarest known term, w = ln(N+1)²
    norm(d)       = 1 / sqrt(sum of d's term counts)
    raw(q, d)     = sum over t in q and d of  w(t) * sqrt(tf_d(t)) * norm(d)
    score(q, d)   = min(10, round(10 * raw(q, d) / raw(q, q), 4))

Only the query's terms need document frequencies (one lookup per new report) and ``norm(d)``
needs no idf, so engines store it once with the report. Terms no stored report has (df = 0:
addresses, free text) cannot match a candidate, so they are left out of the weights used for
candidate search, but they count in the self-match ``raw(q, q)``: a report made mostly of new
terms is not "identical" to a stored one that shares its few known terms. Terms every report
has weigh almost nothing (but still let the second report of a project match the first);
Lucene's ``1 + ln(N / (df + 1))`` would give the event-loop frames
all stacks share a floor weight that, summed over dozens of frames, makes unrelated crashes
look half-similar (benchmarks/bucketing_quality.py measures both: ``Formula(idf="classic")``).
Sums are exact (``math.fsum``), so the result does not depend on term order, and
``round(.., 4)`` makes scores survive a float32 round trip (Elasticsearch): an identical report
scores exactly 10 and a given query scores a given candidate identically on every engine.
"""
import math

from crashgate.bucketing.features import split_term

MAX_SCORE = 10.0
DIGITS = 4


class QueryWeights(dict):
    """{term: weight} of a query's known terms; ``unseen_weight`` is the weight its terms
    that no stored report has count with in its self-match."""

    unseen_weight = 0.0


class Formula:
    """One member of the TF-IDF family; ``DEFAULT`` is the one the gateway uses. Variants exist
    for benchmarks/bucketing_quality.py."""

    IDFS = {
        "classic": lambda n, df: 1.0 + math.log(n / (df + 1)),  # Lucene classic
        "plain": lambda n, df: math.log((n + 1) / df),  # ~1/N for a term every report has
        "bm25": lambda n, df: max(0.0, math.log((n - df + 0.5) / (df + 0.5))),
    }

    def __init__(self, idf_power=2.0, norm_power=0.5, tf_power=0.5, idf="plain"):
        self.idf_power, self.norm_power, self.tf_power = idf_power, norm_power, tf_power
        self.idf = self.IDFS[idf]
        self.tf = math.sqrt if tf_power == 0.5 else (lambda tf: tf ** tf_power)
        self._tf_of = _Memo(self.tf)  # tf(count) by count: counts are small integers

    def query_weights(self, terms, df, n_docs):
        weights = QueryWeights()
        for term in terms:
            frequency = df.get(term, 0)
            if frequency > 0:
                weight = self.idf(max(n_docs, frequency), frequency) ** self.idf_power
                if weight > 0.0:
                    weights[term] = weight
        weights.unseen_weight = max(0.0, self.idf(max(n_docs, 1), 1)) ** self.idf_power
        return weights

    def document_norm(self, terms):
        length = sum(terms.values())
        return 1.0 / length ** self.norm_power if length else 0.0

    def raw(self, query_weights, candidate_terms, candidate_norm):
        get = candidate_terms.get
        return self._raw([(weight, get(term)) for term, weight in query_weights.items()],
                         candidate_norm)

    def _raw(self, matched, candidate_norm):
        """The unnormalised score from (query weight, candidate tf) pairs (tf 0/None: no
        match)."""
        tf_of = self._tf_of
        return _exact([weight * tf_of[count] for weight, count in matched if count],
                      candidate_norm)

    def self_score(self, query_weights, terms):
        unseen = getattr(query_weights, "unseen_weight", 0.0)
        tf = self.tf
        unseen_raw = math.fsum([unseen * tf(count) for term, count in terms.items()
                                if term not in query_weights])
        return (self.raw(query_weights, terms, 1.0) + unseen_raw) * self.document_norm(terms)

    def score(self, query_weights, self_score, candidate_terms, candidate_norm):
        if self_score <= 0.0:
            return 0.0
        return self._scaled(self.raw(query_weights, candidate_terms, candidate_norm), self_score)

    def score_matched(self, matched, self_score, candidate_norm):
        """``score`` from the ``(weight, tf)`` pairs of the query terms the candidate holds:
        the same products summed exactly, so the same result, without a pass over every
        query term."""
        if self_score <= 0.0:
            return 0.0
        return self._scaled(self._raw(matched, candidate_norm), self_score)

    def score_stored(self, weight_of, self_score, term_ids, term_counts, candidate_norm):
        """``score_matched`` of a stored candidate given as its aligned term ids and counts;
        ``weight_of`` maps the query's term ids to their weights. One pass, no pair list."""
        if self_score <= 0.0:
            return 0.0
        get, tf_of = weight_of.get, self._tf_of
        return self._scaled(_exact([weight * tf_of[count]
                                    for term_id, count in zip(term_ids, term_counts)
                                    if count and (weight := get(term_id)) is not None],
                                   candidate_norm), self_score)

    @staticmethod
    def _scaled(raw, self_score):
        return min(MAX_SCORE, round(MAX_SCORE * raw / self_score, DIGITS))

    def explain(self, query_weights, self_score, candidate_terms, candidate_norm):
        if self_score <= 0.0:
            return []
        scale = MAX_SCORE * candidate_norm / self_score
        rows = []
        for term, weight in query_weights.items():
            tf = candidate_terms.get(term)
            if tf:
                field, token = split_term(term)
                rows.append({"field": field, "term": token, "weight": round(weight * self.tf(tf) * scale, DIGITS)})
        rows.sort(key=lambda row: (-row["weight"], row["field"], row["term"]))
        return rows


def _exact(products, candidate_norm):
    """The products' sum, exact (so independent of their order), times the norm."""
    return math.fsum(products) * candidate_norm


class _Memo(dict):
    """``function(key)`` by key, computed once."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def __missing__(self, key):
        value = self[key] = self.function(key)
        return value


DEFAULT = Formula()


def query_weights(terms, df, n_docs):
    """{term: weight} of the query's terms; ``df`` maps (at least) the query's terms to the
    number of stored reports holding them, ``n_docs`` is the number of stored reports."""
    return DEFAULT.query_weights(terms, df, n_docs)


def document_norm(terms):
    """The length norm of a stored report (no idf: computed once, when it is stored)."""
    return DEFAULT.document_norm(terms)


def self_score(query_weights, terms):
    """The raw score of the query against itself (``terms`` are the query's terms)."""
    return DEFAULT.self_score(query_weights, terms)


def score(query_weights, self_score, candidate_terms, candidate_norm):
    """The similarity of a candidate (its terms and stored norm) to the query, in [0, 10]."""
    return DEFAULT.score(query_weights, self_score, candidate_terms, candidate_norm)


def score_matched(matched, self_score, candidate_norm):
    """``score`` of a candidate given as the ``(query weight, tf)`` pairs of the query terms it
    holds (each term once), e.g. read straight from stored term ids and counts."""
    return DEFAULT.score_matched(matched, self_score, candidate_norm)


def score_stored(weight_of, self_score, term_ids, term_counts, candidate_norm):
    """``score_matched`` of a stored candidate: its aligned ``term_ids`` and ``term_counts``,
    ``weight_of`` the query's weights by term id (terms it lacks do not match)."""
    return DEFAULT.score_stored(weight_of, self_score, term_ids, term_counts, candidate_norm)


def top_query_terms(query_weights, k):
    """The ``k`` most discriminative query terms (highest weight, then term order), for
    candidate search."""
    return [term for term, _ in sorted(query_weights.items(), key=lambda item: (-item[1], item[0]))[:k]]


def explain(query_weights, self_score, candidate_terms, candidate_norm):
    """The matched terms as ``{field, term, weight}`` (their share of the 0..10 score, before
    the cap at 10), largest first."""
    return DEFAULT.explain(query_weights, self_score, candidate_terms, candidate_norm)
