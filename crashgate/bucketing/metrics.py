"""Clustering quality of an assignment against gold labels, in time linear in the number of
items (notes §3.3), from the contingency counts n(C, L) of assigned bucket C and gold bucket L:

- BCubed precision P = (1/N) sum n(C,L)^2 / n(C), recall R = (1/N) sum n(C,L)^2 / n(L),
  F1 = 2PR / (P + R) (from the averaged P and R, as the paper);
- purity = (1/N) sum over C of max_L n(C,L); inverse purity = (1/N) sum over L of max_C n(C,L);
- purity F (Larsen-Aone) = sum over L of n(L)/N * max_C 2 n(C,L) / (n(C) + n(L)).
"""
from collections import Counter
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Scores:
    n: int
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    purity: float
    inverse_purity: float
    purity_f: float
    buckets: int
    gold_buckets: int

    def as_dict(self):
        return asdict(self)


class Contingency:
    """Counts n(C, L), n(C), n(L) kept up to date one item at a time."""

    def __init__(self, pairs=()):
        self.cells, self.assigned, self.gold = Counter(), Counter(), Counter()
        for bucket, label in pairs:
            self.add(bucket, label)

    def add(self, bucket, label):
        self.cells[bucket, label] += 1
        self.assigned[bucket] += 1
        self.gold[label] += 1

    def scores(self):
        n = sum(self.assigned.values())
        if n == 0:
            return Scores(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0)
        precision = recall = 0.0
        best_for_bucket, best_for_label, best_f = Counter(), Counter(), {}
        for (bucket, label), count in self.cells.items():
            size_c, size_l = self.assigned[bucket], self.gold[label]
            precision += count * count / size_c
            recall += count * count / size_l
            best_for_bucket[bucket] = max(best_for_bucket[bucket], count)
            best_for_label[label] = max(best_for_label[label], count)
            best_f[label] = max(best_f.get(label, 0.0), 2.0 * count / (size_c + size_l))
        precision, recall = precision / n, recall / n
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        purity_f = sum(self.gold[label] * f for label, f in best_f.items()) / n
        return Scores(n, precision, recall, f1, sum(best_for_bucket.values()) / n,
                      sum(best_for_label.values()) / n, purity_f, len(self.assigned), len(self.gold))


def clustering_scores(pairs):
    """Scores of ``(assigned bucket, gold label)`` pairs."""
    return Contingency(pairs).scores()
