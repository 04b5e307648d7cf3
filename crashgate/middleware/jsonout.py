"""JSON rendering of results: ISO-8601 UTC dates, Decimals as numbers, UTF-8."""
import datetime
import decimal
import json

UTC = datetime.timezone.utc


def _default(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        # integral Decimals (numeric ids) stay integers; scaled ones (numeric(5,2)) are floats
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_encoder = json.JSONEncoder(default=_default, ensure_ascii=False, separators=(",", ":"),
                            allow_nan=False)


def to_json_bytes(value):
    return _encoder.encode(value).encode("utf-8")
