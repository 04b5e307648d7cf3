"""JSON rendering of results: ISO-8601 UTC dates, Decimals as numbers, UTF-8 (orjson)."""
import decimal

import orjson


def _default(value):
    """Types orjson leaves to us."""
    if isinstance(value, decimal.Decimal):
        # integral Decimals (numeric ids) stay integers; scaled ones (numeric(5,2)) are floats
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json_bytes(value):
    """Compact UTF-8 JSON. Datetimes are written with their own offset: every datetime the
    gateway handles is UTC (sessions run with TimeZone=UTC, parameters are converted to UTC),
    naive ones are taken as UTC."""
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_NAIVE_UTC)
    except orjson.JSONEncodeError:
        raise TypeError(f"not JSON serialisable: {value!r:.200}") from None
