"""Insights rows (the API's JSON shape) to ads rows."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from metaads.transform import AdsRow, InsightRowError, to_ads_rows
from metaads.warehouse.schema import ads_columns

LOADED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
STATUSES = {"23850000000000001": "ACTIVE"}

# The row shown in the Graph API spec, verbatim.
SPEC_ROW: dict[str, Any] = {
    "account_id": "1234567890",
    "account_name": "Acme EU",
    "campaign_id": "23850000000000001",
    "campaign_name": "Spring",
    "adset_id": "23850000000000101",
    "adset_name": "FR 18-34",
    "ad_id": "23850000000001001",
    "ad_name": "Video A",
    "objective": "OUTCOME_TRAFFIC",
    "spend": "14.35",
    "clicks": "9",
    "inline_link_clicks": "7",
    "impressions": "185",
    "actions": [{"action_type": "link_click", "value": "7"}, {"action_type": "post_engagement", "value": "10"}],
    "action_values": [{"action_type": "purchase", "value": "59.90"}],
    "date_start": "2026-10-01",
    "date_stop": "2026-10-01",
}


def with_changes(drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    row = {k: v for k, v in SPEC_ROW.items() if k not in drop}
    row.update(changes)
    return row


def transform(row: dict[str, Any], **kwargs: Any) -> AdsRow:
    options: dict[str, Any] = {"campaign_status": STATUSES, "currency": "EUR", "loaded_at": LOADED_AT}
    options.update(kwargs)
    (result,) = to_ads_rows([row], **options)
    return result


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_spec_row_becomes_one_ads_row_in_schema_column_order() -> None:
    result = transform(SPEC_ROW)
    assert result._fields == tuple(column.name for column in ads_columns())
    assert result == (
        md5("1234567890|23850000000001001|2026-10-01"),
        "1234567890",
        "Acme EU",
        "23850000000000001",
        "Spring",
        "ACTIVE",
        "23850000000000101",
        "FR 18-34",
        "23850000000001001",
        "Video A",
        "OUTCOME_TRAFFIC",
        Decimal("14.35"),
        9,
        7,
        185,
        None,
        "EUR",
        date(2026, 10, 1),
        LOADED_AT,
    )


CASES = [
    pytest.param(
        with_changes(drop=("actions", "action_values")),
        {"spend": Decimal("14.35"), "clicks": 9},
        id="missing-actions-keeps-metrics",
    ),
    pytest.param(
        with_changes(drop=("spend", "clicks", "inline_link_clicks", "impressions")),
        {"spend": Decimal(0), "clicks": 0, "inline_link_clicks": 0, "impressions": 0, "reach": None},
        id="missing-metrics-are-zero-reach-null",
    ),
    pytest.param(
        with_changes(spend="1234.567890123456789", reach="0"),
        {"spend": Decimal("1234.567890123456789"), "reach": 0},
        id="many-decimals-parsed-exactly",
    ),
    pytest.param(with_changes(spend="", clicks=""), {"spend": Decimal(0), "clicks": 0}, id="empty-strings-are-missing"),
    pytest.param(
        with_changes(clicks="12.0", impressions="9007199254740993"),
        {"clicks": 12, "impressions": 9007199254740993},
        id="integral-decimal-count-and-beyond-float-precision",
    ),
    pytest.param(with_changes(reach="150"), {"reach": 150}, id="reach-when-sent"),
    pytest.param(
        with_changes(account_name="Café Zürich 広告 🚀", ad_name="Ad\twith\ttabs\nand \\ slash"),
        {"account_name": "Café Zürich 広告 🚀", "ad_name": "Ad\twith\ttabs\nand \\ slash"},
        id="unicode-and-control-characters-kept",
    ),
    pytest.param(
        with_changes(campaign_id="999"),
        {"campaign_status": None},
        id="campaign-unknown-to-campaigns-endpoint-has-no-status",
    ),
    pytest.param(
        with_changes(account_currency="USD"), {"currency": "USD"}, id="row-currency-wins-over-account-currency"
    ),
    pytest.param(
        with_changes(drop=("campaign_id", "adset_id", "objective")),
        {"campaign_id": None, "campaign_status": None, "adset_id": None, "objective": None},
        id="missing-descriptive-fields-are-null",
    ),
]


@pytest.mark.parametrize(("row", "expected"), CASES)
def test_insights_row_fields(row: dict[str, Any], expected: dict[str, Any]) -> None:
    result = transform(row)._asdict()
    assert {name: result[name] for name in expected} == expected


def test_breakdown_values_join_the_natural_key() -> None:
    rows = [with_changes(age="18-24", gender="female"), with_changes(age="18-24", gender="male")]
    results = list(
        to_ads_rows(rows, campaign_status=STATUSES, currency="EUR", loaded_at=LOADED_AT, breakdowns=("age", "gender"))
    )
    assert [r.unique_id for r in results] == [
        md5("1234567890|23850000000001001|2026-10-01|18-24|female"),
        md5("1234567890|23850000000001001|2026-10-01|18-24|male"),
    ]


def test_unique_id_is_stable_when_meta_restates_figures() -> None:
    before = transform(SPEC_ROW)
    after = transform(with_changes(spend="20.00", clicks="15", ad_name="Renamed"))
    assert before.unique_id == after.unique_id
    assert before.spend != after.spend


def test_unique_id_differs_per_day_and_ad() -> None:
    ids = {
        transform(SPEC_ROW).unique_id,
        transform(with_changes(date_start="2026-10-02", date_stop="2026-10-02")).unique_id,
        transform(with_changes(ad_id="23850000000001002")).unique_id,
    }
    assert len(ids) == 3


BAD_ROWS = [
    pytest.param(with_changes(drop=("ad_id",)), "ad_id", id="no-ad-id"),
    pytest.param(with_changes(drop=("account_id",)), "account_id", id="no-account-id"),
    pytest.param(with_changes(drop=("date_start", "date_stop")), "date_start", id="no-date"),
    pytest.param(with_changes(date_stop="2026-10-07"), "time_increment=1", id="multi-day-row"),
    pytest.param(with_changes(spend="12,50"), "spend", id="comma-decimal"),
    pytest.param(with_changes(spend="NaN"), "spend", id="nan-spend"),
    pytest.param(with_changes(clicks="3.5"), "clicks", id="fractional-count"),
    pytest.param(with_changes(date_start="01/10/2026", date_stop="01/10/2026"), "YYYY-MM-DD", id="bad-date"),
]


@pytest.mark.parametrize(("row", "named"), BAD_ROWS)
def test_malformed_row_raises_naming_the_field(row: dict[str, Any], named: str) -> None:
    with pytest.raises(InsightRowError, match=re.escape(named)):
        transform(row)


def test_naive_loaded_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        transform(SPEC_ROW, loaded_at=datetime(2026, 11, 20, 12, 0))  # noqa: DTZ001


def test_rows_are_produced_lazily() -> None:
    def rows() -> Any:
        yield SPEC_ROW
        raise AssertionError("the second row must not be read before it is asked for")

    first = next(to_ads_rows(rows(), campaign_status={}, currency=None, loaded_at=LOADED_AT))
    assert first.ad_id == "23850000000001001"
