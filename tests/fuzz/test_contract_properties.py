"""Property tests of every contract of every service loaded through stevedore: arbitrary text
gives a typed value or a 400 naming the parameter, never another exception; valid values of
every parameter type round-trip, given directly and through the URL parser."""
import datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crashgate.bucketing.thresholds import parse_threshold
from crashgate.errors import BadRequest
from crashgate.ingest.report_document import PROJECT_NAME, RESERVED_PROJECTS
from crashgate.middleware import plugins
from crashgate.middleware.urlparams import merge_pairs, parse_path_pairs, parse_query
from crashgate.services.contract import INT64_MAX, INT64_MIN, PlusList
from tests.fuzz import dataset, payloads
from tests.fuzz.test_urlparams_properties import ESCAPE

UTC = datetime.timezone.utc
SERVICES = plugins.load_group(plugins.SERVICES)
CONTRACTS = {f"{name}:{method}": (name, method, contract)
             for name, service in sorted(SERVICES.items())
             for method, contract in sorted(service.methods.items())}
SEEDED = dataset.Seeded(uuid="0bba929f-8721-460c-dead-a43c20121114", hangid="h",
                        date_processed="2012-01-01T00:00:00+00:00", report_ids=["a", "b"],
                        bucket_id="b")
BASE = dataset.base_requests(SEEDED)
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])
NO_NUL = st.text().filter(lambda text: "\x00" not in text)
OFFSETS = st.sampled_from([UTC, datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
                           datetime.timezone(datetime.timedelta(hours=-8))])
DATETIMES = st.datetimes(min_value=datetime.datetime(2, 1, 1),
                         max_value=datetime.datetime(9998, 12, 31), timezones=OFFSETS)


def _datetime_texts(moment):
    """(text, value) pairs of the accepted spellings of an aware datetime."""
    utc = moment.astimezone(UTC)
    whole = utc.replace(microsecond=0)
    return st.sampled_from([
        (moment.isoformat(), utc), (utc.isoformat().replace("+00:00", "Z"), utc),
        (f"{whole.date().isoformat()} {whole:%H:%M:%S}", whole),
        (utc.date().isoformat(), utc.replace(hour=0, minute=0, second=0, microsecond=0)),
        (moment.isoformat(sep=" "), utc)])


def _relative(amount_unit):
    amount, unit = amount_unit
    return f"{amount}-{unit}-ago", ("ago", datetime.timedelta(**{unit: amount}))


VALID = {  # parameter type name -> strategy of (text, expected value)
    "string": NO_NUL.map(lambda text: (text, text)),
    "integer": st.integers(INT64_MIN, INT64_MAX).flatmap(lambda n: st.sampled_from(
        [(str(n), n), (f" {n} ", n)] + ([(f"+{n}", n), (f"{n:05d}", n)] if n >= 0 else []))),
    "datetime": DATETIMES.flatmap(_datetime_texts),
    "moment": st.one_of(
        DATETIMES.flatmap(_datetime_texts),
        st.integers(1, 9999).map(lambda y: (f"{y:04d}", datetime.datetime(y, 1, 1, tzinfo=UTC))),
        st.tuples(st.integers(1, 9999), st.integers(1, 12)).map(
            lambda ym: (f"{ym[0]:04d}-{ym[1]:02d}", datetime.datetime(*ym, 1, tzinfo=UTC))),
        st.tuples(st.integers(0, 50000), st.sampled_from(["minutes", "hours", "days",
                                                          "weeks"])).map(_relative)),
    "product_version": st.tuples(
        NO_NUL.map(str.strip).filter(lambda p: p and ":" not in p),
        NO_NUL.map(str.strip).filter(bool)).map(lambda pv: (f"{pv[0]}:{pv[1]}", pv)),
    "build_id": st.datetimes(min_value=datetime.datetime(1000, 1, 1)).map(
        lambda moment: (f"{moment:%Y%m%d%H%M%S}",) * 2),
    "crash_id": st.from_regex(r"\A[0-9A-Za-z-]{1,64}\Z").map(lambda text: (text, text)),
    "threshold": st.decimals(0, 999, places=1).map(lambda d: (str(d), d)),
    "project": st.from_regex(rf"\A{PROJECT_NAME.pattern}\Z").filter(
        lambda name: name not in RESERVED_PROJECTS).map(lambda name: (name, name)),
}
VALID["product_version_or_all"] = st.one_of(
    VALID["product_version"], st.sampled_from([("ALL", "ALL"), ("all", "ALL"), (" All ", "ALL")]))
HOSTILE = st.one_of(st.text(), st.from_regex(r"[0-9:+\-TZ.,_ a-z]{0,25}", fullmatch=True),
                    st.sampled_from(payloads.WRONG_TYPES + payloads.SQL_INJECTION),
                    st.lists(st.text(max_size=5), max_size=3),
                    st.lists(st.text(max_size=5), min_size=1, max_size=3).map(PlusList))


def valid_value(param):
    """Strategy of (raw value as the parser gives it, expected coerced value)."""
    if param.choices:
        item = st.sampled_from(param.choices).flatmap(lambda choice: st.sampled_from(
            [(choice, choice), (choice.upper(), choice), (choice.title(), choice)]))
    else:
        if param.type.name not in VALID:
            raise AssertionError(f"no valid-value strategy for parameter type "
                                 f"{param.type.name!r} ({param.name}): add one to VALID")
        item = VALID[param.type.name]
        if param.minimum is not None or param.maximum is not None:
            low = param.minimum if param.minimum is not None else INT64_MIN
            high = param.maximum if param.maximum is not None else INT64_MAX
            item = st.integers(low, high).map(lambda n: (str(n), n))
        if param.max_length is not None:
            item = item.filter(lambda pair: len(pair[0]) <= param.max_length)
    item = item.filter(lambda pair: pair[0] != "")  # an empty value means "not given"
    if param.many:
        return st.lists(item, min_size=1, max_size=5).map(
            lambda pairs: (PlusList(text for text, _ in pairs), [value for _, value in pairs]))
    return item


def coerce(key, param, name, raw):
    """The contract's coercion of the base request with ``param`` given as ``name=raw``."""
    service, method, contract = CONTRACTS[key]
    params = {k: v for k, v in BASE[(service, method)].items() if k not in param.names}
    params[name] = raw
    if contract.body is not None:
        params[contract.body.name] = {}
    return contract.coerce(params)


def same(expected, value):
    """Equality, with relative moments (``N-days-ago``) compared to now within a minute."""
    if isinstance(expected, list):
        return len(expected) == len(value) and all(map(same, expected, value))
    if isinstance(expected, tuple) and expected[:1] == ("ago",):
        return abs(datetime.datetime.now(UTC) - expected[1] - value) < datetime.timedelta(
            minutes=1)
    if isinstance(expected, Decimal):
        return value == parse_threshold(expected)
    return value == expected


@pytest.mark.parametrize("key", CONTRACTS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_text_is_a_value_or_a_400_naming_the_parameter(key, data):
    _, _, contract = CONTRACTS[key]
    assume(contract.params)
    param = data.draw(st.sampled_from(contract.params))
    raw = data.draw(st.one_of(HOSTILE, st.sampled_from(payloads.OVERSIZED_TEXT),
                              st.just(["a"] * payloads.OVERSIZED_ITEMS)))
    try:
        values = coerce(key, param, data.draw(st.sampled_from(param.names)), raw)
    except BadRequest as error:
        assert error.status == 400 and error.parameter == param.name, error.to_json()
    else:
        assert param.name in values


@pytest.mark.parametrize("key", CONTRACTS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_valid_values_round_trip(key, data):
    """Directly and through the URL: path pair or query string, single or double encoded."""
    _, _, contract = CONTRACTS[key]
    assume(contract.params)
    param = data.draw(st.sampled_from(contract.params))
    raw, expected = data.draw(valid_value(param))
    assert same(expected, coerce(key, param, param.name, raw)[param.name])
    texts = list(raw) if isinstance(raw, PlusList) else [raw]
    times = data.draw(st.sampled_from([1, 2]))
    assume(times == 2 or not any(ESCAPE.search(text) for text in texts))
    encoded = [quote(quote(text, safe=""), safe="") if times == 2 else quote(text, safe="")
               for text in texts]
    if data.draw(st.booleans()):
        parsed = merge_pairs(parse_path_pairs(f"k/{'+'.join(encoded)}/".split("/")))["k"]
    else:
        parsed = merge_pairs(parse_query("&".join(f"k={text}" for text in encoded)))["k"]
    assert same(expected, coerce(key, param, param.name, parsed)[param.name])
