"""Insights ``filtering`` on ``campaign.updated_time`` / ``adset.updated_time`` / ``ad.updated_time`` over real
HTTP: every operator Meta documents for numbers, the objects' ``updated_time`` as the clock moves (what the
object edges show), and Meta's code 100 for what it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.simulator import ALL_STATUSES, Simulator, catalog
from tests.simulator.conftest import follow, get, time_range

DAY = 86400
ALL_ADS = {"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}
EDGE_STATUSES = {
    "campaign": catalog.CAMPAIGN_EFFECTIVE_STATUSES,
    "adset": catalog.ADSET_EFFECTIVE_STATUSES,
    "ad": catalog.AD_EFFECTIVE_STATUSES,
}
OPERATORS = {
    "GREATER_THAN": lambda t, m: t > m,
    "GREATER_THAN_OR_EQUAL": lambda t, m: t >= m,
    "LESS_THAN": lambda t, m: t < m,
    "LESS_THAN_OR_EQUAL": lambda t, m: t <= m,
    "IN_RANGE": lambda t, m: m - 3 * DAY <= t <= m,
    "NOT_IN_RANGE": lambda t, m: not m - 3 * DAY <= t <= m,
    "EQUAL": lambda t, m: t == m,
    "NOT_EQUAL": lambda t, m: t != m,
}


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    with sim.serve() as server, httpx.Client(base_url=server.base_url) as client:
        yield client


def _seconds(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def _updated(http: httpx.Client, sim: Simulator, account: str, node: str) -> dict[str, int]:
    """Object id -> ``updated_time`` in unix seconds, as the object edge shows it now (every status)."""
    rows = follow(
        http,
        get(
            http,
            f"act_{account}/{node}s",
            sim.tokens[0],
            fields="updated_time",
            effective_status=json.dumps(list(EDGE_STATUSES[node])),
            limit=100,
        ),
    )
    return {row["id"]: _seconds(row["updated_time"]) for row in rows}


def _insights(http: httpx.Client, sim: Simulator, account: str, level: str, *filters: Any) -> list[dict[str, Any]]:
    today = sim.account_today(account)
    return follow(
        http,
        get(
            http,
            f"act_{account}/insights",
            sim.tokens[0],
            level=level,
            fields="campaign_id,adset_id,ad_id,spend,impressions",
            time_range=time_range(today - timedelta(days=60), today),
            time_increment="all_days",
            filtering=json.dumps([ALL_ADS, *filters]),
            limit=100,
        ),
    )


@pytest.mark.parametrize("operator", list(OPERATORS), ids=[o.lower() for o in OPERATORS])
@pytest.mark.parametrize("node", ["ad", "adset", "campaign"])
def test_ad_level_insights_keep_the_ads_whose_node_updated_time_passes(
    sim: Simulator, http: httpx.Client, fake_clock: FakeClock, node: str, operator: str
) -> None:
    account = sim.account_ids[0]
    fake_clock.advance(5 * DAY)  # scheduled edits move some updated_time values
    times = _updated(http, sim, account, node)
    everything = _insights(http, sim, account, "ad")
    middle = sorted(times[row[f"{node}_id"]] for row in everything)[len(everything) // 2]  # of the rows' nodes
    rule = {"field": f"{node}.updated_time", "operator": operator, "value": middle}
    if operator.endswith("IN_RANGE"):
        rule["value"] = [middle - 3 * DAY, middle]
    kept = _insights(http, sim, account, "ad", rule)
    passes = OPERATORS[operator]
    expected = [row for row in everything if passes(times[row[f"{node}_id"]], middle)]
    assert kept == expected
    assert 0 < len(kept) < len(everything) or operator in ("NOT_EQUAL", "NOT_IN_RANGE")


def test_campaign_level_sums_only_the_ads_that_pass_and_the_filter_follows_the_clock(
    sim: Simulator, http: httpx.Client, fake_clock: FakeClock
) -> None:
    account = sim.account_ids[0]
    watermark = int(fake_clock.now().timestamp())
    newer = {"field": "ad.updated_time", "operator": "GREATER_THAN", "value": watermark}
    assert _insights(http, sim, account, "campaign", newer) == []  # nothing edited after now yet
    fake_clock.advance(4 * DAY)
    edited = {ad for ad, t in _updated(http, sim, account, "ad").items() if t > watermark}
    assert edited, "live ads get edited within four days"
    by_ad = [r for r in _insights(http, sim, account, "ad") if r["ad_id"] in edited]
    campaigns = _insights(http, sim, account, "campaign", newer)
    assert {r["campaign_id"] for r in campaigns} == {r["campaign_id"] for r in by_ad}
    for row in campaigns:
        mine = [r for r in by_ad if r["campaign_id"] == row["campaign_id"]]
        assert int(row["impressions"]) == sum(int(r["impressions"]) for r in mine)


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"field": "ad.updated_time", "operator": "GREATER_THAN", "value": "yesterday"}, "a number of unix seconds"),
        ({"field": "adset.updated_time", "operator": "IN_RANGE", "value": [1700000000]}, "a [from, to] range"),
        ({"field": "campaign.updated_time", "operator": "CONTAIN", "value": "17"}, "is not supported"),
        ({"field": "ad.effective_status", "operator": "GREATER_THAN", "value": "ACTIVE"}, "is not supported"),
        (
            {"field": "updated_time", "operator": "GREATER_THAN", "value": 1},
            "Filtering field 'updated_time' is invalid",
        ),
        ({"field": "creative.updated_time", "operator": "LESS_THAN", "value": 1}, "is invalid"),
    ],
    ids=["not-a-number", "range-of-one", "text-operator", "status-compared", "no-node", "creative"],
)
def test_invalid_updated_time_filters_are_code_100(
    sim: Simulator, http: httpx.Client, rule: dict[str, Any], fragment: str
) -> None:
    account = sim.account_ids[0]
    response = get(http, f"act_{account}/insights", sim.tokens[0], level="ad", filtering=json.dumps([rule]))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (100, "OAuthException")
    assert error["message"].startswith("(#100) ")
    assert fragment in error["message"]
