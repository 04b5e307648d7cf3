"""Deterministic fuzz requests for one operation (service + method), built from its contract.

Request ``i`` of an operation comes from ``random.Random(f"{seed}:{operation}:{i}")``, so any
failure is reproduced by its index alone. Each request starts from the operation's valid base
request (tests/fuzz/dataset.py) and replaces one to three values (or drops a required one,
or adds unknown parameters) with a hostile value; the parameters it touched are recorded so
the test can check that a 4xx names one of them. The first requests are systematic: every
parameter gets every SQL-injection payload, every 100k-character value, 10k items and
the longest list it accepts.
"""
import dataclasses
import datetime
import json
import random
from urllib.parse import quote_plus

from tests.fuzz import payloads
from tests.fuzz.dataset import BACKEND_CHECKED, NEVER_VALID, RELATED, base_report
from tests.fuzz.payloads import encode

# Random mixes; the oversized values (100k characters, 10k items) are in the systematic part.
CATEGORIES = (("valid", 20), ("sql", 25), ("wrong_type", 15), ("unicode", 8),
              ("control", 5), ("separators", 8), ("raw", 8), ("repeated", 4))
_NAMES, _WEIGHTS = zip(*CATEGORIES)
TOKENS = ("WaterWolf", "Firefox", "sig1", "Foo::Bar", "1.0", "3.0b2", "main", "gtk_main",
          "g_main_loop_run", "windows", "Linux", "STACK_OVERFLOW", "h1")


@dataclasses.dataclass
class FuzzRequest:
    method: str
    uri: str
    body: bytes = b""
    content_type: str | None = None
    fuzzed: frozenset = frozenset()  # parameter names whose values were replaced
    valid: bool = False  # every replaced value is valid for its contract: no 400 expected


class Operation:
    """One service method and the valid request the fuzz mutates."""

    def __init__(self, service, method, base, other_templates=(), forced=None):
        self.service = service
        self.forced = forced  # a backend named by force_api_impl in every request
        self.method = method
        self.name = f"{service.name}:{method}"
        self.contract = service.methods[method]
        self.params = {p.name: p for p in self.contract.params}
        self.base = base
        self.templates = service.route_templates()
        self._captures = {t: _all_captures([t]) for t in self.templates}
        self._base_values = {t: {name: value for name, value in base.items()
                                 if name in self._captures[t]
                                 or name not in _all_captures(self.templates)}
                             for t in self.templates}
        self._names = sorted(self.params)
        # Path pairs only where no longer route could capture them (PartyCrasher routes).
        self.path_pairs = all("{" not in t for t in self.templates) and not any(
            other.startswith(t.rstrip("/") + "/{")
            for t in self.templates for other in other_templates)
        self.form_body = method == "POST" and self.contract.body is None
        self.json_body = self.contract.body is not None
        self.never_valid = (set(RELATED) | NEVER_VALID.get(self.name, set())
                            | BACKEND_CHECKED.get(forced, set()))
        self.systematic = [(name, value) for name in self._names for value in
                           (*payloads.SQL_INJECTION, *payloads.OVERSIZED_TEXT,
                            ["a"] * payloads.OVERSIZED_ITEMS, *self._longest_list(name))]
        if self.json_body:  # body fields: "body.<field>"
            huge = (*payloads.OVERSIZED_TEXT, ["a"] * payloads.OVERSIZED_ITEMS)
            self.systematic += [("body." + field, value) for field, values in (
                ("database_id", payloads.SQL_INJECTION + huge), ("project", huge),
                ("date", huge), ("extra", huge), ("stacktrace", huge + tuple(
                    [{"function": text}] for text in payloads.OVERSIZED_TEXT) + (
                    [{"function": "f"}] * payloads.OVERSIZED_ITEMS,))) for value in values]

    def _longest_list(self, name):
        """The most items a list parameter accepts, each valid."""
        param = self.params[name]
        if not param.many:
            return []
        item = _valid_item(random.Random(name), param)
        return [[item] * param.max_items]

    def base_request(self, seed):
        """The valid base request itself (answered 2xx)."""
        rng = random.Random(f"{seed}:{self.name}")
        template, captures, values = self._start(rng, base_only=True)
        body = json.dumps(_base_report(rng)).encode() if self.json_body else None
        return self._build(rng, template, captures, values, body,
                           "application/json" if self.json_body else None, frozenset(), True)

    def _start(self, rng, base_only=False):
        """(route template, its captures, base values that apply to it)."""
        templates = [t for t in self.templates if not base_only
                     or all(c in self.base for c in self._captures[t])]
        template = rng.choice(templates)
        return template, self._captures[template], dict(self._base_values[template])

    def request(self, seed, index):
        rng = random.Random(f"{seed}:{self.name}:{index}")
        template, captures, values = self._start(rng)
        fuzzed, valid = set(), True
        if index < len(self.systematic):
            return self._systematic(rng, template, captures, values, *self.systematic[index])
        if self.json_body and rng.random() < 0.6:
            body, content_type, body_fuzzed = json_body_case(rng)
            return self._build(rng, template, captures, values, body, content_type,
                               fuzzed | body_fuzzed, False)
        if self.form_body and rng.random() < 0.03:
            body, content_type = rng.choice(_BROKEN_FORMS)
            return self._build(rng, template, captures, values, body, content_type,
                               {"body", "Content-Type"}, False)
        roll = rng.random()
        required = [p.name for p in self.contract.params if p.required and p.name in values
                    and p.name not in captures]
        if roll < 0.05 and required:
            name = rng.choice(required)
            del values[name]
            fuzzed.add(name)
            valid = False
        elif roll < 0.10 or not self.params:
            for _ in range(rng.randint(1, 3)):
                key = rng.choice(payloads.SQL_INJECTION + payloads.UNICODE + ("x", "_", "ü"))
                if key not in self.params:
                    values[key] = _hostile(rng, rng.choices(_NAMES, _WEIGHTS)[0], None)[0]
                    fuzzed.add(key)
                    valid = valid and not isinstance(values[key], RawValue)
        else:
            count = min(len(self._names), rng.choice((1, 1, 1, 2, 3)))
            for name in rng.sample(self._names, count):
                category = rng.choices(_NAMES, _WEIGHTS)[0]
                values[name], is_valid = _hostile(rng, category, self.params[name])
                fuzzed.add(name)
                valid = valid and is_valid and name not in self.never_valid
        return self._build(rng, template, captures, values, self._url_fuzz_body(rng, fuzzed),
                           "application/json" if self.json_body else None, fuzzed, valid)

    def _systematic(self, rng, template, captures, values, name, value):
        if name.startswith("body."):  # a new report: stored (POST) or bucketed (dry run)
            field = name.removeprefix("body.")
            report = dict(base_report(f"fz-{name}-{len(str(value))}-{rng.random()}"),
                          **{field: value})
            return self._build(rng, template, captures, values, json.dumps(report).encode(),
                               "application/json", {field, "body"}, False)
        values[name] = value
        return self._build(rng, template, captures, values, self._url_fuzz_body(rng, {name}),
                           "application/json" if self.json_body else None, {name}, False)

    def _url_fuzz_body(self, rng, fuzzed):
        """The valid JSON body of a request whose URL is fuzzed (None without one)."""
        if not self.json_body:
            return None
        report = _base_report(rng)
        if "project" in fuzzed:  # the URL's project alone names it
            del report["project"]
        return json.dumps(report).encode()

    def _build(self, rng, template, captures, values, body, content_type, fuzzed, valid):
        if self.forced:
            values["force_api_impl"] = self.forced
        path = []
        for segment in template.strip("/").split("/"):
            if segment.startswith("{"):
                name = segment[1:-1]
                value = values.pop(name, None)
                if isinstance(value, list) or not value:
                    value, fuzzed = "x", fuzzed | {name}  # a capture is one non-empty segment
                path.append(value if isinstance(value, RawValue)
                            else encode(value, rng.choice((1, 1, 2))))
            else:
                path.append(segment)
        pairs, query, form = [], [], []
        for key, value in values.items():
            key = rng.choice(self.params[key].names) if key in self.params else key
            where = rng.random()
            if self.path_pairs and where < 0.4:
                pairs.append(_path_pair(rng, key, value))
            elif self.form_body and body is None and where < 0.7:
                form.extend(_query_fields(rng, key, value))
            else:
                query.extend(_query_fields(rng, key, value))
        uri = "/" + "/".join(path) + "/"
        if pairs:
            uri += "/".join(pairs) + "/"
        if rng.random() < 0.2:
            uri = uri.rstrip("/")
        if query:
            uri += "?" + "&".join(query)
        if form:
            body, content_type = "&".join(form).encode(), "application/x-www-form-urlencoded"
        valid = valid and not fuzzed & self.never_valid
        return FuzzRequest(self.method, uri, body or b"", content_type, frozenset(fuzzed),
                           valid)


class RawValue(str):
    """Text put into the URI as is (broken or overlong percent-escapes)."""


class Repeated(list):
    """Values of a key given several times (``k/a/k/b/``, ``k=a&k=b``)."""


def _all_captures(templates):
    """Names captured by ``{name}`` segments of the templates, in order."""
    return [s[1:-1] for t in templates for s in t.strip("/").split("/") if s.startswith("{")]


def _path_pair(rng, key, value):
    """``key/value`` for the path: lists as ``a+b``, single or double encoded."""
    times = rng.choice((1, 1, 2))
    if isinstance(value, RawValue):
        return f"{encode(key, times)}/{value}"
    if isinstance(value, Repeated):
        return "/".join(_path_pair(rng, key, item) for item in value)
    if isinstance(value, list):
        if len(value) == payloads.OVERSIZED_ITEMS and len(set(value[:2])) == 1:
            return f"{encode(key, times)}/{payloads.plus_joined(value[0], len(value), times)}"
        return f"{encode(key, times)}/" + "+".join(encode(item, times) for item in value)
    return f"{encode(key, times)}/{encode(value, times)}"


def _query_fields(rng, key, value):
    """``key=value`` fields (a list repeats the key), in one of the query encodings."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and len(value) == payloads.OVERSIZED_ITEMS:
        return [f"{encode(key)}={encode(items[0])}"] * len(items)
    style = rng.random()
    fields = []
    for item in items:
        if isinstance(item, RawValue):
            fields.append(f"{encode(key)}={item}")
        elif style < 0.6:
            fields.append(f"{encode(key)}={encode(item)}")
        elif style < 0.8:
            fields.append(f"{quote_plus(key)}={quote_plus(item)}")
        else:
            fields.append(f"{encode(key, 2)}={encode(item, 2)}")
    return fields


def _hostile(rng, category, param):
    """(raw value, valid for the contract) of ``category`` for ``param`` (None: unknown)."""
    if category == "valid" and param is not None:
        return valid_value(rng, param), True
    if category == "sql" or category == "valid":
        return rng.choice(payloads.SQL_INJECTION), False
    if category == "wrong_type":
        return rng.choice(payloads.WRONG_TYPES), False
    if category == "unicode":
        return rng.choice(payloads.UNICODE), False
    if category == "control":
        return rng.choice(payloads.CONTROL), False
    if category == "separators":
        return rng.choice(payloads.SEPARATORS), False
    if category == "raw":
        return RawValue(rng.choice(payloads.RAW_ESCAPES)), False
    # repeated: the key given several times, with valid and hostile values
    return Repeated([_valid_item(rng, param) if param is not None else "x",
                     rng.choice(payloads.SQL_INJECTION + payloads.WRONG_TYPES)]), False


def valid_value(rng, param):
    """A value ``param``'s contract accepts (a list of 1-4 for list parameters)."""
    if param.many and rng.random() < 0.5:
        return [_valid_item(rng, param) for _ in range(rng.randint(2, 4))]
    return _valid_item(rng, param)


def _valid_item(rng, param):
    if param.choices:
        choice = rng.choice(param.choices)
        return rng.choice((choice, choice.upper(), choice.lower(), choice.title()))
    kind = param.type.name
    if kind == "integer":
        low = param.minimum if param.minimum is not None else -(2 ** 31)
        high = param.maximum if param.maximum is not None else 2 ** 31 - 1
        return str(rng.choice((low, high, rng.randint(low, high), rng.randint(low, low + 9))))
    if kind in ("datetime", "moment"):
        return _valid_moment(rng, kind == "moment")
    if kind == "product_version" or (kind == "product_version_or_all" and rng.random() < 0.8):
        return f"{rng.choice(TOKENS + payloads.UNICODE)}:{rng.choice(TOKENS)}"
    if kind == "product_version_or_all":
        return rng.choice(("ALL", "all", " All "))
    if kind == "build_id":
        moment = datetime.datetime(2000, 1, 1) + datetime.timedelta(
            seconds=rng.randint(0, 30 * 365 * 86400))
        return f"{moment:%Y%m%d%H%M%S}"
    if kind == "crash_id":
        return rng.choice((f"{rng.getrandbits(128):032x}", "0bba929f-8721-460c-dead-a43c20121114",
                           "A-" * 32, "x", " abc-DEF-123 "))
    if kind == "project":
        return rng.choice(("fuzzproj", "otherproj", "x", "A.b~c-d_9", "0" * 100))
    if kind == "threshold":
        return rng.choice(("3.0", "4.0", "5.0", "5.5", "9.0", "4", "5.00", " 6.5 "))
    return rng.choice(TOKENS + payloads.UNICODE + payloads.SQL_INJECTION[:20])


def _valid_moment(rng, relative_allowed):
    moment = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        seconds=rng.randint(0, 29 * 365 * 86400), microseconds=rng.choice((0, 123456)))
    forms = [f"{moment:%Y-%m-%d}", f"{moment:%Y-%m-%d %H:%M:%S}", moment.isoformat(),
             moment.isoformat().replace("+00:00", "Z"),
             moment.astimezone(datetime.timezone(datetime.timedelta(hours=-5))).isoformat()]
    if relative_allowed:
        forms += [f"{rng.randint(0, 5000)}-{unit}-ago"
                  for unit in ("minutes", "hours", "days", "weeks")]
        forms += [f"{moment:%Y}", f"{moment:%Y-%m}"]
    return rng.choice(forms)


def _base_report(rng):
    return base_report(rng.choice(("lp:0", "lp:1", "lp:0", f"fz-{rng.randint(0, 49)}")))


def json_body_case(rng):
    """(body bytes, content type, fuzzed names) of a hostile PartyCrasher report body."""
    report = _base_report(rng)
    roll = rng.random()
    if roll < 0.08:
        return rng.choice(_BROKEN_BODIES), "application/json", frozenset({"body"})
    if roll < 0.12:
        content_type = rng.choice(("text/plain", "application/xml", "multipart/form-data",
                                   "application/x-www-form-urlencoded"))
        return json.dumps(report).encode(), content_type, frozenset({"Content-Type"})
    if roll < 0.22:
        document = rng.choice(([], [report, "x"], "report", 1, None, True, {},
                               [report, _base_report(rng)], [report] * 3))
        return json.dumps(document).encode(), "application/json", frozenset(
            {"body", "reports", "database_id", "project"})
    field = rng.choice(("database_id", "database_id", "project", "date", "stacktrace",
                        "stacktrace", "extra", "product", "signature", "uuid"))
    category = rng.choices(_NAMES, _WEIGHTS)[0]
    value, _ = _hostile(rng, category, None)
    if field == "stacktrace":
        frames = rng.choice((2, 50))
        value = rng.choice(([{"function": value}], [{"function": value}] * frames, value,
                            [value], [{"function": 1, "file": [value]}]))
    elif field == "date" and rng.random() < 0.5:
        value = rng.choice((0, -1, 1e300, None, [], {}))
    report[field] = str(value) if isinstance(value, RawValue) else value
    return json.dumps(report).encode(), "application/json", frozenset({field, "body"})


_BROKEN_FORMS = ((b"uuid=\xff\xfe", "application/x-www-form-urlencoded"),
                 (b"\xc3\x28=1", None), (b"uuid=a", "text/plain"),
                 (b"{\"uuid\": \"a\"}", "application/json"),
                 (b"uuid=a", "multipart/form-data; boundary=x"))
_BROKEN_BODIES = (b"", b" ", b"{", b"[", b"nul", b"{\"database_id\": }", b"\xff\xfe",
                  b"{\"database_id\": \"\\ud800\"}", b"[" * 5000 + b"]" * 5000,
                  b"{\"a\":" * 3000 + b"1" + b"}" * 3000, b"\x00", b"NaN", b"1e999999")
