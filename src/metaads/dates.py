"""Which days to fetch: per-account local "today", the 37-month history, look-back window, chunks. Pure."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The Insights API keeps 37 months of history (error 3018 beyond): the oldest day it will serve.
HISTORY_MONTHS = 37


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of days in an ad account's time zone."""

    since: date
    until: date

    def __post_init__(self) -> None:
        if self.since > self.until:
            raise ValueError(f"since {self.since} is after until {self.until}")

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def __str__(self) -> str:
        return f"{self.since.isoformat()}..{self.until.isoformat()}"


def local_today(now: datetime, timezone_name: str | None) -> date:
    """The ad account's current date: insights days are in the account's time zone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        zone = ZoneInfo(timezone_name) if timezone_name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def oldest_available_day(today: date) -> date:
    """First day safely inside the 37-month history window (one day of margin for time zones)."""
    year, month0 = divmod(today.year * 12 + today.month - 1 - HISTORY_MONTHS, 12)
    day = min(today.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day) + timedelta(days=1)


def lookback_range(today: date, lookback_days: int) -> DateRange:
    """The last ``lookback_days`` days up to and including ``today``."""
    if lookback_days < 1:
        raise ValueError("lookback_days must be at least 1")
    return DateRange(today - timedelta(days=lookback_days - 1), today)


def resolve_range(today: date, *, lookback_days: int, since: date | None = None,
                  until: date | None = None) -> DateRange:
    """The range to fetch: explicit bounds win, else the look-back window; clamped to history and today."""
    end = min(until or today, today)
    start = since or (end - timedelta(days=lookback_days - 1))
    start = max(start, oldest_available_day(today))
    if start > end:
        raise ValueError(f"nothing to fetch: since {start} is after until {end}")
    return DateRange(start, end)


def chunk_range(whole: DateRange, chunk_days: int) -> list[DateRange]:
    """Split ``whole`` into consecutive chunks of at most ``chunk_days`` days, oldest first."""
    if chunk_days < 1:
        raise ValueError("chunk_days must be at least 1")
    chunks: list[DateRange] = []
    start = whole.since
    while start <= whole.until:
        end = min(start + timedelta(days=chunk_days - 1), whole.until)
        chunks.append(DateRange(start, end))
        start = end + timedelta(days=1)
    return chunks
