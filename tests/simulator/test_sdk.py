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
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
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
    assert [c["id"] for c in live] == [
        c.id for c in world if c.effective_status not in ("ARCHIVED", "DELETED")
    ]


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


def test_sdk_reads_an_async_report_run(
    sdk_sim: Simulator, api: FacebookAdsApi, fake_clock: FakeClock
) -> None:
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
        AdAccount(f"act_{account_id}", api=api).api_get(
            fields=["name", "currency"], batch=batch, success=keep
        )
    assert batch.execute() is None  # nothing to retry
    assert {key: value["currency"] for key, value in answers.items()} == {
        f"act_{a}": sdk_sim.account_currency(a) for a in sdk_sim.account_ids
    }
