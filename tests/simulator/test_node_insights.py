"""Insights on every node: ``GET|POST /{campaign_id|adset_id|ad_id}/insights`` behave like the account edge."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.simulator import ALL_STATUSES, Simulator
from tests.simulator.conftest import VERSION, follow, get, time_range

FIELDS = "account_id,campaign_id,adset_id,ad_id,spend,impressions,clicks,actions"
ALL_FILTER = [{"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}]


def _node(sim: Simulator, kind: str) -> str:
    account = sim.account(sim.account_ids[0])
    objects: Any = {"campaign": account.campaigns, "adset": account.adsets, "ad": account.ads}[kind]
    return str(next(o.id for o in objects if o.effective_status == "ACTIVE"))


def _range(sim: Simulator) -> dict[str, str]:
    today = sim.account_today(sim.account_ids[0])
    return {"time_range": time_range(today - timedelta(days=9), today), "time_increment": "1"}


def _scoped_truth(sim: Simulator, kind: str, node: str, level: str) -> list[dict[str, Any]]:
    today = sim.account_today(sim.account_ids[0])
    return sim.ground_truth(
        sim.account_ids[0],
        today - timedelta(days=9),
        today,
        level=level,
        fields=FIELDS.split(","),
        filtering=[*ALL_FILTER, {"field": f"{kind}.id", "operator": "IN", "value": [node]}],
    )


@pytest.mark.parametrize(
    ("kind", "level"),
    [("campaign", None), ("campaign", "ad"), ("adset", None), ("adset", "ad"), ("ad", None)],
    ids=["campaign", "campaign-by-ad", "adset", "adset-by-ad", "ad"],
)
def test_get_node_insights_equals_the_account_edge_filtered_to_the_node(
    sim: Simulator, client: httpx.Client, kind: str, level: str | None
) -> None:
    node = _node(sim, kind)
    params = {**_range(sim), "fields": FIELDS, "limit": 7}
    if level:
        params["level"] = level
    rows = follow(client, get(client, f"{node}/insights", sim.tokens[0], **params))
    assert rows
    assert rows == _scoped_truth(sim, kind, node, level or kind)
    assert {row[f"{kind}_id"] for row in rows} == {node}


def test_post_node_insights_starts_a_report_run_polled_singly_and_in_a_batch(
    sim: Simulator, client: httpx.Client, fake_clock: FakeClock
) -> None:
    node = _node(sim, "adset")
    response = client.post(
        f"/{VERSION}/{node}/insights",
        data={"access_token": sim.tokens[0], "fields": FIELDS, "level": "ad", **_range(sim)},
    )
    assert response.status_code == 200, response.text
    job = response.json()["report_run_id"]
    assert set(response.json()) == {"report_run_id"}
    batch = json.dumps(
        [{"method": "GET", "relative_url": f"{VERSION}/{job}?fields=async_status,async_percent_completion"}]
    )
    for _ in range(1000):
        single = get(client, job, sim.tokens[0]).json()
        (answer,) = client.post("/", data={"access_token": sim.tokens[0], "batch": batch}).json()
        polled = json.loads(answer["body"])
        assert polled["async_status"] == single["async_status"]
        if single["async_status"] == "Job Completed":
            break
        fake_clock.advance(1)
    assert polled["async_percent_completion"] == 100
    rows = follow(client, get(client, f"{job}/insights", sim.tokens[0], limit=5))
    assert rows
    assert rows == _scoped_truth(sim, "adset", node, "ad")


def test_node_insights_show_deleted_objects_and_keep_the_clients_own_filtering(
    sim: Simulator, client: httpx.Client
) -> None:
    account = sim.account(sim.account_ids[0])
    deleted = next(c for c in account.campaigns if c.effective_status == "DELETED")
    today = sim.account_today(account.id)
    params = {"time_range": time_range(today - timedelta(days=1000), today), "fields": "campaign_id,spend"}
    rows = follow(client, get(client, f"{deleted.id}/insights", sim.tokens[0], **params))
    assert [row["campaign_id"] for row in rows] == [deleted.id]
    other = json.dumps([{"field": "campaign.id", "operator": "IN", "value": ["1"]}])
    assert follow(client, get(client, f"{deleted.id}/insights", sim.tokens[0], filtering=other, **params)) == []


def test_report_run_rejects_unknown_fields_like_meta(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    job = client.post(f"/{VERSION}/act_{account}/insights", data={"access_token": sim.tokens[0], **_range(sim)}).json()[
        "report_run_id"
    ]
    response = get(client, job, sim.tokens[0], fields="async_status,colour")
    assert response.status_code == 400
    assert (
        response.json()["error"]["message"]
        == "(#100) Tried accessing nonexisting field (colour) on node type (AdReportRun)"
    )
