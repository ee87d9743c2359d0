from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from metaads.dates import DateRange, chunk_range, local_today, oldest_available_day, resolve_range, today_bounds
from metaads.errors import ConfigError

NOON_UTC = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", date(2026, 11, 25)),
        ("Pacific/Auckland", date(2026, 11, 26)),  # UTC+13: already tomorrow
        ("America/Los_Angeles", date(2026, 11, 25)),
        ("Not/AZone", date(2026, 11, 25)),  # unknown zone: UTC
        (None, date(2026, 11, 25)),
    ],
    ids=["utc", "auckland-ahead", "los-angeles", "unknown-zone", "no-zone"],
)
def test_local_today_is_the_accounts_own_date(zone: str | None, expected: date) -> None:
    assert local_today(NOON_UTC, zone) == expected
    assert local_today(datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc), "Asia/Tokyo") == date(2026, 11, 26)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_today(datetime(2026, 11, 25, 12, 0), "UTC")  # noqa: DTZ001 - the point of the test


def test_lookback_window_ends_today_and_counts_today() -> None:
    window = resolve_range(date(2026, 11, 25), lookback_days=15)
    assert window == DateRange(date(2026, 11, 11), date(2026, 11, 25))
    assert window.days == 15


def test_explicit_bounds_are_clamped_to_history_and_today() -> None:
    today = date(2026, 11, 25)
    window = resolve_range(today, lookback_days=15, since=date(2020, 1, 1), until=date(2027, 1, 1))
    assert window.since == oldest_available_day(today)
    assert window.until == today
    assert oldest_available_day(today) == date(2023, 10, 26)  # 37 months back, plus a day of margin
    assert oldest_available_day(date(2026, 3, 31)) == date(2023, 3, 1)  # no February 31st


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        (date(2026, 11, 26), None, "--since: 2026-11-26 is in the future"),
        (date(2026, 11, 10), date(2026, 11, 9), "--until: 2026-11-09 is before --since 2026-11-10"),
        (date(2020, 1, 1), date(2023, 10, 25), "--until: 2023-10-25 is older than the 37 months of history"),
        (None, date(2021, 5, 1), "--until: 2021-05-01 is older than the 37 months"),
    ],
    ids=["since-in-the-future", "until-before-since", "range-older-than-history", "until-older-than-history"],
)
def test_impossible_bounds_are_a_config_error_naming_the_option(
    since: date | None, until: date | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        resolve_range(date(2026, 11, 25), lookback_days=15, since=since, until=until)
    assert caught.value.variable == message.split(":")[0]


def test_bounds_on_the_history_edge_and_today_are_accepted() -> None:
    today = date(2026, 11, 25)
    oldest = oldest_available_day(today)
    assert resolve_range(today, lookback_days=1, since=oldest, until=oldest) == DateRange(oldest, oldest)
    assert resolve_range(today, lookback_days=1, since=today) == DateRange(today, today)


def test_a_date_is_today_somewhere_from_utc_minus_12_to_utc_plus_14() -> None:
    assert today_bounds(datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)) == (date(2026, 11, 24), date(2026, 11, 26))


def test_chunks_cover_the_range_exactly_once_oldest_first() -> None:
    whole = DateRange(date(2024, 1, 1), date(2024, 3, 5))
    chunks = chunk_range(whole, 31)
    assert [str(c) for c in chunks] == ["2024-01-01..2024-01-31", "2024-02-01..2024-03-02", "2024-03-03..2024-03-05"]
    assert sum(c.days for c in chunks) == whole.days
    assert chunk_range(DateRange(date(2024, 1, 1), date(2024, 1, 1)), 31) == [
        DateRange(date(2024, 1, 1), date(2024, 1, 1))
    ]
