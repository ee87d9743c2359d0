"""Per-day totals of the four figures Meta also reports at account level (pure, no I/O).

Spend is summed as exact decimals from the API's strings; counts as integers. ``rows`` counts the
ad rows behind a day's sums: the spend tolerance grows with it (each row is rounded separately).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

METRICS: tuple[str, ...] = ("spend", "impressions", "clicks", "inline_link_clicks")
_COUNTS = METRICS[1:]
_ZERO = Decimal(0)


@dataclass(frozen=True)
class DayTotals:
    """One day's sums: spend (exact), impressions, clicks, inline link clicks, and the ad rows summed."""

    spend: Decimal = _ZERO
    impressions: int = 0
    clicks: int = 0
    inline_link_clicks: int = 0
    rows: int = 0

    def plus(self, other: DayTotals) -> DayTotals:
        return DayTotals(
            self.spend + other.spend,
            self.impressions + other.impressions,
            self.clicks + other.clicks,
            self.inline_link_clicks + other.inline_link_clicks,
            self.rows + other.rows,
        )

    @property
    def empty(self) -> bool:
        """Nothing was spent or shown that day."""
        return self.spend == 0 and not (self.impressions or self.clicks or self.inline_link_clicks)

    def value(self, metric: str) -> Decimal:
        return Decimal(getattr(self, metric))

    def as_dict(self) -> dict[str, Any]:
        return {
            "spend": str(self.spend),
            "impressions": self.impressions,
            "clicks": self.clicks,
            "inline_link_clicks": self.inline_link_clicks,
            "rows": self.rows,
        }


EMPTY = DayTotals()


def _decimal(value: object) -> Decimal:
    if value is None or value == "":
        return _ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return _ZERO


def _int(value: object) -> int:
    if value is None or value == "":
        return 0
    return int(Decimal(str(value)))


def row_totals(row: Mapping[str, Any]) -> DayTotals:
    """The figures of one API row (missing fields count as 0, as Meta omits zero metrics)."""
    return DayTotals(
        _decimal(row.get("spend")),
        _int(row.get("impressions")),
        _int(row.get("clicks")),
        _int(row.get("inline_link_clicks")),
        1,
    )


class TotalsByDay:
    """Accumulates rows into per-day sums, page by page while a chunk is fetched."""

    def __init__(self) -> None:
        self.days: dict[date, DayTotals] = {}

    def add(self, row: Mapping[str, Any]) -> None:
        day = date.fromisoformat(str(row["date_start"]))
        self.days[day] = self.days.get(day, EMPTY).plus(row_totals(row))

    def add_all(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.add(row)

    def get(self, day: date) -> DayTotals:
        return self.days.get(day, EMPTY)


def sum_api_rows(rows: Iterable[Mapping[str, Any]]) -> dict[date, DayTotals]:
    """Per-day sums of API rows (ad level, or the account level's one row per day)."""
    totals = TotalsByDay()
    totals.add_all(rows)
    return totals.days
