"""``/act_{id}/insights``: paging, sums across levels, restatement, time zones, breakdowns."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.simulator import ALL_STATUSES, Simulator, SimulatorConfig
from tests.simulator.conftest import ALL_ADS, INSIGHT_FIELDS, follow, get, time_range

ALL_FILTER = [{"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}]


def _insights(
    client: httpx.Client, sim: Simulator, account: str, since: date, until: date, **params: Any
) -> httpx.Response:
    params.setdefault("fields", INSIGHT_FIELDS)
    params.setdefault("time_increment", 1)
    return get(client, f"act_{account}/insights", sim.tokens[0], time_range=time_range(since, until), **params)


def test_following_next_returns_every_row_once_equal_to_ground_truth(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    since = today - timedelta(days=14)
    rows = follow(client, _insights(client, sim, account, since, today, level="ad", limit=7, filtering=ALL_ADS))
    truth = sim.ground_truth(account, since, today, fields=INSIGHT_FIELDS.split(","), filtering=ALL_FILTER)
    assert len(truth) > 100
    assert rows == truth
    assert len({(r["ad_id"], r["date_start"]) for r in rows}) == len(rows)


def test_after_cursor_on_the_original_path_pages_like_the_sdk(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[1]
    today = sim.account_today(account)
    since = today - timedelta(days=9)
    params: dict[str, Any] = {"level": "ad", "limit": 11}
    rows: list[dict[str, Any]] = []
    pages = 0
    while True:
        body = _insights(client, sim, account, since, today, **params).json()
        pages += 1
        rows.extend(body["data"])
        if "next" not in body.get("paging", {}):
            break
        assert len(body["data"]) == 11  # limit honoured: full pages until the last
        params["after"] = body["paging"]["cursors"]["after"]
    assert pages > 3
    assert rows == sim.ground_truth(account, since, today, fields=INSIGHT_FIELDS.split(","))


def test_next_url_carries_the_token_and_the_last_page_has_none(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    body = _insights(client, sim, account, today - timedelta(days=3), today, level="ad").json()
    assert len(body["data"]) == 25  # the default page size
    assert f"access_token={sim.tokens[0]}" in body["paging"]["next"]
    assert body["paging"]["next"].startswith(f"https://graph.facebook.com/v25.0/act_{account}/insights?")
    last = follow(client, client.get(body["paging"]["next"]))
    assert last  # more rows came from following next


@pytest.mark.parametrize("level", ["account", "campaign", "adset"])
def test_higher_levels_are_exact_sums_of_ad_level(sim: Simulator, level: str) -> None:
    key = {"account": "account_id", "campaign": "campaign_id", "adset": "adset_id"}[level]
    for account in sim.account_ids:
        today = sim.account_today(account)
        since = today - timedelta(days=20)
        fields = [
            "account_id",
            "campaign_id",
            "adset_id",
            "spend",
            "impressions",
            "clicks",
            "inline_link_clicks",
            "actions",
            "action_values",
        ]
        ad_rows = sim.ground_truth(account, since, today, fields=fields, filtering=ALL_FILTER)
        top_rows = sim.ground_truth(account, since, today, level=level, fields=fields, filtering=ALL_FILTER)
        assert ad_rows
        assert top_rows
        summed: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for row in ad_rows:
            _add(summed[(row[key], row["date_start"])], row)
        tops = {(row[key], row["date_start"]): _add(defaultdict(Decimal), row) for row in top_rows}
        assert tops == summed


def _add(acc: dict[str, Decimal], row: dict[str, Any]) -> dict[str, Decimal]:
    for name in ("spend", "impressions", "clicks", "inline_link_clicks"):
        acc[name] += Decimal(row[name])
    for name in ("actions", "action_values"):
        for item in row.get(name, []):
            acc[f"{name}:{item['action_type']}"] += Decimal(item["value"])
    return acc


def test_reach_is_not_summed_at_higher_levels(sim: Simulator) -> None:
    account = sim.account_ids[0]
    day = sim.account_today(account) - timedelta(days=30)
    ads = sim.ground_truth(account, day, day, fields=["reach", "impressions"], filtering=ALL_FILTER)
    (total,) = sim.ground_truth(account, day, day, level="account", fields=["reach", "impressions"])
    assert len(ads) > 3
    assert int(total["impressions"]) == sum(int(r["impressions"]) for r in ads)
    assert max(int(r["reach"]) for r in ads) <= int(total["reach"]) < sum(int(r["reach"]) for r in ads)


def test_ad_level_leaves_out_archived_and_deleted_ads_unless_filtered(sim: Simulator) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    since = today - timedelta(days=1000)
    hidden = {ad.id for ad in sim.account(account).ads if ad.effective_status in ("ARCHIVED", "DELETED")}
    default = sim.ground_truth(account, since, today, fields=["ad_id", "spend"], time_increment="all_days")
    everything = sim.ground_truth(
        account, since, today, fields=["ad_id", "spend"], time_increment="all_days", filtering=ALL_FILTER
    )
    (total,) = sim.ground_truth(account, since, today, level="account", fields=["spend"], time_increment="all_days")
    assert not {row["ad_id"] for row in default} & hidden
    assert {row["ad_id"] for row in everything} & hidden
    assert sum(Decimal(r["spend"]) for r in everything) == Decimal(total["spend"])
    assert sum(Decimal(r["spend"]) for r in default) < Decimal(total["spend"])


def test_figures_are_strings_as_the_api_sends_them(fake_clock: FakeClock) -> None:
    sim = Simulator(SimulatorConfig(seed=4, n_accounts=3, ads_per_account=120), clock=fake_clock)
    usd, _, jpy = sim.account_ids  # profiles: USD, EUR, JPY
    assert (sim.account_currency(usd), sim.account_currency(jpy)) == ("USD", "JPY")
    rows = {}
    for account in (usd, jpy):
        today = sim.account_today(account)
        rows[account] = sim.ground_truth(
            account, today - timedelta(days=30), today, fields=INSIGHT_FIELDS.split(","), filtering=ALL_FILTER
        )
    for row in rows[usd] + rows[jpy]:
        for name in ("spend", "clicks", "inline_link_clicks", "impressions", "reach", "ad_id", "account_id"):
            assert isinstance(row[name], str)
        assert row["ad_id"].isdigit()
        assert row["impressions"].isdigit()
        assert row["date_start"] == row["date_stop"]
        for item in row.get("actions", []) + row.get("action_values", []):
            assert set(item) == {"action_type", "value"}
            assert isinstance(item["value"], str)
    assert all(len(r["spend"].split(".")[1]) == 2 for r in rows[usd])
    assert all("." not in r["spend"] for r in rows[jpy])  # yen have no minor unit
    every = rows[usd] + rows[jpy]
    assert any("actions" not in r for r in every), "some ads have no actions at all: no key"
    assert any("." in item["value"] for r in every for item in r.get("actions", [])), "fractional counts occur"
    assert any("action_values" in r for r in every)


def test_last_28_days_are_restated_as_the_clock_advances(sim: Simulator, fake_clock: FakeClock) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    since, until = today - timedelta(days=45), today - timedelta(days=1)
    fields = ["ad_id", "spend", "impressions", "clicks", "actions"]
    before = {(r["ad_id"], r["date_start"]): r for r in sim.ground_truth(account, since, until, fields=fields)}
    fake_clock.advance(86400)
    after = {(r["ad_id"], r["date_start"]): r for r in sim.ground_truth(account, since, until, fields=fields)}
    assert before.keys() == after.keys()
    new_today = sim.account_today(account)
    young_changed = young = 0
    for key, row in before.items():
        age_now = (new_today - date.fromisoformat(key[1])).days
        if age_now > 28:
            assert after[key] == row, f"{key} is older than 28 days and must not change"
        elif age_now < 28:
            young += 1
            young_changed += after[key] != row
            # Slightly: spend moves by at most a few percent.
            assert abs(Decimal(after[key]["spend"]) - Decimal(row["spend"])) <= Decimal(row["spend"]) / 20 + 1
    assert young > 50
    assert young_changed > young / 2


def test_rows_stop_at_each_accounts_local_today(sim: Simulator, fake_clock: FakeClock) -> None:
    # 16:00 UTC: 08:00 on the 20th in Los Angeles, 01:00 on the 21st in Tokyo.
    fake_clock.set(datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc))
    la, _, tokyo = sim.account_ids
    assert (sim.account_timezone(la), sim.account_timezone(tokyo)) == ("America/Los_Angeles", "Asia/Tokyo")
    assert sim.account_today(la) == date(2026, 11, 20)
    assert sim.account_today(tokyo) == date(2026, 11, 21)
    since, until = date(2026, 11, 15), date(2026, 11, 25)
    la_days = {r["date_start"] for r in sim.ground_truth(la, since, until, level="account")}
    tokyo_days = {r["date_start"] for r in sim.ground_truth(tokyo, since, until, level="account")}
    assert max(la_days) == "2026-11-20"
    assert max(tokyo_days) == "2026-11-21"


def test_history_is_limited_to_37_months(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    oldest = (
        date(today.year - 3, today.month - 1, today.day) if today.month > 1 else date(today.year - 4, 12, today.day)
    )
    ok = _insights(client, sim, account, oldest, oldest + timedelta(days=2), level="account")
    assert ok.status_code == 200
    too_old = _insights(client, sim, account, oldest - timedelta(days=1), oldest, level="account")
    assert too_old.status_code == 400
    assert too_old.json()["error"]["code"] == 3018


@pytest.mark.parametrize(
    "breakdowns",
    [["age", "gender"], ["country"], ["publisher_platform"]],
    ids=["age-gender", "country", "platform"],
)
def test_breakdown_rows_sum_to_the_unbroken_row(sim: Simulator, breakdowns: list[str]) -> None:
    account = sim.account_ids[2]
    today = sim.account_today(account)
    since = today - timedelta(days=4)
    fields = ["ad_id", "spend", "impressions", "clicks"]
    plain = sim.ground_truth(account, since, today, fields=fields)
    split = sim.ground_truth(account, since, today, fields=fields, breakdowns=breakdowns)
    assert len(split) > len(plain)
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for row in split:
        assert all(isinstance(row[b], str) and row[b] for b in breakdowns)
        acc = sums[(row["ad_id"], row["date_start"])]
        for i, name in enumerate(("spend", "impressions", "clicks")):
            acc[i] += Decimal(row[name])
    assert {
        (r["ad_id"], r["date_start"]): [Decimal(r[n]) for n in ("spend", "impressions", "clicks")] for r in plain
    } == sums


def test_attribution_windows_add_per_window_values(sim: Simulator) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    rows = sim.ground_truth(
        account,
        today - timedelta(days=5),
        today,
        level="account",
        fields=["actions"],
        action_attribution_windows=["7d_click", "1d_view", "28d_click"],
    )
    items = [item for row in rows for item in row.get("actions", [])]
    assert items
    for item in items:
        assert Decimal(item.get("7d_click", "0")) + Decimal(item.get("1d_view", "0")) == Decimal(item["value"])
        assert Decimal(item.get("28d_click", "0")) >= Decimal(item.get("7d_click", "0"))


def test_all_days_increment_gives_one_row_per_ad_over_the_range(sim: Simulator) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    since = today - timedelta(days=6)
    daily = sim.ground_truth(account, since, today, fields=["ad_id", "spend"])
    total = sim.ground_truth(account, since, today, fields=["ad_id", "spend"], time_increment="all_days")
    assert {(r["date_start"], r["date_stop"]) for r in total} == {(since.isoformat(), today.isoformat())}
    per_ad: dict[str, Decimal] = defaultdict(Decimal)
    for row in daily:
        per_ad[row["ad_id"]] += Decimal(row["spend"])
    assert {r["ad_id"]: Decimal(r["spend"]) for r in total} == per_ad


def test_filtering_on_campaign_id_returns_only_that_campaign(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    campaign = next(c for c in sim.account(account).campaigns if c.effective_status == "ACTIVE")
    today = sim.account_today(account)
    filtering = json.dumps([{"field": "campaign.id", "operator": "IN", "value": [campaign.id]}])
    rows = follow(
        client,
        _insights(client, sim, account, today - timedelta(days=7), today, level="ad", filtering=filtering, limit=100),
    )
    assert rows
    assert {row["campaign_id"] for row in rows} == {campaign.id}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"level": "country"}, "param level"),
        ({"fields": "spend,not_a_field"}, "not_a_field is not valid for fields param"),
        ({"time_range": "{not json"}, "time_range"),
        ({"time_range": '{"since":"2026-11-10","until":"2026-11-01"}'}, "since must be on or before until"),
        ({"time_range": '{"since":"2026-13-01","until":"2026-11-01"}'}, "time_range[since]"),
        ({"breakdowns": '["zodiac"]'}, "breakdowns[0]"),
        ({"filtering": '[{"field":"ad.colour","operator":"IN","value":["x"]}]'}, "Filtering field"),
        (
            {"filtering": '[{"field":"ad.effective_status","operator":"IN","value":["SLEEPY"]}]'},
            "invalid value",
        ),
        ({"limit": "many"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"after": "!!!"}, "cursor"),
        ({"time_increment": "400"}, "time_increment"),
        ({"action_attribution_windows": '["3d_click"]'}, "action_attribution_windows[0]"),
    ],
    ids=[
        "level",
        "field",
        "range-json",
        "range-order",
        "range-date",
        "breakdown",
        "filter-field",
        "filter-value",
        "limit-text",
        "limit-zero",
        "cursor",
        "increment",
        "window",
    ],
)
def test_invalid_parameters_get_code_100(
    sim: Simulator, client: httpx.Client, params: dict[str, str], fragment: str
) -> None:
    account = sim.account_ids[0]
    query = {"time_range": '{"since":"2026-11-01","until":"2026-11-10"}', **params}
    response = get(client, f"act_{account}/insights", sim.tokens[0], **query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert fragment in error["message"]
