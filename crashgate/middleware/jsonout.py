"""JSON rendering of results: ISO-8601 UTC dates, Decimals as numbers, UTF-8 (orjson)."""
import decimal

import orjson

# orjson writes integers in this range itself; JSON (a stored report, a numeric column) may
# hold larger ones, which are written digit for digit.
NATIVE_INTEGERS = range(-2 ** 63, 2 ** 64)


def _default(value):
    """Types orjson leaves to us."""
    if isinstance(value, decimal.Decimal):
        # integral Decimals (numeric ids) stay integers; scaled ones (numeric(5,2)) are floats
        return _integer(int(value)) if value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _integer(number):
    return number if number in NATIVE_INTEGERS else orjson.Fragment(str(number).encode())


def _exact_integers(value):
    """``value`` with integers orjson cannot write turned into raw JSON numbers."""
    if isinstance(value, dict):
        return {key: _exact_integers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_exact_integers(item) for item in value]
    if type(value) is int:
        return _integer(value)
    return value


def to_json_bytes(value):
    """Compact UTF-8 JSON. Datetimes are written with their own offset: every datetime the
    gateway handles is UTC (sessions run with TimeZone=UTC, parameters are converted to UTC),
    naive ones are taken as UTC."""
    try:
        return _dumps(value)
    except orjson.JSONEncodeError:  # perhaps an integer beyond 64 bits: a slower second try
        try:
            return _dumps(_exact_integers(value))
        except orjson.JSONEncodeError:
            raise TypeError(f"not JSON serialisable: {value!r:.200}") from None


def _dumps(value):
    return orjson.dumps(value, default=_default, option=orjson.OPT_NAIVE_UTC)
