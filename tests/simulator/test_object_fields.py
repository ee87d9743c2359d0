"""Object edges and fields as Meta's SDK lists them; ``filtering`` on ``updated_time`` for incremental loads."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.simulator import Simulator, SimulatorConfig, catalog
from tests.simulator.conftest import follow, get

GRAPH_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")
EDGES = {
    "campaigns": "Campaign",
    "adsets": "AdSet",
    "ads": "Ad",
    "adcreatives": "AdCreative",
    "customconversions": "CustomConversion",
    "customaudiences": "CustomAudience",
    "adimages": "AdImage",
    "advideos": "AdVideo",
}
STATUSES = {
    "campaigns": catalog.CAMPAIGN_EFFECTIVE_STATUSES,
    "adsets": catalog.ADSET_EFFECTIVE_STATUSES,
    "ads": catalog.AD_EFFECTIVE_STATUSES,
}


def _list(client: httpx.Client, sim: Simulator, edge: str, **params: Any) -> list[dict[str, Any]]:
    if edge in STATUSES and "filtering" not in params:
        params.setdefault("effective_status", json.dumps(list(STATUSES[edge])))
    return follow(client, get(client, f"act_{sim.account_ids[0]}/{edge}", sim.tokens[0], limit=50, **params))


@pytest.mark.parametrize("edge", list(EDGES), ids=list(EDGES))
def test_every_documented_field_of_an_edge_is_accepted(sim: Simulator, client: httpx.Client, edge: str) -> None:
    fields = catalog.NODE_FIELDS[EDGES[edge]]
    objects = _list(client, sim, edge, fields=",".join(fields))
    assert objects
    assert all(set(o) <= set(fields) for o in objects)
    assert all("id" in o for o in objects)


@pytest.mark.parametrize(
    ("path", "node_type"),
    [("act_{account}", "AdAccount"), ("me/businesses", "Business"), ("me/business_users", "BusinessUser")],
    ids=["account", "businesses", "business-users"],
)
def test_every_documented_field_of_a_node_is_accepted(
    sim: Simulator, client: httpx.Client, path: str, node_type: str
) -> None:
    fields = ",".join(catalog.NODE_FIELDS[node_type])
    response = get(client, path.format(account=sim.account_ids[0]), sim.tokens[0], fields=fields)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] if "data" in body else body


@pytest.mark.parametrize(
    ("path", "node_type"),
    [
        ("act_{account}", "AdAccount"),
        ("act_{account}/campaigns", "Campaign"),
        ("act_{account}/adsets", "AdSet"),
        ("act_{account}/ads", "Ad"),
        ("act_{account}/adcreatives", "AdCreative"),
        ("act_{account}/customconversions", "CustomConversion"),
        ("act_{account}/adimages", "AdImage"),
        ("act_{account}/advideos", "AdVideo"),
        ("me/businesses", "Business"),
    ],
    ids=["account", "campaign", "adset", "ad", "creative", "customconversion", "image", "video", "business"],
)
def test_unknown_field_is_code_100_nonexisting_field_on_the_node_type(
    sim: Simulator, client: httpx.Client, path: str, node_type: str
) -> None:
    response = get(client, path.format(account=sim.account_ids[0]), sim.tokens[0], fields="id,colour")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert error["message"] == f"(#100) Tried accessing nonexisting field (colour) on node type ({node_type})"


def test_campaign_ad_set_and_ad_carry_their_documented_fields(sim: Simulator, client: httpx.Client) -> None:
    campaigns = _list(
        client,
        sim,
        "campaigns",
        fields="objective,status,effective_status,buying_type,daily_budget,lifetime_budget,bid_strategy,"
        "start_time,stop_time,created_time,updated_time",
    )
    assert {c["buying_type"] for c in campaigns} == {"AUCTION"}
    assert any("daily_budget" in c and "bid_strategy" in c for c in campaigns)
    assert all(GRAPH_TIME.match(c[t]) for c in campaigns for t in ("start_time", "created_time", "updated_time"))
    adsets = _list(
        client, sim, "adsets", fields="campaign_id,optimization_goal,billing_event,bid_amount,targeting,daily_budget"
    )
    assert all(isinstance(s["targeting"], dict) and s["targeting"]["geo_locations"] for s in adsets)
    assert {s["billing_event"] for s in adsets} == {"IMPRESSIONS"}
    assert any(isinstance(s.get("bid_amount"), int) for s in adsets)
    ads = _list(client, sim, "ads", fields="adset_id,creative,tracking_specs,effective_status")
    assert all(set(a["creative"]) == {"id"} for a in ads)
    assert all(a["tracking_specs"] for a in ads)


def test_creatives_images_and_videos_describe_the_ads(sim: Simulator, client: httpx.Client) -> None:
    fields = (
        "name,title,body,call_to_action_type,link_url,image_hash,image_url,video_id,thumbnail_url,object_story_spec"
    )
    creatives = {c["id"]: c for c in _list(client, sim, "adcreatives", fields=fields)}
    ads = _list(client, sim, "ads", fields="creative")
    assert {a["creative"]["id"] for a in ads} == set(creatives)
    images = {i["hash"]: i for i in _list(client, sim, "adimages", fields="hash,url,width,height")}
    videos = {v["id"]: v for v in _list(client, sim, "advideos", fields="title,length,picture")}
    for creative in creatives.values():
        assert creative["link_url"].startswith("https://")
        assert creative["object_story_spec"]["page_id"]
        assert ("image_hash" in creative) != ("video_id" in creative)
        if "image_hash" in creative:
            assert creative["image_hash"] in images
        else:
            assert creative["video_id"] in videos
    assert images
    assert videos
    one = next(iter(creatives))
    node = get(client, one, sim.tokens[0], fields="id,title,call_to_action_type").json()
    assert node == {k: creatives[one][k] for k in ("id", "title", "call_to_action_type")}
    ad = next(a for a in ads if a["creative"]["id"] == one)
    assert [c["id"] for c in get(client, f"{ad['id']}/adcreatives", sim.tokens[0]).json()["data"]] == [one]
    some_hash = next(iter(images))
    only = get(client, f"act_{sim.account_ids[0]}/adimages", sim.tokens[0], hashes=json.dumps([some_hash]))
    assert [i["hash"] for i in only.json()["data"]] == [some_hash]


def test_custom_conversions_and_audiences(sim: Simulator, client: httpx.Client) -> None:
    conversions = _list(client, sim, "customconversions", fields="name,custom_event_type,rule,pixel,creation_time")
    assert conversions
    assert all(
        c["custom_event_type"] in ("PURCHASE", "LEAD", "ADD_TO_CART", "COMPLETE_REGISTRATION", "INITIATED_CHECKOUT")
        for c in conversions
    )
    assert all(json.loads(c["rule"]) for c in conversions)
    audiences = _list(client, sim, "customaudiences", fields="name,subtype,approximate_count_lower_bound")
    assert audiences
    assert get(client, conversions[0]["id"], sim.tokens[0], fields="name").json()["name"] == conversions[0]["name"]


def test_me_businesses_and_business_users_follow_the_tokens_accounts(sim: Simulator, client: httpx.Client) -> None:
    every = get(client, "me/businesses", sim.tokens[0], fields="id,name,verification_status").json()["data"]
    assert {b["id"] for b in every} == {a.business.id for a in sim.world.accounts}
    limited = sim.add_token(accounts=[sim.account_ids[1]])
    only = get(client, "me/businesses", limited).json()["data"]
    assert [b["id"] for b in only] == [sim.account(sim.account_ids[1]).business.id]
    users = get(client, "me/business_users", sim.tokens[0], fields="id,name,role,business").json()["data"]
    assert {u["business"]["id"] for u in users} == {b["id"] for b in every}
    business = every[0]["id"]
    (user,) = get(client, f"{business}/business_users", sim.tokens[0], fields="role").json()["data"]
    assert user["role"] == "ADMIN"


def _seconds(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp())


@pytest.mark.parametrize("edge", ["campaigns", "adsets", "ads"], ids=["campaigns", "adsets", "ads"])
def test_updated_time_filters_split_objects_and_see_edits_as_the_clock_moves(
    sim: Simulator, client: httpx.Client, fake_clock: FakeClock, edge: str
) -> None:
    kind = edge.removesuffix("s")
    everything = {o["id"]: _seconds(o["updated_time"]) for o in _list(client, sim, edge, fields="updated_time")}
    middle = sorted(everything.values())[len(everything) // 2]

    def where(operator: str, value: Any) -> set[str]:
        status = {"field": f"{kind}.effective_status", "operator": "IN", "value": list(STATUSES[edge])}
        rule = {"field": f"{kind}.updated_time", "operator": operator, "value": value}
        return {o["id"] for o in _list(client, sim, edge, fields="id", filtering=json.dumps([status, rule]))}

    newer, older = where("GREATER_THAN", middle), where("LESS_THAN", middle)
    at = {i for i, t in everything.items() if t == middle}
    assert newer
    assert older
    assert newer | older | at == set(everything)
    assert newer == {i for i, t in everything.items() if t > middle}
    assert where("IN_RANGE", [middle, middle + 1]) == at
    watermark = int(fake_clock.now().timestamp())
    assert where("GREATER_THAN", watermark) == set()
    fake_clock.advance(5 * 86400)
    edited = where("GREATER_THAN", watermark)
    assert edited, "live objects get edited as the clock moves"
    later = {o["id"]: _seconds(o["updated_time"]) for o in _list(client, sim, edge, fields="updated_time")}
    assert edited == {i for i, t in later.items() if t > watermark}
    assert all(later[i] == everything[i] for i in set(everything) - edited)


@pytest.mark.parametrize(
    ("edge", "params", "fragment"),
    [
        ("campaigns", {"effective_status": '["ADSET_PAUSED"]'}, "param effective_status[0] must be one of"),
        (
            "campaigns",
            {"filtering": '[{"field":"campaign.updated_time","operator":"GREATER_THAN","value":"soon"}]'},
            "unix seconds",
        ),
        (
            "ads",
            {"filtering": '[{"field":"ad.updated_time","operator":"CONTAIN","value":"1"}]'},
            "is not supported",
        ),
        ("ads", {"filtering": '[{"field":"ad.colour","operator":"IN","value":["x"]}]'}, "Filtering field 'ad.colour'"),
        (
            "adsets",
            {"filtering": '[{"field":"adset.effective_status","operator":"IN","value":["ADSET_PAUSED"]}]'},
            "invalid value 'ADSET_PAUSED'",
        ),
    ],
    ids=["status-param", "time-value", "operator", "field", "status-filter"],
)
def test_invalid_object_filtering_is_code_100(
    sim: Simulator, client: httpx.Client, edge: str, params: dict[str, str], fragment: str
) -> None:
    response = get(client, f"act_{sim.account_ids[0]}/{edge}", sim.tokens[0], **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert fragment in response.json()["error"]["message"]


def test_ads_filter_on_their_campaign_and_edges_below_nodes(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account(sim.account_ids[0])
    campaign = next(c for c in account.campaigns if c.effective_status == "ACTIVE")
    by_filter = _list(
        client,
        sim,
        "ads",
        fields="campaign_id",
        filtering=json.dumps([{"field": "campaign.id", "operator": "IN", "value": [campaign.id]}]),
    )
    expected = [
        a.id for a in account.ads if a.campaign_id == campaign.id and a.effective_status not in ("ARCHIVED", "DELETED")
    ]
    assert [a["id"] for a in by_filter] == expected
    below = follow(client, get(client, f"{campaign.id}/ads", sim.tokens[0], fields="campaign_id"))
    assert [a["id"] for a in below] == expected
    adsets = follow(client, get(client, f"{campaign.id}/adsets", sim.tokens[0]))
    assert {s["id"] for s in adsets} <= {s.id for s in account.adsets if s.campaign_id == campaign.id}


def test_object_times_are_stable_for_a_seed(fake_clock: FakeClock) -> None:
    answers = []
    for _ in range(2):
        sim = Simulator(SimulatorConfig(seed=7, n_accounts=1, ads_per_account=20), clock=fake_clock)
        with httpx.Client(transport=sim.transport(), base_url="https://graph.facebook.com") as http:
            answers.append(_list(http, sim, "ads", fields="created_time,updated_time,creative"))
    assert answers[0] == answers[1]


def test_amount_spent_is_the_accounts_lifetime_spend_in_minor_units(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    sim.faults.account_created_days_ago[account] = 20
    today = sim.account_today(account)
    (total,) = sim.ground_truth(
        account, today - timedelta(days=40), today, level="account", fields=["spend"], time_increment="all_days"
    )
    spent = get(client, f"act_{account}", sim.tokens[0], fields="amount_spent").json()["amount_spent"]
    assert spent == total["spend"].replace(".", "")  # USD: cents, as a string


def test_activities_log_the_edits_that_move_updated_time(
    sim: Simulator, client: httpx.Client, fake_clock: FakeClock
) -> None:
    account = sim.account_ids[0]
    watermark = int(fake_clock.now().timestamp())
    fake_clock.advance(3 * 86400)
    log = follow(
        client,
        get(
            client,
            f"act_{account}/activities",
            sim.tokens[0],
            since=str(watermark),
            fields="event_type,event_time,object_id,object_type",
            limit=10,
        ),
    )
    assert log
    assert [_seconds(e["event_time"]) for e in log] == sorted((_seconds(e["event_time"]) for e in log), reverse=True)
    edited = {
        o["id"]
        for edge in ("campaigns", "adsets", "ads")
        for o in _list(client, sim, edge, fields="updated_time")
        if _seconds(o["updated_time"]) > watermark
    }
    assert {e["object_id"] for e in log} == edited
    bad = get(client, f"act_{account}/activities", sim.tokens[0], fields="colour")
    assert (
        bad.json()["error"]["message"] == "(#100) Tried accessing nonexisting field (colour) on node type (AdActivity)"
    )
