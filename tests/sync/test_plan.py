"""Planning slices: the retention window, merging ranges, clipping and cutting them."""

from __future__ import annotations

from datetime import date

import pytest

from metaads.sync import FULL, INCREMENTAL, Slice
from metaads.sync.plan import END_OF_TIME, build_plan, clip, merge, split, window_start

D = date(2026, 11, 1)


def s(account: str, since: int, until: int | None) -> Slice:
    """Slice of November days (None: open-ended)."""
    return Slice(account, date(2026, 11, since), END_OF_TIME if until is None else date(2026, 11, until))


@pytest.mark.parametrize(
    ("today", "days", "start"),
    [
        (date(2026, 11, 20), 1, date(2026, 11, 20)),
        (date(2026, 11, 20), 90, date(2026, 8, 23)),
        (date(2026, 3, 1), 30, date(2026, 1, 31)),
    ],
    ids=["one-day", "ninety-days", "across-february"],
)
def test_window_covers_retention_days_ending_today(today: date, days: int, start: date) -> None:
    assert window_start(today, days) == start
    assert (today - start).days + 1 == days


@pytest.mark.parametrize(
    ("given", "merged"),
    [
        ([s("1", 1, 15), s("1", 5, 20)], [s("1", 1, 20)]),
        ([s("1", 1, 15), s("1", 16, 20)], [s("1", 1, 20)]),
        ([s("1", 1, 10), s("1", 12, 20)], [s("1", 1, 10), s("1", 12, 20)]),
        ([s("2", 1, 5), s("1", 3, 4), s("1", 1, 5)], [s("1", 1, 5), s("2", 1, 5)]),
        ([s("1", 1, None), s("1", 10, 12)], [s("1", 1, None)]),
        ([s("1", 1, 5), s("1", 3, None)], [s("1", 1, None)]),
        ([s("1", 1, 5), s("1", 1, 5)], [s("1", 1, 5)]),
    ],
    ids=["overlapping", "adjacent", "gap", "accounts-apart", "open-absorbs", "open-extends", "duplicate"],
)
def test_ranges_of_one_account_are_merged(given: list[Slice], merged: list[Slice]) -> None:
    assert merge(given) == merged


def test_clipping_drops_ranges_before_the_window_and_trims_the_rest() -> None:
    assert clip([s("1", 1, 4), s("1", 3, 9), s("2", 6, None)], date(2026, 11, 5)) == [s("1", 5, 9), s("2", 6, None)]


@pytest.mark.parametrize(
    ("given", "days", "today", "chunks"),
    [
        (s("1", 1, 10), 31, 30, [s("1", 1, 10)]),
        (s("1", 1, 10), 5, 30, [s("1", 1, 5), s("1", 6, 10)]),
        (s("1", 1, 11), 5, 30, [s("1", 1, 5), s("1", 6, 10), s("1", 11, 11)]),
        (s("1", 1, None), 10, 25, [s("1", 1, 10), s("1", 11, 20), s("1", 21, None)]),
        (s("1", 28, None), 10, 25, [s("1", 28, None)]),
    ],
    ids=["short", "exact", "remainder", "open-ended", "open-after-today"],
)
def test_long_slices_are_cut_into_chunks(given: Slice, days: int, today: int, chunks: list[Slice]) -> None:
    assert split([given], days, date(2026, 11, today)) == chunks


def test_a_full_plan_covers_every_account_from_the_window_start() -> None:
    plan = build_plan(FULL, date(2026, 11, 1), 42, accounts=["2", "1", "2"], slice_days=31, today=date(2026, 11, 20))

    assert plan.slices == (s("1", 1, None), s("2", 1, None))
    assert (plan.mode, plan.watermark) == (FULL, 42)


def test_an_incremental_plan_merges_clips_and_cuts_ledger_ranges() -> None:
    ledger = [s("1", 1, 15), s("1", 10, 20), Slice("2", date(2026, 9, 1), date(2026, 9, 30)), s("3", 19, 19)]

    plan = build_plan(INCREMENTAL, date(2026, 11, 3), 7, incremental=ledger, slice_days=10, today=date(2026, 11, 20))

    assert plan.slices == (s("1", 3, 12), s("1", 13, 20), s("3", 19, 19))
