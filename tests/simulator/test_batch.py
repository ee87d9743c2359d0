"""Batch requests: up to 50 operations, each answered in order and counted like a call of its own."""

from __future__ import annotations

import json
from typing import Any

import httpx

from metaads.clock import FakeClock
from metaads.simulator import Simulator, SimulatorConfig
from tests.simulator.conftest import VERSION

RANGE = '{"since":"2026-11-10","until":"2026-11-12"}'


def _batch(client: httpx.Client, sim: Simulator, operations: list[dict[str, Any]]) -> httpx.Response:
    return client.post(f"/{VERSION}/", data={"access_token": sim.tokens[0], "batch": json.dumps(operations)})


def test_batch_answers_each_operation_in_order(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    operations = [
        {"method": "GET", "relative_url": f"{VERSION}/act_{account}?fields=name,currency"},
        {"method": "GET", "relative_url": f"act_{account}/campaigns?fields=id,name&limit=2"},  # no version
        {
            "method": "GET",
            "relative_url": f"{VERSION}/act_{account}/insights?level=account&time_range={RANGE}",
        },
        {"method": "GET", "relative_url": f"{VERSION}/act_999/insights"},
        {
            "method": "POST",
            "relative_url": f"{VERSION}/act_{account}/insights",
            "body": f"level=ad&time_range={RANGE}",
        },
    ]
    response = _batch(client, sim, operations)
    assert response.status_code == 200
    results = response.json()
    assert [r["code"] for r in results] == [200, 200, 200, 400, 200]
    bodies = [json.loads(r["body"]) for r in results]  # bodies are JSON *strings*
    assert bodies[0]["currency"] == sim.account_currency(account)
    assert len(bodies[1]["data"]) == 2
    assert bodies[1]["paging"]["next"].startswith(f"https://graph.facebook.com/{VERSION}/act_{account}/campaigns")
    assert bodies[2]["data"][0]["account_id"] == account
    assert bodies[3]["error"]["code"] == 100
    assert set(bodies[4]) == {"report_run_id"}
    for result in results:
        names = {h["name"] for h in result["headers"]}
        assert {"Content-Type", "X-App-Usage", "X-Business-Use-Case-Usage"} <= names
    assert sim.stats.calls == 5


def test_every_batch_operation_counts_against_the_quota(fake_clock: FakeClock) -> None:
    sim = Simulator(
        SimulatorConfig(seed=7, n_accounts=1, ads_per_account=10, insights_calls_per_hour=2), clock=fake_clock
    )
    account = sim.account_ids[0]
    op = {"method": "GET", "relative_url": f"{VERSION}/act_{account}/insights?time_range={RANGE}"}
    with httpx.Client(transport=sim.transport(), base_url="https://graph.facebook.com") as client:
        results = _batch(client, sim, [op, op, op]).json()
    assert [r["code"] for r in results] == [200, 200, 400]
    assert json.loads(results[2]["body"])["error"]["code"] == 80000
    assert sim.stats.throttled == 1


def test_more_than_50_operations_are_refused(sim: Simulator, client: httpx.Client) -> None:
    op = {"method": "GET", "relative_url": f"{VERSION}/me"}
    response = _batch(client, sim, [op] * 51)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert "Maximum batch size is 50" in error["message"]
    assert _batch(client, sim, [op] * 50).status_code == 200


def test_timed_out_operations_come_back_as_null(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.batch_timeout_rate = 1.0
    results = _batch(client, sim, [{"method": "GET", "relative_url": f"{VERSION}/me"}] * 3).json()
    assert results == [None, None, None]


def test_batch_needs_a_valid_token(sim: Simulator, client: httpx.Client) -> None:
    response = client.post(f"/{VERSION}/", data={"batch": json.dumps([{"method": "GET", "relative_url": "me"}])})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 104
