"""JSON parsing that keeps every integer exact.

orjson is strict and fast but turns integers beyond 64 bits into floats, which would alter
a stored report's numbers. :func:`loads` validates with orjson and, only when the text has a
run of 20 or more digits, parses again with the standard library, whose integers are exact.
"""
import json
import re

import orjson

JSONDecodeError = orjson.JSONDecodeError
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{20,}")


def loads(data):
    """The value of the JSON text ``data`` (bytes or str); JSONDecodeError when invalid."""
    value = orjson.loads(data)
    raw = data if isinstance(data, (bytes, bytearray, memoryview)) else data.encode()
    if _LONG_DIGIT_RUN.search(raw):
        return json.loads(data)  # valid for orjson, so also for json, with exact integers
    return value
