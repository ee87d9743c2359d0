"""Injected faults: transient errors, empty pages, latency and slow responses, switchable at run time."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from metaads.simulator import Simulator
from tests.simulator.conftest import INSIGHT_FIELDS, follow, get, time_range


def test_empty_pages_still_have_next_and_following_it_loses_nothing(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.empty_page_rate = 0.4
    account = sim.account_ids[0]
    today = sim.account_today(account)
    since = today - timedelta(days=9)
    first = get(
        client,
        f"act_{account}/insights",
        sim.tokens[0],
        level="ad",
        fields=INSIGHT_FIELDS,
        time_increment=1,
        time_range=time_range(since, today),
        limit=4,
    )
    empty_with_next = 0
    rows = []
    response = first
    while True:
        body = response.json()
        rows.extend(body["data"])
        next_url = body.get("paging", {}).get("next")
        if not body["data"]:
            assert next_url, "an injected empty page keeps its next link"
            empty_with_next += 1
        if not next_url:
            break
        response = client.get(next_url)
    assert empty_with_next > 3
    assert rows == sim.ground_truth(account, since, today, fields=INSIGHT_FIELDS.split(","))


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [("error_500_rate", 500, 1), ("transient_code2_rate", 503, 2)],
    ids=["500", "code2"],
)
def test_transient_error_rate_is_honoured(
    sim: Simulator, client: httpx.Client, fault: str, status: int, code: int
) -> None:
    setattr(sim.faults, fault, 0.3)
    outcomes = Counter()
    for _ in range(300):
        response = get(client, "me", sim.tokens[0])
        outcomes[response.status_code] += 1
        if response.status_code != 200:
            assert response.json()["error"]["code"] == code
            assert response.json()["error"]["is_transient"] is True
    assert set(outcomes) == {200, status}
    assert 0.2 < outcomes[status] / 300 < 0.4


def test_faults_can_be_switched_while_running(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.error_500_rate = 1.0
    assert get(client, "me", sim.tokens[0]).status_code == 500
    sim.faults.error_500_rate = 0.0
    assert get(client, "me", sim.tokens[0]).status_code == 200


def test_latency_is_real_time_on_the_http_server_only(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.latency_s = 0.05
    started = time.perf_counter()
    for _ in range(5):
        assert get(client, "me", sim.tokens[0]).status_code == 200
    assert time.perf_counter() - started < 0.2  # the in-process transport never sleeps
    with sim.serve() as server, httpx.Client(base_url=server.base_url) as http:
        started = time.perf_counter()
        for _ in range(5):
            assert get(http, "me", sim.tokens[0]).status_code == 200
        assert time.perf_counter() - started >= 0.25


def test_slow_responses_trip_a_client_timeout(sim: Simulator) -> None:
    sim.faults.slow_rate = 1.0
    sim.faults.slow_s = 0.4
    with sim.serve() as server, httpx.Client(base_url=server.base_url, timeout=0.1) as http:
        with pytest.raises(httpx.ReadTimeout):
            get(http, "me", sim.tokens[0])
    sim.faults.slow_rate = 0.0
    with sim.serve() as server, httpx.Client(base_url=server.base_url, timeout=2) as http:
        assert get(http, "me", sim.tokens[0]).status_code == 200


def test_reduce_data_error_goes_away_with_a_smaller_limit(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.max_rows_per_response = 100
    account = sim.account_ids[0]
    today = sim.account_today(account)
    params = {"level": "ad", "time_range": time_range(today - timedelta(days=3), today)}
    assert get(client, f"act_{account}/insights", sim.tokens[0], limit=200, **params).status_code == 500
    rows = follow(client, get(client, f"act_{account}/insights", sim.tokens[0], limit=100, **params))
    assert rows
