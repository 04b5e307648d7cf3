"""exactjson.loads: orjson's strictness, the standard library's exact integers."""
import json

import pytest

from crashgate import exactjson


@pytest.mark.parametrize("text", [
    b'{"a": 123456789012345678901234567890}',
    b'[-98765432109876543210, 18446744073709551616, 1.5, "12345678901234567890123"]',
    '{"id": "99999999999999999999999", "n": 7}',
    b'{"u64": 18446744073709551615, "small": [1, 2, 3]}',
])
def test_values_equal_the_standard_library_with_exact_integers(text):
    value = exactjson.loads(text)
    assert value == json.loads(text)
    assert json.dumps(value) == json.dumps(json.loads(text))


@pytest.mark.parametrize("text", [
    b'{"a": NaN, "b": 123456789012345678901234567890}',
    b'[Infinity, 123456789012345678901234567890]',
    b'{"a": "\xff", "b": 123456789012345678901234567890}',
    b'{"a": 1,}',
])
def test_invalid_json_is_refused_even_with_long_numbers(text):
    with pytest.raises(exactjson.JSONDecodeError):
        exactjson.loads(text)
