"""Extra-report tables: names within PostgreSQL's 63 characters, indexes included, columns typed by kind."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from metaads.transform.report_spec import ReportSpec, layout
from metaads.warehouse.report_tables import DECIMAL, index_name, report_tables


@pytest.mark.parametrize(
    "table", ["bm_01__age_gender", "a" * 55 + "__r_lists", "b" * 63], ids=["short", "long", "longest"]
)
def test_index_names_fit_postgresql_and_stay_distinct(table: str) -> None:
    names = {index_name(table, suffix) for suffix in ("account_date", "parent")}
    assert all(len(name) <= 63 for name in names)
    assert len(names) == 2
    assert index_name(table, "parent") != index_name(table[:-1] + "z", "parent")


def test_report_tables_are_typed_by_the_catalogue() -> None:
    spec = ReportSpec(
        name="age_gender",
        level="campaign",
        fields=("campaign_name", "spend", "impressions", "actions", "video_play_curve_actions"),
        breakdowns=("age", "gender"),
        action_breakdowns=("action_device",),
        action_attribution_windows=("7d_click",),
    )
    main, lists = report_tables(sa.MetaData(), layout(spec), "bm_01")
    assert (main.name, lists.name) == ("bm_01__age_gender", "bm_01__age_gender_lists")
    assert list(main.c.keys()) == [
        "unique_id",
        "account_id",
        "campaign_id",
        "date",
        "age",
        "gender",
        "campaign_name",
        "spend",
        "impressions",
        "video_play_curve_actions",
        "loaded_at",
    ]
    assert main.c.spend.type is DECIMAL
    assert isinstance(main.c.impressions.type, sa.BigInteger)
    assert isinstance(main.c.video_play_curve_actions.type, sa.UnicodeText)
    assert list(lists.c.keys()) == [
        "unique_id",
        "parent_id",
        "account_id",
        "campaign_id",
        "date",
        "field",
        "action_type",
        "action_device",
        "value",
        "value_7d_click",
        "loaded_at",
    ]
    assert [c.name for c in main.primary_key.columns] == ["unique_id"]
