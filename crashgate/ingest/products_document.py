"""Validate a products document (products, versions and their builds) before it is stored.

The format is described in ``docs/crash-format.md``; nothing here touches the database.
"""
import datetime
import re

from crashgate.errors import BadRequest
from crashgate.ingest.crash_document import checked_text

SMALLINT_MIN, SMALLINT_MAX = -2**15, 2**15 - 1
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BUILD_ID = re.compile(r"[0-9]{14}")


class InvalidProducts(BadRequest):
    """A products document lacks a required field or holds a value of the wrong type."""

    type = "invalid_products"


def normalize_products(doc):
    """Check ``doc`` and return ``(products, versions)``, lists of dicts ready to store.

    Each version dict holds ``builds``, a list of ``(build_id, platform, repository)``.
    Raises InvalidProducts naming the entry and field at fault.
    """
    if type(doc) is not dict:
        raise InvalidProducts("a products document must be a JSON object")
    products = [_product(f"products[{i}]", entry)
                for i, entry in enumerate(_array(doc, "products"))]
    versions = [_version(f"versions[{i}]", entry)
                for i, entry in enumerate(_array(doc, "versions"))]
    _reject_repeats("products", [(p["product_name"],) for p in products])
    _reject_repeats("versions", [(v["product_name"], v["version_string"]) for v in versions])
    return products, versions


def _product(where, entry):
    fields = _Fields(where, entry)
    name = fields.text("product_name", required=True)
    return {
        "product_name": name,
        "sort": fields.integer("sort", SMALLINT_MIN, SMALLINT_MAX) or 0,
        "rapid_release_version": fields.text("rapid_release_version"),
        "release_name": fields.text("release_name") or name.lower(),
    }


def _version(where, entry):
    fields = _Fields(where, entry)
    throttle = fields.number("throttle", 0, 100)
    return {
        "product_name": fields.text("product_name", required=True),
        "version_string": fields.text("version_string", required=True),
        "major_version": fields.text("major_version"),
        "release_version": fields.text("release_version"),
        "build_type": fields.text("build_type", required=True),
        "beta_number": fields.integer("beta_number", -2**31, 2**31 - 1),
        "build_date": fields.date("build_date"),
        "sunset_date": fields.date("sunset_date"),
        "featured_version": bool(fields.boolean("featured")),
        "throttle": 100.0 if throttle is None else throttle,
        "builds": [_build(f"{where}.builds[{i}]", build)
                   for i, build in enumerate(_array(entry, "builds", where))],
    }


def _build(where, entry):
    fields = _Fields(where, entry)
    return (fields.build_id("build_id"), fields.text("platform", required=True),
            fields.text("repository") or "")


class _Fields:
    """Typed access to the fields of one object of the document, with errors naming them."""

    def __init__(self, where, entry):
        if type(entry) is not dict:
            raise InvalidProducts(f"{where}: expected an object, got {entry!r:.60}")
        self.where, self.entry = where, entry

    def _get(self, name, kinds, expected, required=False):
        value = self.entry.get(name)
        if value is None or value == "":
            if required:
                raise InvalidProducts(f"{self.where}.{name}: required field is missing or empty",
                                      parameter=name)
            return None
        if type(value) not in kinds:
            self.fail(name, expected, value)
        return value

    def fail(self, name, expected, value):
        raise InvalidProducts(f"{self.where}.{name}: expected {expected}, got {value!r:.60}",
                              parameter=name)

    def text(self, name, required=False):
        value = self._get(name, (str,), "a string", required)
        if value is not None:
            checked_text(f"{self.where}.{name}", value, InvalidProducts)
        return value

    def integer(self, name, low, high):
        value = self._get(name, (int,), "an integer")
        if value is not None and not low <= value <= high:
            self.fail(name, f"an integer between {low} and {high}", value)
        return value

    def number(self, name, low, high):
        value = self._get(name, (int, float), "a number")
        if value is not None and not low <= value <= high:
            self.fail(name, f"a number between {low} and {high}", value)
        return value

    def boolean(self, name):
        return self._get(name, (bool,), "a boolean")

    def date(self, name):
        return self._parsed(name, "a date YYYY-MM-DD", (str,), _parse_date)

    def build_id(self, name):
        return self._parsed(name, "a build id YYYYMMDDhhmmss", (str, int), _parse_build_id,
                            required=True)

    def _parsed(self, name, expected, kinds, parse, required=False):
        value = self._get(name, kinds, expected, required)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError:
            pass
        self.fail(name, expected, value)


def _parse_date(text):
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return datetime.date.fromisoformat(text)


def _parse_build_id(value):
    text = str(value)
    if not _BUILD_ID.fullmatch(text):
        raise ValueError(text)
    datetime.datetime.strptime(text, "%Y%m%d%H%M%S")  # a real date and time
    return int(text)


def _array(doc, name, where=None):
    value = doc.get(name)
    if value is None:
        return []
    if type(value) is not list:
        prefix = f"{where}.{name}" if where else name
        raise InvalidProducts(f"{prefix}: expected an array, got {value!r:.60}", parameter=name)
    return value


def _reject_repeats(section, keys):
    first_seen = {}
    for index, key in enumerate(keys):
        if key in first_seen:
            raise InvalidProducts(f"{section}[{index}]: {' '.join(key)} repeats "
                                  f"{section}[{first_seen[key]}]")
        first_seen[key] = index
