"""BCubed and purity from contingency counts against a brute-force O(n^2) computation, and the
online evaluation protocol."""
import random
from decimal import Decimal

import pytest

from crashgate.bucketing.evaluation import evaluate, format_table
from crashgate.bucketing.metrics import Contingency, clustering_scores


def brute_force(pairs):
    n = len(pairs)
    precision = sum(sum(1 for c2, l2 in pairs if c2 == c and l2 == l) / sum(1 for c2, _ in pairs if c2 == c)
                    for c, l in pairs) / n
    recall = sum(sum(1 for c2, l2 in pairs if c2 == c and l2 == l) / sum(1 for _, l2 in pairs if l2 == l)
                 for c, l in pairs) / n
    buckets, labels = {c for c, _ in pairs}, {l for _, l in pairs}
    members = {c: {i for i, (c2, _) in enumerate(pairs) if c2 == c} for c in buckets}
    gold = {l: {i for i, (_, l2) in enumerate(pairs) if l2 == l} for l in labels}
    purity = sum(max(len(members[c] & gold[l]) for l in labels) for c in buckets) / n
    inverse = sum(max(len(members[c] & gold[l]) for c in buckets) for l in labels) / n

    def f(c, l):
        both = len(members[c] & gold[l])
        return 0.0 if not both else 2 * (both / len(members[c])) * (both / len(gold[l])) / (
            both / len(members[c]) + both / len(gold[l]))
    purity_f = sum(len(gold[l]) / n * max(f(c, l) for c in buckets) for l in labels)
    return precision, recall, 2 * precision * recall / (precision + recall), purity, inverse, purity_f


@pytest.mark.parametrize("seed", range(8))
def test_linear_time_equals_brute_force(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 120)
    pairs = [(f"c{rng.randint(0, rng.randint(0, 30))}", f"l{rng.randint(0, rng.randint(0, 30))}") for _ in range(n)]
    scores = clustering_scores(pairs)
    expected = brute_force(pairs)
    got = (scores.bcubed_precision, scores.bcubed_recall, scores.bcubed_f1, scores.purity,
           scores.inverse_purity, scores.purity_f)
    assert got == pytest.approx(expected)
    assert scores.n == n and scores.buckets == len({c for c, _ in pairs})
    assert scores.gold_buckets == len({l for _, l in pairs})


def test_hand_computed():
    # buckets A={1,2,3}, B={4,5}; gold x={1,2,4}, y={3,5}
    pairs = [("A", "x"), ("A", "x"), ("A", "y"), ("B", "x"), ("B", "y")]
    s = clustering_scores(pairs)
    assert s.bcubed_precision == pytest.approx((2/3 + 2/3 + 1/3 + 1/2 + 1/2) / 5)  # 8/15
    assert s.bcubed_recall == pytest.approx((2/3 + 2/3 + 1/2 + 1/3 + 1/2) / 5)     # 8/15
    assert s.bcubed_f1 == pytest.approx(8 / 15)
    assert s.purity == pytest.approx(3 / 5) and s.inverse_purity == pytest.approx(3 / 5)
    assert s.purity_f == pytest.approx(3/5 * 2/3 + 2/5 * 1/2)  # x: F(A,x)=2*2/6; y: F(B,y)=2*1/4
    perfect = clustering_scores([("a", 1), ("a", 1), ("b", 2)])
    assert (perfect.bcubed_precision, perfect.bcubed_recall, perfect.bcubed_f1, perfect.purity_f) == (1, 1, 1, 1)
    one = clustering_scores([("a", 1), ("a", 2), ("a", 3), ("a", 4)])
    assert one.bcubed_precision == 0.25 and one.bcubed_recall == 1.0 and one.bcubed_f1 == pytest.approx(0.4)


def test_empty_and_incremental():
    assert clustering_scores([]).n == 0
    table = Contingency()
    table.add("a", 1)
    table.add("b", 1)
    assert table.scores().bcubed_recall == 0.5


def test_evaluate_online_rows():
    seen = []

    def assign(report):  # bucket by the label's first letter at 1.0, singletons at 5.0
        seen.append(report["id"])
        return {"1.0": report["id"][0], Decimal("5.0"): report["id"]}
    data = [({"id": name}, name[0]) for name in ["a1", "a2", "b1", "a3", "b2"]]
    rows = evaluate(data, assign, ["5", "1.0"], every=2)
    assert seen == ["a1", "a2", "b1", "a3", "b2"]
    assert [(row["n"], row["threshold"]) for row in rows] == [
        (2, "1.0"), (2, "5.0"), (4, "1.0"), (4, "5.0"), (5, "1.0"), (5, "5.0")]
    assert rows[-2]["bcubed_f1"] == 1.0 and rows[-1]["bcubed_precision"] == 1.0
    assert rows[-1]["bcubed_recall"] == pytest.approx((1/3 * 3 + 1/2 * 2) / 5)
    assert [row["n"] for row in evaluate(data, assign, ["1.0"], every=5)] == [5]
    table = format_table(rows).splitlines()
    assert len(table) == 7 and table[0].split()[:3] == ["n", "T", "B3"]
    with pytest.raises(ValueError, match="4.0"):
        evaluate(data, assign, ["4.0"])
