"""Thresholds (0.1-quantised Decimals) and bucket assignment from the top match."""
import re
from collections import namedtuple
from decimal import Decimal

import pytest

from crashgate.bucketing.assignment import assign_buckets, assign_buckets_dry_run, random_bucket_id
from crashgate.bucketing.thresholds import format_threshold, parse_threshold, parse_thresholds

TopMatch = namedtuple("TopMatch", "score buckets")
T = [Decimal("1.0"), Decimal("4.0"), Decimal("7.0")]


@pytest.mark.parametrize("text, expected", [
    ("3.75", "3.8"), ("3.25", "3.2"), ("0.05", "0.0"), ("4", "4.0"), (" 4.0 ", "4.0"), ("11", "11.0"),
    (4, "4.0"), (3.75, "3.8"), (Decimal("2.55"), "2.6"), ("-0", "0.0"), ("1e1", "10.0")])
def test_parse_and_format(text, expected):
    assert format_threshold(text) == expected
    assert parse_threshold(text) == Decimal(expected)
    assert str(parse_threshold(text)) == expected


@pytest.mark.parametrize("bad", ["", "four", "NaN", "nan", "Infinity", "-inf", "-0.1", "-3", "1e999999999",
                                 None, True, [4], "4.0.0"])
def test_parse_rejects(bad):
    with pytest.raises(ValueError):
        parse_threshold(bad)


def test_parse_thresholds_sorts_and_deduplicates():
    assert parse_thresholds(["4.0", "1", 3.95, "2.5"]) == [Decimal("1.0"), Decimal("2.5"), Decimal("4.0")]


def test_random_bucket_id_is_url_safe_and_unique():
    ids = {random_bucket_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", bucket) for bucket in ids)


def counter_ids():
    numbers = iter(range(1, 100))
    return lambda: f"new{next(numbers)}"


def test_no_top_match_founds_a_bucket_per_threshold():
    assert assign_buckets(T, None, counter_ids()) == {T[0]: "new1", T[1]: "new2", T[2]: "new3"}


def test_score_joins_buckets_up_to_it():
    match = TopMatch(4.0, {T[0]: "a", T[1]: "b", T[2]: "c"})
    assert assign_buckets(T, match, counter_ids()) == {T[0]: "a", T[1]: "b", T[2]: "new1"}
    assert assign_buckets(T, TopMatch(3.9999, match.buckets), counter_ids())[T[1]] == "new1"
    assert assign_buckets(T, TopMatch(10.0, match.buckets), counter_ids()) == match.buckets


def test_string_keyed_buckets_and_missing_thresholds():
    match = TopMatch(9.0, {"1.0": "a", "4.0": "b"})  # stored before 7.0 was configured
    assert assign_buckets(["7", "1", "4"], match, counter_ids()) == {T[0]: "a", T[1]: "b", T[2]: "new1"}


def test_default_ids_are_random():
    assigned = assign_buckets(T, None)
    assert len(set(assigned.values())) == 3


def test_dry_run_leaves_new_buckets_empty():
    match = TopMatch(5.5, {T[0]: "a", T[1]: "b", T[2]: "c"})
    assert assign_buckets_dry_run(T, match) == {T[0]: "a", T[1]: "b", T[2]: None}
    assert assign_buckets_dry_run(T, None) == {T[0]: None, T[1]: None, T[2]: None}
