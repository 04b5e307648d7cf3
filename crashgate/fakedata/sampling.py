"""Small sampling helpers shared by the generators (all driven by an explicit ``random.Random``)."""
from bisect import bisect
from itertools import accumulate


class Weighted:
    """A fixed weighted choice: ``pick(rng)`` returns one item, O(log n)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items, weights=None):
        self.items = list(items)
        if not self.items:
            raise ValueError("Weighted needs at least one item")
        self.cum = list(accumulate(weights if weights is not None else [1] * len(self.items)))
        self.total = self.cum[-1]

    @classmethod
    def of(cls, pairs):
        """Build from ``(item, weight)`` pairs."""
        items, weights = zip(*pairs)
        return cls(items, weights)

    def pick(self, rng):
        return self.items[bisect(self.cum, rng.random() * self.total)]


def zipf_weights(count, exponent=1.05, offset=4.0):
    """Zipf-Mandelbrot weights for ranks 1..count: ``1 / (rank + offset) ** exponent``."""
    return [1.0 / (rank + offset) ** exponent for rank in range(1, count + 1)]


def apportion(total, weights):
    """Split the integer ``total`` proportionally to ``weights`` (largest remainder, exact sum)."""
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts
