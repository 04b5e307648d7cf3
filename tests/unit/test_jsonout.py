"""JSON rendering: dates, decimals, UTF-8."""
import datetime
import decimal
import json

import pytest

from crashgate.middleware.jsonout import to_json_bytes

UTC = datetime.timezone.utc


def test_dates_decimals_and_text():
    value = {
        "at": datetime.datetime(2012, 2, 29, 1, 23, 45, tzinfo=UTC),
        "precise": datetime.datetime(2012, 2, 29, 1, 23, 45, 120000, tzinfo=UTC),
        "naive": datetime.datetime(2012, 2, 29, 1, 23, 45),
        "day": datetime.date(2012, 2, 29),
        "build": decimal.Decimal("20120417012345"), "throttle": decimal.Decimal("10.00"),
        "signature": "Ünïcödé::función | a/b+c", "pair": ("a", 1),
    }
    assert json.loads(to_json_bytes(value)) == {
        "at": "2012-02-29T01:23:45+00:00", "precise": "2012-02-29T01:23:45.120000+00:00",
        "naive": "2012-02-29T01:23:45+00:00", "day": "2012-02-29",
        "build": 20120417012345, "throttle": 10.0,
        "signature": "Ünïcödé::función | a/b+c", "pair": ["a", 1]}
    assert "Ünïcödé".encode() in to_json_bytes(value)  # UTF-8, not \\u escapes


def test_unserialisable_values_raise():
    with pytest.raises(TypeError):
        to_json_bytes({"x": object()})


def test_integers_beyond_64_bits_are_written_exactly():
    # a stored report's document: jsonb gives back 1e30 as a 31-digit integer
    big = {"n": 10 ** 30, "neg": [-(2 ** 63) - 1, 2 ** 64 - 1], "d": decimal.Decimal(10 ** 25)}
    assert json.loads(to_json_bytes(big)) == {"n": 10 ** 30, "neg": [-(2 ** 63) - 1,
                                                                      2 ** 64 - 1],
                                              "d": 10 ** 25}
    assert to_json_bytes({"n": 10 ** 30}) == b'{"n":1000000000000000000000000000000}'
