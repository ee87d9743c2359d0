"""One account's unexpected fault stays that account's failure: the others load, the run closes, the sync runs.

The faults come over real HTTP: the simulator serves, a transport in front of it spoils the insights
responses of one account the way a misbehaving proxy or API would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from metaads.pipeline import Pipeline
from metaads.sync import ADS_TARGET
from tests.integration.conftest import World

Spoil = Callable[[httpx.Response], httpx.Response]


class SpoilingTransport(httpx.BaseTransport):
    """Real HTTP to the simulator; the insights responses of one account pass through ``spoil``."""

    def __init__(self, account_id: str, spoil: Spoil) -> None:
        self.inner = httpx.HTTPTransport()
        self.account_id = account_id
        self.spoil = spoil
        self.spoiled = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "GET" and request.url.path.endswith(f"/act_{self.account_id}/insights"):
            response.read()
            if response.status_code == 200:
                self.spoiled += 1
                return self.spoil(response)
        return response

    def close(self) -> None:
        self.inner.close()


def _plain_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}


def gzip_header_on_plain_body(response: httpx.Response) -> httpx.Response:
    headers = {**_plain_headers(response), "Content-Encoding": "gzip"}
    return httpx.Response(response.status_code, headers=headers, stream=httpx.ByteStream(response.content))


def _rows_changed(change: Callable[[dict[str, Any]], None]) -> Spoil:
    def spoil(response: httpx.Response) -> httpx.Response:
        body = orjson.loads(response.content)
        for row in body.get("data", []):
            change(row)
        return httpx.Response(response.status_code, headers=_plain_headers(response), content=orjson.dumps(body))

    return spoil


def _name_not_a_string(row: dict[str, Any]) -> None:
    row["ad_name"] = {"not": ["a", "string"]}
    row["campaign_name"] = 12345


def _count_too_large(row: dict[str, Any]) -> None:
    row["impressions"] = "9" * 25  # no BIGINT holds it


@pytest.fixture
def analytics_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'analytics.db'}"


def ledger(pipeline: Pipeline, table: str) -> list[dict[str, Any]]:
    t = pipeline.warehouse.account_runs if table == "account_runs" else pipeline.warehouse.runs
    with pipeline.warehouse_engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(t))]


@pytest.fixture
def run_with(
    world: World, warehouse_env: dict[str, str], analytics_url: str
) -> Iterator[Callable[[Spoil], tuple[Pipeline, Any, SpoilingTransport]]]:
    made: list[Pipeline] = []

    def run(spoil: Spoil) -> tuple[Pipeline, Any, SpoilingTransport]:
        transport = SpoilingTransport(world.sim.account_ids[1], spoil)
        # RECONCILE=off: the spoiled rows must reach the load's own encoders. Under the default (strict) a
        # spoiled answer differs from Meta's account totals and is stopped before them (the account still
        # fails alone, with the database's message instead).
        settings = world.settings(
            **warehouse_env, ANALYTICS_URL=analytics_url, GRAPH_API_MAX_RETRIES="1", RECONCILE="off"
        )
        pipeline = Pipeline.from_settings(settings, clock=world.clock, transport=transport)
        made.append(pipeline)
        summary = pipeline.run()
        return pipeline, summary, transport

    yield run
    for pipeline in made:
        pipeline.close()


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (gzip_header_on_plain_body, "could not be decoded"),
        (_rows_changed(_count_too_large), "OverflowError"),
        # Refused by the database driver (PostgreSQL COPY: TypeError; SQLite: ProgrammingError): the message
        # differs by backend, the outcome does not.
        (_rows_changed(_name_not_a_string), ""),
    ],
    ids=["gzip-header-on-a-plain-body", "integer-too-large-for-bigint", "name-that-is-not-a-string"],
)
def test_one_account_fault_is_its_own_failure_and_the_others_load_and_sync(
    run_with: Callable[[Spoil], tuple[Pipeline, Any, SpoilingTransport]],
    world: World,
    analytics_url: str,
    spoil: Spoil,
    expected: str,
) -> None:
    pipeline, summary, transport = run_with(spoil)
    assert transport.spoiled, "the fault never happened: the test would prove nothing"
    faulty = world.sim.account_ids[1]

    by_id = {r.account.id: r for r in summary.results}
    assert [by_id[i].status for i in world.sim.account_ids] == ["loaded", "failed", "loaded"]
    assert expected in (by_id[faulty].error or "")
    (run,) = ledger(pipeline, "runs")
    assert (run["status"], run["accounts_failed"]) == ("partial", 1)
    rows = ledger(pipeline, "account_runs")
    failed_rows = [r for r in rows if r["account_id"] == faulty]
    assert failed_rows
    assert all(r["status"] == "failed" and r["error"] and expected in r["error"] for r in failed_rows)
    assert not any(token in r["error"] for r in failed_rows for token in world.sim.tokens)

    result = pipeline.sync()
    assert result is not None
    engine = sa.create_engine(analytics_url)
    t = sa.Table(ADS_TARGET, sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        synced = {row.account_id for row in conn.execute(sa.select(t.c.account_id).distinct())}
    engine.dispose()
    assert synced == {world.sim.account_ids[0], world.sim.account_ids[2]}
