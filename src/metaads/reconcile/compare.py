"""Comparing ad-level sums with Meta's account-level totals, and choosing which days a load replaces.

Pure functions over :class:`~metaads.reconcile.totals.DayTotals`; no I/O.

Tolerance (docs/reconciliation.md): integer counts must be equal. Spend may differ by the rounding of
the rows summed: Meta rounds each row's spend to the currency's minor unit, so N ad rows can differ from
the account total by up to N x half a minor unit (N x 0.005 in a two-decimal currency), plus a small
relative allowance (``RECONCILE_TOLERANCE``, default 0.1 %) for figures Meta updates between the two
requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from metaads.reconcile.totals import EMPTY, METRICS, DayTotals

STRICT = "strict"
WARN = "warn"
OFF = "off"
MODES = (STRICT, WARN, OFF)

DEFAULT_RELATIVE = Decimal("0.001")
# ISO 4217 currencies Meta bills without a minor unit (Meta's "currency offset" 1): their spend
# strings are whole numbers, so each row's rounding is up to half a unit.
ZERO_DECIMAL_CURRENCIES = frozenset({"CLP", "COP", "CRC", "HUF", "ISK", "IDR", "JPY", "KRW", "PYG", "TWD", "VND"})


@dataclass(frozen=True)
class Tolerance:
    """How far ad-level sums may be from the account-level totals and still match."""

    relative: Decimal = DEFAULT_RELATIVE
    #: Half the currency's minor unit: the most one row's rounded spend can be off.
    per_row: Decimal = Decimal("0.005")

    @classmethod
    def for_currency(cls, currency: str | None, relative: Decimal | float | str = DEFAULT_RELATIVE) -> Tolerance:
        half_unit = Decimal("0.5") if (currency or "").upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.005")
        return cls(relative=Decimal(str(relative)), per_row=half_unit)

    def spend_allowance(self, api: DayTotals, rows: int) -> Decimal:
        return max(self.per_row * max(rows, 1), self.relative * abs(api.spend))

    def matches(self, api: DayTotals, loaded: DayTotals) -> bool:
        if (loaded.impressions, loaded.clicks, loaded.inline_link_clicks) != (
            api.impressions,
            api.clicks,
            api.inline_link_clicks,
        ):
            return False
        return abs(loaded.spend - api.spend) <= self.spend_allowance(api, loaded.rows)

    def distance(self, api: DayTotals, candidate: DayTotals) -> float:
        """How far ``candidate`` is from ``api``: 0 when it matches, else the summed relative errors."""
        if self.matches(api, candidate):
            return 0.0
        total = 0.0
        for metric in METRICS:
            want, have = api.value(metric), candidate.value(metric)
            total += float(abs(have - want) / max(abs(want), Decimal(1)))
        return total


@dataclass(frozen=True)
class DayCheck:
    """One day: Meta's account-level totals, what the warehouse holds after the load, and the verdict."""

    day: date
    api: DayTotals
    loaded: DayTotals
    ok: bool
    replaced: bool = True
    #: The sums of Meta's ad-level answer (what ``loaded`` would be had the day been replaced).
    answer: DayTotals | None = None

    @property
    def answered(self) -> DayTotals:
        return self.loaded if self.answer is None else self.answer

    def differences(self) -> dict[str, str]:
        """Metric -> loaded minus API, only for metrics that differ."""
        out = {}
        for metric in METRICS:
            delta = self.loaded.value(metric) - self.api.value(metric)
            if delta:
                out[metric] = str(delta)
        return out


@dataclass(frozen=True)
class ChunkCheck:
    """Every day of one chunk compared."""

    days: tuple[DayCheck, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.days)

    @property
    def bad_days(self) -> list[DayCheck]:
        return [d for d in self.days if not d.ok]

    def summary(self, limit: int = 5) -> str:
        """``2026-01-03 spend -12.40 impressions -310; ...`` for the first bad days."""
        parts = []
        for check in self.bad_days[:limit]:
            diffs = " ".join(f"{k} {v}" for k, v in check.differences().items()) or "within rounding only"
            kept = "" if check.replaced else " (stored rows kept)"
            parts.append(f"{check.day} {diffs}{kept}")
        more = len(self.bad_days) - limit
        return "; ".join(parts) + (f"; and {more} more days" if more > 0 else "")


def check_days(
    days: Iterable[date],
    api: Mapping[date, DayTotals],
    loaded: Mapping[date, DayTotals],
    tolerance: Tolerance,
    replaced: Iterable[date] | None = None,
    answer: Mapping[date, DayTotals] | None = None,
) -> ChunkCheck:
    """Compare ``loaded`` with ``api`` on every day of ``days`` (a missing day counts as zero).

    ``answer``: the ad-level answer's sums when ``loaded`` is not (only) the answer.
    """
    chosen = None if replaced is None else set(replaced)
    checks = []
    for day in sorted(days):
        want, have = api.get(day, EMPTY), loaded.get(day, EMPTY)
        checks.append(
            DayCheck(
                day,
                want,
                have,
                tolerance.matches(want, have),
                replaced=chosen is None or day in chosen,
                answer=None if answer is None else answer.get(day, EMPTY),
            )
        )
    return ChunkCheck(tuple(checks))


def days_to_replace(
    days: Iterable[date],
    api: Mapping[date, DayTotals],
    new: Mapping[date, DayTotals],
    stored: Mapping[date, DayTotals],
    tolerance: Tolerance,
) -> set[date]:
    """Days where the new answer is at least as close to Meta's totals as the stored rows (strict mode).

    So a short answer never overwrites a complete day, an empty answer never deletes rows Meta says
    exist, and a day with no rows yet still gets whatever Meta gave.
    """
    chosen = set()
    for day in days:
        want = api.get(day, EMPTY)
        if tolerance.distance(want, new.get(day, EMPTY)) <= tolerance.distance(want, stored.get(day, EMPTY)):
            chosen.add(day)
    return chosen


def days_not_confirmed_empty(
    days: Iterable[date], api: Mapping[date, DayTotals], new: Mapping[date, DayTotals], stored: Mapping[date, DayTotals]
) -> set[date]:
    """Days the new answer leaves empty while rows are stored and Meta's totals are not empty (warn mode)."""
    return {
        day
        for day in days
        if new.get(day, EMPTY).rows == 0 and stored.get(day, EMPTY).rows > 0 and not api.get(day, EMPTY).empty
    }


def merged(
    days: Iterable[date], replaced: set[date], new: Mapping[date, DayTotals], stored: Mapping[date, DayTotals]
) -> dict[date, DayTotals]:
    """What the warehouse holds after a load that replaced ``replaced`` and kept the other days."""
    return {day: (new if day in replaced else stored).get(day, EMPTY) for day in days}
