"""Exact parsing of the API's numeric strings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from metaads.transform.numbers import InsightRowError, parse_amount, parse_count, parse_decimal, parse_optional_count


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("14.35", Decimal("14.35"), id="money-string"),
        pytest.param("0.000000001", Decimal("0.000000001"), id="tiny"),
        pytest.param("1234567890123456.123456789", Decimal("1234567890123456.123456789"), id="huge-exact"),
        pytest.param("1e3", Decimal("1000"), id="exponent"),
        pytest.param(None, Decimal(0), id="missing"),
        pytest.param("", Decimal(0), id="empty"),
        pytest.param(7, Decimal(7), id="json-int"),
        pytest.param(0.1, Decimal("0.1"), id="json-float-kept-decimal"),
    ],
)
def test_parse_decimal(raw: object, expected: Decimal) -> None:
    assert parse_decimal(raw, "spend") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("185", 185, id="count-string"),
        pytest.param("7.0", 7, id="integral-decimal"),
        pytest.param(None, 0, id="missing"),
        pytest.param(42, 42, id="json-int"),
    ],
)
def test_parse_count(raw: object, expected: int) -> None:
    assert parse_count(raw, "clicks") == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("abc", id="word"),
        pytest.param("Infinity", id="infinite"),
        pytest.param(True, id="boolean"),
        pytest.param([1], id="list"),
    ],
)
def test_non_numbers_are_rejected_naming_the_field(raw: object) -> None:
    with pytest.raises(InsightRowError, match="spend"):
        parse_decimal(raw, "spend")


def test_missing_reach_stays_null_but_zero_reach_is_zero() -> None:
    assert parse_optional_count(None, "reach") is None
    assert parse_optional_count("0", "reach") == 0


@pytest.mark.parametrize(
    ("raw", "expected", "kind"),
    [
        pytest.param("12", 12, int, id="whole"),
        pytest.param("-3", -3, int, id="negative-whole"),
        pytest.param("123456789012345678901234567890", 123456789012345678901234567890, int, id="beyond-64-bits"),
        pytest.param("1.5", Decimal("1.5"), Decimal, id="modelled-fraction"),
        pytest.param("12.0", Decimal("12.0"), Decimal, id="written-with-a-point"),
        pytest.param("1e3", Decimal("1000"), Decimal, id="exponent"),
        pytest.param("", Decimal(0), Decimal, id="empty"),
        pytest.param(None, Decimal(0), Decimal, id="missing"),
        pytest.param(7, Decimal(7), Decimal, id="json-int"),
    ],
)
def test_action_amounts_are_ints_when_whole_and_decimals_otherwise(raw: object, expected: object, kind: type) -> None:
    """Exact either way; whole numbers as int because the binary COPY writes those four times faster."""
    value = parse_amount(raw, "actions")
    assert value == expected
    assert type(value) is kind


@pytest.mark.parametrize("raw", ["abc", "Infinity", "1.2.3", "NaN"])
def test_action_amounts_that_are_not_numbers_are_rejected_naming_the_field(raw: str) -> None:
    with pytest.raises(InsightRowError, match="actions"):
        parse_amount(raw, "actions")
