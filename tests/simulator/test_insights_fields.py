"""Every documented insights field, breakdown, action breakdown, window and report time, answered like Meta."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from metaads.simulator import Simulator, catalog
from tests.simulator.conftest import ALL_ADS, follow, get, time_range

ADDITIVE = ("spend", "impressions", "clicks", "inline_link_clicks")
ACTION_LISTS = sorted(k for k, v in catalog.INSIGHTS_FIELDS.items() if v == "list<AdsActionStats>")


def _get(client: httpx.Client, sim: Simulator, days: int = 6, account: int = 0, **params: Any) -> httpx.Response:
    account_id = sim.account_ids[account]
    today = sim.account_today(account_id)
    params.setdefault("level", "ad")
    params.setdefault("time_increment", 1)
    params.setdefault("limit", 500)
    return get(
        client,
        f"act_{account_id}/insights",
        sim.tokens[0],
        time_range=time_range(today - timedelta(days=days), today),
        **params,
    )


def _rows(client: httpx.Client, sim: Simulator, **params: Any) -> list[dict[str, Any]]:
    return follow(client, _get(client, sim, **params))


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == 100
    return error


def test_every_documented_insights_field_is_accepted_with_typed_values(sim: Simulator, client: httpx.Client) -> None:
    fields = list(catalog.INSIGHTS_FIELDS)
    rows = _rows(client, sim, fields=",".join(fields), filtering=ALL_ADS)
    assert rows
    seen: set[str] = set()
    for row in rows:
        seen |= set(row)
        for name, value in row.items():
            kind = catalog.INSIGHTS_FIELDS.get(name, "string")
            if kind == "string":
                assert isinstance(value, str), name
            elif kind == "list<AdsActionStats>":
                assert value, name
                for item in value:
                    assert isinstance(item["action_type"], str), name
                    assert isinstance(item["value"], str), name
                    Decimal(item["value"])
            else:
                assert isinstance(value, list), name
        if "reach" in row and int(row["reach"]):
            assert Decimal(row["frequency"]) == pytest.approx(
                Decimal(row["impressions"]) / Decimal(row["reach"]), abs=Decimal("0.000001")
            )
        assert int(row["unique_clicks"]) <= int(row["clicks"])
    expected = {
        "spend",
        "ctr",
        "cpm",
        "quality_ranking",
        "actions",
        "conversions",
        "cost_per_action_type",
        "video_p25_watched_actions",
        "outbound_clicks",
        "purchase_roas",
        "results",
        "video_play_curve_actions",
    }
    assert expected <= seen
    assert {r["quality_ranking"] for r in rows} <= {
        "ABOVE_AVERAGE",
        "AVERAGE",
        "BELOW_AVERAGE_35",
        "BELOW_AVERAGE_20",
        "BELOW_AVERAGE_10",
        "UNKNOWN",
    }


def test_frequency_is_not_additive_across_ads(sim: Simulator, client: httpx.Client) -> None:
    (total,) = _rows(client, sim, level="account", fields="impressions,reach,frequency", days=0)
    ads = _rows(client, sim, fields="impressions,reach", days=0, filtering=ALL_ADS)
    assert Decimal(total["frequency"]) > max(Decimal(r["impressions"]) / Decimal(r["reach"]) for r in ads) / 2
    assert int(total["reach"]) < sum(int(r["reach"]) for r in ads)


@pytest.mark.parametrize("name", ["bogus", "spend_total", "Actions"], ids=["bogus", "near-miss", "case"])
def test_unknown_field_is_code_100_not_valid_for_fields_param(sim: Simulator, client: httpx.Client, name: str) -> None:
    error = _error(_get(client, sim, fields=f"spend,{name}"))
    assert error["message"].startswith(f"(#100) {name} is not valid for fields param")


@pytest.mark.parametrize(
    "breakdowns",
    [
        ["age"],
        ["gender"],
        ["age", "gender"],
        ["country"],
        ["region"],
        ["dma"],
        ["publisher_platform"],
        ["publisher_platform", "platform_position"],
        ["publisher_platform", "platform_position", "impression_device"],
        ["publisher_platform", "device_platform"],
        ["impression_device"],
        ["device_platform"],
        ["hourly_stats_aggregated_by_advertiser_time_zone"],
        ["frequency_value"],
        ["product_id"],
    ],
    ids=lambda b: "+".join(b),
)
def test_breakdown_rows_of_an_ad_day_add_up_to_the_unbroken_row(
    sim: Simulator, client: httpx.Client, breakdowns: list[str]
) -> None:
    fields = "ad_id,spend,impressions,clicks,inline_link_clicks,actions"
    plain = _rows(client, sim, fields=fields, days=2)
    split = _rows(client, sim, fields=fields, days=2, breakdowns=",".join(breakdowns))
    sums: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in split:
        assert all(isinstance(row[b], str) and row[b] for b in breakdowns)
        for name in ADDITIVE:
            sums[(row["ad_id"], row["date_start"])][name] += Decimal(row[name])
        for item in row.get("actions", []):
            sums[(row["ad_id"], row["date_start"])][item["action_type"]] += Decimal(item["value"])
    whole: dict[tuple[str, str], dict[str, Decimal]] = {}
    for row in plain:
        figures = {name: Decimal(row[name]) for name in ADDITIVE}
        figures.update({item["action_type"]: Decimal(item["value"]) for item in row.get("actions", [])})
        whole[(row["ad_id"], row["date_start"])] = figures
    assert {key: {k: v for k, v in value.items() if v} for key, value in sums.items()} == {
        key: {k: v for k, v in value.items() if v} for key, value in whole.items()
    }
    if "platform_position" in breakdowns:
        assert {(r["publisher_platform"], r["platform_position"]) for r in split} >= {
            ("facebook", "feed"),
            ("instagram", "story"),
        }
        assert ("instagram", "feed") not in {(r["publisher_platform"], r["platform_position"]) for r in split}


@pytest.mark.parametrize(
    "breakdowns",
    [
        ["platform_position"],
        ["age", "country"],
        ["country", "region"],
        ["gender", "publisher_platform"],
        ["age", "age"],
    ],
    ids=["position-alone", "age-country", "country-region", "gender-platform", "twice"],
)
def test_unsupported_breakdown_combination_is_code_100(
    sim: Simulator, client: httpx.Client, breakdowns: list[str]
) -> None:
    error = _error(_get(client, sim, fields="spend", breakdowns=json.dumps(breakdowns)))
    assert "Current combination of data breakdown columns (action_type, " in error["message"]
    assert error["message"].endswith("is invalid")


def test_every_documented_breakdown_is_accepted_alone(sim: Simulator, client: httpx.Client) -> None:
    for name in catalog.BREAKDOWNS:
        if name == "platform_position":
            continue
        response = _get(client, sim, fields="spend", days=0, level="account", breakdowns=name)
        assert response.status_code == 200, (name, response.text)
        assert all(row[name] for row in response.json()["data"]), name


@pytest.mark.parametrize(
    ("param", "value", "fragment"),
    [
        ("action_breakdowns", '["bogus"]', "action_breakdowns[0] must be one of the following values"),
        ("action_attribution_windows", '["3d_click"]', "action_attribution_windows[0] must be one of"),
        ("action_report_time", "yesterday", "param action_report_time must be one of"),
    ],
    ids=["action-breakdown", "window", "report-time"],
)
def test_invalid_action_options_are_code_100(
    sim: Simulator, client: httpx.Client, param: str, value: str, fragment: str
) -> None:
    assert fragment in _error(_get(client, sim, fields="actions", **{param: value}))["message"]


def _by_type(rows: list[dict[str, Any]], field: str = "actions") -> dict[tuple[str, str, str], Decimal]:
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        for item in row.get(field, []):
            totals[(row["ad_id"], row["date_start"], item["action_type"])] += Decimal(item["value"])
    return dict(totals)


@pytest.mark.parametrize(
    "action_breakdowns",
    [
        ["action_device"],
        ["action_destination"],
        ["action_target_id"],
        ["action_type", "action_device", "action_destination"],
        ["action_reaction"],
        ["action_video_sound"],
        ["conversion_destination"],
    ],
    ids=lambda b: "+".join(b),
)
def test_action_breakdowns_are_keys_of_each_entry_summing_to_the_unbroken_value(
    sim: Simulator, client: httpx.Client, action_breakdowns: list[str]
) -> None:
    fields = "ad_id,actions,action_values"
    plain = _rows(client, sim, fields=fields, days=3)
    split = _rows(client, sim, fields=fields, days=3, action_breakdowns=json.dumps(action_breakdowns))
    keys = set(action_breakdowns) - {"action_type"}
    entries = [item for row in split for item in row.get("actions", [])]
    assert entries
    assert all(keys <= set(item) and all(isinstance(item[k], str) for k in keys) for item in entries)
    assert len(entries) > sum(len(row.get("actions", [])) for row in plain) or keys == {"action_video_sound"}
    assert _by_type(split) == _by_type(plain)
    assert _by_type(split, "action_values") == _by_type(plain, "action_values")


def test_attribution_windows_add_per_window_keys_to_action_entries(sim: Simulator, client: httpx.Client) -> None:
    windows = ["1d_click", "7d_click", "28d_click", "1d_view", "7d_view"]
    rows = _rows(
        client,
        sim,
        fields="ad_id,actions,action_values",
        action_attribution_windows=json.dumps(windows),
        action_breakdowns='["action_device"]',
    )
    items = [item for row in rows for item in row.get("actions", [])]
    assert items
    assert any(set(windows) <= set(item) for item in items)
    for item in items:
        assert set(item) - {"action_type", "action_device", "value"} <= set(windows)


def test_conversion_report_time_moves_conversions_between_days_and_keeps_range_totals(
    sim: Simulator, client: httpx.Client
) -> None:
    fields = "ad_id,actions,action_values,spend"
    rows = {
        mode: _rows(client, sim, fields=fields, days=13, filtering=ALL_ADS, action_report_time=mode)
        for mode in ("impression", "conversion", "mixed")
    }
    daily = {mode: _by_type(found) for mode, found in rows.items()}
    assert daily["conversion"] != daily["impression"]
    for mode in ("conversion", "mixed"):
        per_range: dict[str, dict[str, Decimal]] = {}
        for name, found in (("impression", rows["impression"]), (mode, rows[mode])):
            totals: dict[str, Decimal] = defaultdict(Decimal)
            for row in found:
                totals["spend"] += Decimal(row["spend"])
                for field in ("actions", "action_values"):
                    for item in row.get(field, []):
                        totals[f"{field}:{item['action_type']}"] += Decimal(item["value"])
            per_range[name] = dict(totals)
        assert per_range[mode] == per_range["impression"]
    account_level = _rows(
        client, sim, fields="actions", days=13, level="account", time_increment=1, action_report_time="conversion"
    )
    summed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (_, day, kind), value in daily["conversion"].items():
        summed[(day, kind)] += value
    assert {
        (row["date_start"], item["action_type"]): Decimal(item["value"])
        for row in account_level
        for item in row.get("actions", [])
    } == {key: value for key, value in summed.items() if value}
