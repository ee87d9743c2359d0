"""Insights rows to actions rows: one per action type per ad-day, with the matching action value."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from metaads.transform import ActionsRow, InsightRowError, campaign_status_map, to_actions_rows
from metaads.warehouse.schema import actions_columns

LOADED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
BASE: dict[str, Any] = {
    "account_id": "1234567890",
    "ad_id": "23850000000001001",
    "spend": "14.35",
    "date_start": "2026-10-01",
    "date_stop": "2026-10-01",
}


def actions_of(**fields: Any) -> list[tuple[str, Decimal, Decimal | None]]:
    rows = list(to_actions_rows([{**BASE, **fields}], loaded_at=LOADED_AT))
    return [(r.action_type, r.value, r.action_value) for r in rows]


CASES = [
    pytest.param({}, [], id="missing-actions-gives-no-rows"),
    pytest.param({"actions": []}, [], id="empty-actions-gives-no-rows"),
    pytest.param(
        {
            "actions": [{"action_type": "link_click", "value": "7"}, {"action_type": "purchase", "value": "2"}],
            "action_values": [{"action_type": "purchase", "value": "59.90"}],
        },
        [("link_click", Decimal(7), None), ("purchase", Decimal(2), Decimal("59.90"))],
        id="action-values-matched-by-type",
    ),
    pytest.param(
        {"actions": [{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "0.333333"}]},
        [("offsite_conversion.fb_pixel_purchase", Decimal("0.333333"), None)],
        id="fractional-action-value",
    ),
    pytest.param(
        {"actions": [{"action_type": "purchase", "value": "1", "1d_click": "1", "7d_click": "3"}]},
        [("purchase", Decimal(1), None)],
        id="attribution-window-keys-ignored",
    ),
    pytest.param(
        {"action_values": [{"action_type": "purchase", "value": "12.5"}]},
        [("purchase", Decimal(0), Decimal("12.5"))],
        id="value-without-count-is-kept",
    ),
    pytest.param(
        {
            "actions": [
                {"action_type": "link_click", "value": "2", "action_device": "iphone"},
                {"action_type": "link_click", "value": "3", "action_device": "desktop"},
            ]
        },
        [("link_click", Decimal(5), None)],
        id="repeated-type-from-action-breakdowns-summed",
    ),
    pytest.param(
        {"actions": [{"action_type": "video_view", "value": "12345678901234.123456789"}]},
        [("video_view", Decimal("12345678901234.123456789"), None)],
        id="numeric-string-with-many-decimals",
    ),
]


@pytest.mark.parametrize(("fields", "expected"), CASES)
def test_actions_of_one_row(fields: dict[str, Any], expected: list[tuple[str, Decimal, Decimal | None]]) -> None:
    assert actions_of(**fields) == expected


def test_actions_row_carries_key_and_load_time() -> None:
    (row,) = to_actions_rows([{**BASE, "actions": [{"action_type": "purchase", "value": "1"}]}], loaded_at=LOADED_AT)
    assert row._fields == tuple(column.name for column in actions_columns())
    assert row == ActionsRow(
        hashlib.md5(b"1234567890|23850000000001001|2026-10-01|purchase").hexdigest(),
        "1234567890",
        "23850000000001001",
        date(2026, 10, 1),
        "purchase",
        Decimal(1),
        None,
        LOADED_AT,
    )


def test_breakdown_values_follow_action_type_in_the_key() -> None:
    rows = [
        {**BASE, "country": country, "actions": [{"action_type": "purchase", "value": "1"}]} for country in ("FR", "DE")
    ]
    ids = [r.unique_id for r in to_actions_rows(rows, loaded_at=LOADED_AT, breakdowns=("country",))]
    assert ids == [
        hashlib.md5(f"1234567890|23850000000001001|2026-10-01|purchase|{c}".encode()).hexdigest() for c in ("FR", "DE")
    ]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        pytest.param({"actions": [{"value": "1"}]}, "without action_type", id="item-without-type"),
        pytest.param({"actions": {"action_type": "x"}}, "expected a list", id="actions-not-a-list"),
        pytest.param({"actions": [{"action_type": "x", "value": "one"}]}, r"actions\[x\]", id="non-numeric"),
    ],
)
def test_malformed_actions_raise(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(InsightRowError, match=named):
        actions_of(**fields)


@pytest.mark.parametrize(
    ("campaigns", "expected"),
    [
        pytest.param(
            [{"id": "1", "status": "ACTIVE"}, {"id": "2", "status": "PAUSED"}],
            {"1": "ACTIVE", "2": "PAUSED"},
            id="status",
        ),
        pytest.param([{"id": "3", "effective_status": "ARCHIVED"}], {"3": "ARCHIVED"}, id="effective-status-fallback"),
        pytest.param([{"id": "4"}, {"name": "no id", "status": "ACTIVE"}], {}, id="incomplete-entries-skipped"),
    ],
)
def test_campaign_status_map(campaigns: list[dict[str, Any]], expected: dict[str, str]) -> None:
    assert campaign_status_map(campaigns) == expected
