"""The account registry: the views and the analytics target keep every registered account, whatever
configuration ran last; only ``retire`` takes an account out (simulator over real HTTP, real databases)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads.errors import ConfigError
from metaads.pipeline import Pipeline
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW
from tests.databases import mysql_url
from tests.integration.conftest import World


def _per_account(engine: sa.Engine, name: str, schema: str | None) -> Counter[str]:
    table = sa.Table(
        name, sa.MetaData(), schema=None if engine.dialect.name == "sqlite" else schema, autoload_with=engine
    )
    with engine.connect() as conn:
        return Counter(
            {
                str(a): n
                for a, n in conn.execute(sa.select(table.c.account_id, sa.func.count()).group_by(table.c.account_id))
            }
        )


def _entry(world: World, position: int) -> str:
    return world.base_env["META_ACCOUNTS"].split(",")[position]


@dataclass(frozen=True)
class Analytics:
    """An analytics target: ANALYTICS_URL / ANALYTICS_SCHEMA and an engine to read it."""

    url: str
    schema: str | None

    def env(self) -> dict[str, str]:
        return {"ANALYTICS_URL": self.url, **({"ANALYTICS_SCHEMA": self.schema} if self.schema else {})}

    def per_account(self, name: str) -> Counter[str]:
        engine = sa.create_engine(self.url)
        try:
            return _per_account(engine, name, self.schema)
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mysql)])
def analytics(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Analytics]:
    """The analytics database: a SQLite file, or a fresh MariaDB database (where the issue was seen)."""
    if request.param == "sqlite":
        yield Analytics(f"sqlite:///{tmp_path / 'analytics.db'}", None)
        return
    url, schema = mysql_url(), f"a_{uuid.uuid4().hex[:12]}"
    yield Analytics(url, schema)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{schema}`")
    engine.dispose()


def test_a_run_with_fewer_accounts_keeps_the_others_in_the_views_and_in_the_analytics_target(
    world: World, make_pipeline: Callable[..., Pipeline], analytics: Analytics
) -> None:
    everyone = make_pipeline(**analytics.env())
    assert everyone.run().ok
    assert everyone.sync() is not None
    before = analytics.per_account("graph_ads"), analytics.per_account("graph_ads_actions")
    assert len(before[0]) == 3

    world.clock.advance(3600)
    one = make_pipeline(**analytics.env(), META_ACCOUNTS=_entry(world, 0))
    assert one.run().ok
    one.sync(full=True)

    schema = one.warehouse.schema
    assert set(_per_account(one.warehouse_engine, ADS_VIEW, schema)) == set(world.sim.account_ids)
    assert set(_per_account(one.warehouse_engine, ACTIONS_VIEW, schema)) == set(world.sim.account_ids)
    after = analytics.per_account("graph_ads"), analytics.per_account("graph_ads_actions")
    for previous, now in zip(before, after, strict=True):
        assert set(now) == set(previous)
        for account_id in world.sim.account_ids[1:]:  # not fetched by the short run: exactly as before
            assert now[account_id] == previous[account_id]


def test_retire_takes_an_account_out_of_the_views_and_the_next_full_sync_out_of_the_target(
    world: World, make_pipeline: Callable[..., Pipeline], analytics: Analytics
) -> None:
    everyone = make_pipeline(**analytics.env())
    assert everyone.run().ok
    everyone.sync()
    gone = everyone.settings.accounts[2]
    two = make_pipeline(**analytics.env(), META_ACCOUNTS=",".join(_entry(world, i) for i in (0, 1)))

    with pytest.raises(ConfigError, match="META_ACCOUNTS"):  # still configured in the full configuration
        everyone.retire_account(gone.id)
    retired = two.retire_account(f"act_{gone.id}")

    assert (retired.table, retired.status) == (gone.table, "retired")
    schema = two.warehouse.schema
    assert set(_per_account(two.warehouse_engine, ADS_VIEW, schema)) == set(world.sim.account_ids[:2])
    assert set(_per_account(two.warehouse_engine, ACTIONS_VIEW, schema)) == set(world.sim.account_ids[:2])
    assert sum(_per_account(two.warehouse_engine, gone.table, schema).values()) > 0  # its tables are kept
    registry = {r.table: r.status for r in two.registered_accounts()}
    assert registry == {"bm_01": "active", "bm_02": "active", "bm_03": "retired"}

    two.sync()  # incremental: nothing new loaded, the retired rows stay until a full sync
    assert gone.id in analytics.per_account("graph_ads")
    two.sync(full=True)
    assert set(analytics.per_account("graph_ads")) == set(world.sim.account_ids[:2])
    assert set(analytics.per_account("graph_ads_actions")) == set(world.sim.account_ids[:2])

    assert two.run().ok  # later runs of the short configuration leave it retired
    assert {r.table: r.status for r in two.registered_accounts()}["bm_03"] == "retired"
    assert everyone.run().ok  # configured again: active again, back in the views
    assert {r.table: r.status for r in everyone.registered_accounts()}["bm_03"] == "active"
    assert set(_per_account(everyone.warehouse_engine, ADS_VIEW, schema)) == set(world.sim.account_ids)
