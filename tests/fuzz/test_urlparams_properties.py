"""Property tests of the raw-URI parser (crashgate/middleware/urlparams.py): any value, any
key, round-trips through the path and the query string, single- and double-encoded, as the
parser defines it (docs/api.md, "Parameters")."""
import re
from urllib.parse import quote, quote_plus, unquote_to_bytes

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from crashgate.errors import BadArgument
from crashgate.middleware.urlparams import (merge_pairs, parse_path_pairs, parse_query,
                                            percent_decode)
from crashgate.services.contract import PlusList

ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# Text rich in what URLs make special, besides any unicode text at all.
SPECIAL = st.sampled_from(list("/+%'\"\\|&=?#;, \t\r\n\x01\x1f\x7f") + ["%2F", "%25", "%2B",
                                                                        "é", "😀", "\u202e"])
ANY_TEXT = st.one_of(st.text(), st.lists(st.one_of(SPECIAL, st.text(max_size=3)))
                     .map("".join))
VALUE = ANY_TEXT.filter(lambda text: "\x00" not in text)
KEY = VALUE.filter(lambda text: text != "")


def encode(text, times):
    for _ in range(times):
        text = quote(text, safe="")
    return text


def path_params(tail):
    return merge_pairs(parse_path_pairs(tail.split("/")))


def single_encoding_reads(value):
    """What a single-encoded ``value`` reads as: itself, unless it holds ``%XX`` escapes,
    which make the parser take it for double-encoded and decode once more."""
    if not ESCAPE.search(value):
        return value
    return unquote_to_bytes(value).decode("utf-8")


@settings(max_examples=500)
@given(ANY_TEXT)
@example("%%41\\x41%zz%")
def test_percent_decoding_is_urllibs(text):
    assert percent_decode(text) == unquote_to_bytes(text)


@settings(max_examples=300)
@given(key=KEY, value=VALUE, times=st.sampled_from([1, 2]))
def test_any_value_round_trips_through_a_path_pair(key, value, times):
    tail = f"{encode(key, times)}/{encode(value, times)}/"
    if times == 2:
        assert path_params(tail) == {key: value}
        return
    try:
        expected = {single_encoding_reads(key): single_encoding_reads(value)}
    except UnicodeDecodeError:  # a %XX that is no UTF-8: the parser must say which key
        with pytest.raises(BadArgument):
            path_params(tail)
        return
    assume("\x00" not in "".join(*expected.items()))
    assert path_params(tail) == expected


@settings(max_examples=300)
@given(key=KEY, value=VALUE, style=st.sampled_from(["quote", "quote_plus", "double"]))
def test_any_value_round_trips_through_the_query_string(key, value, style):
    if style == "double":
        query, expected = f"{encode(key, 2)}={encode(value, 2)}", (key, value)
    else:
        quoter = quote_plus if style == "quote_plus" else (lambda t: quote(t, safe=""))
        query = f"{quoter(key)}={quoter(value)}"
        try:
            expected = (single_encoding_reads(key), single_encoding_reads(value))
        except UnicodeDecodeError:
            with pytest.raises(BadArgument):
                parse_query(query)
            return
        assume("\x00" not in "".join(expected))
    assert parse_query(query) == [expected]


@settings(max_examples=200)
@given(items=st.lists(VALUE, min_size=2, max_size=8), times=st.sampled_from([1, 2]))
def test_literal_plus_separates_list_items_in_a_path(items, times):
    assume(times == 2 or not any(ESCAPE.search(item) for item in items))
    value = path_params("list/" + "+".join(encode(item, times) for item in items) + "/")["list"]
    assert isinstance(value, PlusList) and value == items


@settings(max_examples=200)
@given(values=st.lists(st.tuples(st.sampled_from(["path", "query"]), VALUE), min_size=1,
                       max_size=6))
def test_repeated_parameters_make_a_list_in_order(values):
    """A key given n times (in the path first, then the query string) -> its n values."""
    in_path = [value for where, value in values if where == "path"]
    in_query = [value for where, value in values if where == "query"]
    tail = "".join(f"k/{encode(value, 2)}/" for value in in_path).split("/")
    query = "&".join(f"k={encode(value, 2)}" for value in in_query)
    merged = merge_pairs(parse_path_pairs(tail), parse_query(query))
    expected = in_path + in_query
    assert merged["k"] == (expected[0] if len(expected) == 1 else expected)


@given(key=KEY, before=VALUE, after=VALUE, where=st.sampled_from(["path", "query"]),
       times=st.sampled_from([1, 2]))
def test_nul_anywhere_in_a_value_is_a_400_naming_the_key(key, before, after, where, times):
    assume(not ESCAPE.search(key) and not ESCAPE.search(before + after))
    raw = encode(before + "\x00" + after, times)
    with pytest.raises(BadArgument) as error:
        if where == "path":
            path_params(f"{encode(key, 1)}/{raw}/")
        else:
            parse_query(f"{encode(key, 1)}={raw}")
    assert error.value.parameter == key


@given(key=KEY, garbage=st.sampled_from(["%FF", "%C3%28", "%C0%AF", "%ED%A0%80", "%F4%90%80%80",
                                        "%E2%82", "%25FF", "%2500"]))
def test_undecodable_values_are_a_400_naming_the_key(key, garbage):
    assume(not ESCAPE.search(key))
    for parse in (lambda: path_params(f"{encode(key, 1)}/a{garbage}b/"),
                  lambda: parse_query(f"{encode(key, 1)}=a{garbage}b")):
        with pytest.raises(BadArgument) as error:
            parse()
        assert error.value.parameter == key


@given(key=st.sampled_from(["%FF", "%C3%28", "%00", "a%2500"]))
def test_undecodable_keys_are_a_400_naming_the_key_as_sent(key):
    for parse in (lambda: path_params(f"{key}/x/"), lambda: parse_query(f"{key}=x")):
        with pytest.raises(BadArgument) as error:
            parse()
        assert error.value.parameter == key
