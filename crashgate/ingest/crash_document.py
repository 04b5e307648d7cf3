"""Validate one processed crash document and normalise it into the values the tables store.

Shared by the file loader and the HTTP ingestion API: nothing here reads files or touches the
database. The document format is described in ``docs/crash-format.md``.
"""
import datetime
import math

import orjson
import re

from crashgate.errors import BadRequest

UTC = datetime.timezone.utc
INT_MIN, INT_MAX = -2**31, 2**31 - 1  # PostgreSQL integer

REQUIRED_TEXT = ("product", "version", "signature")
OPTIONAL_TEXT = (
    "build", "release_channel", "reason", "address", "os_name", "os_version", "cpu_name",
    "cpu_info", "url", "email", "user_comments", "app_notes", "hangid", "process_type",
    "processor_notes", "duplicate_of",
)
OPTIONAL_INT = ("uptime", "install_age", "last_crash")
# Text PostgreSQL indexes, with its most UTF-8 bytes: a b-tree entry holds at most about
# 2,700 bytes, and the daily aggregates' keys combine several of these fields.
INDEXED_TEXT_BYTES = {"signature": 2000, "product": 100, "version": 100, "build": 100,
                      "release_channel": 100, "os_name": 100, "process_type": 100,
                      "hangid": 100}
OPTIONAL_TIMESTAMP = ("client_crash_date", "started_datetime", "completed_datetime")
KNOWN_FIELDS = frozenset(
    ("uuid", "date_processed", "success", "plugin", "extensions", "frames")
    + REQUIRED_TEXT + OPTIONAL_TEXT + OPTIONAL_INT + OPTIONAL_TIMESTAMP
)
FRAME_TEXT = ("function", "module", "file", "offset")

_UUID = re.compile(r"[0-9A-Za-z-]{1,64}")
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")  # an escaped NUL, not an escaped backslash


class InvalidCrash(BadRequest):
    """A crash document lacks a required field or holds a value of the wrong type."""

    type = "invalid_crash"


def normalize_crash(doc):
    """Check ``doc`` (a parsed crash document) and return the dict of values to store.

    Keys: every ``reports`` column but ``id`` and ``signature_id`` (timestamps as aware UTC
    datetimes, ``frames`` and ``extra`` as JSON text, ``extra`` holding the unknown top-level
    fields or None), ``extensions`` (list of ``(id, version)`` in the client's order) and
    ``plugin_filename``, ``plugin_name``, ``plugin_version``. Raises InvalidCrash.
    """
    if type(doc) is not dict:
        raise InvalidCrash(f"a crash document must be a JSON object, got {_kind(doc)}")
    crash = {
        "uuid": _uuid(doc.get("uuid")),
        "date_processed": _timestamp("date_processed", doc.get("date_processed"), True),
    }
    get = doc.get
    for name in REQUIRED_TEXT:
        crash[name] = _text(name, get(name), True)
    for name in OPTIONAL_TEXT:  # inline fast path: null, or ASCII text without NUL
        value = get(name)
        if value is not None and not (type(value) is str and value.isascii()
                                      and "\x00" not in value):
            value = _text(name, value)
        crash[name] = value
    for name in OPTIONAL_INT:
        value = get(name)
        if value is not None and not (type(value) is int and INT_MIN <= value <= INT_MAX):
            value = _integer(name, value)
        crash[name] = value
    for name in OPTIONAL_TIMESTAMP:
        crash[name] = _timestamp(name, get(name))
    success = get("success")
    if success is not None and type(success) is not bool:
        raise _invalid("success", "a boolean", success)
    crash["success"] = success
    for name, limit in INDEXED_TEXT_BYTES.items():
        value = crash[name]
        if value is not None and len(value) * 4 > limit and len(value.encode()) > limit:
            raise _invalid(name, f"at most {limit} bytes of UTF-8 text", value)
    crash["frames"] = _frames(get("frames"))
    crash["extensions"] = _extensions(get("extensions"))
    crash.update(_plugin(get("plugin")))
    unknown = doc.keys() - KNOWN_FIELDS
    crash["extra"] = _json_text("extra", {k: doc[k] for k in unknown}) if unknown else None
    return crash


def parse_timestamp(name, value):
    """``value`` (ISO-8601 string; no offset means UTC) as an aware UTC datetime."""
    if type(value) is not str:
        raise _invalid(name, "an ISO-8601 timestamp string", value)
    try:
        moment = datetime.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _invalid(name, "an ISO-8601 timestamp", value) from None


def _uuid(value):
    if value is None:
        raise _missing("uuid")
    if type(value) is not str or not _UUID.fullmatch(value):
        raise _invalid("uuid", "1-64 characters of [0-9A-Za-z-]", value)
    return value


def _timestamp(name, value, required=False):
    if value is None:
        if required:
            raise _missing(name)
        return None
    return parse_timestamp(name, value)


def _text(name, value, required=False):
    if value is None or (required and value == ""):
        if required:
            raise _missing(name)
        return None
    if type(value) is not str:
        raise _invalid(name, "a string", value)
    return checked_text(name, value)


def checked_text(name, value, error=InvalidCrash):
    """``value`` if PostgreSQL can store it as text (no NUL, no lone surrogate), else ``error``."""
    if "\x00" in value:
        raise error(f"field '{name}': NUL characters are not allowed", parameter=name)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise error(f"field '{name}': invalid Unicode (lone surrogate)",
                        parameter=name) from None
    return value


def _integer(name, value):
    if value is None:
        return None
    if type(value) is not int:
        raise _invalid(name, "an integer", value)
    if not INT_MIN <= value <= INT_MAX:
        raise _invalid(name, f"an integer between {INT_MIN} and {INT_MAX}", value)
    return value


def _frames(frames):
    if frames is None:
        return None
    if type(frames) is not list:
        raise _invalid("frames", "an array of frame objects", frames)
    for index, frame in enumerate(frames):
        if type(frame) is not dict:
            raise _invalid(f"frames[{index}]", "an object", frame)
        line = frame.get("line")
        if line is not None and type(line) is not int:
            raise _invalid(f"frames[{index}].line", "an integer", line)
        for key in FRAME_TEXT:
            value = frame.get(key)
            if value is not None and type(value) is not str:
                raise _invalid(f"frames[{index}].{key}", "a string", value)
    return _json_text("frames", frames)


def _extensions(extensions):
    if extensions is None:
        return []
    if type(extensions) is not list:
        raise _invalid("extensions", "an array of extension objects", extensions)
    rows = []
    for index, extension in enumerate(extensions):
        name = f"extensions[{index}]"
        if type(extension) is not dict:
            raise _invalid(name, "an object with 'id' and 'version'", extension)
        rows.append((_text(f"{name}.id", extension.get("id"), True),
                     _text(f"{name}.version", extension.get("version"))))
    return rows


def _plugin(plugin):
    if plugin is None:
        return {"plugin_filename": None, "plugin_name": None, "plugin_version": None}
    if type(plugin) is not dict:
        raise _invalid("plugin", "an object with 'name', 'filename' and 'version'", plugin)
    return {
        "plugin_filename": _text("plugin.filename", plugin.get("filename"), True),
        "plugin_name": _text("plugin.name", plugin.get("name"), True),
        "plugin_version": _text("plugin.version", plugin.get("version")),
    }


def _reject_non_finite(name, value):
    """orjson writes NaN and Infinity as null; JSON has neither, so refuse them."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidCrash(f"field '{name}': NaN and Infinity are not valid JSON",
                               parameter=name)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _json_text(name, value):
    """``value`` as JSON text that PostgreSQL accepts as jsonb."""
    try:
        text = orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError as exc:  # lone surrogates, integers over 64 bits, ...
        raise InvalidCrash(f"field '{name}': not valid JSON ({exc})", parameter=name) from None
    if "null" in text:  # where orjson may have written a NaN or Infinity
        _reject_non_finite(name, value)
    if "\\u0000" in text and _JSON_NUL.search(text):
        raise InvalidCrash(f"field '{name}': NUL characters are not allowed", parameter=name)
    return checked_text(name, text)


def _missing(name):
    return InvalidCrash(f"required field '{name}' is missing, null or empty", parameter=name)


def _invalid(name, expected, received):
    shown = repr(received)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return InvalidCrash(f"field '{name}': expected {expected}, got {shown} ({_kind(received)})",
                        parameter=name)


def _kind(value):
    """The JSON type name of a parsed value."""
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)
