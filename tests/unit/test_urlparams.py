"""The raw-URI parser (notes §6.3 rows 1, 2, 12, 19 and the encodings of the issue)."""
from urllib.parse import quote

import pytest

from crashgate.errors import BadArgument
from crashgate.middleware.urlparams import (decode_component, merge_pairs, parse_path_pairs,
                                            parse_query, raw_path_and_query)
from crashgate.services.contract import PlusList


def pairs_of(tail):
    return merge_pairs(parse_path_pairs(tail.split("/")))


def test_socorro_path_examples():
    assert pairs_of("product/firefox/from/yesterday/build/12+33+782/version/7.0.1b4/") == {
        "product": "firefox", "from": "yesterday", "build": ["12", "33", "782"],
        "version": "7.0.1b4"}
    assert pairs_of("product/firefox/for") == {"product": "firefox"}
    assert pairs_of("product/firefox/for//") == {"product": "firefox", "for": ""}
    assert pairs_of("product/firefox//bla/") == {"product": "firefox"}


def test_plus_makes_a_plus_list():
    value = pairs_of("names/peter+anders/")["names"]
    assert value == ["peter", "anders"] and isinstance(value, PlusList)


@pytest.mark.parametrize("encoded", [
    "this%2Fis%2Ba%3DC%7Csignature",          # single-encoded
    "this%252Fis%252Ba%3DC%7Csignature",      # Socorro clients: / and + double-encoded
    quote(quote("this/is+a=C|signature", safe=""), safe=""),  # everything double-encoded
])
def test_signature_with_slash_and_plus_round_trips(encoded):
    assert pairs_of(f"signature/{encoded}/from/2012-01-01/")["signature"] == "this/is+a=C|signature"


@pytest.mark.parametrize("value", [
    "+samplesignat/ure", "100% CPU", "50%", "ns'Quote\"d", "C:\\path\\x", "a b",
    "Ünïcödé::función", "operator+=", "js::Foo | bar/baz",
])
def test_any_value_round_trips_single_and_double_encoded(value):
    single = quote(value, safe="")
    assert pairs_of(f"signature/{single}/")["signature"] == value
    assert pairs_of(f"signature/{quote(single, safe='')}/")["signature"] == value
    assert dict(parse_query("signature=" + single))["signature"] == value


def test_iso_timestamp_with_offset_is_not_split_on_plus():
    assert pairs_of("date/2012-02-29T01:23:45+00:00/") == {"date": "2012-02-29T01:23:45+00:00"}
    assert pairs_of("date/2012-02-29T01:23:45%2B00:00/") == {"date": "2012-02-29T01:23:45+00:00"}


def test_query_string_lists_and_plus_as_space():
    params = merge_pairs(parse_query("products=Firefox&products=Fennec&for=a+b&empty="))
    assert params == {"products": ["Firefox", "Fennec"], "for": "a b", "empty": ""}


def test_path_and_query_mix():
    params = merge_pairs(parse_path_pairs("signature/x/".split("/")),
                         parse_query("products=Firefox&signature=y"))
    assert params == {"signature": ["x", "y"], "products": "Firefox"}


def test_raw_uri_preferred_over_decoded_path_info():
    environ = {"RAW_URI": "/report/list/signature/a%2Fb/?x=1", "PATH_INFO": "/report/list/signature/a/b/"}
    assert raw_path_and_query(environ) == ("/report/list/signature/a%2Fb/", "x=1")
    environ = {"REQUEST_URI": "/p/a%2Fb/", "PATH_INFO": "/p/a/b/"}
    assert raw_path_and_query(environ) == ("/p/a%2Fb/", "")
    # werkzeug's test client: the raw URI without the query, which is in QUERY_STRING
    environ = {"RAW_URI": "/p/a%2Fb/", "QUERY_STRING": "x=a%2Bb", "PATH_INFO": "/p/a/b/"}
    assert raw_path_and_query(environ) == ("/p/a%2Fb/", "x=a%2Bb")


def test_invalid_utf8_and_nul_are_bad_arguments():
    with pytest.raises(BadArgument) as error:
        decode_component("%FF%FE", "signature")
    assert error.value.parameter == "signature"
    with pytest.raises(BadArgument):
        decode_component("a%00b", "signature")
