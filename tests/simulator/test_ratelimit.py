"""Usage headers and throttling from per-(app, account) quotas over rolling windows, on the fake clock."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from metaads.clock import FakeClock
from metaads.simulator import Response, Simulator, SimulatorConfig

USAGE_HEADERS = (
    "X-App-Usage",
    "X-Ad-Account-Usage",
    "X-Business-Use-Case-Usage",
    "X-FB-Ads-Insights-Throttle",
)
RANGE = '{"since":"2026-11-10","until":"2026-11-12"}'


def _make(clock: FakeClock, **config: Any) -> Simulator:
    return Simulator(SimulatorConfig(seed=5, n_accounts=2, ads_per_account=20, **config), clock=clock)


def _insights(sim: Simulator, token: str | None = None, account: int = 0) -> Response:
    return sim.handle(
        "GET",
        f"/v25.0/act_{sim.account_ids[account]}/insights",
        {"access_token": token or sim.tokens[0], "time_range": RANGE, "level": "account"},
    )


def _usage(response: Response, name: str) -> Any:
    value = response.header(name)
    assert value is not None, f"{name} missing"
    return json.loads(value)


def _buc(response: Response, account_id: str, use_case: str = "ads_insights") -> dict[str, Any]:
    entries = _usage(response, "X-Business-Use-Case-Usage")[account_id]
    return next(e for e in entries if e["type"] == use_case)


def test_every_response_carries_the_four_usage_headers(fake_clock: FakeClock) -> None:
    sim = _make(fake_clock)
    account = sim.account_ids[0]
    token = sim.tokens[0]
    responses = [
        sim.handle("GET", f"/v25.0/act_{account}", {"access_token": token}),
        sim.handle("GET", f"/v25.0/act_{account}/campaigns", {"access_token": token}),
        _insights(sim),
        sim.handle("GET", "/v25.0/me/adaccounts", {"access_token": token}),
        sim.handle("GET", f"/v25.0/act_{account}/insights", {"access_token": token, "level": "nope"}),
    ]
    for response in responses:
        for name in USAGE_HEADERS:
            assert isinstance(_usage(response, name), dict)
    assert _usage(responses[2], "X-Ad-Account-Usage")["ads_api_access_tier"] == "standard_access"
    assert {"call_count", "total_cputime", "total_time"} <= set(_usage(responses[0], "X-App-Usage"))


def test_usage_rises_with_calls(fake_clock: FakeClock) -> None:
    sim = _make(fake_clock, insights_calls_per_hour=20, account_score_max=40, app_calls_per_hour=50)
    account = sim.account_ids[0]
    seen = [_insights(sim) for _ in range(5)]
    assert [_buc(r, account)["call_count"] for r in seen] == [5, 10, 15, 20, 25]
    assert [_usage(r, "X-FB-Ads-Insights-Throttle")["acc_id_util_pct"] for r in seen] == [5, 10, 15, 20, 25]
    assert [_usage(r, "X-Ad-Account-Usage")["acc_id_util_pct"] for r in seen] == [2.5, 5, 7.5, 10, 12.5]
    assert [_usage(r, "X-App-Usage")["call_count"] for r in seen] == [2, 4, 6, 8, 10]


def test_insights_quota_throttles_with_80000_and_clears_after_the_rolling_hour(fake_clock: FakeClock) -> None:
    sim = _make(fake_clock, insights_calls_per_hour=10)
    account = sim.account_ids[0]
    for _ in range(5):
        assert _insights(sim).status == 200
    fake_clock.advance(1800)
    for _ in range(5):
        assert _insights(sim).status == 200
    refused = _insights(sim)
    assert refused.status == 400
    error = refused.json()["error"]
    assert (error["code"], error["error_subcode"], error["is_transient"]) == (80000, 2446079, True)
    usage = _buc(refused, account)
    assert usage["call_count"] >= 100
    assert usage["estimated_time_to_regain_access"] == 30  # minutes until the first 5 calls leave the window
    fake_clock.advance(usage["estimated_time_to_regain_access"] * 60)
    for _ in range(5):  # the first five calls have left the rolling window
        assert _insights(sim).status == 200
    assert _insights(sim).status == 400
    assert sim.stats.throttled == 2
    assert sim.stats.errors_by_code[80000] == 2


def test_management_calls_have_their_own_quota_with_80004(fake_clock: FakeClock) -> None:
    sim = _make(fake_clock, management_calls_per_hour=3)
    account = sim.account_ids[0]
    params = {"access_token": sim.tokens[0]}
    for _ in range(3):
        assert sim.handle("GET", f"/v25.0/act_{account}/campaigns", params).status == 200
    refused = sim.handle("GET", f"/v25.0/act_{account}/ads", params)
    assert refused.json()["error"]["code"] == 80004
    assert _insights(sim).status == 200  # ads_insights is another business use case


@pytest.mark.parametrize(("code", "subcode"), [(17, 2446079), (613, 1487742)], ids=["17", "613"])
def test_account_score_blocks_then_clears_when_the_header_says(fake_clock: FakeClock, code: int, subcode: int) -> None:
    sim = _make(fake_clock, account_score_max=6, account_limit_code=code)
    for _ in range(6):
        assert _insights(sim).status == 200
    refused = _insights(sim)
    error = refused.json()["error"]
    assert (error["code"], error["error_subcode"]) == (code, subcode)
    usage = _usage(refused, "X-Ad-Account-Usage")
    assert usage["acc_id_util_pct"] == 100
    wait = usage["reset_time_duration"]
    assert 0 < wait <= 300
    fake_clock.advance(wait - 1)
    assert _insights(sim).status == 400
    fake_clock.advance(1)
    assert _insights(sim).status == 200


def test_development_tier_block_lasts_300_seconds(fake_clock: FakeClock) -> None:
    sim = _make(fake_clock, tier="development", account_score_max=2, account_score_window_s=10)
    assert _insights(sim).status == 200
    assert _insights(sim).status == 200
    refused = _insights(sim)
    assert refused.json()["error"]["code"] == 17
    assert _usage(refused, "X-Ad-Account-Usage")["reset_time_duration"] == 300
    fake_clock.advance(299)
    assert _insights(sim).status == 400
    fake_clock.advance(1)
    assert _insights(sim).status == 200


def test_app_level_limit_gives_code_4_and_other_apps_continue(fake_clock: FakeClock) -> None:
    sim = _make(fake_clock, app_calls_per_hour=3)
    first_app, other_app = sim.tokens[0], sim.tokens[1]
    assert sim.token_app(first_app) != sim.token_app(other_app)
    for _ in range(3):
        assert sim.handle("GET", "/v25.0/me", {"access_token": first_app}).status == 200
    refused = sim.handle("GET", "/v25.0/me", {"access_token": first_app})
    assert refused.json()["error"]["code"] == 4
    assert _usage(refused, "X-App-Usage")["call_count"] == 100
    assert sim.handle("GET", "/v25.0/me", {"access_token": other_app}).status == 200


def test_quotas_are_per_app_and_account_pair(fake_clock: FakeClock) -> None:
    sim = _make(fake_clock, insights_calls_per_hour=2)
    app_a, app_b = sim.tokens[0], sim.tokens[1]
    for _ in range(2):
        assert _insights(sim, app_a).status == 200
    assert _insights(sim, app_a).status == 400
    assert _insights(sim, app_b).status == 200  # same account, another app
    assert _insights(sim, app_a, account=1).status == 200  # same app, another account
    counts = sim.stats.calls_by_app_account
    assert counts[(sim.token_app(app_a), sim.account_ids[0])] == 3
    assert sim.stats.throttled_by_account[sim.account_ids[0]] == 1


@pytest.mark.parametrize(("tier", "base"), [("development", 600), ("standard", 190_000)], ids=["dev", "standard"])
def test_insights_quota_follows_the_tier_formula(fake_clock: FakeClock, tier: str, base: int) -> None:
    scale = 0.01 if tier == "development" else 0.0001
    sim = _make(fake_clock, tier=tier, quota_scale=scale, account_score_max=10**9, app_calls_per_hour=10**9)
    active = sim.account(sim.account_ids[0]).active_ads
    expected = max(1, int((base + 400 * active) * scale))
    accepted = 0
    while _insights(sim).status == 200:
        accepted += 1
        assert accepted <= expected
    assert accepted == expected
    assert math.isclose(expected, (base + 400 * active) * scale, abs_tol=1)
