"""Extra-report rows: typed from the catalogue, keyed by breakdown values, list items as child rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from metaads.transform import InsightRowError
from metaads.transform.report_spec import ReportSpec, layout
from metaads.transform.reports import to_report_list_rows, to_report_rows

LOADED = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
SPEC = ReportSpec(
    name="age_gender",
    level="ad",
    fields=("ad_name", "spend", "impressions", "ctr", "actions", "video_play_curve_actions"),
    breakdowns=("age", "gender"),
    action_breakdowns=("action_type", "action_device"),
    action_attribution_windows=("7d_click",),
)
ROW = {
    "account_id": "1",
    "ad_id": "9",
    "ad_name": "Ad",
    "date_start": "2026-01-01",
    "date_stop": "2026-01-01",
    "age": "18-24",
    "gender": "female",
    "spend": "1.10",
    "impressions": "100",
    "ctr": "1.234567",
    "video_play_curve_actions": [{"action_type": "video_view", "value": [100, 50]}],
    "actions": [
        {"action_type": "link_click", "action_device": "iphone", "value": "3", "7d_click": "2"},
        {"action_type": "link_click", "action_device": "desktop", "value": "1"},
    ],
}


def test_main_row_is_typed_from_the_catalogue_in_layout_order() -> None:
    shape = layout(SPEC)
    (row,) = to_report_rows([ROW], shape, loaded_at=LOADED)
    values = dict(zip(shape.column_names, row, strict=True))
    assert values["spend"] == Decimal("1.10")
    assert values["ctr"] == Decimal("1.234567")
    assert values["impressions"] == 100
    assert (values["age"], values["gender"], values["ad_name"]) == ("18-24", "female", "Ad")
    assert values["video_play_curve_actions"] == '[{"action_type":"video_view","value":[100,50]}]'
    assert values["date"] == dt.date(2026, 1, 1)
    assert "actions" not in values


def test_unique_id_covers_breakdown_values() -> None:
    shape = layout(SPEC)
    ids = {
        row[0]
        for row in to_report_rows([ROW, {**ROW, "gender": "male"}, {**ROW, "age": "25-34"}], shape, loaded_at=LOADED)
    }
    assert len(ids) == 3


def test_list_items_become_child_rows_per_action_breakdown_value_with_window_values() -> None:
    shape = layout(SPEC)
    (parent,) = to_report_rows([ROW], shape, loaded_at=LOADED)
    rows = [
        dict(zip(shape.list_column_names, r, strict=True)) for r in to_report_list_rows([ROW], shape, loaded_at=LOADED)
    ]
    assert {(r["field"], r["action_type"], r["action_device"], r["value"], r["value_7d_click"]) for r in rows} == {
        ("actions", "link_click", "iphone", Decimal(3), Decimal(2)),
        ("actions", "link_click", "desktop", Decimal(1), None),
    }
    assert {r["parent_id"] for r in rows} == {parent[0]}
    assert len({r["unique_id"] for r in rows}) == 2


def test_missing_metric_stays_null_rather_than_zero() -> None:
    shape = layout(SPEC)
    (row,) = to_report_rows(
        [{k: v for k, v in ROW.items() if k not in ("spend", "impressions")}], shape, loaded_at=LOADED
    )
    values = dict(zip(shape.column_names, row, strict=True))
    assert values["spend"] is None
    assert values["impressions"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spend": "abc"}, "spend"),
        ({"impressions": "1.5"}, "impressions"),
        ({"ad_id": None}, "ad_id"),
        ({"actions": {"action_type": "x"}}, "actions"),
        ({"date_start": "01/01/2026"}, "date_start"),
    ],
    ids=["decimal", "count", "level-id", "list-shape", "date"],
)
def test_malformed_rows_are_data_errors_naming_the_field(change: dict[str, object], message: str) -> None:
    shape = layout(SPEC)
    transform = to_report_list_rows if "actions" in change else to_report_rows
    with pytest.raises(InsightRowError, match=message):
        list(transform([{**ROW, **change}], shape, loaded_at=LOADED))
