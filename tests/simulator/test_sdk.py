"""Meta's own facebook-business SDK, pointed at the served simulator, reads everything we serve.

This is the proof that the simulator speaks the real protocol and not only our client's dialect: the
SDK builds its own URLs and parameters (JSON-encoded lists, ``summary=true``, ``after`` re-sent on the
original path, report runs read with a trailing slash) and parses the answers with its own code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adcreative import AdCreative
from facebook_business.adobjects.adimage import AdImage
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.adsinsights import AdsInsights
from facebook_business.adobjects.advideo import AdVideo
from facebook_business.adobjects.business import Business
from facebook_business.adobjects.businessuser import BusinessUser
from facebook_business.adobjects.campaign import Campaign
from facebook_business.adobjects.customaudience import CustomAudience
from facebook_business.adobjects.customconversion import CustomConversion
from facebook_business.adobjects.user import User
from facebook_business.api import FacebookAdsApi, FacebookResponse
from facebook_business.session import FacebookSession

from metaads.clock import FakeClock
from metaads.simulator import ALL_STATUSES, Simulator, SimulatorConfig, SimulatorServer

VERSION = "v25.0"
FIELDS = [
    "account_id",
    "campaign_id",
    "adset_id",
    "ad_id",
    "ad_name",
    "spend",
    "impressions",
    "clicks",
    "inline_link_clicks",
    "actions",
    "action_values",
]
CAMPAIGN_STATUSES = ["ACTIVE", "ARCHIVED", "DELETED", "IN_PROCESS", "PAUSED", "WITH_ISSUES"]
ALL_ADS = [{"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}]


@pytest.fixture
def sdk_sim(fake_clock: FakeClock) -> Simulator:
    return Simulator(SimulatorConfig(seed=21, n_accounts=3, ads_per_account=50), clock=fake_clock)


@pytest.fixture
def api(sdk_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[FacebookAdsApi]:
    server: SimulatorServer
    with sdk_sim.serve() as server:
        # The SDK reads its base URL from a class attribute and keeps a process-wide default API:
        # both are restored after the test so no other test inherits them.
        monkeypatch.setattr(FacebookSession, "GRAPH", server.base_url)
        monkeypatch.setattr(FacebookAdsApi, "_default_api", None)
        # crash_log=False: the SDK's crash reporter would install an excepthook that posts to Meta.
        yield FacebookAdsApi.init(access_token=sdk_sim.tokens[0], api_version=VERSION, crash_log=False)


def _rows(objects: Any) -> list[dict[str, Any]]:
    return [obj.export_all_data() for obj in objects]


def test_sdk_reads_account_info(sdk_sim: Simulator, api: FacebookAdsApi) -> None:
    for account_id in sdk_sim.account_ids:
        account = AdAccount(f"act_{account_id}", api=api).api_get(
            fields=["name", "currency", "timezone_name", "timezone_offset_hours_utc", "account_status"]
        )
        world = sdk_sim.account(account_id)
        assert account["id"] == f"act_{account_id}"
        assert (account["name"], account["currency"], account["timezone_name"]) == (
            world.name,
            world.currency,
            world.timezone_name,
        )
        assert account["account_status"] == world.account_status


def test_sdk_reads_campaigns_across_pages(sdk_sim: Simulator, api: FacebookAdsApi) -> None:
    account_id = sdk_sim.account_ids[0]
    fields = ["id", "name", "status", "effective_status", "objective", "start_time"]
    every = AdAccount(f"act_{account_id}", api=api).get_campaigns(
        fields=fields, params={"limit": 2, "effective_status": CAMPAIGN_STATUSES}
    )
    campaigns = _rows(every)
    world = sdk_sim.account(account_id).campaigns
    assert [c["id"] for c in campaigns] == [c.id for c in world]
    assert [c["name"] for c in campaigns] == [c.name for c in world]
    assert every.total() == len(world)  # the SDK asked for summary=true
    live = _rows(AdAccount(f"act_{account_id}", api=api).get_campaigns(fields=fields))
    assert [c["id"] for c in live] == [c.id for c in world if c.effective_status not in ("ARCHIVED", "DELETED")]


def test_sdk_reads_insights_synchronously(sdk_sim: Simulator, api: FacebookAdsApi) -> None:
    account_id = sdk_sim.account_ids[1]
    today = sdk_sim.account_today(account_id)
    since = today - timedelta(days=13)
    params = {
        "time_range": {"since": since.isoformat(), "until": today.isoformat()},
        "time_increment": "1",
        "level": "ad",
        "limit": 40,
        "filtering": ALL_ADS,
    }
    rows = _rows(AdAccount(f"act_{account_id}", api=api).get_insights(fields=FIELDS, params=params))
    truth = sdk_sim.ground_truth(account_id, since, today, fields=FIELDS, filtering=ALL_ADS)
    assert len(truth) > 80  # several pages of 40
    assert rows == truth


def test_sdk_reads_an_async_report_run(sdk_sim: Simulator, api: FacebookAdsApi, fake_clock: FakeClock) -> None:
    account_id = sdk_sim.account_ids[2]
    today = sdk_sim.account_today(account_id)
    since = today - timedelta(days=20)
    params = {
        "time_range": {"since": since.isoformat(), "until": today.isoformat()},
        "time_increment": "1",
        "level": "ad",
    }
    job = AdAccount(f"act_{account_id}", api=api).get_insights(fields=FIELDS, params=params, is_async=True)
    assert isinstance(job, AdReportRun)
    statuses = []
    for _ in range(1000):
        job = job.api_get()
        statuses.append(job[AdReportRun.Field.async_status])
        if statuses[-1] == "Job Completed" and job[AdReportRun.Field.async_percent_completion] == 100:
            break
        fake_clock.advance(1)
    assert statuses[0] == "Job Not Started"
    assert "Job Running" in statuses
    assert statuses[-1] == "Job Completed"
    rows = _rows(job.get_result(params={"limit": 50}))
    truth = sdk_sim.ground_truth(account_id, since, today, fields=FIELDS)
    assert len(truth) > 50
    assert rows == truth


def test_sdk_batch_reads_several_accounts_in_one_call(sdk_sim: Simulator, api: FacebookAdsApi) -> None:
    answers: dict[str, Any] = {}

    def keep(response: FacebookResponse) -> None:
        body = response.json()
        answers[body["id"]] = body

    batch = api.new_batch()
    for account_id in sdk_sim.account_ids:
        AdAccount(f"act_{account_id}", api=api).api_get(fields=["name", "currency"], batch=batch, success=keep)
    assert batch.execute() is None  # nothing to retry
    assert {key: value["currency"] for key, value in answers.items()} == {
        f"act_{a}": sdk_sim.account_currency(a) for a in sdk_sim.account_ids
    }


# --------------------------------------------------------------------------- every endpoint, with the SDK's enums

INSIGHT_ENUM_FIELDS = [
    AdsInsights.Field.ad_id,
    AdsInsights.Field.ad_name,
    AdsInsights.Field.campaign_id,
    AdsInsights.Field.spend,
    AdsInsights.Field.impressions,
    AdsInsights.Field.reach,
    AdsInsights.Field.frequency,
    AdsInsights.Field.cpm,
    AdsInsights.Field.ctr,
    AdsInsights.Field.actions,
    AdsInsights.Field.action_values,
    AdsInsights.Field.conversions,
    AdsInsights.Field.cost_per_action_type,
    AdsInsights.Field.purchase_roas,
    AdsInsights.Field.video_p25_watched_actions,
    AdsInsights.Field.outbound_clicks,
    AdsInsights.Field.quality_ranking,
]


def _wait(job: AdReportRun, clock: FakeClock) -> AdReportRun:
    for _ in range(10_000):
        job = job.api_get()
        if (
            job[AdReportRun.Field.async_status] == "Job Completed"
            and job[AdReportRun.Field.async_percent_completion] == 100
        ):
            return job
        clock.advance(5)
    raise AssertionError("the report run never completed")


def _range(sdk_sim: Simulator, account_id: str, days: int) -> dict[str, Any]:
    today = sdk_sim.account_today(account_id)
    return {"since": (today - timedelta(days=days)).isoformat(), "until": today.isoformat()}


@pytest.mark.parametrize(
    "breakdowns",
    [
        [AdsInsights.Breakdowns.age, AdsInsights.Breakdowns.gender],
        [AdsInsights.Breakdowns.publisher_platform, AdsInsights.Breakdowns.platform_position],
        [AdsInsights.Breakdowns.country],
        [AdsInsights.Breakdowns.impression_device],
    ],
    ids=["age-gender", "placement", "country", "device"],
)
def test_sdk_reads_insights_with_breakdowns_sync_and_async(
    sdk_sim: Simulator, api: FacebookAdsApi, fake_clock: FakeClock, breakdowns: list[str]
) -> None:
    account_id = sdk_sim.account_ids[0]
    params = {
        "time_range": _range(sdk_sim, account_id, 1),
        "time_increment": 1,
        "level": AdsInsights.Level.ad,
        "breakdowns": breakdowns,
        "action_breakdowns": [AdsInsights.ActionBreakdowns.action_type, AdsInsights.ActionBreakdowns.action_device],
        "action_attribution_windows": [
            AdsInsights.ActionAttributionWindows.value_7d_click,
            AdsInsights.ActionAttributionWindows.value_1d_view,
        ],
        "action_report_time": AdsInsights.ActionReportTime.mixed,
        "limit": 100,
    }
    account = AdAccount(f"act_{account_id}", api=api)
    rows = _rows(account.get_insights(fields=INSIGHT_ENUM_FIELDS, params=params))
    assert rows
    assert all(row[b] for row in rows for b in breakdowns)
    assert any("action_device" in item for row in rows for item in row.get("actions", []))
    job = _wait(account.get_insights(fields=INSIGHT_ENUM_FIELDS, params=params, is_async=True), fake_clock)
    assert _rows(job.get_result(params={"limit": 100})) == rows


@pytest.mark.parametrize(
    ("node", "level"),
    [(Campaign, AdsInsights.Level.campaign), (AdSet, AdsInsights.Level.ad), (Ad, AdsInsights.Level.ad)],
    ids=["campaign", "adset-by-ad", "ad"],
)
def test_sdk_reads_node_level_insights_sync_and_async(
    sdk_sim: Simulator, api: FacebookAdsApi, fake_clock: FakeClock, node: Any, level: str
) -> None:
    account_id = sdk_sim.account_ids[1]
    world = sdk_sim.account(account_id)
    objects = {Campaign: world.campaigns, AdSet: world.adsets, Ad: world.ads}[node]
    target = next(o for o in objects if o.effective_status == "ACTIVE")
    params = {"time_range": _range(sdk_sim, account_id, 6), "time_increment": 1, "level": level}
    rows = _rows(node(target.id, api=api).get_insights(fields=INSIGHT_ENUM_FIELDS, params=params))
    assert rows
    key = {Campaign: "campaign_id", AdSet: "ad_id", Ad: "ad_id"}[node]
    if node is AdSet:
        assert {r[key] for r in rows} <= {a.id for a in world.ads if a.adset_id == target.id}
    else:
        assert {r[key] for r in rows} == {target.id}
    job = _wait(
        node(target.id, api=api).get_insights(fields=INSIGHT_ENUM_FIELDS, params=params, is_async=True), fake_clock
    )
    assert _rows(job.get_result()) == rows


def test_sdk_reads_every_object_edge_with_its_own_field_enums(sdk_sim: Simulator, api: FacebookAdsApi) -> None:
    account = AdAccount(f"act_{sdk_sim.account_ids[2]}", api=api)
    world = sdk_sim.account(sdk_sim.account_ids[2])
    campaigns = _rows(
        account.get_campaigns(
            fields=[
                Campaign.Field.name,
                Campaign.Field.objective,
                Campaign.Field.status,
                Campaign.Field.effective_status,
                Campaign.Field.buying_type,
                Campaign.Field.daily_budget,
                Campaign.Field.lifetime_budget,
                Campaign.Field.bid_strategy,
                Campaign.Field.start_time,
                Campaign.Field.stop_time,
                Campaign.Field.created_time,
                Campaign.Field.updated_time,
            ],
            params={"effective_status": CAMPAIGN_STATUSES},
        )
    )
    assert [c["id"] for c in campaigns] == [c.id for c in world.campaigns]
    ad_sets = _rows(
        account.get_ad_sets(
            fields=[
                AdSet.Field.name,
                AdSet.Field.campaign_id,
                AdSet.Field.optimization_goal,
                AdSet.Field.billing_event,
                AdSet.Field.bid_amount,
                AdSet.Field.targeting,
                AdSet.Field.daily_budget,
                AdSet.Field.updated_time,
            ],
            params={"limit": 3},
        )
    )
    assert ad_sets
    assert all(s["targeting"]["geo_locations"] for s in ad_sets)
    ads = _rows(
        account.get_ads(
            fields=[
                Ad.Field.name,
                Ad.Field.adset_id,
                Ad.Field.creative,
                Ad.Field.tracking_specs,
                Ad.Field.updated_time,
            ],
            params={
                "filtering": [
                    {"field": "ad.updated_time", "operator": "GREATER_THAN", "value": 0},
                    {"field": "ad.effective_status", "operator": "IN", "value": ["ACTIVE", "PAUSED"]},
                ]
            },
        )
    )
    assert ads
    creatives = _rows(
        account.get_ad_creatives(
            fields=[
                AdCreative.Field.name,
                AdCreative.Field.title,
                AdCreative.Field.body,
                AdCreative.Field.call_to_action_type,
                AdCreative.Field.link_url,
                AdCreative.Field.image_hash,
                AdCreative.Field.image_url,
                AdCreative.Field.video_id,
                AdCreative.Field.thumbnail_url,
                AdCreative.Field.object_story_spec,
            ]
        )
    )
    assert {a["creative"]["id"] for a in ads} <= {c["id"] for c in creatives}
    assert _rows(account.get_custom_conversions(fields=[CustomConversion.Field.name, CustomConversion.Field.rule]))
    assert _rows(account.get_ad_images(fields=[AdImage.Field.hash, AdImage.Field.url, AdImage.Field.width]))
    assert _rows(account.get_ad_videos(fields=[AdVideo.Field.title, AdVideo.Field.length]))
    assert _rows(account.get_custom_audiences(fields=[CustomAudience.Field.name, CustomAudience.Field.subtype]))
    me = User("me", api=api)
    assert _rows(me.get_businesses(fields=[Business.Field.name, Business.Field.verification_status]))
    assert _rows(me.get_business_users(fields=[BusinessUser.Field.name, BusinessUser.Field.role]))
    info = account.api_get(fields=[AdAccount.Field.amount_spent, AdAccount.Field.age, AdAccount.Field.business_name])
    assert info[AdAccount.Field.business_name] == world.business.name


def test_sdk_filters_insights_on_updated_time_like_the_ads_edge_sync_and_async(
    sdk_sim: Simulator, api: FacebookAdsApi, fake_clock: FakeClock
) -> None:
    account = AdAccount(f"act_{sdk_sim.account_ids[0]}", api=api)
    watermark = int(fake_clock.now().timestamp())
    fake_clock.advance(6 * 86400)  # live ads get edited on their schedule
    newer = {"field": "ad.updated_time", "operator": "GREATER_THAN", "value": watermark}
    listed = _rows(account.get_ads(fields=[Ad.Field.updated_time], params={"filtering": [*ALL_ADS, newer]}))
    assert listed
    params = {
        "time_range": _range(sdk_sim, sdk_sim.account_ids[0], 10),
        "time_increment": 1,
        "level": AdsInsights.Level.ad,
        "filtering": [*ALL_ADS, newer],
    }
    rows = _rows(account.get_insights(fields=FIELDS, params=params))
    everything = _rows(account.get_insights(fields=FIELDS, params={**params, "filtering": ALL_ADS}))
    assert rows
    assert rows == [r for r in everything if r["ad_id"] in {a["id"] for a in listed}]
    job = _wait(account.get_insights(fields=FIELDS, params=params, is_async=True), fake_clock)
    assert _rows(job.get_result()) == rows
