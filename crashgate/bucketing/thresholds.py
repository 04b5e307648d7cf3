"""Similarity thresholds: non-negative Decimals quantised to 0.1 (half-even), printed ``"4.0"``.

``'3.75'`` -> 3.8, ``'3.25'`` -> 3.2, ``4`` -> 4.0 (as PartyCrasher 0.2.0's ``Threshold``).
"""
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

STEP = Decimal("0.1")


def parse_threshold(text):
    """``text`` (str, int, float or Decimal) as a quantised Decimal; ValueError if it is not a
    finite non-negative number."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float, Decimal)):
        raise ValueError(f"threshold must be a number, got {text!r}")
    try:
        value = Decimal(text.strip() if isinstance(text, str) else str(text))
        if not value.is_finite():
            raise ValueError(f"threshold must be a finite number, got {text!r}")
        if value < 0:
            raise ValueError(f"threshold must not be negative, got {text!r}")
        return value.quantize(STEP, rounding=ROUND_HALF_EVEN).copy_abs()
    except InvalidOperation:
        raise ValueError(f"threshold must be a number like 4.0, got {text!r}") from None


def format_threshold(threshold):
    """The threshold's string form with one decimal: ``4`` -> ``"4.0"``."""
    return str(parse_threshold(threshold))


def parse_thresholds(values):
    """Sorted, de-duplicated thresholds from strings or numbers."""
    return sorted({parse_threshold(value) for value in values})
