"""Planning which days an account's run fetches, from its ledger rows (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from metaads.dates import DateRange, oldest_available_day
from metaads.pipeline.window import WindowKind, WindowPolicy, first_missing_day, plan_window
from metaads.warehouse.history import LedgerEntry

TODAY = date(2026, 6, 15)
POLICY = WindowPolicy(lookback_days=15, deep_lookback_days=28, initial_history_days=90)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def entry(since_ago: int, until_ago: int, *, ran_ago: int, status: str = "loaded", hour: int = 9) -> LedgerEntry:
    """A ledger row for days ``since_ago``..``until_ago`` ago, written ``ran_ago`` days ago at ``hour`` UTC."""
    finished = datetime.combine(days_ago(ran_ago), datetime.min.time(), tzinfo=timezone.utc).replace(hour=hour)
    return LedgerEntry(days_ago(since_ago), days_ago(until_ago), status, finished)


def daily_deep_runs(first_ago: int, last_ago: int) -> list[LedgerEntry]:
    """A deep run (28 days) on every day from ``first_ago`` to ``last_ago`` days ago."""
    return [entry(day + 27, day, ran_ago=day) for day in range(first_ago, last_ago - 1, -1)]


CASES = [
    # (entries, deep, expected first day as days ago, kind)
    ([], False, 89, WindowKind.INITIAL),
    (daily_deep_runs(40, 1), False, 27, WindowKind.DEEP),
    ([*daily_deep_runs(40, 1), entry(27, 0, ran_ago=0)], False, 14, WindowKind.LOOKBACK),
    ([*daily_deep_runs(40, 1), entry(27, 0, ran_ago=0)], True, 27, WindowKind.DEEP),
    # today's deep fetch failed in its first chunk only: today is not covered, deep again
    (
        [*daily_deep_runs(40, 1), entry(27, 16, ran_ago=0, status="failed"), entry(15, 0, ran_ago=0)],
        False,
        27,
        WindowKind.DEEP,
    ),
    # no run yesterday: the day that left the deep window was last fetched 26 days old
    (daily_deep_runs(40, 2), False, 28, WindowKind.CATCH_UP),
    # 40 days without runs: the missed days and the 27 days before them
    (daily_deep_runs(80, 40), False, 66, WindowKind.CATCH_UP),
    # a failed range inside older history that was never loaded since
    (
        [
            *daily_deep_runs(40, 1),
            entry(75, 61, ran_ago=60, status="failed"),
            entry(90, 76, ran_ago=60),
            entry(60, 41, ran_ago=1),
        ],
        False,
        75,
        WindowKind.CATCH_UP,
    ),
    # a failed fetch of days loaded before is no hole (the previous rows are still there)
    ([*daily_deep_runs(40, 1), entry(35, 30, ran_ago=3, status="failed")], False, 27, WindowKind.DEEP),
    # a years-long outage: capped at the 37-month history
    ([entry(2027, 2000, ran_ago=2000)], False, (TODAY - oldest_available_day(TODAY)).days, WindowKind.CATCH_UP),
    # an upgrade from the 15-day look-back: the two days leaving the deep window are fetched once more
    ([entry(day + 14, day, ran_ago=day) for day in range(40, 0, -1)], False, 28, WindowKind.CATCH_UP),
]


@pytest.mark.parametrize(
    ("entries", "deep", "first_ago", "kind"),
    CASES,
    ids=[
        "new-account-initial-history",
        "first-run-of-the-day-is-deep",
        "second-run-of-the-day-looks-back-15",
        "forced-deep",
        "partly-failed-deep-is-retried",
        "day-without-runs",
        "40-day-outage",
        "old-failed-hole",
        "failed-refetch-of-loaded-days-is-no-hole",
        "beyond-37-months",
        "upgrade-from-15-day-lookback",
    ],
)
def test_plan_window_starts_where_the_ledger_says(
    entries: list[LedgerEntry], deep: bool, first_ago: int, kind: WindowKind
) -> None:
    window = plan_window(TODAY, entries, POLICY, timezone_name="UTC", deep=deep)
    assert window.range == DateRange(days_ago(first_ago), TODAY)
    assert window.kind == kind


def test_deep_done_is_judged_in_the_account_time_zone() -> None:
    # 23:30 UTC yesterday is already today in Tokyo: that run was today's deep fetch there, not in UTC.
    entries = [*daily_deep_runs(40, 2), entry(28, 1, ran_ago=1), entry(27, 0, ran_ago=1, hour=23)]
    assert plan_window(TODAY, entries, POLICY, timezone_name="Asia/Tokyo").kind == WindowKind.LOOKBACK
    assert plan_window(TODAY, entries, POLICY, timezone_name="UTC").kind == WindowKind.DEEP


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (date(2026, 6, 1), None, DateRange(date(2026, 6, 1), TODAY)),
        (None, date(2026, 6, 10), DateRange(date(2026, 5, 27), date(2026, 6, 10))),
        (date(2020, 1, 1), date(2026, 7, 1), DateRange(oldest_available_day(TODAY), TODAY)),
    ],
    ids=["since", "until", "clamped"],
)
def test_explicit_bounds_win_over_the_ledger(since: date | None, until: date | None, expected: DateRange) -> None:
    window = plan_window(TODAY, [entry(27, 0, ran_ago=400)], POLICY, since=since, until=until)
    assert (window.range, window.kind) == (expected, WindowKind.EXPLICIT)


def test_a_range_that_did_not_reconcile_does_not_count_as_loaded() -> None:
    entries = [*daily_deep_runs(40, 1), entry(27, 0, ran_ago=0, status="mismatch")]
    assert first_missing_day(entries, TODAY, "UTC", 28) == days_ago(27)  # as if the mismatch had not run
    assert plan_window(TODAY, entries, POLICY, timezone_name="UTC").kind == WindowKind.DEEP


def test_deep_window_is_never_shorter_than_the_lookback() -> None:
    policy = WindowPolicy(lookback_days=40, deep_lookback_days=28, initial_history_days=10)
    assert plan_window(TODAY, [], policy).range.days == 40
    with pytest.raises(ValueError, match="deep_lookback_days"):
        WindowPolicy(lookback_days=15, deep_lookback_days=0, initial_history_days=90)


def test_a_young_account_is_planned_from_its_creation_day_but_never_less_than_the_deep_window() -> None:
    created = days_ago(40)
    first = plan_window(TODAY, [], POLICY, timezone_name="UTC", created=created)
    assert (first.range, first.kind) == (DateRange(created, TODAY), WindowKind.INITIAL)
    younger = plan_window(TODAY, [], POLICY, timezone_name="UTC", created=days_ago(9))
    assert younger.range == DateRange(days_ago(27), TODAY)
    later = plan_window(TODAY, [entry(40, 0, ran_ago=0)], POLICY, timezone_name="UTC", created=created)
    assert (later.range, later.kind) == (DateRange(days_ago(14), TODAY), WindowKind.LOOKBACK)
    asked = plan_window(TODAY, [], POLICY, since=days_ago(60), created=created)
    assert asked.range.since == days_ago(60)  # explicit bounds are not second-guessed
