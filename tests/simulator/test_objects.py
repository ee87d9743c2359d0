"""Object endpoints: the account node, /me/adaccounts, campaigns / ad sets / ads edges and object nodes."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest

from metaads.simulator import Simulator, catalog
from tests.simulator.conftest import follow, get, time_range

STATUSES = {
    "campaigns": catalog.CAMPAIGN_EFFECTIVE_STATUSES,
    "adsets": catalog.ADSET_EFFECTIVE_STATUSES,
    "ads": catalog.AD_EFFECTIVE_STATUSES,
}
GRAPH_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")


def test_account_node_has_currency_time_zone_and_status(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[2]
    body = get(
        client,
        f"act_{account}",
        sim.tokens[0],
        fields="id,account_id,name,currency,timezone_name,timezone_offset_hours_utc,account_status,business",
    ).json()
    assert body["id"] == f"act_{account}"
    assert body["account_id"] == account
    assert body["currency"] == "JPY"
    assert body["timezone_name"] == "Asia/Tokyo"
    assert body["timezone_offset_hours_utc"] == 9
    assert body["account_status"] in (1, 2, 3, 7, 9, 100, 101)
    assert set(body["business"]) == {"id", "name"}


def test_me_adaccounts_lists_only_the_accounts_a_token_may_read(sim: Simulator, client: httpx.Client) -> None:
    limited = sim.add_token(accounts=[sim.account_ids[1]])
    everything = follow(client, get(client, "me/adaccounts", sim.tokens[0], fields="account_id", limit=2))
    assert [a["account_id"] for a in everything] == sim.account_ids
    only = get(client, "me/adaccounts", limited, fields="account_id,name").json()["data"]
    assert [a["account_id"] for a in only] == [sim.account_ids[1]]
    assert get(client, f"act_{sim.account_ids[0]}", limited).status_code == 403


@pytest.mark.parametrize("edge", ["campaigns", "adsets", "ads"])
def test_edges_hide_archived_and_deleted_unless_asked_for_by_status(
    sim: Simulator, client: httpx.Client, edge: str
) -> None:
    account = sim.account(sim.account_ids[0])
    world = {"campaigns": account.campaigns, "adsets": account.adsets, "ads": account.ads}[edge]
    fields = "id,name,status,effective_status,created_time"
    live = follow(client, get(client, f"act_{account.id}/{edge}", sim.tokens[0], fields=fields, limit=7))
    every = follow(
        client,
        get(
            client,
            f"act_{account.id}/{edge}",
            sim.tokens[0],
            fields=fields,
            limit=7,
            effective_status=json.dumps(list(STATUSES[edge])),
        ),
    )
    assert [o["id"] for o in every] == sorted((o.id for o in world), key=int)
    assert [o["id"] for o in live] == [o["id"] for o in every if o["effective_status"] not in ("ARCHIVED", "DELETED")]
    assert len(live) < len(every)
    assert all(GRAPH_TIME.match(o["created_time"]) for o in every)


@pytest.mark.parametrize(
    ("edge", "parent"),
    [("adsets", "campaign"), ("ads", "campaign"), ("ads", "adset")],
    ids=["adsets-by-campaign", "ads-by-campaign", "ads-by-adset"],
)
def test_edges_filter_on_a_parents_id_and_list_archived_children_only_when_asked_by_status(
    sim: Simulator, client: httpx.Client, edge: str, parent: str
) -> None:
    account = sim.account(sim.account_ids[0])
    objects = account.adsets if edge == "adsets" else account.ads
    parents = sorted({getattr(o, f"{parent}_id") for o in objects})[:2]
    wanted = [o for o in objects if getattr(o, f"{parent}_id") in parents]
    by_parent = [{"field": f"{parent}.id", "operator": "IN", "value": parents}]
    every = follow(
        client,
        get(
            client,
            f"act_{account.id}/{edge}",
            sim.tokens[0],
            fields=f"id,{parent}_id,effective_status",
            limit=3,
            filtering=json.dumps(by_parent),
            effective_status=json.dumps(list(STATUSES[edge])),
        ),
    )
    assert [o["id"] for o in every] == sorted((o.id for o in wanted), key=int)
    assert {o[f"{parent}_id"] for o in every} == set(parents)
    live = follow(
        client,
        get(client, f"act_{account.id}/{edge}", sim.tokens[0], fields="id", filtering=json.dumps(by_parent)),
    )
    assert [o["id"] for o in live] == [o["id"] for o in every if o["effective_status"] not in ("ARCHIVED", "DELETED")]


def test_filtering_on_a_node_the_edge_has_no_parent_of_is_code_100(sim: Simulator, client: httpx.Client) -> None:
    response = get(
        client,
        f"act_{sim.account_ids[0]}/campaigns",
        sim.tokens[0],
        fields="id",
        filtering=json.dumps([{"field": "adset.id", "operator": "IN", "value": ["1"]}]),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert "Filtering field 'adset.id' is invalid" in response.json()["error"]["message"]


def test_campaign_fields_match_the_spec(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    fields = (
        "id,name,status,effective_status,objective,start_time,stop_time,created_time,updated_time,"
        "daily_budget,lifetime_budget"
    )
    campaigns = follow(
        client,
        get(
            client,
            f"act_{account}/campaigns",
            sim.tokens[0],
            fields=fields,
            filtering=json.dumps(
                [
                    {
                        "field": "campaign.effective_status",
                        "operator": "IN",
                        "value": ["ACTIVE", "PAUSED", "ARCHIVED", "DELETED"],
                    }
                ]
            ),
        ),
    )
    assert campaigns
    for campaign in campaigns:
        assert campaign["objective"].startswith("OUTCOME_")
        assert GRAPH_TIME.match(campaign["start_time"])
        for budget in ("daily_budget", "lifetime_budget"):
            assert budget not in campaign or campaign[budget].isdigit()  # minor units, as a string
    assert any("stop_time" in c for c in campaigns)
    assert any("stop_time" not in c for c in campaigns)


def test_object_node_and_its_insights_work_even_for_a_deleted_ad(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account(sim.account_ids[0])
    deleted = next(ad for ad in account.ads if ad.effective_status in ("DELETED", "ARCHIVED"))
    node = get(client, deleted.id, sim.tokens[0], fields="id,name,effective_status,adset_id").json()
    assert node == {
        "id": deleted.id,
        "name": deleted.name,
        "effective_status": deleted.effective_status,
        "adset_id": deleted.adset_id,
    }
    today = sim.account_today(account.id)
    rows = follow(
        client,
        get(
            client,
            f"{deleted.id}/insights",
            sim.tokens[0],
            fields="ad_id,spend",
            time_range=time_range(today - timedelta(days=1000), today),
            time_increment="all_days",
        ),
    )
    assert [r["ad_id"] for r in rows] == [deleted.id]


def test_unknown_field_on_a_node_is_code_100(sim: Simulator, client: httpx.Client) -> None:
    response = get(client, f"act_{sim.account_ids[0]}/campaigns", sim.tokens[0], fields="id,colour")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert "(colour)" in response.json()["error"]["message"]


def test_business_owned_ad_accounts(sim: Simulator, client: httpx.Client) -> None:
    business = sim.world.accounts[0].business
    owned = get(client, f"{business.id}/owned_ad_accounts", sim.tokens[0], fields="account_id").json()["data"]
    assert [a["account_id"] for a in owned] == [a.id for a in sim.world.accounts if a.business.id == business.id]
