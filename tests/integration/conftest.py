"""End-to-end fixtures: the simulator over real HTTP on a fake clock, and a warehouse per backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from metaads import Clock, FakeClock, Pipeline, RunSummary, Settings, SystemClock, settings_from_mapping
from metaads.graph import DEFAULT_INSIGHTS_FIELDS
from metaads.simulator import ALL_STATUSES, Simulator, SimulatorConfig, SimulatorServer


@dataclass
class World:
    """A running simulator and the settings that point metaads at it."""

    sim: Simulator
    server: SimulatorServer
    clock: Clock
    base_env: dict[str, str]

    def settings(self, **overrides: str) -> Settings:
        return settings_from_mapping({**self.base_env, **overrides})


def make_world(clock: Clock, config: SimulatorConfig | None = None) -> Iterator[World]:
    """A served simulator (by default the shared small world, seed 11) and the settings pointing at it."""
    sim = Simulator(config or SimulatorConfig(seed=11, n_accounts=3, ads_per_account=25), clock=clock)
    with sim.serve(port=0) as server:
        yield World(
            sim=sim,
            server=server,
            clock=clock,
            base_env={
                "META_ACCOUNTS": sim.meta_accounts_env(),
                "GRAPH_API_TOKENS": ",".join(sim.tokens),
                "GRAPH_API_BASE_URL": server.base_url,
                "GRAPH_API_PAGE_SIZE": "50",
                "LOOKBACK_DAYS": "10",
                # The first run of a day re-fetches DEEP_LOOKBACK_DAYS and a new account starts with
                # INITIAL_HISTORY_DAYS: the same 10 days here, so a test sees 10 days unless it asks otherwise.
                "DEEP_LOOKBACK_DAYS": "10",
                "INITIAL_HISTORY_DAYS": "10",
            },
        )


@pytest.fixture
def world() -> Iterator[World]:
    """The simulator on a fake clock, shared with every pipeline the test builds in-process."""
    yield from make_world(FakeClock())


@pytest.fixture
def live_world() -> Iterator[World]:
    """The simulator on the real clock, for tests that run ``metaads`` as a separate process.

    A process cannot share a fake clock, so both sides read the real one: the simulator's "today"
    and the pipeline's are the same day whatever the date the suite runs on.
    """
    yield from make_world(SystemClock())


@pytest.fixture(params=["postgres", "sqlite"])
def warehouse_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """WAREHOUSE_URL / WAREHOUSE_SCHEMA for a fresh warehouse on each backend."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        schema = request.getfixturevalue("pg_schema")
        return {"WAREHOUSE_URL": url, "WAREHOUSE_SCHEMA": schema}
    return {"WAREHOUSE_URL": f"sqlite:///{tmp_path / 'warehouse.db'}"}


@pytest.fixture
def make_pipeline(world: World, warehouse_env: dict[str, str]) -> Iterator[Callable[..., Pipeline]]:
    made: list[Pipeline] = []

    def make(**overrides: str) -> Pipeline:
        pipeline = Pipeline.from_settings(world.settings(**{**warehouse_env, **overrides}), clock=world.clock)
        made.append(pipeline)
        return pipeline

    yield make
    for pipeline in made:
        pipeline.close()


# ---------------------------------------------------------------- comparing with ground truth


def truth_ads(sim: Simulator, account_id: str, since: date, until: date) -> dict[tuple[str, str], dict[str, Any]]:
    """(ad_id, date) -> the figures the API holds, archived and deleted ads included."""
    rows = sim.ground_truth(
        account_id,
        since,
        until,
        level="ad",
        fields=DEFAULT_INSIGHTS_FIELDS,
        filtering=[{"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}],
    )
    return {(r["ad_id"], r["date_start"]): r for r in rows}


def warehouse_ads(engine: sa.Engine, schema: str | None, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    t = sa.Table(table, sa.MetaData(), schema=schema if engine.dialect.name != "sqlite" else None, autoload_with=engine)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(t))]
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["ad_id"], row["date"].isoformat())
        assert key not in out, f"duplicate row {key}"
        out[key] = row
    return out


def warehouse_actions(engine: sa.Engine, schema: str | None, table: str) -> dict[tuple[str, str, str], Decimal]:
    t = sa.Table(table, sa.MetaData(), schema=schema if engine.dialect.name != "sqlite" else None, autoload_with=engine)
    out: dict[tuple[str, str, str], Decimal] = {}
    with engine.connect() as conn:
        for row in conn.execute(sa.select(t.c.ad_id, t.c.date, t.c.action_type, t.c.value)):
            key = (row.ad_id, row.date.isoformat(), row.action_type)
            assert key not in out, f"duplicate action row {key}"
            out[key] = Decimal(str(row.value))
    return out


def truth_actions(truth: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str, str], Decimal]:
    out: dict[tuple[str, str, str], Decimal] = {}
    for (ad_id, day), row in truth.items():
        for action in row.get("actions", []):
            out[(ad_id, day, action["action_type"])] = Decimal(action["value"])
    return out


def assert_matches_truth(pipeline: Pipeline, world: World, summary: RunSummary) -> int:
    """Every account's warehouse tables equal the API's rows for the range the run fetched."""
    schema = pipeline.settings.warehouse_schema
    total = 0
    for result in summary.results:
        account = result.account
        assert result.range is not None
        truth = truth_ads(world.sim, account.id, result.range.since, result.range.until)
        window = (result.range.since.isoformat(), result.range.until.isoformat())
        loaded = {
            k: v
            for k, v in warehouse_ads(pipeline.warehouse_engine, schema, account.table).items()
            if window[0] <= k[1] <= window[1]
        }
        assert set(loaded) == set(truth), f"{account.table}: rows differ from the API's"
        for key, api_row in truth.items():
            row = loaded[key]
            assert Decimal(str(row["spend"])) == Decimal(api_row["spend"]), key
            assert row["clicks"] == int(api_row.get("clicks", 0)), key
            assert row["impressions"] == int(api_row.get("impressions", 0)), key
            assert row["inline_link_clicks"] == int(api_row.get("inline_link_clicks", 0)), key
            assert row["campaign_id"] == api_row["campaign_id"]
            assert row["ad_name"] == api_row["ad_name"]
        actions = {
            k: v
            for k, v in warehouse_actions(pipeline.warehouse_engine, schema, account.actions_table).items()
            if window[0] <= k[1] <= window[1]
        }
        assert actions == truth_actions(truth)
        total += len(truth)
    return total
