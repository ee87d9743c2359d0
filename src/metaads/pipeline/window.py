"""Which days one account's run fetches, planned from what the run ledger says was loaded. Pure.

Four rules, in order (issue 10, "Numbers users can trust"):

1. Explicit ``--since``/``--until`` win: exactly that range (clamped to the 37-month history and today).
2. A new account (nothing ever loaded) starts ``INITIAL_HISTORY_DAYS`` back (at least the deep window).
3. Restatements: Meta restates conversions and their values for up to 28 days, so the first run of each
   local day re-fetches ``DEEP_LOOKBACK_DAYS`` (also any run asked to be ``deep``); the day's other runs
   fetch ``LOOKBACK_DAYS``. "Already deep today" is read from the ledger: the ranges loaded by runs that
   finished on the account's local today cover the whole deep window.
4. Catch-up: the range starts no later than the first day the ledger shows as missing: the day after the
   last loaded day, a day of a failed range never loaded since, or a day that left the deep window
   without being fetched at its edge (a day without runs, an outage: its restated figures were never
   fetched). So an outage of any length is closed by the next plain run, loaded chunk by chunk, and
   its last days before the outage are refreshed too. Capped at the 37-month history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from metaads.dates import DateRange, local_today, oldest_available_day, resolve_range
from metaads.warehouse.history import FAILED_STATUSES, GOOD_STATUSES, LedgerEntry


class WindowKind(str, Enum):
    """Why a run fetches the range it fetches (shown in results and logs; equal to its value)."""

    EXPLICIT = "explicit"
    INITIAL = "initial"
    CATCH_UP = "catch-up"
    DEEP = "deep"
    LOOKBACK = "look-back"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class WindowPolicy:
    """The numbers of the rules above (from settings)."""

    lookback_days: int
    deep_lookback_days: int
    initial_history_days: int

    def __post_init__(self) -> None:
        for name in ("lookback_days", "deep_lookback_days", "initial_history_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass(frozen=True)
class Window:
    """The planned range and why."""

    range: DateRange
    kind: WindowKind


def _days(days: int, today: date) -> date:
    return today - timedelta(days=days - 1)


def _merged(ranges: Iterable[DateRange]) -> list[DateRange]:
    """Union of ranges as sorted, disjoint, non-adjacent ranges."""
    out: list[DateRange] = []
    for item in sorted(ranges, key=lambda r: (r.since, r.until)):
        if out and item.since <= out[-1].until + timedelta(days=1):
            if item.until > out[-1].until:
                out[-1] = DateRange(out[-1].since, item.until)
            continue
        out.append(item)
    return out


def covers(ranges: Iterable[DateRange], wanted: DateRange) -> bool:
    """Whether the union of ``ranges`` contains every day of ``wanted``."""
    return any(r.since <= wanted.since and wanted.until <= r.until for r in _merged(ranges))


def _unsettled_day(
    good: Sequence[LedgerEntry],
    last: date,
    today: date,
    timezone_name: str | None,
    deep_days: int,
    created: date | None,
) -> date | None:
    """The first day that left the deep window without ever being fetched at its edge (or later).

    A day's figures are final once fetched at an age of ``deep_days - 1`` days or more (the oldest day of
    a deep window). Days younger than that now are in today's or a coming deep window anyway; older days
    of the last ``deep_days`` loaded days may have missed their last deep fetch (no run on a Sunday, an
    outage): those are fetched again. Older days are assumed settled by the runs of their time.
    """
    settle_age = deep_days - 1
    low = last - timedelta(days=settle_age)
    if created is not None:  # nothing before the account existed
        low = max(low, created)
    high = min(last, today - timedelta(days=settle_age))
    if high < low:
        return None
    oldest_fetch: dict[date, int] = {}
    for entry in good:
        fetched = local_today(entry.finished_at, timezone_name)
        day = max(entry.since, low)
        while day <= min(entry.until, high):
            oldest_fetch[day] = max(oldest_fetch.get(day, -1), (fetched - day).days)
            day += timedelta(days=1)
    day = low
    while day <= high:
        if oldest_fetch.get(day, -1) < settle_age:
            return day
        day += timedelta(days=1)
    return None


def _never_loaded_failed_day(good: Sequence[LedgerEntry], failed: Sequence[LedgerEntry]) -> date | None:
    """The earliest day of a failed range that no loaded range holds (a failed fetch keeps older rows)."""
    loaded = _merged(DateRange(e.since, e.until) for e in good)
    first: date | None = None
    for entry in failed:
        day = entry.since
        for block in loaded:
            if block.since <= day <= block.until:
                day = block.until + timedelta(days=1)
        if day <= entry.until and (first is None or day < first):
            first = day
    return first


def first_missing_day(
    entries: Sequence[LedgerEntry], today: date, timezone_name: str | None, deep_days: int, created: date | None = None
) -> date | None:
    """The first day the next run must fetch again, whatever its look-back; None for a new account.

    The earliest of: the day after the last loaded day; a day that left the deep window unsettled
    (:func:`_unsettled_day`); a day of a failed range never loaded since.
    """
    good = [e for e in entries if e.status in GOOD_STATUSES]
    if not good:
        return None
    last = max(e.until for e in good)
    candidates = [
        last + timedelta(days=1),
        _unsettled_day(good, last, today, timezone_name, deep_days, created),
        _never_loaded_failed_day(good, [e for e in entries if e.status in FAILED_STATUSES]),
    ]
    return min(day for day in candidates if day is not None)


def deep_done_today(
    entries: Sequence[LedgerEntry], today: date, timezone_name: str | None, deep_days: int, created: date | None = None
) -> bool:
    """Whether ranges loaded by runs finished on the account's local ``today`` cover the deep window
    (from the account's creation day when it is younger)."""
    first = _days(deep_days, today)
    if created is not None:
        first = min(max(first, created), today)
    wanted = DateRange(first, today)
    todays = [
        DateRange(e.since, e.until)
        for e in entries
        if e.status in GOOD_STATUSES and local_today(e.finished_at, timezone_name) == today
    ]
    return covers(todays, wanted)


def plan_window(
    today: date,
    entries: Sequence[LedgerEntry],
    policy: WindowPolicy,
    *,
    timezone_name: str | None = None,
    deep: bool = False,
    since: date | None = None,
    until: date | None = None,
    created: date | None = None,
) -> Window:
    """The range one account's run fetches; see the module docstring for the rules.

    Args:
        today: the account's local today.
        entries: the account's ledger rows (any order; older than the 37-month history may be left out).
        policy: look-back, deep look-back and initial history, in days.
        timezone_name: the account's time zone (ledger ``finished_at`` is compared in it).
        deep: force the deep window (``metaads run --deep``).
        since, until: explicit bounds; when either is given, rules 2-4 do not apply.
        created: the account's creation day, when known: a planned range longer than the deep window
            never starts before it (there is nothing to fetch); explicit ones do as asked.
    """
    lookback = policy.lookback_days
    deep_days = max(policy.deep_lookback_days, lookback)
    if since is not None or until is not None:
        return Window(resolve_range(today, lookback_days=lookback, since=since, until=until), WindowKind.EXPLICIT)
    missing = first_missing_day(entries, today, timezone_name, deep_days, created)
    if missing is None:
        start, kind = _days(max(policy.initial_history_days, deep_days), today), WindowKind.INITIAL
    else:
        if deep or not deep_done_today(entries, today, timezone_name, deep_days, created):
            start, kind = _days(deep_days, today), WindowKind.DEEP
        else:
            start, kind = _days(lookback, today), WindowKind.LOOKBACK
        if missing < start:
            start, kind = missing, WindowKind.CATCH_UP
    start = max(start, oldest_available_day(today))
    if created is not None:
        # Nothing to fetch before the account existed; but never less than the deep window, whose days
        # before the creation day are then confirmed empty (reconciliation deletes stray rows there).
        start = max(start, min(created, _days(deep_days, today)))
    return Window(DateRange(start, today), kind)
