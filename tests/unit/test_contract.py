"""Parameter contracts: coercion, defaults, aliases, errors naming the parameter."""
import datetime

import pytest

from crashgate.errors import BadArgument, MissingArgument
from crashgate.services.contract import (BOOLEAN, BUILD_ID, DATETIME, INTEGER, PRODUCT_VERSION,
                                         Contract, Param, PlusList, parse_datetime)

UTC = datetime.timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("2012-02-29", datetime.datetime(2012, 2, 29, tzinfo=UTC)),
    ("2012-02-29 01:23:45", datetime.datetime(2012, 2, 29, 1, 23, 45, tzinfo=UTC)),
    ("2012-02-29 01:23:45.123456", datetime.datetime(2012, 2, 29, 1, 23, 45, 123456, tzinfo=UTC)),
    ("2012-02-29T01:23:45+00:00", datetime.datetime(2012, 2, 29, 1, 23, 45, tzinfo=UTC)),
    ("2012-02-29T03:23:45+02:00", datetime.datetime(2012, 2, 29, 1, 23, 45, tzinfo=UTC)),
    ("2012-02-29T01:23:45Z", datetime.datetime(2012, 2, 29, 1, 23, 45, tzinfo=UTC)),
    ("2012-02-29T01:23:45 00:00", datetime.datetime(2012, 2, 29, 1, 23, 45, tzinfo=UTC)),
])
def test_dates_accepted_and_made_utc(text, expected):
    value = parse_datetime(text)
    assert value == expected and value.tzinfo == UTC


def test_coercion_of_each_type():
    contract = Contract(Param("n", INTEGER), Param("b", BOOLEAN), Param("d", DATETIME),
                        Param("pv", PRODUCT_VERSION, many=True), Param("build", BUILD_ID))
    values = contract.coerce({"n": "12", "b": "T", "d": "2012-01-01",
                              "pv": PlusList(["Firefox:4.0.1", "Fennec:13.0"]),
                              "build": "20120416012345"})
    assert values == {"n": 12, "b": True, "d": datetime.datetime(2012, 1, 1, tzinfo=UTC),
                      "pv": [("Firefox", "4.0.1"), ("Fennec", "13.0")],
                      "build": "20120416012345"}


@pytest.mark.parametrize("param, raw, expected_word", [
    (Param("result_number", INTEGER), "abc", "integer"),
    (Param("flag", BOOLEAN), "14", "boolean"),
    (Param("from", DATETIME), "yesterday", "YYYY-MM-DD"),
    (Param("versions", PRODUCT_VERSION, many=True), "Firefox", "Product:Version"),
    (Param("build_id", BUILD_ID), "2012041601234", "YYYYMMDDhhmmss"),
    (Param("mode", choices=("any", "crash")), "hangs", "any, crash"),
    (Param("limit", INTEGER, minimum=1, maximum=10), "11", "<= 10"),
])
def test_bad_values_are_400_naming_parameter_value_and_expectation(param, raw, expected_word):
    with pytest.raises(BadArgument) as error:
        Contract(param).coerce({param.name: raw})
    body = error.value.to_json()["error"]
    assert error.value.status == 400
    assert body["parameter"] == param.name and body["received"] == raw
    assert expected_word in body["expected"] and param.name in body["message"]


def test_missing_required_and_empty_values():
    contract = Contract(Param("signature", required=True), Param("n", INTEGER, default=100))
    with pytest.raises(MissingArgument) as error:
        contract.coerce({"n": "3"})
    assert error.value.parameter == "signature" and error.value.status == 400
    with pytest.raises(MissingArgument):
        contract.coerce({"signature": ""})
    assert contract.coerce({"signature": "x", "n": ""}) == {"signature": "x", "n": 100}


def test_aliases_defaults_and_unknown_parameters():
    contract = Contract(Param("terms", aliases=("for",)), Param("from_date", DATETIME,
                        aliases=("from",), default=lambda: "computed"))
    assert contract.coerce({"for": "x", "junk": "1"}) == {"terms": "x", "from_date": "computed"}
    assert contract.coerce({"terms": "canonical", "for": "alias"})["terms"] == "canonical"


def test_scalar_rejoins_plus_but_rejects_repeated_keys():
    contract = Contract(Param("signature"))
    assert contract.coerce({"signature": PlusList(["operator", "="])}) == {"signature": "operator+="}
    with pytest.raises(BadArgument) as error:
        contract.coerce({"signature": ["a", "b"]})
    assert "single value" in error.value.message


def test_choices_are_case_insensitive_and_normalised():
    contract = Contract(Param("report_process", choices=("any", "browser", "plugin")))
    assert contract.coerce({"report_process": "Plugin"}) == {"report_process": "plugin"}


def test_duplicate_names_rejected_at_declaration():
    with pytest.raises(ValueError):
        Contract(Param("for"), Param("terms", aliases=("for",)))


def test_every_missing_required_parameter_is_named():
    contract = Contract(Param("signature", required=True), Param("start_date", DATETIME, required=True),
                        Param("products", many=True, required=True))
    with pytest.raises(MissingArgument) as error:
        contract.coerce({"products": ""})
    body = error.value.to_json()["error"]
    assert body["missing"] == ["signature", "start_date", "products"]
    assert "'signature', 'start_date', 'products'" in body["message"]
