"""Entity objects (the API's JSON) to entity-table rows: times, minor-unit amounts, JSON text, ids."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from metaads.errors import InsightRowError
from metaads.transform.entities import ADS, ADSETS, CAMPAIGNS, CREATIVES, EntityKind, creative_ids, to_entity_rows

LOADED = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def _row(kind: EntityKind, obj: dict[str, Any]) -> dict[str, Any]:
    [row] = to_entity_rows(kind, [obj], account_id="111", loaded_at=LOADED)
    return dict(zip(kind.column_names, row, strict=True))


def test_campaign_times_become_aware_datetimes_and_budgets_integers_in_minor_units() -> None:
    row = _row(
        CAMPAIGNS,
        {
            "id": "9",
            "name": "Sale",
            "daily_budget": "150000",
            "effective_status": "DELETED",
            "updated_time": "2026-11-19T22:18:47+0100",
            "start_time": "2026-01-01T00:00:00+0000",
        },
    )
    assert row["daily_budget"] == 150000
    assert row["lifetime_budget"] is None
    assert row["updated_time"] == datetime(2026, 11, 19, 21, 18, 47, tzinfo=timezone.utc)
    assert row["updated_time"].utcoffset() == timedelta(0)  # SQLite stores the wall time: it must be UTC's
    assert row["account_id"] == "111"  # the API left it out: the account's
    assert row["effective_status"] == "DELETED"
    assert row["loaded_at"] == LOADED


def test_nested_objects_are_json_text_with_sorted_keys_so_unchanged_objects_compare_equal() -> None:
    first = _row(ADSETS, {"id": "1", "targeting": {"geo_locations": {"countries": ["FR"]}, "age_min": 18}})
    second = _row(ADSETS, {"id": "1", "targeting": {"age_min": 18, "geo_locations": {"countries": ["FR"]}}})
    assert first["targeting"] == second["targeting"] == '{"age_min":18,"geo_locations":{"countries":["FR"]}}'


def test_an_ad_keeps_its_creative_id_and_tracking_specs() -> None:
    ad = {"id": "5", "creative": {"id": "77"}, "tracking_specs": [{"action.type": ["link_click"]}]}
    row = _row(ADS, ad)
    assert row["creative_id"] == "77"
    assert row["tracking_specs"] == '[{"action.type":["link_click"]}]'
    assert creative_ids([ad, {"id": "6"}]) == {"77"}


def test_creative_fields_are_kept_as_sent() -> None:
    row = _row(
        CREATIVES,
        {
            "id": "77",
            "title": "Hello",
            "body": "World",
            "call_to_action_type": "SHOP_NOW",
            "link_url": "https://example.com/?a=1",
            "video_id": "88",
            "object_story_spec": {"page_id": "1"},
        },
    )
    assert (row["title"], row["call_to_action_type"], row["video_id"]) == ("Hello", "SHOP_NOW", "88")
    assert row["image_url"] is None


@pytest.mark.parametrize(
    ("kind", "obj", "message"),
    [
        (CAMPAIGNS, {"name": "no id"}, "campaigns object without an id"),
        (CAMPAIGNS, {"id": "1", "daily_budget": "12.5"}, "campaigns 1: daily_budget: '12.5' is not an integer amount"),
        (ADSETS, {"id": "2", "updated_time": "yesterday"}, "adsets 2: updated_time: time 'yesterday' is not like"),
    ],
    ids=["no-id", "fractional-budget", "bad-time"],
)
def test_malformed_objects_are_data_errors_naming_the_object_and_column(
    kind: EntityKind, obj: dict[str, Any], message: str
) -> None:
    with pytest.raises(InsightRowError, match=message):
        list(to_entity_rows(kind, [obj], account_id="111", loaded_at=LOADED))
