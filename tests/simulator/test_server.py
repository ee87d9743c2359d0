"""The real HTTP server: round trips, keep-alive, concurrency, next links pointing back at it."""

from __future__ import annotations

import http.client
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from metaads.simulator import Simulator
from tests.simulator.conftest import INSIGHT_FIELDS, follow, get, time_range


def test_http_round_trip_pages_insights_equal_to_ground_truth(sim: Simulator) -> None:
    account = sim.account_ids[2]
    today = sim.account_today(account)
    since = today - timedelta(days=14)
    with sim.serve() as server, httpx.Client(base_url=server.base_url) as client:
        assert server.base_url.startswith("http://127.0.0.1:")
        accounts = get(client, "me/adaccounts", sim.tokens[0], fields="account_id,name,currency").json()
        assert [a["account_id"] for a in accounts["data"]] == sim.account_ids
        first = get(
            client,
            f"act_{account}/insights",
            sim.tokens[0],
            level="ad",
            fields=INSIGHT_FIELDS,
            time_increment=1,
            time_range=time_range(since, today),
            limit=20,
        )
        assert first.json()["paging"]["next"].startswith(f"{server.base_url}/v25.0/act_{account}/insights?")
        rows = follow(client, first)
    assert rows == sim.ground_truth(account, since, today, fields=INSIGHT_FIELDS.split(","))


def test_keep_alive_serves_many_requests_on_one_connection(sim: Simulator) -> None:
    with sim.serve() as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            for _ in range(5):
                connection.request("GET", f"/v25.0/me?access_token={sim.tokens[0]}")
                response = connection.getresponse()
                assert response.status == 200
                assert json.loads(response.read())["id"]
                assert response.getheader("Connection") != "close"
            first_socket = connection.sock
            connection.request("GET", f"/v25.0/me?access_token={sim.tokens[0]}")
            connection.getresponse().read()
            assert connection.sock is first_socket  # the same TCP connection all along
        finally:
            connection.close()


def test_many_concurrent_connections_are_served(sim: Simulator) -> None:
    account = sim.account_ids[0]
    with (
        sim.serve() as server,
        httpx.Client(base_url=server.base_url, limits=httpx.Limits(max_connections=32)) as client,
    ):

        def fetch(i: int) -> int:
            token = sim.tokens[i % len(sim.tokens)]
            return get(client, f"act_{account}/campaigns", token, fields="id,name").status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            statuses = list(pool.map(fetch, range(240)))
    assert statuses == [200] * 240
    assert sim.stats.calls == 240


def test_post_form_parameters_and_bearer_header_over_http(sim: Simulator) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    with sim.serve() as server, httpx.Client(base_url=server.base_url) as client:
        submitted = client.post(
            f"/v25.0/act_{account}/insights",
            data={"level": "ad", "time_range": time_range(today, today)},
            headers={"Authorization": f"Bearer {sim.tokens[0]}"},
        )
        assert submitted.status_code == 200
        job = submitted.json()["report_run_id"]
        status = client.get(f"/v25.0/{job}/", headers={"Authorization": f"Bearer {sim.tokens[0]}"})
        assert status.json()["id"] == job


def test_a_stopped_server_frees_its_port(sim: Simulator) -> None:
    with sim.serve() as server:
        port = server.port
    with sim.serve(port=port) as again, httpx.Client(base_url=again.base_url) as client:
        assert get(client, "me", sim.tokens[0]).status_code == 200
    assert urlsplit(again.base_url).port == port


def test_server_logs_never_show_tokens(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="metaads.simulator")
    with sim.serve() as server, httpx.Client(base_url=server.base_url) as client:
        for token in sim.tokens:
            assert get(client, "me", token).status_code == 200
        assert get(client, "me", "EAAnot-a-real-token-but-long-enough-to-matter").status_code == 400
    assert len(caplog.records) >= 5  # the request lines were logged ...
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "access_token=***" in text
    for token in sim.tokens:
        assert token not in text  # ... with the token masked
