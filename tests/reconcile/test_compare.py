"""The pure reconciliation rules: tolerance, per-day verdicts, and which days a load may replace."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from metaads.reconcile.compare import (
    Tolerance,
    check_days,
    days_not_confirmed_empty,
    days_to_replace,
)
from metaads.reconcile.totals import DayTotals, TotalsByDay, sum_api_rows

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def totals(spend: str, impressions: int = 1000, clicks: int = 10, link: int = 5, rows: int = 0) -> DayTotals:
    return DayTotals(Decimal(spend), impressions, clicks, link, rows)


@pytest.mark.parametrize(
    ("api", "loaded", "currency", "ok"),
    [
        (totals("10.00"), totals("10.00", rows=3), "EUR", True),
        (totals("10.00"), totals("10.015", rows=3), "EUR", True),  # 3 rows x half a cent
        (totals("10.00"), totals("10.02", rows=3), "EUR", False),
        (totals("1000.00"), totals("1000.90", rows=1), "EUR", True),  # 0.1 % relative
        (totals("1000.00"), totals("1001.20", rows=1), "EUR", False),
        (totals("1000"), totals("1001", rows=2), "JPY", True),  # zero-decimal currency: half a yen per row
        (totals("10.00"), totals("10.00", impressions=999, rows=3), "EUR", False),  # counts are exact
        (totals("10.00"), totals("10.00", clicks=11, rows=3), "EUR", False),
        (totals("10.00"), totals("10.00", link=4, rows=3), "EUR", False),
    ],
    ids=[
        "equal",
        "rounding-of-3-rows",
        "beyond-rounding",
        "within-relative",
        "beyond-relative",
        "jpy-rounding",
        "impressions-differ",
        "clicks-differ",
        "link-clicks-differ",
    ],
)
def test_spend_tolerance_is_rounding_or_relative_and_counts_are_exact(
    api: DayTotals, loaded: DayTotals, currency: str, ok: bool
) -> None:
    assert Tolerance.for_currency(currency).matches(api, loaded) is ok


def test_missing_days_count_as_zero_and_are_reported() -> None:
    check = check_days([D1, D2], {D1: totals("5.00"), D2: totals("7.00")}, {D1: totals("5.00", rows=2)}, Tolerance())
    assert not check.ok
    assert [d.day for d in check.bad_days] == [D2]
    assert check.bad_days[0].differences() == {
        "spend": "-7.00",
        "impressions": "-1000",
        "clicks": "-10",
        "inline_link_clicks": "-5",
    }
    assert "2026-03-02" in check.summary()


@pytest.mark.parametrize(
    ("api", "new", "stored", "replaced"),
    [
        (totals("10.00"), totals("6.00", rows=3), totals("10.00", rows=5), False),
        (totals("10.00"), totals("10.00", rows=5), totals("6.00", rows=3), True),
        (totals("10.00"), totals("6.00", rows=3), DayTotals(), True),
        (totals("10.00"), DayTotals(), totals("10.00", rows=5), False),
        (DayTotals(), DayTotals(), totals("10.00", rows=5), True),
        (totals("10.00"), totals("8.00", rows=4), totals("6.00", rows=3), True),
        (totals("10.00"), totals("6.00", rows=3), totals("6.00", rows=3), True),
    ],
    ids=[
        "short-answer-keeps-complete-day",
        "complete-answer-replaces-short-day",
        "empty-day-gets-what-meta-gave",
        "empty-answer-keeps-rows",
        "confirmed-empty-deletes",
        "closer-answer-replaces",
        "as-close-replaces",
    ],
)
def test_no_day_gets_worse(api: DayTotals, new: DayTotals, stored: DayTotals, replaced: bool) -> None:
    chosen = days_to_replace([D1], {D1: api}, {D1: new}, {D1: stored}, Tolerance())
    assert (D1 in chosen) is replaced


def test_warn_mode_keeps_only_days_the_answer_empties_against_metas_totals() -> None:
    api = {D1: totals("10.00"), D2: totals("3.00")}
    new = {D1: totals("6.00", rows=2)}
    stored = {D1: totals("10.00", rows=3), D2: totals("3.00", rows=1), D3: totals("1.00", rows=1)}
    assert days_not_confirmed_empty([D1, D2, D3], api, new, stored) == {D2}


def test_sums_are_exact_decimals_and_missing_metrics_count_as_zero() -> None:
    rows = [
        {"date_start": "2026-03-01", "spend": "0.10", "impressions": "3"},
        {"date_start": "2026-03-01", "spend": "0.20", "clicks": "1", "inline_link_clicks": "1"},
    ]
    assert sum_api_rows(rows) == {D1: DayTotals(Decimal("0.30"), 3, 1, 1, 2)}


def _one_row(row: dict[str, Any]) -> DayTotals:
    """One row's figures, read the plain way (every count through Decimal): the oracle for the page sums."""

    def count(value: object) -> int:
        return 0 if value in (None, "") else int(Decimal(str(value)))

    spend = row.get("spend")
    return DayTotals(
        Decimal(0) if spend in (None, "") else Decimal(str(spend)),
        count(row.get("impressions")),
        count(row.get("clicks")),
        count(row.get("inline_link_clicks")),
        1,
    )


def test_page_by_page_sums_equal_the_sums_of_every_row_on_its_own() -> None:
    rows = [
        {"date_start": "2026-03-01", "spend": "0.10", "impressions": "3", "clicks": "1.5"},  # modelled count
        {"date_start": "2026-03-02", "spend": "1.005", "impressions": 7, "inline_link_clicks": ""},
        {"date_start": "2026-03-01", "spend": None, "impressions": "1e3", "clicks": "2"},
        {"date_start": "2026-03-03"},
        {"date_start": "2026-03-02", "spend": "0.995", "impressions": "٣"},  # digits int() reads
    ]
    expected: dict[date, DayTotals] = {}
    for row in rows:
        day = date.fromisoformat(str(row["date_start"]))
        expected[day] = expected.get(day, DayTotals()).plus(_one_row(row))
    paged = TotalsByDay()
    paged.add_all(rows[:2])
    paged.add_all(rows[2:])
    assert paged.days == expected == sum_api_rows(rows)
    assert expected[D1] == DayTotals(Decimal("0.10"), 1003, 3, 0, 2)
    assert expected[D2] == DayTotals(Decimal("2.000"), 10, 0, 0, 2)
    assert expected[D3] == DayTotals(rows=1)
