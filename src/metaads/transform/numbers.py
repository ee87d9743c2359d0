"""Exact parsing of the Graph API's numeric strings.

Every metric arrives as a string (``"14.35"``, ``"185"``); money and action values become
:class:`~decimal.Decimal` (never float), counts become ``int``. A missing metric means "nothing
happened" and is 0, except for unique metrics such as ``reach`` where 0 would lie: those stay None.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from metaads.errors import MetaAdsError

ZERO = Decimal(0)


class InsightRowError(MetaAdsError, ValueError):
    """An insights row is malformed (missing key, non-numeric metric): a data problem, not retryable."""


def parse_decimal(value: object, field: str) -> Decimal:
    """A money or action value as an exact Decimal; missing (None or "") is 0."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise InsightRowError(f"{field}: expected a number, got {value!r}")
    try:
        # floats go through repr so 0.1 stays 0.1 instead of its binary expansion
        number = Decimal(value if isinstance(value, (str, int)) else repr(value))
    except (InvalidOperation, TypeError, ValueError):
        raise InsightRowError(f"{field}: {value!r} is not a number") from None
    if not number.is_finite():
        raise InsightRowError(f"{field}: {value!r} is not a finite number")
    return number


def parse_count(value: object, field: str) -> int:
    """A count as an int; missing (None or "") is 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass  # maybe "7.0": accepted below when integral
    number = parse_decimal(value, field)
    if number != number.to_integral_value():
        raise InsightRowError(f"{field}: {value!r} is not a whole number")
    return int(number)


def parse_optional_count(value: object, field: str) -> int | None:
    """A count that must stay NULL when absent (unique metrics such as reach cannot be 0-filled)."""
    if value is None or value == "":
        return None
    return parse_count(value, field)
