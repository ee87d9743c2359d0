"""Which days to fetch: per-account local "today", the 37-month history, look-back window, chunks. Pure."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metaads.errors import ConfigError

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


def today_bounds(now: datetime) -> tuple[date, date]:
    """The earliest and the latest date any time zone (UTC-12 .. UTC+14) has at instant ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    utc = now.astimezone(ZoneInfo("UTC"))
    return (utc - timedelta(hours=12)).date(), (utc + timedelta(hours=14)).date()


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


def resolve_range(
    today: date, *, lookback_days: int, since: date | None = None, until: date | None = None
) -> DateRange:
    """The range to fetch: explicit bounds win, else the look-back window; clamped to history and today.

    Raises:
        ConfigError: the bounds leave nothing to fetch; ``variable`` names the option at fault
            (``--since`` / ``--until`` / ``--lookback``).
    """
    check_bounds(today, since=since, until=until)
    if lookback_days < 1:
        raise ConfigError(f"must be at least 1 day, got {lookback_days}", variable="--lookback")
    end = min(until or today, today)
    start = max(since or (end - timedelta(days=lookback_days - 1)), oldest_available_day(today))
    return DateRange(start, end)


def check_bounds(today: date, *, since: date | None, until: date | None, earliest_today: date | None = None) -> None:
    """Refuse explicit bounds that leave nothing to fetch on ``today``.

    The CLI calls this before any account is read (``today`` the latest date any time zone may have,
    ``earliest_today`` the earliest), so an impossible range is a configuration error (exit code 2),
    not one failure per account.

    Raises:
        ConfigError: ``--until`` before ``--since``, ``--since`` after today, or a range that ends before
            the 37-month history the API keeps.
    """
    if since is not None and until is not None and until < since:
        raise ConfigError(f"{until} is before --since {since}", variable="--until")
    if since is not None and since > today:
        raise ConfigError(f"{since} is in the future (today is {today})", variable="--since")
    oldest = oldest_available_day(earliest_today or today)
    if until is not None and until < oldest:
        raise ConfigError(
            f"{until} is older than the {HISTORY_MONTHS} months of history the Insights API "
            f"keeps (oldest day available: {oldest})",
            variable="--until",
        )


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
