"""Declared parameter contracts: what each service accepts, validated and coerced in one place.

A :class:`Contract` is a list of :class:`Param`. ``Contract.coerce(raw)`` turns the parsed
request parameters (strings and lists of strings) into typed values, applies defaults and
aliases, and raises :class:`BadArgument` / :class:`MissingArgument` (HTTP 400) naming the
parameter. Unknown parameters are ignored. The same declarations drive the API reference.
"""
import datetime
import re

from crashgate.errors import BadArgument, MissingArgument

UTC = datetime.timezone.utc
_SPACE_BEFORE_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class PlusList(list):
    """Items of one path value split on ``+``; a single-valued parameter joins them back."""


class ParamType:
    """A named conversion from request text to a Python value; ``schema`` describes the
    accepted text in OpenAPI terms."""

    def __init__(self, name, expected, parse, schema=None):
        self.name = name
        self.expected = expected
        self.parse = parse
        self.schema = schema or {"type": "string"}

    def __repr__(self):
        return f"ParamType({self.name})"


INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1  # what a PostgreSQL bigint holds


def _parse_int(text):
    if not re.fullmatch(r"[+-]?[0-9]+", text.strip()):
        raise ValueError(text)
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(text)
    return value


def _parse_float(text):
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def _parse_bool(text):
    value = text.strip().lower()
    if value in ("1", "true", "t", "yes", "y", "on"):
        return True
    if value in ("0", "false", "f", "no", "n", "off"):
        return False
    raise ValueError(text)


def parse_datetime(text):
    """``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS[.ffffff]`` or ISO-8601 (offset optional) -> UTC."""
    text = text.strip()
    # A '+' before the offset turns into a space in form-encoded query strings.
    text = _SPACE_BEFORE_OFFSET.sub(r"\1+\2", text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_RELATIVE = re.compile(r"(\d{1,6})-(minute|hour|day|week)s?-ago", re.I)
_YEAR_OR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")


def parse_moment(text):
    """An ISO-8601 date/time (``YYYY`` and ``YYYY-MM`` too) or ``N-(minutes|hours|days|
    weeks)-ago`` relative to now, as an aware UTC datetime."""
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        return datetime.datetime.now(UTC) - datetime.timedelta(**{unit + "s": amount})
    reduced = _YEAR_OR_MONTH.fullmatch(text)
    if reduced:
        return datetime.datetime(int(reduced.group(1)), int(reduced.group(2) or 1), 1,
                                 tzinfo=UTC)
    return parse_datetime(text)


def _parse_product_version(text):
    product, sep, version = text.partition(":")
    if not sep or not product.strip() or not version.strip():
        raise ValueError(text)
    return product.strip(), version.strip()


def _parse_crash_id(text):
    text = text.strip()
    if not re.fullmatch(r"[0-9A-Za-z-]{1,64}", text):
        raise ValueError(text)
    return text


def _parse_build_id(text):
    text = text.strip()
    if not re.fullmatch(r"\d{14}", text):
        raise ValueError(text)
    datetime.datetime.strptime(text, "%Y%m%d%H%M%S")
    return text


STRING = ParamType("string", "a string", lambda text: text)
INTEGER = ParamType("integer", "a 64-bit integer", _parse_int,
                    {"type": "integer", "format": "int64"})
FLOAT = ParamType("number", "a number", _parse_float, {"type": "number"})
BOOLEAN = ParamType("boolean", "a boolean (true/false, 1/0, yes/no)", _parse_bool,
                    {"type": "boolean"})
DATETIME = ParamType(
    "datetime",
    "a date: YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS[.ffffff]' or ISO-8601 with offset",
    parse_datetime,
)
MOMENT = ParamType(
    "moment",
    "an ISO-8601 date/time (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[+HH:MM]) or "
    "N-minutes-ago, N-hours-ago, N-days-ago, N-weeks-ago (UTC)",
    parse_moment,
)
PRODUCT_VERSION = ParamType("product_version", "'Product:Version'", _parse_product_version,
                            {"type": "string", "pattern": "^[^:]*[^:\\s][^:]*:.*\\S"})
CRASH_ID = ParamType("crash_id", "a crash id: 1-64 characters of [0-9A-Za-z-]", _parse_crash_id,
                     {"type": "string", "pattern": "^\\s*[0-9A-Za-z-]{1,64}\\s*$"})
BUILD_ID = ParamType("build_id", "a build id YYYYMMDDhhmmss", _parse_build_id,
                     {"type": "string", "pattern": "^\\s*\\d{14}\\s*$"})


MAX_ITEMS = 1000  # values of a list parameter, unless it declares otherwise


class Param:
    """One declared parameter.

    ``default`` may be a zero-argument callable (evaluated per request, e.g. "now - 7 days").
    ``choices`` are matched case-insensitively and normalised to their declared spelling.
    ``max_length`` bounds the text of each value (e.g. what an index can hold); a list takes
    at most ``max_items`` values (a 10,000-term search would cost the database seconds).
    ``sensitive``: True when the parameter searches personal data, or the values of it that
    do (e.g. ``("url", "user_comments")``); they need the ``pii`` scope (middleware/access.py).
    """

    def __init__(self, name, type=STRING, *, many=False, default=None, required=False,
                 aliases=(), choices=None, minimum=None, maximum=None, doc="",
                 sensitive=False, example=None, max_length=None, max_items=MAX_ITEMS):
        self.name = name
        self.type = type
        self.many = many
        self.default = default
        self.required = required
        self.aliases = tuple(aliases)
        self.choices = tuple(choices) if choices else None
        self._choice_lookup = {c.lower(): c for c in self.choices} if self.choices else None
        self.minimum = minimum
        self.maximum = maximum
        self.max_length = max_length
        self.max_items = max_items if many else None
        self.doc = doc
        self.sensitive = sensitive
        self.example = example

    @property
    def names(self):
        return (self.name,) + self.aliases

    def expected(self):
        """What a valid value looks like, in words."""
        item = self.expected_item()
        return f"a list of at most {self.max_items} values, each {item}" if self.many else item

    def expected_item(self):
        """What one value (of a list parameter: one item) looks like, in words."""
        text = "one of " + ", ".join(self.choices) if self.choices else self.type.expected
        bounds = [f">= {self.minimum}" if self.minimum is not None else None,
                  f"<= {self.maximum}" if self.maximum is not None else None]
        bounds = " and ".join(b for b in bounds if b)
        text = f"{text} {bounds}" if bounds else text
        if self.max_length is not None:
            text = f"{text} of at most {self.max_length} characters"
        return text

    def default_value(self):
        value = self.default() if callable(self.default) else self.default
        if self.many and value is not None and not isinstance(value, list):
            value = [value]
        return value

    def coerce(self, raw):
        """Convert a raw value (str, PlusList or list) or raise BadArgument."""
        if self.many:
            items = [item for item in _flatten(raw) if item != ""]
            if len(items) > self.max_items:
                raise BadArgument(self.name, shown(items), self.expected())
            return [self._coerce_one(item) for item in items]
        if isinstance(raw, PlusList):
            raw = "+".join(raw)
        elif isinstance(raw, list):
            raise BadArgument(self.name, shown(raw), f"a single value ({self.expected()})")
        return self._coerce_one(raw)

    def _coerce_one(self, text):
        if self.max_length is not None and len(text) > self.max_length:
            raise BadArgument(self.name, shown(text), self.expected_item())
        try:
            value = self.type.parse(text)
        except (ValueError, TypeError, OverflowError):
            raise BadArgument(self.name, shown(text), self.type.expected) from None
        if self._choice_lookup is not None:
            value = self._choice_lookup.get(str(value).lower())
            if value is None:
                raise BadArgument(self.name, shown(text), "one of " + ", ".join(self.choices))
        too_low = self.minimum is not None and value < self.minimum
        too_high = self.maximum is not None and value > self.maximum
        if too_low or too_high:
            raise BadArgument(self.name, shown(text), self.expected_item())
        return value


SHOWN_CHARACTERS = 200


def shown(raw):
    """A rejected value as echoed in the error: long texts and lists cut short."""
    if isinstance(raw, list):
        return [shown(item) for item in raw[:10]] + (["..."] if len(raw) > 10 else [])
    if len(raw) > SHOWN_CHARACTERS:
        return raw[:SHOWN_CHARACTERS] + f"... ({len(raw)} characters)"
    return raw


def _flatten(raw):
    if isinstance(raw, list):
        for item in raw:
            yield from _flatten(item)
    else:
        yield raw


def _is_empty(raw):
    return raw == "" or (isinstance(raw, list) and all(_is_empty(item) for item in raw))


class JsonBody:
    """A JSON request body, passed to the implementation as parameter ``name``."""

    def __init__(self, name, doc="", example=None):
        self.name = name
        self.doc = doc
        self.example = example


class Contract:
    """The parameters one service method accepts (``body``: a :class:`JsonBody`, if any)."""

    def __init__(self, *params, body=None, doc=""):
        self.params = params
        self.body = body
        self.doc = doc
        names = [name for param in params for name in param.names]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate parameter names or aliases in {names}")

    def coerce(self, raw):
        """Typed values for every declared parameter (defaults filled in)."""
        values, missing = {}, []
        for param in self.params:
            given = next((raw[name] for name in param.names if name in raw), None)
            if given is None or _is_empty(given):
                if param.required:
                    missing.append(param.name)
                values[param.name] = param.default_value()
            else:
                values[param.name] = param.coerce(given)
                if param.required and param.many and not values[param.name]:
                    missing.append(param.name)
        if len(missing) == 1:
            raise MissingArgument(missing[0])
        if missing:
            names = ", ".join(f"'{name}'" for name in missing)
            raise MissingArgument(missing[0], f"Mandatory parameters {names} are missing or "
                                              f"empty", missing=missing)
        if self.body is not None:
            values[self.body.name] = raw[self.body.name]
        return values
