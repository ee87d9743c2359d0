"""Scheduled status changes: a few live objects are paused, archived or deleted after the world's start, and
every endpoint (nodes, edges, ``filtering``, insights, activities) shows the state as of the clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.simulator import ALL_STATUSES, Simulator, SimulatorConfig, catalog
from metaads.simulator.lifecycle import effective_status_at, status_at
from metaads.simulator.objects import update_count, updated_time
from metaads.simulator.world import Ad, AdAccount, AdSet, Campaign
from tests.simulator.conftest import follow, get, time_range

ALL_ADS = [{"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}]
FIELDS = "id,status,configured_status,effective_status,updated_time"
EDGE_STATUSES = {
    "campaigns": catalog.CAMPAIGN_EFFECTIVE_STATUSES,
    "adsets": catalog.ADSET_EFFECTIVE_STATUSES,
    "ads": catalog.AD_EFFECTIVE_STATUSES,
}


@pytest.fixture
def busy(fake_clock: FakeClock) -> Simulator:
    """A world where many live objects change (30 % within 30 days: the seed pauses, archives and deletes
    campaigns, ad sets and ads with children running), and figures never restate (days compare exactly)."""
    config = SimulatorConfig(
        seed=9, n_accounts=3, ads_per_account=60, status_change_rate=0.3, status_change_days=30, restatement_days=0
    )
    return Simulator(config, clock=fake_clock)


@pytest.fixture
def http(busy: Simulator) -> Iterator[httpx.Client]:
    with busy.serve() as server, httpx.Client(base_url=server.base_url) as client:
        yield client


def _changed(sim: Simulator, kind: type, new: str, children: str | None = None) -> tuple[AdAccount, Any]:
    """The first object of type ``kind`` whose first change makes it ``new`` (in account order), with
    ``children`` (``adsets`` or ``ads``) still running just before it when asked for."""
    for account in sim.world.accounts:
        objects: list[Any] = [*account.campaigns, *account.adsets, *account.ads]
        for obj in objects:
            if not (isinstance(obj, kind) and obj.changes and obj.changes[0].status == new and obj.status == "ACTIVE"):
                continue
            if children is None or _running_children(account, obj, children):
                return account, obj
    raise AssertionError(f"the seed should {new.lower()} some {kind.__name__}")


def _running_children(account: AdAccount, parent: Campaign | AdSet, edge: str) -> list[Any]:
    """The parent's ad sets or ads still running just before the parent's first change."""
    key = "campaign_id" if isinstance(parent, Campaign) else "adset_id"
    just_before = parent.changes[0].at - timedelta(seconds=1)
    below: tuple[Any, ...] = account.adsets if edge == "adsets" else account.ads
    return [o for o in below if getattr(o, key) == parent.id and effective_status_at(o, just_before) == "ACTIVE"]


def _seconds(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _node(http: httpx.Client, sim: Simulator, object_id: str) -> dict[str, Any]:
    response = get(http, object_id, sim.tokens[0], fields=FIELDS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _edge(http: httpx.Client, sim: Simulator, path: str, edge: str, **params: Any) -> dict[str, dict[str, Any]]:
    rows = follow(http, get(http, f"{path}/{edge}", sim.tokens[0], fields=FIELDS, limit=100, **params))
    return {row["id"]: row for row in rows}


def test_changes_are_few_deterministic_and_only_after_the_worlds_start(fake_clock: FakeClock) -> None:
    sim = Simulator(SimulatorConfig(seed=1, n_accounts=10, ads_per_account=60), clock=fake_clock)
    again = Simulator(SimulatorConfig(seed=1, n_accounts=10, ads_per_account=60), clock=fake_clock)
    assert sim.world.accounts == again.world.accounts
    assert sim.world.start > fake_clock.now()  # the simulator was created on the anchor day
    objects: list[Campaign | AdSet | Ad] = [
        o for account in sim.world.accounts for o in (*account.campaigns, *account.adsets, *account.ads)
    ]
    live = [o for o in objects if o.status == "ACTIVE" and o.effective_status in ("ACTIVE", "WITH_ISSUES")]
    own = [o for o in live if o.changes and o.changes[0].written and o.changes[0].status != o.status]
    assert own, "the default world changes some objects"
    assert len(own) < 0.15 * len(live), "only a small share of the live objects"
    for obj in objects:
        for change in obj.changes:
            assert sim.world.start <= change.at < sim.world.start + timedelta(days=120)
        assert [c.at for c in obj.changes] == sorted(c.at for c in obj.changes)
    never = Simulator(
        SimulatorConfig(seed=1, n_accounts=10, ads_per_account=60, status_change_rate=0), clock=fake_clock
    )
    assert not any(o.changes for a in never.world.accounts for o in (*a.campaigns, *a.adsets, *a.ads))


def test_a_paused_campaign_and_its_children_as_of_the_clock_on_nodes_and_edges(
    busy: Simulator, http: httpx.Client, fake_clock: FakeClock
) -> None:
    account, campaign = _changed(busy, Campaign, "PAUSED", children="ads")
    change = campaign.changes[0]
    live_adsets = _running_children(account, campaign, "adsets")
    live_ads = _running_children(account, campaign, "ads")
    assert live_adsets

    fake_clock.set(change.at - timedelta(seconds=1))
    before = {a.id: _node(http, busy, a.id) for a in live_ads}
    node = _node(http, busy, campaign.id)
    assert (node["status"], node["effective_status"]) == ("ACTIVE", campaign.effective_status)
    assert _seconds(node["updated_time"]) < _unix(change.at)

    fake_clock.set(change.at)
    node = _node(http, busy, campaign.id)
    assert (node["status"], node["configured_status"], node["effective_status"]) == ("PAUSED", "PAUSED", "PAUSED")
    assert _seconds(node["updated_time"]) == _unix(change.at)
    listed = _edge(http, busy, f"act_{account.id}", "adsets", filtering=_by_campaign(campaign.id))
    for adset in live_adsets:
        assert listed[adset.id]["status"] == "ACTIVE"  # its own status is untouched
        assert listed[adset.id]["effective_status"] == "CAMPAIGN_PAUSED"
    below = _edge(http, busy, campaign.id, "ads")
    for ad in live_ads:
        row = below[ad.id]
        assert (row["status"], row["effective_status"]) == ("ACTIVE", "CAMPAIGN_PAUSED")
        assert row["updated_time"] == before[ad.id]["updated_time"]  # not written: updated_time stays
        assert _node(http, busy, ad.id) == row
    # filtering on the new statuses finds them; on the old one, no longer
    paused = _edge(
        http,
        busy,
        f"act_{account.id}",
        "campaigns",
        filtering=json.dumps([{"field": "campaign.effective_status", "operator": "IN", "value": ["PAUSED"]}]),
    )
    assert campaign.id in paused
    active = _edge(http, busy, f"act_{account.id}", "campaigns", effective_status=json.dumps(["ACTIVE"]))
    assert campaign.id not in active
    by_parent = _edge(
        http,
        busy,
        f"act_{account.id}",
        "ads",
        filtering=json.dumps([{"field": "ad.effective_status", "operator": "IN", "value": ["CAMPAIGN_PAUSED"]}]),
    )
    assert {a.id for a in live_ads} <= set(by_parent)
    assert all(row["effective_status"] == "CAMPAIGN_PAUSED" for row in by_parent.values())


def _by_campaign(campaign_id: str) -> str:
    return json.dumps(
        [
            {"field": "campaign.id", "operator": "IN", "value": [campaign_id]},
            {"field": "adset.effective_status", "operator": "IN", "value": list(EDGE_STATUSES["adsets"])},
        ]
    )


@pytest.mark.parametrize("kind", [AdSet, Campaign], ids=["adset", "campaign"])
def test_deleting_a_parent_deletes_its_children_which_then_leave_the_default_listing(
    busy: Simulator, http: httpx.Client, fake_clock: FakeClock, kind: type
) -> None:
    account, parent = _changed(busy, kind, "DELETED", children="ads")
    at = parent.changes[0].at
    key = "adset_id" if kind is AdSet else "campaign_id"
    children = [a for a in account.ads if getattr(a, key) == parent.id]
    fake_clock.set(at - timedelta(seconds=1))
    visible = [a for a in children if effective_status_at(a, fake_clock.now()) not in ("ARCHIVED", "DELETED")]
    assert set(_edge(http, busy, parent.id, "ads")) == {a.id for a in visible}
    fake_clock.set(at + timedelta(hours=1))
    assert _edge(http, busy, parent.id, "ads") == {}  # deleted objects are only listed when asked for
    every = _edge(http, busy, parent.id, "ads", effective_status=json.dumps(list(EDGE_STATUSES["ads"])))
    assert set(every) == {a.id for a in children}
    for ad in visible:
        assert (every[ad.id]["status"], every[ad.id]["effective_status"]) == ("DELETED", "DELETED")
        assert _seconds(every[ad.id]["updated_time"]) == _unix(at)  # the cascade wrote them
    assert _node(http, busy, parent.id)["effective_status"] == "DELETED"


def test_a_stopped_ad_keeps_its_past_days_has_no_rows_after_and_totals_stay_sums(
    busy: Simulator, http: httpx.Client, fake_clock: FakeClock
) -> None:
    account, ad = _changed(busy, Ad, "DELETED")
    at = ad.changes[0].at
    stop_day = at.astimezone(account.zone).date()
    since = stop_day - timedelta(days=6)
    fake_clock.set(at - timedelta(minutes=1))  # on its last day, before the change
    assert busy.account_today(account.id) == stop_day
    before = busy.ground_truth(account.id, since, stop_day, filtering=ALL_ADS, fields=["ad_id", "spend"])
    mine_before = [r for r in before if r["ad_id"] == ad.id]
    assert mine_before, "the ad delivered in the days before its deletion"

    fake_clock.set(at + timedelta(days=5))
    until = busy.account_today(account.id)
    after = busy.ground_truth(account.id, since, until, filtering=ALL_ADS, fields=["ad_id", "spend"])
    mine_after = [r for r in after if r["ad_id"] == ad.id]
    assert mine_after == mine_before  # history before the change is unchanged, nothing after its day
    assert [r for r in after if r["date_start"] <= stop_day.isoformat()] == before
    # the account level is the sum of the ad level, archived and deleted ads included
    totals = busy.ground_truth(account.id, since, until, level="account", fields=["spend"])
    by_day: dict[str, Decimal] = {}
    for row in after:
        by_day[row["date_start"]] = by_day.get(row["date_start"], Decimal(0)) + Decimal(row["spend"])
    assert {r["date_start"]: Decimal(r["spend"]) for r in totals} == by_day
    # at ad level without a status filter Meta leaves the deleted ad out; with one, it is there
    params = {"fields": "ad_id,spend", "level": "ad", "time_range": time_range(since, until), "time_increment": "1"}
    default = follow(http, get(http, f"act_{account.id}/insights", busy.tokens[0], limit=200, **params))
    assert ad.id not in {r["ad_id"] for r in default}
    deleted = [{"field": "ad.effective_status", "operator": "IN", "value": ["DELETED"]}]
    only = follow(
        http,
        get(http, f"act_{account.id}/insights", busy.tokens[0], limit=200, filtering=json.dumps(deleted), **params),
    )
    assert [r for r in only if r["ad_id"] == ad.id] == mine_before
    # the rows' own updated_time (a date in insights) is the deletion's
    stamped = busy.ground_truth(account.id, since, until, fields=["ad_id", "updated_time"], filtering=deleted)
    assert {r["updated_time"] for r in stamped if r["ad_id"] == ad.id} == {stop_day.isoformat()}


def test_insights_status_filters_see_the_change_as_of_the_clock(
    busy: Simulator, http: httpx.Client, fake_clock: FakeClock
) -> None:
    account, adset = _changed(busy, AdSet, "PAUSED", children="ads")
    at = adset.changes[0].at
    ads = {a.id for a in account.ads if a.adset_id == adset.id and a.changes and a.changes[0].at == at}
    assert ads
    day = at.astimezone(account.zone).date()
    filtering = [{"field": "ad.effective_status", "operator": "IN", "value": ["ADSET_PAUSED"]}]

    def paused_rows() -> set[str]:
        rows = follow(
            http,
            get(
                http,
                f"act_{account.id}/insights",
                busy.tokens[0],
                fields="ad_id,spend",
                level="ad",
                time_range=time_range(day - timedelta(days=10), day),
                filtering=json.dumps(filtering),
                limit=200,
            ),
        )
        return {r["ad_id"] for r in rows}

    fake_clock.set(at - timedelta(seconds=1))
    assert not ads & paused_rows()
    fake_clock.set(at + timedelta(seconds=1))
    assert ads <= paused_rows()


def test_activities_log_status_changes_that_wrote_objects(busy: Simulator, fake_clock: FakeClock) -> None:
    account, campaign = _changed(busy, Campaign, "ARCHIVED", children="adsets")
    at = campaign.changes[0].at
    fake_clock.set(at + timedelta(hours=1))
    with httpx.Client(transport=busy.transport(), base_url="https://graph.facebook.com") as client:
        log = follow(
            client,
            get(
                client,
                f"act_{account.id}/activities",
                busy.tokens[0],
                since=str(int(at.timestamp())),
                fields="event_type,event_time,object_id,extra_data",
                limit=100,
            ),
        )
    runs = {e["object_id"]: e for e in log if e["event_type"].endswith("_run_status")}
    objects: list[Campaign | AdSet | Ad] = [*account.campaigns, *account.adsets, *account.ads]
    now = fake_clock.now()
    written = {o.id for o in objects if any(at <= c.at <= now and c.written for c in o.changes)}
    assert set(runs) == written
    assert runs[campaign.id]["event_type"] == "update_campaign_run_status"
    assert json.loads(runs[campaign.id]["extra_data"])["new_value"] == "ARCHIVED"
    archived = [o for o in objects if any(c.at == at for c in o.changes)]
    assert len(archived) > 1, "the campaign's children were archived with it"
    for obj in archived:
        assert status_at(obj, now) == "ARCHIVED"
        assert updated_time(obj, now) == at
        assert _seconds(runs[obj.id]["event_time"]) == int(at.timestamp())


def test_scheduled_edits_stop_when_an_object_stops_running(busy: Simulator, fake_clock: FakeClock) -> None:
    _, ad = _changed(busy, Ad, "PAUSED")
    at = ad.changes[0].at
    assert updated_time(ad, at) == at
    later = at + timedelta(days=60)
    assert update_count(ad, later) == update_count(ad, at)  # no scheduled edit after it stopped
    assert updated_time(ad, later) == max(c.at for c in ad.changes if c.written)  # only status changes since


@pytest.mark.parametrize("touches", [False, True], ids=["children-not-written", "children-written"])
def test_pause_touches_children_decides_whether_a_pause_moves_the_childrens_updated_time(
    fake_clock: FakeClock, touches: bool
) -> None:
    config = SimulatorConfig(
        seed=9,
        n_accounts=3,
        ads_per_account=60,
        status_change_rate=0.3,
        status_change_days=30,
        pause_touches_children=touches,
    )
    sim = Simulator(config, clock=fake_clock)
    account, adset = _changed(sim, AdSet, "PAUSED", children="ads")
    at = adset.changes[0].at
    ads = _running_children(account, adset, "ads")
    for ad in ads:
        assert effective_status_at(ad, at) == "ADSET_PAUSED"
        assert status_at(ad, at) == "ACTIVE"
        assert (updated_time(ad, at) == at) is touches
