"""Fixtures for the simulator's tests: a small world on a fake clock and an in-process HTTP client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.simulator import ALL_STATUSES, Simulator, SimulatorConfig

VERSION = "v25.0"
INSIGHT_FIELDS = (
    "account_id,account_name,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,objective,"
    "spend,clicks,inline_link_clicks,impressions,reach,actions,action_values"
)
ALL_ADS = json.dumps([{"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}])


@pytest.fixture
def sim(fake_clock: FakeClock) -> Simulator:
    return Simulator(SimulatorConfig(seed=7, n_accounts=3, ads_per_account=40), clock=fake_clock)


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sim.transport(), base_url="https://graph.facebook.com") as http:
        yield http


def time_range(since: date, until: date) -> str:
    return json.dumps({"since": since.isoformat(), "until": until.isoformat()})


def get(client: httpx.Client, path: str, token: str, **params: Any) -> httpx.Response:
    """GET ``/v25.0/<path>`` with the token as a query parameter."""
    return client.get(f"/{VERSION}/{path}", params={"access_token": token, **params})


def follow(client: httpx.Client, first: httpx.Response) -> list[dict[str, Any]]:
    """Every row of a paged answer, following ``paging.next`` as our client does."""
    rows: list[dict[str, Any]] = []
    response = first
    for _ in range(10_000):
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        next_url = body.get("paging", {}).get("next")
        if not next_url:
            return rows
        response = client.get(next_url)
    raise AssertionError("paging never ended")
