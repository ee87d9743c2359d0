"""Exact parsing of the Graph API's numeric strings.

Every metric arrives as a string (``"14.35"``, ``"185"``); money becomes :class:`~decimal.Decimal` (never
float), counts become ``int``, action counts and values an ``int`` when whole and a Decimal otherwise.
A missing metric means "nothing happened" and is 0, except for unique metrics such as ``reach`` where 0
would lie: those stay None. The common case (a well-formed string) takes one C call; anything else goes
the slow, checked way.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from metaads.errors import InsightRowError

ZERO = Decimal(0)


def parse_decimal(value: object, field: str) -> Decimal:
    """A money or action value as an exact Decimal; missing (None or "") is 0."""
    if type(value) is str and value:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise InsightRowError(f"{field}: {value!r} is not a number") from None
        if number.is_finite():
            return number
        raise InsightRowError(f"{field}: {value!r} is not a finite number")
    return _decimal_slow(value, field)


def parse_amount(value: object, field: str) -> int | Decimal:
    """An action count or value, exact: an int when Meta sent a whole number, else a Decimal; missing is 0.

    Most action counts are whole ("12"; modelled conversions make some "1.5"). As an int, psycopg's binary
    COPY writes one into a numeric column in a quarter of the time a Decimal takes (0.2 against 0.8 µs).
    """
    if type(value) is str and "." not in value:
        try:
            return int(value)
        except ValueError:
            pass  # "", "1e3", junk: decided by the Decimal parser
    return parse_decimal(value, field)


def _decimal_slow(value: object, field: str) -> Decimal:
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise InsightRowError(f"{field}: expected a number, got {value!r}")
    # floats go through repr so 0.1 stays 0.1 instead of its binary expansion
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise InsightRowError(f"{field}: {value!r} is not a finite number")
    return number


def parse_count(value: object, field: str) -> int:
    """A count as an int; missing (None or "") is 0."""
    if type(value) is str:
        try:
            return int(value)
        except ValueError:
            pass  # "", or maybe "7.0": decided below
    elif type(value) is int:
        return value
    if value is None or value == "":
        return 0
    number = parse_decimal(value, field) if isinstance(value, str) else _decimal_slow(value, field)
    if number != number.to_integral_value():
        raise InsightRowError(f"{field}: {value!r} is not a whole number")
    return int(number)


def parse_optional_count(value: object, field: str) -> int | None:
    """A count that must stay NULL when absent (unique metrics such as reach cannot be 0-filled)."""
    if value is None or value == "":
        return None
    return parse_count(value, field)
